"""Consent and sharing-basis use cases. Each one refreshes who can see the person."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

import access
from cases.models import Person
from consent.models import (
    CapacityOutcome,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    SharingBasis,
)
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
    access.sharing_write(record, actor=actor, agencies=agencies)
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
    access.sharing_write(consent, actor=actor)
    return consent


def sharing_basis_approvers_notify(*, basis: SharingBasis) -> None:
    """Tell every chair who may decide the request that it is waiting for them."""
    from django.urls import reverse

    from csf_portal.notifications import notification_send

    chairs = (
        User.objects.filter(is_active=True, groups__name=Role.FORUM_CHAIR)
        .exclude(pk=basis.requested_by_id)
        .distinct()
        .order_by("pk")
    )
    for chair in chairs:
        if access.can_approve_sharing_basis(chair, basis):
            notification_send(
                user=chair,
                text="A request to share a person's information without consent is waiting "
                "for your decision.",
                url=reverse("sharing_bases:waiting"),
                email_subject="CSF Portal: sharing without consent needs approval",
            )


@transaction.atomic
def sharing_basis_request(
    *,
    actor: User,
    person: Person,
    basis: str,
    justification: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    all_member_agencies: bool = False,
    agencies: Iterable[Agency] = (),
    check_recorder: bool = True,
    tell_approvers: bool = True,
) -> SharingBasis:
    """Ask to share without consent. It covers no one until a chair approves it.

    Forum chairs other than the requester are told (unless ``tell_approvers`` is
    false: a caller deciding it at once); the request waits on their list.
    """
    if check_recorder:
        _check_recorder(actor, person)
    if not justification.strip():
        raise DomainError("Explain why sharing without consent is justified", field="justification")
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
        status=SharingBasis.Status.PENDING,
        requested_by=actor,
        requested_at=timezone.now(),
        starts_on=starts_on,
        ends_on=ends_on,
        all_member_agencies=all_member_agencies,
    )
    access.sharing_write(record, actor=actor, agencies=agencies)
    if tell_approvers:
        sharing_basis_approvers_notify(basis=record)
    return record


def _locked_pending(actor: User, basis: SharingBasis) -> SharingBasis:
    basis = SharingBasis.objects.select_for_update().get(pk=basis.pk)
    if basis.status != SharingBasis.Status.PENDING:
        raise DomainError("This request has already been decided")
    if not access.can_approve_sharing_basis(actor, basis):
        raise NotAllowed("Only a forum chair who did not ask for it can decide this request.")
    return basis


def _tell_requester(basis: SharingBasis, text: str) -> None:
    from django.urls import reverse

    from csf_portal.notifications import notification_send

    notification_send(
        user=basis.requested_by,
        text=text,
        url=reverse("consent:overview", args=[basis.person_id]),
        email_subject="CSF Portal: decision on sharing without consent",
    )


@transaction.atomic
def sharing_basis_approve(*, actor: User, basis: SharingBasis) -> SharingBasis:
    """A second, eligible person approves: from now the basis covers the agencies it names."""
    basis = _locked_pending(actor, basis)
    if basis.ends_on < timezone.localdate():
        raise DomainError("This request's end date has passed: it can only be refused")
    basis.status = SharingBasis.Status.APPROVED
    basis.approved_by = actor
    basis.approved_at = timezone.now()
    basis.approver_role = "Forum chair"
    access.sharing_write(basis, actor=actor)
    _tell_requester(basis, "Your request to share without consent was approved.")
    return basis


@transaction.atomic
def sharing_basis_refuse(*, actor: User, basis: SharingBasis, reason: str) -> SharingBasis:
    """The approver says no, and why. The request is kept; it never covers anyone."""
    if not reason.strip():
        raise DomainError("Say why the request is refused", field="reason")
    basis = _locked_pending(actor, basis)
    basis.status = SharingBasis.Status.REFUSED
    basis.refused_by = actor
    basis.refused_at = timezone.now()
    basis.refusal_reason = reason.strip()
    access.sharing_write(basis, actor=actor)
    _tell_requester(basis, "Your request to share without consent was refused.")
    return basis


@transaction.atomic
def sharing_basis_end(*, actor: User, basis: SharingBasis) -> SharingBasis:
    _check_recorder(actor, basis.person)
    basis = SharingBasis.objects.select_for_update().get(pk=basis.pk)
    if basis.ended_at is None:
        basis.ended_at = timezone.now()
        basis.ended_by = actor
        access.sharing_write(basis, actor=actor)
    return basis


REVIEW_NOTICE = datetime.timedelta(days=28)


def _involved_workers(person: Person) -> list[User]:
    """Active practitioners of the agencies involved in the person's cases."""
    from cases.models import CaseGroupObjectPermission

    groups = CaseGroupObjectPermission.objects.filter(
        content_object__person=person, permission__codename=access.VIEW_CASE
    ).values("group_id")
    return list(
        User.objects.filter(
            is_active=True, agency__group_id__in=groups, groups__name=Role.PRACTITIONER
        )
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def consent_review_reminders(*, actor: User, today: datetime.date | None = None) -> int:
    """Mark consents whose review is due within four weeks and tell the involved workers.

    ``actor`` marks the consents: the nightly task passes the portal's own account
    (``csf_portal.system.system_actor``).
    Idempotent: a consent is marked once (``review_reminder_sent_on``), so running
    it twice in a night, or every night, sends each reminder once.
    """
    from django.urls import reverse

    from csf_portal.notifications import notification_send

    today = today or timezone.localdate()
    due = (
        ConsentRecord.objects.current(today)
        .select_for_update(skip_locked=True, of=("self",))
        .filter(review_reminder_sent_on__isnull=True, review_date__lte=today + REVIEW_NOTICE)
        .select_related("person")
    )
    count = 0
    for consent in due:
        newer = (
            ConsentRecord.objects.current_or_future(today)
            .filter(person=consent.person, given_on__gt=consent.given_on)
            .exclude(pk=consent.pk)
        )
        if newer.exists():
            # Already renewed: mark it so it is not looked at again, tell no one.
            consent.review_reminder_sent_on = today
            access.sharing_write(
                consent, actor=actor, update_fields=["review_reminder_sent_on", "updated_at"]
            )
            continue
        for worker in _involved_workers(consent.person):
            agency_id = worker.agency_id
            if agency_id is None or (
                access.coverage_until(
                    person_id=consent.person_id,
                    agency_id=agency_id,
                    use=access.Use.CARE_COORDINATION,
                    today=today,
                )
                is None
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
        access.sharing_write(
            consent, actor=actor, update_fields=["review_reminder_sent_on", "updated_at"]
        )
        count += 1
    return count


@transaction.atomic
def sharing_basis_lapse_reminders(*, actor: User, today: datetime.date | None = None) -> int:
    """Mark sharing bases that end within four weeks and tell the workers who rely on them.

    As for consent reviews: the same notice, and each basis is marked once
    (``lapse_reminder_sent_on``), so the nightly run tells each worker once. The
    workers told are the involved agencies' practitioners whom the basis covers,
    and whoever asked for it.
    """
    from django.urls import reverse

    from csf_portal.notifications import notification_send

    today = today or timezone.localdate()
    due = (
        SharingBasis.objects.current(today)
        .select_for_update(skip_locked=True, of=("self",))
        .filter(lapse_reminder_sent_on__isnull=True, ends_on__lte=today + REVIEW_NOTICE)
        .select_related("person", "requested_by")
    )
    count = 0
    for basis in due:
        renewed = (
            SharingBasis.objects.current_or_future(today)
            .filter(
                person=basis.person,
                ends_on__gt=basis.ends_on,
                starts_on__lte=basis.ends_on + datetime.timedelta(days=1),
            )
            .exclude(pk=basis.pk)
        )
        if not renewed.exists():
            named = set(basis.agencies.values_list("pk", flat=True))
            told = [
                w
                for w in _involved_workers(basis.person)
                if basis.all_member_agencies or w.agency_id in named
            ]
            if basis.requested_by.is_active and basis.requested_by not in told:
                told.append(basis.requested_by)
            for worker in told:
                notification_send(
                    user=worker,
                    text=f"Sharing without consent for a person your agency works with ends on "
                    f"{basis.ends_on:%-d %B %Y}. Record consent, or ask for a new basis.",
                    url=reverse("consent:overview", args=[basis.person_id]),
                    email_subject="CSF Portal: sharing without consent is ending",
                )
            count += 1
        basis.lapse_reminder_sent_on = today
        access.sharing_write(
            basis, actor=actor, update_fields=["lapse_reminder_sent_on", "updated_at"]
        )
    return count
