"""Who may see what: the one place that decides access to person-level data.

Every view and selector that shows a person or a case goes through this module.
The rules (DESIGN §4 rule 1):

* Access belongs to agencies, not to individuals: a user sees a case when their
  agency's group holds ``cases.view_case`` on it (a guardian object permission
  in a direct-foreign-key table: the agency is involved) **and** a current
  consent record or sharing basis of the person covers that agency. Withdrawal
  or expiry bites at once; the records are kept.
* It fails closed: anonymous or inactive users, users with no agency, and
  commissioners see nothing. Superuser status and global (model-level)
  permissions never widen access to case data - checks are made against the
  agency's group, never through ``User.has_perm``.
* Lists are filtered in one indexed query through ``CaseVisibility``, which is
  written in the same transaction as the guardian permission it mirrors.
* Anything a user may not see is a 404, exactly as if it did not exist.
"""

from __future__ import annotations

import contextvars
import datetime
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from csf_portal.authz import active as _active
from csf_portal.authz import roles_of as roles_of
from csf_portal.models import AccessEvent, Agency, Role, User
from csf_portal.roles import CASE_BEARING_ROLES as CASE_BEARING_ROLES

if TYPE_CHECKING:
    from cases.models import BreakGlassAccess, Case, CaseAgency, Person, Risk
    from consent.models import ConsentRecord, SharingBasis
    from forums.models import AgendaItem, Forum, ForumDecision
    from referrals.models import Referral

VIEW_CASE = "view_case"
_VIEW_CASE_PERM = f"cases.{VIEW_CASE}"


def has_role(user: User, role: Role) -> bool:
    """Role membership from the user's groups: superuser status never counts."""
    return role.value in roles_of(user)


def _case_agency(user: User) -> Agency | None:
    """The agency whose access the user acts with, or None (fail closed).

    None for a user with no agency, a deactivated agency, a commissioner (aggregate,
    de-identified data only) and an administrator (never case content, DESIGN §2).
    """
    if not _active(user) or user.agency_id is None:
        return None
    if has_role(user, Role.COMMISSIONER) or has_role(user, Role.ADMINISTRATOR):
        return None
    # A deactivated agency's staff see nothing, at once, lists included (``_active``).
    return user.agency


# --- coverage: consent or another lawful basis (DESIGN §4 rules 1 and 3) -------


class Use(models.TextChoices):
    """What person-level data is being used for (ADR 0008): consent covers a use only
    if it was given for a purpose that covers that use."""

    CARE_COORDINATION = "care_coordination", "Care coordination by an involved agency"
    FORUM_DISCUSSION = "forum_discussion", "Discussion of the case at a forum meeting"
    MEETING_PACK = "meeting_pack", "The meeting pack"
    OUTCOME_REPORTING = "outcome_reporting", "De-identified outcome reporting"


# ConsentPurpose values (consent.models) that cover each use (ADR 0008). A recorded
# sharing basis covers every personal-data use. Outcome reporting has none: it uses
# only de-identified, suppressed aggregates and never asks about coverage.
PURPOSES_FOR_USE: dict[Use, frozenset[str]] = {
    Use.CARE_COORDINATION: frozenset({"care_planning", "safeguarding"}),
    Use.FORUM_DISCUSSION: frozenset({"referral", "safeguarding"}),
    Use.MEETING_PACK: frozenset({"referral", "safeguarding"}),
}


def consent_covers_use(purposes: Iterable[str] | None, use: Use) -> bool:
    """Whether consent given for ``purposes`` covers ``use``."""
    if use not in PURPOSES_FOR_USE:
        raise ValueError(f"{use!r} is not a use of personal data: it needs no coverage")
    return bool(PURPOSES_FOR_USE[use] & set(purposes or ()))


#: (person, all member agencies, named agency, from, until): one consent or sharing basis.
Coverage = tuple[uuid.UUID, bool, int | None, datetime.date, datetime.date]


def _coverages(
    *, person_ids: Iterable[uuid.UUID], use: Use, today: datetime.date, upcoming: bool = False
) -> list[Coverage]:
    """(person, all members, named agency, from, until) of every current consent and
    sharing basis of these people that covers ``use`` (2 queries). ``upcoming``: also
    those that start later.

    Purposes are a small JSON list, checked here in Python over the person's few
    records: the same on SQLite and PostgreSQL (JSON containment is not portable).
    """
    from consent.models import ConsentRecord, SharingBasis

    consents = ConsentRecord.objects.filter(person_id__in=person_ids)
    bases = SharingBasis.objects.filter(person_id__in=person_ids)
    if upcoming:
        consents, bases = consents.current_or_future(today), bases.current_or_future(today)
    else:
        consents, bases = consents.current(today), bases.current(today)
    rows: list[Coverage] = [
        (person_id, all_members, agency_id, since, until)
        for person_id, all_members, agency_id, since, until, purposes in consents.values_list(
            "person_id", "all_member_agencies", "agencies", "given_on", "review_date", "purposes"
        )
        if consent_covers_use(purposes, use)
    ]
    rows += list(
        bases.values_list("person_id", "all_member_agencies", "agencies", "starts_on", "ends_on")
    )
    return rows


def _window(
    rows: Iterable[Coverage], agency_id: int, today: datetime.date
) -> tuple[datetime.date, datetime.date] | None:
    """The stretch of days, from the first that is today or later, that coverage runs
    without a break: (from, until), or None."""
    spans = sorted(
        (since, until)
        for _, everyone, named, since, until in rows
        if everyone or named == agency_id
    )
    window: tuple[datetime.date, datetime.date] | None = None
    for since, until in spans:
        if until < today:
            continue
        if window is None:
            window = (since, until)
        elif since <= window[1] + datetime.timedelta(days=1):
            window = (window[0], max(window[1], until))
        else:
            break
    return window


def coverage_window(
    *, person_id: uuid.UUID, agency_id: int, use: Use, today: datetime.date | None = None
) -> tuple[datetime.date, datetime.date] | None:
    """(first day, last day) of the unbroken coverage of the agency for ``use`` that is
    current, or failing that the next one to start; None if there is none."""
    today = today or timezone.localdate()
    rows = _coverages(person_ids=[person_id], use=use, today=today, upcoming=True)
    return _window(rows, agency_id, today)


def coverage_until(
    *, person_id: uuid.UUID, agency_id: int, use: Use, today: datetime.date | None = None
) -> datetime.date | None:
    """Last day consent or a sharing basis covers the agency for ``use`` without a
    break from today; None if none covers it today."""
    today = today or timezone.localdate()
    window = coverage_window(person_id=person_id, agency_id=agency_id, use=use, today=today)
    if window is None or window[0] > today:
        return None
    return window[1]


def people_covered(
    *,
    person_ids: Iterable[uuid.UUID],
    agency_id: int,
    use: Use,
    today: datetime.date | None = None,
) -> set[uuid.UUID]:
    """Which of these people a current consent or sharing basis covers for the agency and use."""
    ids = set(person_ids)
    if not ids:
        return set()
    today = today or timezone.localdate()
    return {
        person_id
        for person_id, everyone, named, _, _ in _coverages(person_ids=ids, use=use, today=today)
        if everyone or named == agency_id
    }


def covered_pairs(
    pairs: Iterable[tuple[uuid.UUID, int]], *, use: Use, today: datetime.date | None = None
) -> set[tuple[uuid.UUID, int]]:
    """Which (person, agency) pairs a current consent or sharing basis covers for ``use``
    (2 queries)."""
    wanted = set(pairs)
    if not wanted:
        return set()
    today = today or timezone.localdate()
    people = {p for p, _ in wanted}
    everyone: set[uuid.UUID] = set()
    named: set[tuple[uuid.UUID, int]] = set()
    for person_id, all_members, agency_id, _, _ in _coverages(
        person_ids=people, use=use, today=today
    ):
        if all_members:
            everyone.add(person_id)
        if agency_id is not None:
            named.add((person_id, agency_id))
    return {(p, a) for p, a in wanted if p in everyone or (p, a) in named}


def _involved_agencies(case: Case) -> QuerySet[Agency]:
    from cases.models import CaseGroupObjectPermission

    groups = CaseGroupObjectPermission.objects.filter(
        content_object=case, permission__codename=VIEW_CASE
    ).values("group_id")
    return Agency.objects.filter(group_id__in=groups)


def _refresh_visibility(case: Case, agencies: Iterable[Agency]) -> None:
    """Write each agency's list row: the window its coverage for care coordination runs.

    A window that starts later is stored too (``covered_from``), so a future-dated
    basis enters the list on its first day with no write on that day; lists filter
    ``covered_from <= today <= covered_until``. When a window ends and another starts
    after a gap, ``case_visibility_roll`` (nightly) moves the row on.
    """
    from cases.models import CaseVisibility

    today = timezone.localdate()
    rows = _coverages(
        person_ids=[case.person_id], use=Use.CARE_COORDINATION, today=today, upcoming=True
    )
    for agency in agencies:
        window = _window(rows, agency.pk, today)
        if window is None:
            CaseVisibility.objects.filter(agency=agency, case=case).delete()
            continue
        since, until = window
        row, created = CaseVisibility.objects.get_or_create(
            agency=agency,
            case=case,
            defaults={
                "person_id": case.person_id,
                "last_activity_at": timezone.now(),
                "covered_from": since,
                "covered_until": until,
            },
        )
        if not created and (row.covered_from, row.covered_until) != (since, until):
            row.covered_from, row.covered_until = since, until
            row.save(update_fields=["covered_from", "covered_until"])


def person_visibility_refresh(*, person: Person) -> None:
    """Recompute the list index of every case of the person.

    Called in the same transaction as any change to consent, sharing bases or
    involvement, so withdrawal removes access from lists at once.
    """
    from cases.models import CaseVisibility

    for case in person.cases.all():
        agencies = list(_involved_agencies(case))
        CaseVisibility.objects.filter(case=case).exclude(agency__in=agencies).delete()
        _refresh_visibility(case, agencies)


#: Fields of a consent record or sharing basis that say nothing about who is covered: a
#: write of only these leaves every list as it was.
_SHARING_BOOKKEEPING = frozenset(
    {"review_reminder_sent_on", "lapse_reminder_sent_on", "updated_at"}
)

_sharing_write: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sharing_write", default=False
)


def sharing_write(
    record: ConsentRecord | SharingBasis,
    *,
    actor: User,
    agencies: Iterable[Agency] | None = None,
    update_fields: list[str] | None = None,
) -> None:
    """Save a consent record or sharing basis (with its agencies) and who can see the person.

    The one way either is written: the person's list rows are recomputed in the same
    transaction, so a withdrawal or an ended basis takes a case off lists at once and an
    approval puts it on, with no caller left to remember it. The suite refuses a save of
    either model anywhere else (``tests/visibility_guard.py``).
    """
    from csf_portal.history import acting_as

    token = _sharing_write.set(True)
    try:
        with transaction.atomic(), acting_as(actor):
            record.save(update_fields=update_fields)
            if agencies is not None:
                record.agencies.set(agencies)
            if update_fields is None or not set(update_fields) <= _SHARING_BOOKKEEPING:
                person_visibility_refresh(person=record.person)
    finally:
        _sharing_write.reset(token)


def sharing_write_open() -> bool:
    """Whether the current code runs inside :func:`sharing_write` (for the suite's guard)."""
    return _sharing_write.get()


def case_visibility_roll(*, today: datetime.date | None = None) -> int:
    """Nightly: recompute the rows whose coverage window has ended (idempotent).

    The row is deleted, or moved on to the next window if another consent or basis
    starts after a gap. Returns how many people were looked at.
    """
    from cases.models import CaseVisibility, Person

    today = today or timezone.localdate()
    ids = set(
        CaseVisibility.objects.filter(covered_until__lt=today).values_list("person_id", flat=True)
    )
    for person in Person.objects.filter(pk__in=ids):
        person_visibility_refresh(person=person)
    return len(ids)


# --- granting and revoking involvement (called by services, in their transactions) ---


def case_access_grant(*, agency: Agency, case: Case) -> None:
    """Record that ``agency`` is involved in ``case``. Idempotent.

    The agency sees the case only while consent or a sharing basis covers it.
    """
    with transaction.atomic():
        assign_perm(_VIEW_CASE_PERM, agency.group, case)
        _refresh_visibility(case, [agency])


def case_access_revoke(*, agency: Agency, case: Case) -> None:
    """End ``agency``'s involvement in ``case``. The records themselves are kept."""
    from cases.models import CaseVisibility

    with transaction.atomic():
        remove_perm(_VIEW_CASE_PERM, agency.group, case)
        CaseVisibility.objects.filter(agency=agency, case=case).delete()


def case_activity_touch_person(*, person: Person) -> None:
    """Something happened to the person: their cases move up every agency's list."""
    from cases.models import CaseVisibility

    CaseVisibility.objects.filter(person=person).update(last_activity_at=timezone.now())


def case_activity_touch(*, case: Case) -> None:
    """Move a case to the top of every agency's list (something happened on it)."""
    from cases.models import CaseVisibility

    CaseVisibility.objects.filter(case=case).update(last_activity_at=timezone.now())


# --- predicates -------------------------------------------------------------


def is_involved(user: User, case: Case) -> bool:
    """The user's agency is involved in the case (whatever consent says)."""
    from cases.models import CaseGroupObjectPermission

    agency = _case_agency(user)
    if agency is None:
        return False
    # guardian's direct-FK table, read in one indexed query (no group or
    # content-type lookups first: this runs on every case page).
    return CaseGroupObjectPermission.objects.filter(
        group_id=agency.group_id, content_object=case, permission__codename=VIEW_CASE
    ).exists()


def is_involved_with_person(user: User, person: Person) -> bool:
    from cases.models import CaseGroupObjectPermission

    agency = _case_agency(user)
    if agency is None:
        return False
    return CaseGroupObjectPermission.objects.filter(
        group_id=agency.group_id, content_object__person=person, permission__codename=VIEW_CASE
    ).exists()


def can_request_emergency_access(user: User) -> bool:
    """Who may break glass: an active practitioner of a member agency (never a commissioner).

    Everyone else gets a 404 from the emergency-access page and is not offered the link.
    """
    return _case_agency(user) is not None and has_role(user, Role.PRACTITIONER)


def break_glass_active(
    user: User, *, case: Case | None = None, person: Person | None = None
) -> BreakGlassAccess | None:
    """The user's unexpired emergency access to this case (or any case of this person)."""
    from cases.models import BreakGlassAccess

    if not can_request_emergency_access(user):
        return None
    active = BreakGlassAccess.objects.filter(user=user, expires_at__gt=timezone.now())
    if case is not None:
        active = active.filter(case=case)
    if person is not None:
        active = active.filter(case__person=person)
    return active.order_by("-expires_at").first()


def meeting_items_open_to(
    user: User, *, now: datetime.datetime | None = None
) -> QuerySet[AgendaItem]:
    """Agenda items whose case the user may see because of a meeting, right now.

    A standing member of the forum (named person) or an agency invited to that
    item sees the case from the agenda's publication until the meeting's access
    window ends; afterwards the access is gone by itself. Consent or another
    basis must still cover the user's agency (checked by the callers).
    """
    from django.db.models import Q

    from forums.models import AgendaItem, ForumMembership, Meeting

    agency = _case_agency(user)
    if agency is None:
        return AgendaItem.objects.none()
    now = now or timezone.now()
    member = Q(meeting__forum__memberships__user=user) & ForumMembership.sitting(
        timezone.localdate(now), prefix="meeting__forum__memberships__"
    )
    return AgendaItem.objects.filter(
        member | Q(invitations__agency=agency),
        case__isnull=False,
        meeting__state__in=[Meeting.State.AGENDA_PUBLISHED, Meeting.State.HELD],
        meeting__agenda_published_at__lte=now,
        meeting__access_ends_at__gte=now,
    )


def has_meeting_access(
    user: User, *, case: Case | None = None, person: Person | None = None
) -> bool:
    items = meeting_items_open_to(user)
    if case is not None:
        items = items.filter(case=case)
    if person is not None:
        items = items.filter(case__person=person)
    return items.exists()


def can_view_case(user: User, case: Case, *, involved: bool | None = None) -> bool:
    """Involved (or on the agenda of a meeting the user attends) and covered; or in an emergency.

    ``involved``: what ``is_involved(user, case)`` has just answered, if the caller asked.
    """
    if involved is None:
        involved = is_involved(user, case)
    if involved and _covered(case.person_id, user, Use.CARE_COORDINATION):
        return True
    if has_meeting_access(user, case=case) and _covered(case.person_id, user, Use.FORUM_DISCUSSION):
        return True
    return break_glass_active(user, case=case) is not None


def can_view_person(user: User, person: Person) -> bool:
    if is_involved_with_person(user, person) and _covered(person.pk, user, Use.CARE_COORDINATION):
        return True
    if has_meeting_access(user, person=person) and _covered(person.pk, user, Use.FORUM_DISCUSSION):
        return True
    return break_glass_active(user, person=person) is not None


def can_contribute_to_case(user: User, case: Case) -> bool:
    """Adding to a case (risks, plans, reviews) needs involvement: emergency or meeting-time
    access is for reading only."""
    return is_involved(user, case) and can_view_case(user, case)


def can_agree_risk_closure(user: User, risk: Risk) -> bool:
    """An open risk closes without the forum only when each agency that owns it agrees:
    a person of an owning agency, involved and able to see the case, gives its agreement."""
    from cases.models import Risk, RiskOwner

    return (
        risk.status == Risk.Status.OPEN
        and user.agency_id is not None
        and RiskOwner.objects.filter(
            risk=risk, agency_id=user.agency_id, ended_at__isnull=True
        ).exists()
        and can_contribute_to_case(user, risk.case)
    )


def can_reopen_risk(user: User, risk: Risk) -> bool:
    """Reopening a closed risk is the safe direction: anyone whose agency is involved may."""
    from cases.models import Risk

    return risk.status == Risk.Status.CLOSED and can_contribute_to_case(user, risk.case)


def named_worker_agency_ids(user: User, case: Case) -> set[int]:
    """The agencies whose named worker and crisis contacts on ``case`` the user may change.

    An agency keeps its own current: a person of that agency who works on the case changes
    them. A forum chair who can see the case may change any involved agency's (for an
    agency with no one in the portal yet). Asked once for a whole case page."""
    if can_record_forum_decisions(user) and can_view_case(user, case):
        return set(
            case.involvements.filter(left_at__isnull=True).values_list("agency_id", flat=True)
        )
    if user.agency_id is not None and can_contribute_to_case(user, case):
        return {user.agency_id}
    return set()


def can_change_named_worker(user: User, involvement: CaseAgency) -> bool:
    """``named_worker_agency_ids`` for one involvement; never once the agency has left."""
    return involvement.left_at is None and involvement.agency_id in named_worker_agency_ids(
        user, involvement.case
    )


def named_workers_for(*, involvement: CaseAgency) -> QuerySet[User]:
    """Who may be an agency's named worker on a case: its active staff who work with people
    (never a commissioner or an administrator), by name."""
    return (
        User.objects.filter(is_active=True, agency_id=involvement.agency_id)
        .exclude(groups__name__in=[Role.COMMISSIONER, Role.ADMINISTRATOR])
        .order_by("last_name", "first_name")
    )


def can_be_named_worker(user: User, involvement: CaseAgency) -> bool:
    """``named_workers_for``, and able to see the case (consent covers their agency)."""
    return named_workers_for(involvement=involvement).filter(pk=user.pk).exists() and (
        can_view_case(user, involvement.case)
    )


def _covered(person_id: uuid.UUID, user: User, use: Use) -> bool:
    if user.agency_id is None:
        return False
    return coverage_until(person_id=person_id, agency_id=user.agency_id, use=use) is not None


def case_ids_visible_among(*, user: User, case_ids: Iterable[uuid.UUID | None]) -> set[uuid.UUID]:
    """Which of these cases the user may see now, in a fixed number of queries.

    For pages that mention many cases (agendas, action logs, system issues).
    """
    ids = {i for i in case_ids if i is not None}
    agency = _case_agency(user)
    if not ids or agency is None:
        return set()
    from cases.models import Case

    visible = set(cases_visible_to(user=user).filter(pk__in=ids).values_list("pk", flat=True))
    rest = ids - visible
    if rest:
        via_meeting = list(
            Case.objects.filter(pk__in=rest)
            .filter(pk__in=meeting_items_open_to(user).values("case_id"))
            .values_list("pk", "person_id")
        )
        covered = people_covered(
            person_ids=[p for _, p in via_meeting], agency_id=agency.pk, use=Use.FORUM_DISCUSSION
        )
        visible |= {case_id for case_id, person_id in via_meeting if person_id in covered}
    rest = ids - visible
    if rest and has_role(user, Role.PRACTITIONER):
        from cases.models import BreakGlassAccess

        visible |= set(
            BreakGlassAccess.objects.filter(
                user=user, case_id__in=rest, expires_at__gt=timezone.now()
            ).values_list("case_id", flat=True)
        )
    return visible


def can_record_consent(user: User, person: Person) -> bool:
    """Record or withdraw consent: an involved agency's practitioner, or a chair.

    Deliberately does not need current consent: recording it is how access returns.
    """
    if has_role(user, Role.FORUM_CHAIR):
        return True
    return has_role(user, Role.PRACTITIONER) and is_involved_with_person(user, person)


def can_approve_sharing_basis(user: User, basis: SharingBasis) -> bool:
    """Approve or refuse a request to share without consent: a forum chair, never the
    person who asked for it (a second pair of eyes, in their own session)."""
    return (
        has_role(user, Role.FORUM_CHAIR)
        and basis.requested_by_id != user.pk
        and basis.status == basis.Status.PENDING
    )


def can_view_referral(user: User, referral: Referral) -> bool:
    """The referrer, practitioner colleagues in the referring agency, and forum chairs."""
    if not _active(user) or has_role(user, Role.COMMISSIONER):
        return False
    if referral.referrer_id == user.pk:
        return True
    if has_role(user, Role.PRACTITIONER) and referral.referring_agency_id == user.agency_id:
        return True
    return has_role(user, Role.FORUM_CHAIR) and referral.state != referral.State.DRAFT


def can_act_as_referrer(user: User, referral: Referral) -> bool:
    """The referrer, or a practitioner colleague in the referring agency."""
    if not _active(user):
        return False
    if referral.referrer_id == user.pk:
        return True
    return has_role(user, Role.PRACTITIONER) and referral.referring_agency_id == user.agency_id


def can_edit_referral(user: User, referral: Referral) -> bool:
    """Change a draft, submit it, or withdraw before a decision."""
    return referral.is_open and can_act_as_referrer(user, referral)


def can_make_referral(user: User) -> bool:
    return (
        _active(user)
        and user.agency_id is not None
        and (has_role(user, Role.PRACTITIONER) or has_role(user, Role.FORUM_CHAIR))
    )


def can_triage_referrals(user: User) -> bool:
    return has_role(user, Role.FORUM_CHAIR)


def can_request_subject_access(user: User) -> bool:
    """Search for a person and export everything held about them: forum chairs only.

    The chair (adult safeguarding) answers subject access requests. Administrators
    never see case content (DESIGN §2), so an administrator may not, even one who
    somehow also holds the chair role; nor may a chair of a deactivated agency.
    """
    return has_role(user, Role.FORUM_CHAIR) and not has_role(user, Role.ADMINISTRATOR)


def can_view_role_changes(user: User) -> bool:
    """The log of role and agency changes: forum chairs, who answer for who sees cases."""
    return has_role(user, Role.FORUM_CHAIR)


def can_confirm_person_match(user: User, referral: Referral) -> bool:
    """Compare a submitted referral with people already known, and say who it is about.

    A forum chair, and only before the decision: after acceptance the choice is fixed.
    """
    return has_role(user, Role.FORUM_CHAIR) and referral.state == referral.State.SUBMITTED


def can_record_forum_decisions(user: User) -> bool:
    """Record on the case what the forum decided - its status, an agreed care plan, an
    agency joining or leaving - as the forum's chair: the forum chair role."""
    return has_role(user, Role.FORUM_CHAIR)


def can_review_emergency_access(user: User) -> bool:
    """Review emergency accesses after the event: forum chairs."""
    return has_role(user, Role.FORUM_CHAIR)


def can_decide_sharing_bases(user: User) -> bool:
    """Be shown requests to share without consent, to decide them: forum chairs (each
    request is then put to ``can_approve_sharing_basis``)."""
    return has_role(user, Role.FORUM_CHAIR)


def can_manage_standing_membership(user: User) -> bool:
    """Add or change forums' standing members: forum chairs and administrators (an
    administrator never their own membership: ``forums.services``)."""
    return has_role(user, Role.ADMINISTRATOR) or has_role(user, Role.FORUM_CHAIR)


def can_view_outcomes(user: User) -> bool:
    """The commissioners' dashboard and outcome exports (de-identified aggregates):
    commissioners, forum chairs and System Optimisation Group members."""
    return any(
        has_role(user, role) for role in (Role.COMMISSIONER, Role.FORUM_CHAIR, Role.SOG_MEMBER)
    )


# --- the forum's decisions: no hand-offs (DESIGN §4 rule 2, ADR 0004) ----------

#: Decisions that change who carries a case. Each belongs to the agenda item of that
#: case at a Creative Solutions Forum meeting that was held, and shows on its minutes.
CASE_DECISION_KINDS: frozenset[str] = frozenset(
    {"agency_leaves_case", "risk_owner_leaves", "risk_closed", "care_plan_agreed"}
)


def decision_items_for(*, case: Case, now: datetime.datetime | None = None) -> QuerySet[AgendaItem]:
    """The case's agenda items at which the forum's decision can be recorded now.

    Items of this case at Creative Solutions Forum meetings that have started, whose
    agenda was published (a meeting planned but never published was not held), and
    whose minutes are still open; the latest meeting first.
    """
    from forums.models import AgendaItem, Forum, Meeting

    now = now or timezone.now()
    return (
        AgendaItem.objects.filter(
            case=case,
            meeting__forum__kind=Forum.Kind.CSF,
            meeting__starts_at__lte=now,
            meeting__state__in=[Meeting.State.AGENDA_PUBLISHED, Meeting.State.HELD],
        )
        .select_related("meeting__forum")
        .order_by("-meeting__starts_at", "order")
    )


def forum_decision_allows(
    decision: ForumDecision | None,
    *,
    case: Case,
    kind: str,
    agency: Agency | None = None,
    risk: Risk | None = None,
) -> bool:
    """The one check of no hand-offs: does this recorded decision allow exactly this?

    An agency leaves a case, a risk loses its last owner and a care plan is agreed only
    by a decision of the Creative Solutions Forum of exactly that kind, case, agency and
    risk, recorded on the agenda item of that case at a meeting that had been held
    (agenda published, started) when it was decided. Read afresh from the database:
    the caller's copy proves nothing.
    """
    from forums.models import Forum, ForumDecision, Meeting

    if decision is None or kind not in CASE_DECISION_KINDS:
        return False
    found = (
        ForumDecision.objects.filter(pk=decision.pk)
        .select_related("item", "meeting__forum")
        .first()
    )
    if found is None or found.item is None:
        return False
    meeting = found.meeting
    return (
        found.kind == kind
        and found.case_id == case.pk
        and found.item.case_id == case.pk
        and found.item.meeting_id == meeting.pk
        and found.agency_id == (agency.pk if agency is not None else None)
        and found.risk_id == (risk.pk if risk is not None else None)
        and meeting.forum.kind == Forum.Kind.CSF
        and meeting.state != Meeting.State.PLANNED
        and meeting.starts_at <= found.decided_at
    )


# --- building an agenda (DESIGN §4 rules 1 and 3) -------------------------------


def agenda_cases_for(*, user: User, forum: Forum) -> QuerySet[Case]:
    """The cases the user may put on this forum's agenda: exactly those they may see
    (involved, covered for care coordination) whose consent or sharing basis also
    covers the user's agency for forum discussion. None for a forum that does not
    discuss people (the System Optimisation Group). (A closed case is refused by the
    agenda service and left out of the builder: that is the case's state, not need to
    know.)"""
    from cases.models import Case

    agency = _case_agency(user)
    if agency is None or not forum.discusses_cases:
        return Case.objects.none()
    visible = cases_visible_to(user=user)
    person_ids = set(visible.values_list("person_id", flat=True))
    discussable = people_covered(
        person_ids=person_ids, agency_id=agency.pk, use=Use.FORUM_DISCUSSION
    )
    return visible.filter(person_id__in=discussable)


def can_add_to_agenda(user: User, case: Case, forum: Forum) -> bool:
    """Whether this user may put this case on this forum's agenda (see ``agenda_cases_for``)."""
    return agenda_cases_for(user=user, forum=forum).filter(pk=case.pk).exists()


# --- forums: who runs them, actions, system issues, the meeting pack -------------

if TYPE_CHECKING:
    from forums.models import Action, AgendaItem, Forum, Meeting


def can_run_any_forum(user: User) -> bool:
    """Run every forum's meetings: the forum chair role (a standing chair runs only
    their own forum's: ``can_run_forum``)."""
    return has_role(user, Role.FORUM_CHAIR)


def forum_ids_sitting_in(user: User) -> set[int]:
    """The forums whose standing membership the user sits in today (SOG members sit in the
    SOG by their role). Read once per user object."""
    from forums.models import Forum, ForumMembership

    cached: set[int] | None = getattr(user, "_csf_forum_ids", None)
    if cached is None:
        cached = set(
            ForumMembership.objects.filter(
                ForumMembership.sitting(timezone.localdate()), user=user
            ).values_list("forum_id", flat=True)
        )
        if has_role(user, Role.SOG_MEMBER):
            cached |= set(Forum.objects.filter(kind=Forum.Kind.SOG).values_list("pk", flat=True))
        user._csf_forum_ids = cached  # type: ignore[attr-defined]
    return cached


def meetings_visible_to(*, user: User) -> QuerySet[Meeting]:
    """The meetings a user may see listed: every one for a forum chair; their forums' for
    sitting members; for invited agencies and presenters, the meetings whose agenda is
    published and has an item they are invited to or present."""
    from django.db.models import Q

    from forums.models import AgendaItem, Meeting

    if not _active(user):
        return Meeting.objects.none()
    meetings = Meeting.objects.select_related("forum", "chair")
    if can_run_any_forum(user):
        return meetings
    members = Q(forum_id__in=forum_ids_sitting_in(user))
    if user.agency_id is None or has_role(user, Role.COMMISSIONER):
        return meetings.filter(members)
    published = [Meeting.State.AGENDA_PUBLISHED, Meeting.State.HELD, Meeting.State.MINUTES_APPROVED]
    invited = Q(
        state__in=published,
        pk__in=AgendaItem.objects.filter(
            Q(invitations__agency_id=user.agency_id) | Q(presenter=user)
        ).values("meeting_id"),
    )
    return meetings.filter(members | invited)


def can_run_forum(user: User, forum: Forum) -> bool:
    """Run this forum's meetings (agenda, invitations, minutes, decisions, actions): the
    forum chair role, or the chair named in this forum's standing membership."""
    from forums.models import ForumMembership

    if can_run_any_forum(user):
        return True
    return ForumMembership.objects.filter(
        ForumMembership.sitting(timezone.localdate()),
        forum=forum,
        user=user,
        role=ForumMembership.Role.CHAIR,
    ).exists()


def can_work_system_issues(user: User) -> bool:
    """Raise and update system issues: forum chairs and System Optimisation Group members."""
    return has_role(user, Role.FORUM_CHAIR) or has_role(user, Role.SOG_MEMBER)


def can_view_system_issues(user: User) -> bool:
    """The system issues log: those who work it, and commissioners."""
    return can_work_system_issues(user) or has_role(user, Role.COMMISSIONER)


def can_view_action_log(user: User) -> bool:
    """The forums' action log: staff of an agency; a commissioner only if they also work
    system issues. (A case action says what it is only to those who may see the case.)"""
    if not getattr(user, "is_active", False) or user.agency_id is None:
        return False
    return not has_role(user, Role.COMMISSIONER) or can_work_system_issues(user)


def can_update_action(user: User, action: Action) -> bool:
    """Update an action's progress: its owner, a colleague in the owning agency (not a
    commissioner), or whoever runs the forum."""
    if not getattr(user, "is_active", False):
        return False
    if action.owner_id == user.pk or (
        user.agency_id is not None
        and action.owner_agency_id == user.agency_id
        and not has_role(user, Role.COMMISSIONER)
    ):
        return True
    return can_run_forum(user, action.forum)


def action_owners_for(*, item: AgendaItem) -> QuerySet[User]:
    """Who may be given an action on this agenda item: active staff of an agency; for a
    case, only people (not commissioners) of the agencies involved in it or invited to
    the item. By agency, then name."""
    users = User.objects.filter(is_active=True, agency__isnull=False).select_related("agency")
    if item.case is not None:
        agencies = list(
            item.case.involvements.filter(left_at__isnull=True).values_list("agency_id", flat=True)
        ) + list(item.invitations.values_list("agency_id", flat=True))
        users = users.filter(agency_id__in=agencies).exclude(groups__name=Role.COMMISSIONER)
    return users.order_by("agency__name", "last_name", "first_name")


def can_own_action(user: User, item: AgendaItem) -> bool:
    """Whether this user may be given an action on this agenda item (``action_owners_for``)."""
    return action_owners_for(item=item).filter(pk=user.pk).exists()


def can_have_meeting_pack(
    meeting: Meeting,
    *,
    user: User,
    runs: bool,
    case_ids: set[uuid.UUID],
    visible_case_ids: set[uuid.UUID],
) -> bool:
    """The meeting pack rule, for a meeting the user may see (DESIGN §4 rules 1 and 3).

    A planned meeting's pack is only for those who run it (``runs``); and the pack is
    only for someone who may see every case on the agenda (``case_ids`` within
    ``visible_case_ids``, from ``case_ids_visible_among``) and whose agency each
    person's consent, or a sharing basis, covers for the meeting pack (ADR 0008). The
    meeting page works the first inputs out with what it reads anyway.
    """
    from cases.models import Case

    if meeting.state == meeting.State.PLANNED and not runs:
        return False
    if not case_ids <= visible_case_ids:
        return False
    if not case_ids:
        return True
    if user.agency_id is None:
        return False
    people = set(Case.objects.filter(pk__in=case_ids).values_list("person_id", flat=True))
    covered = people_covered(person_ids=people, agency_id=user.agency_id, use=Use.MEETING_PACK)
    return people <= covered


# --- scoped reads -------------------------------------------------------------


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """Cases the user may see, most recently active first: one indexed query."""
    from cases.models import Case

    agency = _case_agency(user)
    if agency is None:
        return Case.objects.none()
    today = timezone.localdate()
    return (
        Case.objects.filter(
            visibility__agency=agency,
            visibility__covered_from__lte=today,
            visibility__covered_until__gte=today,
        )
        .select_related("person")
        .order_by("-visibility__last_activity_at", "id")
    )


def case_for(*, user: User, case_id: uuid.UUID | str) -> Case:
    """The case, if the user may see it; otherwise 404 - whether or not it exists."""
    from django.core.exceptions import ValidationError

    from cases.models import Case

    try:
        case = Case.objects.select_related("person").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such case") from exc
    involved = is_involved(user, case)
    if not can_view_case(user, case, involved=involved):
        raise Http404("No such case")
    # The case page says when the user sees the case only in an emergency.
    case.viewer_is_involved = involved  # type: ignore[attr-defined]
    return case


def person_for(*, user: User, person_id: uuid.UUID | str) -> Person:
    """The person, if the user may see them; otherwise 404."""
    from django.core.exceptions import ValidationError

    from cases.models import Person

    try:
        person = Person.objects.get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such person") from exc
    if not can_view_person(user, person):
        raise Http404("No such person")
    return person


def referrals_visible_to(*, user: User) -> QuerySet[Referral]:
    """Referrals the user may see (see ``can_view_referral``), as one filter."""
    from django.db.models import Q

    from referrals.models import Referral

    if not _active(user) or has_role(user, Role.COMMISSIONER):
        return Referral.objects.none()
    visible = Q(referrer=user)
    if has_role(user, Role.PRACTITIONER) and user.agency_id is not None:
        visible |= Q(referring_agency_id=user.agency_id)
    if has_role(user, Role.FORUM_CHAIR):
        visible |= ~Q(state=Referral.State.DRAFT)
    return Referral.objects.filter(visible)


def referral_for(*, user: User, referral_id: uuid.UUID | str) -> Referral:
    """The referral, if the user may see it; otherwise 404."""
    from django.core.exceptions import ValidationError

    from referrals.models import Referral

    try:
        referral = Referral.objects.select_related(
            "referrer", "referring_agency", "person", "case", "decided_by"
        ).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such referral") from exc
    if not can_view_referral(user, referral):
        raise Http404("No such referral")
    return referral


# --- audit of reads -------------------------------------------------------------


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, honouring only the configured number of trusted proxies."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    address: str | None = get_client_ip_address(request)
    return address


def record_access(
    *,
    user: User,
    obj: models.Model,
    request: HttpRequest | None = None,
    action: str = AccessEvent.Action.VIEW,
    reason: str = "",
) -> AccessEvent:
    """Write one access-log row for a read of person-level data."""
    person_id = getattr(obj, "person_id", None)
    if person_id is None and obj.__class__.__name__ == "Person":
        person_id = obj.pk
    return AccessEvent.objects.create(
        user=user,
        agency_id=user.agency_id,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        person_id=person_id,
        path=(request.get_full_path()[:500] if request is not None else ""),
        reason=reason,
        ip_address=client_ip(request),
    )


def emergency_lookup_fingerprint(
    *, nhs_number: str, family_name: str, date_of_birth: datetime.date | None
) -> str:
    """What an emergency look-up searched for, in a form fit for the access log.

    A keyed hash (HMAC with the secret key) of the normalised identifiers, plus the
    NHS number's last 3 digits: a Caldicott guardian can check "did this search
    target this person?" by computing the same fingerprint, but the log itself
    holds no names, dates of birth or whole NHS numbers.
    """
    from django.utils.crypto import salted_hmac

    nhs = "".join(ch for ch in nhs_number if ch.isdigit())
    if nhs:
        what = f"nhs:{nhs}"
        shown = f"NHS number ending {nhs[-3:]}"
    else:
        what = f"name:{family_name.strip().lower()}|dob:{date_of_birth}"
        shown = "last name and date of birth"
    digest = salted_hmac("csf_portal.emergency_lookup", what, algorithm="sha256").hexdigest()
    return f"{shown}; fingerprint {digest[:24]}"


def record_emergency_lookup(
    *,
    user: User,
    outcome: str,
    searched: str,
    request: HttpRequest | None = None,
    person_id: uuid.UUID | None = None,
) -> AccessEvent:
    """One access-log row for every emergency look-up, whatever its outcome.

    ``object_id`` holds the outcome (opened, no_match, refused, rate_limited), so the
    attempts can be counted for the rate limit and audited by outcome.
    """
    return AccessEvent.objects.create(
        user=user,
        agency_id=user.agency_id,
        action=AccessEvent.Action.EMERGENCY_LOOKUP,
        object_type="cases.emergency_lookup",
        object_id=outcome,
        person_id=person_id,
        path=(request.get_full_path()[:500] if request is not None else ""),
        reason=searched,
        ip_address=client_ip(request),
    )


def record_list_access(*, user: User, request: HttpRequest, what: str) -> AccessEvent:
    """One access-log row for a page that lists people (names, dates of birth)."""
    return AccessEvent.objects.create(
        user=user,
        agency_id=user.agency_id,
        action=AccessEvent.Action.VIEW,
        object_type=what,
        object_id="list",
        path=request.get_full_path()[:500],
        ip_address=client_ip(request),
    )
