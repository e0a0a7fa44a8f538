"""Issue 19 side doors: administrators cannot reach case data; deactivated agencies see nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

import access
from csf_portal import services
from csf_portal.errors import NotAllowed
from csf_portal.models import AccessEvent, Notification, Role, RoleChange, User
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case
from tests.helpers import as_read

pytestmark = pytest.mark.django_db


def _roles(user):
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def test_nobody_changes_their_own_roles_agency_or_active_state():
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    with pytest.raises(NotAllowed, match="your own roles"):
        services.user_roles_set(actor=admin, user=admin, roles=[Role.FORUM_CHAIR])
    with pytest.raises(NotAllowed, match="your own agency"):
        services.user_agency_set(actor=admin, user=admin, agency=AgencyFactory())
    with pytest.raises(NotAllowed, match="switch your own account"):
        services.user_change_check(actor=admin, user=admin, is_active=False)
    admin.refresh_from_db()
    assert _roles(admin) == {Role.ADMINISTRATOR.value} and admin.agency_id is None
    assert not RoleChange.objects.filter(user=admin, actor=admin).exists()


def test_an_administrator_never_also_holds_a_case_bearing_role():
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    other = UserFactory(roles=[Role.PRACTITIONER])
    for case_role in access.CASE_BEARING_ROLES:
        with pytest.raises(NotAllowed, match="cannot also be"):
            services.user_roles_set(actor=admin, user=other, roles=[Role.ADMINISTRATOR, case_role])
        with pytest.raises(NotAllowed):
            UserFactory(roles=[case_role, Role.ADMINISTRATOR])
    assert _roles(other) == {Role.PRACTITIONER.value}


def test_role_and_agency_grants_are_recorded_and_the_chairs_told():
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    chair = UserFactory(roles=[Role.FORUM_CHAIR])
    newcomer = UserFactory(agency=None, roles=[Role.COMMISSIONER])
    agency = AgencyFactory(name="Harbour Hostel")
    services.user_agency_set(actor=admin, user=newcomer, agency=agency)
    services.user_roles_set(actor=admin, user=newcomer, roles=[Role.FORUM_CHAIR])
    changes = list(RoleChange.objects.filter(user=newcomer, actor=admin).order_by("at", "id"))
    assert [(c.kind, c.role, c.case_bearing) for c in changes] == [
        (RoleChange.Kind.AGENCY_CHANGED, "", True),
        (RoleChange.Kind.ROLE_GRANTED, Role.FORUM_CHAIR.value, True),
        (RoleChange.Kind.ROLE_REMOVED, Role.COMMISSIONER.value, False),
    ]
    assert changes[0].agency_before is None and changes[0].agency_after == agency
    latest = newcomer.history.latest()
    assert latest.history_user == admin
    assert "Role given: Forum chair" in latest.history_change_reason
    told = list(Notification.objects.filter(user=chair).values_list("text", flat=True))
    assert len(told) == 2
    assert any("Forum chair" in t for t in told) and any("Harbour Hostel" in t for t in told)


def test_a_deactivated_agency_sees_no_case_data(agency, practitioner):
    case = visible_case(agency)
    client = signed_in_client(practitioner)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    services.agency_update(
        actor=admin, agency=agency, name=agency.name, kind=agency.kind, is_active=False
    )
    practitioner = User.objects.select_related("agency").get(pk=practitioner.pk)
    assert list(access.cases_visible_to(user=practitioner)) == []
    assert not access.can_view_case(practitioner, case)
    assert not access.has_role(practitioner, Role.PRACTITIONER)
    client = signed_in_client(practitioner)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert escape(case.person.given_name) not in client.get(reverse("cases:list")).content.decode()


def test_an_administrator_with_an_agency_sees_no_case_data(agency):
    case = visible_case(agency)
    admin = UserFactory(agency=agency, roles=[Role.ADMINISTRATOR])
    assert not access.can_view_case(admin, case)
    assert list(access.cases_visible_to(user=admin)) == []


def test_only_chairs_do_subject_access_and_each_search_is_logged(agency):
    case = visible_case(agency)
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    client = signed_in_client(admin)
    assert client.get(reverse("reports:subject_access")).status_code == 404
    url = reverse("reports:subject_access_request", args=[case.person_id])
    assert client.post(url, {"format": "json"}).status_code == 404
    chair = UserFactory(roles=[Role.FORUM_CHAIR])
    response = signed_in_client(chair).get(
        reverse("reports:subject_access"), {"nhs_number": case.person.nhs_number or "9434765919"}
    )
    assert response.status_code == 200
    assert AccessEvent.objects.filter(
        user=chair, object_type="reports.subject_access_search"
    ).exists()


def test_the_admin_user_form_cannot_give_yourself_a_role_or_an_agency():
    from django.contrib.auth.models import Group

    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    client = signed_in_client(admin)
    url = reverse("admin:csf_portal_user_change", args=[admin.pk])
    assert client.get(url).status_code == 200
    chair_group = Group.objects.get(name=Role.FORUM_CHAIR)
    client.post(
        url,
        as_read(
            client,
            url,
            {
                "username": admin.username,
                "first_name": "Root",
                "last_name": admin.last_name,
                "email": admin.email,
                "agency": AgencyFactory().pk,
                "groups": [chair_group.pk],
                "is_superuser": "on",
                "is_staff": "on",
                "is_active": "on",
                "date_joined_0": "2026-01-01",
                "date_joined_1": "09:00:00",
            },
        ),
    )
    admin = User.objects.get(pk=admin.pk)
    assert _roles(admin) == {Role.ADMINISTRATOR.value}
    assert admin.agency_id is None and not admin.is_superuser
    assert not access.has_role(admin, Role.FORUM_CHAIR)


def _admin_form(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "agency": user.agency_id or "",
        "job_title": user.job_title,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    data.update(changes)
    return data


def test_an_administrator_sets_another_users_roles_in_the_admin_and_it_is_recorded(agency):
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    worker = UserFactory(agency=agency, roles=[Role.PRACTITIONER])
    client = signed_in_client(admin)
    url = reverse("admin:csf_portal_user_change", args=[worker.pk])
    page = client.get(url).content.decode()
    assert 'name="roles"' in page and 'name="groups"' not in page
    response = client.post(
        url,
        as_read(
            client,
            url,
            _admin_form(worker, roles=[Role.PRACTITIONER.value, Role.FORUM_MEMBER.value]),
        ),
    )
    assert response.status_code == 302
    assert _roles(worker) == {Role.PRACTITIONER.value, Role.FORUM_MEMBER.value}
    assert RoleChange.objects.filter(
        user=worker, actor=admin, kind=RoleChange.Kind.ROLE_GRANTED, role=Role.FORUM_MEMBER
    ).exists()


@pytest.mark.parametrize("self_change", [True, False])
def test_the_admin_roles_field_shows_the_refusal_on_the_page(agency, self_change):
    admin = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    target = admin if self_change else UserFactory(agency=agency, roles=[Role.ADMINISTRATOR])
    client = signed_in_client(admin)
    url = reverse("admin:csf_portal_user_change", args=[target.pk])
    wanted = [Role.ADMINISTRATOR.value, Role.FORUM_CHAIR.value]
    response = client.post(url, as_read(client, url, _admin_form(target, roles=wanted)))
    assert response.status_code == 200
    text = response.content.decode()
    assert "errorlist" in text and ("own roles" in text or "cannot also be" in text)
    assert _roles(target) == {Role.ADMINISTRATOR.value}
