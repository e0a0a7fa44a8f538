"""The forum chairs' log of role and agency changes (/role-changes/, issue 19)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from csf_portal import services
from csf_portal.models import AccessEvent, Role, RoleChange
from csf_portal.navigation import nav_for
from forums import services as forum_services
from forums.models import Forum
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/role-changes/"


@pytest.fixture
def chair(db):
    return UserFactory(
        first_name="Priya",
        last_name="Chair",
        agency=AgencyFactory(name="Adult Safeguarding"),
        roles=[Role.FORUM_CHAIR],
    )


@pytest.fixture
def admin(db):
    return UserFactory(
        first_name="Alex", last_name="Admin", agency=None, roles=[Role.ADMINISTRATOR]
    )


def _grant(admin, *, first_name, day):
    with time_machine.travel(datetime.datetime(2026, 3, day, 9, tzinfo=datetime.UTC), tick=False):
        user = UserFactory(first_name=first_name, last_name="Worker", agency=None, roles=[])
        services.user_agency_set(actor=admin, user=user, agency=AgencyFactory())
        services.user_roles_set(actor=admin, user=user, roles=[Role.PRACTITIONER])
    return user


def test_the_url_is_the_named_route():
    assert reverse("role_changes") == URL


def test_a_chair_sees_who_changed_whom_newest_first(chair, admin):
    older = _grant(admin, first_name="Olive", day=2)
    newer = _grant(admin, first_name="Nadia", day=5)
    body = signed_in_client(chair).get(URL).content.decode()
    assert "Role given: Practitioner" in body and "Alex Admin" in body
    assert body.index("Nadia Worker") < body.index("Olive Worker")
    assert "Opens case data" in body
    assert f"?user={older.pk}" in body and f"?user={newer.pk}" in body


def test_system_changes_are_named_as_the_system(chair):
    UserFactory(first_name="Seeded", roles=[Role.PRACTITIONER])  # actor None
    body = signed_in_client(chair).get(URL).content.decode()
    assert "The system" in body


def test_the_log_filters_by_member_of_staff(chair, admin):
    olive = _grant(admin, first_name="Olive", day=2)
    _grant(admin, first_name="Nadia", day=5)
    body = signed_in_client(chair).get(URL, {"user": olive.pk}).content.decode()
    assert "Changes to Olive Worker" in body and "Olive Worker" in body
    assert "Nadia Worker" not in body
    assert "Show changes to everyone" in body
    # nonsense is ignored, not an error page
    for junk in ("abc", "-1", "9" * 40):
        assert signed_in_client(chair).get(URL, {"user": junk}).status_code == 200


def test_standing_membership_changes_are_listed(chair, admin):
    member = UserFactory(first_name="Mo", last_name="Member", agency=AgencyFactory())
    forum_services.membership_add(actor=admin, forum=Forum.objects.get(kind="csf"), user=member)
    body = signed_in_client(chair).get(URL).content.decode()
    assert "Standing forum membership added" in body and "Mo Member" in body


@pytest.mark.parametrize(
    "roles",
    [
        [Role.COMMISSIONER],
        [Role.ADMINISTRATOR],
        [Role.PRACTITIONER],
        [Role.FORUM_MEMBER],
        [Role.SOG_MEMBER],
        [],
    ],
)
def test_everyone_but_a_chair_gets_404(roles, admin):
    # A name no generated viewer can have: the viewer's own name is on every page.
    _grant(admin, first_name="Zebedee-Probe", day=2)
    user = UserFactory(agency=None if Role.ADMINISTRATOR in roles else AgencyFactory(), roles=roles)
    response = signed_in_client(user).get(URL)
    assert response.status_code == 404
    assert "Zebedee-Probe" not in response.content.decode()


def test_a_superuser_without_the_chair_role_gets_404():
    boss = UserFactory(agency=None, is_superuser=True)
    assert signed_in_client(boss).get(URL).status_code == 404


def test_it_is_in_the_chairs_navigation_only(chair):
    assert "Role changes" in [i["label"] for i in nav_for(chair, "/")]
    for roles in ([Role.PRACTITIONER], [Role.COMMISSIONER], [Role.ADMINISTRATOR]):
        other = UserFactory(
            agency=None if Role.ADMINISTRATOR in roles else AgencyFactory(), roles=roles
        )
        assert "Role changes" not in [i["label"] for i in nav_for(other, "/")]
    page = signed_in_client(chair).get(URL).content.decode()
    assert f'href="{URL}"' in page


def test_it_pages_without_counting(chair, admin):
    worker = UserFactory(first_name="Paged", agency=AgencyFactory())
    for i in range(52):  # 52 changes and the factory's own: a second page
        services.user_roles_set(
            actor=admin, user=worker, roles=[Role.PRACTITIONER] if i % 2 == 0 else []
        )
    client = signed_in_client(chair)
    first = client.get(URL, {"user": worker.pk})
    assert len(first.context["page"].object_list) == 50
    assert f"?user={worker.pk}&amp;page=2" in first.content.decode()
    second = client.get(URL, {"user": worker.pk, "page": 2})
    assert (
        len(second.context["page"].object_list)
        == RoleChange.objects.filter(user=worker).count() - 50
    )


def test_not_written_to_the_access_log(chair, admin):
    # It shows staff accounts, not case subjects' data: nothing to log.
    _grant(admin, first_name="Olive", day=2)
    signed_in_client(chair).get(URL)
    assert not AccessEvent.objects.exists()


def test_query_budget_does_not_grow_with_the_rows(chair, admin, django_assert_max_num_queries):
    _grant(admin, first_name="Olive", day=2)
    client = signed_in_client(chair)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    for day in range(3, 13):
        _grant(admin, first_name=f"W{day}", day=day)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)
