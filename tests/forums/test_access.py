"""Meeting-based access (DESIGN §4 rule 1): invited services and standing members see a
case on a published agenda, for the meeting's window only, and only where consent covers them.
"""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

import access
from cases import services as case_services
from csf_portal.models import Role
from forums import services
from forums.models import ForumMembership, Meeting
from tests.factories import CaseFactory, UserFactory, give_consent, set_up, visible_case
from tests.forums.conftest import add_case, in_days, plan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def meeting(w):
    """Tomorrow's CSF meeting with the case on its agenda and the police invited to it."""
    meeting = plan(w.chair, w.csf, in_days(1))
    w.item = add_case(w.chair, meeting, w.case, invited_agencies=[w.police])
    return meeting


def publish(w, meeting):
    services.agenda_publish(actor=w.chair, meeting=meeting)
    meeting.refresh_from_db()
    return meeting


def end_window(meeting):
    """Move the meeting's access window into the past."""
    Meeting.objects.filter(pk=meeting.pk).update(
        access_ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )


def sees(user, case) -> bool:
    """Every single-object path agrees: the predicate and the 404-raising accessor."""
    allowed = access.can_view_case(user, case)
    try:
        access.case_for(user=user, case_id=case.pk)
    except Http404:
        assert not allowed, "can_view_case allowed what case_for refused"
        return False
    assert allowed, "case_for returned what can_view_case refused"
    return True


# --- an invited service ------------------------------------------------------------


def test_an_invited_service_does_not_see_the_case_before_publication(w, meeting):
    assert not sees(w.police_officer, w.case)
    assert not access.can_view_person(w.police_officer, w.person)
    assert not access.has_meeting_access(w.police_officer, case=w.case)


def test_an_invited_service_sees_the_case_once_the_agenda_is_published(w, meeting):
    publish(w, meeting)
    assert sees(w.police_officer, w.case)
    assert access.case_for(user=w.police_officer, case_id=w.case.pk) == w.case
    assert access.can_view_person(w.police_officer, w.person)
    assert list(access.meeting_items_open_to(w.police_officer)) == [w.item]


def test_the_access_lasts_through_the_meeting_day_while_it_is_held(w):
    meeting = plan(w.chair, w.csf, timezone.now() - datetime.timedelta(hours=1))
    add_case(w.chair, meeting, w.case, invited_agencies=[w.police])
    publish(w, meeting)
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    assert sees(w.police_officer, w.case)


def test_the_access_ends_with_the_meetings_window(w, meeting):
    publish(w, meeting)
    end_window(meeting)
    assert not sees(w.police_officer, w.case)
    assert not access.can_view_person(w.police_officer, w.person)
    assert not access.meeting_items_open_to(w.police_officer).exists()


def test_the_window_is_checked_at_the_moment_asked(w, meeting):
    meeting = publish(w, meeting)
    open_to = access.meeting_items_open_to
    assert open_to(w.police_officer, now=meeting.access_ends_at).exists()
    assert not open_to(
        w.police_officer, now=meeting.access_ends_at + datetime.timedelta(seconds=1)
    ).exists()
    assert not open_to(
        w.police_officer, now=meeting.agenda_published_at - datetime.timedelta(seconds=1)
    ).exists()


def test_the_access_ends_once_the_minutes_are_approved(w):
    meeting = plan(w.chair, w.csf, timezone.now() - datetime.timedelta(hours=1))
    item = add_case(w.chair, meeting, w.case, invited_agencies=[w.police])
    publish(w, meeting)
    services.meeting_mark_held(actor=w.chair, meeting=meeting)
    services.item_minutes_save(actor=w.chair, item=item, minutes="Discussed.", expected_version=0)
    services.minutes_approve(actor=w.chair, meeting=meeting)
    assert not sees(w.police_officer, w.case)


def test_an_invitation_opens_only_the_case_it_is_for(w, meeting):
    other = visible_case(w.hostel, w.safeguarding)
    add_case(w.chair, meeting, other)  # on the same agenda, police not invited to it
    publish(w, meeting)
    assert sees(w.police_officer, w.case)
    assert not sees(w.police_officer, other)


def test_consent_must_still_cover_an_invited_service(w):
    case = CaseFactory()
    give_consent(case.person, agencies=[w.safeguarding, w.hostel], all_member_agencies=False)
    for agency in (w.safeguarding, w.hostel):
        case_services.case_agency_join(actor=w.chair, case=case, agency=agency)
    meeting = plan(w.chair, w.csf, in_days(1))
    add_case(w.chair, meeting, case, invited_agencies=[w.police])
    publish(w, meeting)
    assert access.has_meeting_access(w.police_officer, case=case)  # invited...
    assert not sees(w.police_officer, case)  # ...but consent does not cover the police
    assert not access.can_view_person(w.police_officer, case.person)
    assert access.case_ids_visible_among(user=w.police_officer, case_ids=[case.pk]) == set()
    assert sees(w.hostel_worker, case)


def test_withdrawn_consent_removes_meeting_access_at_once(w, meeting):
    publish(w, meeting)
    assert sees(w.police_officer, w.case)
    w.person.consents.update(withdrawn_at=timezone.now())
    assert not sees(w.police_officer, w.case)


def test_a_service_not_invited_never_sees_the_case(w, meeting):
    assert not sees(w.housing_officer, w.case)
    publish(w, meeting)
    assert not sees(w.housing_officer, w.case)
    assert not access.can_view_person(w.housing_officer, w.person)


def test_a_commissioner_never_sees_the_case_even_if_invited_or_a_member(w):
    with set_up():
        ForumMembership.objects.create(forum=w.csf, user=w.commissioner, agency=w.commissioning)
    meeting = plan(w.chair, w.csf, in_days(1))
    add_case(w.chair, meeting, w.case, invited_agencies=[w.commissioning])
    publish(w, meeting)
    assert not sees(w.commissioner, w.case)
    assert not access.can_view_person(w.commissioner, w.person)
    assert not access.meeting_items_open_to(w.commissioner).exists()
    assert access.case_ids_visible_among(user=w.commissioner, case_ids=[w.case.pk]) == set()


def test_a_colleague_of_an_invited_service_shares_its_access(w, meeting):
    """Access belongs to agencies: every user of the invited agency sees the case."""
    colleague = UserFactory(agency=w.police, roles=[Role.FORUM_MEMBER])
    publish(w, meeting)
    assert sees(colleague, w.case)


def test_an_inactive_user_of_an_invited_service_sees_nothing(w, meeting):
    publish(w, meeting)
    w.police_officer.is_active = False
    with set_up():
        w.police_officer.save(update_fields=["is_active"])
    assert not sees(w.police_officer, w.case)


# --- a standing member ---------------------------------------------------------------


def test_a_standing_member_sees_the_agenda_cases_for_the_window(w, meeting):
    assert not sees(w.member, w.case)  # not involved, and not yet published
    publish(w, meeting)
    assert sees(w.member, w.case)
    assert access.can_view_person(w.member, w.person)
    end_window(meeting)
    assert not sees(w.member, w.case)


def test_a_member_who_has_left_the_forum_does_not(w, meeting):
    ForumMembership.objects.filter(user=w.member).update(left_on=timezone.localdate())
    publish(w, meeting)
    assert not sees(w.member, w.case)


def test_membership_of_another_forum_gives_no_access(w, meeting):
    sog_only = UserFactory(agency=w.housing)
    with set_up():
        ForumMembership.objects.create(forum=w.sog, user=sog_only, agency=w.housing)
    publish(w, meeting)
    assert not sees(sog_only, w.case)


def test_consent_must_still_cover_a_standing_members_agency(w):
    case = CaseFactory()
    give_consent(case.person, agencies=[w.safeguarding, w.hostel], all_member_agencies=False)
    case_services.case_agency_join(actor=w.chair, case=case, agency=w.safeguarding)
    meeting = plan(w.chair, w.csf, in_days(1))
    add_case(w.chair, meeting, case)
    publish(w, meeting)
    assert access.has_meeting_access(w.member, case=case)
    assert not sees(w.member, case)


# --- lists are involvement only --------------------------------------------------------


def test_the_case_is_not_in_an_invitees_case_list(w, meeting):
    publish(w, meeting)
    assert sees(w.police_officer, w.case)
    assert not access.cases_visible_to(user=w.police_officer).filter(pk=w.case.pk).exists()
    assert not access.cases_visible_to(user=w.member).exists()
    assert list(access.cases_visible_to(user=w.hostel_worker)) == [w.case]


def test_case_ids_visible_among_adds_meeting_access_to_involvement(w, meeting):
    hostels_other = visible_case(w.hostel)
    police_own = visible_case(w.police)
    unrelated = visible_case(w.housing)
    ids = [w.case.pk, hostels_other.pk, police_own.pk, unrelated.pk, None]

    assert access.case_ids_visible_among(user=w.police_officer, case_ids=ids) == {police_own.pk}
    publish(w, meeting)
    assert access.case_ids_visible_among(user=w.police_officer, case_ids=ids) == {
        w.case.pk,
        police_own.pk,
    }
    assert access.case_ids_visible_among(user=w.hostel_worker, case_ids=ids) == {
        w.case.pk,
        hostels_other.pk,
    }
    assert access.case_ids_visible_among(user=w.member, case_ids=ids) == {w.case.pk}
    assert access.case_ids_visible_among(user=w.housing_officer, case_ids=ids) == {unrelated.pk}
    assert access.case_ids_visible_among(user=w.police_officer, case_ids=[]) == set()
    end_window(meeting)
    assert access.case_ids_visible_among(user=w.police_officer, case_ids=ids) == {police_own.pk}


def test_a_system_issue_does_not_open_its_cases_to_the_sog(w):
    meeting = plan(w.chair, w.csf, timezone.now() - datetime.timedelta(hours=1))
    item = add_case(w.chair, meeting, w.case)
    issue = services.system_issue_raise(
        actor=w.chair,
        title="No move-on accommodation",
        description="People stay in hostels for years because there is nowhere to move on to.",
        theme="accommodation",
        item=item,
    )
    assert list(issue.cases.all()) == [w.case]
    assert not sees(w.sog_member, w.case)
    assert access.case_ids_visible_among(user=w.sog_member, case_ids=[w.case.pk]) == set()


def test_meeting_time_access_is_for_reading_not_contributing(w):
    """An invited service sees the case for the meeting but cannot change its record."""
    from csf_portal.errors import NotAllowed

    meeting = plan(w.chair, w.csf, in_days(2))
    add_case(w.chair, meeting, w.case, invited_agencies=[w.police])
    services.agenda_publish(actor=w.chair, meeting=meeting)
    assert access.can_view_case(w.police_officer, w.case)
    with pytest.raises(NotAllowed):
        case_services.risk_add(
            actor=w.police_officer, case=w.case, category="self_neglect", level="high"
        )
    with pytest.raises(NotAllowed):
        case_services.care_plan_draft(actor=w.police_officer, case=w.case)


# --- invitations are kept in history (issue 19, 10c) -------------------------------


def test_an_uninvited_service_loses_access_and_the_invitation_stays_on_record(w, meeting):
    from forums.models import Invitation

    publish(w, meeting)
    assert sees(w.police_officer, w.case)
    services.agenda_item_update(
        actor=w.chair,
        item=w.item,
        presenter=None,
        starts_at=None,
        minutes_allowed=w.item.minutes_allowed,
        invited_agencies=[],
    )
    assert not sees(w.police_officer, w.case)
    assert not Invitation.objects.filter(item=w.item).exists()
    rows = list(
        Invitation.history.filter(item_id=w.item.pk, agency_id=w.police.pk).order_by("history_date")
    )
    assert [r.history_type for r in rows] == ["+", "-"]
    assert rows[0].history_user == w.chair and rows[0].invited_by_id == w.chair.pk
    assert rows[1].history_user == w.chair
