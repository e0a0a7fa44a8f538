"""Calendar arithmetic shared by the demo and benchmark data builders."""

from __future__ import annotations

import datetime


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> datetime.date:
    """The ``nth`` (1-based; -1 for the last) ``weekday`` (Monday 0) of the month."""
    if nth > 0:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    last = following - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=(last.weekday() - weekday) % 7)
