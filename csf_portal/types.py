"""Typing helpers."""

from django.http import HttpRequest

from csf_portal.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind LoginRequiredMiddleware: ``user`` is a signed-in User."""

    user: User
