"""The demo city's forums, built by ``manage.py seed_demo``.

The city is built once for the module (it takes a while) inside a transaction
that is rolled back at the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

import access
from cases.models import Case, CaseAgency, Person
from csf_portal.models import AgencyKind, Notification, User
from demo.dates import CSF_NTH, CSF_WEEKDAY, meeting_day
from forums.models import (
    Action,
    AgendaItem,
    Attendance,
    DigestSent,
    Forum,
    ForumDecision,
    ForumMembership,
    Invitation,
    Meeting,
    MinutesAmendment,
    SystemIssue,
)

pytestmark = [pytest.mark.django_db, pytest.mark.dates, pytest.mark.xdist_group("demo_city")]

S = Meeting.State
DAY = datetime.timedelta(days=1)


HELD = (S.HELD, S.MINUTES_APPROVED)


def _past(kind: str) -> list[Meeting]:
    """The meetings held and written up: a year of them, whatever today is."""
    return list(Meeting.objects.filter(forum__kind=kind, state__in=HELD).order_by("starts_at"))


def _upcoming(kind: str) -> list[Meeting]:
    """The rest: the next (to come, or just held and not yet recorded) and those after it."""
    return list(
        Meeting.objects.filter(forum__kind=kind).exclude(state__in=HELD).order_by("starts_at")
    )


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _covered(case: Case, agency_id: int, day: datetime.date) -> bool:
    return any(
        access.coverage_until(
            person_id=case.person_id, agency_id=agency_id, use=access.Use.FORUM_DISCUSSION, today=d
        )
        is not None
        for d in (day, timezone.localdate())
    )


def _snapshot() -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in (
        ForumMembership,
        Meeting,
        AgendaItem,
        Attendance,
        ForumDecision,
        Action,
        SystemIssue,
    ):
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    for model in (Invitation, MinutesAmendment, DigestSent, Notification, User):
        counts[model.__name__] = model.objects.count()
    return counts


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    assert before["ForumMembership"] >= 20
    assert before["Action"] >= 100
    call_command("seed_demo", verbosity=0)
    assert _snapshot() == before
    # The weekly digest is the scheduler's job, not the seed's.
    assert before["DigestSent"] == 0


def test_standing_memberships(seeded):
    chair = User.objects.get(username="chair")
    for kind in (Forum.Kind.CSF, Forum.Kind.SOG):
        memberships = ForumMembership.objects.filter(forum__kind=kind, left_on__isnull=True)
        assert memberships.get(role=ForumMembership.Role.CHAIR).user == chair
        for membership in memberships.select_related("user"):
            assert membership.agency_id == membership.user.agency_id
            assert membership.joined_on < _past(kind)[0].starts_at.date()

    csf = ForumMembership.objects.filter(forum__kind=Forum.Kind.CSF, role="member")
    assert {"mh", "housing"} <= set(csf.values_list("user__username", flat=True))
    # Standing members: mental health, housing, substance misuse and hostel providers,
    # public health, adult social care and community connections.
    assert {
        AgencyKind.MENTAL_HEALTH,
        AgencyKind.HOUSING,
        AgencyKind.SUBSTANCE_MISUSE,
        AgencyKind.HOSTEL,
        AgencyKind.PUBLIC_HEALTH,
        AgencyKind.ADULT_SOCIAL_CARE,
        AgencyKind.COMMUNITY_CONNECTIONS,
    } <= set(csf.values_list("agency__kind", flat=True))

    sog = ForumMembership.objects.filter(forum__kind=Forum.Kind.SOG, role="member")
    assert "sog" in set(sog.values_list("user__username", flat=True))
    assert sog.values("agency").distinct().count() >= 10
    assert sog.filter(agency__kind=AgencyKind.COMMISSIONER).values("agency").distinct().count() == 2
    # The delegates and members who are not demo users cannot sign in.
    for membership in ForumMembership.objects.exclude(
        user__username__in=["chair", "mh", "housing", "sog"]
    ).select_related("user"):
        assert not membership.user.has_usable_password()


def test_a_year_of_the_forum_with_agendas_minutes_and_attendance(seeded):
    now = timezone.now()
    past = _past(Forum.Kind.CSF)
    assert len(past) == 12
    people = list(Person.objects.all())
    for index, meeting in enumerate(past):
        items = list(meeting.items.select_related("case__person", "presenter"))
        cases = [i for i in items if i.case_id]
        ready = Case.objects.filter(created_at__lte=meeting.starts_at - 3 * DAY).count()
        if ready >= 3:
            assert 3 <= len(cases) <= 6, meeting
        else:
            # Before the forum has cases enough, it sets itself up.
            assert len(cases) <= ready and len(items) >= 3
        assert [i.order for i in items] == list(range(1, len(items) + 1))
        times = [i.starts_at for i in items]
        assert times == sorted(times) and times[0] == datetime.time(10, 0)
        assert meeting.agenda_published_at is not None
        assert meeting.starts_at - 10 * DAY < meeting.agenda_published_at < meeting.starts_at

        # Minutes are written, and name nobody but (through the case) the person.
        for item in items:
            assert len(item.minutes) > 100 and item.minutes_version >= 1
            assert item.created_at < meeting.starts_at < item.updated_at < now
            if item.case is None:
                continue
            for person in people:
                if person.pk == item.case.person_id:
                    continue
                for name in (person.given_name, person.family_name):
                    assert not re.search(rf"\b{re.escape(name)}\b", item.minutes), (name, item)

        # The chair and most members came; a couple sent apologies; invited services came
        # for their own item.
        attendance = list(meeting.attendance.select_related("user"))
        whole = [a for a in attendance if a.item_id is None]
        assert any(a.user.username == "chair" and a.status == "present" for a in whole)
        apologies = [a for a in whole if a.status == Attendance.Status.APOLOGIES]
        assert 1 <= len(apologies) <= 2
        assert len(whole) - len(apologies) >= 5
        for a in attendance:
            assert a.recorded_at < now - datetime.timedelta(hours=1)
        for item in cases:
            for invitation in item.invitations.all():
                assert _covered(item.case, invitation.agency_id, _local_day(meeting.starts_at))
            presenter = item.presenter
            assert presenter is not None and presenter.agency_id is not None
            assert presenter.pk in {a.user_id for a in attendance if a.status == "present"}
            assert (
                CaseAgency.objects.filter(case=item.case, agency=presenter.agency_id).exists()
                or item.invitations.filter(agency=presenter.agency_id).exists()
            )
        assert any(a.item_id for a in attendance) or not cases

        # Approved at the next meeting; the latest waits for approval.
        if index < len(past) - 1:
            assert meeting.state == S.MINUTES_APPROVED
            assert meeting.minutes_approved_at is not None
            assert past[index].starts_at < meeting.minutes_approved_at < past[index + 1].ends_at
        else:
            assert meeting.state == S.HELD and meeting.minutes_approved_at is None

    # Decisions the case record shows belong to the item where the case was discussed.
    for decision in ForumDecision.objects.filter(case__isnull=False).select_related("item"):
        assert decision.item is not None
        assert decision.item.case_id == decision.case_id
        assert decision.item.meeting_id == decision.meeting_id
    assert ForumDecision.objects.filter(kind=ForumDecision.Kind.OTHER).exists()


def test_case_actions_have_owners_due_dates_and_progress(seeded):
    today = timezone.localdate()
    actions = Action.objects.filter(forum__kind=Forum.Kind.CSF).select_related(
        "owner", "meeting", "item", "case"
    )
    assert actions.count() >= 60
    for action in actions:
        assert action.owner.agency_id == action.owner_agency_id
        assert action.case_id is not None and action.case_id == action.item.case_id
        assert CaseAgency.objects.filter(case=action.case, agency=action.owner_agency).exists()
        meeting_day = _local_day(action.meeting.starts_at)
        assert 14 <= (action.due_on - meeting_day).days <= 45
        if action.status != Action.Status.OPEN:
            assert action.last_update_note
            assert action.last_updated_at is not None
            assert _local_day(action.last_updated_at) < today
    for item in AgendaItem.objects.filter(meeting__forum__kind=Forum.Kind.CSF, case__isnull=False):
        assert item.actions.count() <= 3

    done = actions.filter(status=Action.Status.DONE)
    assert not done.filter(completed_on__isnull=True).exists()
    on_time = [a for a in done if a.completed_on <= a.due_on]
    late = [a for a in done if a.completed_on > a.due_on]
    assert len(on_time) > len(late) > 5
    dropped = actions.filter(status=Action.Status.DROPPED)
    assert dropped.exists() and not dropped.filter(status_reason="").exists()
    assert actions.filter(status=Action.Status.IN_PROGRESS).exists()
    overdue = [a for a in actions if a.is_overdue(today)]
    assert len(overdue) >= 4

    # Everyone whose "My work" the demo shows has something open, and something overdue.
    everything = Action.objects.select_related("owner")
    for username in ("sog", "mh", "housing", "police", "hostel"):
        mine = [a for a in everything if a.owner.username == username]
        assert any(a.is_open for a in mine), username
        assert any(a.is_overdue(today) for a in mine), username


def test_the_next_forum_is_published_and_the_diary_planned(seeded):
    now = timezone.now()
    upcoming = _upcoming(Forum.Kind.CSF)
    assert len(upcoming) == 6
    following = upcoming[0]
    day = _local_day(following.starts_at)
    assert day == meeting_day(day.year, day.month, weekday=CSF_WEEKDAY, nth=CSF_NTH)
    assert day.weekday() == 2  # the second Wednesday (a week earlier on a bank holiday)
    # Still to come, or held in the last few days and not yet recorded as held.
    assert now - datetime.timedelta(days=6) < following.starts_at < now + 45 * DAY
    assert following.starts_at > _past(Forum.Kind.CSF)[-1].starts_at
    assert following.state == S.AGENDA_PUBLISHED
    assert following.agenda_published_at is not None and following.agenda_published_at < now
    items = list(following.items.select_related("case"))
    assert len(items) == 4 and all(i.case_id for i in items)
    assert Invitation.objects.filter(item__meeting=following).exists()
    assert not following.attendance.exists()

    mh, housing = User.objects.get(username="mh"), User.objects.get(username="housing")
    for item in items:
        assert item.case.state != Case.State.CLOSED
        # Standing members see every case on the published agenda.
        assert access.can_view_case(mh, item.case)
        assert access.can_view_case(housing, item.case)
        assert access.has_meeting_access(mh, case=item.case)
    awaiting = [i for i in items if i.case.state == Case.State.AWAITING_FORUM]
    assert awaiting

    for later in upcoming[1:]:
        assert later.state == S.PLANNED and not later.items.exists()
        later_day = _local_day(later.starts_at)
        assert later.starts_at > now
        assert later_day.weekday() == 2 and 1 <= later_day.day <= 14

    sog = _upcoming(Forum.Kind.SOG)
    assert len(sog) == 1
    draft = sog[0]
    assert draft.state == S.PLANNED and draft.agenda_published_at is None
    assert draft.items.count() >= 2
    assert not draft.items.filter(case__isnull=False).exists()


def test_the_gp_practice_is_in_no_case_forum_or_meeting(seeded):
    gp = User.objects.get(username="gp")
    assert not ForumMembership.objects.filter(user=gp).exists()
    assert not ForumMembership.objects.filter(agency=gp.agency).exists()
    assert not Invitation.objects.filter(agency=gp.agency).exists()
    assert not Attendance.objects.filter(agency=gp.agency).exists()
    assert not AgendaItem.objects.filter(presenter=gp).exists()
    assert not Action.objects.filter(owner_agency=gp.agency).exists()
    assert not CaseAgency.objects.filter(agency=gp.agency).exists()
    assert not access.cases_visible_to(user=gp).exists()
    assert not access.meeting_items_open_to(gp).exists()


def test_the_sog_works_system_issues_across_every_theme(seeded):
    today = timezone.localdate()
    issues = SystemIssue.objects.all()
    assert 5 <= issues.count() <= 8
    assert set(issues.values_list("theme", flat=True)) == set(SystemIssue.Theme.values)
    statuses = set(issues.values_list("status", flat=True))
    assert {SystemIssue.Status.OPEN, SystemIssue.Status.IN_PROGRESS} <= statuses
    assert {SystemIssue.Status.RESOLVED, SystemIssue.Status.WITH_COMMISSIONERS} <= statuses
    with_commissioners = issues.filter(status=SystemIssue.Status.WITH_COMMISSIONERS)
    assert not with_commissioners.filter(recommendation="").exists()
    # The commissioners were told.
    assert Notification.objects.filter(
        user__username="commissioner", text__contains="recommendation"
    ).exists()

    # Case learning escalated from forum items, linked to the case it came from.
    escalated = issues.filter(raised_from__isnull=False).select_related("raised_from__meeting")
    assert escalated.count() >= 2
    for issue in escalated:
        item = issue.raised_from
        assert item is not None and item.case_id is not None
        assert item.meeting.forum.kind == Forum.Kind.CSF
        assert list(issue.cases.values_list("pk", flat=True)) == [item.case_id]

    # A year of SOG meetings on topics and issues, never on people; approved in turn.
    past = _past(Forum.Kind.SOG)
    assert len(past) == 12
    for index, meeting in enumerate(past):
        items = list(meeting.items.all())
        assert 2 <= len(items) <= 5
        assert not any(i.case_id for i in items)
        assert all(i.minutes for i in items)
        assert meeting.state == (S.MINUTES_APPROVED if index < len(past) - 1 else S.HELD)
    discussed = AgendaItem.objects.filter(system_issue__isnull=False, meeting__in=past)
    assert discussed.values("system_issue").distinct().count() >= 6

    actions = Action.objects.filter(forum__kind=Forum.Kind.SOG).select_related("owner")
    assert actions.values("owner_agency").distinct().count() >= 6
    assert not actions.filter(case__isnull=False).exists()
    overdue = [a for a in actions if a.is_overdue(today)]
    assert {a.owner.username for a in overdue} >= {"sog"}
    assert actions.filter(status=Action.Status.DONE).count() > len(overdue)


def test_system_issues_name_no_one(seeded):
    names = set()
    for given, family, other in Person.objects.values_list(
        "given_name", "family_name", "other_names"
    ):
        names |= {given, family, *re.split(r"[,;]", other)}
    names = {n.strip() for n in names if len(n.strip()) >= 3}
    assert len(names) > 50
    for issue in SystemIssue.objects.all():
        text = f"{issue.title}\n{issue.description}\n{issue.recommendation}"
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE), (name, issue)


def test_the_demo_holds_a_meeting_pack_and_care_plans_ready_to_download(seeded):
    import io

    import pypdf

    from reports.models import GeneratedDocument as D
    from reports.services import may_download

    chair = User.objects.get(username="chair")
    pack = D.objects.get(kind=D.Kind.MEETING_PACK)
    assert pack.requested_by == chair and pack.status == D.Status.DONE
    assert pack.meeting == _upcoming(Forum.Kind.CSF)[0]
    assert may_download(chair, pack)
    with pack.file.open("rb") as f:
        pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(f.read())).pages]
    assert len(pages) == pack.page_count >= 5
    assert all(f"Prepared for {chair.get_full_name()}" in text for text in pages)
    for item in AgendaItem.objects.filter(meeting=pack.meeting, case__isnull=False):
        assert str(item.case.person) in "\n".join(pages)
    plans = D.objects.filter(kind__in=[D.Kind.CARE_PLAN, D.Kind.CARE_PLAN_EASY_READ])
    assert plans.count() == 2 and all(d.status == D.Status.DONE for d in plans)
    assert not D.objects.filter(requested_by__username="gp").exists()
