"""First-time authenticator enrolment needs a one-time code from an administrator: a
password alone never claims an account's second factor."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal import services
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import EnrolmentCode, Role
from tests.conftest import signed_in_client
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "The enrolment code is not right, or it has expired or been used"
ISSUED = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _signed_in_with_password(client, user):
    client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})


def _enter(client, code):
    return client.post(reverse("mfa_enrol"), {"enrolment_code": code})


def _other(code: str) -> str:
    """A well-formed code that is not ``code``."""
    return "ABCD-EFGH-JKLM" if code != "ABCD-EFGH-JKLM" else "MLKJ-HGFE-DCBA"


def test_the_qr_code_is_not_shown_until_a_valid_enrolment_code_is_entered(client, practitioner):
    _signed_in_with_password(client, practitioner)
    page = client.get(reverse("mfa_setup"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("mfa_enrol"))
    page = client.get(page["Location"])
    body = page.content.decode()
    assert "Enter your enrolment code" in body and "data:image/svg+xml" not in body
    assert not TOTPDevice.objects.filter(user=practitioner).exists()
    # posting a security code straight to setup does nothing either
    refused = client.post(reverse("mfa_setup"), {"token": "123456"})
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("mfa_enrol"))

    code = services.enrolment_code_issue(actor=None, user=practitioner)
    entered = _enter(client, code.lower().replace("-", " "))  # case and spacing do not matter
    assert entered.status_code == 302 and entered["Location"].startswith(reverse("mfa_setup"))
    assert "data:image/svg+xml" in client.get(reverse("mfa_setup")).content.decode()


def test_a_wrong_or_malformed_code_gets_a_clear_message_and_keeps_what_was_typed(
    client, practitioner
):
    _signed_in_with_password(client, practitioner)
    code = services.enrolment_code_issue(actor=None, user=practitioner)
    wrong = _enter(client, _other(code))
    body = wrong.content.decode()
    assert wrong.status_code == 200 and "govuk-error-summary" in body and WRONG in body
    short = _enter(client, "ABC").content.decode()
    assert "The enrolment code is 12 letters and numbers" in short
    assert 'value="ABC"' in short
    empty = _enter(client, "").content.decode()
    assert "Enter the enrolment code your administrator gave you" in empty
    assert EnrolmentCode.objects.get(user=practitioner).failed_attempts == 1


def test_a_code_works_once(client, practitioner):
    code = services.enrolment_code_issue(actor=None, user=practitioner)
    assert services.enrolment_code_redeem(user=practitioner, code=code) is True
    assert services.enrolment_code_redeem(user=practitioner, code=code) is False
    # in another session, the same code is refused
    _signed_in_with_password(client, practitioner)
    assert WRONG in _enter(client, code).content.decode()


def test_a_code_expires_after_the_set_hours(practitioner, settings):
    settings.CSF_ENROLMENT_CODE_HOURS = 72
    with time_machine.travel(ISSUED, tick=False):
        code = services.enrolment_code_issue(actor=None, user=practitioner)
    with time_machine.travel(ISSUED + datetime.timedelta(hours=72, seconds=1), tick=False):
        assert services.enrolment_code_redeem(user=practitioner, code=code) is False
    with time_machine.travel(ISSUED + datetime.timedelta(hours=71, minutes=59), tick=False):
        assert services.enrolment_code_redeem(user=practitioner, code=code) is True


def test_five_wrong_tries_void_the_code(practitioner):
    code = services.enrolment_code_issue(actor=None, user=practitioner)
    for _ in range(services.ENROLMENT_CODE_MAX_TRIES):
        assert services.enrolment_code_redeem(user=practitioner, code=_other(code)) is False
    assert services.enrolment_code_redeem(user=practitioner, code=code) is False


def test_only_the_newest_code_works(practitioner):
    first = services.enrolment_code_issue(actor=None, user=practitioner)
    second = services.enrolment_code_issue(actor=None, user=practitioner)
    assert EnrolmentCode.objects.filter(user=practitioner).count() == 1
    if first != second:
        assert services.enrolment_code_redeem(user=practitioner, code=first) is False
    assert services.enrolment_code_redeem(user=practitioner, code=second) is True


def test_only_the_code_hash_is_kept(practitioner):
    code = services.enrolment_code_issue(actor=None, user=practitioner)
    stored = EnrolmentCode.objects.get(user=practitioner).code_hash
    assert services.enrolment_code_normalise(code) not in stored and code not in stored


def test_issuing_a_code_starts_the_second_factor_afresh(practitioner):
    TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    services.recovery_codes_issue(user=practitioner)
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    services.enrolment_code_issue(actor=admin, user=practitioner)
    assert not TOTPDevice.objects.filter(user=practitioner).exists()
    assert not StaticDevice.objects.filter(user=practitioner).exists()
    assert EnrolmentCode.objects.get(user=practitioner).issued_by == admin


def test_only_an_administrator_issues_codes_and_never_for_themselves(practitioner):
    chair = UserFactory(roles=[Role.FORUM_CHAIR])
    with pytest.raises(NotAllowed):
        services.enrolment_code_issue(actor=chair, user=practitioner)
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    with pytest.raises(DomainError, match="for yourself"):
        services.enrolment_code_issue(actor=admin, user=admin)
    practitioner.is_active = False
    with acting_as(admin):
        practitioner.save()
    with pytest.raises(DomainError, match="switched off"):
        services.enrolment_code_issue(actor=admin, user=practitioner)
    assert not EnrolmentCode.objects.exists()


def test_the_command_prints_a_code_that_works(practitioner):
    out = io.StringIO()
    call_command("enrolment_code", practitioner.username, stdout=out)
    text = out.getvalue()
    code = text.split(": ", 1)[1].split()[0]
    assert "It works once, until" in text
    assert services.enrolment_code_redeem(user=practitioner, code=code) is True
    with pytest.raises(CommandError, match="no account"):
        call_command("enrolment_code", "nobody-by-that-name", stdout=io.StringIO())


def test_the_admin_action_shows_each_code_once_and_records_it(practitioner):
    from django.contrib.admin.models import LogEntry

    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    client = signed_in_client(admin)
    page = client.post(
        reverse("admin:csf_portal_user_changelist"),
        {"action": "issue_enrolment_code", "_selected_action": [practitioner.pk, admin.pk]},
        follow=True,
    )
    body = page.content.decode()
    assert page.status_code == 200 and 'id="enrolment-codes"' in body
    code = body.split('class="enrolment-code">', 1)[1].split("<", 1)[0]
    assert services.enrolment_code_redeem(user=practitioner, code=code) is True
    assert "cannot issue an enrolment code for yourself" in body  # the admin's own row
    assert not EnrolmentCode.objects.filter(user=admin).exists()
    assert LogEntry.objects.filter(object_id=str(practitioner.pk), user=admin).exists()


def test_a_portal_user_without_the_admin_role_cannot_reach_the_action(practitioner):
    chair = UserFactory(roles=[Role.FORUM_CHAIR])
    client = signed_in_client(chair)
    client.post(
        reverse("admin:csf_portal_user_changelist"),
        {"action": "issue_enrolment_code", "_selected_action": [practitioner.pk]},
    )
    assert not EnrolmentCode.objects.exists()
