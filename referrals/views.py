"""Referral pages: thin views that validate a form, call one service, redirect."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

import access
from csf_portal.edits import VersionedEditView, add_domain_error
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


def _back(referral: Referral, step: str) -> str:
    index = STEP_NAMES.index(step)
    if index == 0:
        return reverse("referrals:list")
    previous = STEP_NAMES[index - 1]
    if previous == "match":
        previous = STEP_NAMES[index - 2]
    return reverse("referrals:step", args=[referral.pk, previous])


def _step_page(request, referral: Referral, step: str, form) -> HttpResponse:
    return _page(
        request,
        "referrals/step.html",
        referral,
        form=form,
        step=step,
        title=form.title or STEP_TITLES[step],
        back=_back(referral, step),
    )


class ReferralStepView(VersionedEditView):
    """A wizard page of questions, saved into the draft against the answers the user read."""

    version_field = "read"

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> Referral:
        self.step = step
        return _editable(request, pk)

    def get_form(self, request: AuthenticatedHttpRequest, referral: Referral, data: Any = None):
        form_class = dict(STEPS)[self.step]
        assert form_class is not None  # "match" and "risks" have their own views
        kwargs: dict[str, Any] = {"data": data, "initial": forms.step_initial(referral, form_class)}
        if self.step == "sharing":
            kwargs["basis"] = referral.lawful_basis
        form = form_class(**kwargs)
        form.fields["read"].initial = services.referral_step_token(referral, form.saved_fields())
        self.form = form
        return form

    def stale_data(self, request: AuthenticatedHttpRequest, referral: Referral) -> Any:
        data = request.POST.copy()
        data["read"] = self.get_form(request, referral).fields["read"].initial
        return data

    def save(self, request: AuthenticatedHttpRequest, referral: Referral, data: Any) -> None:
        self.saved = services.referral_update(
            actor=request.user, referral=referral, **self.form.service_kwargs()
        )

    def success_url(self, referral: Referral) -> str:
        return _after(self.request, self.saved, self.step)  # type: ignore[arg-type]

    def post(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        referral = _editable(request, pk)
        if step == "sharing" and not referral.lawful_basis:
            return redirect("referrals:step", referral.pk, "basis")
        return super().post(request, pk, step)

    def get(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        referral = _editable(request, pk)
        if step == "sharing" and not referral.lawful_basis:
            return redirect("referrals:step", referral.pk, "basis")
        return super().get(request, pk, step)

    def render_page(self, request: AuthenticatedHttpRequest, referral: Referral, form) -> Any:
        return _step_page(request, referral, self.step, form)


class ReferralMatchView(View):
    """Is the person someone the portal already knows? Shown only when they may be."""

    def get(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        referral = _editable(request, pk)
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
        return _step_page(request, referral, "match", form)

    post = get


class ReferralRisksView(View):
    """The main risks: add them one by one, then carry on (at least one is needed)."""

    def get(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        return self._page(request, _editable(request, pk), forms.RiskForm())

    def post(self, request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponse:
        referral = _editable(request, pk)
        if "add_risk" not in request.POST:
            # Continue or save as draft, with the risks added so far.
            if "save_draft" in request.POST or selectors.referral_risks(referral=referral):
                return redirect(_after(request, referral, "risks"))
            return self._page(request, referral, forms.RiskForm.needing_a_risk())
        form = forms.RiskForm(request.POST)
        if form.is_valid():
            services.referral_risk_add(actor=request.user, referral=referral, **form.cleaned_data)
            return redirect("referrals:step", referral.pk, "risks")
        return self._page(request, referral, form)

    def _page(self, request: AuthenticatedHttpRequest, referral: Referral, form) -> HttpResponse:
        return _page(
            request,
            "referrals/risks.html",
            referral,
            form=form,
            risks=selectors.referral_risks(referral=referral),
            title=STEP_TITLES["risks"],
            back=_back(referral, "risks"),
            change=request.GET.get("change"),
        )


_STEP_VIEWS = {
    "match": ReferralMatchView.as_view(),
    "risks": ReferralRisksView.as_view(),
}
_QUESTIONS_VIEW = ReferralStepView.as_view()


def referral_step(request: AuthenticatedHttpRequest, pk: Any, step: str) -> HttpResponseBase:
    """One page of the referral wizard, by its slug."""
    if step not in STEP_NAMES:
        raise Http404
    return _STEP_VIEWS.get(step, _QUESTIONS_VIEW)(request, pk=pk, step=step)


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


class _DecisionView(View):
    """Accept, redirect or decline: the chair's three decisions share one shape."""

    title = ""

    def get_form(self, request: AuthenticatedHttpRequest, referral: Referral, data=None) -> Any:
        raise NotImplementedError

    def decide(self, request: AuthenticatedHttpRequest, referral: Referral, form: Any) -> str:
        """Carry out the decision (one service call); the message to show."""
        raise NotImplementedError

    def context(self, request: AuthenticatedHttpRequest, referral: Referral) -> dict[str, Any]:
        return {}

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = _for_triage(request, pk)
        if referral.state != Referral.State.SUBMITTED:
            messages.info(request, "This referral has already been decided.")
            return redirect("referrals:detail", referral.pk)
        return self._render(request, referral, self.get_form(request, referral))

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        referral = _for_triage(request, pk)
        form = self.get_form(request, referral, request.POST)
        if form.is_valid():
            try:
                message = self.decide(request, referral, form)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, message)
                return redirect("referrals:triage")
        return self._render(request, referral, form)

    def _render(self, request, referral: Referral, form) -> HttpResponse:
        context = {"referral": referral, "form": form, "title": self.title, "comparisons": []}
        return render(
            request, "referrals/decision.html", {**context, **self.context(request, referral)}
        )


def _for_triage(request: AuthenticatedHttpRequest, pk: Any) -> Referral:
    if not access.can_triage_referrals(request.user):
        raise Http404
    return access.referral_for(user=request.user, referral_id=pk)


class ReferralAcceptView(_DecisionView):
    """Accepting shows everyone the referral may be about, beside its own identifiers."""

    title = "Accept referral"

    def get_form(self, request, referral, data=None):
        self.comparisons = selectors.identity_comparisons(user=request.user, referral=referral)
        return forms.AcceptForm(data, people=[c["person"] for c in self.comparisons])

    def decide(self, request, referral, form) -> str:
        data = form.cleaned_data
        services.referral_accept(
            actor=request.user,
            referral=referral,
            person=form.chosen(),
            new_person=form.new_person(),
            reason=data.get("note", ""),
            meeting=data.get("meeting"),
        )
        return "Referral accepted. A case is open and awaiting the forum." + (
            " It is on the meeting's agenda." if data.get("meeting") else ""
        )

    def context(self, request, referral) -> dict[str, Any]:
        selectors.identity_comparisons_shown(
            user=request.user,
            referral=referral,
            people=[c["person"] for c in self.comparisons],
            request=request,
        )
        return {"comparisons": self.comparisons}


class ReferralRedirectView(_DecisionView):
    title = "Redirect referral"

    def get_form(self, request, referral, data=None):
        return forms.RedirectForm(data)

    def decide(self, request, referral, form) -> str:
        services.referral_redirect(
            actor=request.user,
            referral=referral,
            destination=form.cleaned_data["destination"],
            service=form.cleaned_data.get("service", ""),
            advice=form.cleaned_data["advice"],
        )
        return "Referral redirected. The referrer has been told."


class ReferralDeclineView(_DecisionView):
    title = "Decline referral"

    def get_form(self, request, referral, data=None):
        return forms.DeclineForm(data)

    def decide(self, request, referral, form) -> str:
        services.referral_decline(
            actor=request.user, referral=referral, reason=form.cleaned_data["reason"]
        )
        return "Referral declined. The referrer has been told."
