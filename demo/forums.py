"""The demo city's forums: a year of the CSF's and the SOG's own records (DESIGN §6).

``demo/cases.py`` held the year's meetings and did the case work at them: risks
shared, care plans agreed, agencies let go by a decision, cases moved on or
closed. This module writes up what the forums themselves recorded around that
work: the standing memberships; for every past meeting an agenda built and
published the week before, who came and who sent apologies, minutes of each
item, decisions, and actions with a believable record of progress (most done,
some late, a few dropped, some overdue); the system issues that case learning
exposed and the System Optimisation Group's work on them, two of them now with
commissioners; and what lies ahead - the next forum's agenda published, the rest
of the season planned, the next SOG agenda in draft.

Every step goes through ``forums.services``, so the rules and history are the
portal's own; each step is then moved back to when it happened. Minutes, actions
and system issues name no one: the case item says who it is about. Everyone is
fictional.
"""

from __future__ import annotations

import datetime
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from django.db import transaction
from django.utils import timezone

import access
from cases.models import (
    CarePlan,
    CarePlanItem,
    Case,
    CaseAgency,
    CaseVisibility,
    Gender,
    Person,
    Risk,
    RiskCategory,
    RiskLevel,
    RiskLevelChange,
    RiskOwner,
)
from csf_portal.history import unattributed
from csf_portal.models import Agency, Notification, User
from demo import tables
from demo.cases import (
    CSF_LOCATION,
    PRACTITIONER_OF,
    SOG_LOCATION,
    _at,
    _working,
)
from demo.dates import demo_diary, working_day_after
from demo.people import DemoPerson, people_create, person
from demo.steps import backdate
from forums import services
from forums.models import (
    Action,
    AgendaItem,
    Attendance,
    Forum,
    ForumDecision,
    ForumMembership,
    Invitation,
    Meeting,
    SystemIssue,
)
from referrals.models import Referral

RC = RiskCategory
CO = Case.ClosureOutcome
S = Meeting.State
AS = Action.Status
T = SystemIssue.Theme
IS = SystemIssue.Status

# --- the people at the table -------------------------------------------------------


_DATA = tables.load("forums")

# Standing members and delegates who do not sign in to the demo (no usable password).
STAFF: tuple[DemoPerson, ...] = tuple(map(person, _DATA["staff"]))

# The chair (``chair``) chairs both. The GP practice sits on neither: it is
# involved in no demo case and is never invited.
CSF_MEMBERS: tuple[str, ...] = (
    "mh",
    "housing",
    "joanne.mercer",
    "steve.halloran",
    "fiona.lysaght",
    "marcus.webb",
    "bev.cardew",
)
SOG_MEMBERS: tuple[str, ...] = (
    "sog",
    "fiona.lysaght",
    "karen.lowe",
    "imran.qureshi",
    "gail.summers",
    "nigel.foss",
    "ravi.menon",
    "sue.lanyon",
    "jane.osei",
    "paul.rowe",
    "hannah.doyle",
    "tasha.coombe",
    "lynne.baxter",
    "gavin.reid",
)
# Demo users whose "My work" should always show open and overdue actions.
FOCUS_OWNERS: tuple[str, ...] = ("mh", "housing", "police", "hostel")
NEVER_INVITED = frozenset({"gp"})

# How agencies are named mid-sentence in minutes.
SHORT: dict[str, str] = _DATA["short_names"]

# Services the chair sometimes invites for advice on a kind of risk, though not involved.
ADVICE_FROM: dict[str, str] = {
    RC(category): slug for category, slug in _DATA["advice_from"].items()
}

# --- what gets written ---------------------------------------------------------------

INAUGURAL_TOPICS: tuple[tuple[str, str, str], ...] = tuple(
    (topic["title"], topic["presenter"], topic["minutes"]) for topic in _DATA["inaugural_topic"]
)
# When the forum has too few cases for three items, the chair reports on referrals
# and triage: a standing topic, after the inaugural ones have been taken.
STANDING_TOPIC = INAUGURAL_TOPICS[2]

ACTION_TEXTS: dict[str, tuple[str, ...]] = {
    slug: tuple(texts) for slug, texts in _DATA["action_texts"].items()
}


def _by_outcome(notes: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {outcome: tuple(texts) for outcome, texts in notes.items()}


# What owners write on actions, by where the action got to (the SOG's are about
# services, not a person).
CSF_NOTES = _by_outcome(_DATA["csf_action_notes"])
SOG_NOTES = _by_outcome(_DATA["sog_action_notes"])

_MINUTES = _DATA["minutes"]
RISK_LINES: dict[str, str] = {RC(category): line for category, line in _MINUTES["risk"].items()}
PROGRESS_LINES: tuple[str, ...] = tuple(_MINUTES["progress"])
STUCK_LINES: tuple[str, ...] = tuple(_MINUTES["stuck"])
CLOSING_LINES: tuple[str, ...] = tuple(_MINUTES["closing"])
CLOSURE_LINES: dict[str, str] = {CO(outcome): line for outcome, line in _MINUTES["closure"].items()}
CLOSURE_DECISIONS: dict[str, str] = {
    CO(outcome): line for outcome, line in _MINUTES["closure_decision"].items()
}
MONITORING_LINE: str = _MINUTES["monitoring"]

_PRONOUNS: dict[str, dict[str, str]] = {
    Gender.WOMAN: {"they": "she", "them": "her", "their": "her", "is": "is", "has": "has"},
    Gender.MAN: {"they": "he", "them": "him", "their": "his", "is": "is", "has": "has"},
}
_OTHER_PRONOUNS: dict[str, re.Pattern[str]] = {
    Gender.WOMAN: re.compile(r"\b(he|him|his)\b", re.IGNORECASE),
    Gender.MAN: re.compile(r"\b(she|her|hers)\b", re.IGNORECASE),
}
_NEUTRAL = {"they": "they", "them": "them", "their": "their", "is": "are", "has": "have"}


def _words(person: Person, **extra: str) -> dict[str, str]:
    """Format keys for minutes: pronouns for the person, and agencies (``a``, ``A``...)."""
    words = dict(_PRONOUNS.get(person.gender, _NEUTRAL))
    words |= {key.capitalize(): _cap(words[key]) for key in ("they", "them", "their")}
    for key, value in extra.items():
        words[key] = value
        words[key.upper()] = _cap(value)
    return words


# --- the System Optimisation Group's year ------------------------------------------------

Outcome = str
"""Where an action got to: done, late, progress, open, drop."""


@dataclass(frozen=True)
class SogAction:
    owner: str
    description: str
    due_days: int
    outcome: Outcome
    note: str = ""


@dataclass(frozen=True)
class Stage:
    """One SOG discussion of an issue, ``after`` meetings from its first."""

    after: int
    presenter: str
    minutes: str
    status: str | None = None
    recommendation: str = ""
    actions: tuple[SogAction, ...] = ()


@dataclass(frozen=True)
class IssueSpec:
    key: str
    theme: str
    title: str
    description: str
    # Escalated from a case item at the CSF meeting with this index (negative:
    # counted from the latest), or raised directly before the SOG meeting with
    # ``sog_index`` by ``raised_by``.
    csf_index: int | None = None
    wants: tuple[str, ...] = ()
    sog_index: int | None = None
    raised_by: str = ""
    stages: tuple[Stage, ...] = ()


def _sog_action(entry: dict[str, Any]) -> SogAction:
    return SogAction(**entry)


def _stage(entry: dict[str, Any]) -> Stage:
    status = entry.get("status")
    values = {key: value for key, value in entry.items() if key != "action"}
    return Stage(
        **{
            **values,
            "status": None if status is None else IS(status),
            "actions": tuple(map(_sog_action, entry.get("action", ()))),
        }
    )


def _issue(entry: dict[str, Any]) -> IssueSpec:
    values = {key: value for key, value in entry.items() if key != "stage"}
    return IssueSpec(
        **{
            **values,
            "theme": T(entry["theme"]),
            "wants": tuple(entry.get("wants", ())),
            "stages": tuple(map(_stage, entry.get("stage", ()))),
        }
    )


ISSUES: tuple[IssueSpec, ...] = tuple(map(_issue, _DATA["issue"]))


@dataclass(frozen=True)
class Topic:
    title: str
    presenter: str
    minutes: str
    actions: tuple[SogAction, ...] = ()


def _topic(entry: dict[str, Any]) -> Topic:
    return Topic(
        entry["title"],
        entry["presenter"],
        entry["minutes"],
        tuple(map(_sog_action, entry.get("action", ()))),
    )


def _sog_topics() -> dict[int, tuple[Topic, ...]]:
    """The SOG's topics by meeting: ``sog_topic`` and the CSF's quarterly report."""
    by_meeting: dict[int, list[Topic]] = defaultdict(list)
    for entry in _DATA["sog_topic"]:
        by_meeting[entry["meeting"]].append(_topic(entry))
    quarterly = _DATA["sog_quarterly_report"]
    for index in quarterly["meetings"]:
        by_meeting[index].append(_topic(quarterly))
    return {index: tuple(by_meeting[index]) for index in sorted(by_meeting)}


SOG_TOPICS: dict[int, tuple[Topic, ...]] = _sog_topics()
ACTION_LOG = Topic(
    "Review of the action log",
    "chair",
    "The chair went through the open actions. Owners gave updates in the meeting; overdue "
    "actions were discussed one by one and new dates agreed where the delay was outside the "
    "owner's control.",
)
NEXT_SOG_TOPIC = Topic("Winter pressures and the severe weather protocol", "gavin.reid", "")


# --- the builder -----------------------------------------------------------------------


@dataclass
class _CaseItem:
    """A case as the forum took it at one meeting, worked out before anything is written."""

    case: Case
    presenter: User
    invited: list[Agency]
    involved: list[str]
    first: bool
    ends: datetime.datetime
    plan: CarePlan | None = None
    decisions: list[ForumDecision] = field(default_factory=list)
    closure: str = ""
    monitoring: bool = False
    owners: dict[str, list[str]] = field(default_factory=dict)
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    end_of_life: bool = False


@dataclass
class _PlannedAction:
    action: Action
    created: datetime.datetime
    outcome: Outcome | None = None
    note: str = ""
    on: datetime.date | None = None  # when a forced outcome happened


class _Builder:
    def __init__(self, *, users: Mapping[str, User]) -> None:
        self.users = dict(users)
        self.chair = self.users["chair"]
        self.rng = random.Random(2017)  # noqa: S311 - demo data, not security
        self.agencies = {a.slug: a for a in Agency.objects.all()}
        self.slug_of = {a.pk: a.slug for a in self.agencies.values()}
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.csf = Forum.objects.get(kind=Forum.Kind.CSF)
        self.sog = Forum.objects.get(kind=Forum.Kind.SOG)
        self.activity = {
            (row.case_id, row.agency_id): row.last_activity_at
            for row in CaseVisibility.objects.all()
        }
        self.latest: dict[Any, datetime.datetime] = {}
        self.discussed: dict[Any, list[datetime.datetime]] = defaultdict(list)
        self.planned: list[_PlannedAction] = []
        self.issues: dict[str, SystemIssue] = {}
        self.topics_used = 0
        self.sog_plan: dict[int, list[tuple[str, int]]] = {}
        self.coverage: dict[tuple[Any, int, datetime.date], bool] = {}
        # Each risk's levels over time, and who took it on when: read once.
        self.risk_info = {
            r.pk: (r.case_id, r.category) for r in Risk.objects.only("pk", "case_id", "category")
        }
        self.levels: dict[Any, list[tuple[datetime.datetime, str]]] = defaultdict(list)
        for risk_id, when, level in RiskLevelChange.objects.order_by(
            "changed_at", "pk"
        ).values_list("risk_id", "changed_at", "level"):
            self.levels[risk_id].append((when, level))
        self.owner_rows = list(
            RiskOwner.objects.values_list("risk_id", "agency__slug", "accepted_at")
        )
        self.cases = {c.pk: c for c in Case.objects.select_related("person")}
        self.states: dict[Any, list[tuple[datetime.datetime, str, str]]] = defaultdict(list)
        for case_id, when, state, outcome in Case.history.order_by(
            "history_date", "history_id"
        ).values_list("id", "history_date", "state", "closure_outcome"):
            self.states[case_id].append((when, state, outcome))
        self.involvements: dict[Any, list[CaseAgency]] = defaultdict(list)
        for involvement in CaseAgency.objects.select_related("agency", "named_worker"):
            self.involvements[involvement.case_id].append(involvement)

    # --- helpers ----------------------------------------------------------------------

    def build(self) -> None:
        self._staff()
        csf_past = list(
            Meeting.objects.filter(forum=self.csf, starts_at__lt=self.now).order_by("starts_at")
        )
        sog_past = list(
            Meeting.objects.filter(forum=self.sog, starts_at__lt=self.now).order_by("starts_at")
        )
        first = min([m.starts_at for m in csf_past + sog_past], default=self.now)
        first_day = timezone.localtime(first).date()
        self._memberships(joined=_working(first_day - datetime.timedelta(days=28)))
        pending = [spec for spec in ISSUES if spec.csf_index is not None]
        for index, meeting in enumerate(csf_past):
            following = csf_past[index + 1] if index + 1 < len(csf_past) else None
            self._csf_meeting(index, meeting, following, pending, total=len(csf_past))
        self.sog_plan = plan_issue_stages(
            first={
                spec.key: self._first_sog(spec, sog_past)
                for spec in ISSUES
                if spec.key in self.issues or spec.sog_index is not None
            },
            topics={index: len(topics) for index, topics in SOG_TOPICS.items()},
            meetings=len(sog_past),
        )
        for index, meeting in enumerate(sog_past):
            following = sog_past[index + 1] if index + 1 < len(sog_past) else None
            self._sog_meeting(index, meeting, following, sog_past)
        self._outcomes()
        self._next_csf(csf_past[-1] if csf_past else None)
        self._next_sog(sog_past[-1] if sog_past else None)
        self._restore_activity()

    def _user(self, username: str) -> User:
        return self.users[username]

    def _touch(self, case_id: Any, at: datetime.datetime) -> None:
        self.latest[case_id] = max(at, self.latest.get(case_id, at))

    def _date_notifications(self, since: datetime.datetime, at: datetime.datetime) -> None:
        """The notifications a step sent, dated when it happened; old ones have been read."""
        read = (
            at + datetime.timedelta(hours=4)
            if at < self.now - datetime.timedelta(days=14)
            else None
        )
        Notification.objects.filter(created_at__gte=since).update(created_at=at, read_at=read)

    def _state_at(self, case_id: Any, at: datetime.datetime) -> str | None:
        state = None
        for when, value, _ in self.states.get(case_id, ()):
            if when > at:
                break
            state = value
        return state

    def _opened(self, case_id: Any) -> datetime.datetime | None:
        rows = self.states.get(case_id)
        return rows[0][0] if rows else None

    def _closed_after(self, case_id: Any, at: datetime.datetime) -> datetime.datetime | None:
        """When the case was next closed after ``at``, if it was."""
        if case_id is None:
            return None
        for when, state, _ in self.states.get(case_id, ()):
            if when > at and state == Case.State.CLOSED:
                return when
        return None

    def _involved_at(self, case_id: Any, at: datetime.datetime) -> list[CaseAgency]:
        return [
            ca
            for ca in self.involvements.get(case_id, ())
            if ca.joined_at <= at and (ca.left_at is None or ca.left_at > at)
        ]

    def _involved_now(self, case_id: Any, slug: str) -> bool:
        return any(
            ca.agency.slug == slug and ca.left_at is None
            for ca in self.involvements.get(case_id, ())
        )

    def _covered(self, case: Case, slug: str, day: datetime.date) -> bool:
        """Consent or another basis covers the agency: on ``day``, or now.

        Now as well as then: the portal shows a past meeting's invitations to those
        the consent covers today, and some agreements were recorded after the fact.
        """
        agency = self.agencies.get(slug)
        if agency is None or slug in NEVER_INVITED:
            return False
        return any(self._covered_on(case.person_id, agency.pk, d) for d in {day, self.today})

    def _covered_on(self, person_id: Any, agency_id: int, day: datetime.date) -> bool:
        key = (person_id, agency_id, day)
        if key not in self.coverage:
            until = access.coverage_until(
                person_id=person_id,
                agency_id=agency_id,
                use=access.Use.FORUM_DISCUSSION,
                today=day,
            )
            self.coverage[key] = until is not None
        return self.coverage[key]

    def _practitioner(self, slug: str) -> User | None:
        username = PRACTITIONER_OF.get(slug)
        user = self.users.get(username) if username else None
        if user is None or not user.is_active or user.username in NEVER_INVITED:
            return None
        return user

    # --- people ------------------------------------------------------------------------

    def _staff(self) -> None:
        self.users.update(
            people_create(STAFF, agencies=self.agencies, existing=self.users, password=None)
        )

    def _memberships(self, *, joined: datetime.date) -> None:
        at = _at(joined, 9, 30)
        for forum, members in ((self.csf, CSF_MEMBERS), (self.sog, SOG_MEMBERS)):
            people = [(self.chair, ForumMembership.Role.CHAIR)]
            people += [(self._user(u), ForumMembership.Role.MEMBER) for u in members]
            for user, role in people:
                since = timezone.now()
                membership = services.membership_add(
                    actor=self.chair, forum=forum, user=user, role=role
                )
                backdate(
                    ForumMembership,
                    membership.pk,
                    since=since,
                    at=at,
                    joined_on=joined,
                    created_at=at,
                    updated_at=at,
                )

    # --- a past meeting, from agenda to approved minutes -------------------------------

    def _reopen(self, meeting: Meeting) -> None:
        """Back to before the agenda was built: planned five weeks ahead (demo/cases held it)."""
        day = timezone.localtime(meeting.starts_at).date()
        planned = _at(_working(day - datetime.timedelta(days=35)), 9, 40)
        Meeting.objects.filter(pk=meeting.pk).update(
            state=S.PLANNED, created_at=planned, updated_at=planned
        )
        Meeting.history.filter(id=meeting.pk).update(history_date=planned)
        meeting.refresh_from_db()

    def _add_item(
        self,
        meeting: Meeting,
        at: datetime.datetime,
        *,
        slot: tuple[datetime.time, int],
        **fields: Any,
    ) -> AgendaItem:
        since = timezone.now()
        case = fields.get("case")
        existing = AgendaItem.objects.filter(meeting=meeting, case=case).first() if case else None
        if existing is not None:
            # demo/cases put the case on the agenda for the forum's decisions about it.
            item = services.agenda_item_update(
                actor=self.chair,
                item=existing,
                presenter=fields.get("presenter"),
                starts_at=slot[0],
                minutes_allowed=slot[1],
                invited_agencies=fields.get("invited_agencies", ()),
            )
        else:
            item = services.agenda_item_add(
                actor=self.chair,
                meeting=meeting,
                starts_at=slot[0],
                minutes_allowed=slot[1],
                **fields,
            )
        backdate(AgendaItem, item.pk, since=since, at=at, created_at=at, updated_at=at)
        Invitation.objects.filter(item=item).update(invited_at=at)
        self._date_notifications(since, at)
        return item

    def _publish(self, meeting: Meeting, at: datetime.datetime) -> None:
        since = timezone.now()
        services.agenda_publish(actor=self.chair, meeting=meeting)
        backdate(Meeting, meeting.pk, since=since, at=at, agenda_published_at=at, updated_at=at)
        self._date_notifications(since, at)
        meeting.refresh_from_db()

    def _hold(self, meeting: Meeting) -> None:
        at = (meeting.ends_at or meeting.starts_at) + datetime.timedelta(minutes=5)
        since = timezone.now()
        services.meeting_mark_held(actor=self.chair, meeting=meeting)
        backdate(Meeting, meeting.pk, since=since, at=at, updated_at=at)
        meeting.refresh_from_db()

    def _attend(
        self,
        meeting: Meeting,
        members: Iterable[str],
        *,
        apologies: int,
        busy: set[str],
        per_item: list[tuple[AgendaItem, list[User]]],
    ) -> None:
        since = timezone.now()
        members = list(members)
        free = [u for u in members if u not in busy]
        away = set(self.rng.sample(free, min(apologies, len(free))))
        whole = meeting.starts_at + datetime.timedelta(minutes=2)
        recorded: list[tuple[Any, datetime.datetime]] = []
        for username in ["chair", *members]:
            status = Attendance.Status.APOLOGIES if username in away else Attendance.Status.PRESENT
            row = services.attendance_record(
                actor=self.chair, meeting=meeting, user=self._user(username), status=status
            )
            recorded.append((row.pk, whole))
        present = {self._user(u).pk for u in members if u not in away} | {self.chair.pk}
        for item, people in per_item:
            assert item.starts_at is not None
            day = timezone.localtime(meeting.starts_at).date()
            when = _at(day, item.starts_at.hour, item.starts_at.minute)
            for user in people:
                if user.pk in present:
                    continue
                row = services.attendance_record(
                    actor=self.chair, meeting=meeting, user=user, item=item
                )
                recorded.append((row.pk, when))
        for pk, when in recorded:
            Attendance.objects.filter(pk=pk).update(recorded_at=when)
            Attendance.history.filter(id=pk, history_date__gte=since).update(history_date=when)

    def _write_minutes(self, item: AgendaItem, text: str, at: datetime.datetime) -> None:
        since = timezone.now()
        services.item_minutes_save(
            actor=self.chair, item=item, minutes=text, expected_version=item.minutes_version
        )
        backdate(AgendaItem, item.pk, since=since, at=at, updated_at=at)
        if item.case_id:
            self._touch(item.case_id, at)

    def _add_action(
        self,
        meeting: Meeting,
        item: AgendaItem,
        *,
        owner: User,
        description: str,
        due: datetime.date,
        at: datetime.datetime,
        outcome: Outcome | None = None,
        note: str = "",
    ) -> Action:
        since = timezone.now()
        assert owner.agency is not None
        action = services.action_add(
            actor=self.chair,
            meeting=meeting,
            item=item,
            description=description,
            owner_agency=owner.agency,
            owner=owner,
            due_on=due,
        )
        backdate(Action, action.pk, since=since, at=at, created_at=at, updated_at=at)
        self._date_notifications(since, at)
        action.refresh_from_db()
        self.planned.append(_PlannedAction(action, at, outcome, note))
        if item.case_id:
            self._touch(item.case_id, at)
        return action

    def _approve(self, meeting: Meeting, at: datetime.datetime) -> None:
        since = timezone.now()
        services.minutes_approve(actor=self.chair, meeting=meeting)
        backdate(Meeting, meeting.pk, since=since, at=at, minutes_approved_at=at, updated_at=at)
        meeting.refresh_from_db()

    # --- the CSF -------------------------------------------------------------------

    def _csf_meeting(
        self,
        index: int,
        meeting: Meeting,
        following: Meeting | None,
        pending: list[IssueSpec],
        *,
        total: int,
    ) -> None:
        starts = meeting.starts_at
        day = timezone.localtime(starts).date()
        plans = self._agenda_for(meeting)
        # Before there are cases enough, the forum sets itself up.
        wanted_topics = max(0, 3 - len(plans))
        topics = list(INAUGURAL_TOPICS[self.topics_used : self.topics_used + wanted_topics])
        self.topics_used += len(topics)
        topics += [STANDING_TOPIC] * (wanted_topics - len(topics))
        self._reopen(meeting)
        built = _at(_working(day - datetime.timedelta(days=9)), 15, 20)
        slots = _slots(len(plans) + len(topics), start=datetime.time(10, 0), csf=True)
        items: list[tuple[AgendaItem, _CaseItem | None, str]] = []
        for n, topic in enumerate(topics):
            title, presenter, text = topic
            item = self._add_item(
                meeting,
                built + datetime.timedelta(minutes=n * 3),
                slot=slots[n],
                topic=title,
                presenter=self._user(presenter),
            )
            items.append((item, None, text))
        for n, case_item in enumerate(plans, start=len(topics)):
            item = self._add_item(
                meeting,
                built + datetime.timedelta(minutes=n * 3),
                slot=slots[n],
                case=case_item.case,
                presenter=case_item.presenter,
                invited_agencies=case_item.invited,
            )
            items.append((item, case_item, ""))
        # Topics first, then the cases, whichever was put on the agenda first.
        for number, (item, _, _) in enumerate(items, start=1):
            if item.order != number:
                AgendaItem.objects.filter(pk=item.pk).update(order=number)
                AgendaItem.history.filter(id=item.pk).update(order=number)
                item.order = number
        self._publish(meeting, _at(_working(day - datetime.timedelta(days=7)), 16, 5))
        self._hold(meeting)

        # Who came: members (a couple send apologies), and each invited service for its item.
        presenting = {p.presenter.username for p in plans}
        per_item: list[tuple[AgendaItem, list[User]]] = []
        for item, plan, _ in items:
            if plan is None:
                continue
            people = [plan.presenter]
            for agency in plan.invited:
                user = self._practitioner(agency.slug)
                if user is not None and user not in people and self.rng.random() < 0.85:
                    people.append(user)
            per_item.append((item, people))
        self._attend(
            meeting,
            CSF_MEMBERS,
            apologies=self.rng.choice((1, 2, 2)),
            busy=presenting,
            per_item=per_item,
        )

        typed = _at(working_day_after(day), 11, 0)
        for n, (item, plan, text) in enumerate(items):
            at = typed + datetime.timedelta(minutes=6 * n)
            self._write_minutes(item, text or self._minutes(plan), at)
            if plan is None:
                continue
            self.discussed[plan.case.pk].append(starts)
            self._decisions(meeting, item, plan)
            self._case_actions(meeting, item, plan, at)

        for spec in list(pending):
            wanted = spec.csf_index if spec.csf_index is not None else 0
            if wanted < 0:
                wanted += total
            if index < wanted:
                continue
            chosen = self._issue_item(spec, items, desperate=index >= wanted + 2)
            if chosen is None:
                continue
            pending.remove(spec)
            self._raise_from_item(spec, chosen, typed + datetime.timedelta(minutes=45))

        if following is not None:
            self._approve(meeting, following.starts_at + datetime.timedelta(minutes=10))

    def _agenda_for(self, meeting: Meeting) -> list[_CaseItem]:
        """The cases the forum discussed: those worked on at the meeting, then others due."""
        starts = meeting.starts_at
        end = starts + datetime.timedelta(hours=2)
        eligible = [
            case_id
            for case_id in self.cases
            if self._state_at(case_id, starts - datetime.timedelta(seconds=1))
            not in (None, Case.State.CLOSED)
            and (opened := self._opened(case_id)) is not None
            and opened <= starts - datetime.timedelta(days=3)
        ]
        decisions: dict[Any, list[ForumDecision]] = defaultdict(list)
        for decision in ForumDecision.objects.filter(meeting=meeting, case__isnull=False):
            decisions[decision.case_id].append(decision)
        plans = {p.case_id: p for p in CarePlan.objects.filter(agreed_meeting=meeting)}
        closures: dict[Any, str] = {}
        monitoring: set[Any] = set()
        for case_id in eligible:
            for when, state, outcome in self.states.get(case_id, ()):
                if starts <= when <= end and state == Case.State.CLOSED:
                    closures[case_id] = outcome
                elif starts <= when <= end and state == Case.State.MONITORING:
                    monitoring.add(case_id)
        owners: dict[Any, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for risk_id, slug, accepted in self.owner_rows:
            if starts <= accepted <= end:
                case_id, category = self.risk_info[risk_id]
                owners[case_id][category].append(slug)
        changes: dict[Any, list[tuple[str, str, str]]] = defaultdict(list)
        for risk_id, series in self.levels.items():
            for (_, before), (when, level) in pairwise(series):
                if starts <= when <= end and before != level:
                    case_id, category = self.risk_info[risk_id]
                    changes[case_id].append((category, before, level))

        new = [c for c in eligible if not self.discussed.get(c)]
        # Cases demo/cases put on the agenda for the forum's decisions about them stay on it.
        on_agenda = list(
            AgendaItem.objects.filter(meeting=meeting, case__isnull=False)
            .order_by("order")
            .values_list("case_id", flat=True)
        )
        forced = _unique([*on_agenda, *decisions, *closures, *plans, *new, *monitoring])
        forced = [c for c in forced if c in eligible or c in on_agenda][: max(6, len(on_agenda))]
        preferred = [c for c in _unique([*owners, *changes]) if c in eligible and c not in forced]
        self.rng.shuffle(preferred)

        def last_seen(case_id: Any) -> datetime.datetime:
            seen = self.discussed.get(case_id)
            return seen[-1] if seen else datetime.datetime.min.replace(tzinfo=datetime.UTC)

        others = sorted(
            (c for c in eligible if c not in forced and c not in preferred),
            key=lambda c: (last_seen(c), self._opened(c)),
        )
        target = max(len(forced), self.rng.choice((4, 5, 5, 6)))
        chosen = (forced + preferred + others)[: min(target, max(6, len(on_agenda)))]

        plans_out = []
        for case_id in chosen:
            item = self._case_item(case_id, meeting)
            item.plan = plans.get(case_id)
            item.decisions = decisions.get(case_id, [])
            item.closure = closures.get(case_id, "")
            item.monitoring = case_id in monitoring
            item.owners = dict(owners.get(case_id, {}))
            item.changes = changes.get(case_id, [])
            if item.plan is not None:
                item.end_of_life = item.plan.items.filter(what__startswith="End of life").exists()
            plans_out.append(item)
        # New cases first, then reviews; closures at the end.
        plans_out.sort(key=lambda p: (not p.first, bool(p.closure)))
        return plans_out

    def _case_item(
        self, case_id: Any, meeting: Meeting, *, day: datetime.date | None = None
    ) -> _CaseItem:
        """Who presents and who is invited, as things stood (consent as on ``day``)."""
        starts = meeting.starts_at
        day = day or timezone.localtime(starts).date()
        case = Case.objects.select_related("person").get(pk=case_id)
        # The case as it stood when the agenda was built.
        case.state = self._state_at(case_id, starts - datetime.timedelta(seconds=1)) or case.state
        involved = [
            ca for ca in self._involved_at(case_id, starts) if ca.agency.slug not in NEVER_INVITED
        ]
        slugs = [ca.agency.slug for ca in involved]
        covered = {s for s in slugs if self._covered(case, s, day)}
        members = {self._user(u).pk for u in CSF_MEMBERS}
        first = not self.discussed.get(case_id)

        # The presenter: the referrer on a first discussion, else a worker of an involved service.
        presenter: User | None = None
        referral = (
            Referral.objects.filter(
                case_id=case_id, state=Referral.State.ACCEPTED, decided_at__lte=starts
            )
            .select_related("referrer", "referring_agency")
            .order_by("-decided_at")
            .first()
        )
        if (
            first
            and referral is not None
            and referral.referrer.is_active
            and referral.referring_agency.slug in covered
            and referral.referrer.agency_id == referral.referring_agency_id
        ):
            presenter = referral.referrer
        if presenter is None:
            options = [
                u
                for s in slugs
                if s in covered and s != "adult-safeguarding"
                for u in [self._practitioner(s)]
                if u is not None
            ]
            presenter = self.rng.choice(options) if options else self.chair

        # Invited: involved services whose worker is not a standing member, and now and
        # then a service asked along for advice; only where consent or a basis covers them.
        candidates = [
            s
            for s in slugs
            if s in covered
            and s != "adult-safeguarding"
            and (u := self._practitioner(s)) is not None
            and u.pk not in members
        ]
        self.rng.shuffle(candidates)
        invited = candidates[: self.rng.randint(1, 3)]
        if presenter.agency is not None and presenter.pk not in members:
            slug = presenter.agency.slug
            if slug not in invited and slug != "adult-safeguarding":
                invited.append(slug)
        if self.rng.random() < 0.2:
            for category in Risk.objects.filter(case_id=case_id).values_list("category", flat=True):
                advice = ADVICE_FROM.get(category)
                if (
                    advice
                    and advice not in slugs
                    and advice not in invited
                    and self._covered(case, advice, day)
                    and self._practitioner(advice) is not None
                ):
                    invited.append(advice)
                    break
        # A presenter whose service has since left is there by invitation.
        agency = presenter.agency
        if (
            agency is not None
            and not self._involved_now(case_id, agency.slug)
            and agency.slug not in invited
        ):
            invited.append(agency.slug)
        return _CaseItem(
            case=case,
            presenter=presenter,
            invited=[self.agencies[s] for s in invited],
            involved=slugs,
            first=first,
            ends=starts + datetime.timedelta(hours=2),
        )

    def _minutes(self, plan: _CaseItem | None) -> str:
        """A few sentences on the item, naming services but no one: the item says who."""
        assert plan is not None
        rng = self.rng
        case = plan.case
        person = case.person
        others = [s for s in plan.involved if s != "adult-safeguarding"] or ["adult-safeguarding"]
        presenter_slug = self.slug_of.get(plan.presenter.agency_id or 0, "adult-safeguarding")
        a = SHORT.get(presenter_slug, "adult safeguarding")
        b = SHORT.get(rng.choice([s for s in others if s != presenter_slug] or others), a)
        words = _words(person, a=a, b=b)
        parts: list[str] = []
        risks = list(
            Risk.objects.filter(case=case, created_at__lte=plan.ends).values_list(
                "category", "level"
            )
        )
        ending = plan.closure in (CO.DIED, CO.LOST_TO_FOLLOW_UP)
        if plan.first:
            referral = (
                Referral.objects.filter(case=case, state=Referral.State.ACCEPTED)
                .order_by("decided_at")
                .select_related("referring_agency")
                .prefetch_related("reasons")
                .first()
            )
            source = referral.referring_agency.slug if referral else presenter_slug
            known = _join([SHORT.get(s, s) for s in others])
            services_ = "service" if len(others) == 1 else "services"
            whose = (
                "their referral"
                if source == presenter_slug
                else f"the referral from {SHORT.get(source, source)}"
            )
            parts.append(
                f"First discussion. {_cap(a)} presented {whose}. "
                f"{words['They']} {words['is']} known to {len(others)} {services_} here: "
                f"{known}."
            )
            reasons = [_lower_first(r.label) for r in referral.reasons.all()] if referral else []
            if reasons:
                parts.append(f"Reasons for referral: {'; '.join(reasons[:3])}.")
            if risks:
                listed = ", ".join(
                    f"{_lower_first(RC(c).label)} ({RiskLevel(level).label.lower()})"
                    for c, level in risks[:3]
                )
                parts.append(f"Main risks: {listed}.")
        else:
            parts.append(f"Review, presented by {a}.")
            reduced = any(
                _LEVELS.index(RiskLevel(after)) < _LEVELS.index(RiskLevel(before))
                for _, before, after in plan.changes
            )
            stuck = not reduced and (case.state == Case.State.AWAITING_FORUM or rng.random() < 0.2)
            if not ending:
                pool = STUCK_LINES if stuck else PROGRESS_LINES
                parts.append(rng.choice(pool).format(**words))
                lines = [RISK_LINES[c] for c, _ in risks if c in RISK_LINES]
                if lines and not stuck:
                    parts.append(rng.choice(lines).format(**words))
        for category, slugs in plan.owners.items():
            names = _join([SHORT.get(s, s) for s in _unique(slugs)])
            parts.append(f"{_cap(names)} agreed to share ownership of {_risk(category)}.")
        for category, before, after in plan.changes:
            lower = _LEVELS.index(RiskLevel(after)) < _LEVELS.index(RiskLevel(before))
            parts.append(
                f"{_cap(_risk(category))} was {'reduced' if lower else 'raised'} from "
                f"{RiskLevel(before).label.lower()} to {RiskLevel(after).label.lower()}"
                + (
                    ", as the plan is working."
                    if lower
                    else "; every owning agency to increase contact until the next forum."
                )
            )
        if plan.plan is not None:
            # The plan's own words, where they fit the person.
            wrong = _OTHER_PRONOUNS.get(person.gender)
            items = [
                i
                for i in CarePlanItem.objects.filter(plan=plan.plan)
                .select_related("agency")
                .order_by("pk")
                if wrong is None or not wrong.search(i.what)
            ][:3]
            what = "; ".join(f"{i.what} ({SHORT.get(i.agency.slug, i.agency.name)})" for i in items)
            parts.append(
                f"Care plan version {plan.plan.version} agreed"
                + (f", including: {what}." if what else ".")
                + " Every agency on the plan confirmed it can deliver its part by the dates given."
            )
        parts.extend(f"Decision: {decision.summary}" for decision in plan.decisions)
        if plan.monitoring:
            parts.append(MONITORING_LINE)
        if plan.closure:
            parts.append(
                CLOSURE_LINES.get(plan.closure, "The forum agreed to close the case.").format(
                    **words
                )
            )
        elif not plan.decisions:
            closing = rng.choice(CLOSING_LINES).format(**words)
            if closing:
                parts.append(closing)
        return " ".join(parts)

    def _decisions(self, meeting: Meeting, item: AgendaItem, plan: _CaseItem) -> None:
        # Decisions demo/cases recorded at the meeting belong to this item.
        for decision in plan.decisions:
            ForumDecision.objects.filter(pk=decision.pk).update(item=item)
            ForumDecision.history.filter(id=decision.pk).update(item_id=item.pk)
        summary = ""
        offset = 0
        if plan.closure:
            summary = CLOSURE_DECISIONS.get(plan.closure, "Case closed at the forum.")
            offset = 55
        elif plan.monitoring:
            summary = (
                "Case moves to monitoring: stable with no risk above medium. Review in three "
                "months; any agency can bring it back sooner."
            )
            offset = 58
        if summary:
            at = meeting.starts_at + datetime.timedelta(minutes=offset)
            since = timezone.now()
            decision = services.item_decision_record(
                actor=self.chair, item=item, kind=ForumDecision.Kind.OTHER, summary=summary
            )
            backdate(
                ForumDecision,
                decision.pk,
                since=since,
                at=at,
                decided_at=at,
                created_at=at,
                updated_at=at,
            )

    def _case_actions(
        self, meeting: Meeting, item: AgendaItem, plan: _CaseItem, at: datetime.datetime
    ) -> None:
        rng = self.rng
        day = timezone.localtime(meeting.starts_at).date()
        if plan.closure:
            return
        owners: list[tuple[User, str, float]] = []
        for slug in plan.involved:
            user = self._practitioner(slug)
            if user is None or slug not in ACTION_TEXTS:
                continue
            if not self._covered(plan.case, slug, day):
                continue
            weight = 3.0 if user.username in FOCUS_OWNERS else 1.0
            if slug == "adult-safeguarding":
                weight = 0.4
            owners.append((user, slug, weight))
        if not owners:
            owners = [(self.chair, "adult-safeguarding", 1.0)]
        # Only an agency involved in the case or invited to the item may own its actions.
        owners = [o for o in owners if access.can_own_action(o[0], item)]
        if not owners:
            return
        count = rng.choice((1, 2, 2, 3))
        used: set[str] = set()
        for n in range(count):
            user, slug, _ = rng.choices(owners, weights=[w for *_, w in owners])[0]
            texts = [t for t in ACTION_TEXTS[slug] if t not in used]
            if not texts:
                continue
            text = rng.choice(texts)
            used.add(text)
            due = _working_forward(day + datetime.timedelta(days=rng.randint(14, 42)))
            self._add_action(
                meeting,
                item,
                owner=user,
                description=text,
                due=due,
                at=at + datetime.timedelta(minutes=1 + n),
            )

    # --- system issues -------------------------------------------------------------

    def _issue_item(
        self,
        spec: IssueSpec,
        items: list[tuple[AgendaItem, _CaseItem | None, str]],
        *,
        desperate: bool,
    ) -> AgendaItem | None:
        cases = [(item, plan) for item, plan, _ in items if plan is not None]
        for item, plan in cases:
            if "end-of-life" in spec.wants:
                if plan.end_of_life:
                    return item
                continue
            if all(w in plan.involved for w in spec.wants):
                return item
        if (desperate or not spec.wants) and cases:
            return cases[-1][0]
        return None

    def _raise_from_item(self, spec: IssueSpec, item: AgendaItem, at: datetime.datetime) -> None:
        since = timezone.now()
        issue = services.system_issue_raise(
            actor=self.chair,
            title=spec.title,
            description=spec.description,
            theme=spec.theme,
            item=item,
        )
        backdate(SystemIssue, issue.pk, since=since, at=at, created_at=at, updated_at=at)
        issue.refresh_from_db()
        self.issues[spec.key] = issue

    def _raise_directly(self, spec: IssueSpec, at: datetime.datetime) -> None:
        since = timezone.now()
        issue = services.system_issue_raise(
            actor=self._user(spec.raised_by),
            title=spec.title,
            description=spec.description,
            theme=spec.theme,
        )
        backdate(SystemIssue, issue.pk, since=since, at=at, created_at=at, updated_at=at)
        issue.refresh_from_db()
        self.issues[spec.key] = issue

    def _issue_update(
        self, issue: SystemIssue, status: str, recommendation: str, at: datetime.datetime
    ) -> None:
        issue.refresh_from_db()
        since = timezone.now()
        services.system_issue_update(
            actor=self.chair,
            issue=issue,
            status=status,
            recommendation=recommendation or issue.recommendation,
            expected_version=issue.version,
        )
        backdate(SystemIssue, issue.pk, since=since, at=at, updated_at=at)
        self._date_notifications(since, at)

    # --- the SOG ----------------------------------------------------------------------

    def _sog_meeting(
        self,
        index: int,
        meeting: Meeting,
        following: Meeting | None,
        meetings: list[Meeting],
    ) -> None:
        starts = meeting.starts_at
        day = timezone.localtime(starts).date()
        # Issues raised directly by a member come in the week before.
        for spec in ISSUES:
            if spec.sog_index == index and spec.key not in self.issues:
                raised = _at(_working(day - datetime.timedelta(days=6)), 11, 20)
                self._raise_directly(spec, raised)
        stages = [
            (spec, spec.stages[number])
            for spec in ISSUES
            for key, number in self.sog_plan.get(index, ())
            if key == spec.key
        ]
        topics = list(SOG_TOPICS.get(index, ()))
        if len(stages) + len(topics) < 3 and index >= 2:
            topics.append(ACTION_LOG)
        self._reopen(meeting)
        built = _at(_working(day - datetime.timedelta(days=9)), 14, 30)
        slots = _slots(len(stages) + len(topics), start=datetime.time(14, 0), csf=False)
        entries: list[tuple[AgendaItem, str, tuple[SogAction, ...], IssueSpec | None, Stage | None]]
        entries = []
        n = 0
        for issue_spec, issue_stage in stages:
            item = self._add_item(
                meeting,
                built + datetime.timedelta(minutes=n * 3),
                slot=slots[n],
                system_issue=self.issues[issue_spec.key],
                presenter=self._user(issue_stage.presenter),
            )
            entries.append(
                (item, issue_stage.minutes, issue_stage.actions, issue_spec, issue_stage)
            )
            n += 1
        for topic in topics:
            item = self._add_item(
                meeting,
                built + datetime.timedelta(minutes=n * 3),
                slot=slots[n],
                topic=topic.title,
                presenter=self._user(topic.presenter),
            )
            entries.append((item, topic.minutes, topic.actions, None, None))
            n += 1
        self._publish(meeting, _at(_working(day - datetime.timedelta(days=7)), 15, 40))
        self._hold(meeting)
        presenting = {st.presenter for _, st in stages} | {t.presenter for t in topics}
        self._attend(
            meeting,
            SOG_MEMBERS,
            apologies=self.rng.choice((2, 3, 3, 4)),
            busy=presenting,
            per_item=[],
        )
        typed = _at(working_day_after(day), 10, 30)
        for k, (item, text, actions, about, step) in enumerate(entries):
            at = typed + datetime.timedelta(minutes=7 * k)
            self._write_minutes(item, text, at)
            for j, spec_action in enumerate(actions):
                owner = self._user(spec_action.owner)
                self._add_action(
                    meeting,
                    item,
                    owner=owner,
                    description=spec_action.description,
                    due=_working_forward(day + datetime.timedelta(days=spec_action.due_days)),
                    at=at + datetime.timedelta(minutes=1 + j),
                    outcome=spec_action.outcome,
                    note=spec_action.note,
                )
            if about is not None and step is not None and step.status:
                self._issue_update(
                    self.issues[about.key],
                    step.status,
                    step.recommendation,
                    starts + datetime.timedelta(minutes=30 * (k + 1)),
                )
        if following is not None:
            self._approve(meeting, following.starts_at + datetime.timedelta(minutes=10))

    def _first_sog(self, spec: IssueSpec, meetings: list[Meeting]) -> int | None:
        """The first SOG meeting that could discuss the issue: the next after it was raised."""
        if spec.sog_index is not None:
            return spec.sog_index
        raised = self.issues[spec.key].created_at
        return next((n for n, m in enumerate(meetings) if m.starts_at > raised), None)

    # --- how the actions went -----------------------------------------------------------

    def _outcomes(self) -> None:
        rng = self.rng
        for planned in self.planned:
            if planned.outcome is not None:
                continue
            age = (self.today - planned.action.due_on).days
            if age < 0:
                planned.outcome = rng.choices(("done", "progress", "open"), (15, 45, 40))[0]
            elif age <= 75:
                planned.outcome = rng.choices(
                    ("done", "late", "progress", "open", "drop"), (35, 15, 22, 20, 8)
                )[0]
            else:
                planned.outcome = rng.choices(("done", "late", "drop"), (68, 22, 10))[0]
        # Open actions on a case the forum has since closed were dropped with it.
        for planned in self.planned:
            closed = self._closed_after(planned.action.case_id, planned.created)
            if closed is not None and planned.outcome in ("progress", "open"):
                planned.outcome = "drop"
                planned.note = "Dropped when the forum closed the case."
                planned.on = max(
                    timezone.localtime(closed).date(),
                    timezone.localtime(planned.created).date() + datetime.timedelta(days=1),
                )
        # Everyone whose "My work" the demo shows has something open, and something overdue.
        for username in FOCUS_OWNERS:
            mine = [
                p
                for p in self.planned
                if p.action.owner_id == self._user(username).pk
                and self._closed_after(p.action.case_id, p.created) is None
            ]
            overdue = [
                p
                for p in mine
                if p.action.due_on < self.today and p.outcome in ("progress", "open")
            ]
            if not overdue:
                due = [p for p in mine if p.action.due_on < self.today - datetime.timedelta(days=3)]
                if due:
                    max(due, key=lambda p: p.action.due_on).outcome = "progress"
            if not any(p.outcome in ("progress", "open") for p in mine) and mine:
                max(mine, key=lambda p: p.action.due_on).outcome = "open"
        updates: list[tuple[datetime.datetime, int, _PlannedAction, str, str, datetime.date]] = []
        for n, planned in enumerate(self.planned):
            for when, status, note in self._steps(planned):
                at = _at(when, 9 + n % 8, (n * 13) % 60)
                at = min(at, self.now - datetime.timedelta(hours=2))
                updates.append((at, n, planned, status, note, when))
        for at, _, planned, status, note, when in sorted(updates, key=lambda u: (u[0], u[1])):
            action = Action.objects.get(pk=planned.action.pk)
            since = timezone.now()
            services.action_update(
                actor=action.owner,
                action=action,
                status=status,
                note=note,
                expected_version=action.version,
            )
            fields: dict[str, Any] = {"last_updated_at": at, "updated_at": at}
            if status == AS.DONE:
                fields["completed_on"] = when
            backdate(Action, action.pk, since=since, at=at, **fields)

    def _steps(self, planned: _PlannedAction) -> list[tuple[datetime.date, str, str]]:
        """The updates an owner made, oldest first: (day, status, note)."""
        rng = self.rng
        created = timezone.localtime(planned.created).date()
        due = planned.action.due_on
        last = self.today - datetime.timedelta(days=1)
        outcome = planned.outcome
        note = planned.note
        notes = SOG_NOTES if planned.action.forum_id == self.sog.pk else CSF_NOTES

        def between(start: datetime.date, end: datetime.date) -> datetime.date | None:
            if end < start:
                return None
            return start + datetime.timedelta(days=rng.randint(0, (end - start).days))

        if outcome == "late":
            finished = between(
                due + datetime.timedelta(days=3), min(due + datetime.timedelta(days=24), last)
            )
            if finished is None:
                outcome, note = "progress", ""  # not yet due: still under way
            else:
                steps: list[tuple[datetime.date, str, str]] = []
                started = between(
                    created + datetime.timedelta(days=2),
                    min(due, finished) - datetime.timedelta(days=1),
                )
                if started is not None:
                    steps.append((started, AS.IN_PROGRESS, rng.choice(notes["progress"])))
                steps.append((finished, AS.DONE, note or rng.choice(notes["late"])))
                return steps
        if outcome == "done":
            finished = between(created + datetime.timedelta(days=2), min(due, last))
            if finished is None:
                return []
            return [(finished, AS.DONE, note or rng.choice(notes["done"]))]
        if outcome == "progress":
            when = between(
                created + datetime.timedelta(days=3), min(due - datetime.timedelta(days=1), last)
            )
            when = when or between(created + datetime.timedelta(days=1), last)
            if when is None:
                return []
            return [(when, AS.IN_PROGRESS, note or rng.choice(notes["progress"]))]
        if outcome == "drop" and planned.on is not None and planned.on <= last:
            return [(planned.on, AS.DROPPED, note)]
        if outcome == "drop":
            when = between(created + datetime.timedelta(days=5), last)
            if when is None:
                return []
            return [(when, AS.DROPPED, note or rng.choice(notes["drop"]))]
        # Open: an overdue one usually has a word from its owner; some are silent.
        if due < self.today - datetime.timedelta(days=7) and (note or rng.random() < 0.7):
            when = between(due + datetime.timedelta(days=2), last)
            if when is not None:
                return [(when, AS.OPEN, note or rng.choice(notes["open"]))]
        return []

    # --- what lies ahead ----------------------------------------------------------------

    def _next_csf(self, last: Meeting | None) -> None:
        """The next forum's agenda is published; the five after it are in the diary."""
        calendar = demo_diary(self.now)
        starts = calendar.csf_next
        candidate = timezone.localtime(starts).date()
        # Published a week ahead, or on the last working day if that is still to come.
        published = min(
            max(
                min(
                    _at(_working(candidate - datetime.timedelta(days=7)), 16, 5),
                    _at(_working(self.today - datetime.timedelta(days=1)), 16, 5),
                ),
                (last.starts_at if last else self.now - datetime.timedelta(days=30))
                + datetime.timedelta(days=2),
            ),
            self.now - datetime.timedelta(hours=1),
        )
        planned_at = min(
            published - datetime.timedelta(days=2),
            _at(_working(candidate - datetime.timedelta(days=35)), 9, 40),
        )
        since = timezone.now()
        meeting = services.meeting_plan(
            actor=self.chair, forum=self.csf, starts_at=starts, location=CSF_LOCATION
        )
        backdate(
            Meeting,
            meeting.pk,
            since=since,
            at=planned_at,
            created_at=planned_at,
            updated_at=planned_at,
        )
        plans = self._next_cases(meeting)
        slots = _slots(len(plans), start=datetime.time(10, 0), csf=True)
        built = published - datetime.timedelta(hours=1)
        for n, plan in enumerate(plans):
            self._add_item(
                meeting,
                built + datetime.timedelta(minutes=3 * n),
                slot=slots[n],
                case=plan.case,
                presenter=plan.presenter,
                invited_agencies=plan.invited,
            )
            self._touch(plan.case.pk, built)
        self._publish(meeting, published)  # its notifications are recent, so unread
        following = calendar.csf_later[0]
        since = timezone.now()
        diary = services.meetings_schedule_monthly(
            actor=self.chair,
            forum=self.csf,
            first_starts_at=following,
            location=CSF_LOCATION,
            count=5,
        )
        for later in diary:
            backdate(
                Meeting,
                later.pk,
                since=since,
                at=planned_at,
                created_at=planned_at,
                updated_at=planned_at,
            )

    def _next_cases(self, meeting: Meeting) -> list[_CaseItem]:
        """Four cases: those awaiting the forum first, then those longest undiscussed.

        Standing members see them from publication, so each is one whose consent covers
        the mental health and housing members.
        """
        starts = meeting.starts_at
        mh, housing = self.agencies["mental-health"], self.agencies["housing"]

        def shown(case: Case) -> bool:
            return all(
                access.coverage_until(
                    person_id=case.person_id, agency_id=a.pk, use=access.Use.FORUM_DISCUSSION
                )
                is not None
                for a in (mh, housing)
            )

        open_cases = [
            c
            for c in Case.objects.exclude(state=Case.State.CLOSED).select_related("person")
            if shown(c)
        ]
        awaiting = sorted(
            (c for c in open_cases if c.state == Case.State.AWAITING_FORUM),
            key=lambda c: c.opened_at or c.created_at,
        )
        review_after: dict[str, datetime.timedelta] = {
            Case.State.ACTIVE: datetime.timedelta(days=56),
            Case.State.MONITORING: datetime.timedelta(days=91),
        }

        def last(case: Case) -> datetime.datetime:
            seen = self.discussed.get(case.pk)
            return seen[-1] if seen else datetime.datetime.min.replace(tzinfo=datetime.UTC)

        due = sorted(
            (
                c
                for c in open_cases
                if c.state in review_after and last(c) <= starts - review_after[c.state]
            ),
            key=last,
        )
        chosen = _unique([*awaiting[:3], *due, *awaiting[3:]])[:4]
        items = []
        for case in chosen:
            item = self._case_item(case.pk, meeting, day=self.today)
            # Next month's discussion: only services that can see the case now are invited.
            item.invited = [a for a in item.invited if self._covered(item.case, a.slug, self.today)]
            items.append(item)
        return items

    def _next_sog(self, last: Meeting | None) -> None:
        """The next SOG meeting is planned; its agenda is in draft."""
        starts = demo_diary(self.now).sog_next
        candidate = timezone.localtime(starts).date()
        if Meeting.objects.filter(forum=self.sog, starts_at__date=candidate).exists():
            return
        built = min(
            (last.starts_at if last else self.now) + datetime.timedelta(days=8),
            self.now - datetime.timedelta(hours=3),
        )
        since = timezone.now()
        meeting = services.meeting_plan(
            actor=self.chair, forum=self.sog, starts_at=starts, location=SOG_LOCATION
        )
        backdate(Meeting, meeting.pk, since=since, at=built, created_at=built, updated_at=built)
        wanted = [
            issue
            for issue in (
                self.issues.get(k)
                for k in ("declines-everything", "missed-appointments", "discharge")
            )
            if issue is not None
        ]
        slots = _slots(len(wanted) + 1, start=datetime.time(14, 0), csf=False)
        presenters = {"discharge": "sue.lanyon", "missed-appointments": "sog"}
        for n, issue in enumerate(wanted):
            key = next(k for k, v in self.issues.items() if v.pk == issue.pk)
            self._add_item(
                meeting,
                built + datetime.timedelta(minutes=5 * n),
                slot=slots[n],
                system_issue=issue,
                presenter=self._user(presenters.get(key, "chair")),
            )
        self._add_item(
            meeting,
            built + datetime.timedelta(minutes=5 * len(wanted)),
            slot=slots[len(wanted)],
            topic=NEXT_SOG_TOPIC.title,
            presenter=self._user(NEXT_SOG_TOPIC.presenter),
        )

    # --- lists ------------------------------------------------------------------------

    def _restore_activity(self) -> None:
        """Each case list orders by when something really happened, not by when this ran."""
        for row in CaseVisibility.objects.all():
            before = self.activity.get((row.case_id, row.agency_id))
            latest = self.latest.get(row.case_id)
            candidates = [d for d in (before, latest) if d is not None]
            if not candidates:
                continue
            when = max(candidates)
            if row.last_activity_at != when:
                CaseVisibility.objects.filter(pk=row.pk).update(last_activity_at=when)


_LEVELS = list(RiskLevel)  # lowest first, as the model orders them
SOG_MOST_ITEMS = 5


def plan_issue_stages(
    *,
    first: Mapping[str, int | None],
    topics: Mapping[int, int],
    meetings: int,
    most: int = SOG_MOST_ITEMS,
) -> dict[int, list[tuple[str, int]]]:
    """Which SOG meeting takes which stage of which issue: ``{meeting: [(key, stage)]}``.

    An issue's stages come ``Stage.after`` meetings after the first meeting that could
    take it (``first``), in order, one a meeting. A meeting takes at most ``most``
    items, its own topics first; a stage that does not fit waits for the next
    meeting, and the issue's later stages keep their distance behind it. Stages
    that would fall after the last of ``meetings`` are not taken.
    """
    specs = {spec.key: spec for spec in ISSUES}
    order = [spec.key for spec in ISSUES if spec.stages and first.get(spec.key) is not None]
    position = dict.fromkeys(order, 0)
    earliest = {key: (first[key] or 0) + specs[key].stages[0].after for key in order}
    plan: dict[int, list[tuple[str, int]]] = {}
    for meeting in range(meetings):
        room = max(0, most - topics.get(meeting, 0))
        due = sorted(
            (
                key
                for key in order
                if position[key] < len(specs[key].stages) and earliest[key] <= meeting
            ),
            key=lambda key: (earliest[key], order.index(key)),
        )
        for key in due[:room]:
            number = position[key]
            plan.setdefault(meeting, []).append((key, number))
            position[key] = number + 1
            if number + 1 < len(specs[key].stages):
                gap = specs[key].stages[number + 1].after - specs[key].stages[number].after
                earliest[key] = meeting + gap
    return plan


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """Lower-case a label's first letter mid-sentence, unless it starts a name (Care Act)."""
    words = text.split(maxsplit=2)
    if len(words) > 1 and words[1][:1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _risk(category: str) -> str:
    """'the risk of self-neglect'; 'the risk to staff'."""
    label = _lower_first(RC(category).label)
    return f"the {label}" if label.startswith("risk ") else f"the risk of {label}"


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _working_forward(day: datetime.date) -> datetime.date:
    """``day`` if it is a working day, else the next one."""
    return working_day_after(day - datetime.timedelta(days=1))


def _slots(count: int, *, start: datetime.time, csf: bool) -> list[tuple[datetime.time, int]]:
    """Start times and minutes allowed: a two-hour meeting shared between its items."""
    if csf:
        length, gap = {6: (20, 0), 5: (20, 5), 4: (25, 5)}.get(count, (30, 5))
    else:
        length, gap = (30, 0) if count <= 4 else (25, 0)
    moment = datetime.datetime.combine(datetime.date(2000, 1, 1), start)
    slots = []
    for _ in range(count):
        slots.append((moment.time(), length))
        moment += datetime.timedelta(minutes=length + gap)
    return slots


@transaction.atomic
@unattributed("demo data: a fictional city no one made")
def build_demo_forums(*, users: dict[str, User]) -> None:
    """Write the forums' year, once.

    The marker is standing membership: once anyone is a standing member of a forum
    the forums' year has been written, and a second run changes nothing.
    """
    if ForumMembership.objects.exists():
        return
    _Builder(users=users).build()
