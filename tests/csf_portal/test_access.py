"""The access-control core (DESIGN §4 rule 1): agency-based, fail-closed, 404."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

import access
from csf_portal.models import AccessEvent, Role
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(agency):
    return visible_case(agency)


def test_involved_agency_sees_the_case(practitioner, case):
    assert access.can_view_case(practitioner, case)
    assert access.case_for(user=practitioner, case_id=case.pk) == case
    assert list(access.cases_visible_to(user=practitioner)) == [case]
    assert access.person_for(user=practitioner, person_id=case.person_id) == case.person


def test_other_agency_gets_404(case):
    outsider = UserFactory(agency=AgencyFactory())
    assert not access.can_view_case(outsider, case)
    with pytest.raises(Http404):
        access.case_for(user=outsider, case_id=case.pk)
    with pytest.raises(Http404):
        access.person_for(user=outsider, person_id=case.person_id)
    assert list(access.cases_visible_to(user=outsider)) == []


def test_missing_and_forbidden_look_the_same(practitioner):
    import uuid

    for bad in (uuid.uuid4(), "not-a-uuid", None):
        with pytest.raises(Http404) as missing:
            access.case_for(user=practitioner, case_id=bad)
        assert str(missing.value) == "No such case"


def test_commissioner_of_an_involved_agency_sees_nothing(agency, case):
    commissioner = UserFactory(agency=agency, roles=[Role.COMMISSIONER])
    assert not access.can_view_case(commissioner, case)
    assert list(access.cases_visible_to(user=commissioner)) == []


def test_superuser_status_does_not_widen_access(case):
    root = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    root.is_superuser = True
    with set_up():
        root.save()
    assert root.has_perm("cases.view_case", case)  # Django would let a superuser ...
    assert not access.can_view_case(root, case)  # ... the portal does not
    assert list(access.cases_visible_to(user=root)) == []


def test_global_permission_does_not_widen_access(case):
    outsider = UserFactory(agency=AgencyFactory())
    outsider.user_permissions.add(Permission.objects.get(codename="view_case"))
    assert not access.can_view_case(outsider, case)
    assert list(access.cases_visible_to(user=outsider)) == []


def test_inactive_and_anonymous_users_see_nothing(practitioner, case):
    from django.contrib.auth.models import AnonymousUser

    assert not access.can_view_case(AnonymousUser(), case)
    practitioner.is_active = False
    with set_up():
        practitioner.save()
    assert not access.can_view_case(practitioner, case)


def test_revoking_removes_access_at_once_but_keeps_the_record(practitioner, agency, case):
    access.case_access_revoke(agency=agency, case=case)
    assert not access.can_view_case(practitioner, case)
    assert list(access.cases_visible_to(user=practitioner)) == []
    case.refresh_from_db()  # still there


def test_grant_is_idempotent(agency, case):
    access.case_access_grant(agency=agency, case=case)
    from cases.models import CaseGroupObjectPermission, CaseVisibility

    assert CaseVisibility.objects.filter(agency=agency, case=case).count() == 1
    assert CaseGroupObjectPermission.objects.filter(group=agency.group).count() == 1


def test_permissions_use_the_direct_foreign_key_table(agency, case):
    from guardian.models import GroupObjectPermission

    from cases.models import CaseGroupObjectPermission

    assert CaseGroupObjectPermission.objects.filter(content_object=case).exists()
    assert not GroupObjectPermission.objects.exists()  # no generic, orphanable rows


def test_case_list_is_one_query_whatever_the_size(practitioner, agency):
    def count_queries() -> int:
        user = type(practitioner).objects.select_related("agency").get(pk=practitioner.pk)
        qs = access.cases_visible_to(user=user)
        with CaptureQueriesContext(connection) as ctx:
            rows = [(c.pk, c.person.family_name) for c in qs[:50]]
        assert rows is not None
        return len(ctx.captured_queries)

    for _ in range(5):
        visible_case(agency)
    small = count_queries()
    for _ in range(45):
        visible_case(agency)
    assert count_queries() == small == 1


def test_most_recently_active_first(practitioner, agency):
    old, new = visible_case(agency), visible_case(agency)
    access.case_activity_touch(case=old)
    assert list(access.cases_visible_to(user=practitioner)) == [old, new]


def test_record_access_writes_an_audit_row(practitioner, case, rf):
    request = rf.get(f"/cases/{case.pk}/", REMOTE_ADDR="192.0.2.10")
    event = access.record_access(user=practitioner, obj=case, request=request)
    row = AccessEvent.objects.get(pk=event.pk)
    assert row.user == practitioner
    assert row.agency == practitioner.agency
    assert row.object_type == "cases.case"
    assert row.object_id == str(case.pk)
    assert row.person_id == case.person_id
    assert row.ip_address == "192.0.2.10"
    assert row.path == f"/cases/{case.pk}/"
