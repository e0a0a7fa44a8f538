"""Person and case pages. Every view of person-level data is written to the access log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

import access
from cases import selectors, services
from cases.forms import (
    AgreePlanForm,
    CarePlanItemForm,
    CaseStateForm,
    EmergencyAccessForm,
    InvolvementForm,
    ReviewForm,
    RiskForm,
    RiskStatusForm,
)
from cases.models import CarePlan, Case, Risk
from csf_portal.edits import VersionedEditView
from csf_portal.errors import DomainError
from csf_portal.forms import posted_int
from csf_portal.pagination import LookaheadPaginator
from csf_portal.types import AuthenticatedHttpRequest


def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    # No total is shown, so none is counted: an agency may see 100,000s of cases.
    page = LookaheadPaginator(selectors.case_list_visible_to(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    access.record_list_access(user=request.user, request=request, what="cases.case")
    return render(request, "cases/case_list.html", {"page": page})


def _case_risk(request: AuthenticatedHttpRequest, pk: Any, risk_id: Any):
    return selectors.risk_for(user=request.user, case_id=pk, risk_id=risk_id)


def _contributing_case(request: AuthenticatedHttpRequest, pk: Any) -> Case:
    """A case the user's agency works on: emergency or meeting-time access only reads."""
    case = access.case_for(user=request.user, case_id=pk)
    if not access.can_contribute_to_case(request.user, case):
        raise Http404
    return case


class RiskAddView(View):
    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = _contributing_case(request, pk)
        return render(request, "cases/risk_form.html", {"case": case, "form": RiskForm(new=True)})

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = _contributing_case(request, pk)
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


class RiskEditView(VersionedEditView):
    """Edit a risk against the version read (a concurrent edit is shown, never overwritten)."""

    success_message = "Risk updated."

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any, risk_id: Any) -> Risk:
        self.case, risk = _case_risk(request, pk, risk_id)
        return risk

    def get_form(
        self, request: AuthenticatedHttpRequest, risk: Risk, data: Any = None
    ) -> RiskForm | None:
        if risk.status == Risk.Status.CLOSED:
            return None  # reopened first (a POST is a 404)
        fields = ("level", "description", "mitigations", "version")
        return RiskForm(data, initial={f: getattr(risk, f) for f in fields})

    def save(self, request: AuthenticatedHttpRequest, risk: Risk, data: dict[str, Any]) -> None:
        services.risk_update(
            actor=request.user,
            risk=risk,
            expected_version=data["version"] or 0,
            level=data["level"],
            description=data["description"],
            mitigations=data["mitigations"],
        )

    def success_url(self, risk: Risk) -> str:
        return reverse("cases:detail", args=[self.case.pk])

    def render_page(self, request: AuthenticatedHttpRequest, risk: Risk, form: Any) -> HttpResponse:
        if form is None or not form.is_bound:
            access.record_access(user=request.user, obj=self.case, request=request, reason="risk")
        context = {"case": self.case, "risk": risk, "form": form}
        return render(request, "cases/risk_form.html", context)


class _RiskStatusView(VersionedEditView):
    """Agree a risk's closure, or reopen it, against the version read."""

    closing = True

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any, risk_id: Any) -> Risk:
        self.case, risk = _case_risk(request, pk, risk_id)
        self.state = selectors.risk_closure_state(user=request.user, risk=risk)
        return risk

    def get_form(self, request: AuthenticatedHttpRequest, risk: Risk, data: Any = None) -> Any:
        if not self.state["can_agree" if self.closing else "can_reopen"]:
            return None
        pending = self.state["agreements"][:1] if self.closing else []
        initial = {"version": risk.version, "level": risk.level}
        if pending:
            initial |= {"level": pending[0].level, "reason": pending[0].reason}
        return RiskStatusForm(data, initial=initial, closing=self.closing)

    def success_url(self, risk: Risk) -> str:
        return reverse("cases:detail", args=[self.case.pk])

    def render_page(self, request: AuthenticatedHttpRequest, risk: Risk, form: Any) -> HttpResponse:
        if form is None or not form.is_bound:
            access.record_access(user=request.user, obj=self.case, request=request, reason="risk")
        context = {"case": self.case, "risk": risk, "form": form, "closing": self.closing}
        return render(request, "cases/risk_status.html", context | self.state)


class RiskCloseView(_RiskStatusView):
    def save(self, request: AuthenticatedHttpRequest, risk: Risk, data: dict[str, Any]) -> None:
        done = services.risk_closure_agree(
            actor=request.user,
            risk=risk,
            expected_version=data["version"] or 0,
            level=data["level"],
            reason=data["reason"],
        )
        self.success_message = (
            "Risk closed: every agency that owns it agreed."
            if done.status == Risk.Status.CLOSED
            else "Your agency's agreement is recorded. The risk closes when every owner agrees."
        )


class RiskReopenView(_RiskStatusView):
    closing = False
    success_message = "Risk reopened."

    def save(self, request: AuthenticatedHttpRequest, risk: Risk, data: dict[str, Any]) -> None:
        services.risk_reopen(
            actor=request.user,
            risk=risk,
            expected_version=data["version"] or 0,
            level=data["level"],
            reason=data["reason"],
        )


class InvolvementView(VersionedEditView):
    """An agency's named worker and crisis contacts on a case: who it is and was; changed
    (by the agency, or the chair) against the version read."""

    success_message = "Worker and contacts saved."

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any, involvement_id: Any) -> Any:
        self.case, involvement = selectors.involvement_for(
            user=request.user, case_id=pk, involvement_id=involvement_id
        )
        return involvement

    def get_form(
        self, request: AuthenticatedHttpRequest, involvement: Any, data: Any = None
    ) -> Any:
        if not access.can_change_named_worker(request.user, involvement):
            return None
        fields = ("named_worker", "work_phone", "team_inbox", "out_of_hours", "version")
        initial = {f: getattr(involvement, f) for f in fields}
        workers = access.named_workers_for(involvement=involvement)
        return InvolvementForm(data, initial=initial, workers=workers, agency=involvement.agency)

    def save(
        self, request: AuthenticatedHttpRequest, involvement: Any, data: dict[str, Any]
    ) -> None:
        services.involvement_update(
            actor=request.user,
            involvement=involvement,
            expected_version=data["version"] or 0,
            **{k: data[k] for k in InvolvementForm.base_fields if k != "version"},
        )

    def success_url(self, involvement: Any) -> str:
        return reverse("cases:detail", args=[self.case.pk])

    def render_page(
        self, request: AuthenticatedHttpRequest, involvement: Any, form: Any
    ) -> HttpResponse:
        if form is None or not form.is_bound:
            access.record_access(
                user=request.user, obj=self.case, request=request, reason="named worker"
            )
        history = selectors.named_worker_history(involvement=involvement)
        context = {"case": self.case, "involvement": involvement, "form": form, "history": history}
        return render(request, "cases/involvement.html", context)


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
    if not access.can_review_emergency_access(request.user):
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
    saved = not plan._state.adding  # else the next version, not started yet
    return {
        "case": case,
        "plan": plan,
        "saved": saved,
        "items": selectors.care_plan_items(plan=plan if saved else agreed),
        "form": form or CarePlanItemForm(case=case, initial={"edit_version": plan.edit_version}),
        "changes": services.care_plan_changes(before=agreed, after=plan) if saved else {},
        "blocking": services.risks_blocking_care_plan(case=case),
        "agree_form": AgreePlanForm(case=case),
    }


class CarePlanDraftView(VersionedEditView):
    """The draft care plan: add and remove items; the chair records it as agreed."""

    version_field = "edit_version"
    success_message = "Added to the draft plan."

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any) -> CarePlan:
        # To read: the draft, or the next version unsaved (GET never writes).
        self.case = _contributing_case(request, pk)
        return selectors.care_plan_draft_or_next(case=self.case)

    def get_object_for_edit(self, request: AuthenticatedHttpRequest, pk: Any) -> CarePlan:
        self.case = _contributing_case(request, pk)
        return services.care_plan_draft(actor=request.user, case=self.case)

    def get_form(self, request: AuthenticatedHttpRequest, plan: CarePlan, data: Any = None) -> Any:
        initial = {"edit_version": plan.edit_version}
        return CarePlanItemForm(data, case=self.case, initial=initial)

    def save(self, request: AuthenticatedHttpRequest, plan: CarePlan, data: dict[str, Any]) -> None:
        fields = ("what", "agency", "named_worker", "by_when")
        services.care_plan_item_add(
            actor=request.user,
            plan=plan,
            expected_edit_version=data["edit_version"],
            **{f: data[f] for f in fields},
        )

    def success_url(self, plan: CarePlan) -> str:
        return reverse("cases:care_plan", args=[self.case.pk])

    def render_page(
        self, request: AuthenticatedHttpRequest, plan: CarePlan, form: Any
    ) -> HttpResponse:
        if not form.is_bound:
            access.record_access(
                user=request.user, obj=self.case, request=request, reason="care plan"
            )
        context = _plan_context(request, self.case, plan, form)
        return render(request, "cases/care_plan_draft.html", context)

    def post(self, request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "remove" not in request.POST:
            return super().post(request, *args, **kwargs)
        _remove_item(request, self.get_object_for_edit(request, *args, **kwargs))
        return redirect("cases:care_plan", self.case.pk)


def _remove_item(request: AuthenticatedHttpRequest, plan: CarePlan) -> None:
    try:
        services.care_plan_item_remove(
            actor=request.user,
            plan=plan,
            expected_edit_version=posted_int(request.POST.get("edit_version")),
            item_id=posted_int(request.POST.get("remove")),
        )
    except DomainError as exc:
        messages.info(request, exc.message)


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
        if not access.can_record_forum_decisions(request.user):
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
