"""Every form and filter, for every role, under generated hostile input: never a 5xx; and
no GET writes anything (issue 26).

Each demo user (one for each role) signs in and the portal is crawled from the home page,
following its own links, so a new page or form is covered as soon as it is linked. Every
form found (its fields read from the page) is then sent values that hypothesis draws:
huge and negative numbers, impossible dates, NUL and right-to-left override characters,
100,000-character strings, wrong types, fields missing and fields repeated.

``CSF_FUZZ_EXAMPLES`` sets how many rounds each role gets (default 2; try 50 locally).
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csf_portal.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.dates, pytest.mark.xdist_group("demo_city")]

ROLES = ["chair", "police", "hostel", "mh", "housing", "gp", "sog", "commissioner", "admin"]
EXAMPLES = int(os.environ.get("CSF_FUZZ_EXAMPLES", "2"))
PAGES_A_SHAPE = 2  # /cases/<id>/ is crawled for two cases, not every case
NEVER_FOLLOWED = ("/accounts/logout/", "/static/", "/media/")

# What reading a page may write: the access log (every read of personal data is logged),
# the session and sign-in records, and the notification a page marks read.
READS_MAY_WRITE = {"csf_portal_accessevent", "django_session", "axes_accesslog"}


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values seen


class _Page(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.links, self.forms = url, [], []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"].split("#")[0])
        elif tag == "form":
            action = a.get("action") or self.url
            self._form = Form(a.get("method", "get").lower(), action)
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea", "button") and self._form and a.get("name"):
            self._form.fields.setdefault(a["name"], []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")


def _shape(url: str) -> str:
    return _ID.sub("*", urlsplit(url).path)


class _WriteLog:
    """Tables written by SQL run inside it."""

    def __init__(self) -> None:
        self.tables: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        match = re.match(r'\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', sql, re.I)
        if match:
            self.tables[match.group(1)] += 1
        return execute(sql, params, many, context)


ADMIN_TEXT: list[str] = []  # every admin page the crawl read, for the no-case-content check


def _crawl(client: Client, start: str = "/") -> tuple[dict[str, Form], Counter[str]]:
    """Every page reachable by links (PAGES_A_SHAPE of each shape); the forms on them."""
    queue, seen, shapes = [start], set(), Counter()
    forms: dict[str, Form] = {}
    writes = _WriteLog()
    while queue:
        url = queue.pop(0)
        if url in seen or url.startswith(NEVER_FOLLOWED) or shapes[_shape(url)] >= PAGES_A_SHAPE:
            continue
        seen.add(url)
        shapes[_shape(url)] += 1
        with connection.execute_wrapper(writes):
            response = client.get(url)
        assert response.status_code < 500, f"GET {url} answered {response.status_code}"
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = _Page(url)
        page.feed(response.content.decode())
        if url.startswith("/admin/"):
            ADMIN_TEXT.append(response.content.decode())
        queue += [link for link in page.links if link not in seen]
        for form in page.forms:
            if form.action.startswith("/accounts/logout/"):
                continue
            key = f"{form.method} {_shape(form.action)} {sorted(form.fields)}"
            forms.setdefault(key, form)
    return forms, writes.tables


HOSTILE = (
    st.sampled_from(
        [
            "9" * 40,
            "-1",
            "0",
            "-99999999999999999999",
            "1e309",
            "NaN",
            "3.5",
            "\x00",
            "a\x00b",
            "\u202egnp.exe",
            "x" * 100_000,
            "",
            " ",
            "2026-02-30",
            "31/02/2026",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
            "true",
            "[]",
            "{}",
            "\ud7ff\ufffd",
            "%00",
        ]
    )
    | st.text(max_size=30)
    | st.integers(-(2**70), 2**70).map(str)
)


@st.composite
def _payload(draw, form: Form) -> dict[str, list[str]]:
    """For each field: left out, its own value, one hostile value, or several."""
    data: dict[str, list[str]] = {}
    for name, seen in form.fields.items():
        choice = draw(st.integers(0, 4))
        if choice == 0:
            continue  # missing
        if choice == 1:
            data[name] = [draw(st.sampled_from(seen))]  # as the page offered it
        elif choice in (2, 3):
            data[name] = [draw(HOSTILE)]
        else:
            data[name] = draw(st.lists(HOSTILE, min_size=2, max_size=3))  # repeated
    if draw(st.booleans()):
        data[draw(st.sampled_from(["id", "pk", "user", "case", "version"]))] = [draw(HOSTILE)]
    return data


def _send(client: Client, form: Form, data: dict[str, list[str]]) -> None:
    if form.method == "post":
        response = client.post(form.action, data)
    else:
        response = client.get(form.action, data)
    assert response.status_code < 500, (
        f"{form.method.upper()} {form.action} answered {response.status_code} "
        f"for { ({k: [v[:40] for v in vs] for k, vs in data.items()}) }"
    )


@pytest.fixture(scope="module")
def crawled(seeded, django_db_blocker):
    """Each role's forms, found by crawling as that demo user, with what reading wrote."""
    from tests.conftest import signed_in_client

    found = {}
    with django_db_blocker.unblock():
        for username in ROLES:
            client = signed_in_client(User.objects.get(username=username))
            found[username] = (client, *_crawl(client))
    return found


@pytest.mark.parametrize("username", ROLES)
def test_reading_every_page_writes_nothing_but_the_access_log(crawled, username):
    _client, forms, writes = crawled[username]
    assert forms, f"{username} found no form: the crawl did not get in"
    assert set(writes) <= READS_MAY_WRITE, f"GET wrote to {set(writes) - READS_MAY_WRITE}"


@pytest.mark.parametrize("username", ROLES)
def test_no_form_gives_a_server_error_under_hostile_input(crawled, username):
    client, forms, _writes = crawled[username]
    ordered = [forms[k] for k in sorted(forms)]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def every_form(data):
        for form in ordered:
            _send(client, form, data.draw(_payload(form), label=form.action))

    every_form()


def test_the_admin_shows_no_case_content(crawled):
    """What people told services (risks, emergency-access reasons, plans, assessment
    answers) is nowhere in the admin pages the administrator can reach."""
    from assessments.models import AssessmentAnswer
    from cases.models import BreakGlassAccess, CarePlanItem, Risk

    texts = {
        *Risk.objects.exclude(description="").values_list("description", flat=True),
        *BreakGlassAccess.objects.values_list("reason", flat=True),
        *CarePlanItem.objects.values_list("what", flat=True),
        *AssessmentAnswer.objects.exclude(narrative="").values_list("narrative", flat=True),
    }
    texts = {t for t in texts if len(t) >= 15}
    assert len(texts) > 20, "the demo city holds case text to look for"
    assert any(p.count("/admin/") > 10 for p in ADMIN_TEXT), "the crawl read the admin"
    shown = {t for t in texts if any(html.escape(t) in p or t in p for p in ADMIN_TEXT)}
    assert not shown, f"the admin shows case content: {sorted(shown)[:3]}"


def test_the_crawl_reaches_the_pages_each_role_works_on(crawled):
    """A guard on the guard: the crawl found the forms that matter, so it can fail."""
    actions = {u: {f.action for f in forms.values()} for u, (_c, forms, _w) in crawled.items()}
    assert any("/triage/" in a or "/referrals/" in a for a in actions["chair"])
    assert any("/care-plan/" in a for u in ROLES for a in actions[u])
    assert any("/reports/outcomes/" in a for a in actions["commissioner"])
    assert any(a.startswith("/admin/") for a in actions["admin"])


@pytest.mark.parametrize(
    "query",
    [
        {"app_label": "forums", "model_name": "forummembership", "field_name": "user", "term": "a"},
        {"app_label": "forums", "model_name": "forummembership", "field_name": "x" * 300},
        {"app_label": "no", "model_name": "\x00", "field_name": "user", "page": "9" * 40},
        {
            "app_label": "forums",
            "model_name": "forummembership",
            "field_name": "user",
            "page": "-1",
        },
    ],
)
def test_the_admin_autocomplete_takes_hostile_parameters(seeded, query):
    from tests.conftest import signed_in_client

    client = signed_in_client(User.objects.get(username="admin"))
    assert client.get("/admin/autocomplete/", query).status_code < 500
