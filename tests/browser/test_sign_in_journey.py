"""Demo users sign in, enrol an authenticator, reach My work and sign out.

Browser tests run against a live server, so they are transactional: the database
is emptied after each test and a module-wide city cannot outlive the first test.
Building the city takes a while, so the four journeys share one city in one test.
Each signs in a different demo user in a browser context of its own, with the
cache cleared first as between tests, so none depends on what another did.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test.utils import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from csf_portal.models import User
from tests import conftest
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("demo_city"),
]


NEW_PASSWORD = "a-brand-new-passphrase-7"


@pytest.fixture
def demo_city(settings):
    """The city ``seed_demo`` builds (kept by this test process), committed for the live server."""
    settings.DEMO_MODE = True
    with transaction.atomic():
        conftest.demo_city()


@contextmanager
def _journey(browser, *, javascript: bool = True) -> Iterator:
    """A fresh page, as the ``page`` and ``no_js_page`` fixtures give each test."""
    cache.clear()
    options = {"bypass_csp": True} if javascript else {"java_script_enabled": False}
    context = browser.new_context(**options)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
    finally:
        context.close()


def _code_for_secret(secret: str) -> str:
    raw = secret.replace(" ", "")
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{totp(key):06d}"


def test_demo_users_sign_in(browser, live_server, demo_city):
    base = live_server.url
    with _journey(browser) as page:
        code = _administrator_issues_an_enrolment_code(page, base, "chair")
    with _journey(browser) as page:
        _chair_signs_in_with_a_new_authenticator(page, base, code)
    with _journey(browser) as page:
        _enrolled_member_enters_a_code(page, base)
        _member_changes_their_password(page, base)
    with _journey(browser) as page:
        _forgotten_password_is_reset_by_email(page, base)
    with _journey(browser, javascript=False) as page:
        _sign_in_works_without_javascript(page, base)


def _chair_signs_in_with_a_new_authenticator(page, base, enrolment_code):
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    assert_accessible(page)

    sign_in(page, base, "chair", "not-the-password")
    expect(page.get_by_role("alert").get_by_text("There is a problem")).to_be_visible()
    assert page.get_by_label("Username").input_value() == "chair"
    assert page.title().startswith("Error:")
    assert_accessible(page)

    page.get_by_label("Password").fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # the password alone does not reach the QR code
    page.wait_for_url("**/accounts/mfa/enrolment-code/**")
    assert_accessible(page)
    page.get_by_label("Enrolment code").fill("ABCD-EFGH-JKLM")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("The enrolment code is not right").first).to_be_visible()
    assert page.title().startswith("Error:")
    assert_accessible(page)
    page.get_by_label("Enrolment code").fill(enrolment_code.lower())  # case does not matter
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/accounts/mfa/setup/**")
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Security code").fill("12345")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("The security code must be 6 digits").first).to_be_visible()
    assert_accessible(page)

    page.get_by_text("I cannot scan the QR code").click()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Security code").fill(_code_for_secret(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(page.get_by_text("Adult Safeguarding (Adult safeguarding)")).to_be_visible()
    expect(page.get_by_text("Forum chair")).to_be_visible()
    expect(page.get_by_text("OFFICIAL-SENSITIVE")).to_be_visible()
    expect(page.get_by_text("Demo — fictional data")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url


def _enrolled_member_enters_a_code(page, base):
    user = User.objects.get(username="mh")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    sign_in(page, base, "mh", settings.DEMO_PASSWORD)
    page.wait_for_url("**/accounts/mfa/verify/**")
    assert_accessible(page)
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_text("Forum member")).to_be_visible()
    assert_accessible(page)


def _member_changes_their_password(page, base):
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("#account-details")).to_contain_text("Forum member")
    assert_accessible(page)
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your current password is not right").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Current password").fill(settings.DEMO_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password has been changed")).to_be_visible()
    assert User.objects.get(username="mh").check_password(NEW_PASSWORD)


def _forgotten_password_is_reset_by_email(page, base):
    from django.core import mail

    from csf_portal.celery import app as celery_app

    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    try:
        page.goto(f"{base}/accounts/login/")
        page.get_by_role("link", name="Forgotten your password?").click()
        assert_accessible(page)
        page.get_by_label("Email address").fill(User.objects.get(username="gp").email)
        page.get_by_role("button", name="Send reset link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        assert_accessible(page)
    finally:
        celery_app.conf.task_always_eager = eager
    link = next(m for m in mail.outbox if "reset" in m.subject.lower()).body.split("http", 1)[1]
    page.goto("http" + link.split()[0])
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("heading", name="Your password has been reset")).to_be_visible()
    assert_accessible(page)
    assert User.objects.get(username="gp").check_password(NEW_PASSWORD)


def _administrator_issues_an_enrolment_code(page, base, username) -> str:
    """The administrator picks the user in the admin's list and issues a one-time code,
    shown once on the page for them to pass on."""
    user = User.objects.get(username="admin")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    sign_in(page, base, "admin", settings.DEMO_PASSWORD)
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("link", name="Agencies").first).to_be_visible()
    page.goto(f"{base}/admin/csf_portal/user/?q={username}")
    row = page.locator("#result_list tbody tr").filter(has_text=username).first
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("issue_enrolment_code")
    page.locator("button[name=index]").click()
    expect(page.get_by_role("heading", name="One-time enrolment codes")).to_be_visible()
    code = page.locator("#enrolment-codes code.enrolment-code").first.inner_text()
    assert len(code) == 14 and code.count("-") == 2
    return code


def _sign_in_works_without_javascript(no_js_page, base):
    with override_settings(REQUIRE_MFA=False):  # demo mode: the password alone
        sign_in(no_js_page, base, "housing", settings.DEMO_PASSWORD)
        no_js_page.wait_for_url(f"{base}/")
        expect(no_js_page.get_by_role("heading", name="My work")).to_be_visible()
