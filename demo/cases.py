"""The demo city's case records: a year of the forum's work with the people it took on (DESIGN §6).

Every step goes through the real services - involvement, shared ownership of
risk, care plans agreed at a meeting, outcome reviews, forum decisions, refused
hand-offs, emergency access - so the rules, history and access checks are the
portal's own; each step is then moved back to when it happened.

The year follows the pilot's results: most people present with high risk, and
the agencies share it; emergency service use falls (one woman from three
police or ambulance call-outs a day to none); B&B nights fall; nearly everyone
ends with a housing option they are satisfied with; all but the few the forum
lost touch with show their risk reduced; and around half the cases, the
workers say, could have been avoided had services been joined up. Everyone is
fictional.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

import access
from assessments.models import Assessment
from cases import services
from cases.models import (
    AccommodationStatus,
    BreakGlassAccess,
    CarePlan,
    CarePlanItem,
    Case,
    CaseAgency,
    CaseVisibility,
    HandOffAttempt,
    OutcomeReview,
    Person,
    Risk,
    RiskCategory,
    RiskLevel,
    RiskLevelChange,
    RiskOwner,
)
from cases.services import HIGH_LEVELS
from csf_portal.errors import HandOffRefused
from csf_portal.history import unattributed
from csf_portal.models import AccessEvent, Agency, Notification, User
from demo import tables
from demo.dates import at, demo_diary, working_day_on_or_before
from demo.steps import activity_restore, backdate, signed_in
from forums import services as forum_services
from forums.models import AgendaItem, Forum, ForumDecision, Meeting
from referrals.models import Referral
from reports import services as report_services

A = AccommodationStatus
CO = Case.ClosureOutcome
YES, NO, UNSURE = OutcomeReview.Answer.YES, OutcomeReview.Answer.NO, OutcomeReview.Answer.UNSURE
RC = RiskCategory

# The named practitioner who speaks for each agency in the demo (the chair for
# adult safeguarding). Agencies without one (ambulance, community connections)
# are involved in cases but accept no risk and are named on no plan item.
PRACTITIONER_OF: dict[str, str] = {
    "adult-safeguarding": "chair",
    "police": "police",
    "hostel": "hostel",
    "mental-health": "mh",
    "housing": "housing",
    "substance-misuse": "mel.turner",
    "hospital": "aisha.rahman",
    "adult-social-care": "tom.bradley",
    "community-nursing": "gill.ward",
    "probation": "nadia.kowalski",
    "street-outreach": "ben.carey",
    "environmental-health": "owen.price",
    "neuro-rehab": "lucy.fenwick",
    "reablement": "mark.ellis",
}

Name = tuple[str, str]


def _name(person: list[str]) -> Name:
    given, family = person
    return given, family


_DATA = tables.load("cases")

SHARON: Name = ("Sharon", "Pike")
LORRAINE: Name = ("Lorraine", "Pascoe")
DONNA: Name = ("Donna", "Reeve")

# How some cases ended (the rest stay open). With the two the referrals already
# closed as lost to follow-up, five people were lost to follow-up in the year.
CLOSURES: dict[Name, Case.ClosureOutcome] = {
    (given, family): CO(outcome) for given, family, outcome in _DATA["closures"]
}
# Still waiting for a second agency to share a high risk, so no plan can be agreed yet.
BLOCKED: tuple[Name, ...] = (("Jodie", "Trewin"), ("Gareth", "Pryce"), ("Simon", "Rickard"))
# The draft plan the hostel worker is still writing (it cannot be agreed until then).
DRAFT_IN_PROGRESS: Name = ("Jodie", "Trewin")
# People whose workers say nothing much has changed over the year.
NOT_IMPROVING: tuple[Name, ...] = (("Tracey", "Bolt"),)


@dataclass(frozen=True)
class HandOff:
    """An attempt to step away without a forum decision; the portal refuses and records it."""

    person: Name
    username: str
    days_after_opening: int
    from_risk: bool = False


HAND_OFFS: tuple[HandOff, ...] = tuple(
    HandOff(_name(h["person"]), h["username"], h["days_after_opening"], h.get("from_risk", False))
    for h in _DATA["hand_off"]
)


@dataclass(frozen=True)
class Departure:
    """An agency leaving a case properly: by a decision of the forum."""

    person: Name
    agency_slug: str
    summary: str


DEPARTURES: tuple[Departure, ...] = tuple(
    Departure(_name(d["person"]), d["agency"], d["summary"]) for d in _DATA["departure"]
)

_REVIEWED = _DATA["break_glass"]["reviewed"]
BREAK_GLASS_REVIEWED = (
    _name(_REVIEWED["person"]),
    _REVIEWED["days_ago"],
    _REVIEWED["reason"],
    _REVIEWED["review"],
)
_UNREVIEWED = _DATA["break_glass"]["unreviewed"]
BREAK_GLASS_UNREVIEWED = (
    _name(_UNREVIEWED["person"]),
    _UNREVIEWED["days_ago"],
    _UNREVIEWED["reason"],
)

MITIGATIONS: dict[str, str] = {
    RC(category): text for category, text in _DATA["mitigations"].items()
}

Item = tuple[str, int]
"""What will happen, and in how many days."""

PLAN_ITEMS: dict[str, tuple[Item, ...]] = {
    slug: tuple((what, days) for what, days in items) for slug, items in _DATA["plan_items"].items()
}
END_OF_LIFE_ITEMS: tuple[tuple[str, str, int], ...] = tuple(
    (slug, what, days) for slug, what, days in _DATA["end_of_life_items"]
)


def _first_items() -> dict[Name, tuple[tuple[str, str, int], ...]]:
    """What the forum wrote first into some people's plans, in the workers' own words."""
    items: dict[Name, tuple[tuple[str, str, int], ...]] = {}
    for item in _DATA["first_item"]:
        who = _name(item["person"])
        items[who] = (*items.get(who, ()), (item["agency"], item["what"], item["days"]))
    return items


FIRST_ITEMS = _first_items()
LATER_ITEMS: tuple[Item, ...] = tuple((what, days) for what, days in _DATA["later_items"])

AVOIDABLE_NOTES: tuple[str, ...] = tuple(_DATA["avoidable_notes"])

SOG_LOCATION = "Council House, committee room 2"
CSF_LOCATION = "Civic Centre, room 3.14"

_LEVELS = list(RiskLevel)  # lowest first, as the model orders them
_HIGH = HIGH_LEVELS  # the levels that need two owning agencies
# Where people moved on to, a step at a time, as the plans worked.
_MOVE_ON: dict[str, str] = {
    A.NO_FIXED_ABODE: A.HOSTEL,
    A.SOFA_SURFING: A.EMERGENCY,
    A.EMERGENCY: A.SUPPORTED,
    A.HOSTEL: A.SUPPORTED,
    A.HOSPITAL: A.SUPPORTED,
    A.CUSTODY: A.HOSTEL,
    A.SUPPORTED: A.OWN_TENANCY,
}
_UNSETTLED = {A.NO_FIXED_ABODE, A.SOFA_SURFING, A.EMERGENCY}


# --- dates ---------------------------------------------------------------------


_at = at
_working = working_day_on_or_before


# --- the year of one case --------------------------------------------------------


@dataclass
class _Story:
    """What happens to one case over the year, worked out before anything is written."""

    case: Case
    name: Name
    opened: datetime.datetime
    ends: datetime.datetime
    meetings: list[Meeting]
    closure: Case.ClosureOutcome | None
    improving: bool
    blocked: bool


Event = tuple[datetime.datetime, int, Callable[[], None]]


class _Builder:
    def __init__(self, *, users: Mapping[str, User]) -> None:
        self.users = users
        self.chair = users["chair"]
        self.rng = random.Random(2016)  # noqa: S311 - demo data, not security
        self.agencies = {a.slug: a for a in Agency.objects.all()}
        self.now = timezone.now()
        self.today = timezone.localdate()
        # When each case last had something happen before this builder touched it.
        self.activity = {
            (row.case_id, row.agency_id): row.last_activity_at
            for row in CaseVisibility.objects.all()
        }
        self.latest: dict[Any, datetime.datetime] = {}
        self.csf: list[Meeting] = []
        self.booked: dict[Any, int] = {}  # cases with a decision taken, per meeting
        self.seq = 0
        self.avoidable_reviews = (0, 0)  # reviews answered "yes", and otherwise

    def build(self) -> None:
        self._meetings()
        cases = list(
            Case.objects.select_related("person").order_by("opened_at", "created_at", "id")
        )
        for case in cases:
            self._date_opening(case)
        for case in cases:
            story = self._story(case)
            events: list[Event] = []
            self._plan_events(story, events)
            for _, _, step in sorted(events, key=lambda e: (e[0], e[1])):
                step()
        self._break_glass()
        self._restore_activity()

    def _person_case(self, name: Name) -> Case | None:
        return (
            Case.objects.filter(person__given_name=name[0], person__family_name=name[1])
            .order_by("created_at")
            .first()
        )

    def _touch(self, case: Case, at: datetime.datetime) -> None:
        self.latest[case.pk] = max(at, self.latest.get(case.pk, at))

    def _viewer(self, case: Case, slug: str) -> User | None:
        """The agency's demo practitioner, if they may see the case (need to know)."""
        username = PRACTITIONER_OF.get(slug)
        user = self.users.get(username) if username else None
        if user is None or not access.can_view_case(user, case):
            return None
        return user

    # --- meetings ------------------------------------------------------------------

    def _meetings(self) -> None:
        """A year of monthly meetings: the CSF on the second Wednesday, SOG the last Thursday."""
        csf = Forum.objects.get(kind=Forum.Kind.CSF)
        sog = Forum.objects.get(kind=Forum.Kind.SOG)
        diary = demo_diary(self.now)
        plans: list[tuple[Forum, datetime.datetime, str, list[Meeting] | None]] = [
            (csf, starts, CSF_LOCATION, self.csf) for starts in diary.csf_past
        ]
        plans += [(sog, starts, SOG_LOCATION, None) for starts in diary.sog_past]
        for forum, starts, location, keep in plans:
            since = timezone.now()
            meeting = forum_services.meeting_plan(
                actor=self.chair, forum=forum, starts_at=starts, location=location
            )
            Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.HELD)
            meeting.state = Meeting.State.HELD
            typed_up = starts + datetime.timedelta(hours=3)
            backdate(
                Meeting,
                meeting.pk,
                since=since,
                at=typed_up,
                created_at=typed_up,
                updated_at=typed_up,
            )
            if keep is not None:
                keep.append(meeting)

    def _book(self, wanted: Meeting, meetings: list[Meeting]) -> Meeting | None:
        """The meeting a decision about the case is taken at: ``wanted``, or if six cases
        are already booked there (the forum's norm), the case's next meeting with room;
        None if none has room (the decision is not taken this year)."""
        for meeting in [m for m in meetings if m.starts_at >= wanted.starts_at]:
            if self.booked.get(meeting.pk, 0) < 6:
                self.booked[meeting.pk] = self.booked.get(meeting.pk, 0) + 1
                return meeting
        return None

    def _agenda_item(self, meeting: Meeting, case: Case) -> AgendaItem:
        """The case's item on the meeting's agenda, where the forum's decisions about it go.

        The year is written after the fact: the chair put the case on the agenda before
        the meeting, so the item is added with the meeting briefly back at planned
        (demo/forums then builds the rest of the agenda, the minutes and attendance).
        """
        item = AgendaItem.objects.filter(meeting=meeting, case=case).first()
        if item is not None:
            return item
        # The case as it stood when the agenda was built (a later closure is already written).
        case = Case.objects.select_related("person").get(pk=case.pk)
        case.state = (
            case.history.filter(history_date__lt=meeting.starts_at)
            .order_by("-history_date")
            .values_list("state", flat=True)
            .first()
        ) or case.state
        state = Meeting.objects.values_list("state", flat=True).get(pk=meeting.pk)
        Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.PLANNED)
        since = timezone.now()
        with signed_in(self.chair):
            item = forum_services.agenda_item_add(actor=self.chair, meeting=meeting, case=case)
        Meeting.objects.filter(pk=meeting.pk).update(state=state)
        built = meeting.starts_at - datetime.timedelta(days=9)
        backdate(AgendaItem, item.pk, since=since, at=built, created_at=built, updated_at=built)
        return item

    def _backdate_decisions(self, since: datetime.datetime, at: datetime.datetime) -> None:
        """The decisions just recorded were taken at the meeting, at ``at``."""
        for pk in ForumDecision.objects.filter(created_at__gte=since).values_list("pk", flat=True):
            backdate(
                ForumDecision, pk, since=since, at=at, decided_at=at, created_at=at, updated_at=at
            )

    # --- opening ---------------------------------------------------------------------

    def _date_opening(self, case: Case) -> None:
        """Involvement and risks date from the accepted referral that brought them in."""
        accepted = list(
            Referral.objects.filter(case=case, state=Referral.State.ACCEPTED)
            .exclude(decided_at__isnull=True)
            .order_by("decided_at")
            .prefetch_related("risks", "services_involved")
        )
        opened = case.opened_at or case.created_at
        for involvement in CaseAgency.objects.filter(case=case):
            when = opened
            for referral in accepted:
                agencies = {referral.referring_agency_id} | {
                    a.pk for a in referral.services_involved.all()
                }
                if involvement.agency_id in agencies:
                    when = max(referral.decided_at or opened, opened)
                    break
            CaseAgency.objects.filter(pk=involvement.pk).update(
                joined_at=when, created_at=when, updated_at=when
            )
            CaseAgency.history.filter(id=involvement.pk).update(history_date=when)
        for risk in Risk.objects.filter(case=case):
            when = opened
            for referral in accepted:
                if any(r.category == risk.category for r in referral.risks.all()):
                    when = max(referral.decided_at or opened, opened)
                    break
            Risk.objects.filter(pk=risk.pk).update(created_at=when, updated_at=when)
            Risk.history.filter(id=risk.pk).update(history_date=when)
            RiskLevelChange.objects.filter(risk=risk).update(changed_at=when)

    # --- planning a case's year ------------------------------------------------------

    def _story(self, case: Case) -> _Story:
        person = case.person
        name = (person.given_name, person.family_name)
        opened = case.opened_at or case.created_at
        # A case closed (now or before it was reopened) has its year end there.
        closed = (
            case.history.filter(state=Case.State.CLOSED)
            .order_by("history_date")
            .values_list("history_date", flat=True)
            .first()
        )
        ends = closed or self.now
        closure = CLOSURES.get(name) if case.state == Case.State.AWAITING_FORUM else None
        if (
            case.times_reopened
            or case.referrals.filter(
                state=Referral.State.ACCEPTED, decided_at__gt=opened + datetime.timedelta(days=1)
            ).exists()
        ):
            # Referred again while open: the forum's work with them goes on.
            closure = None
        meetings = [
            m
            for m in self.csf
            if m.starts_at > opened + datetime.timedelta(days=3) and m.starts_at < ends
        ]
        if closure is not None and len(meetings) >= 3:
            # Closed at a meeting a few months after the forum took it on.
            last = min(len(meetings) - 1, 3 + self.rng.randint(1, 3))
            ends = meetings[last].starts_at + datetime.timedelta(hours=1)
            meetings = meetings[: last + 1]
        elif closure is not None:
            closure = None
        improving = closure not in (CO.LOST_TO_FOLLOW_UP, CO.DIED) and name not in NOT_IMPROVING
        if case.state == Case.State.CLOSED and case.closure_outcome == CO.LOST_TO_FOLLOW_UP:
            improving = False
        return _Story(
            case=case,
            name=name,
            opened=opened,
            ends=ends,
            meetings=meetings,
            closure=closure,
            improving=improving,
            blocked=name in BLOCKED,
        )

    def _add(self, events: list[Event], at: datetime.datetime, step: Callable[[], None]) -> None:
        self.seq += 1
        events.append((at, self.seq, step))

    def _plan_events(self, story: _Story, events: list[Event]) -> None:
        case = story.case
        for handoff in HAND_OFFS:
            if handoff.person == story.name:
                at = _at(
                    _working(
                        (story.opened + datetime.timedelta(days=handoff.days_after_opening)).date()
                    ),
                    15,
                    20,
                )
                if at < story.ends and at < self.now:
                    self._add(events, at, partial(self._hand_off, story, handoff, at))
        if not story.meetings:
            self._plan_reviews(story, events)
            return
        first = story.meetings[0]
        self._add(
            events,
            first.starts_at + datetime.timedelta(minutes=25),
            partial(self._share_risks, story, first),
        )
        # Risks a later referral added are shared out at the next forum after they came in.
        for risk in Risk.objects.filter(case=case, created_at__gt=first.starts_at):
            following = next((m for m in story.meetings if m.starts_at > risk.created_at), None)
            if following is not None:
                self._add(
                    events,
                    following.starts_at + datetime.timedelta(minutes=25),
                    partial(self._share_risks, story, following),
                )
        if (
            case.state == Case.State.AWAITING_FORUM
            and not case.times_reopened
            and not story.blocked
        ):
            self._add(
                events,
                first.starts_at + datetime.timedelta(minutes=50),
                partial(self._set_state, story, Case.State.ACTIVE, first.starts_at),
            )
        if story.blocked:
            if story.name == DRAFT_IN_PROGRESS:
                at = min(
                    _at(_working(first.starts_at.date() + datetime.timedelta(days=6)), 11, 35),
                    self.now - datetime.timedelta(hours=2),
                )
                self._add(events, at, partial(self._draft_in_progress, story, at))
        elif self.rng.random() < 0.85 or story.name in CLOSURES:
            self._plan_care_plans(story, events)
        self._plan_risk_changes(story, events)
        self._plan_reviews(story, events)
        for departure in DEPARTURES:
            if departure.person == story.name and len(story.meetings) >= 4:
                meeting = self._book(story.meetings[-1 - self.rng.randint(0, 2)], story.meetings)
                if meeting is None:
                    continue
                self._add(
                    events,
                    meeting.starts_at + datetime.timedelta(minutes=70),
                    partial(self._depart, story, departure, meeting),
                )
        if story.closure is not None:
            meeting = story.meetings[-1]
            self._add(
                events,
                meeting.starts_at + datetime.timedelta(minutes=55),
                partial(self._close, story, meeting),
            )
        elif (
            story.improving
            and len(story.meetings) >= 6
            and case.state == Case.State.AWAITING_FORUM
            and not case.times_reopened
            and not story.blocked
        ):
            meeting = story.meetings[-1]
            self._add(
                events,
                meeting.starts_at + datetime.timedelta(minutes=58),
                partial(self._monitor, story, meeting),
            )

    # --- shared risk -----------------------------------------------------------------

    def _share_risks(self, story: _Story, meeting: Meeting) -> None:
        """At its first forum, named workers of the involved agencies take on the risks."""
        case = story.case
        involved = list(
            CaseAgency.objects.filter(case=case, left_at__isnull=True)
            .select_related("agency")
            .order_by("joined_at", "pk")
        )
        # Agencies the forum later lets go hold no risk; the worker who later tries to
        # give up a risk alone is its only owner.
        leaving = {d.agency_slug for d in DEPARTURES if d.person == story.name}
        alone = {h.username for h in HAND_OFFS if h.person == story.name and h.from_risk}
        owners: list[tuple[Agency, User]] = []
        for involvement in involved:
            user = self._viewer(case, involvement.agency.slug)
            if user is not None and user != self.chair and involvement.agency.slug not in leaving:
                owners.append((involvement.agency, user))
        chair_agency = self.chair.agency
        at = meeting.starts_at + datetime.timedelta(minutes=25)
        risks = list(
            Risk.objects.filter(case=case, status=Risk.Status.OPEN, created_at__lte=at)
            .exclude(pk__in=RiskOwner.objects.filter(ended_at__isnull=True).values("risk_id"))
            .order_by("created_at")
        )
        blocked_one = False
        for risk in risks:
            high = risk.level in _HIGH
            if story.blocked and high and not blocked_one:
                blocked_one = True
                sole = [o for o in owners if o[1].username in alone] or owners[:1]
                chosen = sole[:1]
                wanted = len(chosen)
            elif high:
                wanted = self.rng.choice((2, 2, 3))
                chosen = self.rng.sample(owners, min(wanted, len(owners)))
            else:
                wanted = self.rng.choice((1, 2))
                chosen = self.rng.sample(owners, min(wanted, len(owners)))
            if len(chosen) < wanted and chair_agency is not None:
                chosen.append((chair_agency, self.chair))
            for agency, user in chosen:
                at += datetime.timedelta(minutes=1)
                since = timezone.now()
                with signed_in(user):
                    owner = services.risk_owner_add(
                        actor=user, risk=risk, agency=agency, accepted_by=user
                    )
                backdate(
                    RiskOwner,
                    owner.pk,
                    since=since,
                    at=at,
                    accepted_at=at,
                    created_at=at,
                    updated_at=at,
                )
        self._touch(case, at)

    def _plan_risk_changes(self, story: _Story, events: list[Event]) -> None:
        later = story.meetings[1:]
        if not later or story.blocked:
            return
        if story.improving:
            count = min(len(later), self.rng.randint(1, 3))
            chosen = sorted(self.rng.sample(range(len(later)), count))
        elif story.closure == CO.DIED:
            chosen = [len(later) - 1]
        else:
            chosen = [0] if self.rng.random() < 0.5 else []
        for index in chosen:
            meeting = later[index]
            at = meeting.starts_at + datetime.timedelta(minutes=35)
            self._add(events, at, partial(self._change_risk, story, at))

    def _change_risk(self, story: _Story, at: datetime.datetime) -> None:
        """An owner updates a risk: down as the plan works; up when things fall apart."""
        case = story.case
        risks = list(Risk.objects.filter(case=case, status=Risk.Status.OPEN, created_at__lte=at))
        if not risks:
            return
        if story.improving:
            risk = max(risks, key=lambda r: (_LEVELS.index(RiskLevel(r.level)), r.created_at))
            step = -1
        else:
            risk = min(risks, key=lambda r: (_LEVELS.index(RiskLevel(r.level)), r.created_at))
            step = 1
        index = _LEVELS.index(RiskLevel(risk.level)) + step
        if not 0 <= index < len(_LEVELS):
            return
        owner = RiskOwner.objects.filter(risk=risk, ended_at__isnull=True).first()
        actor = owner.accepted_by if owner is not None else self.chair
        if not access.can_view_case(actor, case):
            actor = self.chair
        since = timezone.now()
        with signed_in(actor):
            risk = services.risk_update(
                actor=actor,
                risk=risk,
                expected_version=risk.version,
                level=_LEVELS[index],
                description=risk.description,
                mitigations=MITIGATIONS.get(risk.category, MITIGATIONS[RC.OTHER]),
            )
        backdate(Risk, risk.pk, since=since, at=at, updated_at=at)
        RiskLevelChange.objects.filter(risk=risk, changed_at__gte=since).update(changed_at=at)
        self._touch(case, at)

    # --- care plans ------------------------------------------------------------------

    def _plan_care_plans(self, story: _Story, events: list[Event]) -> None:
        meetings = story.meetings
        agreed_at = [meetings[0]]
        if story.improving and len(meetings) >= 3 and self.rng.random() < 0.65:
            agreed_at.append(meetings[self.rng.randint(2, min(len(meetings) - 1, 4))])
            later = [m for m in meetings if m.starts_at > agreed_at[-1].starts_at]
            if len(later) >= 2 and self.rng.random() < 0.45:
                agreed_at.append(later[self.rng.randint(1, len(later) - 1)])
        for version, wanted in enumerate(agreed_at, start=1):
            meeting = self._book(wanted, meetings)
            if meeting is None:
                break  # no meeting with room: this and later versions wait
            drafted = max(
                _at(_working(meeting.starts_at.date() - datetime.timedelta(days=4)), 14, 10),
                story.opened + datetime.timedelta(hours=2),
            )
            agreed = meeting.starts_at + datetime.timedelta(minutes=45)
            self._add(
                events,
                agreed,
                partial(
                    self._care_plan,
                    story,
                    version=version,
                    meeting=meeting,
                    drafted=drafted,
                    agreed=agreed,
                ),
            )

    def _planner(self, case: Case) -> User:
        """Who writes up the plan: the referrer's named worker, else the chair."""
        involvement = (
            CaseAgency.objects.filter(case=case, left_at__isnull=True, named_worker__isnull=False)
            .exclude(named_worker=self.chair)
            .select_related("named_worker")
            .first()
        )
        if (
            involvement is not None
            and involvement.named_worker is not None
            and access.can_view_case(involvement.named_worker, case)
        ):
            return involvement.named_worker
        return self.chair

    def _items_for(self, story: _Story, *, version: int) -> list[tuple[str, str, int]]:
        involved = list(
            CaseAgency.objects.filter(case=story.case, left_at__isnull=True)
            .order_by("joined_at", "pk")
            .values_list("agency__slug", flat=True)
        )
        if story.name == LORRAINE and version == 1:
            return [i for i in END_OF_LIFE_ITEMS if i[0] in involved]
        if version > 1:
            slugs = [s for s in involved if s in PRACTITIONER_OF]
            what, days = self.rng.choice(LATER_ITEMS)
            return [(self.rng.choice(slugs), what, days)] if slugs else []
        items = [i for i in FIRST_ITEMS.get(story.name, ()) if i[0] in involved]
        candidates = [s for s in involved if s in PLAN_ITEMS and s != "adult-safeguarding"]
        for slug in self.rng.sample(candidates, min(len(candidates), self.rng.randint(2, 4))):
            choices = PLAN_ITEMS[slug]
            what, days = choices[0] if self.rng.random() < 0.4 else self.rng.choice(choices)
            if all(w != what for _, w, _ in items):
                items.append((slug, what, days))
        if self.rng.random() < 0.3:
            items.append(("adult-safeguarding", *PLAN_ITEMS["adult-safeguarding"][0]))
        return items

    def _care_plan(
        self,
        story: _Story,
        *,
        version: int,
        meeting: Meeting,
        drafted: datetime.datetime,
        agreed: datetime.datetime,
    ) -> None:
        case = story.case
        if services.risks_blocking_care_plan(case=case):
            return
        actor = self._planner(case)
        since = timezone.now()
        with signed_in(actor):
            plan = services.care_plan_draft(actor=actor, case=case)
            if version > 1 and plan.items.count() > 2:
                # The first thing on the plan has been done.
                done = plan.items.order_by("order", "pk").first()
                if done is not None:
                    services.care_plan_item_remove(
                        actor=actor,
                        plan=plan,
                        expected_edit_version=plan.edit_version,
                        item_id=done.pk,
                    )
                    plan.refresh_from_db()
            for slug, what, days in self._items_for(story, version=version):
                agency = self.agencies[slug]
                worker = self._viewer(case, slug)
                services.care_plan_item_add(
                    actor=actor,
                    plan=plan,
                    expected_edit_version=plan.edit_version,
                    what=what,
                    agency=agency,
                    named_worker=worker,
                    by_when=meeting.starts_at.date() + datetime.timedelta(days=days),
                )
                plan.refresh_from_db()
        if not plan.items.exists():
            with signed_in(actor):
                services.care_plan_item_add(
                    actor=actor,
                    plan=plan,
                    expected_edit_version=plan.edit_version,
                    what=PLAN_ITEMS["adult-safeguarding"][0][0],
                    agency=self.agencies["adult-safeguarding"],
                    named_worker=self.chair,
                    by_when=meeting.starts_at.date() + datetime.timedelta(days=28),
                )
        CarePlan.objects.filter(pk=plan.pk).update(created_at=drafted, updated_at=drafted)
        CarePlan.history.filter(id=plan.pk, history_date__gte=since).update(history_date=drafted)
        CarePlanItem.history.filter(plan_id=plan.pk, history_date__gte=since).update(
            history_date=drafted
        )
        item = self._agenda_item(meeting, case)
        since = timezone.now()
        with signed_in(self.chair):
            plan = forum_services.item_care_plan_agree(actor=self.chair, item=item)
        self._backdate_decisions(since, meeting.starts_at + datetime.timedelta(minutes=40))
        backdate(CarePlan, plan.pk, since=since, at=agreed, agreed_at=agreed, updated_at=agreed)
        self._touch(case, agreed)

    def _draft_in_progress(self, story: _Story, at: datetime.datetime) -> None:
        """The hostel worker has started the plan; it waits for a second owner of her risk."""
        case = story.case
        actor = self.users["hostel"]
        if not access.can_view_case(actor, case):
            return
        since = timezone.now()
        with signed_in(actor):
            plan = services.care_plan_draft(actor=actor, case=case)
            for slug, (what, days) in (
                ("hostel", PLAN_ITEMS["hostel"][2]),
                ("mental-health", PLAN_ITEMS["mental-health"][0]),
            ):
                if not CaseAgency.objects.filter(
                    case=case, agency__slug=slug, left_at__isnull=True
                ).exists():
                    continue
                services.care_plan_item_add(
                    actor=actor,
                    plan=plan,
                    expected_edit_version=plan.edit_version,
                    what=what,
                    agency=self.agencies[slug],
                    named_worker=self._viewer(case, slug),
                    by_when=at.date() + datetime.timedelta(days=days + 14),
                )
                plan.refresh_from_db()
        CarePlan.objects.filter(pk=plan.pk).update(created_at=at, updated_at=at)
        CarePlan.history.filter(id=plan.pk, history_date__gte=since).update(history_date=at)
        CarePlanItem.history.filter(plan_id=plan.pk, history_date__gte=since).update(
            history_date=at
        )
        self._touch(case, at)

    # --- outcome reviews -----------------------------------------------------------

    def _plan_reviews(self, story: _Story, events: list[Event]) -> None:
        rng = self.rng
        last_day = min(self.today - datetime.timedelta(days=5), story.ends.date())
        start = story.opened.date()
        periods: list[tuple[datetime.date, datetime.date]] = []
        chance = rng.random()
        if chance < 0.12 and story.name != SHARON and story.closure is None:
            return  # not reviewed yet
        wanted = rng.randint(2, 4) if chance < 0.9 else 1
        if story.name == SHARON:
            wanted = 4
        while len(periods) < wanted:
            if story.name == SHARON:
                months = (1, 2, 3, 3)[len(periods)]
            else:
                months = rng.choice((1, 2, 3)) if periods else rng.choice((1, 2))
            end = start + datetime.timedelta(days=30 * months - 1)
            if end > last_day:
                end = start + datetime.timedelta(days=29)
                if end > last_day:
                    break
            periods.append((start, end))
            start = end + datetime.timedelta(days=1)
        if not periods:
            return
        monthly = self._monthly_contacts(story)
        nights = self._monthly_nights(story)
        # About half the reviews say the crisis was avoidable, whatever day the city is
        # built on: each case takes whichever answer keeps the two sides level.
        yes, other = self.avoidable_reviews
        avoidable = YES if yes <= other else rng.choice((NO, NO, UNSURE))
        self.avoidable_reviews = (
            (yes + len(periods), other) if avoidable == YES else (yes, other + len(periods))
        )
        note = rng.choice(AVOIDABLE_NOTES) if avoidable == YES else ""
        status = story.case.person.accommodation_status or A.OTHER
        previous: int | None = None
        for index, (first_day, last) in enumerate(periods):
            span = ((last - first_day).days + 1) / 30
            counts = self._counts(story, monthly, months=span, index=index, total=len(periods))
            if story.improving and previous is not None and previous > 0:
                counts = _below(counts, previous)
            previous = sum(counts[:4])
            bnb = round(nights * span * (0.5**index if story.improving else 1))
            if index > 0 and story.improving and rng.random() < 0.7:
                status = _MOVE_ON.get(status, status)
            if story.closure == CO.LOST_TO_FOLLOW_UP and index == len(periods) - 1:
                status = A.NO_FIXED_ABODE
            if story.closure == CO.DIED and index == len(periods) - 1:
                status = A.OTHER
            final = index == len(periods) - 1
            if story.improving and final:
                bnb = 0
                satisfied = YES if rng.random() < 0.9 else UNSURE
            elif status in _UNSETTLED:
                satisfied = NO
            else:
                satisfied = rng.choice((YES, UNSURE, NO))
            recorded = min(
                _at(_working(last + datetime.timedelta(days=rng.randint(3, 9))), 11, 15),
                story.ends - datetime.timedelta(hours=2),
                self.now - datetime.timedelta(hours=3),
            )
            recorded = max(recorded, _at(last, 16, 30))
            values = {
                "period_start": first_day,
                "period_end": last,
                "police_contacts": counts[0],
                "ambulance_contacts": counts[1],
                "ae_attendances": counts[2],
                "unplanned_admissions": counts[3],
                "bnb_nights": bnb,
                "accommodation_status": status,
                "housing_satisfied": satisfied,
                "avoidable": avoidable,
                "avoidable_note": note,
            }
            self._add(events, recorded, partial(self._review, story, values, recorded))

    def _monthly_contacts(self, story: _Story) -> tuple[float, float, float, float]:
        """Police, ambulance, A&E and unplanned admissions a month, when the forum took it on."""
        rng = self.rng
        if story.name == SHARON:
            return (54.0, 36.0, 8.0, 2.0)  # three police or ambulance call-outs a day
        risks = list(story.case.risks.values_list("level", "category"))
        weight = 1 + sum(1 for level, _ in risks if level == RiskLevel.VERY_HIGH)
        police_involved = CaseAgency.objects.filter(case=story.case, agency__slug="police").exists()
        police = rng.uniform(2, 8) * weight if police_involved else rng.uniform(0, 2)
        return (
            police,
            rng.uniform(1, 5) * weight,
            rng.uniform(1, 4) * weight,
            rng.uniform(0.3, 1.5),
        )

    def _monthly_nights(self, story: _Story) -> float:
        status = story.case.person.accommodation_status
        if status == A.EMERGENCY:
            return self.rng.uniform(15, 28)
        if status in (A.NO_FIXED_ABODE, A.SOFA_SURFING):
            return self.rng.uniform(2, 10)
        return 0.0

    def _counts(
        self,
        story: _Story,
        monthly: tuple[float, float, float, float],
        *,
        months: float,
        index: int,
        total: int,
    ) -> tuple[int, int, int, int]:
        if story.name == SHARON:
            factor = (1.0, 0.3, 0.06, 0.0)[min(index, 3)] if index < total - 1 else 0.0
        elif story.improving:
            factor = self.rng.uniform(0.35, 0.6) ** index
        elif story.closure == CO.DIED:
            factor = 1.0 + 0.4 * index
        else:
            factor = self.rng.uniform(0.8, 1.3)
        police, ambulance, ae, admissions = (round(m * months * factor) for m in monthly)
        return (police, ambulance, ae, admissions)

    def _review_actor(self, case: Case) -> User:
        slugs = list(
            CaseAgency.objects.filter(case=case, left_at__isnull=True)
            .exclude(agency__slug="adult-safeguarding")
            .order_by("joined_at", "pk")
            .values_list("agency__slug", flat=True)
        )
        for slug in slugs:
            user = self._viewer(case, slug)
            if user is not None:
                return user
        return self.chair

    def _review(self, story: _Story, values: Mapping[str, Any], at: datetime.datetime) -> None:
        case = story.case
        actor = self._review_actor(case)
        since = timezone.now()
        with signed_in(actor):
            review = report_services.outcome_review_record(actor=actor, case=case, **values)
        # The assessment score is the latest completed by the time of the review.
        assessment = (
            Assessment.objects.filter(
                person_id=case.person_id,
                state=Assessment.State.COMPLETED,
                completed_at__lte=at,
            )
            .exclude(
                corrections__state=Assessment.State.COMPLETED, corrections__completed_at__lte=at
            )
            .order_by("-completed_at")
            .first()
        )
        score = assessment.total_score if assessment is not None else None
        levels = _levels_at(case, at)
        OutcomeReview.objects.filter(pk=review.pk).update(
            created_at=at, updated_at=at, assessment_score=score, risk_levels=levels
        )
        OutcomeReview.history.filter(id=review.pk).update(
            history_date=at, assessment_score=score, risk_levels=levels
        )
        Person.objects.filter(pk=case.person_id, updated_at__gte=since).update(updated_at=at)
        Person.history.filter(id=case.person_id, history_date__gte=since).update(history_date=at)
        self._touch(case, at)

    # --- decisions, hand-offs and case status ------------------------------------------

    def _hand_off(self, story: _Story, handoff: HandOff, at: datetime.datetime) -> None:
        """An agency tries to step away without the forum: refused, and the attempt kept."""
        case = story.case
        actor = self.users.get(handoff.username)
        if actor is None or actor.agency is None:
            return
        since = timezone.now()
        try:
            if handoff.from_risk:
                owner = (
                    RiskOwner.objects.filter(
                        risk__case=case, agency=actor.agency, ended_at__isnull=True
                    )
                    .order_by("accepted_at")
                    .first()
                )
                if owner is None or not access.can_view_case(actor, case):
                    return
                services.risk_owner_remove(actor=actor, owner=owner)
            else:
                services.case_agency_leave(actor=actor, case=case, agency=actor.agency)
        except HandOffRefused:
            HandOffAttempt.objects.filter(case=case, attempted_at__gte=since).update(
                attempted_at=at
            )
            self._touch(case, at)

    def _depart(self, story: _Story, departure: Departure, meeting: Meeting) -> None:
        case = story.case
        agency = self.agencies.get(departure.agency_slug)
        if agency is None:
            return
        if not CaseAgency.objects.filter(case=case, agency=agency, left_at__isnull=True).exists():
            return
        if RiskOwner.objects.filter(
            risk__case=case, agency=agency, ended_at__isnull=True, risk__status=Risk.Status.OPEN
        ).exists():
            return
        at = meeting.starts_at + datetime.timedelta(minutes=70)
        item = self._agenda_item(meeting, case)
        since = timezone.now()
        with signed_in(self.chair):
            forum_services.agency_leaves_case_decide(
                actor=self.chair, item=item, agency=agency, summary=departure.summary
            )
        self._backdate_decisions(since, at)
        involvement = CaseAgency.objects.get(case=case, agency=agency, left_at__gte=since)
        backdate(CaseAgency, involvement.pk, since=since, at=at, left_at=at, updated_at=at)
        self._touch(case, at)

    def _set_state(self, story: _Story, state: Case.State, at: datetime.datetime) -> None:
        case = story.case
        since = timezone.now()
        services.case_set_state(actor=self.chair, case=case, state=state)
        backdate(Case, case.pk, since=since, at=at, updated_at=at)
        self._touch(case, at)

    def _monitor(self, story: _Story, meeting: Meeting) -> None:
        """Stable for months and no risk above medium: the forum keeps a watching brief."""
        case = Case.objects.get(pk=story.case.pk)
        if case.state != Case.State.ACTIVE:
            return
        if Risk.objects.filter(case=case, status=Risk.Status.OPEN, level__in=_HIGH).exists():
            return
        self._set_state(story, Case.State.MONITORING, meeting.starts_at)

    def _close(self, story: _Story, meeting: Meeting) -> None:
        case = Case.objects.get(pk=story.case.pk)
        if story.closure is None or case.state == Case.State.CLOSED:
            return
        at = meeting.starts_at + datetime.timedelta(minutes=55)
        since = timezone.now()
        services.case_set_state(
            actor=self.chair, case=case, state=Case.State.CLOSED, closure_outcome=story.closure
        )
        backdate(Case, case.pk, since=since, at=at, updated_at=at, closed_at=at)
        self._touch(case, at)

    # --- emergency access -------------------------------------------------------------

    def _break_glass(self) -> None:
        police = self.users["police"]
        reviewed_name, days_ago, reason, note = BREAK_GLASS_REVIEWED
        grant = self._open_glass(police, reviewed_name, days_ago=days_ago, reason=reason, hour=2)
        if grant is not None:
            reviewed = _at(_working(grant.started_at.date() + datetime.timedelta(days=1)), 9, 40)
            services.break_glass_review(actor=self.chair, grant=grant, note=note)
            BreakGlassAccess.objects.filter(pk=grant.pk).update(reviewed_at=reviewed)
            Notification.objects.filter(
                user=self.chair, text__startswith="Emergency access", created_at=grant.started_at
            ).update(read_at=reviewed)
        open_name, days_ago, reason = BREAK_GLASS_UNREVIEWED
        self._open_glass(police, open_name, days_ago=days_ago, reason=reason, hour=23)

    def _open_glass(
        self, actor: User, name: Name, *, days_ago: int, reason: str, hour: int
    ) -> BreakGlassAccess | None:
        case = self._person_case(name)
        if case is None or access.can_view_case(actor, case):
            candidates = [
                c
                for c in Case.objects.exclude(state=Case.State.CLOSED).order_by("opened_at")
                if not access.can_view_case(actor, c)
            ]
            case = candidates[0] if candidates else None
        if case is None:
            return None
        started = _at(self.today - datetime.timedelta(days=days_ago), hour, 10)
        since = timezone.now()
        grant = services.break_glass_open(actor=actor, case=case, reason=reason)
        BreakGlassAccess.objects.filter(pk=grant.pk).update(
            started_at=started, expires_at=started + services.BREAK_GLASS_LASTS
        )
        AccessEvent.objects.filter(
            user=actor, action=AccessEvent.Action.BREAK_GLASS, at__gte=since
        ).update(at=started)
        Notification.objects.filter(
            text__startswith="Emergency access", created_at__gte=since
        ).update(created_at=started)
        grant.refresh_from_db()
        return grant

    def _restore_activity(self) -> None:
        """Each list shows the cases by when something last really happened on them."""
        activity_restore(latest=self.latest, by="case_id", activity=self.activity)


def _levels_at(case: Case, at: datetime.datetime) -> list[dict[str, str]]:
    """Each open risk's level as it stood at ``at``."""
    levels: list[dict[str, str]] = []
    for risk in Risk.objects.filter(
        case=case, status=Risk.Status.OPEN, created_at__lte=at
    ).order_by("created_at"):
        change = (
            RiskLevelChange.objects.filter(risk=risk, changed_at__lte=at)
            .order_by("-changed_at", "-pk")
            .first()
        )
        level = change.level if change is not None else risk.level
        levels.append({"risk": str(risk.pk), "category": risk.category, "level": level})
    return levels


def _below(counts: tuple[int, int, int, int], previous: int) -> tuple[int, int, int, int]:
    """Fewer emergency contacts than the period before: the plan is working."""
    police, ambulance, ae, admissions = counts
    target = max(0, previous - 1)
    while police + ambulance + ae + admissions > target:
        if police >= max(ambulance, ae, admissions) and police:
            police -= 1
        elif ambulance >= max(ae, admissions) and ambulance:
            ambulance -= 1
        elif ae >= admissions and ae:
            ae -= 1
        else:
            admissions -= 1
    return (police, ambulance, ae, admissions)


@transaction.atomic
@unattributed("demo data: a fictional city no one made")
def build_demo_case_records(*, users: dict[str, User]) -> None:
    """Write a year of the demo city's case records, once.

    The marker is the forums' meetings: once any meeting exists the year has been
    written, and a second run changes nothing.
    """
    if Meeting.objects.exists():
        return
    _Builder(users=users).build()
