"""The commissioners' dashboard: the pilot's results, live, for any period, identifying no one.

Every figure is a database aggregate (GROUP BY, conditional counts, window
functions for percentiles); the number of queries does not grow with the data.
Raw figures come from ``figures()``; ``present()`` applies small-number
suppression (1 to 4 shown as "<5", with a complementary cell hidden so a
suppressed cell cannot be worked out by subtraction). Labels are categories
(genders, agency kinds, themes, agency names), never a person.

Definitions (shown on the page too):

* The cohort is the referrals submitted in the period (drafts excluded), with
  the filters applied; its cases are those its accepted referrals opened.
* Risk at referral and now: each case's highest risk level at referral against
  the highest level now of its risks (an open risk at its level now, a closed one
  at its level at closure; no risk left counts as reduced), for cases with at
  least one outcome review.
* Before and after: a case's first outcome review (the period when the forum
  took it on) against its latest, for cases with two or more reviews; rates are
  per person per month.
* Cohort tiers follow the city's complex-needs levels: *core* (a high or very high
  risk and two or more MEAM domains at referral), *at risk* (either), *stable*.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from csf_portal.dates import years_before

REFERENCE_COST_PER_PERSON_YEAR = 19_000  # seeds 001: spent on each person facing these problems
SMALL = range(1, 5)
LEVEL_SCORE = {"low": 1, "medium": 2, "high": 3, "very_high": 4}
HIGH = ("high", "very_high")
AGE_BANDS = [(18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 120)]
SETTLED = ("own_tenancy", "supported")


@dataclass(frozen=True)
class Filters:
    start: datetime.date
    end: datetime.date
    agency_kind: str = ""
    meam: str = ""

    @classmethod
    def default(cls) -> Filters:
        end = timezone.localdate()
        return cls(start=years_before(end, 1) + datetime.timedelta(days=1), end=end)

    def as_params(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "agency_kind": self.agency_kind,
            "meam": self.meam,
        }


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    # Distribution tables: the count columns of each row partition one total, so a
    # single suppressed cell is protected by hiding a second one.
    distribution: bool = False
    note: str = ""
    chart: str = ""  # "bar", "line" or "" (drawn by reports.charts from the presented rows)
    svg: str = field(default="", repr=False)


# --- the cohort ---------------------------------------------------------------------


def _bounds(f: Filters) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(f.start, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(f.end, datetime.time.max, tzinfo=tz)
    return start, end


def _referrals(f: Filters) -> QuerySet:
    from referrals.models import Referral

    start, end = _bounds(f)
    referrals = Referral.objects.filter(submitted_at__range=(start, end)).exclude(
        state=Referral.State.DRAFT
    )
    if f.agency_kind:
        referrals = referrals.filter(referring_agency__kind=f.agency_kind)
    if f.meam:
        referrals = referrals.filter(**{f"meam_{f.meam}": True})
    return referrals


def _cases(f: Filters) -> QuerySet:
    from cases.models import Case as CaseModel
    from referrals.models import Referral

    accepted = _referrals(f).filter(state=Referral.State.ACCEPTED).values("case_id")
    return CaseModel.objects.filter(pk__in=accepted)


def _domain_count():
    return (
        Cast("meam_homelessness", IntegerField())
        + Cast("meam_substance_misuse", IntegerField())
        + Cast("meam_offending", IntegerField())
        + Cast("meam_mental_health", IntegerField())
    )


def _score(field_name: str):
    return Case(
        *[When(**{field_name: level}, then=Value(score)) for level, score in LEVEL_SCORE.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def _percentiles(queryset: QuerySet, duration) -> dict[str, Any]:
    """Median and 90th percentile of a duration, in days, by window function (2 queries)."""
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    timed = queryset.annotate(d=ExpressionWrapper(duration, output_field=DurationField())).exclude(
        d__isnull=True
    )
    n = timed.count()
    if n == 0:
        return {"n": 0, "median": None, "p90": None}
    wanted = {"median": max(1, -(-n // 2)), "p90": max(1, -(-n * 9 // 10))}
    ranked = timed.annotate(rn=Window(RowNumber(), order_by=[F("d").asc(), F("pk").asc()]))
    values = dict(ranked.filter(rn__in=set(wanted.values())).values_list("rn", "d"))
    return {
        "n": n,
        **{k: round(values[rank].total_seconds() / 86400, 1) for k, rank in wanted.items()},
    }


# --- figures ---------------------------------------------------------------------------


def figures(f: Filters) -> dict[str, Any]:
    """Every raw figure of the dashboard for the period and filters (no suppression)."""
    return {
        "cohort": _cohort(f),
        "flow": _flow(f),
        "outcomes": _outcomes(f),
        "system": _system(f),
    }


def _cohort(f: Filters) -> dict[str, Any]:
    from cases.models import Case as CaseModel
    from referrals.models import Referral, ReferralRisk

    referrals = _referrals(f)
    cases = _cases(f)
    totals = referrals.aggregate(
        referrals=Count("pk"),
        known=Count("person", distinct=True),
        unknown=Count("pk", filter=Q(person__isnull=True)),
        accepted=Count("pk", filter=Q(state=Referral.State.ACCEPTED)),
    )
    case_totals = cases.aggregate(
        cases=Count("pk"),
        active=Count("pk", filter=~Q(state=CaseModel.State.CLOSED)),
        closed=Count("pk", filter=Q(state=CaseModel.State.CLOSED)),
    )
    end = f.end
    band = Case(
        *[
            When(
                date_of_birth__gt=years_before(end, high + 1),
                date_of_birth__lte=years_before(end, low),
                then=Value(f"{low}-{high}" if high < 120 else f"{low} and over"),
            )
            for low, high in AGE_BANDS
        ],
        default=Value("Not known"),
    )
    high_risk = Exists(ReferralRisk.objects.filter(referral=OuterRef("pk"), level__in=HIGH))
    tiered = referrals.filter(state=Referral.State.ACCEPTED).annotate(
        domains=_domain_count(), high=high_risk
    )
    tiers = tiered.aggregate(
        core=Count("pk", filter=Q(high=True, domains__gte=2)),
        at_risk=Count(
            "pk", filter=(Q(high=True) & Q(domains__lt=2)) | Q(high=False, domains__gte=2)
        ),
        stable=Count("pk", filter=Q(high=False, domains__lt=2)),
    )
    return {
        "summary": {
            "referrals": totals["referrals"],
            "people": totals["known"] + totals["unknown"],
            "accepted": totals["accepted"],
            **case_totals,
        },
        "gender": list(referrals.values_list("gender").annotate(n=Count("pk")).order_by("gender")),
        "age": list(
            referrals.annotate(band=band)
            .values_list("band")
            .annotate(n=Count("pk"))
            .order_by("band")
        ),
        "domains": list(
            referrals.annotate(d=_domain_count())
            .values_list("d")
            .annotate(n=Count("pk"))
            .order_by("d")
        ),
        "agency_kind": list(
            referrals.values_list("referring_agency__kind")
            .annotate(n=Count("pk"))
            .order_by("referring_agency__kind")
        ),
        "reasons": list(
            Referral.reasons.through.objects.filter(referral__in=referrals)
            .values_list("referralreason__label")
            .annotate(n=Count("pk"))
            .order_by(F("n").desc(), "referralreason__label")
        ),
        "tiers": tiers,
    }


def _flow(f: Filters) -> dict[str, Any]:
    from forums.models import AgendaItem, Forum, Meeting
    from referrals.models import Referral

    referrals = _referrals(f)
    decided = referrals.filter(
        state__in=[Referral.State.ACCEPTED, Referral.State.REDIRECTED, Referral.State.DECLINED]
    )
    first_discussion = Subquery(
        AgendaItem.objects.filter(
            case=OuterRef("case"), meeting__starts_at__gte=OuterRef("submitted_at")
        )
        .order_by("meeting__starts_at")
        .values("meeting__starts_at")[:1]
    )
    accepted = referrals.filter(state=Referral.State.ACCEPTED)
    start, end = _bounds(f)
    meetings = Meeting.objects.filter(
        forum__kind=Forum.Kind.CSF,
        starts_at__range=(start, end),
        state__in=[Meeting.State.HELD, Meeting.State.MINUTES_APPROVED],
    ).aggregate(
        meetings=Count("pk", distinct=True),
        discussions=Count("items", filter=Q(items__case__isnull=False)),
    )
    repeat = accepted.aggregate(accepted=Count("pk"), repeat=Count("pk", filter=Q(is_repeat=True)))
    return {
        "per_month": [
            (m.date() if isinstance(m, datetime.datetime) else m, n)
            for m, n in referrals.annotate(m=TruncMonth("submitted_at"))
            .values_list("m")
            .annotate(n=Count("pk"))
            .order_by("m")
        ],
        "to_decision": _percentiles(decided, F("decided_at") - F("submitted_at")),
        "to_discussion": _percentiles(
            accepted.annotate(first=first_discussion), F("first") - F("submitted_at")
        ),
        "meetings": meetings,
        "repeat": repeat,
    }


def _reviews_pair(cases: QuerySet):
    """First and latest outcome reviews of cases with two or more."""
    from cases.models import OutcomeReview

    reviewed_twice = cases.annotate(n=Count("outcome_reviews")).filter(n__gte=2).values("pk")
    reviews = OutcomeReview.objects.filter(case__in=reviewed_twice)
    first = OutcomeReview.objects.filter(case=OuterRef("case")).order_by("period_start", "pk")
    latest = OutcomeReview.objects.filter(case=OuterRef("case")).order_by("-period_end", "-pk")
    return (
        reviews.filter(pk=Subquery(first.values("pk")[:1])),
        reviews.filter(pk=Subquery(latest.values("pk")[:1])),
    )


def _rates(reviews: QuerySet) -> dict[str, Any]:
    sums = reviews.aggregate(
        people=Count("case", distinct=True),
        police=Sum("police_contacts"),
        ambulance=Sum("ambulance_contacts"),
        ae=Sum("ae_attendances"),
        admissions=Sum("unplanned_admissions"),
        bnb=Sum("bnb_nights"),
        span=Sum(
            ExpressionWrapper(F("period_end") - F("period_start"), output_field=DurationField())
        ),
    )
    people = sums.pop("people") or 0
    span = sums.pop("span")
    days = (span.total_seconds() / 86400 if span else 0) + people  # periods include both ends
    months = days / 30.44 if days else 0
    return {
        "people": people,
        "months": round(months, 1),
        **{k: round((v or 0) / months, 2) if months else None for k, v in sums.items()},
    }


def _outcomes(f: Filters) -> dict[str, Any]:
    from assessments.models import Assessment
    from cases.models import Case as CaseModel
    from cases.models import HandOffAttempt, OutcomeReview, Risk

    cases = _cases(f)
    at_referral = Subquery(
        Risk.objects.filter(case=OuterRef("pk"))
        .values("case")
        .annotate(m=_max(_score("level_at_referral")))
        .values("m")
    )
    # A closed risk counts at its level at closure: closing a risk is not reducing it.
    now = Subquery(
        Risk.objects.filter(case=OuterRef("pk"))
        .values("case")
        .annotate(
            m=_max(
                Case(
                    When(status=Risk.Status.OPEN, then=_score("level")),
                    default=_score("level_at_closure"),
                    output_field=IntegerField(),
                )
            )
        )
        .values("m")
    )
    latest = OutcomeReview.objects.filter(case=OuterRef("pk")).order_by("-period_end", "-pk")
    reviewed = cases.filter(Exists(OutcomeReview.objects.filter(case=OuterRef("pk"))))
    scored = reviewed.annotate(ref=at_referral, now=now).filter(ref__gt=0)
    direction = scored.aggregate(
        reviewed=Count("pk"),
        reduced=Count("pk", filter=Q(now__isnull=True) | Q(now__lt=F("ref"))),
        unchanged=Count("pk", filter=Q(now=F("ref"))),
        increased=Count("pk", filter=Q(now__gt=F("ref"))),
    )
    high_at_referral = cases.aggregate(
        cases=Count("pk"),
        high=Count(
            "pk",
            filter=Q(Exists(Risk.objects.filter(case=OuterRef("pk"), level_at_referral__in=HIGH))),
        ),
        lost=Count(
            "pk", filter=Q(state=CaseModel.State.CLOSED, closure_outcome="lost_to_follow_up")
        ),
    )
    last = reviewed.annotate(
        last_status=Subquery(latest.values("accommodation_status")[:1]),
        last_satisfied=Subquery(latest.values("housing_satisfied")[:1]),
        last_avoidable=Subquery(latest.values("avoidable")[:1]),
    ).aggregate(
        reviewed=Count("pk"),
        housed=Count("pk", filter=Q(last_status__in=SETTLED, last_satisfied="yes")),
        avoidable=Count("pk", filter=Q(last_avoidable="yes")),
    )
    before, after = _reviews_pair(cases)
    standing = Assessment.objects.filter(state=Assessment.State.COMPLETED).exclude(
        corrections__state=Assessment.State.COMPLETED
    )
    first_score = Subquery(
        standing.filter(person=OuterRef("person"))
        .order_by("completed_at")
        .values("total_score")[:1]
    )
    last_score = Subquery(
        standing.filter(person=OuterRef("person"))
        .order_by("-completed_at")
        .values("total_score")[:1]
    )
    assessed = (
        cases.annotate(
            n=Subquery(
                standing.filter(person=OuterRef("person"))
                .values("person")
                .annotate(c=Count("pk"))
                .values("c")
            )
        )
        .filter(n__gte=2)
        .annotate(first=first_score, last=last_score)
        .aggregate(
            people=Count("pk"),
            change=Sum(F("last") - F("first")),
            improved=Count("pk", filter=Q(last__lt=F("first"))),
        )
    )
    start, end = _bounds(f)
    handoffs = HandOffAttempt.objects.filter(
        case__in=cases.values("pk"), attempted_at__range=(start, end)
    ).aggregate(attempts=Count("pk"), cases=Count("case", distinct=True))
    return {
        "risk": {**high_at_referral, **direction},
        "housing": last,
        "before": _rates(before),
        "after": _rates(after),
        "assessment": assessed,
        "handoffs": handoffs,
    }


def _max(expression):
    from django.db.models import Max

    return Max(expression)


def _system(f: Filters) -> dict[str, Any]:
    from forums.models import Action, SystemIssue

    start, end = _bounds(f)
    today = timezone.localdate()
    issues = SystemIssue.objects.filter(created_at__lte=end)
    actions = Action.objects.filter(created_at__range=(start, end))
    return {
        "issues": list(
            issues.values_list("theme", "status")
            .annotate(n=Count("pk"))
            .order_by("theme", "status")
        ),
        "actions": list(
            actions.values_list("owner_agency__name")
            .annotate(
                open=Count("pk", filter=Q(status__in=Action.OPEN_STATES, due_on__gte=today)),
                overdue=Count("pk", filter=Q(status__in=Action.OPEN_STATES, due_on__lt=today)),
                done=Count("pk", filter=Q(status=Action.Status.DONE)),
            )
            .order_by("owner_agency__name")
        ),
        "completion": actions.filter(status=Action.Status.DONE).aggregate(
            done=Count("pk"), in_time=Count("pk", filter=Q(completed_on__lte=F("due_on")))
        ),
    }


# --- unit costs ---------------------------------------------------------------------------


def unit_costs() -> dict[str, Decimal]:
    from reports.models import UnitCost

    return {c.item: c.amount for c in UnitCost.objects.all()}


def monthly_cost(rates: dict[str, Any], costs: dict[str, Decimal]) -> Decimal | None:
    if rates.get("police") is None:
        return None
    total = Decimal(0)
    for item, key in (
        ("police", "police"),
        ("ambulance", "ambulance"),
        ("ae", "ae"),
        ("admission", "admissions"),
        ("bnb_night", "bnb"),
    ):
        total += Decimal(str(rates[key] or 0)) * costs.get(item, Decimal(0))
    return total.quantize(Decimal("1"))


# --- presentation: small-number suppression ------------------------------------------------

HIDDEN = "[c]"  # hidden so that a suppressed small number cannot be worked out


def cell(n: int | None) -> Any:
    if n is None:
        return "–"
    return "<5" if n in SMALL else n


def distribution(counts: list[int]) -> list[Any]:
    """Suppress 1-4; if only one cell is suppressed, hide the next smallest too."""
    shown: list[Any] = [cell(c) for c in counts]
    small = [i for i, c in enumerate(counts) if c in SMALL]
    if len(small) == 1:
        others = sorted((c, i) for i, c in enumerate(counts) if i not in small and c > 0)
        if others:
            shown[others[0][1]] = HIDDEN
    return shown


def fraction(num: int | None, den: int | None) -> tuple[Any, str]:
    """A count out of a total, and its percentage, unless either side is small."""
    num, den = num or 0, den or 0
    if den == 0:
        return 0, "–"
    if num in SMALL:
        return "<5", "–"
    if (den - num) in SMALL:
        return HIDDEN, "–"
    return num, f"{round(100 * num / den)}%"


def _labels(choices) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


def _dist_table(key, title, column, pairs, labels=None, chart="bar", note="") -> Table:
    labels = labels or {}
    counts = [n for _, n in pairs]
    shown = distribution(counts)
    rows = [
        [labels.get(v, v if v not in (None, "") else "Not recorded"), s]
        for (v, _), s in zip(pairs, shown, strict=True)
    ]
    return Table(key, title, [column, "Referrals"], rows, distribution=True, chart=chart, note=note)


def present(
    data: dict[str, Any], costs: dict[str, Decimal], placeholder_costs: bool
) -> list[Table]:
    from cases.models import Gender
    from csf_portal.models import AgencyKind
    from forums.models import SystemIssue

    c, fl, o, sy = data["cohort"], data["flow"], data["outcomes"], data["system"]
    s = c["summary"]
    tables = [
        Table(
            "cohort",
            "Cohort",
            ["Measure", "Number"],
            [
                ["Referrals received", cell(s["referrals"])],
                ["People referred", cell(s["people"])],
                ["Referrals accepted", cell(s["accepted"])],
                ["Cases open now", cell(s["active"])],
                ["Cases closed", cell(s["closed"])],
            ],
        ),
        _dist_table(
            "gender", "Referrals by gender", "Gender", c["gender"], _labels(Gender.choices)
        ),
        _dist_table("age", "Referrals by age band", "Age at the end of the period", c["age"]),
        _dist_table(
            "domains",
            "Referrals by number of MEAM domains",
            "MEAM domains",
            c["domains"],
            {n: f"{n} domain{'s' if n != 1 else ''}" for n in range(5)},
        ),
        _dist_table(
            "agency_kind",
            "Referrals by referring agency kind",
            "Agency kind",
            c["agency_kind"],
            _labels(AgencyKind.choices),
        ),
        Table(
            "reasons",
            "Referral reasons (a referral may give several)",
            ["Reason", "Referrals"],
            [[label, cell(n)] for label, n in c["reasons"]],
        ),
        Table(
            "tiers",
            "Accepted referrals by cohort tier",
            ["Tier", "Referrals"],
            [
                [label, shown]
                for label, shown in zip(
                    ["Core: high risk and 2 or more domains", "At risk: one of those", "Stable"],
                    distribution([c["tiers"]["core"], c["tiers"]["at_risk"], c["tiers"]["stable"]]),
                    strict=True,
                )
            ],
            distribution=True,
            chart="bar",
        ),
        Table(
            "per_month",
            "Referrals per month",
            ["Month", "Referrals"],
            [
                [f"{m:%b %Y}", shown]
                for (m, _), shown in zip(
                    fl["per_month"], distribution([n for _, n in fl["per_month"]]), strict=True
                )
            ],
            distribution=True,
            chart="bar",
        ),
    ]
    timing_rows = []
    for label, t in (
        ("Referral to triage decision", fl["to_decision"]),
        ("Referral to first forum discussion", fl["to_discussion"]),
    ):
        enough = t["n"] >= 5
        timing_rows.append(
            [
                label,
                cell(t["n"]),
                t["median"] if enough else "–",
                t["p90"] if enough else "–",
            ]
        )
    tables.append(
        Table(
            "timings",
            "Time taken (days)",
            ["Step", "Referrals", "Median", "90th percentile"],
            timing_rows,
        )
    )
    meetings = fl["meetings"]
    per_meeting = (
        round(meetings["discussions"] / meetings["meetings"], 1) if meetings["meetings"] else "–"
    )
    repeat_n, repeat_pct = fraction(fl["repeat"]["repeat"], fl["repeat"]["accepted"])
    tables.append(
        Table(
            "forum",
            "The forum",
            ["Measure", "Number", "Rate"],
            [
                ["Creative Solutions Forum meetings held", cell(meetings["meetings"]), ""],
                ["Case discussions", cell(meetings["discussions"]), f"{per_meeting} per meeting"],
                ["Repeat referrals (the revolving door)", repeat_n, repeat_pct],
            ],
        )
    )
    r = o["risk"]
    high_n, high_pct = fraction(r["high"], r["cases"])
    lost_n, lost_pct = fraction(r["lost"], r["cases"])
    direction = distribution([r["reduced"], r["unchanged"], r["increased"]])
    pct = [
        f"{round(100 * n / r['reviewed'])}%"
        if r["reviewed"] and shown not in ("<5", HIDDEN)
        else "–"
        for n, shown in zip([r["reduced"], r["unchanged"], r["increased"]], direction, strict=True)
    ]
    tables.append(
        Table(
            "risk",
            "Risk",
            ["Measure", "Cases", "Rate"],
            [
                ["Cases accepted", cell(r["cases"]), ""],
                ["Presenting with high or very high risk at referral", high_n, high_pct],
                ["Reviewed cases whose risk has reduced", direction[0], pct[0]],
                ["Reviewed cases whose risk is unchanged", direction[1], pct[1]],
                ["Reviewed cases whose risk has increased", direction[2], pct[2]],
                ["Lost to follow-up", lost_n, lost_pct],
            ],
            chart="",
        )
    )
    before, after = o["before"], o["after"]
    enough = before["people"] >= 5
    rows = []
    for label, key in (
        ("Police contacts", "police"),
        ("Ambulance call-outs", "ambulance"),
        ("A&E attendances", "ae"),
        ("Unplanned admissions", "admissions"),
        ("Nights in B&B or emergency accommodation", "bnb"),
    ):
        rows.append([label, before[key] if enough else "–", after[key] if enough else "–"])
    tables.append(
        Table(
            "before_after",
            "Emergency services and B&B, per person per month",
            ["Contact", "When the forum took the case on", "At the latest review"],
            rows,
            note=f"Cases with two or more outcome reviews: {cell(before['people'])}.",
            chart="grouped",
        )
    )
    before_cost = monthly_cost(before, costs) if enough else None
    after_cost = monthly_cost(after, costs) if enough else None
    saving = (
        (before_cost - after_cost) if before_cost is not None and after_cost is not None else None
    )
    money = lambda v: f"£{v:,.0f}" if v is not None else "–"  # noqa: E731
    tables.append(
        Table(
            "costs",
            "Estimated cost of emergency contacts and B&B nights",
            ["Measure", "Per person"],
            [
                ["A month, when the forum took the case on", money(before_cost)],
                ["A month, at the latest review", money(after_cost)],
                ["Avoided a month", money(saving)],
                ["Avoided a year", money(saving * 12 if saving is not None else None)],
                [
                    "Reference: spent on each person facing these problems, a year",
                    money(Decimal(REFERENCE_COST_PER_PERSON_YEAR)),
                ],
            ],
            note=(
                "Unit costs include placeholder values an administrator has not yet replaced: "
                "treat these estimates as illustrative. "
                if placeholder_costs
                else ""
            )
            + "The reference figure is the £19,000 a year from the commissioning plan.",
        )
    )
    h = o["housing"]
    housed_n, housed_pct = fraction(h["housed"], h["reviewed"])
    avoid_n, avoid_pct = fraction(h["avoidable"], h["reviewed"])
    a = o["assessment"]
    improved_n, improved_pct = fraction(a["improved"], a["people"])
    average = round(a["change"] / a["people"], 1) if a["people"] and a["people"] >= 5 else "–"
    tables.append(
        Table(
            "results",
            "Housing, assessment and system learning",
            ["Measure", "Cases", "Rate"],
            [
                ["Cases with an outcome review", cell(h["reviewed"]), ""],
                ["Housing option achieved and satisfied with it", housed_n, housed_pct],
                ["Could have been avoided had services been joined up", avoid_n, avoid_pct],
                ["People assessed twice or more", cell(a["people"]), ""],
                ["Assessment score improved (fewer needs)", improved_n, improved_pct],
                ["Average change in assessment score", average, ""],
                ["Attempted hand-offs", cell(o["handoffs"]["attempts"]), ""],
                ["Cases with an attempted hand-off", cell(o["handoffs"]["cases"]), ""],
            ],
        )
    )
    themes = _labels(SystemIssue.Theme.choices)
    statuses = _labels(SystemIssue.Status.choices)
    issue_counts = [n for _, _, n in sy["issues"]]
    tables.append(
        Table(
            "issues",
            "System issues by theme and status",
            ["Theme", "Status", "Issues"],
            [
                [themes.get(t, t), statuses.get(st, st), shown]
                for (t, st, _), shown in zip(sy["issues"], distribution(issue_counts), strict=True)
            ],
            distribution=True,
        )
    )
    tables.append(
        Table(
            "actions",
            "Forum actions agreed in the period, by owning agency",
            ["Agency", "Open", "Overdue", "Done"],
            [[name, cell(op), cell(ov), cell(dn)] for name, op, ov, dn in sy["actions"]],
        )
    )
    done_n, done_pct = fraction(sy["completion"]["in_time"], sy["completion"]["done"])
    tables.append(
        Table(
            "completion",
            "Actions completed by their due date",
            ["Measure", "Actions", "Rate"],
            [
                ["Actions done", cell(sy["completion"]["done"]), ""],
                ["Done by the due date", done_n, done_pct],
            ],
        )
    )
    return tables
