"""The calendar's edges that CI runs the date-sensitive suites at (``CSF_TEST_CLOCK``).

``python -m tests.clock_edges`` prints one moment a line, UK time: the next of each
edge after today, so the run looks a little ahead of the code it tests, whatever
the year. A time bomb is caught the day it is written, not the day it goes off.
"""

from __future__ import annotations

import calendar
import datetime
import zoneinfo

UK = zoneinfo.ZoneInfo("Europe/London")


def _last_sunday(year: int, month: int) -> datetime.date:
    last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    return last - datetime.timedelta(days=(last.weekday() - 6) % 7)


def edges(today: datetime.date) -> list[str]:
    """The next 31 January 23:30, 29 February, both clock changes at 01:30, 31 December."""

    def next_on(make) -> datetime.datetime:
        for year in range(today.year, today.year + 9):
            moment = make(year)
            if moment is not None and moment.date() > today:
                return moment
        raise AssertionError("no such day in eight years")  # pragma: no cover

    def leap_day(year: int) -> datetime.datetime | None:
        return datetime.datetime(year, 2, 29, 12, 0) if calendar.isleap(year) else None

    moments = [
        next_on(lambda y: datetime.datetime(y, 1, 31, 23, 30)),
        next_on(leap_day),
        next_on(lambda y: datetime.datetime.combine(_last_sunday(y, 3), datetime.time(1, 30))),
        next_on(lambda y: datetime.datetime.combine(_last_sunday(y, 10), datetime.time(1, 30))),
        next_on(lambda y: datetime.datetime(y, 12, 31, 23, 30)),
    ]
    return [m.isoformat(timespec="minutes") for m in sorted(moments)]


if __name__ == "__main__":
    print("\n".join(edges(datetime.datetime.now(UK).date())))
