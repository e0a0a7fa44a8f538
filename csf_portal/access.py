"""Who may see what: the one place that decides access to person-level data.

Every view and selector that shows a person or a case goes through this module.
The rules (DESIGN §4 rule 1):

* Access belongs to agencies, not to individuals: a user sees a case when their
  agency's group holds ``cases.view_case`` on it (a guardian object permission
  in a direct-foreign-key table).
* It fails closed: anonymous or inactive users, users with no agency, and
  commissioners see nothing. Superuser status and global (model-level)
  permissions never widen access to case data - checks are made against the
  agency's group, never through ``User.has_perm``.
* Lists are filtered in one indexed query through ``CaseVisibility``, which is
  written in the same transaction as the guardian permission it mirrors.
* Anything a user may not see is a 404, exactly as if it did not exist.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm, remove_perm

from csf_portal.models import AccessEvent, Agency, Role, User

if TYPE_CHECKING:
    from cases.models import Case, Person

VIEW_CASE = "view_case"
_VIEW_CASE_PERM = f"cases.{VIEW_CASE}"


def _case_agency(user: Any) -> Agency | None:
    """The agency whose access the user acts with, or None (fail closed)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.agency_id is None:
        return None
    if user.groups.filter(name=Role.COMMISSIONER).exists():
        # Commissioners see aggregate, de-identified data only.
        return None
    return user.agency


# --- granting and revoking (called by services, inside their transactions) ---


def case_access_grant(*, agency: Agency, case: Case) -> None:
    """Let ``agency`` see ``case``. Idempotent."""
    from cases.models import CaseVisibility

    with transaction.atomic():
        assign_perm(_VIEW_CASE_PERM, agency.group, case)
        CaseVisibility.objects.get_or_create(
            agency=agency,
            case=case,
            defaults={"person_id": case.person_id, "last_activity_at": timezone.now()},
        )


def case_access_revoke(*, agency: Agency, case: Case) -> None:
    """Take ``agency``'s access to ``case`` away. The records themselves are kept."""
    from cases.models import CaseVisibility

    with transaction.atomic():
        remove_perm(_VIEW_CASE_PERM, agency.group, case)
        CaseVisibility.objects.filter(agency=agency, case=case).delete()


def case_activity_touch(*, case: Case) -> None:
    """Move a case to the top of every agency's list (something happened on it)."""
    from cases.models import CaseVisibility

    CaseVisibility.objects.filter(case=case).update(last_activity_at=timezone.now())


# --- predicates -------------------------------------------------------------


def can_view_case(user: Any, case: Case) -> bool:
    agency = _case_agency(user)
    if agency is None:
        return False
    return ObjectPermissionChecker(agency.group).has_perm(VIEW_CASE, case)


def can_view_person(user: Any, person: Person) -> bool:
    agency = _case_agency(user)
    if agency is None:
        return False
    from cases.models import CaseVisibility

    return CaseVisibility.objects.filter(agency=agency, person=person).exists()


# --- scoped reads -------------------------------------------------------------


def cases_visible_to(*, user: Any) -> QuerySet[Case]:
    """Cases the user may see, most recently active first: one indexed query."""
    from cases.models import Case

    agency = _case_agency(user)
    if agency is None:
        return Case.objects.none()
    return (
        Case.objects.filter(visibility__agency=agency)
        .select_related("person")
        .order_by("-visibility__last_activity_at", "id")
    )


def case_for(*, user: Any, case_id: uuid.UUID | str) -> Case:
    """The case, if the user may see it; otherwise 404 - whether or not it exists."""
    from django.core.exceptions import ValidationError

    from cases.models import Case

    try:
        case = Case.objects.select_related("person").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such case") from exc
    if not can_view_case(user, case):
        raise Http404("No such case")
    return case


def person_for(*, user: Any, person_id: uuid.UUID | str) -> Person:
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


# --- audit of reads -------------------------------------------------------------


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, honouring only the configured number of trusted proxies."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)


def record_access(
    *,
    user: User,
    obj: Any,
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
