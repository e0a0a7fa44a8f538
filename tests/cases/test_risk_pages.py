"""Risk pages: add, change with a clear message when someone else changed it first, share."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import services
from cases.models import Risk, RiskOwner
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    hostel, housing = AgencyFactory(name="Hostel"), AgencyFactory(name="Housing")
    case = visible_case()
    jo, chris = UserFactory(agency=hostel), UserFactory(agency=housing)
    import access

    for agency in (hostel, housing):
        access.case_access_grant(agency=agency, case=case)
    services.case_agency_join(actor=jo, case=case, agency=hostel, named_worker=jo)
    services.case_agency_join(actor=chris, case=case, agency=housing, named_worker=chris)
    return {"case": case, "jo": jo, "chris": chris}


def test_add_a_risk_and_bad_input(w):
    client = signed_in_client(w["jo"])
    url = reverse("cases:risk_add", args=[w["case"].pk])
    response = client.post(url, {"description": "<script>x</script>"})
    body = response.content.decode()
    assert "Select the risk" in body and "Select how serious the risk is now" in body
    assert "Remove the HTML or script" in body
    response = client.post(url, {"category": "eviction", "level": "high", "description": "Arrears"})
    assert response.status_code == 302
    assert Risk.objects.get().level_changes.count() == 1


def test_two_people_editing_one_risk_the_second_is_told(w):
    risk = services.risk_add(actor=w["jo"], case=w["case"], category="eviction", level="high")
    url = reverse("cases:risk_edit", args=[w["case"].pk, risk.pk])
    jo, chris = signed_in_client(w["jo"]), signed_in_client(w["chris"])
    assert 'name="version" value="1"' in jo.get(url).content.decode()
    assert chris.get(url).status_code == 200
    ok = jo.post(url, {"level": "medium", "mitigations": "Payment plan agreed", "version": "1"})
    assert ok.status_code == 302
    late = chris.post(url, {"level": "very_high", "mitigations": "", "version": "1"})
    body = late.content.decode()
    assert "Someone else changed this risk" in body
    assert "Now: <strong>Medium</strong>" in body  # the risk as it is now
    assert 'name="version" value="2"' in body  # saving again is a conscious choice
    risk.refresh_from_db()
    assert risk.level == "medium" and risk.mitigations == "Payment plan agreed"


def test_share_a_risk(w):
    risk = services.risk_add(actor=w["jo"], case=w["case"], category="suicide", level="very_high")
    client = signed_in_client(w["chris"])
    page = client.get(reverse("cases:detail", args=[w["case"].pk])).content.decode()
    assert "Share this risk" in page
    client.post(reverse("cases:risk_accept", args=[w["case"].pk, risk.pk]))
    owner = RiskOwner.objects.get()
    assert owner.agency == w["chris"].agency and owner.accepted_by == w["chris"]


def test_risk_pages_404_for_outsiders(w):
    risk = services.risk_add(actor=w["jo"], case=w["case"], category="suicide", level="high")
    outsider = signed_in_client(UserFactory(agency=AgencyFactory()))
    for url in (
        reverse("cases:risk_add", args=[w["case"].pk]),
        reverse("cases:risk_edit", args=[w["case"].pk, risk.pk]),
    ):
        assert outsider.get(url).status_code == 404
    assert (
        outsider.post(reverse("cases:risk_accept", args=[w["case"].pk, risk.pk])).status_code == 404
    )
