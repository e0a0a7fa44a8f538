"""A fixed set of worlds, written by hand, each with things that a single broken rule
would let through. ``test_mutants`` checks that, unbroken, the portal and the spec agree
on them (pages included), that the spec says of them what was worked out by hand, and
that each broken rule shows up as a difference.

The anchor is 10:00 UK time (BST) on Wednesday 10 June 2026; minutes count from it.
"""

from __future__ import annotations

import dataclasses
import datetime

from tests.access_oracle.world import (
    ADMIN,
    COMM,
    MEMBER,
    BasisPlan,
    ConsentPlan,
    Event,
    ItemPlan,
    MeetingPlan,
    MembershipPlan,
    P,
    UserPlan,
    WorldPlan,
)

ANCHOR = datetime.datetime(2026, 6, 10, 9, 0, tzinfo=datetime.UTC)
HOUR = 60

#: Consent and who acts. a1 is involved in all three cases, a2 in c0 and c2, and a2 is
#: switched off after half an hour. p0 agreed only to a referral (not care planning) and a
#: sharing basis for p0 waits for approval; p1's consent is withdrawn after an hour; p2's
#: consent covers care planning for every member agency.
CONSENT = WorldPlan(
    anchor=ANCHOR,
    agencies=3,
    users=(
        UserPlan(1, frozenset({P})),  # u0
        UserPlan(1, frozenset({ADMIN})),  # u1
        UserPlan(2, frozenset({P})),  # u2: agency switched off
        UserPlan(1, frozenset({COMM})),  # u3
        UserPlan(None, frozenset({P})),  # u4: no agency
    ),
    people=3,
    cases=(0, 1, 2),
    involvements=frozenset({(0, 1), (0, 2), (1, 1), (2, 1), (2, 2)}),
    consents=(
        ConsentPlan(0, frozenset({"referral"}), 1, 6, all_member_agencies=True),
        ConsentPlan(1, frozenset({"care_planning"}), 2, 5, all_member_agencies=True),
        ConsentPlan(2, frozenset({"care_planning", "referral"}), 0, 7, all_member_agencies=True),
    ),
    bases=(BasisPlan(0, 0, 5, all_member_agencies=True),),
    events=(
        Event(30, "agency_off", (2,)),
        Event(HOUR, "withdraw", (1,)),
    ),
    moment=2 * HOUR,
)
CONSENT_SIGHT = {"u0": {"c2"}}  # everyone else of the named users sees nothing

#: Meetings. m0 was yesterday (its window closed at midnight), m1 is today; both agendas
#: were published at the anchor. a2 is invited to c0 at m0 and to c1 at m1; u1 (a1) was a
#: standing CSF member who left today; u3 (a1) still is. Consent for referral and care
#: planning covers all (the chair, of a0, brings both cases: they see them).
MEETINGS = WorldPlan(
    anchor=ANCHOR,
    agencies=3,
    users=(
        UserPlan(2, frozenset({P})),  # u0: invited
        UserPlan(1, frozenset({MEMBER})),  # u1: left the forum
        UserPlan(1, frozenset({MEMBER})),  # u2: never a member
        UserPlan(1, frozenset({MEMBER})),  # u3: a standing member
    ),
    people=2,
    cases=(0, 1),
    involvements=frozenset({(0, 0), (1, 0)}),
    consents=(
        ConsentPlan(0, frozenset({"referral", "care_planning"}), 3, 7, all_member_agencies=True),
        ConsentPlan(1, frozenset({"referral", "care_planning"}), 3, 7, all_member_agencies=True),
    ),
    meetings=(MeetingPlan("csf", -1), MeetingPlan("csf", 0)),
    items=(ItemPlan(0, 0, frozenset({2})), ItemPlan(1, 1, frozenset({2}))),
    memberships=(MembershipPlan("csf", 1), MembershipPlan("csf", 3)),
    events=(
        Event(0, "publish", (0,)),
        Event(0, "publish", (1,)),
        Event(10, "leave_forum", (0,)),
    ),
    moment=4 * HOUR,
)
CHAIRS_SEE_BOTH = {"chair": {"c0", "c1"}, "second_chair": {"c0", "c1"}}
MEETINGS_SIGHT = {"u0": {"c1"}, "u3": {"c1"}, **CHAIRS_SEE_BOTH}

#: Emergency access. u0 (a1, not involved) opened c0 at the anchor (expired after four
#: hours) and c1 three hours later (still open at five hours).
GLASS = WorldPlan(
    anchor=ANCHOR,
    agencies=2,
    users=(UserPlan(1, frozenset({P})), UserPlan(1, frozenset({P, COMM}))),
    people=2,
    cases=(0, 1),
    involvements=frozenset({(0, 0), (1, 0)}),
    consents=(ConsentPlan(0, frozenset({"care_planning"}), 0, 7, agencies=frozenset({0})),),
    events=(
        Event(0, "break_glass", (0, 0)),
        Event(3 * HOUR, "break_glass", (0, 1)),
        Event(3 * HOUR, "break_glass", (1, 1)),  # a commissioner: refused, never happens
    ),
    moment=5 * HOUR,
)
GLASS_SIGHT = {"u0": {"c1"}, "chair": {"c0"}, "second_chair": {"c0"}}  # a0: c0 consented

#: A standing member whose leaving date, entered today, is tomorrow (an admin may enter
#: any date): by the spec they are still a member today, so they see c1 at m1.
LEAVING_TOMORROW = dataclasses.replace(
    MEETINGS,
    events=(
        Event(0, "publish", (0,)),
        Event(0, "publish", (1,)),
        Event(10, "leave_forum", (0, 1)),
    ),
)
LEAVING_TOMORROW_SIGHT = {"u0": {"c1"}, "u1": {"c1"}, "u3": {"c1"}, **CHAIRS_SEE_BOTH}

#: Bringing a case to the forum (issue 19 door 2). u0 (a1) is involved in both cases and
#: sees both; p0 agreed to care planning only, so c0 may not go on an agenda; p1 agreed to
#: care planning and a referral, so c1 may.
AGENDA = WorldPlan(
    anchor=ANCHOR,
    agencies=2,
    users=(UserPlan(1, frozenset({P})),),
    people=2,
    cases=(0, 1),
    involvements=frozenset({(0, 1), (1, 1)}),
    consents=(
        ConsentPlan(0, frozenset({"care_planning"}), 1, 6, all_member_agencies=True),
        ConsentPlan(1, frozenset({"care_planning", "referral"}), 1, 6, all_member_agencies=True),
    ),
    moment=HOUR,
)
AGENDA_SIGHT = {"u0": {"c0", "c1"}}

#: The meeting pack. c0 (p0) is on today's published agenda; a0 and a1 are involved. p0
#: agreed to care planning and a referral for a0, and to care planning alone for a1: u0
#: (a1) sees c0 but may not have the pack; the chairs (a0) may.
PACK = WorldPlan(
    anchor=ANCHOR,
    agencies=2,
    users=(UserPlan(1, frozenset({P})),),
    people=1,
    cases=(0,),
    involvements=frozenset({(0, 0), (0, 1)}),
    consents=(
        ConsentPlan(0, frozenset({"care_planning", "referral"}), 1, 6, agencies=frozenset({0})),
        ConsentPlan(0, frozenset({"care_planning"}), 1, 6, agencies=frozenset({1})),
    ),
    meetings=(MeetingPlan("csf", 0),),
    items=(ItemPlan(0, 0, frozenset()),),
    events=(Event(0, "publish", (0,)),),
    moment=HOUR,
)
PACK_SIGHT = {"u0": {"c0"}, "chair": {"c0"}, "second_chair": {"c0"}}

EXAMPLES = {
    "consent": CONSENT,
    "meetings": MEETINGS,
    "glass": GLASS,
    "agenda": AGENDA,
    "pack": PACK,
}
SIGHTS = {
    "consent": CONSENT_SIGHT,
    "meetings": MEETINGS_SIGHT,
    "glass": GLASS_SIGHT,
    "agenda": AGENDA_SIGHT,
    "pack": PACK_SIGHT,
}
