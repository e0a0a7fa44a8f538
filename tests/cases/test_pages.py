"""Case and person pages: query budgets that do not grow, and the access log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services as assessment_services
from csf_portal.models import AccessEvent
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_case_list_query_count_does_not_grow():
    agency = AgencyFactory()
    client = signed_in_client(UserFactory(agency=agency))
    for _ in range(5):
        visible_case(agency)
    small = _queries(client, reverse("cases:list"))
    for _ in range(45):
        visible_case(agency)
    assert _queries(client, reverse("cases:list")) == small
    assert AccessEvent.objects.filter(object_type="cases.case", object_id="list").count() == 2


def test_person_page_query_count_does_not_grow_with_assessments():
    agency = AgencyFactory()
    user = UserFactory(agency=agency)
    client = signed_in_client(user)
    case = visible_case(agency)
    url = reverse("cases:person", args=[case.person.pk])

    def assess(n):
        for _ in range(n):
            a = assessment_services.assessment_start(actor=user, person=case.person)
            answers = {i.pk: (2, "") for i in a.template.items.all()}
            assessment_services.assessment_save(actor=user, assessment=a, answers=answers)
            assessment_services.assessment_complete(actor=user, assessment=a)

    assess(2)
    small = _queries(client, url)
    assess(10)
    assert _queries(client, url) == small
    assert AccessEvent.objects.filter(object_id=str(case.person.pk)).count() == 2


def test_case_page_query_count_does_not_grow_with_risks_and_involvements():
    from cases import services
    from csf_portal.models import Role

    chair = UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_CHAIR])
    case = visible_case()
    services.case_agency_join(actor=chair, case=case, agency=chair.agency)
    client = signed_in_client(chair)
    url = reverse("cases:detail", args=[case.pk])

    def grow(n):
        for _ in range(n):
            agency = AgencyFactory()
            worker = UserFactory(agency=agency)
            services.case_agency_join(actor=chair, case=case, agency=agency, named_worker=worker)
            risk = services.risk_add(actor=chair, case=case, category="self_neglect", level="high")
            services.risk_owner_add(actor=chair, risk=risk, agency=agency, accepted_by=worker)

    grow(5)
    small = _queries(client, url)
    grow(45)
    body = client.get(url).content.decode()
    assert body.count("accepted by") == 50
    assert _queries(client, url) == small


def test_care_plan_and_risk_pages_are_in_the_access_log():
    from cases import services

    agency = AgencyFactory()
    user = UserFactory(agency=agency)
    case = visible_case(agency)
    services.case_agency_join(actor=user, case=case, agency=agency)
    risk = services.risk_add(actor=user, case=case, category="eviction", level="low")
    services.care_plan_draft(actor=user, case=case)  # version 1 (reading never starts one)
    client = signed_in_client(user)
    client.get(reverse("cases:care_plan", args=[case.pk]))
    client.get(reverse("cases:care_plan_version", args=[case.pk, 1]))
    client.get(reverse("cases:risk_edit", args=[case.pk, risk.pk]))
    reasons = list(
        AccessEvent.objects.filter(object_id=str(case.pk)).values_list("reason", flat=True)
    )
    assert sorted(reasons) == ["care plan", "care plan", "risk"]
