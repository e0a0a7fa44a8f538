"""Sign-in, sign-out, the second factor, and lockout."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import enrolment_code_entered, signed_in_client
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

INVALID_LOGIN = "The username or password is not right"


def _sign_in(client, username, password=TEST_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in to CSF Portal" in response.content


def test_wrong_password_gets_a_clear_message_not_a_500(client, practitioner):
    response = _sign_in(client, practitioner.username, "not-the-password")
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert INVALID_LOGIN in body
    assert f'value="{practitioner.username}"' in body  # what the user typed is kept


def test_unknown_user_gets_the_same_message(client):
    response = _sign_in(client, "nobody-here")
    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()


def test_empty_form_names_each_missing_field(client):
    response = client.post(reverse("login"), {})
    body = response.content.decode()
    assert "Enter your username" in body
    assert "Enter your password" in body
    assert "<title>Error: Sign in" in body


def test_first_sign_in_leads_to_authenticator_enrolment(client, practitioner):
    response = _sign_in(client, practitioner.username)
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_setup"))
    # and the password alone does not reach the QR code: an enrolment code comes first
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_enrol"))
    assert not TOTPDevice.objects.filter(user=practitioner).exists()


def test_enrolment_shows_a_qr_code_and_confirms_with_a_real_code(client, practitioner):
    _sign_in(client, practitioner.username)
    enrolment_code_entered(client, practitioner)
    page = client.get(reverse("mfa_setup"))
    body = page.content.decode()
    assert 'src="data:image/svg+xml' in body
    assert 'id="totp-secret"' in body
    device = TOTPDevice.objects.get(user=practitioner, confirmed=False)

    wrong = client.post(
        reverse("mfa_setup"), {"token": "000000" if _current_code(device) != "000000" else "111111"}
    )
    assert "The security code is wrong or has expired" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=practitioner, confirmed=True).exists()

    time.sleep(1.1)  # django-otp throttles the next attempt after a failure
    device.refresh_from_db()
    ok = client.post(reverse("mfa_setup"), {"token": _current_code(device), "next": "/"})
    assert ok.status_code == 200  # the recovery codes, shown once
    assert 'id="recovery-codes"' in ok.content.decode()
    assert TOTPDevice.objects.filter(user=practitioner, confirmed=True).count() == 1
    assert client.get(reverse("home")).status_code == 200


def test_enrolled_user_must_enter_a_code_each_sign_in(client, practitioner):
    device = TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    _sign_in(client, practitioner.username)
    response = client.get(reverse("home"))
    assert response["Location"].startswith(reverse("mfa_verify"))
    # enrolling again is not possible: setup sends an enrolled user to verify
    assert client.get(reverse("mfa_setup"))["Location"].startswith(reverse("mfa_verify"))

    bad = client.post(reverse("mfa_verify"), {"token": "12ab56"})
    assert "Enter a 6-digit security code or an 8-character recovery code" in bad.content.decode()
    assert client.get(reverse("home")).status_code == 302

    good = client.post(reverse("mfa_verify"), {"token": _current_code(device)})
    assert good.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_code_is_refused(client, practitioner):
    device = TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    _sign_in(client, practitioner.username)
    wrong = "000000" if _current_code(device) != "000000" else "111111"
    response = client.post(reverse("mfa_verify"), {"token": wrong})
    assert response.status_code == 200
    assert "The security code is wrong or has expired" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_mfa_can_be_off_in_demo_mode_only(client, practitioner, settings):
    settings.REQUIRE_MFA = False
    _sign_in(client, practitioner.username)
    assert client.get(reverse("home")).status_code == 200


def test_next_parameter_cannot_redirect_off_site(client, practitioner):
    device = TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    _sign_in(client, practitioner.username)
    response = client.post(
        reverse("mfa_verify"), {"token": _current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_admin_site_requires_the_second_factor(client, db):
    admin = UserFactory(agency=None, roles=["Administrator"])
    _sign_in(client, admin.username)
    # the portal sends the unverified administrator to the second factor ...
    assert client.get("/admin/")["Location"].startswith(reverse("mfa_setup"))
    # ... and the admin site itself refuses a session without one
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = admin
    admin.is_verified = lambda: False
    assert django_admin.site.has_permission(request) is False
    verified = signed_in_client(admin)
    assert verified.get("/admin/").status_code == 200


def test_sign_out_ends_the_session(practitioner):
    client = signed_in_client(practitioner)
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 200
    assert b"You have signed out" in response.content
    assert client.get(reverse("home")).status_code == 302


def test_lockout_after_repeated_failures_with_a_clear_message(client, practitioner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, practitioner.username, "wrong-password")
    response = _sign_in(client, practitioner.username)  # even the right password
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in is locked for now" in body
    assert "Traceback" not in body


def test_lockout_is_per_account_and_address(client, practitioner, settings):
    other = UserFactory(agency=practitioner.agency)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, practitioner.username, "wrong-password", REMOTE_ADDR="10.0.0.5")
    assert _sign_in(client, practitioner.username, REMOTE_ADDR="10.0.0.5").status_code == 429
    # a colleague at the same address is not locked out
    assert _sign_in(client, other.username, REMOTE_ADDR="10.0.0.5").status_code == 302
    # the same account from another address is not locked out
    assert _sign_in(client, practitioner.username, REMOTE_ADDR="10.0.0.6").status_code == 302


def test_behind_a_proxy_the_forwarded_client_address_is_used(client, practitioner, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    proxy = "172.18.0.2"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(
            client,
            practitioner.username,
            "wrong-password",
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="203.0.113.7, " + proxy,
        )
    locked = _sign_in(
        client,
        practitioner.username,
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.7, " + proxy,
    )
    assert locked.status_code == 429
    # the same user at another client address behind the same proxy can still sign in
    other = _sign_in(
        client,
        practitioner.username,
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.9, " + proxy,
    )
    assert other.status_code == 302


def test_the_session_key_changes_when_the_second_factor_is_verified(client, practitioner):
    device = TOTPDevice.objects.create(user=practitioner, name="Phone", confirmed=True)
    _sign_in(client, practitioner.username)
    before = client.session.session_key
    response = client.post(reverse("mfa_verify"), {"token": _current_code(device)})
    assert response.status_code == 302
    after = client.session.session_key
    assert after and after != before
    assert client.get(reverse("home")).status_code == 200


def test_the_session_key_changes_when_the_authenticator_is_first_confirmed(client, practitioner):
    _sign_in(client, practitioner.username)
    enrolment_code_entered(client, practitioner)
    client.get(reverse("mfa_setup"))  # the device to enrol is made here
    device = TOTPDevice.objects.get(user=practitioner)
    before = client.session.session_key
    response = client.post(reverse("mfa_setup"), {"token": _current_code(device)})
    assert response.status_code == 200  # the recovery codes, on the fully signed-in session
    assert client.session.session_key != before
