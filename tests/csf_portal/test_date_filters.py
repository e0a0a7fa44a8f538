"""long_date and short_date give exactly what Django's date filter gave."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.template import engines
from django.utils import timezone

_django = engines["django"]

VALUES = [
    datetime.date(2026, 1, 1),
    datetime.date(1948, 9, 30),  # "Sep", not "Sept"
    datetime.date(2026, 12, 31),
    # Aware date-times are shown in London time: the evening of 31 March UTC is
    # still 31 March, 23:30 UTC in summer time is the next day in London.
    datetime.datetime(2026, 3, 31, 20, 0, tzinfo=datetime.UTC),
    datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC),
    datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC),
    datetime.datetime(2026, 5, 4, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    None,
    "",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize(("ours", "theirs"), [("long_date", "j F Y"), ("short_date", "j M Y")])
def test_same_output_as_djangos_date_filter(value, ours, theirs):
    with timezone.override("Europe/London"):
        mine = _django.from_string(f"{{{{ v|{ours} }}}}").render({"v": value})
        django = _django.from_string(f'{{{{ v|date:"{theirs}" }}}}').render({"v": value})
    assert mine == django


def test_a_summer_evening_is_the_next_day_in_london():
    late = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)
    assert _django.from_string("{{ v|long_date }}").render({"v": late}) == "1 July 2026"
    assert _django.from_string("{{ v|short_date|default:'–' }}").render({"v": None}) == "–"
