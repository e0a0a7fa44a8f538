"""The pages that gather several apps: home (my work), a person, a case, the case actions a
forum decides (agreeing a plan, an agency leaving), outcome reviews, and the chairs' log of
role changes. Every view of person-level data is written to the access log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

import access
from assessments.selectors import latest_completed, person_assessment_summary
from cases import selectors as case_selectors
from cases import services
from cases.forms import AgreePlanForm, LeaveCaseForm, OutcomeReviewForm
from cases.models import Case
from cases.views import _contributing_case, _plan_context
from consent.selectors import sharing_bases_waiting_count
from csf_portal.errors import DomainError
from csf_portal.notifications import notifications_unread
from csf_portal.pagination import LookaheadPaginator
from csf_portal.types import AuthenticatedHttpRequest
from forums.selectors import my_actions, upcoming_meetings
from forums.services import agency_leaves_case_decide, item_care_plan_agree
from pages import selectors
from referrals.selectors import my_work_counts, person_meam_domains, person_referrals
from reports.services import outcome_review_record


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My work: what the signed-in user has to do. Capabilities add their panels."""
    user = request.user
    return render(
        request,
        "portal/home.html",
        {
            "agency": user.agency,
            "roles": user.role_names(),
            "notifications": notifications_unread(user=user),
            "referrals": my_work_counts(user=user),
            "meetings": upcoming_meetings(user=user),
            "actions": my_actions(user=user),
            "sharing_bases_waiting": sharing_bases_waiting_count(user=user),
        },
    )


def role_changes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The forum chairs' log of role, agency and standing-membership changes, newest first.

    Not written to the access log: it shows staff accounts and who changed them,
    never a case subject's data (DESIGN §4 rule 4 logs reads of person-level data).
    """
    if not access.can_view_role_changes(request.user):
        raise Http404
    raw = request.GET.get("user", "")
    # A member of staff, never a case subject. Past 18 digits no id exists (bigint).
    staff_id = int(raw) if raw.isdigit() and len(raw) <= 18 else None
    changes = selectors.role_changes_visible_to(user=request.user, staff_id=staff_id)
    page = LookaheadPaginator(changes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/role_changes.html",
        {
            "page": page,
            "staff_member": selectors.role_change_staff(user=request.user, staff_id=staff_id),
            "filtered": staff_id is not None,
            "query": f"user={staff_id}" if staff_id is not None else "",
        },
    )


def case_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    case = access.case_for(user=request.user, case_id=pk)
    access.record_access(user=request.user, obj=case, request=request)
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "my_emergency_access": access.break_glass_active(request.user, case=case)
            if not case.viewer_is_involved  # type: ignore[attr-defined]  # set by case_for
            else None,
            "emergency_accesses": case_selectors.emergency_accesses_of(case=case),
            "person": case.person,
            "latest_assessment": latest_completed(person=case.person),
            **selectors.case_page(user=request.user, case=case),
        },
    )


def person_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    person = access.person_for(user=request.user, person_id=pk)
    access.record_access(user=request.user, obj=person, request=request)
    context: dict[str, Any] = {
        "person": person,
        "cases": case_selectors.person_cases(user=request.user, person=person),
        "referrals": person_referrals(user=request.user, person=person),
        "meam": person_meam_domains(person=person),
    }
    context |= person_assessment_summary(user=request.user, person=person)
    return render(request, "cases/person_detail.html", context)


class CarePlanAgreeView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        if not access.can_record_forum_decisions(request.user):
            raise Http404
        plan = services.care_plan_draft(actor=request.user, case=case)
        form = AgreePlanForm(request.POST, case=case)
        if form.is_valid():
            try:
                item_care_plan_agree(actor=request.user, item=form.cleaned_data["item"])
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Care plan version {plan.version} agreed.")
                return redirect("cases:detail", case.pk)
        context = _plan_context(request, case, plan)
        context["agree_form"] = form
        return render(request, "cases/care_plan_draft.html", context)


class OutcomeReviewView(View):
    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = _contributing_case(request, pk)
        form = OutcomeReviewForm(initial={"accommodation_status": case.person.accommodation_status})
        return render(request, "cases/outcome_review.html", {"case": case, "form": form})

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = _contributing_case(request, pk)
        form = OutcomeReviewForm(request.POST)
        if form.is_valid():
            try:
                outcome_review_record(actor=request.user, case=case, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Outcome review saved.")
                return redirect("cases:detail", case.pk)
        return render(request, "cases/outcome_review.html", {"case": case, "form": form})


def _practitioner_asks_to_leave(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    """A practitioner asking for their agency to step away: refused, and counted as a hand-off
    attempt (DESIGN §4 rule 2)."""
    agency = request.user.agency
    if agency is None:
        raise Http404
    try:
        services.case_agency_leave(actor=request.user, case=case, agency=agency)
    except DomainError as exc:
        messages.info(request, exc.message)
    return redirect("cases:detail", case.pk)


class LeaveCaseView(View):
    """Practitioners asking to leave are refused (and counted); the chair records the decision."""

    template_name = "cases/leave_case.html"

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        if not access.can_record_forum_decisions(request.user):
            raise Http404
        return render(request, self.template_name, {"case": case, "form": LeaveCaseForm(case=case)})

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        case = access.case_for(user=request.user, case_id=pk)
        if not access.can_record_forum_decisions(request.user):
            return _practitioner_asks_to_leave(request, case)
        form = LeaveCaseForm(request.POST, case=case)
        if form.is_valid():
            data = form.cleaned_data
            try:
                agency_leaves_case_decide(
                    actor=request.user,
                    item=data["item"],
                    agency=data["agency"],
                    summary=data["summary"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(
                    request, f"{data['agency']} is no longer involved, by forum decision."
                )
                return redirect("cases:detail", case.pk)
        return render(request, self.template_name, {"case": case, "form": form})
