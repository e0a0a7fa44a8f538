"""Care plans: versioned, agreed at a meeting, superseded, compared; two owners for high risks."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cases import services
from cases.models import CarePlan
from csf_portal.errors import ConcurrentEdit, DomainError
from csf_portal.models import Role
from forums.services import item_care_plan_agree
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
    hostel, housing = AgencyFactory(name="Hostel"), AgencyFactory(name="Housing")
    jo, chris = UserFactory(agency=hostel), UserFactory(agency=housing)
    case = CaseFactory()
    give_consent(case.person)
    for agency in (chair.agency, hostel, housing):
        services.case_agency_join(actor=chair, case=case, agency=agency)
    item = discussed_at_meeting(case, chair=chair)
    return {
        "chair": chair,
        "case": case,
        "hostel": hostel,
        "housing": housing,
        "jo": jo,
        "chris": chris,
        "meeting": item.meeting,
        "item": item,
    }


def _add(w, plan, what, agency, by_when=None, worker=None):
    plan.refresh_from_db()
    return services.care_plan_item_add(
        actor=w["chair"],
        plan=plan,
        expected_edit_version=plan.edit_version,
        what=what,
        agency=agency,
        by_when=by_when,
        named_worker=worker,
    )


def test_versions_are_agreed_superseded_and_compared(w):
    v1 = services.care_plan_draft(actor=w["jo"], case=w["case"])
    _add(w, v1, "Keep the hostel bed open", w["hostel"])
    _add(w, v1, "Housing options appointment", w["housing"], by_when=datetime.date(2027, 1, 10))
    item_care_plan_agree(actor=w["chair"], item=w["item"])
    v2 = services.care_plan_draft(actor=w["chris"], case=w["case"])
    assert v2.version == 2 and v2.items.count() == 2  # starts from the agreed plan
    v2.refresh_from_db()
    item = v2.items.get(what="Keep the hostel bed open")
    services.care_plan_item_remove(
        actor=w["jo"], plan=v2, expected_edit_version=v2.edit_version, item_id=item.pk
    )
    _add(w, v2, "Naloxone training for hostel staff", w["hostel"])
    item_care_plan_agree(actor=w["chair"], item=w["item"])
    v1.refresh_from_db()
    assert v1.state == CarePlan.State.SUPERSEDED and v1.items.count() == 2  # kept, readable
    changes = services.care_plan_changes(before=v1, after=v2)
    assert [i.what for i in changes["added"]] == ["Naloxone training for hostel staff"]
    assert [i.what for i in changes["removed"]] == ["Keep the hostel bed open"]
    page = signed_in_client(w["jo"]).get(reverse("cases:care_plan_version", args=[w["case"].pk, 2]))
    body = page.content.decode()
    assert "What changed since version 1" in body and "Removed:" in body


def test_high_risks_need_two_owners_before_agreement(w):
    risk = services.risk_add(actor=w["chair"], case=w["case"], category="suicide", level="high")
    plan = services.care_plan_draft(actor=w["jo"], case=w["case"])
    _add(w, plan, "Crisis plan shared with the ambulance service", w["hostel"])
    services.risk_owner_add(actor=w["chair"], risk=risk, agency=w["hostel"], accepted_by=w["jo"])
    with pytest.raises(DomainError, match="at least two agencies"):
        item_care_plan_agree(actor=w["chair"], item=w["item"])
    services.risk_owner_add(
        actor=w["chair"], risk=risk, agency=w["housing"], accepted_by=w["chris"]
    )
    item_care_plan_agree(actor=w["chair"], item=w["item"])


def test_two_people_editing_the_draft(w):
    plan = services.care_plan_draft(actor=w["jo"], case=w["case"])
    seen = plan.edit_version
    services.care_plan_item_add(
        actor=w["jo"], plan=plan, expected_edit_version=seen, what="A", agency=w["hostel"]
    )
    with pytest.raises(ConcurrentEdit, match="Someone else changed this care plan"):
        services.care_plan_item_add(
            actor=w["chris"], plan=plan, expected_edit_version=seen, what="B", agency=w["housing"]
        )


def test_only_the_chair_records_agreement_and_only_involved_agencies_act(w):
    plan = services.care_plan_draft(actor=w["jo"], case=w["case"])
    _add(w, plan, "Something", w["hostel"])
    from csf_portal.errors import NotAllowed

    with pytest.raises(NotAllowed):
        item_care_plan_agree(actor=w["jo"], item=w["item"])
    outsider = UserFactory(agency=AgencyFactory())
    with pytest.raises(NotAllowed):
        services.care_plan_draft(actor=outsider, case=w["case"])
    with pytest.raises(DomainError, match="not involved"):
        _add(w, plan, "Something else", outsider.agency)


def test_draft_page_bad_input_and_concurrent_message(w):
    client = signed_in_client(w["jo"])
    url = reverse("cases:care_plan", args=[w["case"].pk])
    page = client.get(url).content.decode()
    assert "Care plan: draft version 1" in page and "Adding to the plan starts version 1" in page
    assert not CarePlan.objects.exists()  # reading the page starts nothing
    response = client.post(url, {"what": "", "edit_version": 1})
    body = response.content.decode()
    assert "Say what will happen" in body and "Select the agency that will do it" in body
    plan = CarePlan.objects.get()
    _add(w, plan, "Chris adds this first", w["housing"])
    response = client.post(url, {"what": "Jo's item", "agency": w["hostel"].pk, "edit_version": 1})
    body = response.content.decode()
    assert "Someone else changed this care plan" in body and "Jo&#x27;s item" in body
    future = discussed_at_meeting(w["case"], chair=w["chair"], days_ago=-20)
    agree = signed_in_client(w["chair"]).post(
        reverse("cases:care_plan_agree", args=[w["case"].pk]),
        {"item": str(future.pk)},
    )
    assert "Select a forum meeting that discussed this case, has been held" in (
        agree.content.decode()
    )
    assert CarePlan.objects.get(case=w["case"]).state == CarePlan.State.DRAFT


def test_agreement_needs_the_forums_decision_on_this_cases_item(w):
    from forums.models import ForumDecision
    from forums.services import forum_decision_record

    plan = services.care_plan_draft(actor=w["jo"], case=w["case"])
    _add(w, plan, "Something", w["hostel"])
    with pytest.raises(DomainError, match="agreed in the case's discussion"):
        services.care_plan_agree(actor=w["chair"], plan=plan, decision=None)
    other = CaseFactory()
    give_consent(other.person)
    services.case_agency_join(actor=w["chair"], case=other, agency=w["chair"].agency)
    other_item = discussed_at_meeting(other, chair=w["chair"], meeting=w["meeting"])
    elsewhere = forum_decision_record(
        actor=w["chair"],
        meeting=w["meeting"],
        item=other_item,
        case=other,
        kind=ForumDecision.Kind.CARE_PLAN_AGREED,
        summary="Another person's plan.",
    )
    other_kind = forum_decision_record(
        actor=w["chair"],
        meeting=w["meeting"],
        item=w["item"],
        case=w["case"],
        kind=ForumDecision.Kind.OTHER,
        summary="Review in a month.",
    )
    for decision in (elsewhere, other_kind):
        with pytest.raises(DomainError, match="agreed in the case's discussion"):
            services.care_plan_agree(actor=w["chair"], plan=plan, decision=decision)
    plan.refresh_from_db()
    assert plan.state == CarePlan.State.DRAFT
    agreed = item_care_plan_agree(actor=w["chair"], item=w["item"])
    assert agreed.agreed_meeting == w["meeting"]
    shown = ForumDecision.objects.get(item=w["item"], kind=ForumDecision.Kind.CARE_PLAN_AGREED)
    assert shown.case == w["case"] and "version 1" in shown.summary
    v2 = services.care_plan_draft(actor=w["jo"], case=w["case"])
    assert v2.items.get().history.get().history_user == w["jo"]
    item_care_plan_agree(actor=w["chair"], item=w["item"])
    plan.refresh_from_db()
    assert plan.history.first().state == "superseded"
    assert plan.history.first().history_user == w["chair"]
