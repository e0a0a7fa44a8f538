"""Consent pages for a person: overview, record, withdraw; sharing bases."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views import View

import access
from consent import forms, selectors, services
from consent.models import ConsentRecord
from csf_portal.edits import add_domain_error
from csf_portal.errors import DomainError
from csf_portal.types import AuthenticatedHttpRequest


def overview(request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
    person = selectors.person_for_consent(user=request.user, person_id=person_id)
    access.record_access(user=request.user, obj=person, request=request, reason="consent")
    return render(
        request,
        "consent/overview.html",
        {
            "person": person,
            **selectors.consent_overview(person=person),
        },
    )


class _PersonFormView(View):
    template_name = "consent/form.html"
    title = ""

    def _render(self, request, person, form) -> HttpResponse:
        return render(
            request, self.template_name, {"person": person, "form": form, "title": self.title}
        )

    def _done(self, request, person, text: str) -> HttpResponse:
        messages.success(request, text)
        return redirect("consent:overview", person.pk)


class ConsentRecordView(_PersonFormView):
    title = "Record consent"

    def get(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        person = selectors.person_for_consent(user=request.user, person_id=person_id)
        return self._render(request, person, forms.ConsentForm())

    def post(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        person = selectors.person_for_consent(user=request.user, person_id=person_id)
        form = forms.ConsentForm(request.POST)
        if form.is_valid():
            try:
                services.consent_record(actor=request.user, person=person, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                return self._done(request, person, "Consent recorded.")
        return self._render(request, person, form)


class ConsentWithdrawView(_PersonFormView):
    title = "Record that consent has been withdrawn"

    def _consent(self, request, person_id, consent_id) -> tuple[Any, ConsentRecord]:
        person = selectors.person_for_consent(user=request.user, person_id=person_id)
        return person, selectors.consent_of(person=person, consent_id=consent_id)

    def get(
        self, request: AuthenticatedHttpRequest, person_id: Any, consent_id: Any
    ) -> HttpResponse:
        person, _ = self._consent(request, person_id, consent_id)
        return self._render(
            request,
            person,
            forms.WithdrawConsentForm(
                agency=request.user.agency, initial={"recorded_by": request.user.pk}
            ),
        )

    def post(
        self, request: AuthenticatedHttpRequest, person_id: Any, consent_id: Any
    ) -> HttpResponse:
        person, consent = self._consent(request, person_id, consent_id)
        form = forms.WithdrawConsentForm(request.POST, agency=request.user.agency)
        if form.is_valid():
            try:
                services.consent_withdraw(
                    actor=request.user,
                    consent=consent,
                    recorded_by=form.cleaned_data["recorded_by"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return self._done(
                    request,
                    person,
                    "Withdrawal recorded. Agencies that relied on this consent can no longer see "
                    "the person's records, unless another basis applies.",
                )
        return self._render(request, person, form)


class SharingBasisRecordView(_PersonFormView):
    title = "Ask to share without consent"

    def get(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        person = selectors.person_for_consent(user=request.user, person_id=person_id)
        return self._render(request, person, forms.SharingBasisForm())

    def post(self, request: AuthenticatedHttpRequest, person_id: Any) -> HttpResponse:
        person = selectors.person_for_consent(user=request.user, person_id=person_id)
        form = forms.SharingBasisForm(request.POST)
        if form.is_valid():
            try:
                services.sharing_basis_request(
                    actor=request.user, person=person, **form.cleaned_data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                return self._done(
                    request,
                    person,
                    "Request sent to the forum chairs. It applies only once a chair approves it.",
                )
        return self._render(request, person, form)


class SharingBasisEndView(View):
    def post(
        self, request: AuthenticatedHttpRequest, person_id: Any, basis_id: Any
    ) -> HttpResponse:
        person = selectors.person_for_consent(user=request.user, person_id=person_id)
        basis = selectors.sharing_basis_of(person=person, basis_id=basis_id)
        services.sharing_basis_end(actor=request.user, basis=basis)
        messages.success(request, "Sharing basis ended.")
        return redirect("consent:overview", person.pk)


def sharing_bases_waiting(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The requests to share without consent waiting for this chair's decision."""
    bases = selectors.sharing_bases_waiting_for(user=request.user)
    if bases:
        access.record_list_access(user=request.user, request=request, what="sharing bases waiting")
    return render(request, "consent/waiting.html", {"bases": bases})


class SharingBasisDecideView(View):
    """Approve or refuse one request, as the signed-in chair (never the requester)."""

    template_name = "consent/decide.html"

    def _render(self, request, basis, approve=None, refuse=None) -> HttpResponse:
        access.record_access(user=request.user, obj=basis, request=request, reason="approval")
        return render(
            request,
            self.template_name,
            {
                "basis": basis,
                "person": basis.person,
                "approve_form": approve or forms.ApproveSharingBasisForm(),
                "refuse_form": refuse or forms.RefuseSharingBasisForm(),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, basis_id: Any) -> HttpResponse:
        basis = selectors.sharing_basis_for_decision(user=request.user, basis_id=basis_id)
        return self._render(request, basis)

    def post(self, request: AuthenticatedHttpRequest, basis_id: Any) -> HttpResponse:
        basis = selectors.sharing_basis_for_decision(user=request.user, basis_id=basis_id)
        refusing = request.POST.get("decision") == "refuse"
        form_class = forms.RefuseSharingBasisForm if refusing else forms.ApproveSharingBasisForm
        form = form_class(request.POST)
        if form.is_valid():
            try:
                message = self._decide(request, basis, refusing, form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, message)
                return redirect("sharing_bases:waiting")
        return self._render(request, basis, **{"refuse" if refusing else "approve": form})

    def _decide(self, request, basis, refusing: bool, data: dict[str, Any]) -> str:
        if refusing:
            services.sharing_basis_refuse(actor=request.user, basis=basis, reason=data["reason"])
            return "Request refused. The requester has been told."
        services.sharing_basis_approve(actor=request.user, basis=basis)
        return "Sharing without consent approved. It applies from its start date."
