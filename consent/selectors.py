"""Consent reads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from cases.models import Person
from consent.models import ConsentRecord, SharingBasis
from csf_portal import access
from csf_portal.models import User


def person_for_consent(*, user: User, person_id: Any) -> Person:
    """The person, if the user may record consent for them; otherwise 404."""
    try:
        person = Person.objects.get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such person") from exc
    if not access.can_record_consent(user, person):
        raise Http404("No such person")
    return person


def consent_overview(*, person: Person) -> dict[str, Any]:
    consents = list(
        ConsentRecord.objects.filter(person=person)
        .select_related("recorded_by", "withdrawal_recorded_by")
        .prefetch_related("agencies")
    )
    bases = list(
        SharingBasis.objects.filter(person=person)
        .select_related("approved_by", "recorded_by", "ended_by")
        .prefetch_related("agencies")
    )
    return {
        "consents": consents,
        "bases": bases,
        "has_current": any(c.is_current() for c in consents) or any(b.is_current() for b in bases),
    }
