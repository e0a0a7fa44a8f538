"""Consent and sharing bases have one write path, access.sharing_write, which keeps the case
lists right in the same transaction; the suite's guard refuses any other (DESIGN §4 rules 1, 3)."""

from __future__ import annotations

import pytest
from django.db import transaction

import access
from cases.models import CaseVisibility
from csf_portal.models import Role
from tests import visibility_guard
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusals_expected():
    """For tests that provoke the guard on purpose: its refusals are the point, not a failure."""
    yield visibility_guard.refused
    visibility_guard.refused.clear()


def test_the_guard_is_connected_for_every_test():
    assert visibility_guard.connected()


def test_a_consent_saved_around_the_access_layer_is_refused(refusals_expected):
    hostel = AgencyFactory()
    case = visible_case(hostel)
    consent = case.person.consents.get()
    consent.purposes = ["referral"]
    refused = pytest.raises(
        visibility_guard.VisibilityNotKept, match=r"outside access\.sharing_write"
    )
    with refused, set_up(), transaction.atomic():
        consent.save()
    assert len(refusals_expected) == 1


def test_agencies_changed_around_the_access_layer_are_refused(refusals_expected):
    case = visible_case(AgencyFactory())
    consent = case.person.consents.get()
    with pytest.raises(visibility_guard.VisibilityNotKept), set_up(), transaction.atomic():
        consent.agencies.add(AgencyFactory())
    assert refusals_expected


def test_narrowing_consent_takes_the_case_off_the_list_in_the_same_write():
    hostel = AgencyFactory()
    worker = UserFactory(agency=hostel, roles=[Role.PRACTITIONER])
    case = visible_case(hostel)
    assert case in access.cases_visible_to(user=worker)
    consent = case.person.consents.get()
    consent.purposes = ["referral"]  # the forum only, not care planning
    with transaction.atomic():
        access.sharing_write(consent, actor=consent.recorded_by)
        assert not CaseVisibility.objects.filter(case=case, agency=hostel).exists()
    assert case not in access.cases_visible_to(user=worker)


def test_widening_consent_puts_the_case_on_the_list():
    hostel = AgencyFactory()
    worker = UserFactory(agency=hostel, roles=[Role.PRACTITIONER])
    case = visible_case(hostel, agencies=[], all_member_agencies=False)
    assert case not in access.cases_visible_to(user=worker)
    consent = case.person.consents.get()
    access.sharing_write(consent, actor=consent.recorded_by, agencies=[hostel])
    assert case in access.cases_visible_to(user=worker)


def test_a_reminder_stamp_leaves_the_lists_alone():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = visible_case(AgencyFactory())
    consent = case.person.consents.get()
    consent.review_reminder_sent_on = consent.given_on
    with CaptureQueriesContext(connection) as queries:
        access.sharing_write(
            consent,
            actor=consent.recorded_by,
            update_fields=["review_reminder_sent_on", "updated_at"],
        )
    table = CaseVisibility._meta.db_table
    assert queries.captured_queries  # the save itself
    assert not [q for q in queries.captured_queries if table in q["sql"]]
    consent.purposes = ["referral"]
    with CaptureQueriesContext(connection) as queries:
        access.sharing_write(consent, actor=consent.recorded_by)
    assert [q for q in queries.captured_queries if table in q["sql"]]
