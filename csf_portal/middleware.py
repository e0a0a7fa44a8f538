"""Session lifetime, second-factor enforcement and no-store caching."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

SESSION_STARTED_KEY = "csf_signed_in_at"
SESSION_RENEWED_KEY = "csf_renewed_at"

# Paths a signed-in user may reach before completing the second factor.
_MFA_EXEMPT_URL_NAMES = ("mfa_enrol", "mfa_setup", "mfa_verify", "logout", "login", "healthz")


class SessionLifetimeMiddleware:
    """End a session at an absolute limit, however active it has been; keep an
    active one alive.

    The idle limit is Django's own: a session expires ``SESSION_COOKIE_AGE``
    after it was last saved. Saving it on every request cost a database write
    and a cache write per page (ADR 0006), so an active session is renewed at
    most once every ``CSF_SESSION_RENEW_SECONDS``: an idle session ends between
    the idle limit less that interval and the idle limit after the last request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = time.time()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "For your security you have been signed out. Sign in again.")
                return redirect(f"{reverse('login')}?next={request.path}")
            renewed = request.session.get(SESSION_RENEWED_KEY, 0)
            if not 0 <= now - renewed < settings.SESSION_RENEW_SECONDS:
                request.session[SESSION_RENEWED_KEY] = now  # saved, so its expiry moves on
        return self.get_response(request)


# The signed-in user's confirmed devices while OTPMiddleware looks theirs up.
_known_devices: ContextVar[dict[str, Any] | None] = ContextVar("csf_known_devices", default=None)


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware, finding the session's device among the user's
    confirmed devices that ``csf_portal.authz.user_for`` read with the user
    (from the shared cache), instead of with a query of its own on every request.

    A device that is not among them is looked up as django-otp does; django-otp
    still checks that it is the user's and confirmed.
    """

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        token = _known_devices.set(getattr(user, "_csf_devices", None))
        try:
            return super()._verify_user_sync(request, user)
        finally:
            _known_devices.reset(token)

    def _device_from_persistent_id(self, persistent_id: str) -> Any:
        known = _known_devices.get()
        if known is not None and persistent_id in known:
            return known[persistent_id]
        return super()._device_from_persistent_id(persistent_id)


class RequireMFAMiddleware:
    """Every signed-in user must have verified a second factor (when MFA is on).

    Users without a confirmed authenticator are sent to enrol; users with one
    are sent to enter a code. Only sign-in, sign-out and the MFA pages are
    reachable before that.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt_paths: tuple[str, ...] | None = None

    def _exempt(self, path: str) -> bool:
        if self.exempt_paths is None:
            self.exempt_paths = tuple(reverse(name) for name in _MFA_EXEMPT_URL_NAMES)
        return path in self.exempt_paths or path.startswith(settings.STATIC_URL)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.REQUIRE_MFA
            and user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]  # set by OTPMiddleware
            and not self._exempt(request.path)
        ):
            from django_otp import devices_for_user

            target = "mfa_verify" if any(devices_for_user(user, confirmed=True)) else "mfa_setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class NoStoreMiddleware:
    """Signed-in pages carry personal data: no browser or proxy may keep a copy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or request.path.startswith("/accounts/"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class DomainErrorMiddleware:
    """A refusal no view caught becomes a page, never a server error.

    Views put a service's :class:`~csf_portal.errors.DomainError` on their form; one that
    escapes (a path no form covers, a request no page sends) is shown as "You do not have
    permission" (403) when the actor may not do it, else as "This could not be done" (409)
    with the rule's own message. Either way the service's transaction has rolled back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from csf_portal import errors_views
        from csf_portal.errors import DomainError, NotAllowed

        if isinstance(exception, NotAllowed):
            return errors_views.forbidden(request, exception)
        if isinstance(exception, DomainError):
            return errors_views.refused(request, exception.message)
        return None
