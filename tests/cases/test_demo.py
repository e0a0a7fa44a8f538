"""The demo city's case records, built by ``manage.py seed_demo``.

The city is built once for the module (it takes a while) inside a transaction
that is rolled back at the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

import access
from cases.models import (
    BreakGlassAccess,
    CarePlan,
    CarePlanItem,
    Case,
    CaseAgency,
    HandOffAttempt,
    OutcomeReview,
    Risk,
    RiskLevelChange,
    RiskOwner,
)
from cases.services import risks_blocking_care_plan
from csf_portal.models import User
from forums.models import Forum, ForumDecision, Meeting

pytestmark = [pytest.mark.django_db, pytest.mark.dates, pytest.mark.xdist_group("demo_city")]

CO = Case.ClosureOutcome


def _snapshot() -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in (
        Meeting,
        ForumDecision,
        CaseAgency,
        Risk,
        RiskOwner,
        CarePlan,
        CarePlanItem,
        OutcomeReview,
    ):
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    for model in (RiskLevelChange, HandOffAttempt, BreakGlassAccess):
        counts[model.__name__] = model.objects.count()
    return counts


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    held = (Meeting.State.HELD, Meeting.State.MINUTES_APPROVED)
    assert Meeting.objects.filter(state__in=held).count() == 24  # a year of CSF and SOG
    assert before["OutcomeReview"] >= 60
    call_command("seed_demo", verbosity=0)
    assert _snapshot() == before


def test_a_year_of_the_case_record(seeded):
    now = timezone.now()
    chair = User.objects.get(username="chair")

    # A year of monthly meetings of both forums, all held (the forums' demo approves
    # the minutes of all but the latest).
    for kind in (Forum.Kind.CSF, Forum.Kind.SOG):
        meetings = Meeting.objects.filter(
            forum__kind=kind, state__in=[Meeting.State.HELD, Meeting.State.MINUTES_APPROVED]
        )
        assert meetings.count() == 12
        assert not meetings.filter(starts_at__gt=now).exists()
        earliest = meetings.order_by("starts_at").first()
        assert earliest is not None and (now - earliest.starts_at).days > 300

    # Involvement and risks date from when the case was opened, not from seeding.
    for case in Case.objects.all():
        assert case.opened_at is not None
        assert not case.involvements.filter(joined_at__lt=case.opened_at).exists()
        assert not RiskLevelChange.objects.filter(
            risk__case=case, changed_at__lt=case.opened_at
        ).exists()
    for model, field in (
        (CaseAgency, "joined_at"),
        (Risk, "created_at"),
        (RiskOwner, "accepted_at"),
        (RiskLevelChange, "changed_at"),
        (CarePlan, "agreed_at"),
        (OutcomeReview, "created_at"),
        (HandOffAttempt, "attempted_at"),
    ):
        assert not model.objects.filter(
            **{f"{field}__gt": now - timezone.timedelta(hours=1)}
        ).exists()

    # Risk is shared by named workers of the involved agencies.
    for owner in RiskOwner.objects.select_related("accepted_by", "risk"):
        assert owner.accepted_by.agency_id == owner.agency_id
        assert CaseAgency.objects.filter(case=owner.risk.case_id, agency=owner.agency).exists()
    blocking = [c for c in Case.objects.all() if risks_blocking_care_plan(case=c)]
    assert 3 <= len(blocking) <= 8
    shared = Case.objects.filter(risks__owners__isnull=False).distinct()
    assert shared.count() >= 30
    assert RiskLevelChange.objects.count() > Risk.objects.count()

    # Care plans: agreed at a meeting, later versions supersede the earlier ones.
    agreed = CarePlan.objects.filter(state=CarePlan.State.AGREED)
    assert 25 <= agreed.count() <= 40
    for plan in agreed.select_related("agreed_meeting"):
        assert plan.agreed_meeting is not None and plan.agreed_by == chair
        assert plan.agreed_meeting.forum.kind == Forum.Kind.CSF
        assert plan.items.exists()
        assert plan.case.opened_at < plan.agreed_meeting.starts_at <= plan.agreed_at
        assert not risks_blocking_care_plan(case=plan.case) or plan.case in blocking
    later = agreed.filter(version__gte=2)
    assert later.count() >= 5
    for plan in later:
        assert CarePlan.objects.get(case=plan.case, version=1).state == CarePlan.State.SUPERSEDED
    draft = CarePlan.objects.get(state=CarePlan.State.DRAFT)
    hostel = User.objects.get(username="hostel")
    assert access.can_view_case(hostel, draft.case)
    assert draft.case in blocking
    assert CarePlanItem.objects.filter(what="Keep hostel bed open while in hospital").exists()

    # Outcome reviews: emergency service use falls for most people.
    reviewed = Case.objects.filter(outcome_reviews__isnull=False).distinct()
    assert reviewed.count() >= 30
    repeated = fewer = 0
    for case in reviewed:
        reviews = list(case.outcome_reviews.order_by("period_end"))
        for review in reviews:
            assert review.period_end <= review.created_at.date() <= now.date()
            assert access.is_involved(review.recorded_by, case)
        if len(reviews) >= 2:
            repeated += 1
            fewer += reviews[-1].emergency_contacts < reviews[0].emergency_contacts
    assert repeated >= 20
    assert fewer >= repeated * 0.75
    sharon = OutcomeReview.objects.filter(case__person__given_name="Sharon").order_by("period_end")
    first, last = sharon.first(), sharon.last()
    assert first is not None and last is not None
    assert first.police_contacts + first.ambulance_contacts >= 80
    assert last.emergency_contacts == 0
    avoidable = OutcomeReview.objects.filter(avoidable=OutcomeReview.Answer.YES)
    assert 0.3 <= avoidable.count() / OutcomeReview.objects.count() <= 0.7
    assert not avoidable.filter(avoidable_note="").exists()

    # Cases move on, and some close, mostly with risk reduced.
    states = set(Case.objects.values_list("state", flat=True))
    assert {Case.State.ACTIVE, Case.State.MONITORING, Case.State.CLOSED} <= states
    outcomes = list(
        Case.objects.filter(state=Case.State.CLOSED).values_list("closure_outcome", flat=True)
    )
    assert {CO.RISK_REDUCED, CO.LOST_TO_FOLLOW_UP, CO.DIED, CO.MOVED_AWAY} <= set(outcomes)
    assert 8 <= len(outcomes) <= 12
    for case in Case.objects.filter(state=Case.State.CLOSED):
        assert case.closed_at is not None and case.closed_at < now

    # Agencies leave only by a forum decision; hand-off attempts were refused and kept.
    decisions = ForumDecision.objects.filter(kind=ForumDecision.Kind.AGENCY_LEAVES_CASE)
    assert decisions.count() >= 2
    for decision in decisions:
        left = CaseAgency.objects.get(left_by_decision=decision)
        assert left.agency_id == decision.agency_id and left.left_at == decision.decided_at
        assert not RiskOwner.objects.filter(
            risk__case=left.case, agency=left.agency, ended_at__isnull=True
        ).exists()
    assert not CaseAgency.objects.filter(left_at__isnull=False, left_by_decision=None).exists()
    attempts = HandOffAttempt.objects.all()
    assert 3 <= attempts.count() <= 5
    assert {HandOffAttempt.Kind.LEAVE_CASE, HandOffAttempt.Kind.LEAVE_RISK} <= set(
        attempts.values_list("kind", flat=True)
    )

    # Emergency access by the police, expired, one reviewed by the chair.
    police = User.objects.get(username="police")
    grants = BreakGlassAccess.objects.filter(user=police)
    assert grants.count() == 2
    assert grants.filter(reviewed_by=chair).count() == 1
    for grant in grants:
        assert grant.expires_at < now
        assert not access.can_view_case(police, grant.case)

    # The GP practice is involved in no demo case and sees nobody.
    gp = User.objects.get(username="gp")
    assert gp.agency is not None
    assert not access.cases_visible_to(user=gp).exists()
    assert not CaseAgency.objects.filter(agency=gp.agency).exists()
    assert not RiskOwner.objects.filter(agency=gp.agency).exists()
    assert not CarePlanItem.objects.filter(agency=gp.agency).exists()
