"""Standing membership is case-bearing: written by services, recorded, chairs told (issue 19)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import Notification, Role, RoleChange
from forums import services
from forums.models import Forum, ForumMembership
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up
from tests.helpers import as_read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    # Leaving dates are checked against today: the tests never depend on the day they run.
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def people(db):
    return {
        "admin": UserFactory(agency=None, roles=[Role.ADMINISTRATOR]),
        "chair": UserFactory(
            agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR]
        ),
        "other_chair": UserFactory(
            agency=AgencyFactory(name="Probation"), roles=[Role.FORUM_CHAIR]
        ),
        "worker": UserFactory(agency=AgencyFactory(name="Harbour Hostel")),
    }


def _csf():
    return Forum.objects.get(kind=Forum.Kind.CSF)


def test_adding_a_member_is_recorded_and_every_chair_told(people):
    admin, worker = people["admin"], people["worker"]
    membership = services.membership_add(actor=admin, forum=_csf(), user=worker)
    change = RoleChange.objects.get(user=worker, kind=RoleChange.Kind.FORUM_MEMBERSHIP_ADDED)
    assert (change.kind, change.actor, change.case_bearing) == (
        RoleChange.Kind.FORUM_MEMBERSHIP_ADDED,
        admin,
        True,
    )
    assert change.description == f"Standing forum membership added: {_csf()} (member)"
    assert membership.history.get().history_user == admin
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {people["chair"].pk, people["other_chair"].pk}
    assert str(worker) in Notification.objects.first().text


def test_a_chair_adding_a_member_tells_the_other_chairs_not_themselves(people):
    chair = people["chair"]
    services.membership_add(actor=chair, forum=_csf(), user=people["worker"])
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {people["other_chair"].pk}


def test_an_administrator_cannot_add_themselves(people):
    admin = people["admin"]
    admin.agency = AgencyFactory(name="Council IT")
    with set_up():
        admin.save()
    with pytest.raises(NotAllowed, match="your own standing membership"):
        services.membership_add(actor=admin, forum=_csf(), user=admin)
    assert not ForumMembership.objects.filter(user=admin).exists()
    assert not RoleChange.objects.filter(user=admin, actor=admin).exists()


def test_only_chairs_and_administrators_manage_membership(people):
    with pytest.raises(NotAllowed):
        services.membership_add(actor=people["worker"], forum=_csf(), user=people["worker"])
    membership = services.membership_add(actor=people["chair"], forum=_csf(), user=people["worker"])
    with pytest.raises(NotAllowed):
        services.membership_update(
            actor=UserFactory(),
            membership=membership,
            role="chair",
            joined_on=membership.joined_on,
            left_on=None,
        )
    membership.refresh_from_db()
    assert membership.role == ForumMembership.Role.MEMBER


def test_ending_a_membership_is_recorded_and_not_told_as_a_grant(people):
    admin, worker = people["admin"], people["worker"]
    membership = services.membership_add(actor=admin, forum=_csf(), user=worker)
    Notification.objects.all().delete()
    services.membership_update(
        actor=admin,
        membership=membership,
        role="member",
        joined_on=membership.joined_on,
        left_on=datetime.date(2026, 3, 10),
    )
    membership.refresh_from_db()
    assert membership.left_on == datetime.date(2026, 3, 10)
    ended = RoleChange.objects.get(kind=RoleChange.Kind.FORUM_MEMBERSHIP_ENDED)
    assert (ended.user, ended.actor, ended.case_bearing) == (worker, admin, False)
    assert "left on 10 March 2026" in ended.description
    assert not Notification.objects.exists()
    # an ended membership is a record: never changed again
    with pytest.raises(DomainError, match="has ended"):
        services.membership_update(
            actor=admin,
            membership=membership,
            role="chair",
            joined_on=membership.joined_on,
            left_on=None,
        )


def test_a_seat_as_chair_is_a_grant_told_to_the_chairs(people):
    admin, worker = people["admin"], people["worker"]
    membership = services.membership_add(actor=admin, forum=_csf(), user=worker)
    Notification.objects.all().delete()
    services.membership_update(
        actor=admin,
        membership=membership,
        role="chair",
        joined_on=membership.joined_on,
        left_on=None,
    )
    change = RoleChange.objects.get(kind=RoleChange.Kind.FORUM_MEMBERSHIP_CHANGED)
    assert change.case_bearing and "(member) to" in change.description
    assert Notification.objects.count() == 2


@pytest.mark.parametrize(
    ("left_on", "message"),
    [
        (datetime.date(2026, 3, 11), "today or in the past"),
        (datetime.date(2026, 2, 28), "after the date they joined"),
    ],
)
def test_leaving_dates_are_checked(people, left_on, message):
    membership = services.membership_add(
        actor=people["admin"],
        forum=_csf(),
        user=people["worker"],
        joined_on=datetime.date(2026, 3, 1),
    )
    with pytest.raises(DomainError, match=message):
        services.membership_update(
            actor=people["admin"],
            membership=membership,
            role="member",
            joined_on=membership.joined_on,
            left_on=left_on,
        )
    membership.refresh_from_db()
    assert membership.left_on is None


def test_the_admin_adds_and_ends_through_the_service(people):
    admin, worker = people["admin"], people["worker"]
    client = signed_in_client(admin)
    response = client.post(
        reverse("admin:forums_forummembership_add"),
        {"forum": _csf().pk, "user": worker.pk, "role": "member", "joined_on": "2026-03-02"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = ForumMembership.objects.get(user=worker)
    assert membership.joined_on == datetime.date(2026, 3, 2)
    assert RoleChange.objects.filter(
        user=worker, actor=admin, kind=RoleChange.Kind.FORUM_MEMBERSHIP_ADDED
    ).exists()
    assert Notification.objects.filter(user=people["chair"]).exists()
    change_url = reverse("admin:forums_forummembership_change", args=[membership.pk])
    response = client.post(
        change_url,
        as_read(
            client,
            change_url,
            {"role": "member", "joined_on": "2026-03-02", "left_on": "2026-03-10"},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership.refresh_from_db()
    assert membership.left_on == datetime.date(2026, 3, 10)
    assert RoleChange.objects.filter(kind=RoleChange.Kind.FORUM_MEMBERSHIP_ENDED).count() == 1
    # ended: shown, not editable
    response = client.post(change_url, {"role": "chair", "joined_on": "2026-03-02", "left_on": ""})
    membership.refresh_from_db()
    assert response.status_code == 403 and membership.left_on == datetime.date(2026, 3, 10)


def test_the_admin_refuses_an_administrator_adding_themselves_on_the_page(people):
    admin = people["admin"]
    admin.agency = AgencyFactory(name="Council IT")
    with set_up():
        admin.save()
    response = signed_in_client(admin).post(
        reverse("admin:forums_forummembership_add"),
        {"forum": _csf().pk, "user": admin.pk, "role": "member", "joined_on": "2026-03-02"},
    )
    assert response.status_code == 200
    assert "your own standing membership" in response.content.decode()
    assert not ForumMembership.objects.filter(user=admin).exists()


def test_the_admin_shows_a_bad_leaving_date_on_the_field(people):
    membership = services.membership_add(
        actor=people["chair"],
        forum=_csf(),
        user=people["worker"],
        joined_on=datetime.date(2026, 3, 1),
    )
    client = signed_in_client(people["admin"])
    url = reverse("admin:forums_forummembership_change", args=[membership.pk])
    response = client.post(
        url,
        as_read(
            client, url, {"role": "member", "joined_on": "2026-03-01", "left_on": "2026-02-01"}
        ),
    )
    assert response.status_code == 200
    assert "after the date they joined" in response.content.decode()
    membership.refresh_from_db()
    assert membership.left_on is None
