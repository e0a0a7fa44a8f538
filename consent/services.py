"""Consent and sharing-basis use cases. Each one refreshes who can see the person."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cases.models import Person
from consent.models import (
    CapacityOutcome,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    SharingBasis,
)
from csf_portal import access
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import Agency, Role, User


def _check_recorder(actor: User, person: Person) -> None:
    if not access.can_record_consent(actor, person):
        raise NotAllowed("You cannot record consent for this person.")


@transaction.atomic
def consent_record(
    *,
    actor: User,
    person: Person,
    method: str,
    given_on: datetime.date,
    review_date: datetime.date,
    purposes: Iterable[str],
    capacity_considered: bool,
    capacity_outcome: str,
    all_member_agencies: bool = False,
    agencies: Iterable[Agency] = (),
    what_may_be_shared: str = "",
    persons_own_words: str = "",
    recorded_by: User | None = None,
    check_recorder: bool = True,
) -> ConsentRecord:
    """Record the person's common core confidentiality agreement."""
    if check_recorder:
        _check_recorder(actor, person)
    today = timezone.localdate()
    if given_on > today:
        raise DomainError(
            "The date consent was given must be today or in the past", field="given_on"
        )
    if review_date <= today:
        raise DomainError("The review date must be in the future", field="review_date")
    purposes = [ConsentPurpose(p).value for p in purposes]
    if not purposes:
        raise DomainError("Select at least one purpose", field="purposes")
    agencies = list(agencies)
    if not all_member_agencies and not agencies:
        raise DomainError("Select which agencies may share information", field="agencies")
    record = ConsentRecord(
        person=person,
        method=ConsentMethod(method),
        given_on=given_on,
        review_date=review_date,
        purposes=purposes,
        capacity_considered=capacity_considered,
        capacity_outcome=CapacityOutcome(capacity_outcome),
        all_member_agencies=all_member_agencies,
        recorded_by=recorded_by or actor,
        persons_own_words=persons_own_words,
    )
    if what_may_be_shared:
        record.what_may_be_shared = what_may_be_shared
    record._history_user = actor  # type: ignore[attr-defined]
    record.save()
    record.agencies.set(agencies)
    access.person_visibility_refresh(person=person)
    return record


@transaction.atomic
def consent_withdraw(
    *, actor: User, consent: ConsentRecord, recorded_by: User | None, note: str = ""
) -> ConsentRecord:
    """Withdrawal bites at once: agencies that relied on it lose access now."""
    _check_recorder(actor, consent.person)
    if recorded_by is None:
        raise DomainError("Select who recorded the withdrawal", field="recorded_by")
    consent = ConsentRecord.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise DomainError("This consent has already been withdrawn")
    consent.withdrawn_at = timezone.now()
    consent.withdrawal_recorded_by = recorded_by
    consent.withdrawal_note = note
    consent._history_user = actor  # type: ignore[attr-defined]
    consent.save()
    access.person_visibility_refresh(person=consent.person)
    return consent


@transaction.atomic
def sharing_basis_record(
    *,
    actor: User,
    person: Person,
    basis: str,
    justification: str,
    approved_by: User,
    approver_role: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    all_member_agencies: bool = False,
    agencies: Iterable[Agency] = (),
    check_recorder: bool = True,
) -> SharingBasis:
    """Record sharing without consent. A chair, or a named senior role, must approve it."""
    if check_recorder:
        _check_recorder(actor, person)
    if not justification.strip():
        raise DomainError("Explain why sharing without consent is justified", field="justification")
    if not access.has_role(approved_by, Role.FORUM_CHAIR) and not approver_role.strip():
        raise DomainError(
            "Give the senior role of the person who approved this (they are not a forum chair)",
            field="approver_role",
        )
    if ends_on < starts_on:
        raise DomainError("The end date must be on or after the start date", field="ends_on")
    if ends_on < timezone.localdate():
        raise DomainError("The end date must be today or in the future", field="ends_on")
    agencies = list(agencies)
    if not all_member_agencies and not agencies:
        raise DomainError("Select which agencies may share information", field="agencies")
    record = SharingBasis(
        person=person,
        basis=SharingBasis.Basis(basis),
        justification=justification.strip(),
        approved_by=approved_by,
        approver_role=approver_role.strip() or "Forum chair",
        recorded_by=actor,
        starts_on=starts_on,
        ends_on=ends_on,
        all_member_agencies=all_member_agencies,
    )
    record._history_user = actor  # type: ignore[attr-defined]
    record.save()
    record.agencies.set(agencies)
    access.person_visibility_refresh(person=person)
    return record


@transaction.atomic
def sharing_basis_end(*, actor: User, basis: SharingBasis) -> SharingBasis:
    _check_recorder(actor, basis.person)
    basis = SharingBasis.objects.select_for_update().get(pk=basis.pk)
    if basis.ended_at is None:
        basis.ended_at = timezone.now()
        basis.ended_by = actor
        basis._history_user = actor  # type: ignore[attr-defined]
        basis.save()
        access.person_visibility_refresh(person=basis.person)
    return basis


REVIEW_NOTICE = datetime.timedelta(days=28)


@transaction.atomic
def consent_review_reminders(*, today: datetime.date | None = None) -> int:
    """Mark consents whose review is due within four weeks and tell the involved workers.

    Idempotent: a consent is marked once (``review_reminder_sent_on``), so running
    it twice in a night, or every night, sends each reminder once.
    """
    from django.urls import reverse

    from cases.models import CaseGroupObjectPermission
    from csf_portal.notifications import notification_send

    today = today or timezone.localdate()
    due = (
        ConsentRecord.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            withdrawn_at__isnull=True,
            review_reminder_sent_on__isnull=True,
            review_date__gte=today,
            review_date__lte=today + REVIEW_NOTICE,
        )
        .select_related("person")
    )
    count = 0
    for consent in due:
        newer = ConsentRecord.objects.filter(
            person=consent.person, withdrawn_at__isnull=True, given_on__gt=consent.given_on
        ).exclude(pk=consent.pk)
        if newer.exists():
            # Already renewed: mark it so it is not looked at again, tell no one.
            consent.review_reminder_sent_on = today
            consent.save(update_fields=["review_reminder_sent_on", "updated_at"])
            continue
        groups = CaseGroupObjectPermission.objects.filter(
            content_object__person=consent.person, permission__codename=access.VIEW_CASE
        ).values("group_id")
        workers = (
            User.objects.filter(
                is_active=True, agency__group_id__in=groups, groups__name=Role.PRACTITIONER
            )
            .distinct()
            .order_by("pk")
        )
        for worker in workers:
            agency_id = worker.agency_id
            if agency_id is None or (
                access.coverage_until(person_id=consent.person_id, agency_id=agency_id) is None
            ):
                continue
            notification_send(
                user=worker,
                text=f"Consent for a person your agency works with is due for review by "
                f"{consent.review_date:%-d %B %Y}.",
                url=reverse("consent:overview", args=[consent.person_id]),
                email_subject="CSF Portal: consent due for review",
            )
        consent.review_reminder_sent_on = today
        consent.save(update_fields=["review_reminder_sent_on", "updated_at"])
        count += 1
    return count
