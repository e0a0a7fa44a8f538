"""Each predicate of the access layer, on its own: who it lets through and who not.

Every test here names a user the rule allows and one it refuses, so a predicate that
answered always yes or always no (the rule removed) fails.
"""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

import access
from consent.models import ConsentRecord
from csf_portal.models import Role
from forums.models import Action, Forum, ForumMembership, Meeting
from referrals.models import Referral
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    give_consent,
    set_up,
    visible_case,
)

pytestmark = pytest.mark.django_db

R = Role
ALL_ROLES = tuple(Role)


def holding(role: Role, **fields):
    return UserFactory(roles=[role], **fields)


def deactivated(user):
    user.is_active = False
    with set_up():
        user.save()
    return user


# --- rules that depend on the role alone -------------------------------------------

ROLE_RULES = {
    "can_triage_referrals": {R.FORUM_CHAIR},
    "can_record_forum_decisions": {R.FORUM_CHAIR},
    "can_review_emergency_access": {R.FORUM_CHAIR},
    "can_decide_sharing_bases": {R.FORUM_CHAIR},
    "can_view_role_changes": {R.FORUM_CHAIR},
    "can_run_any_forum": {R.FORUM_CHAIR},
    "can_request_subject_access": {R.FORUM_CHAIR},
    "can_make_referral": {R.PRACTITIONER, R.FORUM_CHAIR},
    "can_request_emergency_access": {R.PRACTITIONER},
    "can_manage_standing_membership": {R.FORUM_CHAIR, R.ADMINISTRATOR},
    "can_view_outcomes": {R.COMMISSIONER, R.FORUM_CHAIR, R.SOG_MEMBER},
    "can_work_system_issues": {R.FORUM_CHAIR, R.SOG_MEMBER},
    "can_view_system_issues": {R.FORUM_CHAIR, R.SOG_MEMBER, R.COMMISSIONER},
    "can_view_action_log": set(ALL_ROLES) - {R.COMMISSIONER},
}


@pytest.mark.parametrize("name", sorted(ROLE_RULES))
def test_each_role_rule_lets_in_exactly_its_roles(name):
    predicate = getattr(access, name)
    allowed = {role for role in ALL_ROLES if predicate(holding(role))}
    assert allowed == ROLE_RULES[name]


@pytest.mark.parametrize("name", sorted(ROLE_RULES))
def test_each_role_rule_refuses_a_deactivated_user(name):
    predicate = getattr(access, name)
    for role in ROLE_RULES[name]:
        assert not predicate(deactivated(holding(role))), role


@pytest.mark.parametrize(
    "name", ["can_make_referral", "can_request_emergency_access", "can_view_action_log"]
)
def test_rules_for_agency_staff_refuse_a_user_with_no_agency(name):
    predicate = getattr(access, name)
    for role in ROLE_RULES[name]:
        assert not predicate(holding(role, agency=None)), role


def test_an_administrator_who_is_also_a_chair_may_not_request_subject_access():
    from django.contrib.auth.models import Group

    both = UserFactory(agency=None, roles=[R.FORUM_CHAIR])
    with set_up():  # the role service refuses this pair: a row put there by other means
        both.groups.add(Group.objects.get(name=R.ADMINISTRATOR))
    assert access.can_triage_referrals(both)
    assert not access.can_request_subject_access(both)


def test_a_commissioner_who_works_system_issues_sees_the_action_log():
    assert not access.can_view_action_log(holding(R.COMMISSIONER))
    assert access.can_view_action_log(UserFactory(roles=[R.COMMISSIONER, R.SOG_MEMBER]))


def test_superuser_status_passes_none_of_the_role_rules():
    root = UserFactory(roles=[R.FORUM_MEMBER])
    root.is_superuser = True
    with set_up():
        root.save()
    granted = {name for name in ROLE_RULES if getattr(access, name)(root)}
    assert granted == {"can_view_action_log"}  # as any forum member's


# --- forums ------------------------------------------------------------------------


@pytest.fixture
def csf(db):
    return Forum.objects.get(kind=Forum.Kind.CSF)


@pytest.fixture
def sog(db):
    return Forum.objects.get(kind=Forum.Kind.SOG)


def seat(user, forum, *, role=ForumMembership.Role.MEMBER, left_on=None):
    with set_up():
        ForumMembership.objects.create(
            forum=forum, user=user, agency=user.agency, role=role, left_on=left_on
        )


def test_can_run_forum_the_chair_role_runs_every_forum(csf, sog):
    chair = holding(R.FORUM_CHAIR)
    assert access.can_run_forum(chair, csf) and access.can_run_forum(chair, sog)


def test_can_run_forum_a_standing_chair_runs_only_their_own_forum(csf, sog):
    standing = holding(R.PRACTITIONER)
    seat(standing, csf, role=ForumMembership.Role.CHAIR)
    assert access.can_run_forum(standing, csf)
    assert not access.can_run_forum(standing, sog)


def test_can_run_forum_refuses_members_and_chairs_who_have_left(csf):
    member = holding(R.FORUM_MEMBER)
    seat(member, csf)
    former = holding(R.PRACTITIONER)
    seat(
        former,
        csf,
        role=ForumMembership.Role.CHAIR,
        left_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert not access.can_run_forum(member, csf)
    assert not access.can_run_forum(former, csf)
    assert not access.can_run_forum(holding(R.PRACTITIONER), csf)


def _action(forum, owner):
    return Action(forum=forum, owner=owner, owner_agency=owner.agency)


def test_can_update_action_owner_and_colleagues_of_the_owning_agency(csf):
    owner = holding(R.PRACTITIONER)
    action = _action(csf, owner)
    assert access.can_update_action(owner, action)
    assert access.can_update_action(holding(R.PRACTITIONER, agency=owner.agency), action)
    assert not access.can_update_action(holding(R.PRACTITIONER), action)


def test_can_update_action_refuses_a_commissioner_of_the_owning_agency(csf):
    owner = holding(R.PRACTITIONER)
    action = _action(csf, owner)
    assert not access.can_update_action(holding(R.COMMISSIONER, agency=owner.agency), action)


def test_can_update_action_whoever_runs_the_forum(csf):
    action = _action(csf, holding(R.PRACTITIONER))
    assert access.can_update_action(holding(R.FORUM_CHAIR), action)
    standing = holding(R.PRACTITIONER)
    seat(standing, csf, role=ForumMembership.Role.CHAIR)
    assert access.can_update_action(standing, action)


def test_can_update_action_refuses_a_deactivated_owner(csf):
    owner = holding(R.PRACTITIONER)
    action = _action(csf, owner)
    assert not access.can_update_action(deactivated(owner), action)


@pytest.fixture
def agenda(csf):
    """A started CSF meeting with a case item (two agencies involved, one invited) and
    an item with no case."""
    from cases import services as case_services
    from forums import services as forum_services

    chair = holding(R.FORUM_CHAIR)
    other_involved, invited = AgencyFactory(), AgencyFactory()
    case = CaseFactory()
    give_consent(case.person)
    for agency in (chair.agency, other_involved):
        case_services.case_agency_join(actor=chair, case=case, agency=agency)
    meeting = forum_services.meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() + datetime.timedelta(days=7),
        location="Room 1",
    )
    case_item = forum_services.agenda_item_add(
        actor=chair, meeting=meeting, case=case, invited_agencies=[invited]
    )
    topic_item = forum_services.agenda_item_add(actor=chair, meeting=meeting, topic="Housing")
    return chair, other_involved, invited, case_item, topic_item


def test_action_owners_for_a_case_are_the_involved_and_invited_agencies_staff(agenda):
    chair, other_involved, invited, case_item, _ = agenda
    involved_worker = holding(R.PRACTITIONER, agency=other_involved)
    invited_worker = holding(R.PRACTITIONER, agency=invited)
    outsider = holding(R.PRACTITIONER)
    owners = set(access.action_owners_for(item=case_item))
    assert {chair, involved_worker, invited_worker} <= owners
    assert outsider not in owners
    assert access.can_own_action(invited_worker, case_item)
    assert not access.can_own_action(outsider, case_item)


def test_action_owners_for_a_case_leave_out_commissioners_and_inactive_staff(agenda):
    _, other_involved, _, case_item, _ = agenda
    commissioner = holding(R.COMMISSIONER, agency=other_involved)
    gone = deactivated(holding(R.PRACTITIONER, agency=other_involved))
    assert not access.can_own_action(commissioner, case_item)
    assert not access.can_own_action(gone, case_item)


def test_action_owners_for_an_item_with_no_case_are_any_agency_staff(agenda):
    *_, topic_item = agenda
    assert access.can_own_action(holding(R.PRACTITIONER), topic_item)
    assert not access.can_own_action(holding(R.PRACTITIONER, agency=None), topic_item)
    assert not access.can_own_action(deactivated(holding(R.PRACTITIONER)), topic_item)


def _pack(meeting_state, *, user, runs, case_ids, visible):
    return access.can_have_meeting_pack(
        Meeting(state=meeting_state),
        user=user,
        runs=runs,
        case_ids=case_ids,
        visible_case_ids=visible,
    )


def test_can_have_meeting_pack_of_a_planned_meeting_only_for_who_runs_it():
    user = holding(R.PRACTITIONER)
    planned, published = Meeting.State.PLANNED, Meeting.State.AGENDA_PUBLISHED
    assert _pack(planned, user=user, runs=True, case_ids=set(), visible=set())
    assert not _pack(planned, user=user, runs=False, case_ids=set(), visible=set())
    assert _pack(published, user=user, runs=False, case_ids=set(), visible=set())


def test_can_have_meeting_pack_only_for_who_sees_every_case_on_the_agenda():
    user = holding(R.PRACTITIONER)
    seen, unseen = visible_case(user.agency), CaseFactory()
    state = Meeting.State.AGENDA_PUBLISHED
    assert _pack(state, user=user, runs=False, case_ids={seen.pk}, visible={seen.pk})
    assert not _pack(state, user=user, runs=True, case_ids={seen.pk, unseen.pk}, visible={seen.pk})


def test_can_have_meeting_pack_needs_consent_for_the_meeting_pack():
    user = holding(R.PRACTITIONER)
    case = visible_case(user.agency)
    with set_up():
        ConsentRecord.objects.filter(person=case.person).update(purposes=["care_planning"])
    state = Meeting.State.AGENDA_PUBLISHED
    assert not _pack(state, user=user, runs=True, case_ids={case.pk}, visible={case.pk})
    give_consent(case.person)  # referral purpose: covers the meeting pack
    assert _pack(state, user=user, runs=True, case_ids={case.pk}, visible={case.pk})


def test_can_have_meeting_pack_of_cases_refuses_a_user_with_no_agency():
    user = holding(R.FORUM_CHAIR, agency=None)
    case = CaseFactory()
    state = Meeting.State.AGENDA_PUBLISHED
    assert not _pack(state, user=user, runs=True, case_ids={case.pk}, visible={case.pk})


def test_can_add_to_agenda_a_case_the_user_sees_to_a_forum_that_discusses_cases(csf, sog):
    chair = holding(R.FORUM_CHAIR)
    case = visible_case(chair.agency)
    assert access.can_add_to_agenda(chair, case, csf)
    assert not access.can_add_to_agenda(chair, case, sog)
    assert not access.can_add_to_agenda(chair, CaseFactory(), csf)


# --- consent -------------------------------------------------------------------------


def test_can_record_consent_an_involved_practitioner_or_a_chair():
    practitioner = holding(R.PRACTITIONER)
    case = visible_case(practitioner.agency)
    assert access.can_record_consent(practitioner, case.person)
    assert access.can_record_consent(holding(R.FORUM_CHAIR), case.person)
    assert not access.can_record_consent(holding(R.PRACTITIONER), case.person)
    assert not access.can_record_consent(
        holding(R.FORUM_MEMBER, agency=practitioner.agency), case.person
    )


def test_can_record_consent_needs_no_current_consent():
    practitioner = holding(R.PRACTITIONER)
    case = CaseFactory()
    access.case_access_grant(agency=practitioner.agency, case=case)
    assert not access.can_view_case(practitioner, case)
    assert access.can_record_consent(practitioner, case.person)


# --- referrals -----------------------------------------------------------------------


def _referral(referrer, state=Referral.State.SUBMITTED):
    return Referral(referrer=referrer, referring_agency=referrer.agency, state=state)


def test_can_view_referral_referrer_colleagues_and_chairs_once_submitted():
    referrer = holding(R.PRACTITIONER)
    submitted = _referral(referrer)
    draft = _referral(referrer, Referral.State.DRAFT)
    chair = holding(R.FORUM_CHAIR)
    assert access.can_view_referral(referrer, draft)
    assert access.can_view_referral(holding(R.PRACTITIONER, agency=referrer.agency), draft)
    assert access.can_view_referral(chair, submitted)
    assert not access.can_view_referral(chair, draft)
    assert not access.can_view_referral(holding(R.PRACTITIONER), submitted)


def test_can_view_referral_refuses_commissioners_and_deactivated_users():
    referrer = holding(R.PRACTITIONER)
    referral = _referral(referrer)
    assert not access.can_view_referral(holding(R.COMMISSIONER, agency=referrer.agency), referral)
    assert not access.can_view_referral(deactivated(referrer), referral)


def test_can_act_as_referrer_the_referrer_or_a_practitioner_colleague():
    referrer = holding(R.PRACTITIONER)
    referral = _referral(referrer)
    assert access.can_act_as_referrer(referrer, referral)
    assert access.can_act_as_referrer(holding(R.PRACTITIONER, agency=referrer.agency), referral)
    assert not access.can_act_as_referrer(holding(R.FORUM_MEMBER, agency=referrer.agency), referral)
    assert not access.can_act_as_referrer(holding(R.FORUM_CHAIR), referral)
    assert not access.can_act_as_referrer(deactivated(referrer), referral)


@pytest.mark.parametrize(
    ("state", "editable"),
    [(s, s in (Referral.State.DRAFT, Referral.State.SUBMITTED)) for s in Referral.State],
)
def test_can_edit_referral_only_while_it_is_open(state, editable):
    referrer = holding(R.PRACTITIONER)
    assert access.can_edit_referral(referrer, _referral(referrer, state)) is editable
    assert not access.can_edit_referral(holding(R.PRACTITIONER), _referral(referrer, state))


def test_referral_for_is_a_404_for_someone_who_may_not_see_it():
    from referrals import services as referral_services

    referrer = holding(R.PRACTITIONER)
    draft = referral_services.referral_start(actor=referrer)
    assert access.referral_for(user=referrer, referral_id=draft.pk) == draft
    with pytest.raises(Http404):
        access.referral_for(user=holding(R.FORUM_CHAIR), referral_id=draft.pk)


# --- which meetings a user sees listed ----------------------------------------------


def test_meetings_visible_to_follows_the_one_definition_of_a_sitting_member(csf):
    """A member whose leaving date is still to come sits today, as meeting access and
    running a forum say (``ForumMembership.sitting``); one who left yesterday does not."""
    from forums import services as forum_services

    chair = holding(R.FORUM_CHAIR)
    meeting = forum_services.meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() + datetime.timedelta(days=7),
        location="Room 1",
    )
    leaving, gone, stranger = (
        holding(R.FORUM_MEMBER),
        holding(R.FORUM_MEMBER),
        holding(R.FORUM_MEMBER),
    )
    seat(leaving, csf, left_on=timezone.localdate() + datetime.timedelta(days=10))
    seat(gone, csf, left_on=timezone.localdate() - datetime.timedelta(days=1))
    assert meeting in access.meetings_visible_to(user=leaving)
    assert meeting not in access.meetings_visible_to(user=gone)
    assert meeting not in access.meetings_visible_to(user=stranger)
    assert meeting in access.meetings_visible_to(user=chair)


def test_meetings_visible_to_shows_an_invited_agency_only_a_published_agenda(csf):
    from cases import services as case_services
    from forums import services as forum_services

    chair = holding(R.FORUM_CHAIR)
    invited = holding(R.PRACTITIONER)
    case = CaseFactory()
    give_consent(case.person)
    case_services.case_agency_join(actor=chair, case=case, agency=chair.agency)
    meeting = forum_services.meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() + datetime.timedelta(days=7),
        location="Room 1",
    )
    forum_services.agenda_item_add(
        actor=chair, meeting=meeting, case=case, invited_agencies=[invited.agency]
    )
    assert meeting not in access.meetings_visible_to(user=invited)
    forum_services.agenda_publish(actor=chair, meeting=meeting)
    assert meeting in access.meetings_visible_to(user=invited)
    commissioner = UserFactory(agency=invited.agency, roles=[R.COMMISSIONER])
    assert meeting not in access.meetings_visible_to(user=commissioner)
