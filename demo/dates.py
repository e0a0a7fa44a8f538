"""The demo city's calendar: working days, meeting days, and its year of meetings.

The demo city is built around today, whatever today is: ``demo_diary`` works out
its year of meetings from the moment it is given, and ``tests/csf_portal/
test_dates.py`` checks it over generated dates across more than ten years.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

import holidays
from django.utils import timezone

# Besides England's bank holidays: the days the council's offices are shut whatever
# the calendar says.
_SHUT = {(12, 25), (12, 26), (1, 1)}

CSF_WEEKDAY, CSF_NTH, CSF_HOUR = 2, 2, 10  # the second Wednesday, 10:00
SOG_WEEKDAY, SOG_NTH, SOG_HOUR = 3, -1, 14  # the last Thursday, 14:00
MEETING_HOURS = 2
PAST_MEETINGS = 12
LATER_CSF_MEETINGS = 5


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> datetime.date:
    """The ``nth`` (1-based; -1 for the last) ``weekday`` (Monday 0) of the month."""
    if nth > 0:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    last = following - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=(last.weekday() - weekday) % 7)


@functools.cache
def _bank_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: datetime.date) -> bool:
    """Monday to Friday, and neither a bank holiday in England nor a day the offices shut."""
    return (
        day.weekday() < 5
        and (day.month, day.day) not in _SHUT
        and day not in _bank_holidays(day.year)
    )


def working_day_on_or_before(day: datetime.date) -> datetime.date:
    while not is_working_day(day):
        day -= datetime.timedelta(days=1)
    return day


def working_day_after(day: datetime.date) -> datetime.date:
    """The first working day after ``day``."""
    day += datetime.timedelta(days=1)
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """``hour:minute`` UK wall-clock time on ``day`` (meetings are never in the night's gap)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def meeting_day(year: int, month: int, *, weekday: int, nth: int) -> datetime.date:
    """The month's meeting day; on a day the offices are shut, the same weekday a week before."""
    day = nth_weekday(year, month, weekday, nth)
    while not is_working_day(day):
        day -= datetime.timedelta(days=7)
    return day


def minutes_typed_by(starts: datetime.datetime) -> datetime.datetime:
    """When a meeting is written up (minutes, actions): by 14:00 the next working day."""
    return at(working_day_after(timezone.localtime(starts).date()), 14)


@dataclass(frozen=True)
class Diary:
    """A year of the CSF's and the SOG's meetings as they stand at ``now``.

    ``*_past`` are the twelve latest meetings held and written up, oldest first.
    ``csf_next`` and ``sog_next`` are the first not yet written up: usually still to
    come, but on the day of a meeting and the day after, the one just held (its
    agenda published, not yet recorded as held). ``csf_later`` are the five monthly
    forums after the next.
    """

    now: datetime.datetime
    csf_past: tuple[datetime.datetime, ...]
    sog_past: tuple[datetime.datetime, ...]
    csf_next: datetime.datetime
    sog_next: datetime.datetime
    csf_later: tuple[datetime.datetime, ...]


def _monthly(now: datetime.datetime, *, weekday: int, nth: int, hour: int):
    """The latest meetings written up by ``now``, and the six that follow them."""
    today = timezone.localtime(now).date()
    year, month = today.year - 2, today.month
    starts = []
    for _ in range(24 + 1 + LATER_CSF_MEETINGS + 2):
        starts.append(at(meeting_day(year, month, weekday=weekday, nth=nth), hour))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    written_up = [s for s in starts if minutes_typed_by(s) <= now]
    past = tuple(written_up[-PAST_MEETINGS:])
    upcoming = [s for s in starts if s > past[-1]][: 1 + LATER_CSF_MEETINGS]
    return past, upcoming


def demo_diary(now: datetime.datetime | None = None) -> Diary:
    now = now or timezone.now()
    csf_past, csf_upcoming = _monthly(now, weekday=CSF_WEEKDAY, nth=CSF_NTH, hour=CSF_HOUR)
    sog_past, sog_upcoming = _monthly(now, weekday=SOG_WEEKDAY, nth=SOG_NTH, hour=SOG_HOUR)
    return Diary(
        now=now,
        csf_past=csf_past,
        sog_past=sog_past,
        csf_next=csf_upcoming[0],
        sog_next=sog_upcoming[0],
        csf_later=tuple(csf_upcoming[1:]),
    )
