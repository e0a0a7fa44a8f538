"""The demo city's calendar, checked over generated moments across more than ten years.

``seed_demo`` builds its year of meetings from ``demo.dates.demo_diary`` and
spreads each issue's SOG discussions with ``demo.forums.plan_issue_stages``; both
are pure, so they are checked here at thousands of moments without a database.
"""

from __future__ import annotations

import datetime
import itertools
import zoneinfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from csf_portal.dates import years_before
from demo.dates import (
    CSF_HOUR,
    CSF_WEEKDAY,
    LATER_CSF_MEETINGS,
    PAST_MEETINGS,
    SOG_HOUR,
    SOG_WEEKDAY,
    demo_diary,
    is_working_day,
    meeting_day,
    minutes_typed_by,
    nth_weekday,
    working_day_after,
    working_day_on_or_before,
)
from demo.forums import ISSUES, SOG_MOST_ITEMS, SOG_TOPICS, plan_issue_stages
from forums.models import SystemIssue

UK = zoneinfo.ZoneInfo("Europe/London")
UTC = datetime.UTC

# 2026 to 2037: twelve years, both clock changes in each. Hypothesis takes naive bounds and
# makes the moments aware through ``timezones``.
moments = st.datetimes(
    min_value=datetime.datetime(2026, 1, 1),  # noqa: DTZ001
    max_value=datetime.datetime(2037, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def _last_sunday(year: int, month: int) -> datetime.date:
    return nth_weekday(year, month, 6, -1)


@st.composite
def clock_change_moments(draw) -> datetime.datetime:
    """A moment in the small hours of a last Sunday of March or October, UK time."""
    year = draw(st.integers(2026, 2037))
    day = _last_sunday(year, draw(st.sampled_from([3, 10])))
    minutes = draw(st.integers(0, 4 * 60))  # 00:00 to 04:00 UTC covers both changes
    return datetime.datetime.combine(day, datetime.time(), tzinfo=UTC) + datetime.timedelta(
        minutes=minutes
    )


def _month_after(moment: datetime.datetime) -> tuple[int, int]:
    local = moment.astimezone(UK)
    return (local.year + local.month // 12, local.month % 12 + 1)


def _month(moment: datetime.datetime) -> tuple[int, int]:
    local = moment.astimezone(UK)
    return (local.year, local.month)


def _check_meeting(moment: datetime.datetime, *, weekday: int, hour: int) -> None:
    local = moment.astimezone(UK)
    assert is_working_day(local.date()), local
    assert local.weekday() == weekday, local
    # Wall-clock time in the UK, on both sides of a clock change.
    assert (local.hour, local.minute) == (hour, 0), local


def _check_series(meetings: list[datetime.datetime]) -> None:
    for earlier, later in itertools.pairwise(meetings):
        assert _month(later) == _month_after(earlier), (earlier, later)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(moments, clock_change_moments()))
@example(datetime.datetime(2027, 1, 31, 23, 30, tzinfo=UK))
@example(datetime.datetime(2028, 2, 29, 12, 0, tzinfo=UK))
@example(datetime.datetime(2027, 3, 28, 1, 30, tzinfo=UK))  # a time that never happens
@example(datetime.datetime(2027, 10, 31, 1, 30, fold=0, tzinfo=UK))  # happens twice
@example(datetime.datetime(2027, 10, 31, 1, 30, fold=1, tzinfo=UK))
@example(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UK))
@example(datetime.datetime(2026, 12, 9, 11, 0, tzinfo=UK))  # during a forum
@example(datetime.datetime(2027, 3, 25, 16, 0, tzinfo=UK))  # SOG before Good Friday
def test_the_demo_diary_holds_on_any_day(now):
    diary = demo_diary(now)
    for past, weekday, hour in (
        (diary.csf_past, CSF_WEEKDAY, CSF_HOUR),
        (diary.sog_past, SOG_WEEKDAY, SOG_HOUR),
    ):
        # A year of monthly meetings, every one held and written up before now...
        assert len(past) == PAST_MEETINGS
        _check_series(list(past))
        for meeting in past:
            _check_meeting(meeting, weekday=weekday, hour=hour)
            assert minutes_typed_by(meeting) <= now
        # ... the latest of them recent: no month is skipped before today (45 days: a
        # December meeting moved a week earlier for Christmas).
        assert now - past[-1] < datetime.timedelta(days=45)

    # The next meetings follow on without a gap; they are not yet written up, and
    # are either still to come or were held in the last few days.
    for last, following, weekday, hour in (
        (diary.csf_past[-1], diary.csf_next, CSF_WEEKDAY, CSF_HOUR),
        (diary.sog_past[-1], diary.sog_next, SOG_WEEKDAY, SOG_HOUR),
    ):
        _check_meeting(following, weekday=weekday, hour=hour)
        assert _month(following) == _month_after(last)
        assert minutes_typed_by(following) > now
        assert following - now < datetime.timedelta(days=45)
        assert now - following < datetime.timedelta(days=6)

    assert len(diary.csf_later) == LATER_CSF_MEETINGS
    _check_series([diary.csf_next, *diary.csf_later])
    for meeting in diary.csf_later:
        _check_meeting(meeting, weekday=CSF_WEEKDAY, hour=CSF_HOUR)
        assert meeting > now


@settings(max_examples=400, deadline=None)
@given(st.dates(datetime.date(2026, 1, 1), datetime.date(2037, 12, 31)))
def test_working_days_skip_weekends_and_bank_holidays(day):
    before, after = working_day_on_or_before(day), working_day_after(day)
    assert is_working_day(before) and before <= day
    assert is_working_day(after) and after > day
    # Nothing in between is a working day.
    assert all(
        not is_working_day(before + datetime.timedelta(days=n))
        for n in range(1, (day - before).days + 1)
    )
    assert all(
        not is_working_day(day + datetime.timedelta(days=n)) for n in range(1, (after - day).days)
    )


def test_bank_holidays_and_the_days_the_offices_shut_are_not_working_days():
    for day in (
        datetime.date(2027, 3, 26),  # Good Friday
        datetime.date(2027, 3, 29),  # Easter Monday
        datetime.date(2027, 12, 27),  # Christmas Day, observed
        datetime.date(2027, 12, 28),  # Boxing Day, observed
        datetime.date(2026, 12, 24) + datetime.timedelta(days=1),
        datetime.date(2030, 1, 1),
    ):
        assert not is_working_day(day), day
    assert is_working_day(datetime.date(2027, 3, 25))


def test_a_meeting_day_on_christmas_day_moves_a_week_earlier():
    # The last Thursday of December 2025 is Christmas Day.
    assert nth_weekday(2025, 12, SOG_WEEKDAY, -1) == datetime.date(2025, 12, 25)
    assert meeting_day(2025, 12, weekday=SOG_WEEKDAY, nth=-1) == datetime.date(2025, 12, 18)


# --- the SOG's agendas -----------------------------------------------------------------

ESCALATED = [spec for spec in ISSUES if spec.csf_index is not None and spec.stages]


@st.composite
def first_meetings(draw) -> dict[str, int | None]:
    """The first SOG meeting that could take each issue, as the demo's year can fall.

    An issue escalated from the CSF meeting with index ``i`` reaches the SOG at its
    ``i``th meeting or one later (the SOG's month may not have come yet), and the
    CSF may take up to two meetings more to find the case item to raise it from.
    """
    first: dict[str, int | None] = {}
    for spec in ISSUES:
        if spec.sog_index is not None:
            first[spec.key] = spec.sog_index
        elif spec.stages:
            index = spec.csf_index if spec.csf_index >= 0 else PAST_MEETINGS + spec.csf_index
            first[spec.key] = index + draw(st.integers(0, 1)) + draw(st.integers(0, 2))
    return first


@settings(max_examples=800, deadline=None)
@given(first_meetings())
def test_every_sog_meeting_takes_at_most_five_items_and_every_issue_moves_on(first):
    topics = {index: len(t) for index, t in SOG_TOPICS.items()}
    plan = plan_issue_stages(first=first, topics=topics, meetings=PAST_MEETINGS)
    specs = {spec.key: spec for spec in ISSUES}
    for meeting, stages in plan.items():
        assert 0 <= meeting < PAST_MEETINGS
        assert len(stages) + topics.get(meeting, 0) <= SOG_MOST_ITEMS
        keys = [key for key, _ in stages]
        assert len(keys) == len(set(keys)), "one stage of an issue a meeting"
    taken: dict[str, list[tuple[int, int]]] = {}
    for meeting, stages in sorted(plan.items()):
        for key, number in stages:
            taken.setdefault(key, []).append((meeting, number))
    statuses = set()
    for key, steps in taken.items():
        stages = specs[key].stages
        # In order, from the first meeting that could take them, never closer together
        # than planned.
        assert [n for _, n in steps] == list(range(len(steps)))
        assert steps[0][0] >= (first[key] or 0) + stages[0].after
        for (m1, n1), (m2, n2) in itertools.pairwise(steps):
            assert m2 - m1 >= stages[n2].after - stages[n1].after
        statuses |= {stages[n].status for _, n in steps if stages[n].status}
    # Every issue is discussed, and the year ends with issues resolved and with
    # commissioners as well as in progress.
    assert set(taken) == {spec.key for spec in ISSUES if spec.stages}
    assert {
        SystemIssue.Status.IN_PROGRESS,
        SystemIssue.Status.RESOLVED,
        SystemIssue.Status.WITH_COMMISSIONERS,
    } <= statuses


@given(st.dates(datetime.date(2000, 1, 1), datetime.date(2040, 12, 31)), st.integers(0, 120))
def test_years_before_is_the_same_day_or_the_28th_of_february(day, years):
    earlier = years_before(day, years)
    assert earlier.year == day.year - years
    if (day.month, day.day) == (2, 29) and earlier.day != 29:
        assert (earlier.month, earlier.day) == (2, 28)
    else:
        assert (earlier.month, earlier.day) == (day.month, day.day)
