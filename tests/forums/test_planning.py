"""Planning meetings: where, when, one a day per forum, only the chair; monthly series."""

from __future__ import annotations

import calendar
import datetime

import pytest
from django.utils import timezone

from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import Role
from forums import services
from forums.models import ForumMembership, Meeting
from tests.factories import UserFactory, set_up
from tests.forums.conftest import in_days, local, plan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def nth_weekday(year: int, month: int, weekday: int, n: int) -> datetime.date:
    """The ``n``-th (1-based) ``weekday`` of the month."""
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def is_last_of_its_weekday(day: datetime.date) -> bool:
    return day.day + 7 > calendar.monthrange(day.year, day.month)[1]


def months_after(day: datetime.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


# --- meeting_plan -------------------------------------------------------------


def test_the_chair_plans_a_meeting_with_a_place(w):
    starts = in_days(10)
    meeting = plan(w.chair, w.csf, starts)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.PLANNED
    assert meeting.chair == w.chair
    assert meeting.location == "Town Hall, Committee Room 2"
    assert meeting.ends_at == starts + services.DEFAULT_MEETING_LENGTH
    # Access to the agenda's cases lasts until the end of the meeting's day.
    end = timezone.localtime(meeting.access_ends_at)
    assert (end.date(), end.hour, end.minute) == (starts.date(), 23, 59)


def test_an_online_link_is_enough(w):
    meeting = services.meeting_plan(
        actor=w.chair,
        forum=w.csf,
        starts_at=in_days(10),
        online_link="https://meet.example.org/csf",
    )
    assert meeting.online_link == "https://meet.example.org/csf" and meeting.location == ""


@pytest.mark.parametrize("location", ["", "   "])
def test_a_meeting_needs_a_place_or_an_online_link(w, location):
    with pytest.raises(DomainError, match="place or an online link") as error:
        services.meeting_plan(actor=w.chair, forum=w.csf, starts_at=in_days(10), location=location)
    assert error.value.field == "location"
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("length", [datetime.timedelta(0), datetime.timedelta(minutes=-30)])
def test_a_meeting_must_end_after_it_starts(w, length):
    starts = in_days(10)
    with pytest.raises(DomainError, match="end after it starts") as error:
        plan(w.chair, w.csf, starts, ends_at=starts + length)
    assert error.value.field == "ends_at"


def test_no_two_meetings_of_a_forum_on_the_same_day(w):
    plan(w.chair, w.csf, in_days(10, hour=10))
    with pytest.raises(DomainError, match="already a Creative Solutions Forum meeting") as error:
        plan(w.chair, w.csf, in_days(10, hour=15))
    assert error.value.field == "starts_at"
    assert Meeting.objects.filter(forum=w.csf).count() == 1


def test_the_same_day_is_the_uk_day_not_the_utc_day(w):
    """Half past midnight in summer is still the previous day in UTC."""
    today = timezone.localdate()
    june = datetime.date(today.year + (today.month >= 6), 6, 10)
    plan(w.chair, w.csf, local(june, hour=0, minute=30))
    with pytest.raises(DomainError, match="already"):
        plan(w.chair, w.csf, local(june, hour=22))
    plan(w.chair, w.csf, local(june - datetime.timedelta(days=1), hour=22))  # a different day


def test_different_forums_may_meet_on_the_same_day(w):
    plan(w.chair, w.csf, in_days(10, hour=10))
    plan(w.chair, w.sog, in_days(10, hour=14))
    assert Meeting.objects.count() == 2


def test_a_practitioner_cannot_plan_a_meeting(w):
    with pytest.raises(NotAllowed):
        plan(w.hostel_worker, w.csf, in_days(10))
    assert not Meeting.objects.exists()


def test_a_standing_member_who_is_not_chair_cannot_plan(w):
    with pytest.raises(NotAllowed):
        plan(w.member, w.csf, in_days(10))


def test_the_chair_named_in_the_forums_membership_may_plan(w):
    sog_chair = UserFactory(agency=w.housing, roles=[Role.SOG_MEMBER])
    with set_up():
        ForumMembership.objects.create(
            forum=w.sog, user=sog_chair, agency=w.housing, role=ForumMembership.Role.CHAIR
        )
    meeting = plan(sog_chair, w.sog, in_days(10))
    assert meeting.chair == sog_chair
    # Chairing the SOG does not make them chair of the CSF.
    with pytest.raises(NotAllowed):
        plan(sog_chair, w.csf, in_days(11))


def test_a_chair_who_has_left_the_forum_cannot_plan(w):
    former = UserFactory(agency=w.housing)
    with set_up():
        ForumMembership.objects.create(
            forum=w.csf,
            user=former,
            agency=w.housing,
            role=ForumMembership.Role.CHAIR,
            left_on=timezone.localdate(),
        )
    with pytest.raises(NotAllowed):
        plan(former, w.csf, in_days(10))


def test_meetings_are_planned_at_most_two_years_ahead(w):
    with pytest.raises(DomainError, match="two years"):
        plan(w.chair, w.csf, in_days(800))


# --- monthly_dates --------------------------------------------------------------


def test_monthly_dates_keep_the_second_wednesday():
    first = local(datetime.date(2027, 1, 13), hour=14)  # the 2nd Wednesday of January
    dates = services.monthly_dates(first, 12)
    assert [timezone.localtime(d).date() for d in dates] == [
        nth_weekday(2027, month, calendar.WEDNESDAY, 2) for month in range(1, 13)
    ]
    # Same time of day in UK time, across the change to and from summer time.
    assert {(timezone.localtime(d).hour, timezone.localtime(d).minute) for d in dates} == {(14, 0)}


def test_monthly_dates_a_fifth_weekday_becomes_the_last():
    first = local(datetime.date(2025, 1, 29))  # the 5th (and last) Wednesday of January 2025
    dates = [timezone.localtime(d).date() for d in services.monthly_dates(first, 4)]
    assert dates == [
        datetime.date(2025, 1, 29),
        datetime.date(2025, 2, 26),  # February has four Wednesdays: the last
        datetime.date(2025, 3, 26),
        datetime.date(2025, 4, 30),  # April has five again
    ]


def test_monthly_dates_cross_the_year_end():
    first = local(datetime.date(2026, 11, 3))  # 1st Tuesday of November
    dates = [timezone.localtime(d).date() for d in services.monthly_dates(first, 3)]
    assert dates == [
        datetime.date(2026, 11, 3),
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 5),
    ]


def test_monthly_dates_a_fourth_weekday_stays_fourth_even_in_a_five_week_month():
    first = local(datetime.date(2025, 2, 26))  # 4th Wednesday of February 2025 (also the last)
    dates = [timezone.localtime(d).date() for d in services.monthly_dates(first, 3)]
    assert dates == [
        datetime.date(2025, 2, 26),
        datetime.date(2025, 3, 26),
        datetime.date(2025, 4, 23),  # 4th, not the 5th (30th)
    ]


# --- meetings_schedule_monthly ---------------------------------------------------


def _second_wednesday_next_month() -> datetime.datetime:
    year, month = months_after(timezone.localdate(), 1)
    return local(nth_weekday(year, month, calendar.WEDNESDAY, 2), hour=10)


def test_six_monthly_meetings_on_the_same_weekday_of_the_month(w):
    first = _second_wednesday_next_month()
    meetings = services.meetings_schedule_monthly(
        actor=w.chair, forum=w.csf, first_starts_at=first, location="Town Hall"
    )
    assert len(meetings) == 6
    days = [timezone.localtime(m.starts_at).date() for m in meetings]
    for day in days:
        assert day.weekday() == calendar.WEDNESDAY
        assert (day.day - 1) // 7 == 1  # the second one of its month
    assert len({(d.year, d.month) for d in days}) == 6
    assert all(m.ends_at - m.starts_at == services.DEFAULT_MEETING_LENGTH for m in meetings)
    assert Meeting.objects.filter(forum=w.csf).count() == 6


def test_a_fifth_weekday_series_uses_the_last_weekday(w):
    today = timezone.localdate()
    for ahead in range(1, 14):
        year, month = months_after(today, ahead)
        fifth = nth_weekday(year, month, calendar.WEDNESDAY, 5)
        if fifth.month == month:
            break
    meetings = services.meetings_schedule_monthly(
        actor=w.chair, forum=w.csf, first_starts_at=local(fifth), location="Town Hall"
    )
    days = [timezone.localtime(m.starts_at).date() for m in meetings]
    assert days[0] == fifth
    assert all(d.weekday() == calendar.WEDNESDAY and is_last_of_its_weekday(d) for d in days)
    assert len(days) == 6


def test_the_series_skips_days_already_planned(w):
    first = _second_wednesday_next_month()
    third = services.monthly_dates(first, 3)[2]
    existing = plan(w.chair, w.csf, third + datetime.timedelta(hours=4))  # same day, afternoon
    meetings = services.meetings_schedule_monthly(
        actor=w.chair, forum=w.csf, first_starts_at=first, location="Town Hall"
    )
    assert len(meetings) == 5
    assert timezone.localtime(third).date() not in {
        timezone.localtime(m.starts_at).date() for m in meetings
    }
    assert Meeting.objects.filter(forum=w.csf).count() == 6
    existing.refresh_from_db()
    assert existing.starts_at == third + datetime.timedelta(hours=4)  # left as it was


def test_the_first_of_a_series_cannot_be_in_the_past(w):
    with pytest.raises(DomainError, match="in the future") as error:
        services.meetings_schedule_monthly(
            actor=w.chair,
            forum=w.csf,
            first_starts_at=timezone.now() - datetime.timedelta(hours=1),
            location="Town Hall",
        )
    assert error.value.field == "first_starts_at"
    assert not Meeting.objects.exists()


def test_a_series_needs_a_place_and_plans_nothing_without_one(w):
    with pytest.raises(DomainError, match="place or an online link"):
        services.meetings_schedule_monthly(
            actor=w.chair, forum=w.csf, first_starts_at=_second_wednesday_next_month()
        )
    assert not Meeting.objects.exists()


def test_only_the_chair_schedules_a_series(w):
    with pytest.raises(NotAllowed):
        services.meetings_schedule_monthly(
            actor=w.member,
            forum=w.csf,
            first_starts_at=_second_wednesday_next_month(),
            location="Town Hall",
        )
    assert not Meeting.objects.exists()


# --- changing a meeting: a second chair's change is refused, never lost -------------


def _change(meeting, *, version, location, day=None):
    day = day or timezone.localtime(meeting.starts_at).date()
    return {
        "day_0": day.day,
        "day_1": day.month,
        "day_2": day.year,
        "starts": "10:00",
        "ends": "12:00",
        "location": location,
        "online_link": "",
        "version": version,
    }


def test_a_stale_change_of_a_meeting_is_refused_and_changes_nothing(w):
    from csf_portal.errors import ConcurrentEdit

    meeting = plan(w.chair, w.csf, in_days(20))
    services.meeting_reschedule(
        actor=w.chair, meeting=meeting, starts_at=in_days(21), location="Room 1", expected_version=1
    )
    with pytest.raises(ConcurrentEdit, match="Someone else changed this meeting"):
        services.meeting_reschedule(
            actor=w.chair,
            meeting=meeting,
            starts_at=in_days(22),
            location="Room 2",
            expected_version=1,
        )
    meeting.refresh_from_db()
    assert meeting.location == "Room 1" and meeting.details_version == 2


def test_the_change_page_keeps_what_was_typed_and_offers_the_new_version(w):
    from django.urls import reverse

    from tests.conftest import signed_in_client

    meeting = plan(w.chair, w.csf, in_days(20))
    url = reverse("forums:meeting_change", args=[meeting.pk])
    first, second = signed_in_client(w.chair), signed_in_client(w.chair)
    assert 'name="version" value="1"' in first.get(url).content.decode()
    assert first.post(url, _change(meeting, version=1, location="Room 1")).status_code == 302
    page = second.post(url, _change(meeting, version=1, location="Room 2 typed here"))
    text = page.content.decode()
    assert page.status_code == 200 and "Someone else changed this meeting" in text
    assert "Room 2 typed here" in text and 'name="version" value="2"' in text
    meeting.refresh_from_db()
    assert meeting.location == "Room 1"
    assert second.post(url, _change(meeting, version=2, location="Room 2")).status_code == 302
    meeting.refresh_from_db()
    assert meeting.location == "Room 2" and meeting.details_version == 3
