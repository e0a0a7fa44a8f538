"""``manage.py seed_demo --scale N``: city-scale fictional data for benchmarks.

The demo city, then 200 scale people, are built once for the module inside a
transaction that is rolled back at the end; each test runs in its own savepoint.
"""

from __future__ import annotations

import datetime
import io
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.test.utils import override_settings
from django.utils import timezone

import access
from assessments.models import Assessment
from cases.models import (
    CarePlan,
    CarePlanItem,
    Case,
    CaseAgency,
    CaseGroupObjectPermission,
    CaseVisibility,
    OutcomeReview,
    Person,
    Risk,
    RiskOwner,
)
from consent.models import ConsentRecord
from csf_portal.models import Agency, User
from demo.scale import SCALE_AGENCIES, scale_data_present
from forums.models import Action, AgendaItem, Attendance, Forum, Invitation, Meeting
from referrals import selectors as referral_selectors
from referrals.models import Referral
from reports import dashboard
from tests.conftest import demo_city

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_city")]

PEOPLE = 200


@dataclass
class Seeded:
    demo_people: set[Any]
    demo_cases: set[Any]
    demo_referrals: int
    demo_agencies: int
    demo_users: int
    output: str
    seconds: float

    def scale_cases(self):
        return Case.objects.exclude(pk__in=self.demo_cases)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[Seeded]:
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        demo_city()
        demo = {
            "demo_people": set(Person.objects.values_list("pk", flat=True)),
            "demo_cases": set(Case.objects.values_list("pk", flat=True)),
            "demo_referrals": Referral.objects.count(),
            "demo_agencies": Agency.objects.count(),
            "demo_users": User.objects.count(),
        }
        out = io.StringIO()
        started = time.monotonic()
        call_command("seed_demo", "--scale", str(PEOPLE), stdout=out)
        yield Seeded(**demo, output=out.getvalue(), seconds=time.monotonic() - started)
        transaction.set_rollback(True)


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in (Person, Case, Referral, CaseVisibility, Meeting, Action, Agency, User)
    }


# --- size and shape ---------------------------------------------------------------------


def test_it_adds_the_people_asked_for_with_about_one_and_a_half_referrals_each(seeded):
    assert Person.objects.count() == len(seeded.demo_people) + PEOPLE
    assert seeded.scale_cases().count() == PEOPLE
    added = Referral.objects.count() - seeded.demo_referrals
    assert 1.35 * PEOPLE <= added <= 1.8 * PEOPLE
    scale = Referral.objects.exclude(case__in=seeded.demo_cases).exclude(
        person__in=seeded.demo_people
    )
    states = Counter(scale.values_list("state", flat=True))
    assert states[Referral.State.ACCEPTED] > states[Referral.State.DECLINED] > 0
    assert states[Referral.State.REDIRECTED] > 0 and states[Referral.State.WITHDRAWN] > 0
    assert states[Referral.State.SUBMITTED] >= 5  # the chair's triage queue
    assert states[Referral.State.DRAFT] >= 2


def test_about_a_third_of_people_come_back_through_the_revolving_door(seeded):
    people = Person.objects.exclude(pk__in=seeded.demo_people)
    returning = (
        people.annotate(n=Count("referrals", filter=~Q(referrals__state=Referral.State.DRAFT)))
        .filter(n__gt=1)
        .count()
    )
    assert 0.2 * PEOPLE <= returning <= 0.45 * PEOPLE
    repeats = Referral.objects.filter(is_repeat=True, person__in=people)
    assert repeats.count() >= 0.15 * PEOPLE
    # A repeat referral was accepted onto the person's one case, reopened if it was closed.
    assert all(r.case_id is not None for r in repeats)
    assert seeded.scale_cases().filter(times_reopened__gt=0).exists()


def test_cases_are_in_plausible_states(seeded):
    states = Counter(seeded.scale_cases().values_list("state", flat=True))
    assert states[Case.State.CLOSED] > states[Case.State.ACTIVE] > 0
    assert states[Case.State.MONITORING] > 0
    closed = seeded.scale_cases().filter(state=Case.State.CLOSED)
    assert not closed.filter(Q(closed_at__isnull=True) | Q(closure_outcome="")).exists()
    assert not seeded.scale_cases().exclude(state=Case.State.CLOSED).exclude(closure_outcome="")


def test_about_fifty_agencies_and_scaled_down_users(seeded):
    added = Agency.objects.count() - seeded.demo_agencies
    assert 5 <= added <= len(SCALE_AGENCIES)
    for agency in Agency.objects.filter(slug__in=[s for s, _, _ in SCALE_AGENCIES]):
        assert agency.group.name == f"agency:{agency.slug}"
    new_users = User.objects.order_by("-pk")[: User.objects.count() - seeded.demo_users]
    assert len(new_users) >= 20
    for user in new_users:
        assert user.agency_id is not None
        assert not user.has_usable_password()  # never signed in to
        assert user.role_names()


def test_the_police_and_the_hostel_are_in_a_large_share_of_cases(seeded):
    share = {}
    for slug in ("police", "hostel"):
        involved = CaseAgency.objects.filter(
            agency__slug=slug, case__in=seeded.scale_cases(), left_at__isnull=True
        ).count()
        share[slug] = involved / PEOPLE
    assert 0.3 <= share["police"] <= 0.55
    assert 0.06 <= share["hostel"] <= 0.3


def test_five_years_of_monthly_meetings_for_both_forums(seeded):
    now = timezone.now()
    window = now - datetime.timedelta(days=5 * 365)
    for kind in (Forum.Kind.CSF, Forum.Kind.SOG):
        past = Meeting.objects.filter(forum__kind=kind, starts_at__lt=now, starts_at__gte=window)
        months = {
            (timezone.localtime(m).year, timezone.localtime(m).month)
            for m in past.values_list("starts_at", flat=True)
        }
        assert len(months) >= 58, kind
        assert past.count() == len(months), f"one {kind} meeting a month"
        assert Meeting.objects.filter(forum__kind=kind, starts_at__gt=now).exists()


def test_past_meetings_have_agendas_minutes_attendance_and_actions(seeded):
    year_ago = timezone.now() - datetime.timedelta(days=400)
    older = Meeting.objects.filter(starts_at__lt=year_ago).annotate(items_n=Count("items"))
    assert older.count() >= 90
    for meeting in older:
        assert meeting.state == Meeting.State.MINUTES_APPROVED
        assert 3 <= meeting.items_n <= 6
        assert meeting.agenda_published_at < meeting.starts_at < meeting.minutes_approved_at
    items = AgendaItem.objects.filter(meeting__in=older)
    assert not items.filter(minutes="").exists()
    csf_items = items.filter(meeting__forum__kind=Forum.Kind.CSF)
    assert csf_items.filter(case__isnull=False).count() >= 100
    assert not items.filter(meeting__forum__kind=Forum.Kind.SOG, case__isnull=False).exists()
    assert items.filter(system_issue__isnull=False).exists()
    assert Attendance.objects.filter(meeting__in=older, item__isnull=True).count() >= 8 * 90
    assert Invitation.objects.filter(item__in=csf_items).exists()
    # Presenters and invited services work for agencies involved in the case.
    for item in csf_items.filter(case__isnull=False).select_related("presenter")[:100]:
        involved = set(
            CaseAgency.objects.filter(case_id=item.case_id).values_list("agency_id", flat=True)
        )
        assert item.presenter.agency_id in involved
        assert set(item.invitations.values_list("agency_id", flat=True)) <= involved


def test_the_action_log_has_done_open_overdue_and_dropped_actions(seeded):
    today = timezone.localdate()
    actions = Action.objects.all()
    assert actions.count() >= 1000
    assert actions.filter(status=Action.Status.DONE, completed_on__isnull=False).count() > 500
    assert actions.filter(status__in=Action.OPEN_STATES, due_on__lt=today).exists()
    assert actions.filter(status=Action.Status.DROPPED).exclude(status_reason="").exists()
    for action in actions.select_related("owner", "item")[:300]:
        assert action.owner.agency_id == action.owner_agency_id
        assert action.item is None or action.item.meeting_id == action.meeting_id


# --- the rules the product relies on ------------------------------------------------------


def test_every_visibility_row_mirrors_a_permission_and_current_consent(seeded):
    rows = CaseVisibility.objects.filter(case__in=seeded.scale_cases()).select_related("agency")
    permissions = set(
        CaseGroupObjectPermission.objects.filter(permission__codename="view_case").values_list(
            "group_id", "content_object_id"
        )
    )
    assert rows.count() > PEOPLE
    for row in rows:
        assert (row.agency.group_id, row.case_id) in permissions
        assert row.person_id == Case.objects.get(pk=row.case_id).person_id
        assert access.coverage_window(
            person_id=row.person_id, agency_id=row.agency_id, use=access.Use.CARE_COORDINATION
        ) == (row.covered_from, row.covered_until)


def test_involvement_permissions_and_visibility_agree(seeded):
    involved = set(
        CaseAgency.objects.filter(case__in=seeded.scale_cases(), left_at__isnull=True).values_list(
            "agency__group_id", "case_id", "agency_id", "case__person_id"
        )
    )
    permissions = set(
        CaseGroupObjectPermission.objects.filter(
            content_object__in=seeded.scale_cases()
        ).values_list("group_id", "content_object_id")
    )
    assert {(g, c) for g, c, _, _ in involved} == permissions
    visible = set(CaseVisibility.objects.values_list("agency_id", "case_id"))
    uncovered = 0
    for _, case_id, agency_id, person_id in involved:
        covered = (
            access.coverage_until(
                person_id=person_id, agency_id=agency_id, use=access.Use.CARE_COORDINATION
            )
            is not None
        )
        assert covered == ((agency_id, case_id) in visible)
        uncovered += not covered
    # Some consent was withdrawn or has lapsed: then the agency sees nothing.
    assert 0 < uncovered < len(involved) / 3
    assert ConsentRecord.objects.filter(withdrawn_at__isnull=False).exists()


def test_the_police_see_exactly_the_cases_their_list_shows(seeded):
    police = User.objects.get(username="police")
    listed = set(access.cases_visible_to(user=police).values_list("pk", flat=True))
    sample = list(seeded.scale_cases().order_by("pk")[:60])
    sample += list(
        seeded.scale_cases().filter(involvements__agency__slug="police").order_by("-pk")[:40]
    )
    seen = [access.can_view_case(police, case) for case in sample]
    assert seen == [case.pk in listed for case in sample]
    assert any(seen) and not all(seen)
    assert len(listed & {c.pk for c in sample}) >= 10


def test_risk_owners_are_involved_and_high_risks_are_shared(seeded):
    involved = set(
        CaseAgency.objects.filter(left_at__isnull=True).values_list("case_id", "agency_id")
    )
    owners = RiskOwner.objects.filter(risk__case__in=seeded.scale_cases(), ended_at__isnull=True)
    assert owners.count() >= PEOPLE
    for case_id, agency_id in owners.values_list("risk__case_id", "agency_id"):
        assert (case_id, agency_id) in involved
    high = Risk.objects.filter(
        case__in=seeded.scale_cases(), level_at_referral__in=["high", "very_high"]
    ).annotate(n=Count("owners", filter=Q(owners__ended_at__isnull=True)))
    assert high.count() >= PEOPLE / 2
    assert not high.filter(n__lt=2).exists()


def test_care_plans_are_numbered_versions_with_at_most_one_draft(seeded):
    plans = CarePlan.objects.filter(case__in=seeded.scale_cases())
    assert plans.count() >= PEOPLE / 2
    by_case: dict[Any, list[CarePlan]] = {}
    for plan in plans.order_by("version"):
        by_case.setdefault(plan.case_id, []).append(plan)
    for versions in by_case.values():
        assert [p.version for p in versions] == list(range(1, len(versions) + 1))
        states = [p.state for p in versions]
        assert states.count(CarePlan.State.DRAFT) <= 1
        assert states.count(CarePlan.State.AGREED) <= 1
        agreed = [p for p in versions if p.state != CarePlan.State.DRAFT]
        assert all(p.agreed_meeting_id and p.agreed_by_id for p in agreed)
    involved = set(CaseAgency.objects.values_list("case_id", "agency_id"))
    for case_id, agency_id in CarePlanItem.objects.filter(plan__in=plans).values_list(
        "plan__case_id", "agency_id"
    ):
        assert (case_id, agency_id) in involved


def test_the_gp_practice_is_in_no_case(seeded):
    gp = Agency.objects.get(slug="gp")
    assert not CaseAgency.objects.filter(agency=gp).exists()
    assert not CaseGroupObjectPermission.objects.filter(group=gp.group).exists()
    assert not CaseVisibility.objects.filter(agency=gp).exists()
    assert not RiskOwner.objects.filter(agency=gp).exists()
    assert not Invitation.objects.filter(agency=gp).exists()
    assert not access.cases_visible_to(user=User.objects.get(username="gp")).exists()


def test_nhs_numbers_are_valid_fictional_and_unique(seeded):
    from cases.validators import nhs_number_is_valid

    numbers = list(
        Person.objects.exclude(pk__in=seeded.demo_people)
        .exclude(nhs_number="")
        .values_list("nhs_number", flat=True)
    )
    assert len(numbers) >= 0.8 * PEOPLE
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("999") and nhs_number_is_valid(n) for n in numbers)


# --- what the benchmarks read ------------------------------------------------------------


def test_the_chairs_triage_queue_and_the_outcomes_dashboard_have_data(seeded):
    chair = User.objects.get(username="chair")
    assert referral_selectors.triage_queue(user=chair).count() >= 5
    today = timezone.localdate()
    figures = dashboard.figures(
        dashboard.Filters(start=today - datetime.timedelta(days=5 * 365), end=today)
    )
    flow, outcomes = figures["flow"], figures["outcomes"]
    assert flow["to_decision"]["n"] >= PEOPLE and flow["to_decision"]["median"] > 0
    assert flow["to_discussion"]["n"] >= 50
    assert flow["repeat"]["repeat"] > 0
    assert outcomes["before"]["people"] >= 50
    assert outcomes["after"]["police"] < outcomes["before"]["police"]
    assert outcomes["assessment"]["people"] >= 50 and outcomes["assessment"]["improved"] > 0
    assert outcomes["risk"]["reduced"] > outcomes["risk"]["increased"] > 0
    assert outcomes["housing"]["housed"] > 0 and outcomes["housing"]["avoidable"] > 0
    assert OutcomeReview.objects.filter(bnb_nights__gt=0).exists()
    assert (
        Assessment.objects.filter(
            person__in=Person.objects.exclude(pk__in=seeded.demo_people)
        ).count()
        >= PEOPLE
    )


def test_it_reports_progress_and_is_quick(seeded):
    assert "people: 200 of 200" in seeded.output
    assert "City-scale data ready" in seeded.output
    assert "cases.CaseVisibility:" in seeded.output
    assert seeded.seconds < 60  # bulk writes: seconds, beyond the demo city itself


# --- refusing -------------------------------------------------------------------------------


def test_a_second_scale_run_refuses_and_adds_nothing(seeded):
    assert scale_data_present()
    before = _counts()
    with override_settings(DEMO_MODE=True), pytest.raises(CommandError, match="already has"):
        call_command("seed_demo", "--scale", "50", stdout=io.StringIO())
    assert _counts() == before


def test_it_refuses_outside_demo_mode(seeded):
    before = _counts()
    with override_settings(DEMO_MODE=False), pytest.raises(CommandError, match="CSF_DEMO_MODE"):
        call_command("seed_demo", "--scale", "50", stdout=io.StringIO())
    assert _counts() == before
