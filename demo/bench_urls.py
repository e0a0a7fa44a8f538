"""The portal's URLs plus one bare view: the baseline of ``make bench``.

Served only by the benchmark (``demo.settings_bench``), never in production.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

import access
from csf_portal.urls import handler403, handler404, handler500
from csf_portal.urls import urlpatterns as portal_urls

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


@login_not_required
def baseline(request: HttpRequest) -> HttpResponse:
    """The fastest page Django can serve here: no template, no database."""
    return HttpResponse("ok", content_type="text/plain")


def signed_in(request: HttpRequest) -> HttpResponse:
    """A bare view behind sign-in: what the security stack alone costs a request
    (session, user, second factor, session lifetime)."""
    return HttpResponse("ok", content_type="text/plain")


def logged(request: HttpRequest) -> HttpResponse:
    """A bare view behind sign-in that logs one read, as every page showing a person's
    data must: the least such a page can cost."""
    access.record_list_access(user=request.user, request=request, what="bench.logged")  # type: ignore[arg-type]
    return HttpResponse("ok", content_type="text/plain")


def layout(request: HttpRequest) -> HttpResponse:
    """The portal's page layout with nothing in it: what every page's frame costs."""
    return render(request, "bench/layout.html")


urlpatterns = [
    path("bench/baseline", baseline, name="bench_baseline"),
    path("bench/signed-in", signed_in, name="bench_signed_in"),
    path("bench/logged", logged, name="bench_logged"),
    path("bench/layout", layout, name="bench_layout"),
    *portal_urls,
]
