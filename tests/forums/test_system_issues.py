"""System issues: raised from case learning by chairs and SOG members, never naming the
person; recommended to commissioners with a recommendation; concurrent edits caught.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from cases import services as case_services
from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition, NotAllowed
from csf_portal.models import Notification, Role
from forums import services
from forums.models import SystemIssue
from tests.factories import CaseFactory, UserFactory, give_consent, set_up
from tests.forums.conftest import FAMILY_NAME, GIVEN_NAME, add_case, in_days, plan, started

pytestmark = pytest.mark.django_db

DESCRIPTION = "Hostel residents wait months for move-on accommodation; beds silt up."


def raise_issue(actor, **fields) -> SystemIssue:
    fields = {
        "title": "No move-on accommodation",
        "description": DESCRIPTION,
        "theme": SystemIssue.Theme.ACCOMMODATION,
    } | fields
    return services.system_issue_raise(actor=actor, **fields)


@pytest.fixture
def item(w):
    meeting = started(w.chair, w.csf)
    return add_case(w.chair, meeting, w.case)


# --- raising -------------------------------------------------------------------------


def test_the_chair_raises_an_issue_from_a_case_discussion(w, item):
    issue = raise_issue(w.chair, item=item)
    issue.refresh_from_db()
    assert issue.raised_by == w.chair and issue.raised_from == item
    assert list(issue.cases.all()) == [w.case]
    assert (issue.status, issue.version) == (SystemIssue.Status.OPEN, 1)


def test_an_sog_member_raises_an_issue_directly(w):
    issue = raise_issue(w.sog_member, theme="thresholds", title="Thresholds too high")
    assert issue.raised_by == w.sog_member and issue.raised_from is None
    assert issue.theme == SystemIssue.Theme.THRESHOLDS
    assert not issue.cases.exists()


@pytest.mark.parametrize("who", ["hostel_worker", "member", "commissioner"])
def test_others_may_not_raise_issues(w, who):
    with pytest.raises(NotAllowed):
        raise_issue(getattr(w, who))
    assert not SystemIssue.objects.exists()


def test_a_forum_member_role_is_not_enough(w):
    forum_member = UserFactory(agency=w.police, roles=[Role.FORUM_MEMBER])
    with pytest.raises(NotAllowed):
        raise_issue(forum_member)


def test_linked_cases_are_kept_alongside_the_items_case(w, item):
    other = CaseFactory()
    give_consent(other.person)
    case_services.case_agency_join(actor=w.chair, case=other, agency=w.chair.agency)
    issue = raise_issue(w.chair, item=item, cases=[other])
    assert set(issue.cases.all()) == {w.case, other}


def test_only_cases_the_raiser_may_see_can_be_linked(w):
    unseen = CaseFactory()
    give_consent(unseen.person)
    with pytest.raises(NotAllowed, match="only link cases you can see"):
        raise_issue(w.sog_member, cases=[unseen])
    assert not SystemIssue.objects.exists()


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("title", f"{GIVEN_NAME} cannot find a bed"),
        ("description", f"Ms {FAMILY_NAME.lower()} waited six months for a move-on bed."),
        ("description", f"{GIVEN_NAME.upper()}'s hostel place ended."),
    ],
)
def test_the_text_may_not_name_the_person(w, item, field, text):
    with pytest.raises(DomainError, match="Do not name the person") as error:
        raise_issue(w.chair, item=item, **{field: text})
    assert error.value.field == "description"
    assert not SystemIssue.objects.exists()


def test_a_name_inside_another_word_is_not_a_name(w, item):
    issue = raise_issue(w.chair, item=item, description=f"The {FAMILY_NAME}shire protocol fails.")
    assert issue.pk is not None


def test_other_names_of_the_person_are_checked_too(w, item):
    w.person.other_names = "Kiki; Kirsty Smith"
    with set_up():
        w.person.save()
    with pytest.raises(DomainError, match="Do not name the person"):
        raise_issue(w.chair, item=item, description="Kiki was refused at the door.")


def test_a_directly_linked_case_is_checked_for_names(w):
    with pytest.raises(DomainError, match="Do not name the person"):
        raise_issue(w.chair, cases=[w.case], description=f"{FAMILY_NAME} slept out.")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " "}, "short title"),
        ({"title": "x" * 201}, "200 characters"),
        ({"description": ""}, "Describe the issue"),
    ],
)
def test_title_and_description_are_required(w, fields, message):
    with pytest.raises(DomainError, match=message):
        raise_issue(w.chair, **fields)


def test_an_issue_from_an_item_needs_the_meeting_to_have_started(w):
    meeting = plan(w.chair, w.csf, in_days(1))
    future_item = add_case(w.chair, meeting, w.case)
    with pytest.raises(DomainError, match="once the meeting has started"):
        raise_issue(w.chair, item=future_item)


def test_no_issue_from_an_item_once_the_minutes_are_approved(w, item):
    meeting = item.meeting
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    services.item_minutes_save(actor=w.chair, item=item, minutes="Discussed", expected_version=0)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    with pytest.raises(InvalidTransition):
        raise_issue(w.chair, item=item)


# --- updating, and the recommendation to commissioners -----------------------------------


def update(actor, issue, **fields) -> SystemIssue:
    fields = {"status": "in_progress", "recommendation": "", "expected_version": 1} | fields
    return services.system_issue_update(actor=actor, issue=issue, **fields)


def test_an_sog_member_moves_an_issue_on(w):
    issue = raise_issue(w.chair)
    issue = update(w.sog_member, issue)
    assert (issue.status, issue.version) == (SystemIssue.Status.IN_PROGRESS, 2)


def test_a_practitioner_may_not_update(w):
    issue = raise_issue(w.chair)
    with pytest.raises(NotAllowed):
        update(w.hostel_worker, issue)
    issue.refresh_from_db()
    assert issue.version == 1


def test_going_to_commissioners_needs_a_recommendation(w):
    issue = raise_issue(w.chair)
    with pytest.raises(DomainError, match="Write the recommendation") as error:
        update(w.sog_member, issue, status="with_commissioners", recommendation="  ")
    assert error.value.field == "recommendation"
    issue.refresh_from_db()
    assert (issue.status, issue.version) == (SystemIssue.Status.OPEN, 1)
    assert not Notification.objects.exists()


def test_commissioners_are_told_of_a_recommendation(w, django_capture_on_commit_callbacks):
    second_commissioner = UserFactory(agency=w.commissioning, roles=[Role.COMMISSIONER])
    issue = raise_issue(w.chair, cases=[w.case])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        issue = update(
            w.sog_member,
            issue,
            status="with_commissioners",
            recommendation="Commission 20 move-on flats with floating support.",
        )
    assert issue.status == SystemIssue.Status.WITH_COMMISSIONERS
    assert issue.recommendation == "Commission 20 move-on flats with floating support."
    notes = Notification.objects.all()
    assert {n.user for n in notes} == {w.commissioner, second_commissioner}
    assert {n.url for n in notes} == {reverse("forums:issue", args=[issue.pk])}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [w.commissioner.email, second_commissioner.email]
    )
    for message in mail.outbox:
        assert GIVEN_NAME not in message.body and FAMILY_NAME not in message.body


def test_commissioners_are_told_once(w):
    issue = raise_issue(w.chair)
    issue = update(w.sog_member, issue, status="with_commissioners", recommendation="Fund it.")
    update(
        w.sog_member,
        issue,
        status="with_commissioners",
        recommendation="Fund it, from April.",
        expected_version=2,
    )
    assert Notification.objects.count() == 1


def test_the_recommendation_may_not_name_the_person(w, item):
    issue = raise_issue(w.chair, item=item)
    with pytest.raises(DomainError, match="Do not name the person") as error:
        update(
            w.sog_member,
            issue,
            status="with_commissioners",
            recommendation=f"Find {GIVEN_NAME} a flat.",
        )
    assert error.value.field == "recommendation"
    issue.refresh_from_db()
    assert issue.status == SystemIssue.Status.OPEN and issue.recommendation == ""


def test_a_stale_update_is_refused(w):
    issue = raise_issue(w.chair)
    update(w.sog_member, issue, status="in_progress")
    with pytest.raises(ConcurrentEdit, match="Someone else changed this issue"):
        update(w.chair, issue, status="closed", expected_version=1)
    issue.refresh_from_db()
    assert (issue.status, issue.version) == (SystemIssue.Status.IN_PROGRESS, 2)


def test_a_stale_save_on_the_page_shows_the_change_and_keeps_what_was_typed(w, as_user):
    issue = raise_issue(w.chair)
    update(w.sog_member, issue, status="in_progress")
    url = reverse("forums:issue", args=[issue.pk])
    typed = {"status": "closed", "recommendation": "Chair's note", "version": 1}
    page = as_user(w.chair).post(url, typed).content.decode()
    assert "Someone else changed this issue" in page
    assert 'name="version" value="2"' in page  # saving again is a conscious choice
    assert "Chair&#x27;s note" in page
    issue.refresh_from_db()
    assert issue.status == SystemIssue.Status.IN_PROGRESS
    again = as_user(w.chair).post(url, typed | {"version": 2})
    assert again.status_code == 302
    issue.refresh_from_db()
    assert (issue.status, issue.version) == (SystemIssue.Status.CLOSED, 3)
