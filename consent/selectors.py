"""Consent reads."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

import access
from cases.models import Person
from consent.models import ConsentRecord, SharingBasis
from csf_portal.models import User


def person_for_consent(*, user: User, person_id: uuid.UUID | str) -> Person:
    """The person, if the user may record consent for them; otherwise 404."""
    try:
        person = Person.objects.get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such person") from exc
    if not access.can_record_consent(user, person):
        raise Http404("No such person")
    return person


def consent_overview(*, person: Person) -> dict[str, Any]:
    """The person's consents and sharing bases; which are current is asked of the
    one definition (``current()``), once for each kind."""
    consents = list(
        ConsentRecord.objects.filter(person=person)
        .select_related("recorded_by", "withdrawal_recorded_by")
        .prefetch_related("agencies")
    )
    bases = list(
        SharingBasis.objects.filter(person=person)
        .select_related("approved_by", "requested_by", "refused_by", "ended_by")
        .prefetch_related("agencies")
    )
    current = set(
        ConsentRecord.objects.filter(person=person).current().values_list("pk", flat=True)
    ) | set(SharingBasis.objects.filter(person=person).current().values_list("pk", flat=True))
    upcoming = set(
        SharingBasis.objects.filter(person=person).current_or_future().values_list("pk", flat=True)
    )
    for consent in consents:
        consent.current = consent.pk in current  # type: ignore[attr-defined]
    for basis in bases:
        basis.current = basis.pk in current  # type: ignore[attr-defined]
    for basis in bases:
        basis.endable = basis.pk in upcoming or (  # type: ignore[attr-defined]
            basis.status == SharingBasis.Status.PENDING and basis.ended_at is None
        )
    return {
        "consents": consents,
        "bases": bases,
        "has_current": bool(current),
        "today": timezone.localdate(),
    }


def sharing_bases_waiting_for(*, user: User) -> list[SharingBasis]:
    """Requests to share without consent that this user may decide, oldest first.

    Pending requests are few: each is put to the one rule,
    ``access.can_approve_sharing_basis``.
    """
    if not access.can_decide_sharing_bases(user):
        return []
    pending = (
        SharingBasis.objects.pending()
        .exclude(requested_by=user)
        .select_related("person", "requested_by__agency")
        .prefetch_related("agencies")
        .order_by("requested_at", "pk")
    )
    return [b for b in pending if access.can_approve_sharing_basis(user, b)]


def sharing_bases_waiting_count(*, user: User) -> int | None:
    """For My work: how many requests wait for this user; None for someone who decides none."""
    if not access.can_decide_sharing_bases(user):
        return None
    return len(sharing_bases_waiting_for(user=user))


def sharing_basis_for_decision(*, user: User, basis_id: uuid.UUID | str) -> SharingBasis:
    """A request the user may decide; otherwise 404 (missing or not theirs to decide)."""
    try:
        basis = (
            SharingBasis.objects.select_related("person", "requested_by__agency")
            .prefetch_related("agencies")
            .get(pk=basis_id)
        )
    except (SharingBasis.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such request") from exc
    if not access.can_approve_sharing_basis(user, basis):
        raise Http404("No such request")
    return basis


def consent_of(*, person: Person, consent_id: Any) -> ConsentRecord:
    """One of the person's consent records (the person already read through person_for_consent)."""
    return get_object_or_404(ConsentRecord, pk=consent_id, person=person)


def sharing_basis_of(*, person: Person, basis_id: Any) -> SharingBasis:
    """One of the person's sharing bases (the person already read through person_for_consent)."""
    return get_object_or_404(SharingBasis, pk=basis_id, person=person)
