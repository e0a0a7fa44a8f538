"""A demo user signs in, enrols an authenticator, reaches My work and signs out."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from csf_portal.models import User
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_city(settings):
    settings.DEMO_MODE = True
    call_command("seed_demo", verbosity=0)


def _code_for_secret(secret: str) -> str:
    raw = secret.replace(" ", "")
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{totp(key):06d}"


def _sign_in(page, base, username, password):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_chair_signs_in_with_a_new_authenticator(page, live_server, demo_city):
    base = live_server.url
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    assert_accessible(page)

    _sign_in(page, base, "chair", "not-the-password")
    expect(page.get_by_role("alert").get_by_text("There is a problem")).to_be_visible()
    assert page.get_by_label("Username").input_value() == "chair"
    assert page.title().startswith("Error:")
    assert_accessible(page)

    page.get_by_label("Password").fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
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


def test_enrolled_member_enters_a_code(page, live_server, demo_city):
    user = User.objects.get(username="mh")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    _sign_in(page, live_server.url, "mh", settings.DEMO_PASSWORD)
    page.wait_for_url("**/accounts/mfa/verify/**")
    assert_accessible(page)
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_text("Forum member")).to_be_visible()
    assert_accessible(page)


def test_administrator_reaches_the_admin_site(page, live_server, demo_city):
    user = User.objects.get(username="admin")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    _sign_in(page, live_server.url, "admin", settings.DEMO_PASSWORD)
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("link", name="Agencies").first).to_be_visible()


def test_sign_in_works_without_javascript(no_js_page, live_server, demo_city, settings):
    settings.REQUIRE_MFA = False  # demo mode: the password alone
    _sign_in(no_js_page, live_server.url, "housing", settings.DEMO_PASSWORD)
    no_js_page.wait_for_url(f"{live_server.url}/")
    expect(no_js_page.get_by_role("heading", name="My work")).to_be_visible()
