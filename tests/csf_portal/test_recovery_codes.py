"""Single-use recovery codes: shown once after enrolment, usable at the verify step,
counted, and regenerated only with the second factor verified."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal import services
from tests.conftest import enrolment_code_entered, signed_in_client
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _codes(body: str) -> list[str]:
    block = body.split('id="recovery-codes"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<code>([a-z2-7]{8})</code>", block)


def _sign_in(client, user):
    client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})


def test_enrolment_shows_ten_recovery_codes_once(client, practitioner):
    _sign_in(client, practitioner)
    enrolment_code_entered(client, practitioner)
    client.get(reverse("mfa_setup"))
    device = TOTPDevice.objects.get(user=practitioner, confirmed=False)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    page = client.post(reverse("mfa_setup"), {"token": code, "next": "/"})
    codes = _codes(page.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(
        StaticToken.objects.filter(device__user=practitioner).values_list("token", flat=True)
    )
    assert stored == set(codes)
    # the count page never shows the codes again
    later = client.get(reverse("recovery_codes")).content.decode()
    assert "You have 10 recovery codes left" in later
    assert not any(c in later for c in codes)


def test_a_recovery_code_works_once_instead_of_the_app_code(client, practitioner):
    TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    codes = services.recovery_codes_issue(user=practitioner)
    _sign_in(client, practitioner)
    assert "recovery code" in client.get(reverse("mfa_verify")).content.decode()
    ok = client.post(reverse("mfa_verify"), {"token": codes[0].upper()})
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert (
        "You have 9 recovery codes left" in client.get(reverse("recovery_codes")).content.decode()
    )

    client.logout()
    _sign_in(client, practitioner)
    reused = client.post(reverse("mfa_verify"), {"token": codes[0]})
    assert "The security code is wrong or has expired" in reused.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_regenerating_replaces_the_old_codes(practitioner):
    old = services.recovery_codes_issue(user=practitioner)
    client = signed_in_client(practitioner)
    page = client.post(reverse("recovery_codes"))
    new = _codes(page.content.decode())
    assert len(new) == 10
    stored = set(
        StaticToken.objects.filter(device__user=practitioner).values_list("token", flat=True)
    )
    assert stored == set(new)
    assert not stored & set(old)


def test_regenerating_needs_the_second_factor_verified(client, practitioner):
    TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    old = services.recovery_codes_issue(user=practitioner)
    _sign_in(client, practitioner)  # password only
    response = client.post(reverse("recovery_codes"))
    assert response.status_code == 302
    assert reverse("mfa_verify") in response["Location"]
    stored = set(
        StaticToken.objects.filter(device__user=practitioner).values_list("token", flat=True)
    )
    assert stored == set(old)
