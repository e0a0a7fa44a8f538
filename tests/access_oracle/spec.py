"""DESIGN §4 rules 1 and 3 (need to know, consent), written again in plain Python.

No ORM, no import of ``access``: this is an independent statement of the
rules, read from DESIGN §2/§4, ADR 0005 (meeting-scoped access), ADR 0008 (consent
purposes per use) and ``consent.models`` (what "current" means). Given a snapshot of
the world as it stands at a moment, it says which cases and people each user may see.

* Fail closed: an inactive user, a user with no agency or of a deactivated agency, a
  commissioner and an administrator (even with an agency) see nothing at all.
* Care coordination: the user's agency is involved in the case (and has not left it)
  and a current consent for care planning or safeguarding, or an approved sharing
  basis, covers the agency.
* Forum discussion: the case is on an item of a meeting whose agenda has been
  published and whose access window has not ended (the meeting is published or held,
  not yet minuted), the user is a standing member of the forum who has not left or
  works for an agency invited to that item, and a current consent for a referral or
  safeguarding, or an approved sharing basis, covers the agency.
* Emergency: an unexpired break-glass grant of the user, who is a practitioner.
* Lists (``cases_visible_to``) show only the care-coordination cases (ADR 0005).
* Agendas: a chair brings a case to the forum only if they see it through care
  coordination and consent covers their agency for forum discussion too (issue 19).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")

# Role names, as the role groups are named (DESIGN §2).
PRACTITIONER = "Practitioner"
FORUM_CHAIR = "Forum chair"
COMMISSIONER = "Commissioner"
ADMINISTRATOR = "Administrator"

CARE_COORDINATION = "care_coordination"
FORUM_DISCUSSION = "forum_discussion"
MEETING_PACK = "meeting_pack"

#: Consent purposes that cover each use (ADR 0008), written out here on purpose.
PURPOSES_FOR_USE: dict[str, frozenset[str]] = {
    CARE_COORDINATION: frozenset({"care_planning", "safeguarding"}),
    FORUM_DISCUSSION: frozenset({"referral", "safeguarding"}),
    MEETING_PACK: frozenset({"referral", "safeguarding"}),
}

NEVER_SEE = frozenset({COMMISSIONER, ADMINISTRATOR})
OPEN_MEETING_STATES = frozenset({"agenda_published", "held"})


@dataclass(frozen=True)
class Agency:
    key: str
    is_active: bool = True


@dataclass(frozen=True)
class User:
    key: str
    agency: str | None
    roles: frozenset[str]
    is_active: bool = True


@dataclass(frozen=True)
class Case:
    key: str
    person: str
    involved: frozenset[str] = frozenset()  # agencies involved now
    left: frozenset[str] = frozenset()  # agencies that were involved and left


@dataclass(frozen=True)
class Consent:
    person: str
    purposes: frozenset[str]
    given_on: datetime.date
    review_date: datetime.date
    withdrawn: bool = False
    all_member_agencies: bool = False
    agencies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SharingBasis:
    person: str
    status: str  # pending / approved / refused
    starts_on: datetime.date
    ends_on: datetime.date
    ended: bool = False
    all_member_agencies: bool = False
    agencies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Meeting:
    key: str
    forum: str
    state: str  # planned / agenda_published / held / minutes_approved
    agenda_published_at: datetime.datetime | None
    access_ends_at: datetime.datetime


@dataclass(frozen=True)
class AgendaItem:
    meeting: str
    case: str
    invited: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Membership:
    forum: str
    user: str
    left_on: datetime.date | None = None


@dataclass(frozen=True)
class BreakGlass:
    user: str
    case: str
    expires_at: datetime.datetime


@dataclass(frozen=True)
class World:
    agencies: dict[str, Agency]
    users: dict[str, User]
    people: frozenset[str]
    cases: dict[str, Case]
    consents: tuple[Consent, ...] = ()
    bases: tuple[SharingBasis, ...] = ()
    meetings: dict[str, Meeting] = field(default_factory=dict)
    items: tuple[AgendaItem, ...] = ()
    memberships: tuple[Membership, ...] = ()
    grants: tuple[BreakGlass, ...] = ()


@dataclass(frozen=True)
class Sight:
    """What one user may see at one moment."""

    listed: frozenset[str]  # the case list (involvement and consent only)
    cases: frozenset[str]  # every case page they may open
    people: frozenset[str]


NOTHING = Sight(frozenset(), frozenset(), frozenset())


def acting_agency(world: World, user: User) -> str | None:
    """The agency a user sees case data for; None if they may see none (fail closed)."""
    if not user.is_active or user.agency is None:
        return None
    if not world.agencies[user.agency].is_active:
        return None
    if user.roles & NEVER_SEE:
        return None
    return user.agency


def covered(world: World, person: str, agency: str, use: str, today: datetime.date) -> bool:
    """A current consent given for a purpose that covers the use, or an approved sharing
    basis, names the agency (or every member agency) today."""
    for consent in world.consents:
        if (
            consent.person == person
            and not consent.withdrawn
            and consent.given_on <= today <= consent.review_date
            and consent.purposes & PURPOSES_FOR_USE[use]
            and (consent.all_member_agencies or agency in consent.agencies)
        ):
            return True
    for basis in world.bases:
        if (
            basis.person == person
            and basis.status == "approved"
            and not basis.ended
            and basis.starts_on <= today <= basis.ends_on
            and (basis.all_member_agencies or agency in basis.agencies)
        ):
            return True
    return False


def _member(world: World, user: User, forum: str, today: datetime.date) -> bool:
    return any(
        m.user == user.key and m.forum == forum and (m.left_on is None or today < m.left_on)
        for m in world.memberships
    )


def at_open_meeting(
    world: World, user: User, agency: str, case: str, now: datetime.datetime
) -> bool:
    """The case is on an item of a meeting the user attends, inside its access window."""
    today = now.astimezone(LOCAL).date()
    for item in world.items:
        if item.case != case:
            continue
        meeting = world.meetings[item.meeting]
        if meeting.state not in OPEN_MEETING_STATES or meeting.agenda_published_at is None:
            continue
        if not meeting.agenda_published_at <= now <= meeting.access_ends_at:
            continue
        if agency in item.invited or _member(world, user, meeting.forum, today):
            return True
    return False


def sight(world: World, user_key: str, now: datetime.datetime) -> Sight:
    user = world.users[user_key]
    agency = acting_agency(world, user)
    if agency is None:
        return NOTHING
    today = now.astimezone(LOCAL).date()
    listed, cases = set(), set()
    for case in world.cases.values():
        involved = agency in case.involved
        if involved and covered(world, case.person, agency, CARE_COORDINATION, today):
            listed.add(case.key)
            cases.add(case.key)
        elif at_open_meeting(world, user, agency, case.key, now) and covered(
            world, case.person, agency, FORUM_DISCUSSION, today
        ):
            cases.add(case.key)
    if PRACTITIONER in user.roles:
        cases |= {g.case for g in world.grants if g.user == user.key and g.expires_at > now}
    people = {world.cases[c].person for c in cases}
    return Sight(frozenset(listed), frozenset(cases), frozenset(people))


def may_bring_to_forum(world: World, user_key: str, case_key: str, now: datetime.datetime) -> bool:
    """Whether this user may put this case on a forum's agenda now."""
    user = world.users[user_key]
    agency = acting_agency(world, user)
    if agency is None:
        return False
    case = world.cases[case_key]
    today = now.astimezone(LOCAL).date()
    return (
        agency in case.involved
        and covered(world, case.person, agency, CARE_COORDINATION, today)
        and covered(world, case.person, agency, FORUM_DISCUSSION, today)
    )


def runs_forums(world: World, user_key: str) -> bool:
    """A forum chair (the role) who is active, of an agency switched on (or none)."""
    user = world.users[user_key]
    agency_on = user.agency is None or world.agencies[user.agency].is_active
    return user.is_active and agency_on and FORUM_CHAIR in user.roles


def may_have_pack(world: World, user_key: str, meeting_key: str, now: datetime.datetime) -> bool:
    """The meeting pack (every case on the agenda, in one PDF): not of a planned meeting
    except for those who run it; only for someone who may see every case on the agenda
    and whose agency each person's consent or basis covers for the pack."""
    meeting = world.meetings[meeting_key]
    if meeting.state == "planned" and not runs_forums(world, user_key):
        return False
    cases = {i.case for i in world.items if i.meeting == meeting_key}
    if not cases <= sight(world, user_key, now).cases:
        return False
    if not cases:
        return True
    agency = world.users[user_key].agency
    today = now.astimezone(LOCAL).date()
    return agency is not None and all(
        covered(world, world.cases[c].person, agency, MEETING_PACK, today) for c in cases
    )


def sights(world: World, now: datetime.datetime) -> dict[str, Sight]:
    return {key: sight(world, key, now) for key in world.users}
