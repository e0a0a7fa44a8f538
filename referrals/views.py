"""Referral pages: thin views that validate a form, call one service, redirect."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

import access
from csf_portal.errors import DomainError
from csf_portal.types import AuthenticatedHttpRequest
from referrals import forms, selectors, services
from referrals.models import Referral

# The wizard's pages in order: (slug, form class). "match" and "risks" are special.
STEPS: list[tuple[str, type[forms.StepForm] | None]] = [
    ("person", forms.PersonForm),
    ("match", None),
    ("circumstances", forms.CircumstancesForm),
    ("meam", forms.MeamForm),
    ("reasons", forms.ReasonsForm),
    ("risks", None),
    ("services", forms.ServicesForm),
    ("tried", forms.TriedForm),
    ("hopes", forms.HopesForm),
    ("urgency", forms.UrgencyForm),
    ("basis", forms.BasisForm),
    ("sharing", forms.SharingForm),
]
STEP_NAMES = [name for name, _ in STEPS]
STEP_TITLES = {
    "person": "About the person",
    "match": "Is this the same person?",
    "circumstances": "Where the person lives",
    "meam": "Areas of need",
    "reasons": "Reasons for the referral",
    "risks": "Main risks",
    "services": "Services already involved",
    "tried": "What has been tried",
    "hopes": "What you hope the forum can do",
    "urgency": "Urgency",
    "basis": "Lawful basis for sharing",
    "sharing": "Consent and sharing",
}


def _editable(request: AuthenticatedHttpRequest, pk: Any) -> Referral:
    referral = access.referral_for(user=request.user, referral_id=pk)
    if referral.state != Referral.State.DRAFT or not access.can_edit_referral(
        request.user, referral
    ):
        raise Http404("No such draft")
    return referral


def _after(request: AuthenticatedHttpRequest, referral: Referral, step: str) -> str:
    if "save_draft" in request.POST:
        messages.success(request, "Your draft has been saved. You can come back to it at any time.")
        return reverse("referrals:list")
    if request.GET.get("change"):
        if step == "person" and selectors.person_matches_for_referrer(
            user=request.user, referral=referral
        ):
            return reverse("referrals:step", args=[referral.pk, "match"]) + "?change=1"
        if step == "basis":
            return reverse("referrals:step", args=[referral.pk, "sharing"]) + "?change=1"
        return reverse("referrals:check", args=[referral.pk])
    index = STEP_NAMES.index(step) + 1
    while index < len(STEP_NAMES):
        name = STEP_NAMES[index]
        if name != "match" or selectors.person_matches_for_referrer(
            user=request.user, referral=referral
        ):
            return reverse("referrals:step", args=[referral.pk, name])
        index += 1
    return reverse("referrals:check", args=[referral.pk])


def _initial(referral: Referral, form_class: type[forms.StepForm]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for name in form_class.base_fields:
        if name == "domains":
            initial[name] = [
                f
                for f in (
                    "meam_homelessness",
                    "meam_substance_misuse",
                    "meam_offending",
                    "meam_mental_health",
                )
                if getattr(referral, f)
            ]
        elif name in ("reasons", "services_involved", "sharing_agencies"):
            initial[name] = list(getattr(referral, name).all())
        elif hasattr(referral, name):
            initial[name] = getattr(referral, name)
    for name in ("consent_method", "consent_given_on", "consent_person_informed"):
        initial[name] = getattr(referral, name)
    initial["basis_justification"] = referral.basis_justification
    return initial


def _page(request, template: str, referral: Referral, **context: Any) -> HttpResponse:
    return render(
        request,
        template,
        {
            "referral": referral,
            "steps": [(n, STEP_TITLES[n]) for n in STEP_NAMES if n != "match"],
            **context,
        },
    )


def referral_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not (access.can_make_referral(request.user) or access.can_triage_referrals(request.user)):
        raise Http404
    referrals = selectors.referral_list_for(user=request.user)
    access.record_list_access(user=request.user, request=request, what="referrals.referral")
    return render(request, "referrals/list.html", {"referrals": referrals})


class ReferralStartView(View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not access.can_make_referral(request.user):
            raise Http404
        return render(request, "referrals/start.html")

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        try:
            referral = services.referral_start(actor=request.user)
        except DomainError:
            raise Http404 from None
        return redirect("referrals:step", referral.pk, STEP_NAMES[0])


class ReferralStepView(View):
    template_name = "referrals/step.html"

    def _form(self, request, referral: Referral, step: str, data=None):
        form_class = dict(STEPS)[step]
        assert form_class is not None  # "match" and "risks" have their own handlers
        kwargs: dict[str, Any] = {"data": data, "initial": _initial(referral, form_class)}
        if step == "sharing":
            kwargs["basis"] = referral.lawful_basis
        return form_class(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        if kwargs["step"] not in STEP_NAMES:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        referral = _editable(request, pk)
        if step == "match":
            return self._match(request, referral)
        if step == "risks":
            return self._risks(request, referral, forms.RiskForm())
        if step == "sharing" and not referral.lawful_basis:
            return redirect("referrals:step", referral.pk, "basis")
        return self._render(request, referral, step, self._form(request, referral, step))

    def post(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        referral = _editable(request, pk)
        if step == "match":
            return self._match(request, referral)
        if step == "risks":
            return self._risks(request, referral, forms.RiskForm(request.POST))
        if step == "sharing" and not referral.lawful_basis:
            return redirect("referrals:step", referral.pk, "basis")
        form = self._form(request, referral, step, data=request.POST)
        if form.is_valid():
            try:
                referral = services.referral_update(
                    actor=request.user, referral=referral, **form.service_kwargs()
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(_after(request, referral, step))
        return self._render(request, referral, step, form)

    def _render(self, request, referral: Referral, step: str, form) -> HttpResponse:
        return _page(
            request,
            self.template_name,
            referral,
            form=form,
            step=step,
            title=form.title or STEP_TITLES[step],
            back=self._back(referral, step),
        )

    def _back(self, referral: Referral, step: str) -> str:
        index = STEP_NAMES.index(step)
        if index == 0:
            return reverse("referrals:list")
        previous = STEP_NAMES[index - 1]
        if previous == "match":
            previous = STEP_NAMES[index - 2]
        return reverse("referrals:step", args=[referral.pk, previous])

    def _match(self, request: AuthenticatedHttpRequest, referral: Referral) -> HttpResponse:
        people = selectors.person_matches_for_referrer(user=request.user, referral=referral)
        if not people:
            return redirect(_after(request, referral, "match"))
        form = forms.MatchForm(request.POST or None, people=people)
        if request.method == "POST" and form.is_valid():
            referral = services.referral_use_person(
                actor=request.user, referral=referral, person=form.chosen()
            )
            if form.chosen() is not None:
                messages.success(request, "We have added what is already known about this person.")
            return redirect(_after(request, referral, "match"))
        return self._render(request, referral, "match", form)

    def _risks(self, request: AuthenticatedHttpRequest, referral: Referral, form) -> HttpResponse:
        if request.method == "POST" and "add_risk" not in request.POST:
            # Continue or save as draft, with the risks added so far.
            if referral.risks.exists():
                return redirect(_after(request, referral, "risks"))
            if "save_draft" in request.POST:
                return redirect(_after(request, referral, "risks"))
            form = forms.RiskForm.needing_a_risk()
        elif request.method == "POST" and form.is_valid():
            services.referral_risk_add(actor=request.user, referral=referral, **form.cleaned_data)
            return redirect("referrals:step", referral.pk, "risks")
        return _page(
            request,
            "referrals/risks.html",
            referral,
            form=form,
            risks=list(referral.risks.all()),
            title=STEP_TITLES["risks"],
            back=self._back(referral, "risks"),
            change=request.GET.get("change"),
        )


def referral_resume(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    """Carry on a draft from its first unanswered question (or check answers)."""
    referral = _editable(request, pk)
    missing = services.referral_missing_answers(referral)
    if not missing:
        return redirect("referrals:check", referral.pk)
    first = min((STEP_NAMES.index(step) for step, _ in missing))
    return redirect("referrals:step", referral.pk, STEP_NAMES[first])


class RiskRemoveView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any, risk_id: int) -> HttpResponse:
        referral = _editable(request, pk)
        services.referral_risk_remove(actor=request.user, referral=referral, risk_id=risk_id)
        return redirect("referrals:step", referral.pk, "risks")


class CheckAnswersView(View):
    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = _editable(request, pk)
        access.record_access(user=request.user, obj=referral, request=request)
        return self._render(request, referral, problems=[])

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = _editable(request, pk)
        missing = services.referral_missing_answers(referral)
        if not missing:
            try:
                services.referral_submit(actor=request.user, referral=referral)
            except DomainError as exc:
                return self._render(request, referral, problems=[("check", exc.message)])
            return render(request, "referrals/submitted.html", {"referral": referral})
        return self._render(request, referral, problems=missing)

    def _render(self, request, referral: Referral, problems) -> HttpResponse:
        referral = selectors.referral_detail(user=request.user, referral_id=referral.pk)
        return _page(
            request,
            "referrals/check.html",
            referral,
            problems=[
                {
                    "href": reverse("referrals:step", args=[referral.pk, step]) + "?change=1",
                    "text": t,
                }
                for step, t in problems
            ],
        )


def referral_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    referral = selectors.referral_detail(user=request.user, referral_id=pk)
    chair = access.can_triage_referrals(request.user)
    context: dict[str, Any] = {
        "referral": referral,
        "can_triage": chair and referral.state == Referral.State.SUBMITTED,
        "history": selectors.timeline(referral=referral, user=request.user),
        "earlier": selectors.earlier_referrals(user=request.user, referral=referral),
    }
    if context["can_triage"]:
        context["matches"] = selectors.person_matches_for_triage(
            user=request.user, referral=referral
        )
    access.record_access(user=request.user, obj=referral, request=request)
    return render(request, "referrals/detail.html", context)


class WithdrawView(View):
    def _get(self, request: AuthenticatedHttpRequest, pk: Any) -> Referral:
        referral = access.referral_for(user=request.user, referral_id=pk)
        if not access.can_edit_referral(request.user, referral):
            raise Http404
        return referral

    def _form(self, referral: Referral, data=None):
        return forms.WithdrawForm(data, reason_required=referral.state == Referral.State.SUBMITTED)

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = self._get(request, pk)
        return render(
            request, "referrals/withdraw.html", {"referral": referral, "form": self._form(referral)}
        )

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = self._get(request, pk)
        form = self._form(referral, request.POST)
        if form.is_valid():
            try:
                services.referral_withdraw(
                    actor=request.user, referral=referral, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Referral {referral.short_ref} has been withdrawn.")
                return redirect("referrals:list")
        return render(request, "referrals/withdraw.html", {"referral": referral, "form": form})


def triage_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not access.can_triage_referrals(request.user):
        raise Http404
    access.record_list_access(user=request.user, request=request, what="referrals.triage")
    page = Paginator(selectors.triage_queue(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "referrals/triage.html", {"page": page, "referrals": page.object_list})


class DecisionView(View):
    """Accept, redirect or decline: the chair's three decisions share one shape."""

    decision = ""
    titles = {
        "accept": "Accept referral",
        "redirect": "Redirect referral",
        "decline": "Decline referral",
    }

    def _referral(self, request: AuthenticatedHttpRequest, pk: Any) -> Referral:
        if not access.can_triage_referrals(request.user):
            raise Http404
        return access.referral_for(user=request.user, referral_id=pk)

    def _comparisons(self, request, referral: Referral) -> list[dict]:
        """Accepting: everyone the referral may be about, beside its own identifiers."""
        if self.decision != "accept":
            return []
        return selectors.identity_comparisons(user=request.user, referral=referral)

    def _form(self, request, referral: Referral, comparisons: list[dict], data=None):
        if self.decision == "accept":
            return forms.AcceptForm(data, people=[c["person"] for c in comparisons])
        return {"redirect": forms.RedirectForm, "decline": forms.DeclineForm}[self.decision](data)

    def _render(self, request, referral: Referral, form, comparisons: list[dict]) -> HttpResponse:
        # Each existing person's identifiers shown to the chair are a read of their record.
        for comparison in comparisons:
            access.record_access(
                user=request.user,
                obj=comparison["person"],
                request=request,
                reason=f"Identity check for referral {referral.short_ref}",
            )
        return render(
            request,
            "referrals/decision.html",
            {
                "referral": referral,
                "form": form,
                "title": self.titles[self.decision],
                "comparisons": comparisons,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = self._referral(request, pk)
        if referral.state != Referral.State.SUBMITTED:
            messages.info(request, "This referral has already been decided.")
            return redirect("referrals:detail", referral.pk)
        comparisons = self._comparisons(request, referral)
        return self._render(
            request, referral, self._form(request, referral, comparisons), comparisons
        )

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = self._referral(request, pk)
        comparisons = self._comparisons(request, referral)
        form = self._form(request, referral, comparisons, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if self.decision == "accept":
                    referral = services.referral_accept(
                        actor=request.user,
                        referral=referral,
                        person=form.chosen(),
                        new_person=form.new_person(),
                        reason=data.get("note", ""),
                        meeting=data.get("meeting"),
                    )
                    message = "Referral accepted. A case is open and awaiting the forum." + (
                        " It is on the meeting's agenda." if data.get("meeting") else ""
                    )
                elif self.decision == "redirect":
                    services.referral_redirect(
                        actor=request.user,
                        referral=referral,
                        destination=data["destination"],
                        service=data.get("service", ""),
                        advice=data["advice"],
                    )
                    message = "Referral redirected. The referrer has been told."
                else:
                    services.referral_decline(
                        actor=request.user, referral=referral, reason=data["reason"]
                    )
                    message = "Referral declined. The referrer has been told."
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, message)
                return redirect("referrals:triage")
        return self._render(request, referral, form, comparisons)
