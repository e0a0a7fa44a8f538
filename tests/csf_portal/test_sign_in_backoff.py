"""Per-account cap on failed sign-ins from any address, with a short growing back-off."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

BACKOFF = "There have been too many attempts to sign in with this username"
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _sign_in(client, username, password=TEST_PASSWORD, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _fail_from_many_addresses(client, username, count):
    for n in range(count):
        _sign_in(client, username, "wrong-password", address=f"10.1.{n}.1")


@pytest.fixture
def limit(settings):
    settings.CSF_ACCOUNT_FAILURE_LIMIT = 10
    return 10


def test_failures_from_many_addresses_refuse_the_account_a_minute(client, practitioner, limit):
    with time_machine.travel(START, tick=False) as traveller:
        _fail_from_many_addresses(client, practitioner.username, limit)
        refused = _sign_in(client, practitioner.username, address="10.9.9.9")  # right password
        assert refused.status_code == 200
        body = refused.content.decode()
        assert BACKOFF in body
        assert "Wait 1 minute" in body
        assert "govuk-error-summary" in body
        traveller.shift(datetime.timedelta(seconds=61))
        assert _sign_in(client, practitioner.username, address="10.9.9.9").status_code == 302


def test_below_the_limit_other_addresses_are_not_held_back(client, practitioner, limit):
    with time_machine.travel(START, tick=False):
        _fail_from_many_addresses(client, practitioner.username, limit - 1)
        assert _sign_in(client, practitioner.username, address="10.9.9.9").status_code == 302


def test_back_off_doubles_with_each_further_failure_and_is_capped(client, practitioner, limit):
    with time_machine.travel(START, tick=False) as traveller:
        _fail_from_many_addresses(client, practitioner.username, limit)
        expected = [1, 2, 4, 8, 15, 15]
        for n, minutes in enumerate(expected):
            body = _sign_in(client, practitioner.username, address="10.9.9.9").content.decode()
            assert f"Wait {minutes} minute" in body
            traveller.shift(datetime.timedelta(minutes=minutes, seconds=1))
            # the wait is over: one more wrong password, from a fresh address, is counted
            failed = _sign_in(client, practitioner.username, "wrong", address=f"10.2.{n}.1")
            assert BACKOFF not in failed.content.decode()
        assert "Wait 15 minutes" in _sign_in(client, practitioner.username).content.decode()


def test_attempts_during_the_back_off_do_not_lengthen_it(client, practitioner, limit):
    with time_machine.travel(START, tick=False) as traveller:
        _fail_from_many_addresses(client, practitioner.username, limit)
        for n in range(5):
            _sign_in(client, practitioner.username, "wrong", address=f"10.3.{n}.1")
        traveller.shift(datetime.timedelta(seconds=61))
        assert _sign_in(client, practitioner.username, address="10.9.9.9").status_code == 302


def test_success_resets_the_count_for_every_address(client, practitioner, limit):
    with time_machine.travel(START, tick=False) as traveller:
        _fail_from_many_addresses(client, practitioner.username, limit - 1)
        assert _sign_in(client, practitioner.username, address="10.9.9.9").status_code == 302
        client.logout()
        traveller.shift(datetime.timedelta(seconds=5))
        _fail_from_many_addresses(client, practitioner.username, 2)
        assert _sign_in(client, practitioner.username, address="10.9.9.8").status_code == 302


def test_unknown_username_gets_the_same_message(client, practitioner, limit):
    with time_machine.travel(START, tick=False):
        _fail_from_many_addresses(client, "nobody-here", limit)
        _fail_from_many_addresses(client, practitioner.username, limit)
        unknown = _sign_in(client, "nobody-here", address="10.9.9.9").content.decode()
        known = _sign_in(client, practitioner.username, "wrong", address="10.9.9.9")
        assert BACKOFF in unknown
        assert BACKOFF in known.content.decode()
        assert unknown.count("Wait 1 minute") == known.content.decode().count("Wait 1 minute")


def test_failures_older_than_the_window_are_forgotten(client, practitioner, limit, settings):
    with time_machine.travel(START, tick=False) as traveller:
        _fail_from_many_addresses(client, practitioner.username, limit - 1)
        traveller.shift(settings.CSF_ACCOUNT_FAILURE_WINDOW + datetime.timedelta(minutes=1))
        _fail_from_many_addresses(client, practitioner.username, 1)
        assert _sign_in(client, practitioner.username, address="10.9.9.9").status_code == 302
