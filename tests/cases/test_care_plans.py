"""Care plans: versioned, agreed at a meeting, superseded, compared; two owners for high risks."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CarePlan
from csf_portal.errors import ConcurrentEdit, DomainError
from csf_portal.models import Role
from forums.models import Forum
from forums.services import meeting_plan
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent, set_up

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
    meeting = meeting_plan(
        actor=chair,
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() - datetime.timedelta(days=1),
        location="Room 1",
    )
    return {
        "chair": chair,
        "case": case,
        "hostel": hostel,
        "housing": housing,
        "jo": jo,
        "chris": chris,
        "meeting": meeting,
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
    services.care_plan_agree(actor=w["chair"], plan=v1, meeting=w["meeting"])
    v2 = services.care_plan_draft(actor=w["chris"], case=w["case"])
    assert v2.version == 2 and v2.items.count() == 2  # starts from the agreed plan
    v2.refresh_from_db()
    item = v2.items.get(what="Keep the hostel bed open")
    services.care_plan_item_remove(
        actor=w["jo"], plan=v2, expected_edit_version=v2.edit_version, item_id=item.pk
    )
    _add(w, v2, "Naloxone training for hostel staff", w["hostel"])
    services.care_plan_agree(actor=w["chair"], plan=v2, meeting=w["meeting"])
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
        services.care_plan_agree(actor=w["chair"], plan=plan, meeting=w["meeting"])
    services.risk_owner_add(
        actor=w["chair"], risk=risk, agency=w["housing"], accepted_by=w["chris"]
    )
    services.care_plan_agree(actor=w["chair"], plan=plan, meeting=w["meeting"])


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
        services.care_plan_agree(actor=w["jo"], plan=plan, meeting=w["meeting"])
    outsider = UserFactory(agency=AgencyFactory())
    with pytest.raises(NotAllowed):
        services.care_plan_draft(actor=outsider, case=w["case"])
    with pytest.raises(DomainError, match="not involved"):
        _add(w, plan, "Something else", outsider.agency)


def test_draft_page_bad_input_and_concurrent_message(w):
    client = signed_in_client(w["jo"])
    url = reverse("cases:care_plan", args=[w["case"].pk])
    page = client.get(url).content.decode()
    assert "Care plan: draft version 1" in page
    plan = CarePlan.objects.get()
    response = client.post(url, {"what": "", "edit_version": plan.edit_version})
    body = response.content.decode()
    assert "Say what will happen" in body and "Select the agency that will do it" in body
    _add(w, plan, "Chris adds this first", w["housing"])
    response = client.post(url, {"what": "Jo's item", "agency": w["hostel"].pk, "edit_version": 1})
    body = response.content.decode()
    assert "Someone else changed this care plan" in body and "Jo&#x27;s item" in body
    future = meeting_plan(
        actor=w["chair"],
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() + datetime.timedelta(days=20),
        location="Room 1",
    )
    agree = signed_in_client(w["chair"]).post(
        reverse("cases:care_plan_agree", args=[w["case"].pk]),
        {"meeting": str(future.pk)},
    )
    assert "Select a forum meeting that has met and whose minutes are open" in (
        agree.content.decode()
    )


def test_agreement_needs_a_csf_meeting_that_has_met_and_superseding_is_in_history(w):
    from forums.models import Forum, Meeting

    plan = services.care_plan_draft(actor=w["jo"], case=w["case"])
    _add(w, plan, "Something", w["hostel"])
    with set_up():
        sog = Meeting.objects.create(
            forum=Forum.objects.get(kind="sog"),
            starts_at=timezone.now() - datetime.timedelta(days=1),
        )
    with pytest.raises(DomainError, match="Creative Solutions Forum meeting"):
        services.care_plan_agree(actor=w["chair"], plan=plan, meeting=sog)
    services.care_plan_agree(actor=w["chair"], plan=plan, meeting=w["meeting"])
    v2 = services.care_plan_draft(actor=w["jo"], case=w["case"])
    assert v2.items.get().history.get().history_user == w["jo"]
    services.care_plan_agree(actor=w["chair"], plan=v2, meeting=w["meeting"])
    plan.refresh_from_db()
    assert plan.history.first().state == "superseded"
    assert plan.history.first().history_user == w["chair"]
