"""Everything held about one person, as one JSON document (a subject access export)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.forms.models import model_to_dict
from django.utils import timezone

from cases.models import Person

_SECRET_FIELDS = {"password"}


def _row(obj: Model) -> dict[str, Any]:
    data = model_to_dict(obj)
    data["id"] = str(obj.pk)
    for field in obj._meta.concrete_fields:
        if field.name in _SECRET_FIELDS:
            data.pop(field.name, None)
        elif field.is_relation and getattr(obj, field.attname, None) is not None:
            data[field.name] = str(getattr(obj, field.name))
    for field in obj._meta.many_to_many:
        data[field.name] = [str(o) for o in getattr(obj, field.name).all()]
    return data


def _history(queryset) -> list[dict[str, Any]]:
    return [
        {
            "object_id": str(h.id),
            "when": h.history_date,
            "who": str(h.history_user) if h.history_user else "",
            "change": h.get_history_type_display(),
            "record": {
                f.attname: getattr(h, f.attname)
                for f in h.instance_type._meta.concrete_fields
                if f.attname not in _SECRET_FIELDS
            },
        }
        for h in queryset.select_related("history_user").order_by("history_date")
    ]


def build(person: Person) -> dict[str, Any]:
    from assessments.models import Assessment, AssessmentAnswer
    from cases.models import (
        BreakGlassAccess,
        CarePlan,
        CarePlanItem,
        Case,
        CaseAgency,
        HandOffAttempt,
        Risk,
        RiskOwner,
    )
    from consent.models import ConsentRecord, SharingBasis
    from csf_portal.models import AccessEvent
    from referrals.models import Referral, ReferralRisk

    referrals = Referral.objects.filter(person=person)
    cases = Case.objects.filter(person=person)
    assessments = Assessment.objects.filter(person=person)
    return {
        "export": {
            "kind": "Subject access export",
            "produced_at": timezone.now(),
            "marking": "OFFICIAL-SENSITIVE",
        },
        "person": _row(person),
        "referrals": [
            _row(r) | {"risks": [_row(risk) for risk in r.risks.all()]}
            for r in referrals.prefetch_related("risks", "reasons", "services_involved")
        ],
        "cases": [_row(c) for c in cases],
        "involvements": [_row(i) for i in CaseAgency.objects.filter(case__person=person)],
        "risks": [
            _row(r)
            | {
                "owners": [_row(o) for o in r.owners.all()],
                "levels": [
                    {
                        "level": c.level,
                        "event": c.get_event_display(),
                        "reason": c.reason,
                        "when": c.changed_at,
                        "who": str(c.changed_by),
                    }
                    for c in r.level_changes.all()
                ],
                "closure_agreements": [_row(a) for a in r.closure_agreements.all()],
            }
            for r in Risk.objects.filter(case__person=person).prefetch_related(
                "owners", "level_changes", "closure_agreements"
            )
        ],
        "care_plans": [
            _row(p) | {"items": [_row(i) for i in p.items.all()]}
            for p in CarePlan.objects.filter(case__person=person).prefetch_related("items")
        ],
        "handoff_attempts": [_row(h) for h in HandOffAttempt.objects.filter(case__person=person)],
        "emergency_access": [_row(b) for b in BreakGlassAccess.objects.filter(case__person=person)],
        "assessments": [
            _row(a)
            | {
                "template": str(a.template),
                "answers": [
                    {"domain": ans.item.domain, "score": ans.score, "narrative": ans.narrative}
                    for ans in a.answers.select_related("item")
                ],
            }
            for a in assessments.select_related("template")
        ],
        "consent": [_row(c) for c in ConsentRecord.objects.filter(person=person)],
        "sharing_bases": [_row(b) for b in SharingBasis.objects.filter(person=person)],
        "history": {
            "person": _history(Person.history.filter(id=person.pk)),
            "referrals": _history(Referral.history.filter(person_id=person.pk)),
            "referral_risks": _history(ReferralRisk.history.filter(referral__person=person)),
            "cases": _history(Case.history.filter(person_id=person.pk)),
            "involvements": _history(CaseAgency.history.filter(case__person=person)),
            "risks": _history(Risk.history.filter(case__person=person)),
            "risk_owners": _history(RiskOwner.history.filter(risk__case__person=person)),
            "care_plans": _history(CarePlan.history.filter(case__person=person)),
            "care_plan_items": _history(CarePlanItem.history.filter(plan__case__person=person)),
            "assessments": _history(Assessment.history.filter(person_id=person.pk)),
            "assessment_answers": _history(
                AssessmentAnswer.history.filter(assessment__person=person)
            ),
            "consent": _history(ConsentRecord.history.filter(person_id=person.pk)),
            "sharing_bases": _history(SharingBasis.history.filter(person_id=person.pk)),
        },
        "access_log": [
            {
                "when": e.at,
                "who": str(e.user),
                "agency": str(e.agency) if e.agency_id else "",
                "action": e.get_action_display(),
                "what": f"{e.object_type} {e.object_id}",
                "reason": e.reason,
            }
            for e in AccessEvent.objects.filter(person_id=person.pk)
            .select_related("user", "agency")
            .order_by("at")
        ],
    }


def render_json(person: Person) -> bytes:
    return json.dumps(build(person), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()
