"""Assessment pages: start, fill in, complete, view, correct."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

import access
from assessments import selectors, services
from assessments.forms import AssessmentForm
from assessments.models import Assessment
from csf_portal.edits import VersionedEditView
from csf_portal.errors import DomainError
from csf_portal.types import AuthenticatedHttpRequest


class AssessmentStartView(View):
    def post(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        person = access.person_for(user=request.user, person_id=person_id)
        try:
            assessment = services.assessment_start(actor=request.user, person=person)
        except DomainError:
            raise Http404 from None
        return redirect("assessments:edit", assessment.pk)


def assessment_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    assessment = selectors.assessment_for(user=request.user, assessment_id=pk)
    access.record_access(user=request.user, obj=assessment, request=request)
    answers = selectors.assessment_answers(assessment=assessment)
    return render(
        request,
        "assessments/detail.html",
        {
            "assessment": assessment,
            "answers": answers,
        },
    )


class AssessmentEditView(VersionedEditView):
    """Fill in a draft, answer by answer against what the user read (DESIGN §4 rule 4)."""

    template_name = "assessments/edit.html"
    success_message = "Your answers have been saved as a draft."

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any) -> Assessment:
        assessment = selectors.assessment_for(user=request.user, assessment_id=pk)
        if assessment.state != Assessment.State.DRAFT:
            raise Http404
        return assessment

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        assessment = self.get_object(request, pk)
        access.record_access(user=request.user, obj=assessment, request=request)
        return self.render_page(request, assessment, self.get_form(request, assessment))

    def get_form(self, request, assessment: Assessment, data: Any = None) -> AssessmentForm:
        return AssessmentForm(data, assessment=assessment)

    def stale_data(self, request: AuthenticatedHttpRequest, assessment: Assessment) -> Any:
        """What they typed where they changed it, what it now says where they did not."""
        typed = self.get_form(request, assessment, request.POST)
        typed.is_valid()
        return services.answers_form_data(
            assessment=assessment, data=request.POST, typed=typed.answers(), read=typed.read()
        )

    def save(self, request, assessment: Assessment, data: dict[str, Any]) -> None:
        services.assessment_save(
            actor=request.user, assessment=assessment, answers=data["answers"], read=data["read"]
        )
        self.completed = "complete" in request.POST
        if self.completed:
            services.assessment_complete(actor=request.user, assessment=assessment)
            self.success_message = "Assessment completed. It can no longer be changed."

    def success_url(self, assessment: Assessment) -> str:
        if getattr(self, "completed", False):
            return reverse("assessments:detail", args=[assessment.pk])
        return reverse("cases:person", args=[assessment.person_id])

    def render_page(self, request, assessment: Assessment, form: AssessmentForm) -> HttpResponse:
        return render(request, self.template_name, {"assessment": assessment, "form": form})


class AssessmentCorrectView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        assessment = selectors.assessment_for(user=request.user, assessment_id=pk)
        try:
            correction = services.assessment_correct(actor=request.user, assessment=assessment)
        except DomainError as exc:
            messages.info(request, exc.message)
            return redirect("assessments:detail", assessment.pk)
        return redirect("assessments:edit", correction.pk)
