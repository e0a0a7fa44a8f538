"""The demo city's referrals, built by ``manage.py seed_demo``.

The city is built once for the module (it takes a while) inside a transaction
that is rolled back at the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from access import can_view_case
from cases.models import Case, CaseVisibility, Person
from cases.validators import nhs_number_is_valid
from csf_portal.models import Notification, User
from demo.referrals import demo_nhs_numbers
from referrals.models import Referral, ReferralRisk
from referrals.selectors import referral_list_for, triage_queue

pytestmark = [pytest.mark.django_db, pytest.mark.dates, pytest.mark.xdist_group("demo_city")]

S = Referral.State


def _snapshot() -> dict[str, int]:
    return {
        "referrals": Referral.objects.count(),
        "people": Person.objects.count(),
        "cases": Case.objects.count(),
        "visibility": CaseVisibility.objects.count(),
        "risks": ReferralRisk.objects.count(),
        "users": User.objects.count(),
        "notifications": Notification.objects.count(),
        "referral history": Referral.history.count(),
        "risk history": ReferralRisk.history.count(),
        "person history": Person.history.count(),
        "case history": Case.history.count(),
        "user history": User.history.count(),
    }


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    assert before["referrals"] >= 50
    assert before["people"] >= 40
    call_command("seed_demo", verbosity=0)
    assert _snapshot() == before


def test_cases_are_visible_to_the_referrers_but_not_the_gp_practice(seeded):
    accepted = Referral.objects.filter(state=S.ACCEPTED).select_related(
        "case", "referrer", "referring_agency"
    )
    assert accepted.count() >= 40
    for referral in accepted:
        assert referral.case is not None
        assert referral.person_id == referral.case.person_id
        assert can_view_case(referral.referrer, referral.case)
        assert CaseVisibility.objects.filter(
            agency=referral.referring_agency, case=referral.case
        ).exists()

    gp = User.objects.get(username="gp")
    assert gp.agency is not None
    assert not CaseVisibility.objects.filter(agency=gp.agency).exists()
    assert not Referral.objects.filter(referrer=gp).exists()
    assert not Referral.objects.filter(referring_agency=gp.agency).exists()
    assert not Referral.objects.filter(services_involved=gp.agency).exists()
    assert not Referral.objects.filter(sharing_agencies=gp.agency).exists()


def test_every_state_the_triage_queue_and_repeat_referrals_are_shown(seeded):
    states = set(Referral.objects.values_list("state", flat=True))
    assert states == {S.DRAFT, S.SUBMITTED, S.ACCEPTED, S.REDIRECTED, S.DECLINED, S.WITHDRAWN}
    redirected = Referral.objects.filter(state=S.REDIRECTED)
    assert redirected.filter(
        redirect_destination=Referral.RedirectDestination.PRACTITIONER_FORUM
    ).exists()
    for username in ("police", "hostel"):
        user = User.objects.get(username=username)
        assert referral_list_for(user=user).filter(state=S.DRAFT).exists()

    chair = User.objects.get(username="chair")
    queue = list(triage_queue(user=chair))
    assert 4 <= len(queue) <= 6
    assert any(r.has_earlier for r in queue)
    kate = next(r for r in queue if r.given_name == "Kate")
    assert kate.has_earlier
    assert kate.person_id is None

    reopened = Case.objects.filter(times_reopened__gte=1)
    assert reopened.exists()
    for case in reopened:
        assert case.state == Case.State.AWAITING_FORUM
        assert case.referrals.filter(is_repeat=True, state=S.ACCEPTED).exists()
        assert case.history.filter(state=Case.State.CLOSED).exists()
    assert Case.objects.filter(state=Case.State.CLOSED).exclude(closure_outcome="").exists()


def test_the_cohort_is_varied_fictional_and_spread_over_the_past_year(seeded):
    now = timezone.now()
    submitted = Referral.objects.exclude(state=S.DRAFT)
    assert not submitted.filter(submitted_at__isnull=True).exists()
    assert not submitted.filter(submitted_at__gt=now).exists()
    earliest = min(submitted.values_list("submitted_at", flat=True))
    assert (now - earliest).days > 300
    for referral in Referral.objects.filter(decided_at__isnull=False):
        assert referral.created_at <= referral.submitted_at < referral.decided_at <= now
        history = {row.state: row.history_date for row in referral.history.order_by("history_date")}
        assert history[S.SUBMITTED] == referral.submitted_at
        assert history[referral.state] == referral.decided_at

    people = Person.objects.all()
    genders = {g: people.filter(gender=g).count() for g in ("woman", "man")}
    assert min(genders.values()) >= 15
    for person in people.exclude(nhs_number=""):
        assert nhs_number_is_valid(person.nhs_number)
        assert person.nhs_number.startswith("999")
    assert people.filter(nhs_number="").exists()
    referrers = set(
        Referral.objects.exclude(state=S.DRAFT).values_list("referring_agency__slug", flat=True)
    )
    assert {"police", "hostel", "mental-health", "housing", "substance-misuse"} <= referrers
    assert len(referrers) >= 10
    accepted = Referral.objects.filter(state=S.ACCEPTED, is_repeat=False)
    high = accepted.filter(risks__level__in=["high", "very_high"]).distinct().count()
    assert high >= accepted.count() * 0.85


def test_demo_nhs_numbers_are_valid_and_distinct():
    numbers = demo_nhs_numbers(60)
    assert len(set(numbers)) == 60
    assert all(nhs_number_is_valid(n) and n.startswith("999") for n in numbers)
