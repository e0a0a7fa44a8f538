"""Issue 26.3, "no lost update anywhere": a walk over every URL of the portal.

Every view that takes a POST either edits an existing record through
:class:`csf_portal.edits.VersionedEditView` (the form carries the version read; a stale save
is refused with the other person's change shown and the typed text kept), or is on the
small allow-list below with the reason it cannot lose an update: it creates or appends a
new record, deletes one, or makes a one-way state change the service refuses once made. A
new edit form without the check fails this test until it uses the check, or its reason is
written here and reviewed. The Django admin's change forms: tests/test_admin_edits.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.views import View
from django.views.generic import UpdateView

from csf_portal.edits import VersionedEditView

CREATES = "creates a new record: there is nothing read that a second save could overwrite"
APPENDS = "appends an entry (an amendment, a decision, an action, a review): never rewrites one"
ONE_WAY = "a one-way state change: the service re-reads under a lock and refuses it once made"
DELETES = "removes a record; the service re-reads it under a lock and refuses if it has moved on"
DOCUMENT = "asks for a document to be made: writes only a queued request"
SIGN_IN = (
    "signing in or out, enrolling a second factor or setting your own password: "
    "no shared record is edited"
)

# Views that take a POST and need no version check, each with why (see the module doc).
ALLOWED: dict[str, str] = {
    "csf_portal.views.SignInView": SIGN_IN,
    "csf_portal.views.SignOutView": SIGN_IN,
    "csf_portal.views.EnrolmentCodeView": SIGN_IN,
    "csf_portal.views.PasswordChangeView": SIGN_IN,
    "csf_portal.views.PasswordResetView": SIGN_IN,
    "csf_portal.views.PasswordResetConfirmView": SIGN_IN,
    "csf_portal.views.MfaSetupView": SIGN_IN,
    "csf_portal.views.MfaVerifyView": SIGN_IN,
    "csf_portal.views.RecoveryCodesView": CREATES + " (a new set of recovery codes replaces the "
    "old; nothing a colleague edits)",
    "referrals.views.ReferralStartView": CREATES,
    "referrals.views.ReferralMatchView": "links the draft to a known person, a choice made once; "
    "the person's own record is not changed",
    "referrals.views.ReferralRisksView": APPENDS,
    "referrals.views.RiskRemoveView": DELETES,
    "referrals.views.CheckAnswersView": ONE_WAY + " (submit)",
    "referrals.views.WithdrawView": ONE_WAY,
    "referrals.views.ReferralAcceptView": ONE_WAY + " (triage decision)",
    "referrals.views.ReferralRedirectView": ONE_WAY + " (triage decision)",
    "referrals.views.ReferralDeclineView": ONE_WAY + " (triage decision)",
    "cases.views.EmergencyAccessView": CREATES,
    "cases.views.EmergencyReviewView": ONE_WAY,
    "cases.views.RiskAddView": CREATES,
    "cases.views.RiskAcceptView": ONE_WAY + " (my agency's share of a risk)",
    "cases.views.CaseStateView": ONE_WAY + "; checked against the state now by the transition "
    "table, and recorded as a new status event",
    "pages.views.CarePlanAgreeView": ONE_WAY + " (agreeing a plan version freezes it)",
    "pages.views.OutcomeReviewView": APPENDS,
    "pages.views.LeaveCaseView": ONE_WAY,
    "assessments.views.AssessmentStartView": CREATES,
    "assessments.views.AssessmentCorrectView": CREATES + " (a correction is a new assessment)",
    "consent.views.ConsentRecordView": CREATES,
    "consent.views.ConsentWithdrawView": ONE_WAY,
    "consent.views.SharingBasisRecordView": CREATES,
    "consent.views.SharingBasisEndView": ONE_WAY,
    "consent.views.SharingBasisDecideView": ONE_WAY + " (approve or refuse a basis)",
    "forums.views.MeetingPlanView": CREATES,
    "forums.views.ScheduleView": CREATES,
    "forums.views.AgendaAddView": CREATES,
    "forums.views.PublishView": ONE_WAY,
    "forums.views.HeldView": ONE_WAY,
    "forums.views.ApproveView": ONE_WAY,
    "forums.views.AmendView": APPENDS + " (approved minutes are never rewritten)",
    "forums.views.AttendanceView": "records one person's attendance as chosen on the form; the "
    "page shows no existing entry for editing",
    "forums.views.AttendanceRemoveView": DELETES,
    "forums.views.ItemMoveView": "moves an item one place up or down from where it now is",
    "forums.views.ItemRemoveView": DELETES,
    "forums.views.DecisionView": APPENDS,
    "forums.views.ActionAddView": CREATES,
    "forums.views.ItemCarePlanView": ONE_WAY + " (agreeing a plan version freezes it)",
    "forums.views.EscalateView": CREATES,
    "forums.views.IssueNewView": CREATES,
    "reports.views.SubjectAccessRequestView": DOCUMENT,
    "reports.views.DocumentRetryView": DOCUMENT,
    "reports.views.MeetingPackRequestView": DOCUMENT,
    "reports.outcomes.OutcomesReportView": DOCUMENT,
    "reports.views.CarePlanPdfRequestView": DOCUMENT,
}

# Function views that hand a request on to class views, by what they hand it to.
DISPATCHERS: dict[str, list[str]] = {
    "referrals.views.referral_step": [
        "referrals.views.ReferralStepView",
        "referrals.views.ReferralMatchView",
        "referrals.views.ReferralRisksView",
    ],
}


@dataclass(frozen=True)
class Finding:
    route: str
    view: str
    problem: str


def _name(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _import(dotted: str) -> Any:
    module, _, attr = dotted.rpartition(".")
    return getattr(__import__(module, fromlist=[attr]), attr)


def _patterns(patterns: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # the Django admin: tests/test_admin_edits.py
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _takes_post(view: type[View]) -> bool:
    return "post" in dir(view) or "put" in dir(view) or "patch" in dir(view)


def _check_class(route: str, view: type, allowed: dict[str, str]) -> list[Finding]:
    if not _takes_post(view) or issubclass(view, VersionedEditView):
        return []
    if _name(view) in allowed:
        return []
    return [Finding(route, _name(view), "takes a POST but has no version check")]


def classify(
    patterns: Iterable[Any],
    allowed: dict[str, str] = ALLOWED,
    dispatchers: dict[str, list[str]] = DISPATCHERS,
) -> list[Finding]:
    """Every POST-taking view that is neither a VersionedEditView nor allowed, with why."""
    findings: list[Finding] = []
    for route, callback in _patterns(patterns):
        view_class = getattr(callback, "view_class", None)
        if view_class is not None:
            findings += _check_class(route, view_class, allowed)
            continue
        function = inspect.unwrap(callback)
        if _name(function) in dispatchers:
            for dotted in dispatchers[_name(function)]:
                findings += _check_class(route, _import(dotted), allowed)
        elif "POST" in inspect.getsource(function) or "request.method" in inspect.getsource(
            function
        ):
            findings.append(Finding(route, _name(function), "a function view that reads a POST"))
    return findings


def _walked() -> set[str]:
    names: set[str] = set()
    for _, callback in _patterns(get_resolver().url_patterns):
        view_class = getattr(callback, "view_class", None)
        names.add(_name(view_class or inspect.unwrap(callback)))
        names.update(DISPATCHERS.get(_name(inspect.unwrap(callback)), []))
    return names


def test_every_edit_form_of_the_portal_checks_the_version_it_read():
    findings = classify(get_resolver().url_patterns)
    assert findings == [], "\n".join(f"{f.route} {f.view}: {f.problem}" for f in findings)


def test_the_walk_finds_the_versioned_edit_forms():
    versioned = {n for n in _walked() if issubclass_safe(n, VersionedEditView)}
    assert {
        "assessments.views.AssessmentEditView",
        "referrals.views.ReferralStepView",
        "forums.views.ItemSettingsView",
        "forums.views.MeetingChangeView",
        "cases.views.RiskEditView",
        "cases.views.CarePlanDraftView",
        "forums.views.ItemView",
        "forums.views.ActionView",
        "forums.views.IssueView",
    } <= versioned


def issubclass_safe(dotted: str, base: type) -> bool:
    obj = _import(dotted)
    return isinstance(obj, type) and issubclass(obj, base)


def test_every_allowed_view_is_still_routed_and_has_a_reason():
    walked = _walked()
    assert set(ALLOWED) <= walked, sorted(set(ALLOWED) - walked)
    assert all(len(reason) > 20 for reason in ALLOWED.values())
    for dotted in ALLOWED:
        assert not issubclass_safe(dotted, VersionedEditView), f"{dotted}: checked, not allowed"


# --- the classifier catches what it must: synthetic views ----------------------------------


class SyntheticUpdateView(UpdateView):  # a new edit form, as Django writes them
    fields = ["text"]


class SyntheticPostView(View):  # a hand-written edit form without the check
    def post(self, request: Any, pk: int) -> HttpResponse:
        return HttpResponse()


class SyntheticVersionedView(VersionedEditView):  # the same, with the check
    pass


def synthetic_function_edit(request: Any, pk: int) -> HttpResponse:
    if request.method == "POST":
        return HttpResponse("saved")
    return HttpResponse()


def synthetic_read_only(request: Any) -> HttpResponse:
    return HttpResponse("a list")


@pytest.mark.parametrize(
    "view",
    [SyntheticUpdateView.as_view(), SyntheticPostView.as_view(), synthetic_function_edit],
)
def test_the_walk_fails_a_new_edit_form_without_the_check(view):
    findings = classify([path("notes/<int:pk>/edit/", view)], allowed={})
    assert len(findings) == 1 and findings[0].route == "notes/<int:pk>/edit/"


def test_the_walk_passes_a_checked_form_a_read_only_page_and_an_allowed_one():
    patterns = [
        path("notes/<int:pk>/edit/", SyntheticVersionedView.as_view()),
        path("notes/", synthetic_read_only),
        path("notes/new/", SyntheticPostView.as_view()),
    ]
    allowed = {_name(SyntheticPostView): CREATES}
    assert classify(patterns, allowed=allowed) == []
    assert len(classify(patterns, allowed={})) == 1
