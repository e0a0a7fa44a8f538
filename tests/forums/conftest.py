"""A small world for the forum tests: a CSF chair, agencies around one person's case.

Kirsty Marchbank's case involves Adult Safeguarding (the chair's agency) and the
hostel; consent covers every member agency. The police are the service a
meeting invites; housing is never involved or invited; a mental health worker
is a standing member of the CSF; a commissioner and an SOG member sit apart.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cases import services as case_services
from csf_portal.models import AgencyKind, Role
from forums import services
from forums.models import Forum, ForumMembership, Meeting
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    PersonFactory,
    UserFactory,
    give_consent,
    set_up,
)

GIVEN_NAME = "Kirsty"
FAMILY_NAME = "Marchbank"


def local(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """An aware datetime at ``hour:minute`` UK time on ``day``."""
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def in_days(days: int, hour: int = 10) -> datetime.datetime:
    return local(timezone.localdate() + datetime.timedelta(days=days), hour)


def plan(chair, forum: Forum, starts_at: datetime.datetime, **fields) -> Meeting:
    fields.setdefault("location", "Town Hall, Committee Room 2")
    return services.meeting_plan(actor=chair, forum=forum, starts_at=starts_at, **fields)


def started(chair, forum: Forum) -> Meeting:
    """A meeting of ``forum`` that began an hour ago and is still going on."""
    return plan(chair, forum, timezone.now() - datetime.timedelta(hours=1))


def add_case(chair, meeting: Meeting, case, **fields):
    return services.agenda_item_add(actor=chair, meeting=meeting, case=case, **fields)


def chairs_case(chair, **fields):
    """Another case the chair may bring to the forum: their agency is involved and
    consent covers discussion at the forum (need to know, for the agenda builder)."""
    case = CaseFactory(**fields)
    give_consent(case.person)
    case_services.case_agency_join(actor=chair, case=case, agency=chair.agency)
    return case


@pytest.fixture
def csf(db) -> Forum:
    return Forum.objects.get(kind=Forum.Kind.CSF)


@pytest.fixture
def sog(db) -> Forum:
    return Forum.objects.get(kind=Forum.Kind.SOG)


@pytest.fixture
def w(db, csf, sog) -> SimpleNamespace:
    safeguarding = AgencyFactory(name="Adult Safeguarding", kind=AgencyKind.ADULT_SAFEGUARDING)
    hostel = AgencyFactory(name="Hostel")
    police = AgencyFactory(name="Police", kind=AgencyKind.POLICE)
    housing = AgencyFactory(name="Housing", kind=AgencyKind.HOUSING)
    mental_health = AgencyFactory(name="Mental Health", kind=AgencyKind.MENTAL_HEALTH)
    commissioning = AgencyFactory(name="Commissioning", kind=AgencyKind.COMMISSIONER)
    chair = UserFactory(agency=safeguarding, roles=[Role.FORUM_CHAIR])
    member = UserFactory(agency=mental_health)
    with set_up():
        ForumMembership.objects.create(forum=csf, user=member, agency=mental_health)
    person = PersonFactory(given_name=GIVEN_NAME, family_name=FAMILY_NAME)
    case = CaseFactory(person=person)
    give_consent(person)
    for agency in (safeguarding, hostel):
        case_services.case_agency_join(actor=chair, case=case, agency=agency)
    return SimpleNamespace(
        csf=csf,
        sog=sog,
        chair=chair,
        safeguarding=safeguarding,
        hostel=hostel,
        police=police,
        housing=housing,
        mental_health=mental_health,
        commissioning=commissioning,
        hostel_worker=UserFactory(agency=hostel),
        hostel_colleague=UserFactory(agency=hostel),
        police_officer=UserFactory(agency=police),
        housing_officer=UserFactory(agency=housing),
        member=member,
        commissioner=UserFactory(agency=commissioning, roles=[Role.COMMISSIONER]),
        sog_member=UserFactory(agency=housing, roles=[Role.SOG_MEMBER]),
        person=person,
        case=case,
    )
