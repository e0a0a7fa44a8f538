"""Assessment reads, scoped through ``access``."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

import access
from assessments.models import Assessment
from cases.models import Person
from csf_portal.models import User


def assessment_for(*, user: User, assessment_id: uuid.UUID | str) -> Assessment:
    """The assessment, if the user may see its person; otherwise 404."""
    from django.core.exceptions import ValidationError

    try:
        assessment = Assessment.objects.select_related(
            "person", "template", "assessor", "agency", "corrects"
        ).get(pk=assessment_id)
    except (Assessment.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such assessment") from exc
    if not access.can_view_person(user, assessment.person):
        raise Http404("No such assessment")
    if assessment.state == Assessment.State.DRAFT and assessment.agency_id != user.agency_id:
        raise Http404("No such assessment")  # another agency's work in progress
    return assessment


def _standing(person: Person) -> QuerySet[Assessment]:
    """Completed assessments that have not been replaced by a completed correction."""
    return Assessment.objects.filter(person=person, state=Assessment.State.COMPLETED).exclude(
        corrections__state=Assessment.State.COMPLETED
    )


def latest_completed(*, person: Person) -> Assessment | None:
    return (
        _standing(person)
        .select_related("template", "agency", "assessor")
        .order_by("-completed_at")
        .first()
    )


def _chart(series: list[Assessment]) -> dict[str, Any] | None:
    """Points for a small SVG line chart of total score over time (oldest first)."""
    if len(series) < 2:
        return None
    width, height, pad = 600, 200, 30
    top = max(a.max_score or a.total_score or 1 for a in series)
    dates = [a.completed_at for a in series if a.completed_at is not None]
    first, last = dates[0], dates[-1]
    span = max((last - first).total_seconds(), 1)
    points = []
    for a, when in zip(series, dates, strict=True):
        x = pad + (width - 2 * pad) * (when - first).total_seconds() / span
        y = height - pad - (height - 2 * pad) * (a.total_score or 0) / top
        points.append({"x": round(x, 1), "y": round(y, 1), "a": a})
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "top": top,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


def person_assessment_summary(*, user: User, person: Person) -> dict[str, Any]:
    """Completed assessments (score over time) and the user's agency's drafts."""
    completed = list(
        _standing(person).select_related("template", "agency", "assessor").order_by("completed_at")
    )
    drafts = list(
        Assessment.objects.filter(
            person=person, state=Assessment.State.DRAFT, agency=user.agency
        ).select_related("assessor")
    )
    return {
        "assessments": list(reversed(completed)),
        "assessment_chart": _chart(completed),
        "assessment_drafts": drafts,
        "latest_assessment": completed[-1] if completed else None,
    }


def assessment_answers(*, assessment: Assessment) -> list[Any]:
    """The assessment's answers, each with its question."""
    return list(assessment.answers.select_related("item"))
