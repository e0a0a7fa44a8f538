"""Roles and permissions kept in the shared cache: fewer queries, never stale."""

from __future__ import annotations

import pickle

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from csf_portal import services
from csf_portal.authz import (
    GENERATION_KEY,
    _identity_key,
    _user_generation_key,
    _user_key,
    authz_for,
    invalidate,
    user_for,
)
from csf_portal.models import Role, User
from tests.conftest import signed_in_client
from tests.factories import UserFactory, set_up

# Committed changes, as in production: a change the test's own transaction has not
# committed makes that transaction read the database (tested on its own below).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cached(settings):
    settings.CSF_AUTHZ_CACHE = True


def _nav(client) -> list[str]:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return [item["label"] for item in response.context["navigation"]]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    return len(ctx.captured_queries)


def test_a_cached_request_reads_no_roles_or_permissions_from_the_database(settings):
    user = UserFactory(roles=[Role.FORUM_CHAIR])
    client = signed_in_client(user)
    settings.CSF_AUTHZ_CACHE = False
    uncached = _queries(client)
    settings.CSF_AUTHZ_CACHE = True
    _queries(client)  # fills the cache
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "auth_permission" not in sql and "auth_group" not in sql
    assert len(ctx.captured_queries) <= uncached - 3


def test_a_role_given_or_taken_shows_on_the_next_request(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    assert "Triage" not in _nav(client)
    with set_up():
        services.user_roles_set(actor=None, user=user, roles=[Role.PRACTITIONER, Role.FORUM_CHAIR])
    assert "Triage" in _nav(client)
    with set_up():
        services.user_roles_set(actor=None, user=user, roles=[Role.PRACTITIONER])
    assert "Triage" not in _nav(client)
    # Through the group's side of the relation, as the admin's group page does.
    Group.objects.get(name=Role.FORUM_CHAIR).user_set.add(user)
    assert "Triage" in _nav(client)
    Group.objects.get(name=Role.FORUM_CHAIR).user_set.clear()
    assert "Triage" not in _nav(client)


def test_a_permission_taken_from_a_role_shows_on_the_next_request(cached):
    user = UserFactory(roles=[Role.FORUM_CHAIR])
    client = signed_in_client(user)
    assert "Triage" in _nav(client)
    chair = Group.objects.get(name=Role.FORUM_CHAIR)
    chair.permissions.remove(Permission.objects.get(codename="triage_referral"))
    assert "Triage" not in _nav(client)


def test_a_users_own_permission_and_superuser_status_show_at_once(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    assert "Outcomes" not in _nav(client)
    user.user_permissions.add(Permission.objects.get(codename="view_outcomes"))
    assert "Outcomes" in _nav(client)
    user.user_permissions.clear()
    assert "Outcomes" not in _nav(client)
    user.is_superuser = True
    with set_up():
        user.save()
    assert "Administration" in _nav(client)
    user.is_superuser = False
    with set_up():
        user.save()
    assert "Administration" not in _nav(client)
    # A bulk update sends no signal: whoever does one must say so (see csf_portal.authz).
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    invalidate([user.pk])
    assert "Administration" in _nav(client)


def test_the_generation_changes_again_when_the_change_commits(cached):
    from django.db import transaction

    cache.set(GENERATION_KEY, "before")
    with transaction.atomic():
        invalidate()
        during = cache.get(GENERATION_KEY)
        assert during != "before"
    assert cache.get(GENERATION_KEY) not in ("before", during)


def test_an_entry_from_another_generation_is_not_used(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    authz_for(User.objects.get(pk=user.pk))
    stamp, entry = cache.get(_user_key(user.pk))
    forged = type(entry)(
        roles=frozenset({Role.ADMINISTRATOR.value}), permissions=frozenset(), is_superuser=False
    )
    practitioner = {Role.PRACTITIONER.value}
    for old in [("an old generation", stamp[1]), (stamp[0], "an old generation")]:
        cache.set(_user_key(user.pk), (old, forged))
        assert authz_for(User.objects.get(pk=user.pk)).roles == practitioner
    # A lost generation key (a Redis restart) makes every entry stale too.
    for lost in [GENERATION_KEY, _user_generation_key(user.pk)]:
        authz_for(User.objects.get(pk=user.pk))
        stamp, _ = cache.get(_user_key(user.pk))
        cache.set(_user_key(user.pk), (stamp, forged))
        cache.delete(lost)
        assert authz_for(User.objects.get(pk=user.pk)).roles == practitioner


def test_one_users_new_roles_leave_everybody_elses_entries_alone(cached):
    alice = UserFactory(roles=[Role.PRACTITIONER])
    bob = UserFactory(roles=[Role.PRACTITIONER])
    authz_for(User.objects.get(pk=alice.pk))
    kept = cache.get(_user_key(alice.pk))
    with set_up():
        services.user_roles_set(actor=None, user=bob, roles=[Role.FORUM_CHAIR])
    UserFactory(roles=[Role.SOG_MEMBER])  # a new colleague
    with CaptureQueriesContext(connection) as ctx:
        assert authz_for(User.objects.get(pk=alice.pk)).roles == {Role.PRACTITIONER.value}
    assert len(ctx.captured_queries) == 1  # the user; roles and permissions from the cache
    assert cache.get(_user_key(alice.pk)) == kept
    assert authz_for(User.objects.get(pk=bob.pk)).roles == {Role.FORUM_CHAIR.value}
    # Emptying a group from its own side names nobody: everybody's entries go.
    Group.objects.get(name=Role.PRACTITIONER).user_set.clear()
    assert authz_for(User.objects.get(pk=alice.pk)).roles == frozenset()


def test_without_a_shared_cache_nothing_is_kept(settings):
    settings.CSF_AUTHZ_CACHE = False
    cache.clear()  # the reference data fixtures may have run with it on
    user = UserFactory(roles=[Role.PRACTITIONER])
    assert authz_for(User.objects.get(pk=user.pk)).roles == {Role.PRACTITIONER.value}
    assert cache.get(_user_key(user.pk)) is None
    assert cache.get(GENERATION_KEY) is None


def test_the_layout_names_the_agency_without_a_query_of_its_own(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(reverse("home")).content.decode()
    assert user.agency.name in body
    agency_reads = [q for q in ctx.captured_queries if 'FROM "csf_portal_agency"' in q["sql"]]
    assert not [q for q in agency_reads if "WHERE" in q["sql"] and '"id" =' in q["sql"]]


def test_a_role_group_renamed_or_deleted_shows_on_the_next_request(cached):
    user = UserFactory(roles=[Role.FORUM_CHAIR])
    client = signed_in_client(user)
    assert "Triage" in _nav(client)
    chair = Group.objects.get(name=Role.FORUM_CHAIR)
    chair.name = "Former chairs"
    chair.save()
    # Roles are group names: the role has gone; the group's permissions stay with it.
    assert User.objects.get(pk=user.pk).role_names() == []
    assert "Triage" in _nav(client)
    chair.delete()
    assert "Triage" not in _nav(client)


def test_a_change_not_yet_committed_is_never_kept_for_others(cached):
    from django.db import transaction

    user = UserFactory(roles=[Role.PRACTITIONER])
    authz_for(User.objects.get(pk=user.pk))
    kept = cache.get(_user_key(user.pk))

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        with set_up():
            services.user_roles_set(actor=None, user=user, roles=[Role.ADMINISTRATOR])
        # The changing transaction sees its own change, from the database...
        assert authz_for(User.objects.get(pk=user.pk)).roles == {Role.ADMINISTRATOR.value}
        raise Abandon  # ...and rolls it back.
    # Nothing it read was kept: the next request reads the committed roles.
    assert cache.get(_user_key(user.pk)) == kept
    assert authz_for(User.objects.get(pk=user.pk)).roles == {Role.PRACTITIONER.value}


# --- the signed-in user's own row and devices ---------------------------------


def test_a_cached_signed_in_request_reads_no_user_or_device(cached):
    from django.conf import settings

    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert 'FROM "csf_portal_user"' not in sql.split("INSERT")[0]
    assert "otp_totp_totpdevice" not in sql
    # The cached user carries no password hash.
    _stamp, kept, devices = cache.get(_identity_key(user.pk))
    assert "password" not in kept.__dict__
    assert user.password.encode() not in pickle.dumps(cache.get(_identity_key(user.pk)))
    assert list(devices) == [TOTPDevice.objects.get(user=user).persistent_id]
    # Nor the second factor's secret.
    device = TOTPDevice.objects.get(user=user)
    assert "key" not in next(iter(devices.values())).__dict__
    assert device.key.encode() not in pickle.dumps(cache.get(_identity_key(user.pk)))
    assert device.bin_key not in pickle.dumps(cache.get(_identity_key(user.pk)))
    assert settings.SESSION_COOKIE_NAME in client.cookies


def test_a_user_deactivated_is_signed_out_on_the_next_request(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    assert client.get(reverse("home")).status_code == 200
    user.is_active = False
    with set_up():
        user.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_new_password_ends_other_sessions_however_the_user_was_read(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    assert client.get(reverse("home")).status_code == 200
    user.set_password("a-completely-new-passphrase-4821")
    with set_up():
        user.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_saving_the_cached_user_keeps_their_password(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    user.set_password("the-original-passphrase-1234")
    with set_up():
        user.save()
    kept = user_for(user.pk)
    kept = user_for(user.pk)  # now from the cache, without the password hash
    assert "password" not in kept.__dict__
    kept.job_title = "Outreach worker"
    with set_up():
        kept.save()
    fresh = User.objects.get(pk=user.pk)
    assert fresh.job_title == "Outreach worker"
    assert fresh.check_password("the-original-passphrase-1234")
    # Asked for, the password hash is read from the database.
    assert user_for(user.pk).check_password("the-original-passphrase-1234")


def test_a_second_factor_removed_must_be_set_up_again(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    assert client.get(reverse("home")).status_code == 200
    TOTPDevice.objects.filter(user=user).get().delete()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("mfa_setup") in response["Location"]


def test_another_users_device_in_the_session_is_refused(cached):
    user, other = UserFactory(roles=[Role.PRACTITIONER]), UserFactory()
    client = signed_in_client(user)
    signed_in_client(other)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=other).persistent_id
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("mfa_verify") in response["Location"]


def test_an_agency_renamed_shows_on_the_next_request(cached):
    user = UserFactory(roles=[Role.PRACTITIONER])
    client = signed_in_client(user)
    assert user.agency.name in client.get(reverse("home")).content.decode()
    user.agency.name = "Riverside Outreach Trust"
    with set_up():
        user.agency.save()
    assert "Riverside Outreach Trust" in client.get(reverse("home")).content.decode()
