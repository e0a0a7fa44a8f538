"""Leaving a case: refused and counted for practitioners; by forum decision for the chair."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import HandOffAttempt
from csf_portal import access
from csf_portal.models import Role
from forums.models import Forum
from forums.services import meeting_plan
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent

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


def test_chair_records_the_forum_decision(w):
    client = signed_in_client(w["chair"])
    url = reverse("cases:leave", args=[w["case"].pk])
    bad = client.post(url, {"agency": w["housing"].pk})
    assert "Say what the forum decided and why" in bad.content.decode()
    meeting = meeting_plan(
        actor=w["chair"],
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() - datetime.timedelta(days=3),
        location="Room 1",
    )
    ok = client.post(
        url,
        {
            "agency": w["housing"].pk,
            "meeting": str(meeting.pk),
            "summary": "Duty discharged; the hostel keeps the tenancy support.",
        },
    )
    assert ok.status_code == 302
    assert not access.can_view_case(w["chris"], w["case"])
    assert w["case"].decisions.get().decided_by == w["chair"]
