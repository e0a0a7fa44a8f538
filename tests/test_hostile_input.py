"""Hostile or broken input gets a page or a message, never a server error (issue 26, part)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from cases import services as case_services
from csf_portal.errors import DomainError, InvalidTransition, NotAllowed
from csf_portal.forms import GovukDateField, posted_int
from csf_portal.middleware import DomainErrorMiddleware
from csf_portal.models import Role
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

pytestmark = pytest.mark.django_db

HUGE = "9" * 40


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("1", "1", HUGE),
        ("1", HUGE, "2020"),
        (HUGE, "1", "2020"),
        ("1", "1", "99999"),
        ("x", "1", "2020"),
    ],
)
def test_a_date_that_is_no_date_is_a_form_error(day, month, year):
    field = GovukDateField(label="Date of birth")
    with pytest.raises(ValidationError, match="Date of birth must be a real date"):
        field.clean([day, month, year])


def test_a_huge_year_in_a_filter_is_a_message_on_the_page():
    client = signed_in_client(UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER]))
    query = f"?start_0=1&start_1=1&start_2={HUGE}&end_0=1&end_1=1&end_2=2026"
    response = client.get(reverse("reports:outcomes") + query)
    assert response.status_code == 200
    assert "From must be a real date" in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "", None, "-1", "1e9", HUGE, "\x00"])
def test_a_posted_number_that_is_not_one_is_zero(value):
    assert posted_int(value) == 0


def test_a_bad_item_or_version_in_the_care_plan_form_is_refused_with_a_message():
    hostel = AgencyFactory()
    worker = UserFactory(agency=hostel, roles=[Role.PRACTITIONER])
    case = visible_case(hostel)
    client = signed_in_client(worker)
    url = reverse("cases:care_plan", args=[case.pk])
    response = client.post(url, {"remove": "abc", "edit_version": "x"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == url


def test_a_reader_without_involvement_gets_no_draft_plan_and_no_risk_form():
    """Emergency access reads a case; it drafts nothing, and GET never writes."""
    from cases.models import CarePlan

    hostel = AgencyFactory()
    case = visible_case(hostel)
    case.person.nhs_number = "9434765919"
    with set_up():
        case.person.save()
    police = UserFactory(agency=AgencyFactory(name="Police"), roles=[Role.PRACTITIONER])
    client = signed_in_client(police)
    case_services.break_glass_request(
        actor=police,
        nhs_number="9434765919",
        family_name="",
        date_of_birth=None,
        reason="Found unresponsive; paramedics need his known risks.",
        request=None,
    )
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert client.get(reverse("cases:care_plan", args=[case.pk])).status_code == 404
    assert client.get(reverse("cases:risk_add", args=[case.pk])).status_code == 404
    assert client.post(reverse("cases:risk_add", args=[case.pk]), {}).status_code == 404
    assert client.get(reverse("cases:review_add", args=[case.pk])).status_code == 404
    assert not CarePlan.objects.filter(case=case).exists()
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:risk_add", args=[case.pk]) not in page
    assert reverse("cases:care_plan", args=[case.pk]) not in page


@pytest.mark.parametrize(
    ("exception", "status", "shown"),
    [
        (NotAllowed("Only the chair may."), 403, "You do not have permission to do this"),
        (InvalidTransition("A closed case cannot reopen."), 409, "A closed case cannot reopen."),
        (DomainError("The agenda is empty."), 409, "The agenda is empty."),
    ],
)
def test_a_refusal_no_view_caught_is_a_page_not_a_server_error(exception, status, shown):
    request = RequestFactory().get("/")
    request.user = UserFactory()
    middleware = DomainErrorMiddleware(lambda r: None)  # type: ignore[arg-type, return-value]
    response = middleware.process_exception(request, exception)
    assert response is not None and response.status_code == status
    assert shown in response.content.decode()


def test_other_errors_are_left_to_the_server_error_page():
    middleware = DomainErrorMiddleware(lambda r: None)  # type: ignore[arg-type, return-value]
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


def test_the_admin_shows_no_emergency_access_reason_and_takes_no_typed_year():
    from csf_portal.models import AccessEvent

    reason = "Found unresponsive in a stairwell after an overdose"
    with set_up():
        event = AccessEvent.objects.create(
            user=UserFactory(),
            action=AccessEvent.Action.BREAK_GLASS,
            object_type="cases.case",
            object_id="x",
            reason=reason,
        )
    client = signed_in_client(UserFactory(agency=None, roles=[Role.ADMINISTRATOR]))
    listing = client.get(reverse("admin:csf_portal_accessevent_changelist"))
    assert listing.status_code == 200 and reason not in listing.content.decode()
    page = client.get(reverse("admin:csf_portal_accessevent_change", args=[event.pk]))
    assert page.status_code == 200 and reason not in page.content.decode()
    huge = client.get(reverse("admin:csf_portal_accessevent_changelist") + f"?at__year={HUGE}")
    assert huge.status_code in (200, 302)
