from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AgencyFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _collected_static(django_db_blocker):
    """Collect static files as a deployment does, so pages use the hashed manifest."""
    from django.core.management import call_command

    call_command("collectstatic", "--no-input", "--clear", verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Lockout counters and cached sessions must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agency(db):
    return AgencyFactory()


@pytest.fixture
def practitioner(db, agency):
    return UserFactory(agency=agency)


def signed_in_client(user) -> Client:
    """A client signed in with a verified second factor, as after a real sign-in."""
    client = Client()
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Test authenticator"}
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def as_user():
    return signed_in_client
