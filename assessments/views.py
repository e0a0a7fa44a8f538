"""Assessment pages: start, fill in, complete, view, correct."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

import access
from assessments import selectors, services
from assessments.forms import AssessmentForm
from assessments.models import Assessment
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


class AssessmentEditView(View):
    template_name = "assessments/edit.html"

    def _get(self, request: AuthenticatedHttpRequest, pk: Any) -> Assessment:
        assessment = selectors.assessment_for(user=request.user, assessment_id=pk)
        if assessment.state != Assessment.State.DRAFT:
            raise Http404
        return assessment

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        assessment = self._get(request, pk)
        access.record_access(user=request.user, obj=assessment, request=request)
        return self._render(request, assessment, AssessmentForm(assessment=assessment))

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        assessment = self._get(request, pk)
        form = AssessmentForm(request.POST, assessment=assessment)
        if form.is_valid():
            try:
                services.assessment_save(
                    actor=request.user, assessment=assessment, answers=form.answers()
                )
                if "complete" in request.POST:
                    services.assessment_complete(actor=request.user, assessment=assessment)
                    messages.success(request, "Assessment completed. It can no longer be changed.")
                    return redirect("assessments:detail", assessment.pk)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Your answers have been saved as a draft.")
                return redirect("cases:person", assessment.person_id)
        return self._render(request, assessment, form)

    def _render(self, request, assessment: Assessment, form: AssessmentForm) -> HttpResponse:
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
