"""Error pages in the service's own style."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may be in a context processor.
    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)


def refused(request: HttpRequest, message: str) -> HttpResponse:
    """A rule refused what was asked, and no form was there to show it on."""
    return render(request, "errors/409.html", {"message": message}, status=409)
