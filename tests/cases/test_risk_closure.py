"""Closing a risk (DESIGN §4 rule 2 holds): by the forum's decision on the case's item, or by
every owning agency agreeing; a closed risk can be reopened and never lacks an owner."""

from __future__ import annotations

import pytest
from django.urls import reverse

import access
from cases import services
from cases.models import Risk, RiskClosureAgreement, RiskLevelChange, RiskOwner
from csf_portal.errors import ConcurrentEdit, DomainError, NotAllowed
from csf_portal.models import Notification, Role
from forums.services import agency_leaves_case_decide, forum_decision_record, item_decision_record
from tests.conftest import signed_in_client
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    discussed_at_meeting,
    give_consent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    hostel, housing, police = (AgencyFactory(name=n) for n in ("Hostel", "Housing", "Police"))
    case = CaseFactory()
    give_consent(case.person)
    for agency in (chair.agency, hostel, housing, police):
        services.case_agency_join(actor=chair, case=case, agency=agency)
    hostel_worker, housing_worker = UserFactory(agency=hostel), UserFactory(agency=housing)
    risk = services.risk_add(actor=chair, case=case, category="eviction", level="high")
    for worker in (hostel_worker, housing_worker):
        services.risk_owner_add(actor=chair, risk=risk, agency=worker.agency, accepted_by=worker)
    return {
        "chair": chair,
        "case": case,
        "risk": risk,
        "hostel_worker": hostel_worker,
        "housing_worker": housing_worker,
        "police_officer": UserFactory(agency=police),
        "item": discussed_at_meeting(case, chair=chair),
    }


def _agree(user, risk, level="low", reason="Tenancy sustained for six months"):
    risk.refresh_from_db()
    return services.risk_closure_agree(
        actor=user, risk=risk, expected_version=risk.version, level=level, reason=reason
    )


def test_the_risk_closes_when_every_owner_has_agreed(w):
    risk = _agree(w["hostel_worker"], w["risk"])
    assert risk.status == Risk.Status.OPEN
    # The owner still to agree is told where to agree.
    told = Notification.objects.get(user=w["housing_worker"])
    assert told.url == f"/cases/{w['case'].pk}/risks/{risk.pk}/close/"
    risk = _agree(w["housing_worker"], risk, reason="Agreed")
    assert risk.status == Risk.Status.CLOSED
    assert (risk.level, risk.level_at_closure) == ("low", "low")
    assert risk.closure_reason == "Tenancy sustained for six months"  # the proposer's
    assert risk.closed_at is not None and risk.closed_by_decision is None
    change = RiskLevelChange.objects.filter(risk=risk).latest("changed_at")
    assert (change.event, change.level) == ("closed", "low")
    assert risk.history.first().status == "closed"


def test_only_an_owning_agency_can_agree(w):
    # The police are involved but own no share; the chair's agency owns none either.
    for user in (w["police_officer"], w["chair"]):
        assert not access.can_agree_risk_closure(user, w["risk"])
        with pytest.raises(NotAllowed):
            _agree(user, w["risk"])
    outsider = UserFactory(agency=AgencyFactory())
    with pytest.raises(NotAllowed):
        _agree(outsider, w["risk"])
    assert not RiskClosureAgreement.objects.exists()


def test_an_owner_agrees_once_and_to_the_level_proposed(w):
    _agree(w["hostel_worker"], w["risk"], level="medium")
    with pytest.raises(DomainError, match="already agreed"):
        _agree(w["hostel_worker"], w["risk"], level="medium")
    with pytest.raises(DomainError, match="Hostel agreed to close it at medium") as exc:
        _agree(w["housing_worker"], w["risk"], level="low")
    assert exc.value.field == "level"
    with pytest.raises(DomainError, match="Say why"):
        _agree(w["housing_worker"], w["risk"], level="medium", reason="  ")
    w["risk"].refresh_from_db()
    assert w["risk"].status == Risk.Status.OPEN


def test_a_change_to_the_risk_asks_every_owner_again(w):
    _agree(w["hostel_worker"], w["risk"])
    risk = w["risk"]
    risk.refresh_from_db()
    services.risk_update(
        actor=w["housing_worker"],
        risk=risk,
        expected_version=risk.version,
        level="very_high",
        description="Notice served again",
        mitigations="",
    )
    risk = _agree(w["housing_worker"], risk, level="very_high")
    assert risk.status == Risk.Status.OPEN  # the hostel agreed to the risk as it was
    assert _agree(w["hostel_worker"], risk, level="very_high").status == Risk.Status.CLOSED


def test_a_new_owner_must_agree_too(w):
    _agree(w["hostel_worker"], w["risk"])
    services.risk_owner_add(
        actor=w["chair"],
        risk=w["risk"],
        agency=w["police_officer"].agency,
        accepted_by=w["police_officer"],
    )
    assert _agree(w["housing_worker"], w["risk"]).status == Risk.Status.OPEN
    assert _agree(w["police_officer"], w["risk"]).status == Risk.Status.CLOSED


def test_agreeing_to_a_stale_version_is_refused(w):
    with pytest.raises(ConcurrentEdit):
        services.risk_closure_agree(
            actor=w["hostel_worker"],
            risk=w["risk"],
            expected_version=w["risk"].version - 1,
            level="low",
            reason="x",
        )


def test_the_forum_closes_a_risk_by_a_decision_on_the_cases_item(w):
    decision = item_decision_record(
        actor=w["chair"],
        item=w["item"],
        kind="risk_closed",
        summary="The forum agreed the eviction risk has passed.",
        risk=w["risk"],
        level="medium",
    )
    risk = Risk.objects.get(pk=w["risk"].pk)
    assert risk.status == Risk.Status.CLOSED
    assert (risk.level_at_closure, risk.closed_by_decision) == ("medium", decision)
    assert risk.closure_reason == decision.summary
    # Its shares stay as they were: closing is not a hand-off.
    assert RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).count() == 2


def test_a_decision_about_another_risk_closes_nothing(w):
    other = services.risk_add(
        actor=w["chair"], case=w["case"], category="self_neglect", level="low"
    )
    decision = forum_decision_record(
        actor=w["chair"],
        meeting=w["item"].meeting,
        item=w["item"],
        kind="risk_closed",
        summary="Close the self-neglect risk",
        case=w["case"],
        risk=other,
    )
    with pytest.raises(NotAllowed):
        services.risk_close(actor=w["chair"], risk=w["risk"], decision=decision)
    w["risk"].refresh_from_db()
    assert w["risk"].status == Risk.Status.OPEN


def test_a_closed_risk_cannot_be_changed_until_reopened(w):
    _agree(w["hostel_worker"], w["risk"])
    risk = _agree(w["housing_worker"], w["risk"])
    with pytest.raises(DomainError, match="reopen it"):
        services.risk_update(
            actor=w["hostel_worker"],
            risk=risk,
            expected_version=risk.version,
            level="high",
            description="",
            mitigations="",
        )
    assert not access.can_agree_risk_closure(w["hostel_worker"], risk)


def test_reopening_clears_the_closure_and_keeps_it_in_history(w):
    _agree(w["hostel_worker"], w["risk"])
    risk = _agree(w["housing_worker"], w["risk"])
    assert access.can_reopen_risk(w["police_officer"], risk)  # any involved agency
    with pytest.raises(DomainError, match="Say why"):
        services.risk_reopen(
            actor=w["chair"], risk=risk, expected_version=risk.version, level="low", reason=""
        )
    risk = services.risk_reopen(
        actor=w["police_officer"],
        risk=risk,
        expected_version=risk.version,
        level="high",
        reason="Arrears again",
    )
    assert risk.status == Risk.Status.OPEN and risk.level == "high"
    assert (risk.closed_at, risk.level_at_closure, risk.closure_reason) == (None, "", "")
    assert risk.history.first().history_change_reason == "Arrears again"
    assert [c.event for c in RiskLevelChange.objects.filter(risk=risk)] == [
        "",
        "closed",
        "reopened",
    ]
    # Its owners are still involved, so they own it again; the reopener takes no share.
    owners = set(
        RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).values_list(
            "agency__name", flat=True
        )
    )
    assert owners == {"Hostel", "Housing"}


def test_a_reader_without_involvement_cannot_reopen(w):
    _agree(w["hostel_worker"], w["risk"])
    risk = _agree(w["housing_worker"], w["risk"])
    outsider = UserFactory(agency=AgencyFactory())
    with pytest.raises(NotAllowed):
        services.risk_reopen(
            actor=outsider, risk=risk, expected_version=risk.version, level="low", reason="x"
        )


def test_a_closed_risk_does_not_keep_its_owners_on_the_case(w):
    # Leaving ends the leaver's closed-risk shares; reopened later, the risk is owned by
    # whoever reopens it if no owner is still involved, never by nobody.
    _agree(w["hostel_worker"], w["risk"])
    risk = _agree(w["housing_worker"], w["risk"])
    for agency in (w["hostel_worker"].agency, w["housing_worker"].agency):
        agency_leaves_case_decide(
            actor=w["chair"], item=w["item"], agency=agency, summary="Their work is done"
        )
    assert not RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).exists()
    risk.refresh_from_db()
    risk = services.risk_reopen(
        actor=w["police_officer"],
        risk=risk,
        expected_version=risk.version,
        level="medium",
        reason="New notice",
    )
    owner = RiskOwner.objects.get(risk=risk, ended_at__isnull=True)
    assert (owner.agency, owner.accepted_by) == (w["police_officer"].agency, w["police_officer"])


# --- pages -----------------------------------------------------------------


def _close_url(w):
    return reverse("cases:risk_close", args=[w["case"].pk, w["risk"].pk])


def test_an_owner_agrees_on_the_page_and_sees_who_is_still_to_agree(w):
    client = signed_in_client(w["hostel_worker"])
    page = client.get(_close_url(w)).content.decode()
    assert "Agree to close the risk" in page and "Still to agree" in page
    response = client.post(
        _close_url(w), {"level": "low", "reason": "Sustained", "version": w["risk"].version}
    )
    assert response.status_code == 302
    page = signed_in_client(w["housing_worker"]).get(_close_url(w)).content.decode()
    assert "Agreed so far" in page and "Sustained" in page
    assert 'value="low" checked' in page or "checked" in page


def test_the_page_shows_errors_and_keeps_what_was_typed(w):
    client = signed_in_client(w["hostel_worker"])
    response = client.post(_close_url(w), {"level": "", "reason": "Typed text", "version": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "Typed text" in page


def test_a_stale_agreement_shows_the_risk_as_it_is_now(w):
    client = signed_in_client(w["hostel_worker"])
    stale = w["risk"].version
    services.risk_update(
        actor=w["housing_worker"],
        risk=w["risk"],
        expected_version=stale,
        level="very_high",
        description="",
        mitigations="",
    )
    response = client.post(_close_url(w), {"level": "low", "reason": "Kept", "version": stale})
    page = response.content.decode()
    assert "Someone else changed this risk" in page and "Kept" in page
    assert not RiskClosureAgreement.objects.exists()


def test_a_non_owner_is_offered_nothing_and_cannot_post(w):
    client = signed_in_client(w["police_officer"])
    page = client.get(_close_url(w)).content.decode()
    assert "Agree to close the risk" not in page
    response = client.post(_close_url(w), {"level": "low", "reason": "x", "version": "1"})
    assert response.status_code == 404
    assert not RiskClosureAgreement.objects.exists()


def test_someone_who_cannot_see_the_case_gets_404(w):
    outsider = UserFactory(agency=AgencyFactory())
    assert signed_in_client(outsider).get(_close_url(w)).status_code == 404


def test_the_case_page_lists_closed_risks_and_offers_reopening(w):
    _agree(w["hostel_worker"], w["risk"])
    _agree(w["housing_worker"], w["risk"])
    client = signed_in_client(w["police_officer"])
    page = client.get(reverse("cases:detail", args=[w["case"].pk])).content.decode()
    assert "Closed risks (1)" in page and "by its owners' agreement" in page
    assert "accommodation risk closed at Low" in page  # the timeline
    reopen = reverse("cases:risk_reopen", args=[w["case"].pk, w["risk"].pk])
    assert reopen in page
    w["risk"].refresh_from_db()
    response = client.post(
        reopen, {"level": "high", "reason": "Arrears again", "version": w["risk"].version}
    )
    assert response.status_code == 302
    w["risk"].refresh_from_db()
    assert w["risk"].status == Risk.Status.OPEN


def test_a_closed_risks_edit_page_points_to_reopening_and_refuses_a_post(w):
    _agree(w["hostel_worker"], w["risk"])
    risk = _agree(w["housing_worker"], w["risk"])
    url = reverse("cases:risk_edit", args=[w["case"].pk, risk.pk])
    client = signed_in_client(w["hostel_worker"])
    assert "Reopen it" in client.get(url).content.decode()
    response = client.post(url, {"level": "high", "version": risk.version})
    assert response.status_code == 404


def test_the_chair_records_the_forums_closure_on_the_items_decision_page(w):
    url = reverse("forums:decision_add", args=[w["item"].meeting.pk, w["item"].pk])
    client = signed_in_client(w["chair"])
    assert "Its level at closure" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "kind": "risk_closed",
            "risk": str(w["risk"].pk),
            "level": "medium",
            "summary": "The forum agreed the risk has passed",
        },
    )
    assert response.status_code == 302
    risk = Risk.objects.get(pk=w["risk"].pk)
    assert (risk.status, risk.level_at_closure) == ("closed", "medium")
    assert risk.closed_by_decision.kind == "risk_closed"
    # Without a risk chosen, the form says so and keeps the summary.
    page = client.post(url, {"kind": "risk_closed", "summary": "Kept summary"}).content.decode()
    assert "Choose the open risk the forum closes" in page and "Kept summary" in page


def test_the_subject_access_export_holds_the_closure_and_its_agreements(w):
    from reports.subject_access import build

    _agree(w["hostel_worker"], w["risk"], reason="Sentinel-closure-reason")
    _agree(w["housing_worker"], w["risk"])
    risk = next(r for r in build(w["case"].person)["risks"] if r["id"] == str(w["risk"].pk))
    assert risk["closure_reason"] == "Sentinel-closure-reason"
    assert [a["reason"] for a in risk["closure_agreements"]] == [
        "Sentinel-closure-reason",
        "Tenancy sustained for six months",
    ]
    assert [c["event"] for c in risk["levels"]][-1] == "Closed"
