"""Subject access exports and the document status / download pages."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

import access
from cases.forms import PersonIdentifiersForm
from cases.models import Person
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.types import AuthenticatedHttpRequest
from reports import selectors, services
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
        people = selectors.subject_access_search(
            user=request.user, request=request, **form.cleaned_data
        )
    documents = selectors.documents_requested_by(user=request.user)
    return render(
        request,
        "reports/subject_access.html",
        {"form": form, "people": people, "searched": form.is_bound, "documents": documents},
    )


class SubjectAccessRequestView(View):
    def post(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        person = selectors.person_for_subject_access(user=request.user, person_id=person_id)
        try:
            document = services.subject_access_request(
                actor=request.user, person=person, pdf=request.POST.get("format") != "json"
            )
        except DomainError:
            raise Http404 from None
        return redirect("reports:document", document.pk)


def _own_document(request: AuthenticatedHttpRequest, pk: Any) -> GeneratedDocument:
    return selectors.own_document(user=request.user, document_id=pk)


def document_status(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    document = _own_document(request, pk)
    may_retry = services.document_may_retry(document)
    return render(request, "reports/document.html", {"document": document, "may_retry": may_retry})


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
        plan = selectors.care_plan_for(user=request.user, plan_id=plan_id)
        document = services.care_plan_pdf_request(
            actor=request.user, plan=plan, easy_read=request.POST.get("layout") == "easy_read"
        )
        return redirect("reports:document", document.pk)
