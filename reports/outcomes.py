"""The commissioners' dashboard and its exports: CSV, XLSX, and PDF via the documents pipeline."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import uuid
from typing import Any

from crispy_forms_gds.layout import Field
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

import access
from cases.models import MeamDomain
from csf_portal.forms import GovukDateField, GovukFormMixin
from csf_portal.models import AgencyKind, User
from csf_portal.types import AuthenticatedHttpRequest
from reports import charts, dashboard


class PeriodForm(GovukFormMixin, forms.Form):
    submit_label = "Show"
    start = GovukDateField(label="From")
    end = GovukDateField(label="To")
    agency_kind = forms.ChoiceField(
        label="Referring agency kind",
        required=False,
        choices=[("", "All"), *AgencyKind.choices],
    )
    meam = forms.ChoiceField(
        label="MEAM domain", required=False, choices=[("", "All"), *MeamDomain.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field("start"), Field("end"), Field.select("agency_kind"), Field.select("meam")
        )
        self.helper.form_method = "get"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end of the period must be on or after its start")
        return data

    def filters(self) -> dashboard.Filters:
        d = self.cleaned_data
        return dashboard.Filters(
            start=d["start"], end=d["end"], agency_kind=d["agency_kind"], meam=d["meam"]
        )


def _period(request: AuthenticatedHttpRequest) -> tuple[PeriodForm, dashboard.Filters]:
    default = dashboard.Filters.default()
    if any(k.startswith(("start", "end", "agency_kind", "meam")) for k in request.GET):
        form = PeriodForm(request.GET)
        if form.is_valid():
            return form, form.filters()
        return form, default
    initial = {"start": default.start, "end": default.end}
    return PeriodForm(initial=initial), default


# The figures are aggregates over every referral, case, review and action in the
# period: at city scale they take seconds to compute (ADR 0006). They are kept in
# the cache for a few minutes, keyed by period, filters and unit costs, and the
# page says when they were worked out; a beat task keeps the default view warm.
_GENERATION_KEY = "outcomes:generation"


def _generation() -> str:
    generation = cache.get(_GENERATION_KEY)
    if generation is None:
        cache.add(_GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(_GENERATION_KEY, "")
    return str(generation)


def figures_invalidate() -> None:
    """Forget every kept figure: the next request works them out again."""
    cache.set(_GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def _key(filters: dashboard.Filters, costs: dict, placeholder: bool, with_charts: bool) -> str:
    return (
        "outcomes:tables:"
        + hashlib.sha256(
            json.dumps(
                [
                    _generation(),
                    filters.as_params(),
                    sorted((k, str(v)) for k, v in costs.items()),
                    placeholder,
                    with_charts,
                ]
            ).encode()
        ).hexdigest()
    )


def tables_key(filters: dashboard.Filters, *, with_charts: bool = True) -> str:
    """Where the tables for ``filters`` are kept in the cache."""
    from reports.models import UnitCost

    placeholder = UnitCost.objects.filter(is_placeholder=True).exists()
    return _key(filters, dashboard.unit_costs(), placeholder, with_charts)


def tables_as_at(
    filters: dashboard.Filters, *, with_charts: bool = True, refresh: bool = False
) -> tuple[list[dashboard.Table], datetime.datetime]:
    """The dashboard's tables for ``filters`` and when their figures were worked out.

    Kept figures older than ``OUTCOMES_CACHE_SECONDS`` are worked out again by
    one request, which takes a short lock; requests arriving meanwhile get the
    kept ones rather than all working the same figures out at once.
    """
    from reports.models import UnitCost

    costs = dashboard.unit_costs()
    placeholder = UnitCost.objects.filter(is_placeholder=True).exists()
    key = _key(filters, costs, placeholder, with_charts)
    lock = f"{key}:lock"
    kept = None if refresh else cache.get(key)
    if kept is not None:
        age = (timezone.now() - kept[1]).total_seconds()
        if age < settings.OUTCOMES_CACHE_SECONDS or not cache.add(lock, 1, timeout=300):
            return kept
    try:
        tables = dashboard.present(dashboard.figures(filters), costs, placeholder)
        if with_charts:
            tables = charts.with_charts(tables)
        result = (tables, timezone.now())
        cache.set(key, result, timeout=2 * settings.OUTCOMES_CACHE_SECONDS)
    finally:
        if kept is not None:
            cache.delete(lock)
    return result


def tables_for(filters: dashboard.Filters, *, with_charts: bool = True) -> list[dashboard.Table]:
    return tables_as_at(filters, with_charts=with_charts)[0]


SECTIONS = [
    ("Cohort", ["cohort", "tiers", "gender", "age", "domains", "agency_kind", "reasons"]),
    ("Flow", ["per_month", "timings", "forum"]),
    ("Outcomes", ["risk", "before_after", "results"]),
    ("Cost avoidance", ["costs"]),
    ("System", ["issues", "actions", "completion"]),
]


def _sections(tables: list[dashboard.Table]) -> list[tuple[str, list[dashboard.Table]]]:
    by_key = {t.key: t for t in tables}
    return [(title, [by_key[k] for k in keys]) for title, keys in SECTIONS]


def outcomes_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not access.can_view_outcomes(request.user):
        raise Http404
    form, filters = _period(request)
    query = "&".join(f"{k}={v}" for k, v in _query(filters).items())
    tables, as_at = tables_as_at(filters)
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "form_key": _form_key(request, form, filters),
            "filters": filters,
            "as_at": as_at,
            "cache_minutes": max(1, settings.OUTCOMES_CACHE_SECONDS // 60),
            "fragment_seconds": 2 * settings.OUTCOMES_CACHE_SECONDS,
            "sections": _sections(tables),
            "query": query,
            "report_fields": list(_query(filters).items()),
        },
    )


def _form_key(request: AuthenticatedHttpRequest, form: PeriodForm, filters) -> str | None:
    """What the period form's rendering depends on, for keeping it with the figures.

    The form and the tables are the same for every commissioner asking for the same
    figures, and rendering them was most of the page's time (ADR 0006). A form
    with errors is rendered afresh each time.
    """
    if form.is_bound and not form.is_valid():
        return None
    if not form.is_bound:
        return f"default:{filters.start.isoformat()}:{filters.end.isoformat()}"
    return "asked:" + json.dumps([request.GET.get(name, "") for name in _query(filters)])


def _query(filters: dashboard.Filters) -> dict[str, Any]:
    return {
        "start_0": filters.start.day,
        "start_1": filters.start.month,
        "start_2": filters.start.year,
        "end_0": filters.end.day,
        "end_1": filters.end.month,
        "end_2": filters.end.year,
        "agency_kind": filters.agency_kind,
        "meam": filters.meam,
    }


def export_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not access.can_view_outcomes(request.user):
        raise Http404
    _, filters = _period(request)
    tables = {t.key: t for t in tables_for(filters, with_charts=False)}
    table = tables.get(request.GET.get("table", ""))
    if table is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="csf-{table.key}-{filters.start}-{filters.end}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([f"{table.title}, {filters.start} to {filters.end}"])
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    if table.note:
        writer.writerow([table.note])
    return response


def export_xlsx(request: AuthenticatedHttpRequest) -> HttpResponse:
    import xlsxwriter

    if not access.can_view_outcomes(request.user):
        raise Http404
    _, filters = _period(request)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    about = book.add_worksheet("About")
    about.write(0, 0, "CSF Portal outcomes", bold)
    about.write(1, 0, f"Period: {filters.start} to {filters.end}")
    about.write(2, 0, "Numbers from 1 to 4 are shown as <5; [c] hides a second cell so they")
    about.write(3, 0, "cannot be worked out by subtraction. OFFICIAL.")
    for table in tables_for(filters, with_charts=False):
        sheet = book.add_worksheet(table.key[:31])
        sheet.write(0, 0, table.title, bold)
        sheet.write_row(1, 0, table.columns, bold)
        for r, row in enumerate(table.rows, start=2):
            sheet.write_row(r, 0, row)
        if table.note:
            sheet.write(len(table.rows) + 3, 0, table.note)
        sheet.set_column(0, 0, 48)
        sheet.set_column(1, len(table.columns), 18)
    book.close()
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="csf-outcomes-{filters.start}-{filters.end}.xlsx"'
    )
    return response


class OutcomesReportView(View):
    """A PDF of the dashboard for the period, produced by the documents pipeline."""

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        from reports import services

        if not access.can_view_outcomes(request.user):
            raise Http404
        form = PeriodForm(request.POST)
        filters = form.filters() if form.is_valid() else dashboard.Filters.default()
        document = services.outcomes_report_request(actor=request.user, filters=filters)
        return redirect("reports:document", document.pk)


def outcomes_report_html(*, params: dict[str, str], recipient: User) -> str:
    import datetime

    from django.template.loader import render_to_string
    from django.utils import timezone

    filters = dashboard.Filters(
        start=datetime.date.fromisoformat(params["start"]),
        end=datetime.date.fromisoformat(params["end"]),
        agency_kind=params.get("agency_kind", ""),
        meam=params.get("meam", ""),
    )
    return render_to_string(
        "pdf/outcomes.html",
        {
            "filters": filters,
            "sections": _sections(tables_for(filters)),
            "recipient": recipient,
            "produced_at": timezone.now(),
            "agency_kind": dict(AgencyKind.choices).get(filters.agency_kind, ""),
            "meam": dict(MeamDomain.choices).get(filters.meam, ""),
        },
    )
