"""CSF Portal settings: one module, driven by environment variables.

Production is the default. Local trial and demo mode are opted into with
``DEBUG=1`` and ``CSF_DEMO_MODE=1`` (the Makefile's ``run`` target sets both).
Every variable is listed in the README's production section.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from csf_portal.schedules import BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _required(name: str, value: object) -> None:
    if not value:
        raise ImproperlyConfigured(
            f"The {name} environment variable is required when DEBUG is off. "
            "See the README's production section."
        )


DEBUG = env.bool("DEBUG", default=False)
DEMO_MODE = env.bool("CSF_DEMO_MODE", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    # Local trial only: a fixed, obviously unsafe key. Never used with DEBUG off.
    SECRET_KEY = "local-trial-only-not-secret-" + "x" * 40
_required("SECRET_KEY", SECRET_KEY)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
_required("ALLOWED_HOSTS", ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Multi-factor authentication is on unless explicitly turned off, and it can only
# be turned off in demo mode (fictional data).
REQUIRE_MFA = env.bool("CSF_REQUIRE_MFA", default=True)
if not REQUIRE_MFA and not DEMO_MODE:
    raise ImproperlyConfigured(
        "CSF_REQUIRE_MFA may only be turned off together with CSF_DEMO_MODE=1 (fictional data)."
    )

# Number of reverse proxies in front of the web processes that append to
# X-Forwarded-For. 0 means clients connect directly and REMOTE_ADDR is trusted.
TRUSTED_PROXY_COUNT = env.int("CSF_TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "csf_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # single-use recovery codes
    "guardian",
    "simple_history",
    "axes",
    "crispy_forms",
    "crispy_forms_gds",
    "csf_portal.apps.CsfPortalConfig",
    "cases",
    "referrals",
    "assessments",
    "consent",
    "forums",
    "reports",
    "pages",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "csf_portal.middleware.OTPMiddleware",  # django-otp's, reading devices with the user
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "csf_portal.middleware.SessionLifetimeMiddleware",
    "csf_portal.middleware.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "csf_portal.middleware.NoStoreMiddleware",
    "csf_portal.middleware.DomainErrorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csf_portal.urls"
WSGI_APPLICATION = "csf_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csf_portal.context_processors.portal",
            ],
            # long_date and short_date: cheap equivalents of two date formats; {% url %}
            # building object pages' paths without walking the URLconf each time (ADR 0006).
            "builtins": ["csf_portal.templatetags.dates", "csf_portal.templatetags.urlpaths"],
            # {% load access %}: what a page may offer, from the access rules (access is
            # not an installed app: its package imports models).
            "libraries": {"access": "access.templatetags"},
        },
    },
]

# --- Data ------------------------------------------------------------------
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'csf_portal.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CSF_DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiler spent 0.8 s of a 1.4 s dashboard query compiling it;
    # the portal's queries are short, so it is off for the portal's connections (ADR 0006).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
    # Parameters bound by the server, and a query run often on a connection prepared there:
    # planned once per connection instead of on every request (ADR 0006). Off for a
    # transaction-pooling PgBouncer older than 1.21, which cannot keep prepared statements.
    _options["server_side_binding"] = True
    if env.bool("CSF_DB_PREPARED_STATEMENTS", default=True):
        _options["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # A miss, never an error, while Redis is down (csf_portal/cache.py): sessions and
            # the cached roles fall back to the database, so people still sign in and work.
            "BACKEND": "csf_portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # Fail fast: a Redis that does not answer costs a request half a second at most.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            # Keyed by the database it caches: two portals sharing one Redis (a staging
            # copy, the benchmark's two databases) never read each other's users or roles.
            "KEY_PREFIX": "csf:{HOST}:{PORT}/{NAME}".format(**DATABASES["default"]),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    # Roles and permissions between requests: only in a cache every worker shares.
    CSF_AUTHZ_CACHE = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    CSF_AUTHZ_CACHE = False

# --- Identity and sign-in --------------------------------------------------
AUTH_USER_MODEL = "csf_portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with each user's permissions kept in the shared cache (ADR 0006).
    "csf_portal.authz.CachedPermissionsBackend",
    # Hooked for guardian's own admin tools. Case data never relies on
    # User.has_perm (superusers pass it): access checks the agency group.
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

OTP_TOTP_ISSUER = "CSF Portal"

AXES_FAILURE_LIMIT = env.int("CSF_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CSF_LOGIN_LOCKOUT_MINUTES", default=15))
# Lock the combination of account and client address: one person mistyping
# cannot lock a colleague out, and one address cannot lock out every account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)
AXES_VERBOSE = False
# Per account, across every address (csf_portal.selectors.account_sign_in_backoff): after
# this many failures within the window each further try waits 1, 2, 4 … minutes, capped.
CSF_ACCOUNT_FAILURE_LIMIT = env.int("CSF_ACCOUNT_FAILURE_LIMIT", default=10)
CSF_ACCOUNT_FAILURE_WINDOW = timedelta(hours=1)
CSF_ACCOUNT_BACKOFF_CAP_SECONDS = 15 * 60
# A one-time code from an administrator is needed to set up an authenticator app
# (csf_portal.services.enrolment_code_issue): valid this long, and for one use.
CSF_ENROLMENT_CODE_HOURS = env.int("CSF_ENROLMENT_CODE_HOURS", default=72)
# A password reset link works once, for two hours (Django's default is three days).
PASSWORD_RESET_TIMEOUT = 2 * 60 * 60

# --- Object permissions ----------------------------------------------------
# No anonymous user object: anonymous visitors never reach case data.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

# --- Sessions and cookies --------------------------------------------------
SESSION_COOKIE_AGE = env.int("CSF_SESSION_IDLE_SECONDS", default=30 * 60)
# Not saved on every request: csf_portal.middleware.SessionLifetimeMiddleware renews an
# active session at most once every CSF_SESSION_RENEW_SECONDS (ADR 0006).
SESSION_SAVE_EVERY_REQUEST = False
# At most half the idle limit, so an active session can never lapse between renewals.
SESSION_RENEW_SECONDS = min(
    env.int("CSF_SESSION_RENEW_SECONDS", default=60), SESSION_COOKIE_AGE // 2
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = env.int("CSF_SESSION_ABSOLUTE_SECONDS", default=8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
_secure = env.bool("CSF_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "__Host-csf_session" if _secure else "csf_session"
CSRF_COOKIE_NAME = "__Host-csf_csrf" if _secure else "csf_csrf"

# --- Transport and browser security headers --------------------------------
SECURE_SSL_REDIRECT = env.bool("CSF_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("CSF_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Email -------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587 (default: print to the console;
# filemail:////var/mail/csf writes each email to a file there).
_email = env.email_url("EMAIL_URL", default="consolemail://")
_mail_options = {}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": _email.get("EMAIL_HOST", ""),
        "port": _email.get("EMAIL_PORT") or 25,
        "username": _email.get("EMAIL_HOST_USER", ""),
        "password": _email.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": 20,
    }
elif _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):  # filemail:////abs/dir
    _mail_options = {"file_path": _email["EMAIL_FILE_PATH"]}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="CSF Portal <no-reply@csf-portal.invalid>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The portal's public address, used for links in emails (e.g. https://csf.example.org).
CSF_BASE_URL = env.str("CSF_BASE_URL", default="").rstrip("/")
# Each PDF render runs in a child process under these limits (reports/pdf.py).
CSF_PDF_TIME_LIMIT = env.float("CSF_PDF_TIME_LIMIT", default=60.0)
CSF_PDF_MEMORY_MB = env.int("CSF_PDF_MEMORY_MB", default=768)
# How long the outcomes dashboard's figures are kept before being worked out again
# (seconds). The page says when they were worked out (ADR 0006).
OUTCOMES_CACHE_SECONDS = env.int("CSF_OUTCOMES_CACHE_SECONDS", default=600)

# --- Static files, media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("CSF_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static" / "dist"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("CSF_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("CSF_STATIC_USE_FINDERS", default=DEBUG)

# --- Forms -----------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

# --- Background work -------------------------------------------------------
# With no broker configured, tasks run eagerly in-process (local trial).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# The queue tasks are sent to and workers read (one per portal sharing a Redis).
CELERY_TASK_DEFAULT_QUEUE = env.str("CSF_CELERY_QUEUE", default="celery")
# In-process tasks behave as on a worker: their failures are theirs to record
# (retries, then a visible "failed"), never an error page for the requester.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60  # the longest task we allow
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# A worker rendering a document renews its lease every quarter of this; a document whose
# lease lapsed (its worker was killed or lost) is queued again by the minutely sweep.
CSF_DOCUMENT_LEASE_SECONDS = env.int("CSF_DOCUMENT_LEASE_SECONDS", default=120)
# Redis re-delivers an unacknowledged task after this long: it must exceed the
# longest task, or a slow task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

# --- Logging ---------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("CSF_LOG_LEVEL", default="INFO")},
    # WeasyPrint reports each rendering step at INFO: keep worker logs to what matters.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}

# --- Demo --------------------------------------------------------------------
DEMO_PASSWORD = env.str("CSF_DEMO_PASSWORD", default="csf-demo-fictional-2026")
