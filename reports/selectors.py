"""Reports' reads for their pages: documents for their requester, what a document is about.

Each read is scoped to the user: whatever they may not have is a 404, the same as what
does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

import access
from cases.models import CarePlan, Person
from cases.selectors import people_by_identifiers
from csf_portal.models import User
from reports.models import GeneratedDocument


def subject_access_search(*, user: User, request: HttpRequest, **identifiers: Any) -> list[Person]:
    """The people a subject access request may be about; the search that names them is logged."""
    people = list(people_by_identifiers(**identifiers)[:20])
    access.record_list_access(user=user, request=request, what="reports.subject_access_search")
    return people


def documents_requested_by(*, user: User) -> QuerySet[GeneratedDocument]:
    """The user's own latest documents."""
    return GeneratedDocument.objects.filter(requested_by=user).select_related("person")[:20]


def person_for_subject_access(*, user: User, person_id: Any) -> Person:
    """Anyone, for a user who may request subject access (the request is recorded); else 404."""
    if not access.can_request_subject_access(user):
        raise Http404
    try:
        return Person.objects.get(pk=person_id)
    except Person.DoesNotExist:
        raise Http404 from None


def own_document(*, user: User, document_id: Any) -> GeneratedDocument:
    """A document, for the user who requested it; 404 for everyone else."""
    try:
        document = GeneratedDocument.objects.select_related(
            "person", "meeting__forum", "care_plan__case__person"
        ).get(pk=document_id)
    except (GeneratedDocument.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if document.requested_by_id != user.pk:
        raise Http404
    return document


def care_plan_for(*, user: User, plan_id: Any) -> CarePlan:
    """A care plan of a case the user may see; 404 otherwise."""
    try:
        plan = CarePlan.objects.select_related("case__person").get(pk=plan_id)
    except (CarePlan.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    access.case_for(user=user, case_id=plan.case_id)  # 404 unless visible
    return plan
