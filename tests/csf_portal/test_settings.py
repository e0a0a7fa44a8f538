"""Production settings: startup errors, deploy checks, security headers, sessions."""

from __future__ import annotations

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from csf_portal import settings as production_settings
from csf_portal.middleware import SESSION_RENEWED_KEY, SESSION_STARTED_KEY
from tests.factories import TEST_PASSWORD, set_up
from tests.helpers import PRODUCTION_ENV, clean_env, run_manage


def _sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'check.sqlite3'}"


def test_missing_secret_key_in_production_is_a_clear_startup_error():
    result = run_manage("check", env=clean_env(ALLOWED_HOSTS="csf.example.org"))
    assert result.returncode != 0
    assert "SECRET_KEY environment variable is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_allowed_hosts_in_production_is_a_clear_startup_error():
    result = run_manage("check", env=clean_env(SECRET_KEY=PRODUCTION_ENV["SECRET_KEY"]))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS environment variable is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_mfa_cannot_be_switched_off_outside_demo_mode():
    result = run_manage("check", env=clean_env(**PRODUCTION_ENV, CSF_REQUIRE_MFA="0"))
    assert result.returncode != 0
    assert "CSF_REQUIRE_MFA" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_deploy_passes_with_production_variables(tmp_path):
    env = clean_env(**PRODUCTION_ENV, DATABASE_URL=_sqlite_url(tmp_path))
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_defaults_are_secure(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='csf_portal.settings';"
        "django.setup(); from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.REQUIRE_MFA, s.CELERY_TASK_ALWAYS_EAGER)"
    )
    from tests.helpers import run_python

    result = run_python(code, env=clean_env(**PRODUCTION_ENV, DATABASE_URL=_sqlite_url(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "True", "True"]


def test_session_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False  # renewed by SessionLifetimeMiddleware
    assert settings.SESSION_RENEW_SECONDS == 60
    assert settings.SESSION_COOKIE_HTTPONLY is True
    # The suite itself hashes with a fast hasher (tests/conftest.py); production with Argon2.
    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(practitioner):
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        practitioner.set_password(TEST_PASSWORD)
        with set_up():
            practitioner.save()
        practitioner.refresh_from_db()
        assert identify_hasher(practitioner.password).algorithm == "argon2"
        assert practitioner.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_security_headers_on_a_signed_in_page(practitioner, as_user):
    response = as_user(practitioner).get(reverse("home"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    nonce = directives["script-src"].split("'nonce-")[1].split("'")[0]
    # the one inline script (GOV.UK Frontend's js-enabled class) carries the nonce
    assert f'<script nonce="{nonce}">' in response.content.decode()


def test_hsts_sent_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get(reverse("healthz"), secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]


@pytest.mark.django_db
def test_http_is_redirected_to_https_except_health(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get(reverse("healthz")).status_code == 200


@pytest.mark.django_db
def test_sign_in_issues_a_new_session_key(client, practitioner):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    response = client.post(
        reverse("login"), {"username": practitioner.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session.session_key != before
    assert SESSION_STARTED_KEY in client.session and SESSION_RENEWED_KEY in client.session


@pytest.mark.django_db
def test_session_ends_at_the_absolute_limit(practitioner, as_user):
    client = as_user(practitioner)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[SESSION_STARTED_KEY] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("home")).status_code == 302  # really signed out


def _expiry(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


@pytest.mark.django_db
def test_an_active_session_is_renewed_at_most_once_a_renewal_interval(practitioner, as_user):
    client = as_user(practitioner)
    assert client.get(reverse("home")).status_code == 200
    renewed = client.session[SESSION_RENEWED_KEY]
    expiry = _expiry(client)
    # Within the interval: no write, the expiry stays where it was.
    assert client.get(reverse("home")).status_code == 200
    assert client.session[SESSION_RENEWED_KEY] == renewed
    assert _expiry(client) == expiry
    # Past it: the session is saved and its idle expiry moves on.
    session = client.session
    session[SESSION_RENEWED_KEY] = time.time() - settings.SESSION_RENEW_SECONDS - 1
    session.save()
    before = _expiry(client)
    assert client.get(reverse("home")).status_code == 200
    assert client.session[SESSION_RENEWED_KEY] > renewed - 1
    assert _expiry(client) > before
    assert _expiry(client) >= timezone.now() + datetime.timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 5
    )


@pytest.mark.django_db
def test_an_idle_session_is_signed_out(practitioner, as_user):
    from django.contrib.sessions.models import Session

    client = as_user(practitioner)
    assert client.get(reverse("home")).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    store = client.session
    if hasattr(store, "cache_key"):  # the cached_db engine (Redis) keeps a copy too
        from django.core.cache import caches

        caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key)
    assert client.get(reverse("home")).status_code == 302


def test_the_renewal_interval_is_at_most_half_the_idle_limit(tmp_path):
    from tests.helpers import run_python

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='csf_portal.settings';"
        "django.setup(); from django.conf import settings;"
        "print(settings.SESSION_RENEW_SECONDS)"
    )
    env = clean_env(
        **PRODUCTION_ENV,
        DATABASE_URL=_sqlite_url(tmp_path),
        CSF_SESSION_IDLE_SECONDS="600",
        CSF_SESSION_RENEW_SECONDS="3600",
    )
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "300"


@pytest.mark.django_db
def test_session_cookie_is_secure_and_http_only(client, practitioner):
    response = client.post(
        reverse("login"), {"username": practitioner.username, "password": TEST_PASSWORD}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_postgresql_connections_run_without_the_jit_compiler():
    from tests.helpers import run_python

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='csf_portal.settings';"
        "django.setup(); from django.conf import settings;"
        "print(settings.DATABASES['default']['OPTIONS']['options'])"
    )
    url = "postgres://portal@db.example.org:5432/csf"
    result = run_python(code, env=clean_env(**PRODUCTION_ENV, DATABASE_URL=url))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "-c jit=off"


@pytest.mark.django_db
def test_the_test_database_connection_has_the_portals_options():
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    else:
        assert "options" not in connection.settings_dict.get("OPTIONS", {})


def test_portals_on_different_databases_never_share_cache_entries():
    """A staging copy sharing production's Redis must not read its cached users."""
    from tests.helpers import run_python

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='csf_portal.settings';"
        "django.setup(); from django.core.cache import cache;"
        "print(cache.make_key('csf:authz:identity:1'))"
    )
    keys = set()
    for url in [
        "postgres://portal@db.example.org:5432/csf",
        "postgres://portal@db.example.org:5432/csf_staging",
        "postgres://portal@db2.example.org:5432/csf",
    ]:
        env = clean_env(**PRODUCTION_ENV, DATABASE_URL=url, REDIS_URL="redis://127.0.0.1:6379/9")
        result = run_python(code, env=env)
        assert result.returncode == 0, result.stderr
        keys.add(result.stdout.strip())
    assert len(keys) == 3
    assert all(key.startswith("csf:") for key in keys)
