"""Login is required everywhere except sign-in, health and static files."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {
    "/accounts/login/",
    "/healthz",
    "/admin/login/",
    # forgotten password: asked for and used before signing in
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/x/x/",
    "/accounts/password/reset/done/",
}
ADMIN_LOGIN = "/admin/login/"


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _example_path(pattern: str) -> str:
    """Turn a route or regex into a concrete path with plausible arguments."""
    # A UUID no record has, the same in every test process (pytest-xdist collects in each).
    unknown = str(uuid.uuid5(uuid.NAMESPACE_URL, pattern))
    path = re.sub(r"<uuid:\w+>", unknown, pattern)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<(?:str|slug|path):\w+>|<\w+>", "x", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    return "/" + path


ALL_PATHS = sorted({_example_path(p) for p in _walk(get_resolver().url_patterns)})


def test_the_url_walk_found_the_portal_pages():
    assert {"/", "/healthz", "/accounts/login/", "/admin/"} <= set(ALL_PATHS)


@pytest.mark.parametrize("path", [p for p in ALL_PATHS if p not in PUBLIC])
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302, f"{path} answered {response.status_code}"
    location = response["Location"]
    assert location.startswith("/accounts/login/") or location.startswith(ADMIN_LOGIN), location


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_pages_need_no_sign_in(client, path):
    assert client.get(path).status_code == 200


def test_static_files_need_no_sign_in(client):
    from django.templatetags.static import static

    response = client.get(static("portal.css"))
    assert response.status_code == 200
