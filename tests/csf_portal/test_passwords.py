"""Changing your own password, and resetting a forgotten one without the pages saying
which accounts exist."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import signed_in_client
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-7"


@pytest.fixture(autouse=True)
def _reset_emails_sent_here():
    """The reset look-up runs as a task: here, in-process (a real worker is tested in
    tests/integration), whichever broker the run is configured with."""
    from csf_portal.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _change(client, old=TEST_PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": again or new},
    )


def _reset_link(message) -> str:
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_the_account_page_shows_who_you_are_and_links_to_your_password(practitioner):
    client = signed_in_client(practitioner)
    body = client.get(reverse("account")).content.decode()
    assert "Your account" in body and practitioner.username in body
    assert practitioner.agency.name in body and "Practitioner" in body
    assert reverse("password_change") in body and reverse("recovery_codes") in body
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("account")}"' in home  # from the account bar on every page


def test_a_wrong_current_password_gets_a_clear_message_and_nothing_changes(practitioner):
    client = signed_in_client(practitioner)
    page = _change(client, old="not-my-password")
    body = page.content.decode()
    assert page.status_code == 200 and "govuk-error-summary" in body
    assert "Your current password is not right" in body
    mismatch = _change(client, again="something-else-entirely-9").content.decode()
    assert "The two new passwords do not match" in mismatch
    weak = _change(client, new="short").content.decode()
    assert "at least 12 characters" in weak
    practitioner.refresh_from_db()
    assert practitioner.check_password(TEST_PASSWORD)
    assert mail.outbox == []


def test_changing_the_password_ends_other_sessions_keeps_this_one_and_emails_the_owner(
    practitioner, django_capture_on_commit_callbacks
):
    here = signed_in_client(practitioner)
    elsewhere = signed_in_client(practitioner)
    with django_capture_on_commit_callbacks(execute=True):
        done = _change(here)
    assert done.status_code == 302 and done["Location"] == reverse("account")
    follow = here.get(reverse("account"))
    assert follow.status_code == 200 and "Your password has been changed" in follow.content.decode()
    practitioner.refresh_from_db()
    assert practitioner.check_password(NEW_PASSWORD)
    # the other browser's session no longer belongs to anyone
    assert elsewhere.get(reverse("home"))["Location"].startswith(reverse("login"))
    (message,) = mail.outbox
    assert message.to == [practitioner.email]
    assert message.subject == "Your CSF Portal password was changed"


def test_a_reset_request_looks_the_same_for_a_known_and_an_unknown_address(practitioner):
    client = Client()
    known = client.post(reverse("password_reset"), {"email": practitioner.email.upper()})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert "Check your email" in client.get(known["Location"]).content.decode()
    (message,) = mail.outbox  # only the real account gets anything
    assert message.to == [practitioner.email]
    assert practitioner.username in message.body


def test_a_reset_form_with_a_bad_address_says_what_is_wrong():
    client = Client()
    empty = client.post(reverse("password_reset"), {"email": ""}).content.decode()
    assert "Enter your email address" in empty
    bad = client.post(reverse("password_reset"), {"email": "not an address"}).content.decode()
    assert "Enter an email address in the correct format" in bad
    assert 'value="not an address"' in bad


def test_a_switched_off_account_gets_no_reset_email(practitioner):
    from csf_portal.history import acting_as

    practitioner.is_active = False
    with acting_as(UserFactory()):
        practitioner.save()
    Client().post(reverse("password_reset"), {"email": practitioner.email})
    assert mail.outbox == []


def test_the_reset_link_sets_a_new_password_once_and_the_second_factor_is_still_asked(
    practitioner,
):
    device = TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    elsewhere = signed_in_client(practitioner)
    client = Client()
    client.post(reverse("password_reset"), {"email": practitioner.email})
    link = _reset_link(mail.outbox[0])

    form = client.get(link, follow=True)
    assert "Set a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    mismatch = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": "x"})
    assert "The two new passwords do not match" in mismatch.content.decode()
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert "Your password has been reset" in client.get(done["Location"]).content.decode()

    practitioner.refresh_from_db()
    assert practitioner.check_password(NEW_PASSWORD)
    assert elsewhere.get(reverse("home"))["Location"].startswith(reverse("login"))
    # the link is spent
    again = client.get(link, follow=True).content.decode()
    assert "This link does not work" in again
    # signing in with the new password still asks for the authenticator's code
    client.post(reverse("login"), {"username": practitioner.username, "password": NEW_PASSWORD})
    assert client.get(reverse("home"))["Location"].startswith(reverse("mfa_verify"))
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post(reverse("mfa_verify"), {"token": code}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_made_up_reset_link_says_it_does_not_work():
    url = reverse("password_reset_confirm", args=["MQ", "abc-def"])
    page = Client().get(url, follow=True)
    assert page.status_code == 200
    assert "This link does not work" in page.content.decode()


def test_with_the_broker_down_the_reset_email_is_still_sent(practitioner, monkeypatch):
    from kombu.exceptions import OperationalError

    from csf_portal import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.password_reset_send, "delay", broker_down)
    page = Client().post(reverse("password_reset"), {"email": practitioner.email})
    assert page.status_code == 302
    assert [m.to for m in mail.outbox] == [[practitioner.email]]
