"""Forum pages, and the case page's forum panels, keep a constant number of SQL queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from csf_portal.models import Role
from forums import services
from forums.models import Action, Forum, ForumMembership
from reports import services as report_services
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent, set_up

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def w():
    chair = UserFactory(agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR])
    hostel = AgencyFactory(name="Hostel")
    worker = UserFactory(agency=hostel)
    member = UserFactory(agency=AgencyFactory(name="Mental health"), roles=[Role.FORUM_MEMBER])
    csf = Forum.objects.get(kind="csf")
    with set_up():
        ForumMembership.objects.create(forum=csf, user=member, agency=member.agency)
    meeting = services.meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        location="Council House",
    )
    return {
        "chair": chair,
        "hostel": hostel,
        "worker": worker,
        "member": member,
        "meeting": meeting,
    }


def _case(w):
    case = CaseFactory()
    give_consent(case.person)
    case_services.case_agency_join(actor=w["chair"], case=case, agency=w["chair"].agency)
    case_services.case_agency_join(
        actor=w["chair"], case=case, agency=w["hostel"], named_worker=w["worker"]
    )
    return case


def _items(w, n):
    for _ in range(n):
        item = services.agenda_item_add(
            actor=w["chair"],
            meeting=w["meeting"],
            case=_case(w),
            presenter=w["worker"],
            invited_agencies=[AgencyFactory()],
        )
        services.item_minutes_save(
            actor=w["chair"], item=item, minutes="Discussed at length.", expected_version=0
        )
        for _ in range(2):
            services.action_add(
                actor=w["chair"],
                meeting=w["meeting"],
                item=item,
                description="Joint visit",
                owner_agency=w["hostel"],
                owner=w["worker"],
                due_on=timezone.localdate() + datetime.timedelta(days=7),
            )


def test_meeting_page_for_chair_and_member(w):
    url = reverse("forums:meeting", args=[w["meeting"].pk])
    chair, member = signed_in_client(w["chair"]), signed_in_client(w["member"])
    _items(w, 3)
    services.agenda_publish(actor=w["chair"], meeting=w["meeting"])
    small = (_queries(chair, url), _queries(member, url))
    _items(w, 27)
    body = member.get(url).content.decode()
    assert body.count("Joint visit") == 60
    assert (_queries(chair, url), _queries(member, url)) == small


def test_action_log_and_my_work(w):
    _items(w, 3)
    log, home = reverse("forums:actions"), reverse("home")
    worker = signed_in_client(w["worker"])
    small = (_queries(worker, log), _queries(worker, home))
    _items(w, 22)
    assert Action.objects.count() == 50
    assert (_queries(worker, log), _queries(worker, home)) == small


def test_case_page_with_more_actions_discussions_and_reviews(w):
    case = _case(w)
    url = reverse("cases:detail", args=[case.pk])
    client = signed_in_client(w["worker"])

    def discuss(n):
        for i in range(n):
            meeting = services.meeting_plan(
                actor=w["chair"],
                forum=Forum.objects.get(kind="csf"),
                starts_at=timezone.now() - datetime.timedelta(days=3 * (i + 1) + n),
                location="Council House",
            )
            item = services.agenda_item_add(actor=w["chair"], meeting=meeting, case=case)
            services.action_add(
                actor=w["chair"],
                meeting=meeting,
                item=item,
                description="Benefits check",
                owner_agency=w["hostel"],
                owner=w["worker"],
                due_on=timezone.localdate() + datetime.timedelta(days=7),
            )
            day = timezone.localdate() - datetime.timedelta(days=3 * (i + 1) + n)
            report_services.outcome_review_record(
                actor=w["worker"],
                case=case,
                period_start=day - datetime.timedelta(days=2),
                period_end=day,
                police_contacts=1,
                ambulance_contacts=0,
                ae_attendances=0,
                unplanned_admissions=0,
                bnb_nights=0,
                accommodation_status="hostel",
                housing_satisfied="unsure",
                avoidable="unsure",
            )

    discuss(5)
    small = _queries(client, url)
    discuss(45)
    body = client.get(url).content.decode()
    assert body.count("Benefits check") == 50
    assert case.outcome_reviews.count() == 50
    assert _queries(client, url) == small


def test_agenda_building_page(w):
    chair = signed_in_client(w["chair"])
    url = reverse("forums:agenda_add", args=[w["meeting"].pk])
    for _ in range(3):
        _case(w)
    small = _queries(chair, url)
    for _ in range(30):
        _case(w)
    assert _queries(chair, url) == small
