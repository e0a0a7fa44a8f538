"""The oracle can fail: break one rule of the real code at a time (monkeypatched, for
this test only) and the comparison with the spec finds a difference in the fixed
examples; unbroken, it finds none."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import access
from consent.models import ConsentQuerySet, SharingBasis, SharingBasisQuerySet
from csf_portal.models import Role
from tests.access_oracle import spec
from tests.access_oracle.compare import compare
from tests.access_oracle.examples import EXAMPLES, SIGHTS
from tests.access_oracle.world import snapshot

pytestmark = pytest.mark.django_db


def differences(*, pages: bool = False, first: bool = False) -> list[str]:
    """The differences over the fixed examples, each in its own rolled-back transaction
    (``first``: those of the first example that has any)."""
    found: list[str] = []
    for name, plan in EXAMPLES.items():
        with transaction.atomic():
            found += [f"[{name}] {d}" for d in compare(plan, pages=pages)]
            transaction.set_rollback(True)
        if found and first:
            break
    return found


# --- the bugs ---------------------------------------------------------------------------


def ignore_purposes(monkeypatch):
    monkeypatch.setattr(access, "consent_covers_use", lambda purposes, use: True)


def let_inactive_agencies_through(monkeypatch):
    monkeypatch.setattr(
        access,
        "_active",
        lambda user: user is not None and user.is_authenticated and user.is_active,
    )


def _meeting_items(*, check_ends: bool = True, check_left: bool = True):
    """``access.meeting_items_open_to`` with one of its conditions left out."""
    from forums.models import AgendaItem, Meeting

    def meeting_items_open_to(user, *, now=None):
        agency = access._case_agency(user)
        if agency is None:
            return AgendaItem.objects.none()
        now = now or timezone.now()
        member = Q(meeting__forum__memberships__user=user)
        if check_left:
            member &= Q(meeting__forum__memberships__left_on__isnull=True)
        items = AgendaItem.objects.filter(
            member | Q(invitations__agency=agency),
            case__isnull=False,
            meeting__state__in=[Meeting.State.AGENDA_PUBLISHED, Meeting.State.HELD],
            meeting__agenda_published_at__lte=now,
        )
        return items.filter(meeting__access_ends_at__gte=now) if check_ends else items

    return meeting_items_open_to


def ignore_access_ends_at(monkeypatch):
    monkeypatch.setattr(access, "meeting_items_open_to", _meeting_items(check_ends=False))


def keep_members_who_left(monkeypatch):
    monkeypatch.setattr(access, "meeting_items_open_to", _meeting_items(check_left=False))


def count_pending_sharing_bases(monkeypatch):
    def current_or_future(self, today=None):
        today = today or timezone.localdate()
        return self.filter(
            status__in=[SharingBasis.Status.APPROVED, SharingBasis.Status.PENDING],
            ended_at__isnull=True,
            ends_on__gte=today,
        )

    monkeypatch.setattr(SharingBasisQuerySet, "current_or_future", current_or_future)


def ignore_consent_withdrawal(monkeypatch):
    def current_or_future(self, today=None):
        return self.filter(review_date__gte=today or timezone.localdate())

    monkeypatch.setattr(ConsentQuerySet, "current_or_future", current_or_future)


def _case_agency_letting_through(role: Role):
    def _case_agency(user):
        if not access._active(user) or user.agency_id is None:
            return None
        others = {Role.COMMISSIONER, Role.ADMINISTRATOR} - {role}
        if any(access.has_role(user, r) for r in others):
            return None
        return user.agency

    return _case_agency


def let_administrators_through(monkeypatch):
    monkeypatch.setattr(access, "_case_agency", _case_agency_letting_through(Role.ADMINISTRATOR))


def let_commissioners_through(monkeypatch):
    monkeypatch.setattr(access, "_case_agency", _case_agency_letting_through(Role.COMMISSIONER))


def ignore_break_glass_expiry(monkeypatch):
    from cases.models import BreakGlassAccess

    def break_glass_active(user, *, case=None, person=None):
        if not access.can_request_emergency_access(user):
            return None
        grants = BreakGlassAccess.objects.filter(user=user)
        if case is not None:
            grants = grants.filter(case=case)
        if person is not None:
            grants = grants.filter(case__person=person)
        return grants.first()

    monkeypatch.setattr(access, "break_glass_active", break_glass_active)


def bring_any_visible_case_to_the_forum(monkeypatch):
    """The agenda builder of before issue 19 door 2, narrowed only to what the user sees."""
    monkeypatch.setattr(
        access, "agenda_cases_for", lambda *, user, forum: access.cases_visible_to(user=user)
    )


def give_the_pack_to_whoever_sees_the_cases(monkeypatch):
    """The pack rule without its consent check for the meeting pack (ADR 0008)."""

    def can_have_meeting_pack(meeting, *, user, runs, case_ids, visible_case_ids):
        if meeting.state == meeting.State.PLANNED and not runs:
            return False
        return case_ids <= visible_case_ids

    monkeypatch.setattr(access, "can_have_meeting_pack", can_have_meeting_pack)


MUTANTS = [
    ignore_purposes,
    let_inactive_agencies_through,
    ignore_access_ends_at,
    keep_members_who_left,
    count_pending_sharing_bases,
    ignore_consent_withdrawal,
    let_administrators_through,
    let_commissioners_through,
    ignore_break_glass_expiry,
    bring_any_visible_case_to_the_forum,
    give_the_pack_to_whoever_sees_the_cases,
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.__name__)
def test_the_oracle_finds_a_rule_broken(mutant, monkeypatch):
    mutant(monkeypatch)
    assert differences(first=True), f"the oracle did not notice: {mutant.__name__}"


def test_unbroken_the_examples_agree_with_the_spec_pages_included():
    assert differences(pages=True) == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_spec_says_what_was_worked_out_by_hand(name):
    plan = EXAMPLES[name]
    seen = {k: set(s.cases) for k, s in spec.sights(snapshot(plan), plan.now).items() if s.cases}
    assert seen == SIGHTS[name]
