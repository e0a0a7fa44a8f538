"""One comparison: build a planned world, ask the portal's code, ask the spec, list every
difference. Used by the oracle (which expects none) and by the mutants (which expect some)."""

from __future__ import annotations

import re

import time_machine
from django.http import Http404
from django.urls import reverse

from tests.access_oracle import spec
from tests.access_oracle.world import WorldPlan, build, snapshot

_handler = None
_CASE_LINK = re.compile(r'href="/cases/([0-9a-f-]{36})/"')


def _diff(who: str, what: str, code: set[str], expected: frozenset[str]) -> list[str]:
    if code == expected:
        return []
    return [
        f"{who}: {what}: the code gives {sorted(code)}, the spec {sorted(expected)} "
        f"(extra {sorted(code - expected)}, missing {sorted(expected - code)})"
    ]


def describe(plan: WorldPlan, key: str, world: spec.World) -> str:
    user = world.users[key]
    agency = world.agencies[user.agency] if user.agency else None
    return (
        f"{key} ({', '.join(sorted(user.roles)) or 'no role'}; "
        f"{'agency ' + user.agency if agency else 'no agency'}"
        f"{' (switched off)' if agency and not agency.is_active else ''}"
        f"{'; switched off' if not user.is_active else ''})"
        f" at {plan.now.astimezone(spec.LOCAL).isoformat()}"
    )


def compare(plan: WorldPlan, *, pages: bool = True) -> list[str]:
    """Every way the portal's answers differ from the spec's for this world and moment.

    Runs in the caller's transaction (roll it back afterwards). ``pages``: also sign in
    as each user and open the case list, every case page and every person page.
    """
    import access
    from csf_portal.models import User
    from forums.models import Forum, Meeting

    csf = Forum.objects.get(kind=Forum.Kind.CSF)
    world = snapshot(plan)
    expected = spec.sights(world, plan.now)
    differences: list[str] = []
    with time_machine.travel(plan.anchor, tick=False) as traveller:
        built = build(plan, traveller)
        key_of = {str(obj.pk): key for key, obj in {**built.cases, **built.people}.items()}
        all_case_ids = [c.pk for c in built.cases.values()]
        for key in plan.user_keys():
            who = describe(plan, key, world)
            sight = expected[key]
            user = User.objects.select_related("agency").get(pk=built.users[key].pk)
            listed = {
                key_of[str(pk)]
                for pk in access.cases_visible_to(user=user).values_list("pk", flat=True)
            }
            differences += _diff(who, "cases_visible_to", listed, sight.listed)
            among = {
                key_of[str(pk)]
                for pk in access.case_ids_visible_among(user=user, case_ids=all_case_ids)
            }
            differences += _diff(who, "case_ids_visible_among", among, sight.cases)
            viewable, opened = set(), set()
            for case_key, case in built.cases.items():
                if access.can_view_case(user, case):
                    viewable.add(case_key)
                try:
                    access.case_for(user=user, case_id=case.pk)
                except Http404:
                    pass
                else:
                    opened.add(case_key)
            differences += _diff(who, "can_view_case", viewable, sight.cases)
            differences += _diff(who, "case_for (not 404)", opened, sight.cases)
            people = {
                k for k, person in built.people.items() if access.can_view_person(user, person)
            }
            differences += _diff(who, "can_view_person", people, sight.people)
            agenda = {
                key_of[str(pk)]
                for pk in access.agenda_cases_for(user=user, forum=csf).values_list("pk", flat=True)
            }
            may_bring = frozenset(
                c for c in world.cases if spec.may_bring_to_forum(world, key, c, plan.now)
            )
            differences += _diff(who, "agenda_cases_for", agenda, may_bring)
            packs = {
                meeting_key
                for meeting_key, meeting in built.meetings.items()
                if _pack_allowed(user, Meeting.objects.get(pk=meeting.pk))
            }
            may_pack = frozenset(
                m for m in world.meetings if spec.may_have_pack(world, key, m, plan.now)
            )
            differences += _diff(who, "can_have_meeting_pack", packs, may_pack)
            if pages:
                differences += _pages(who, user, built, key_of, sight, world.users[key].is_active)
    return differences


def _pack_allowed(user, meeting) -> bool:
    """What the meeting page asks before it offers the pack (access.can_have_meeting_pack)."""
    import access

    case_ids = set(meeting.items.exclude(case=None).values_list("case_id", flat=True))
    return access.can_have_meeting_pack(
        meeting,
        user=user,
        runs=access.can_run_forum(user, meeting.forum),
        case_ids=case_ids,
        visible_case_ids=access.case_ids_visible_among(user=user, case_ids=case_ids),
    )


def _pages(who, user, built, key_of, sight: spec.Sight, active: bool) -> list[str]:
    """The case list and each case page, signed in (with a second factor) as the user."""
    from tests.conftest import signed_in_client

    global _handler
    client = signed_in_client(user)
    # One request handler for every client: loading the middleware (WhiteNoise reads
    # every static file's headers) costs a quarter of a second each time.
    if _handler is None:
        _handler = client.handler
    client.handler = _handler
    differences = []
    response = client.get(reverse("cases:list"))
    if not active:
        # Signed out at once: every page sends them to sign in, nothing is shown.
        statuses = {response.status_code}
        for case in built.cases.values():
            statuses.add(client.get(reverse("cases:detail", args=[case.pk])).status_code)
        if statuses != {302}:
            differences.append(f"{who}: pages answer {sorted(statuses)}, not only 302 (sign in)")
        return differences
    if response.status_code != 200:
        differences.append(f"{who}: the case list answers {response.status_code}, not 200")
    else:
        shown = {key_of[pk] for pk in _CASE_LINK.findall(response.content.decode())}
        differences += _diff(who, "the case list page", shown, sight.listed)
    opened = set()
    for case_key, case in built.cases.items():
        status = client.get(reverse("cases:detail", args=[case.pk])).status_code
        if status == 200:
            opened.add(case_key)
        elif status != 404:
            differences.append(f"{who}: the page of {case_key} answers {status}")
    differences += _diff(who, "case pages answering 200 (else 404)", opened, sight.cases)
    people = set()
    for person_key, person in built.people.items():
        status = client.get(reverse("cases:person", args=[person.pk])).status_code
        if status == 200:
            people.add(person_key)
        elif status != 404:
            differences.append(f"{who}: the page of {person_key} answers {status}")
    differences += _diff(who, "person pages answering 200 (else 404)", people, sight.people)
    return differences
