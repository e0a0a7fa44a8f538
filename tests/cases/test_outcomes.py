"""Outcome reviews and the case's status."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import services
from cases.models import Case, OutcomeReview
from csf_portal.errors import DomainError, InvalidTransition, NotAllowed
from csf_portal.models import Role
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    hostel = AgencyFactory(name="Hostel")
    case = visible_case(hostel)
    jo = UserFactory(agency=hostel)
    chair = UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_CHAIR])
    services.case_agency_join(actor=chair, case=case, agency=chair.agency)
    return {"case": case, "jo": jo, "chair": chair}


REVIEW = {
    "period_start_0": "1",
    "period_start_1": "9",
    "period_start_2": "2026",
    "period_end_0": "31",
    "period_end_1": "10",
    "period_end_2": "2026",
    "police_contacts": "0",
    "ambulance_contacts": "1",
    "ae_attendances": "2",
    "unplanned_admissions": "0",
    "bnb_nights": "3",
    "accommodation_status": "supported",
    "housing_satisfied": "yes",
    "avoidable": "yes",
    "avoidable_note": "Three services assessed him separately in one month.",
}


def test_record_a_review_with_risk_levels_and_score_captured(w):
    services.risk_add(actor=w["jo"], case=w["case"], category="self_neglect", level="medium")
    client = signed_in_client(w["jo"])
    response = client.post(reverse("cases:review_add", args=[w["case"].pk]), REVIEW)
    assert response.status_code == 302
    review = OutcomeReview.objects.get()
    assert review.emergency_contacts == 3 and review.bnb_nights == 3
    assert [(r["category"], r["level"]) for r in review.risk_levels] == [("self_neglect", "medium")]
    w["case"].person.refresh_from_db()
    assert w["case"].person.accommodation_status == "supported"
    page = client.get(reverse("cases:detail", args=[w["case"].pk])).content.decode()
    assert "Outcome review: 3 emergency contacts, 3 B&amp;B nights" in page


@pytest.mark.parametrize(
    "change,message",
    [
        ({"police_contacts": "-1"}, "Police contacts cannot be less than 0"),
        (
            {"bnb_nights": "lots"},
            "Nights in B&amp;B or emergency accommodation must be a whole number",
        ),
        ({"period_end_2": "2025"}, "The end of the period must be after its start"),
        ({"period_end_2": "2999"}, "End of the period must be today or in the past"),
        ({"avoidable": ""}, "Say whether the case could have been avoided"),
        ({"avoidable_note": "<script>x</script>"}, "Remove the HTML or script"),
    ],
)
def test_review_bad_input(w, change, message):
    client = signed_in_client(w["jo"])
    response = client.post(reverse("cases:review_add", args=[w["case"].pk]), REVIEW | change)
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert message in body
    assert not OutcomeReview.objects.exists()


def test_case_moves_through_its_states_and_closes_with_an_outcome(w):
    case = w["case"]
    services.case_set_state(actor=w["chair"], case=case, state="active")
    with pytest.raises(InvalidTransition, match="cannot become awaiting forum"):
        services.case_set_state(actor=w["chair"], case=case, state="awaiting_forum")
    with pytest.raises(DomainError, match="outcome"):
        services.case_set_state(actor=w["chair"], case=case, state="closed")
    with pytest.raises(NotAllowed):
        services.case_set_state(actor=w["jo"], case=case, state="monitoring")
    services.case_set_state(
        actor=w["chair"], case=case, state="closed", closure_outcome="risk_reduced"
    )
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED and case.closure_outcome == "risk_reduced"
    assert case.closed_at is not None


def test_outsiders_get_404_on_every_case_url(w):
    risk = services.risk_add(actor=w["jo"], case=w["case"], category="suicide", level="high")
    outsider = UserFactory(agency=AgencyFactory())
    commissioner = UserFactory(agency=w["jo"].agency, roles=[Role.COMMISSIONER])
    pk = w["case"].pk
    urls = [
        reverse("cases:detail", args=[pk]),
        reverse("cases:risk_add", args=[pk]),
        reverse("cases:risk_edit", args=[pk, risk.pk]),
        reverse("cases:care_plan", args=[pk]),
        reverse("cases:care_plan_version", args=[pk, 1]),
        reverse("cases:review_add", args=[pk]),
        reverse("cases:state", args=[pk]),
        reverse("cases:person", args=[w["case"].person.pk]),
    ]
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    superuser = UserFactory(agency=AgencyFactory(), roles=[Role.PRACTITIONER])
    superuser.is_superuser = True
    with set_up():
        superuser.save()
    member = UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_MEMBER])
    for user in (outsider, commissioner, admin, superuser, member):
        client = signed_in_client(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    # a practitioner of an involved agency cannot change the status either
    assert signed_in_client(w["jo"]).get(reverse("cases:state", args=[pk])).status_code == 404
