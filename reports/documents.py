"""What goes into each PDF: the context for its template, read in a bounded number of queries.

The meeting pack holds only what the forum needs about each person (name, age,
gender, where they live, MEAM domains): no date of birth, NHS number or GP.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from csf_portal.models import User


def _age(born: datetime.date | None, on: datetime.date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def meeting_pack_html(*, meeting, recipient: User) -> str:
    from assessments.selectors import latest_completed
    from cases.models import CarePlan, CarePlanItem, OutcomeReview, RiskLevelChange, RiskOwner
    from forums.models import Action, AgendaItem, Attendance, ForumMembership, Meeting
    from referrals.models import Referral

    items = list(
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("case__person", "presenter__agency", "system_issue")
        .prefetch_related("invitations__agency")
        .order_by("order")
    )
    case_ids = [i.case_id for i in items if i.case_id]
    on = timezone.localtime(meeting.starts_at).date()

    from cases.models import Risk

    risks: dict[Any, list] = {}
    for risk in (
        Risk.objects.filter(case_id__in=case_ids, status=Risk.Status.OPEN)
        .prefetch_related(
            Prefetch(
                "owners",
                queryset=RiskOwner.objects.filter(ended_at__isnull=True).select_related("agency"),
                to_attr="current_owners",
            )
        )
        .order_by("created_at")
    ):
        risks.setdefault(risk.case_id, []).append(risk)
    referrals: dict[Any, list] = {}
    for referral in (
        Referral.objects.filter(case_id__in=case_ids)
        .exclude(state=Referral.State.DRAFT)
        .select_related("referring_agency")
        .prefetch_related("reasons")
        .order_by("submitted_at")
    ):
        referrals.setdefault(referral.case_id, []).append(referral)
    plans = {
        p.case_id: p
        for p in CarePlan.objects.filter(
            case_id__in=case_ids, state=CarePlan.State.AGREED
        ).prefetch_related(
            Prefetch(
                "items", queryset=CarePlanItem.objects.select_related("agency", "named_worker")
            )
        )
    }
    open_actions: dict[Any, list] = {}
    for action in (
        Action.objects.filter(case_id__in=case_ids, status__in=Action.OPEN_STATES)
        .select_related("owner", "owner_agency")
        .order_by("due_on")
    ):
        open_actions.setdefault(action.case_id, []).append(action)
    last_discussed: dict[Any, datetime.datetime] = {}
    for case_id, starts in AgendaItem.objects.filter(
        case_id__in=case_ids, meeting__starts_at__lt=meeting.starts_at
    ).values_list("case_id", "meeting__starts_at"):
        last_discussed[case_id] = max(starts, last_discussed.get(case_id, starts))
    changes: dict[Any, list[str]] = {cid: [] for cid in case_ids}
    for change in RiskLevelChange.objects.filter(risk__case_id__in=case_ids).select_related("risk"):
        since = last_discussed.get(change.risk.case_id)
        if since and since < change.changed_at <= meeting.starts_at:
            changes[change.risk.case_id].append(
                f"{change.risk.get_category_display()} risk now "
                f"{change.get_level_display().lower()} "
                f"({timezone.localtime(change.changed_at):%-d %b})"
            )
    for review in OutcomeReview.objects.filter(case_id__in=case_ids):
        since = last_discussed.get(review.case_id)
        if since and since < review.created_at <= meeting.starts_at:
            changes[review.case_id].append(
                f"Outcome review to {review.period_end:%-d %b}: {review.emergency_contacts} "
                f"emergency contacts, {review.bnb_nights} B&B nights"
            )
    for plan in CarePlan.objects.filter(case_id__in=case_ids, agreed_at__isnull=False):
        since = last_discussed.get(plan.case_id)
        if since and plan.agreed_at and since < plan.agreed_at <= meeting.starts_at:
            changes[plan.case_id].append(f"Care plan version {plan.version} agreed")
    for case_id, refs in referrals.items():
        since = last_discussed.get(case_id)
        for r in refs:
            if since and r.submitted_at and since < r.submitted_at <= meeting.starts_at:
                changes[case_id].append(f"New referral from {r.referring_agency}")

    cases = []
    for item in items:
        if item.case is None or item.case_id is None:
            continue
        person = item.case.person
        refs = referrals.get(item.case_id, [])
        reasons: list[str] = []
        domains: list[str] = []
        for r in refs:
            for reason in r.reasons.all():
                if str(reason) not in reasons:
                    reasons.append(str(reason))
            for d in r.meam_domains:
                if d not in domains:
                    domains.append(d)
        assessment = latest_completed(person=person)
        cases.append(
            {
                "item": item,
                "anchor": f"item-{item.order}",
                "person": person,
                "age": _age(person.date_of_birth, on),
                "case": item.case,
                "reasons": reasons,
                "domains": domains,
                "referral_count": len(refs),
                "risks": risks.get(item.case_id, []),
                "plan": plans.get(item.case_id),
                "actions": open_actions.get(item.case_id, []),
                "assessment": assessment,
                "last_discussed": last_discussed.get(item.case_id),
                "changes": changes.get(item.case_id, []),
            }
        )
    previous = (
        Meeting.objects.filter(forum=meeting.forum, starts_at__lt=meeting.starts_at)
        .order_by("-starts_at")
        .first()
    )
    previous_actions = []
    if previous is not None:
        for action in Action.objects.filter(meeting=previous).select_related(
            "owner", "owner_agency"
        ):
            # Only what belongs to this pack's cases (or no case) is described.
            action.in_pack = action.case_id is None or action.case_id in case_ids  # type: ignore[attr-defined]
            previous_actions.append(action)
    attendance = list(
        Attendance.objects.filter(meeting=meeting).select_related("user", "agency", "item")
    )
    members = list(
        ForumMembership.objects.filter(
            ForumMembership.sitting(timezone.localdate()), forum=meeting.forum
        ).select_related("user", "agency")
    )
    return render_to_string(
        "pdf/meeting_pack.html",
        {
            "meeting": meeting,
            "recipient": recipient,
            "items": items,
            "cases": cases,
            "previous": previous,
            "previous_actions": previous_actions,
            "attendance": attendance,
            "members": members,
            "produced_at": timezone.now(),
        },
    )


def care_plan_html(*, plan, recipient: User, easy_read: bool = False) -> str:
    from cases.models import CarePlanItem

    items = list(CarePlanItem.objects.filter(plan=plan).select_related("agency", "named_worker"))
    return render_to_string(
        "pdf/care_plan_easy_read.html" if easy_read else "pdf/care_plan.html",
        {
            "plan": plan,
            "case": plan.case,
            "person": plan.case.person,
            "items": items,
            "recipient": recipient,
            "produced_at": timezone.now(),
        },
    )


def _flat(value: Any) -> str:
    """A value of the export as readable text (nested rows become 'key: value' lists)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " | ".join(_flat(v) for v in value)
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%-d %b %Y %H:%M}"
    return str(value)


def _pairs(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key.replace("_", " "), _flat(value)) for key, value in row.items()]


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def subject_access_html(*, person, recipient: User) -> str:
    from reports import subject_access

    data = subject_access.build(person)
    sections = [
        (_title(key), [_pairs(row) for row in rows])
        for key, rows in data.items()
        if key not in ("export", "history", "person")
    ]
    history = [
        (
            _title(key),
            [
                {
                    "when": h["when"],
                    "who": h["who"],
                    "change": h["change"],
                    "record": _flat(h["record"]),
                }
                for h in rows
            ],
        )
        for key, rows in data["history"].items()
    ]
    return render_to_string(
        "pdf/subject_access.html",
        {
            "person": person,
            "record": _pairs(data["person"]),
            "sections": sections,
            "history": history,
            "recipient": recipient,
            "produced_at": timezone.now(),
        },
    )
