"""Subject access exports and the document status / download pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

import access
from cases.forms import PersonIdentifiersForm
from cases.models import Person
from cases.selectors import people_by_identifiers
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.types import AuthenticatedHttpRequest
from reports import services
from reports.models import GeneratedDocument


def _require_sar(request: AuthenticatedHttpRequest) -> None:
    if not access.can_request_subject_access(request.user):
        raise Http404


def subject_access(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Find the person a subject access request is about (forum chairs only).

    The results name people: each search that shows them is in the access log.
    """
    _require_sar(request)
    form = PersonIdentifiersForm(request.GET or None)
    people: list[Person] = []
    if form.is_bound and form.is_valid():
        people = list(people_by_identifiers(**form.cleaned_data)[:20])
        access.record_list_access(
            user=request.user, request=request, what="reports.subject_access_search"
        )
    documents = GeneratedDocument.objects.filter(requested_by=request.user).select_related(
        "person"
    )[:20]
    return render(
        request,
        "reports/subject_access.html",
        {"form": form, "people": people, "searched": form.is_bound, "documents": documents},
    )


class SubjectAccessRequestView(View):
    def post(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        _require_sar(request)
        try:
            person = Person.objects.get(pk=person_id)
        except Person.DoesNotExist:
            raise Http404 from None
        try:
            document = services.subject_access_request(
                actor=request.user, person=person, pdf=request.POST.get("format") != "json"
            )
        except DomainError:
            raise Http404 from None
        return redirect("reports:document", document.pk)


def _own_document(request: AuthenticatedHttpRequest, pk: Any) -> GeneratedDocument:
    try:
        document = GeneratedDocument.objects.select_related(
            "person", "meeting__forum", "care_plan__case__person"
        ).get(pk=pk)
    except (GeneratedDocument.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if document.requested_by_id != request.user.pk:
        raise Http404
    return document


def document_status(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    document = _own_document(request, pk)
    return render(request, "reports/document.html", {"document": document})


class DocumentRetryView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        document = _own_document(request, pk)
        services.document_retry(actor=request.user, document=document)
        return redirect("reports:document", document.pk)


def document_download(request: AuthenticatedHttpRequest, pk: Any) -> FileResponse:
    """The file, for its requester while they may still see everything in it; else 404."""
    document = _own_document(request, pk)
    if document.status != GeneratedDocument.Status.DONE or not services.may_download(
        request.user, document
    ):
        raise Http404
    services.document_download_record(actor=request.user, document=document, request=request)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=(document.file.name or "document").rsplit("/", 1)[-1],
        content_type="application/pdf" if document.is_pdf else "application/json",
    )


class MeetingPackRequestView(View):
    def post(self, request: AuthenticatedHttpRequest, meeting_id: Any) -> HttpResponse:
        from django.contrib import messages

        from forums.selectors import meeting_for

        meeting = meeting_for(user=request.user, meeting_id=meeting_id)
        try:
            document = services.meeting_pack_request(actor=request.user, meeting=meeting)
        except DomainError as exc:
            if isinstance(exc, NotAllowed):
                raise Http404 from None
            messages.error(request, exc.message)
            return redirect("forums:meeting", meeting.pk)
        return redirect("reports:document", document.pk)


class CarePlanPdfRequestView(View):
    def post(self, request: AuthenticatedHttpRequest, plan_id: Any) -> HttpResponse:
        from cases.models import CarePlan

        try:
            plan = CarePlan.objects.select_related("case__person").get(pk=plan_id)
        except (CarePlan.DoesNotExist, ValidationError, ValueError):
            raise Http404 from None
        access.case_for(user=request.user, case_id=plan.case_id)  # 404 unless visible
        document = services.care_plan_pdf_request(
            actor=request.user, plan=plan, easy_read=request.POST.get("layout") == "easy_read"
        )
        return redirect("reports:document", document.pk)
