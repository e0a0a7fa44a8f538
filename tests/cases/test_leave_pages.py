"""Leaving a case: refused and counted for practitioners; by forum decision for the chair."""

from __future__ import annotations

import pytest
from django.urls import reverse

import access
from cases import services
from cases.models import HandOffAttempt
from csf_portal.models import Role
from tests.conftest import signed_in_client
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    discussed_at_meeting,
    give_consent,
    set_up,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    chair = UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_CHAIR])
    housing = AgencyFactory(name="Housing")
    case = CaseFactory()
    give_consent(case.person)
    services.case_agency_join(actor=chair, case=case, agency=chair.agency)
    services.case_agency_join(actor=chair, case=case, agency=housing)
    return {"chair": chair, "case": case, "housing": housing, "chris": UserFactory(agency=housing)}


def test_practitioner_asking_to_step_away_is_refused_and_counted(w):
    client = signed_in_client(w["chris"])
    url = reverse("cases:detail", args=[w["case"].pk])
    assert "Ask for my agency to step away" in client.get(url).content.decode()
    response = client.post(reverse("cases:leave", args=[w["case"].pk]), follow=True)
    assert "No agency can hand this person off" in response.content.decode()
    assert HandOffAttempt.objects.count() == 1
    assert "Attempted hand-offs: <strong>1</strong>" in client.get(url).content.decode()


def test_chair_records_the_forum_decision_on_the_cases_agenda_item(w):
    client = signed_in_client(w["chair"])
    url = reverse("cases:leave", args=[w["case"].pk])
    bad = client.post(url, {"agency": w["housing"].pk})
    assert "Say what the forum decided and why" in bad.content.decode()
    # A meeting that discussed someone else is no place to decide about this case.
    other = CaseFactory()
    give_consent(other.person)
    services.case_agency_join(actor=w["chair"], case=other, agency=w["chair"].agency)
    elsewhere = discussed_at_meeting(other, chair=w["chair"], days_ago=3)
    page = client.get(url).content.decode()
    assert "(item 1)" not in page  # the other person's item
    refused = client.post(
        url,
        {
            "agency": w["housing"].pk,
            "item": str(elsewhere.pk),
            "summary": "Duty discharged; the hostel keeps the tenancy support.",
        },
    )
    assert "Select a forum meeting that discussed this case" in refused.content.decode()
    assert access.can_view_case(w["chris"], w["case"])
    # Discussed at a meeting that was held: the decision goes on that item's minutes.
    item = discussed_at_meeting(w["case"], chair=w["chair"], meeting=elsewhere.meeting)
    assert "(item 2)" in client.get(url).content.decode()
    ok = client.post(
        url,
        {
            "agency": w["housing"].pk,
            "item": str(item.pk),
            "summary": "Duty discharged; the hostel keeps the tenancy support.",
        },
    )
    assert ok.status_code == 302
    assert not access.can_view_case(w["chris"], w["case"])
    decision = w["case"].decisions.get()
    assert decision.decided_by == w["chair"] and decision.item == item
    minutes = client.get(reverse("forums:item", args=[item.meeting.pk, item.pk])).content.decode()
    assert "Duty discharged; the hostel keeps the tenancy support." in minutes


def test_superuser_status_does_not_make_a_practitioner_the_chair_on_the_case_page(w):
    """The chair's links come from the role predicate, never from ``perms`` (door 7)."""
    chris = w["chris"]
    chris.is_superuser = True
    with set_up():
        chris.save()
    page = signed_in_client(chris).get(reverse("cases:detail", args=[w["case"].pk]))
    body = page.content.decode()
    assert "Ask for my agency to step away" in body
    assert "Record a forum decision that an agency leaves" not in body
    assert "Change the case&#x27;s status" not in body and "Change the case's status" not in body
    chair_page = signed_in_client(w["chair"]).get(reverse("cases:detail", args=[w["case"].pk]))
    assert "Record a forum decision that an agency leaves" in chair_page.content.decode()
