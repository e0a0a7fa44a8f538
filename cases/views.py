"""Person and case pages. Every view of person-level data is written to the access log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views import View

import access
from cases import selectors, services
from cases.forms import (
    AgreePlanForm,
    CarePlanItemForm,
    CaseStateForm,
    EmergencyAccessForm,
    ReviewForm,
    RiskForm,
)
from csf_portal.errors import DomainError
from csf_portal.pagination import LookaheadPaginator
from csf_portal.types import AuthenticatedHttpRequest


def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    # No total is shown, so none is counted: an agency may see 100,000s of cases.
    page = LookaheadPaginator(selectors.case_list_visible_to(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    access.record_list_access(user=request.user, request=request, what="cases.case")
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "can_request_emergency_access": access.can_request_emergency_access(request.user),
        },
    )


def _case_risk(request: AuthenticatedHttpRequest, pk: Any, risk_id: Any):
    return selectors.risk_for(user=request.user, case_id=pk, risk_id=risk_id)


class RiskAddView(View):
    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        return render(request, "cases/risk_form.html", {"case": case, "form": RiskForm(new=True)})

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        form = RiskForm(request.POST, new=True)
        if form.is_valid():
            data = form.cleaned_data
            services.risk_add(
                actor=request.user,
                case=case,
                category=data["category"],
                level=data["level"],
                description=data["description"],
                mitigations=data["mitigations"],
            )
            messages.success(
                request, "Risk added. Ask the agencies who will share it to accept it."
            )
            return redirect("cases:detail", case.pk)
        return render(request, "cases/risk_form.html", {"case": case, "form": form})


class RiskEditView(View):
    def get(self, request: AuthenticatedHttpRequest, pk: Any, risk_id: Any) -> HttpResponse:
        case, risk = _case_risk(request, pk, risk_id)
        access.record_access(user=request.user, obj=case, request=request, reason="risk")
        form = RiskForm(
            initial={
                "level": risk.level,
                "description": risk.description,
                "mitigations": risk.mitigations,
                "version": risk.version,
            }
        )
        return render(request, "cases/risk_form.html", {"case": case, "risk": risk, "form": form})

    def post(self, request: AuthenticatedHttpRequest, pk: Any, risk_id: Any) -> HttpResponse:
        case, risk = _case_risk(request, pk, risk_id)
        form = RiskForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.risk_update(
                    actor=request.user,
                    risk=risk,
                    expected_version=data["version"] or 0,
                    level=data["level"],
                    description=data["description"],
                    mitigations=data["mitigations"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                risk.refresh_from_db()
                # Keep what they typed; saving again now means they have seen the change.
                data = request.POST.copy()
                data["version"] = str(risk.version)
                form.data = data
            else:
                messages.success(request, "Risk updated.")
                return redirect("cases:detail", case.pk)
        return render(request, "cases/risk_form.html", {"case": case, "risk": risk, "form": form})


class RiskAcceptView(View):
    """My agency accepts a share of this risk, through me."""

    def post(self, request: AuthenticatedHttpRequest, pk: Any, risk_id: Any) -> HttpResponse:
        case, risk = _case_risk(request, pk, risk_id)
        agency = request.user.agency
        if agency is None:
            raise Http404
        try:
            services.risk_owner_add(
                actor=request.user, risk=risk, agency=agency, accepted_by=request.user
            )
        except DomainError as exc:
            messages.info(request, exc.message)
        else:
            messages.success(request, f"{request.user.agency} now shares this risk.")
        return redirect("cases:detail", case.pk)


class EmergencyAccessView(View):
    """Break-glass: find a record by identifiers, with a reason, for a few hours.

    Users who may not break glass get a 404: the page does not exist for them.
    """

    template_name = "cases/emergency.html"

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not access.can_request_emergency_access(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": EmergencyAccessForm()})

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = EmergencyAccessForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.break_glass_request(
                    actor=request.user,
                    nhs_number=data["nhs_number"],
                    family_name=data["family_name"],
                    date_of_birth=data["date_of_birth"],
                    reason=data["reason"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return redirect("cases:detail", grant.case_id)
        return render(request, self.template_name, {"form": form})


def emergency_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not access.can_triage_referrals(request.user):
        raise Http404
    grants = selectors.emergency_grants_to_review(user=request.user)
    return render(request, "cases/emergency_review.html", {"grants": grants})


class EmergencyReviewView(View):
    def post(self, request: AuthenticatedHttpRequest, grant_id: Any) -> HttpResponse:
        grant = selectors.emergency_grant_for(user=request.user, grant_id=grant_id)
        form = ReviewForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            services.break_glass_review(actor=request.user, grant=grant, note=note)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Emergency access reviewed.")
        return redirect("cases:emergency_review")


def _plan_context(request: AuthenticatedHttpRequest, case: Any, plan: Any, form: Any = None):
    agreed = selectors.agreed_care_plan(case=case)
    return {
        "case": case,
        "plan": plan,
        "items": list(plan.items.select_related("agency", "named_worker")),
        "form": form or CarePlanItemForm(case=case, initial={"edit_version": plan.edit_version}),
        "changes": services.care_plan_changes(before=agreed, after=plan),
        "blocking": services.risks_blocking_care_plan(case=case),
        "can_agree": access.can_triage_referrals(request.user),
        "agree_form": AgreePlanForm(case=case),
    }


class CarePlanDraftView(View):
    """The draft care plan: add and remove items; the chair records it as agreed."""

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        plan = services.care_plan_draft(actor=request.user, case=case)
        access.record_access(user=request.user, obj=case, request=request, reason="care plan")
        return render(request, "cases/care_plan_draft.html", _plan_context(request, case, plan))

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        plan = services.care_plan_draft(actor=request.user, case=case)
        if "remove" in request.POST:
            try:
                services.care_plan_item_remove(
                    actor=request.user,
                    plan=plan,
                    expected_edit_version=int(request.POST.get("edit_version") or 0),
                    item_id=int(request.POST.get("remove") or 0),
                )
            except DomainError as exc:
                messages.info(request, exc.message)
            return redirect("cases:care_plan", case.pk)
        form = CarePlanItemForm(request.POST, case=case)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.care_plan_item_add(
                    actor=request.user,
                    plan=plan,
                    expected_edit_version=data["edit_version"],
                    what=data["what"],
                    agency=data["agency"],
                    named_worker=data["named_worker"],
                    by_when=data["by_when"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                plan.refresh_from_db()
                data = request.POST.copy()
                data["edit_version"] = str(plan.edit_version)
                form.data = data
            else:
                messages.success(request, "Added to the draft plan.")
                return redirect("cases:care_plan", case.pk)
        return render(
            request, "cases/care_plan_draft.html", _plan_context(request, case, plan, form)
        )


def care_plan_version(request: AuthenticatedHttpRequest, pk: Any, version: int) -> HttpResponse:
    case = access.case_for(user=request.user, case_id=pk)
    shown = selectors.care_plan_version(case=case, version=version)
    access.record_access(user=request.user, obj=case, request=request, reason="care plan")
    changes = services.care_plan_changes(before=shown["previous"], after=shown["plan"])
    return render(
        request,
        "cases/care_plan_version.html",
        {"case": case, "changes": changes, **shown},
    )


class CaseStateView(View):
    def _case(self, request: AuthenticatedHttpRequest, pk: Any):
        case = access.case_for(user=request.user, case_id=pk)
        if not access.can_triage_referrals(request.user):
            raise Http404
        return case

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = self._case(request, pk)
        return render(request, "cases/case_state.html", {"case": case, "form": CaseStateForm()})

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = self._case(request, pk)
        form = CaseStateForm(request.POST)
        if form.is_valid():
            try:
                services.case_set_state(actor=request.user, case=case, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else "state", exc.message)
            else:
                messages.success(request, "Case status changed.")
                return redirect("cases:detail", case.pk)
        return render(request, "cases/case_state.html", {"case": case, "form": form})
