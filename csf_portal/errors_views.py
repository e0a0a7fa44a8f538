"""Error pages in the service's own style."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database could not be reached (connection refused, dropped
    mid-request, or locked): the request's transaction did not commit, so say that."""
    # No request context: the failure may be in a context processor, or in the database.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = HttpResponse(loader.get_template("errors/503.html").render(), status=503)
        response["Retry-After"] = "60"
        return response
    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)


def refused(request: HttpRequest, message: str) -> HttpResponse:
    """A rule refused what was asked, and no form was there to show it on."""
    return render(request, "errors/409.html", {"message": message}, status=409)
