"""The weekly digest of overdue actions: once per owner per week, no personal data."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from forums import services
from forums.models import Action, DigestSent
from tests.forums.conftest import FAMILY_NAME, GIVEN_NAME, add_case, plan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

DESCRIPTION = "Ring the landlord about the rent arrears"


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def week(w):
    """Actions from a meeting a month ago; returns the Wednesday of this week to run on."""
    meeting = plan(w.chair, w.csf, timezone.now() - datetime.timedelta(days=30))
    # The police and housing are invited to the item, so their staff may own its actions.
    item = add_case(w.chair, meeting, w.case, invited_agencies=[w.police, w.housing])

    def action(owner, agency, due_on, status="open"):
        created = services.action_add(
            actor=w.chair,
            meeting=meeting,
            item=item,
            description=DESCRIPTION,
            owner_agency=agency,
            owner=owner,
            due_on=due_on,
        )
        if status != "open":
            services.action_update(
                actor=w.chair, action=created, status=status, note="Update", expected_version=1
            )
        return created

    w.action = action
    today = timezone.localdate()
    mail.outbox.clear()
    return today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(days=2)


def test_each_owner_of_overdue_actions_gets_one_email(w, week):
    w.action(w.hostel_worker, w.hostel, days(-20))
    w.action(w.hostel_worker, w.hostel, days(-10), status="in_progress")
    w.action(w.police_officer, w.police, days(-15))

    assert services.overdue_digest_send(today=week) == 2
    by_owner = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2 and set(by_owner) == {
        w.hostel_worker.email,
        w.police_officer.email,
    }
    assert by_owner[w.hostel_worker.email].subject == "CSF Portal: 2 overdue actions"
    assert by_owner[w.police_officer.email].subject == "CSF Portal: 1 overdue action"
    assert "You own 2 overdue actions" in by_owner[w.hostel_worker.email].body


def test_the_email_names_no_person_and_no_action(w, week):
    w.action(w.hostel_worker, w.hostel, days(-20))
    services.overdue_digest_send(today=week)
    (message,) = mail.outbox
    text = message.subject + message.body
    assert GIVEN_NAME not in text and FAMILY_NAME not in text
    assert DESCRIPTION not in text and "landlord" not in text


def test_done_dropped_and_not_yet_due_actions_are_not_chased(w, week):
    w.action(w.housing_officer, w.housing, days(-20), status="done")
    w.action(w.housing_officer, w.housing, days(-20), status="dropped")
    w.action(w.housing_officer, w.housing, days(20))
    w.action(w.housing_officer, w.housing, week)  # due on the day: not overdue yet
    assert services.overdue_digest_send(today=week) == 0
    assert mail.outbox == []
    assert not DigestSent.objects.exists()


def test_only_the_overdue_are_counted(w, week):
    w.action(w.hostel_worker, w.hostel, days(-20))
    w.action(w.hostel_worker, w.hostel, days(-20), status="done")
    w.action(w.hostel_worker, w.hostel, days(20))
    services.overdue_digest_send(today=week)
    assert [m.subject for m in mail.outbox] == ["CSF Portal: 1 overdue action"]


def test_a_second_run_in_the_same_week_sends_nothing(w, week):
    w.action(w.hostel_worker, w.hostel, days(-20))
    assert services.overdue_digest_send(today=week) == 1
    assert services.overdue_digest_send(today=week) == 0
    assert services.overdue_digest_send(today=week + datetime.timedelta(days=2)) == 0
    assert len(mail.outbox) == 1
    sent = DigestSent.objects.get()
    assert (sent.user, sent.actions) == (w.hostel_worker, 1)
    assert sent.week_starting == week - datetime.timedelta(days=2)  # the Monday
    assert sent.week_starting.weekday() == 0


def test_the_next_week_sends_again(w, week):
    w.action(w.hostel_worker, w.hostel, days(-20))
    w.action(w.hostel_worker, w.hostel, days(-20))
    services.overdue_digest_send(today=week)
    done = Action.objects.filter(owner=w.hostel_worker).first()
    services.action_update(
        actor=w.hostel_worker, action=done, status="done", note="Rang", expected_version=1
    )
    assert services.overdue_digest_send(today=week + datetime.timedelta(days=7)) == 1
    assert [m.subject for m in mail.outbox] == [
        "CSF Portal: 2 overdue actions",
        "CSF Portal: 1 overdue action",
    ]
    assert DigestSent.objects.filter(user=w.hostel_worker).count() == 2


def test_owners_without_an_email_address_or_no_longer_active_are_skipped(w, week):
    w.action(w.hostel_worker, w.hostel, days(-20))
    w.action(w.police_officer, w.police, days(-20))
    type(w.hostel_worker).objects.filter(pk=w.hostel_worker.pk).update(email="")
    type(w.police_officer).objects.filter(pk=w.police_officer.pk).update(is_active=False)
    assert services.overdue_digest_send(today=week) == 0
    assert mail.outbox == [] and not DigestSent.objects.exists()


def test_a_failed_send_is_not_recorded_and_is_retried(w, week, monkeypatch):
    w.action(w.hostel_worker, w.hostel, days(-20))

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.send_mail", broken)
        assert services.overdue_digest_send(today=week) == 0
    assert not DigestSent.objects.exists()
    assert services.overdue_digest_send(today=week) == 1
    assert [m.to for m in mail.outbox] == [[w.hostel_worker.email]]
