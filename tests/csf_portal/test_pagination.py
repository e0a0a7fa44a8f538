"""The case list's paginator: pages without counting the list."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from csf_portal.pagination import LookaheadPaginator
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case


@pytest.mark.parametrize("size", [0, 1, 49, 50, 51, 100, 101, 149])
@pytest.mark.parametrize("number", [None, "1", "2", "3", "x", "0", "-4", "2.0", "9"])
def test_pages_match_djangos_own_paginator(size, number):
    rows = list(range(size))
    mine = LookaheadPaginator(rows, 50).get_page(number)
    django = Paginator(rows, 50).get_page(number)
    if number in ("0", "-4"):  # Django shows the last page for these; we show the first
        django = Paginator(rows, 50).get_page(1)
    assert list(mine.object_list) == list(django.object_list)
    assert mine.number == django.number
    assert mine.has_next() == django.has_next()
    assert mine.has_previous() == django.has_previous()
    assert mine.has_other_pages() == django.has_other_pages()
    assert (mine.start_index(), mine.end_index()) == (django.start_index(), django.end_index())
    if mine.has_next():
        assert mine.next_page_number() == django.next_page_number()


@pytest.mark.django_db
def test_the_case_list_never_counts_the_cases():
    agency = AgencyFactory()
    client = signed_in_client(UserFactory(agency=agency))
    cases = [visible_case(agency) for _ in range(51)]
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(reverse("cases:list"))
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert first.context["page"].has_next()
    assert 'rel="next"' in first.content.decode()
    second = client.get(reverse("cases:list"), {"page": "2"})
    assert len(second.context["page"].object_list) == 1
    assert not second.context["page"].has_next()
    shown = {c.pk for c in first.context["page"].object_list} | {
        c.pk for c in second.context["page"].object_list
    }
    assert shown == {c.pk for c in cases}
    # A page past the end shows the last page, as it always did.
    past = client.get(reverse("cases:list"), {"page": "7"})
    assert past.context["page"].number == 2
