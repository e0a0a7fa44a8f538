"""Home, health, the sign-in / second-factor pages and the chairs' log of role changes."""

from __future__ import annotations

import time
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login

from csf_portal import selectors, services
from csf_portal.authz import roles_of
from csf_portal.forms import (
    EnrolmentCodeForm,
    GovukPasswordChangeForm,
    GovukPasswordResetForm,
    GovukSetPasswordForm,
    SignInForm,
    TokenForm,
)
from csf_portal.history import acting_as
from csf_portal.middleware import SESSION_RENEWED_KEY, SESSION_STARTED_KEY
from csf_portal.types import AuthenticatedHttpRequest


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 503 when signed-in pages cannot be served, naming each part."""
    health = selectors.system_health()
    return JsonResponse(health, status=503 if health["status"] == "unavailable" else 200)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)  # Django's login() issues a new session key
        services.clear_account_sign_in_failures(username=form.get_user().get_username())
        now = time.time()
        self.request.session[SESSION_STARTED_KEY] = now
        self.request.session[SESSION_RENEWED_KEY] = now  # saved now: due for renewal in a minute
        return response


class SignOutView(auth_views.LogoutView):
    template_name = "registration/logged_out.html"


def _second_factor_verified(request: AuthenticatedHttpRequest, device: Any) -> None:
    """The session is now fully signed in: give it a new key, so one seen before the second
    factor (on a shared screen, in a log) is worth nothing afterwards."""
    request.session.cycle_key()
    otp_login(request, device)


WRONG_CODE = "The security code is wrong or has expired. Enter the code your app shows now"
ENROLMENT_ALLOWED_KEY = "csf_enrolment_allowed"  # this session entered a valid enrolment code
WRONG_ENROLMENT_CODE = (
    "The enrolment code is not right, or it has expired or been used. "
    "Check it, or ask your administrator for a new one"
)


@method_decorator(never_cache, name="dispatch")
class EnrolmentCodeView(View):
    """First sign-in: the one-time code from an administrator, before any authenticator
    app can be set up, so a password alone never claims an account's second factor."""

    template_name = "mfa/enrolment_code.html"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        context = {"form": EnrolmentCodeForm(), "next": _safe_next(request)}
        return render(request, self.template_name, context)

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = EnrolmentCodeForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["enrolment_code"]
            if services.enrolment_code_redeem(user=request.user, code=code):
                request.session[ENROLMENT_ALLOWED_KEY] = request.user.pk
                return redirect(f"{reverse('mfa_setup')}?next={_safe_next(request)}")
            form.add_error("enrolment_code", WRONG_ENROLMENT_CODE)
        return render(request, self.template_name, {"form": form, "next": _safe_next(request)})


@method_decorator(never_cache, name="dispatch")
class MfaSetupView(View):
    """Enrol an authenticator app: show a QR code, confirm with a first code."""

    request: AuthenticatedHttpRequest
    template_name = "mfa/setup.html"

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if any(devices_for_user(request.user, confirmed=True)):  # already enrolled
            return redirect(f"{reverse('mfa_verify')}?next={_safe_next(request)}")
        if request.session.get(ENROLMENT_ALLOWED_KEY) != request.user.pk:
            return redirect(f"{reverse('mfa_enrol')}?next={_safe_next(request)}")
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request: AuthenticatedHttpRequest, form: TokenForm) -> HttpResponse:
        device = services.totp_device_for_enrolment(user=request.user)
        qr = segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
        secret = services.totp_secret_for_display(device=device)
        context = {"form": form, "qr_svg": qr, "secret": secret, "next": _safe_next(request)}
        return render(request, self.template_name, context)

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._render(request, TokenForm(submit_label="Confirm"))

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = TokenForm(request.POST, submit_label="Confirm")
        if form.is_valid():
            token = form.cleaned_data["token"]
            device = services.totp_device_confirm(user=request.user, token=token)
            if device is not None:
                _second_factor_verified(request, device)
                request.session.pop(ENROLMENT_ALLOWED_KEY, None)
                messages.success(request, "Your authenticator app is set up.")
                codes = services.recovery_codes_issue(user=request.user)
                return _show_recovery_codes(request, codes)
            form.add_error("token", WRONG_CODE)
        return self._render(request, form)


@method_decorator(never_cache, name="dispatch")
class MfaVerifyView(View):
    """Ask a user with an authenticator app for the current code."""

    template_name = "mfa/verify.html"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not any(devices_for_user(request.user, confirmed=True)):
            return redirect(f"{reverse('mfa_setup')}?next={_safe_next(request)}")
        return render(
            request,
            self.template_name,
            {"form": TokenForm(allow_recovery=True), "next": _safe_next(request)},
        )

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = TokenForm(request.POST, allow_recovery=True)
        if form.is_valid():
            device = match_token(request.user, form.cleaned_data["token"])
            if device is not None:
                _second_factor_verified(request, device)
                return redirect(_safe_next(request))
            form.add_error("token", WRONG_CODE)
        return render(request, self.template_name, {"form": form, "next": _safe_next(request)})


def _show_recovery_codes(request: AuthenticatedHttpRequest, codes: list[str]) -> HttpResponse:
    """Shown once, straight from the POST that made them: they are never shown again."""
    context = {"codes": codes, "next": _safe_next(request)}
    return render(request, "mfa/recovery_codes_new.html", context)


@method_decorator(never_cache, name="dispatch")
class RecoveryCodesView(View):
    """How many recovery codes remain; make a new set (the old ones stop working)."""

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        remaining = selectors.recovery_codes_remaining(request.user.pk)
        return render(request, "mfa/recovery_codes.html", {"remaining": remaining})

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not request.user.is_verified():  # type: ignore[attr-defined]  # set by OTPMiddleware
            return redirect(f"{reverse('mfa_verify')}?next={reverse('recovery_codes')}")
        codes = services.recovery_codes_issue(user=request.user)
        return _show_recovery_codes(request, codes)


@never_cache
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Your account: who the portal thinks you are, and your password and second factor."""
    user = request.user
    context = {
        "roles": sorted(roles_of(user)),
        "recovery_remaining": selectors.recovery_codes_remaining(user.pk),
        "authenticator": any(devices_for_user(user, confirmed=True)),
    }
    return render(request, "registration/account.html", context)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change your own password; every other session of yours ends (Django's session
    hash), this one carries on, and you get an email saying so."""

    form_class = GovukPasswordChangeForm
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed_tell(user=form.user)
        messages.success(
            self.request,
            "Your password has been changed. Anywhere else you were signed in has been signed out.",
        )
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = GovukPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link sets a new password and nothing more: signing in, with the second
    factor, is still needed afterwards, and other sessions end."""

    form_class = GovukSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        with acting_as(form.user):  # the account's owner, proved by the emailed link
            response = super().form_valid(form)
        services.password_changed_tell(user=form.user)
        return response
