"""No hand-offs (DESIGN §4 rule 2), shared risk ownership, risk history, concurrent edits."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

import access
from cases import services
from cases.models import CaseAgency, HandOffAttempt, RiskLevel
from csf_portal.errors import ConcurrentEdit, HandOffRefused
from csf_portal.models import Role
from forums.models import Forum
from forums.services import forum_decision_record, meeting_plan
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    discussed_at_meeting,
    give_consent,
    set_up,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    hostel, housing = AgencyFactory(name="Hostel"), AgencyFactory(name="Housing")
    case = CaseFactory()
    give_consent(case.person)
    for agency in (chair.agency, hostel, housing):
        services.case_agency_join(actor=chair, case=case, agency=agency)
    item = discussed_at_meeting(case, chair=chair)
    return {
        "chair": chair,
        "case": case,
        "hostel": hostel,
        "housing": housing,
        "hostel_worker": UserFactory(agency=hostel),
        "housing_worker": UserFactory(agency=housing),
        "meeting": item.meeting,
        "item": item,
    }


def _decide(w, kind, agency, risk=None):
    return forum_decision_record(
        actor=w["chair"],
        meeting=w["meeting"],
        item=w["item"],
        kind=kind,
        summary="Agreed: housing has ended its duty and the hostel carries on.",
        case=w["case"],
        agency=agency,
        risk=risk,
    )


def test_an_agency_cannot_walk_away_and_the_attempt_is_counted(w):
    with pytest.raises(HandOffRefused, match="No agency can hand this person off"):
        services.case_agency_leave(actor=w["housing_worker"], case=w["case"], agency=w["housing"])
    assert HandOffAttempt.objects.filter(case=w["case"], agency=w["housing"]).count() == 1
    assert access.can_view_case(w["housing_worker"], w["case"])


def test_a_decision_for_someone_else_does_not_count(w):
    decision = _decide(w, "agency_leaves_case", w["hostel"])
    with pytest.raises(HandOffRefused):
        services.case_agency_leave(
            actor=w["chair"], case=w["case"], agency=w["housing"], decision=decision
        )


def test_leaving_with_a_forum_decision(w):
    decision = _decide(w, "agency_leaves_case", w["housing"])
    involvement = services.case_agency_leave(
        actor=w["chair"], case=w["case"], agency=w["housing"], decision=decision
    )
    assert involvement.left_by_decision == decision
    assert not access.can_view_case(w["housing_worker"], w["case"])
    assert CaseAgency.objects.filter(case=w["case"], agency=w["housing"]).exists()  # kept


def test_an_owner_of_open_risks_cannot_leave_even_with_a_decision(w):
    risk = services.risk_add(actor=w["chair"], case=w["case"], category="eviction", level="high")
    services.risk_owner_add(
        actor=w["chair"], risk=risk, agency=w["housing"], accepted_by=w["housing_worker"]
    )
    decision = _decide(w, "agency_leaves_case", w["housing"])
    with pytest.raises(HandOffRefused, match="still owns open risks"):
        services.case_agency_leave(
            actor=w["chair"], case=w["case"], agency=w["housing"], decision=decision
        )


def test_a_risk_cannot_lose_its_last_owner_without_a_decision(w):
    risk = services.risk_add(
        actor=w["chair"], case=w["case"], category="self_neglect", level="high"
    )
    hostel_owner = services.risk_owner_add(
        actor=w["chair"], risk=risk, agency=w["hostel"], accepted_by=w["hostel_worker"]
    )
    housing_owner = services.risk_owner_add(
        actor=w["chair"], risk=risk, agency=w["housing"], accepted_by=w["housing_worker"]
    )
    services.risk_owner_remove(actor=w["housing_worker"], owner=housing_owner)  # not the last
    with pytest.raises(HandOffRefused, match="last owner"):
        services.risk_owner_remove(actor=w["hostel_worker"], owner=hostel_owner)
    attempt = HandOffAttempt.objects.get(kind="leave_risk")
    assert attempt.risk == risk and attempt.agency == w["hostel"]
    decision = _decide(w, "risk_owner_leaves", w["hostel"], risk=risk)
    services.risk_owner_remove(actor=w["chair"], owner=hostel_owner, decision=decision)


def test_high_risks_need_two_owning_agencies_before_a_plan_is_agreed(w):
    high = services.risk_add(
        actor=w["chair"], case=w["case"], category="suicide", level="very_high"
    )
    services.risk_add(actor=w["chair"], case=w["case"], category="self_harm", level="medium")
    assert services.risks_blocking_care_plan(case=w["case"]) == [high]
    services.risk_owner_add(
        actor=w["chair"], risk=high, agency=w["hostel"], accepted_by=w["hostel_worker"]
    )
    assert services.risks_blocking_care_plan(case=w["case"]) == [high]
    services.risk_owner_add(
        actor=w["chair"], risk=high, agency=w["housing"], accepted_by=w["housing_worker"]
    )
    assert services.risks_blocking_care_plan(case=w["case"]) == []


def test_owner_must_be_accepted_by_someone_of_that_agency(w):
    from csf_portal.errors import DomainError

    risk = services.risk_add(actor=w["chair"], case=w["case"], category="eviction", level="low")
    with pytest.raises(DomainError, match="must work for that agency"):
        services.risk_owner_add(
            actor=w["chair"], risk=risk, agency=w["housing"], accepted_by=w["hostel_worker"]
        )


def test_risk_levels_are_kept_over_time_and_concurrent_edits_are_refused(w):
    risk = services.risk_add(
        actor=w["chair"],
        case=w["case"],
        category="accidental_overdose",
        level="very_high",
        at_referral=True,
    )
    first = services.risk_update(
        actor=w["hostel_worker"],
        risk=risk,
        expected_version=1,
        level=RiskLevel.HIGH,
        description="",
        mitigations="Naloxone kit given",
    )
    assert first.version == 2
    with pytest.raises(ConcurrentEdit, match="Someone else changed this risk"):
        services.risk_update(
            actor=w["housing_worker"],
            risk=risk,
            expected_version=1,
            level=RiskLevel.LOW,
            description="",
            mitigations="",
        )
    first.refresh_from_db()
    assert first.level == RiskLevel.HIGH and first.mitigations == "Naloxone kit given"
    assert first.level_at_referral == RiskLevel.VERY_HIGH
    assert list(first.level_changes.values_list("level", flat=True)) == ["very_high", "high"]


def test_accepting_a_referral_records_involvement_and_the_referral_risks(db):
    from referrals.services import referral_accept
    from tests.referrals.conftest import complete_referral

    referrer = UserFactory(agency=AgencyFactory(name="Police"))
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    hostel = AgencyFactory(name="Hostel")
    referral = complete_referral(referrer, involved=[hostel])
    referral_accept(actor=chair, referral=referral)
    referral.refresh_from_db()
    involvements = {i.agency: i for i in referral.case.involvements.all()}
    assert set(involvements) == {referrer.agency, chair.agency, hostel}
    assert involvements[referrer.agency].named_worker == referrer
    risk = referral.case.risks.get()
    assert (risk.category, risk.level, risk.level_at_referral) == ("self_neglect", "high", "high")


def test_only_the_chair_or_the_agency_itself_asks_to_leave(w):
    from csf_portal.errors import NotAllowed

    stranger = UserFactory(agency=AgencyFactory())
    with pytest.raises(NotAllowed):
        services.case_agency_leave(actor=stranger, case=w["case"], agency=w["housing"])
    with pytest.raises(NotAllowed):
        services.case_agency_leave(actor=w["hostel_worker"], case=w["case"], agency=w["housing"])
    assert not HandOffAttempt.objects.exists()


def test_the_person_accepting_a_risk_must_be_able_to_see_the_case(w):
    from csf_portal.errors import DomainError

    case = CaseFactory()  # consent here covers the hostel only
    give_consent(case.person, agencies=[w["hostel"]], all_member_agencies=False)
    for agency in (w["chair"].agency, w["hostel"], w["housing"]):
        services.case_agency_join(actor=w["chair"], case=case, agency=agency)
    risk = services.risk_add(actor=w["hostel_worker"], case=case, category="suicide", level="high")
    with pytest.raises(DomainError, match="able to see this case"):
        services.risk_owner_add(
            actor=w["hostel_worker"],
            risk=risk,
            agency=w["housing"],
            accepted_by=w["housing_worker"],
        )


# --- door 1 of issue 19: a decision belongs to the case's item at a meeting held ----------


def test_a_case_decision_needs_the_cases_item_of_that_meeting(w):
    from csf_portal.errors import DomainError

    kwargs = {
        "actor": w["chair"],
        "meeting": w["meeting"],
        "kind": "agency_leaves_case",
        "summary": "Housing steps back.",
        "case": w["case"],
        "agency": w["housing"],
    }
    with pytest.raises(DomainError, match="recorded on its item") as error:
        forum_decision_record(**kwargs)  # no item: the chair alone, outside a discussion
    assert error.value.field == "item"
    other = CaseFactory()
    give_consent(other.person)
    services.case_agency_join(actor=w["chair"], case=other, agency=w["chair"].agency)
    someone_else = discussed_at_meeting(other, chair=w["chair"], meeting=w["meeting"])
    with pytest.raises(DomainError, match="recorded on its item"):
        forum_decision_record(**kwargs, item=someone_else)
    later = discussed_at_meeting(w["case"], chair=w["chair"], days_ago=-7)
    with pytest.raises(DomainError, match="meeting that has taken place"):
        forum_decision_record(**{**kwargs, "meeting": later.meeting}, item=later)
    with pytest.raises(DomainError, match="recorded on its item"):
        forum_decision_record(**kwargs, item=later)  # the item of another meeting
    assert not w["case"].decisions.exists()


def test_a_started_meeting_whose_agenda_was_never_published_decides_nothing(w):
    from csf_portal.errors import DomainError

    unpublished = meeting_plan(
        actor=w["chair"],
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() + datetime.timedelta(days=2),
        location="Room 2",
    )
    from forums.services import agenda_item_add

    item = agenda_item_add(actor=w["chair"], meeting=unpublished, case=w["case"])
    from forums.models import Meeting

    Meeting.objects.filter(pk=unpublished.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    unpublished.refresh_from_db()
    with pytest.raises(
        DomainError, match="Publish the agenda, or record that the meeting was held"
    ):
        forum_decision_record(
            actor=w["chair"],
            meeting=unpublished,
            item=item,
            kind="agency_leaves_case",
            summary="Housing steps back.",
            case=w["case"],
            agency=w["housing"],
        )


def test_a_decision_row_without_its_item_allows_nothing(w):
    """A decision written around the service (or before this rule) is not a forum decision."""
    from forums.models import ForumDecision

    with set_up():
        loose = ForumDecision.objects.create(
            meeting=w["meeting"],
            kind="agency_leaves_case",
            case=w["case"],
            agency=w["housing"],
            summary="Written directly.",
            decided_by=w["chair"],
            decided_at=timezone.now(),
        )
    assert not access.forum_decision_allows(
        loose, case=w["case"], kind="agency_leaves_case", agency=w["housing"]
    )
    with pytest.raises(HandOffRefused):
        services.case_agency_leave(
            actor=w["chair"], case=w["case"], agency=w["housing"], decision=loose
        )
    assert CaseAgency.objects.filter(case=w["case"], agency=w["housing"], left_at=None).exists()
    proper = _decide(w, "agency_leaves_case", w["housing"])
    assert access.forum_decision_allows(
        proper, case=w["case"], kind="agency_leaves_case", agency=w["housing"]
    )
    assert not access.forum_decision_allows(
        proper, case=w["case"], kind="risk_owner_leaves", agency=w["housing"]
    )


def test_the_database_refuses_a_plan_agreement_outside_a_discussion(w):
    from django.db import IntegrityError, transaction

    from forums.models import ForumDecision

    with pytest.raises(IntegrityError), transaction.atomic(), set_up():
        ForumDecision.objects.create(
            meeting=w["meeting"],
            kind="care_plan_agreed",
            case=w["case"],
            summary="Agreed.",
            decided_by=w["chair"],
            decided_at=timezone.now(),
        )
