"""Referral pages: who may see them (404 otherwise), bad input, query budgets."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from csf_portal.models import AccessEvent, Role
from referrals.models import Referral, ReferralReason
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import complete_referral

pytestmark = pytest.mark.django_db
S = Referral.State


def _urls(referral):
    pk = referral.pk
    return [
        reverse("referrals:detail", args=[pk]),
        reverse("referrals:check", args=[pk]),
        reverse("referrals:step", args=[pk, "person"]),
        reverse("referrals:step", args=[pk, "risks"]),
        reverse("referrals:withdraw", args=[pk]),
        reverse("referrals:accept", args=[pk]),
        reverse("referrals:redirect", args=[pk]),
        reverse("referrals:decline", args=[pk]),
    ]


def test_outsiders_get_404_on_every_referral_url(referrer, chair):
    draft = complete_referral(referrer, submit=False)
    submitted = complete_referral(referrer)
    other_agency = UserFactory(agency=AgencyFactory())
    commissioner = UserFactory(agency=referrer.agency, roles=[Role.COMMISSIONER])
    same_agency_member = UserFactory(agency=referrer.agency, roles=[Role.FORUM_MEMBER])
    for user in (other_agency, commissioner, same_agency_member):
        client = signed_in_client(user)
        for referral in (draft, submitted):
            for url in _urls(referral):
                assert client.get(url).status_code == 404, (user, url)
                assert client.post(url, {}).status_code == 404, (user, url)
    # the chair does not see other agencies' drafts either
    chair_client = signed_in_client(chair)
    for url in _urls(draft):
        assert chair_client.get(url).status_code == 404, url


def test_referrer_colleague_and_chair_see_a_submitted_referral(referrer, chair):
    referral = complete_referral(referrer)
    colleague = UserFactory(agency=referrer.agency)
    url = reverse("referrals:detail", args=[referral.pk])
    for user in (referrer, colleague, chair):
        response = signed_in_client(user).get(url)
        assert response.status_code == 200
        assert "Kate Smyth" in response.content.decode()
    assert AccessEvent.objects.filter(object_id=str(referral.pk)).count() == 3


def test_practitioner_cannot_reach_triage(referrer):
    client = signed_in_client(referrer)
    assert client.get(reverse("referrals:triage")).status_code == 404


def test_commissioner_cannot_reach_referrals(db):
    client = signed_in_client(UserFactory(roles=[Role.COMMISSIONER]))
    assert client.get(reverse("referrals:list")).status_code == 404
    assert client.post(reverse("referrals:start")).status_code == 404


def _start(client) -> Referral:
    response = client.post(reverse("referrals:start"))
    assert response.status_code == 302
    return Referral.objects.latest("created_at")


def _step(client, referral, step, data, **query):
    url = reverse("referrals:step", args=[referral.pk, step])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    if "read" not in data and step not in ("match", "risks"):
        data = {"read": _read(client.get(url)), **data}  # as a browser sends it back
    return client.post(url, data)


def _read(page) -> str:
    """The version of a wizard page's answers that the page carries, hidden."""
    found = re.search(r'name="read" value="([^"]*)"', page.content.decode())
    return found.group(1) if found else ""


PERSON = {
    "given_name": "Kate",
    "family_name": "Smyth",
    "other_names": "",
    "date_of_birth_0": "3",
    "date_of_birth_1": "4",
    "date_of_birth_2": "1982",
    "nhs_number": "",
    "gender": "woman",
}


def _assert_error(response, message, kept=None):
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert message in body, body[body.find("govuk-error-summary") :][:2000]
    assert "<title>Error:" in body
    if kept is not None:
        assert kept in body


@pytest.mark.parametrize(
    "change,message",
    [
        ({"given_name": ""}, "Enter the person&#x27;s first name"),
        ({"nhs_number": "485 777 3456"}, "Enter a real NHS number"),
        ({"nhs_number": "12345"}, "Enter an NHS number with 10 digits"),
        (
            {"date_of_birth_2": str(timezone.localdate().year + 1)},
            "Date of birth must be today or in the past",
        ),
        ({"date_of_birth_0": "31", "date_of_birth_1": "2"}, "Date of birth must be a real date"),
        (
            {"date_of_birth_0": "", "date_of_birth_1": "", "date_of_birth_2": ""},
            "Enter date of birth",
        ),
        ({"family_name": "x" * 101}, "Last name must be 100 characters or fewer"),
        ({"family_name": "<script>alert(1)</script>"}, "Remove the HTML or script"),
        ({"gender": ""}, "Select the person&#x27;s gender"),
    ],
)
def test_person_page_bad_input(referrer, change, message):
    client = signed_in_client(referrer)
    referral = _start(client)
    data = PERSON | change
    response = _step(client, referral, "person", data)
    _assert_error(response, message)
    kept = next((v for k, v in change.items() if v and len(v) < 50 and "<" not in v), None)
    if kept:
        assert f'value="{kept}"' in response.content.decode()  # what was typed is kept
    referral.refresh_from_db()
    assert referral.given_name == ""  # nothing half-saved


@pytest.mark.parametrize(
    "step,data,message",
    [
        ("circumstances", {}, "Select where the person is living now"),
        ("meam", {}, "Select at least one area of need"),
        ("reasons", {}, "Select at least one reason for the referral"),
        ("services", {}, "Select at least one service that is involved"),
        ("tried", {"tried_so_far": ""}, "Say what has been tried and why it has not worked"),
        ("tried", {"tried_so_far": "<img src=x onerror=alert(1)>"}, "Remove the HTML or script"),
        ("tried", {"tried_so_far": "x" * 5001}, "must be 5000 characters or fewer"),
        ("hopes", {"hoped_outcome": ""}, "Say what you hope the forum can do"),
        ("urgency", {}, "Select how urgent the referral is"),
        ("basis", {}, "Select the lawful basis for sharing this information"),
    ],
)
def test_every_page_explains_bad_input(referrer, step, data, message):
    client = signed_in_client(referrer)
    referral = _start(client)
    _assert_error(_step(client, referral, step, data), message)


def test_other_reason_needs_a_description(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    other = ReferralReason.objects.get(code="other")
    _assert_error(
        _step(client, referral, "reasons", {"reasons": [other.pk]}),
        "Describe the other reason for the referral",
    )


def test_sharing_page_depends_on_the_basis(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    _step(client, referral, "basis", {"lawful_basis": "consent"})
    response = _step(client, referral, "sharing", {"consent_given_on_2": "2999"})
    _assert_error(response, "Select how the person gave consent")
    body = response.content.decode()
    assert "Confirm the person was told what will be shared and with whom" in body
    assert "Select which agencies this information may be shared with" in body
    _step(client, referral, "basis", {"lawful_basis": "vital_interests"})
    response = _step(client, referral, "sharing", {"sharing_all_members": "on"})
    _assert_error(response, "Explain why sharing without consent is justified")


def test_risks_page_needs_one_risk_and_explains(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    _assert_error(_step(client, referral, "risks", {"continue": "1"}), "Add at least one risk")
    _assert_error(_step(client, referral, "risks", {"add_risk": "1"}), "Select the risk")
    response = _step(
        client, referral, "risks", {"add_risk": "1", "category": "suicide", "level": "very_high"}
    )
    assert response.status_code == 302
    assert referral.risks.get().level == "very_high"


def test_save_as_draft_from_any_page_and_resume(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    response = _step(client, referral, "person", PERSON | {"save_draft": "1"})
    assert response["Location"] == reverse("referrals:list")
    listing = client.get(reverse("referrals:list")).content.decode()
    assert "Kate Smyth" in listing and "Draft" in listing
    page = client.get(reverse("referrals:step", args=[referral.pk, "person"])).content.decode()
    assert 'value="Smyth"' in page and 'value="1982"' in page


def test_check_answers_lists_what_is_missing_with_links(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    response = client.post(reverse("referrals:check", args=[referral.pk]))
    body = response.content.decode()
    assert "There is a problem" in body
    assert reverse("referrals:step", args=[referral.pk, "risks"]) in body
    referral.refresh_from_db()
    assert referral.state == S.DRAFT


def test_a_complete_draft_is_sent_from_check_answers(referrer, chair):
    referral = complete_referral(referrer, submit=False)
    client = signed_in_client(referrer)
    response = client.post(reverse("referrals:check", args=[referral.pk]))
    assert response.status_code == 200
    assert "Referral sent" in response.content.decode()
    referral.refresh_from_db()
    assert referral.state == S.SUBMITTED


def test_chair_decision_pages_explain_missing_reasons(referrer, chair):
    referral = complete_referral(referrer)
    client = signed_in_client(chair)
    _assert_error(
        client.post(reverse("referrals:decline", args=[referral.pk]), {"reason": ""}),
        "Give the reason for declining the referral",
    )
    _assert_error(
        client.post(
            reverse("referrals:redirect", args=[referral.pk]),
            {"destination": "named_service", "advice": "ring them"},
        ),
        "Name the service to redirect to",
        kept="ring them",
    )
    response = client.post(reverse("referrals:accept", args=[referral.pk]), {"note": ""})
    assert response["Location"] == reverse("referrals:triage")
    referral.refresh_from_db()
    assert referral.state == S.ACCEPTED
    again = client.post(reverse("referrals:decline", args=[referral.pk]), {"reason": "late"})
    _assert_error(again, "already been accepted, so it cannot be declined")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_triage_queries_do_not_grow_with_rows(referrer, chair):
    def add(n):
        for i in range(n):
            complete_referral(referrer, given_name=f"Person{i}", family_name=f"Family{i}")

    referrer_client, chair_client = signed_in_client(referrer), signed_in_client(chair)
    add(5)
    small = (
        _queries(referrer_client, reverse("referrals:list")),
        _queries(chair_client, reverse("referrals:triage")),
    )
    add(45)
    large = (
        _queries(referrer_client, reverse("referrals:list")),
        _queries(chair_client, reverse("referrals:triage")),
    )
    assert small == large
    assert max(large) <= 15


def test_accepting_can_place_the_case_on_a_planned_meetings_agenda(referrer, chair):
    from django.utils import timezone

    from forums.models import AgendaItem, Forum
    from forums.services import meeting_plan

    csf = Forum.objects.get(kind="csf")
    held = meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() - datetime.timedelta(days=2),
        location="Council House",
    )
    ahead = meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() + datetime.timedelta(days=9),
        location="Council House",
    )
    referral = complete_referral(referrer)
    client = signed_in_client(chair)
    url = reverse("referrals:accept", args=[referral.pk])
    page = client.get(url).content.decode()
    assert "Place it on the agenda of a forum meeting?" in page
    assert "(0 cases so far)" in page
    # A meeting that has already met is not offered, and is refused if posted
    _assert_error(
        client.post(url, {"note": "", "meeting": str(held.pk)}),
        "Select a forum meeting that is still ahead",
    )
    assert Referral.objects.get(pk=referral.pk).state == S.SUBMITTED
    response = client.post(url, {"note": "", "meeting": str(ahead.pk)})
    assert response.status_code == 302
    referral.refresh_from_db()
    item = AgendaItem.objects.get(meeting=ahead)
    assert item.case == referral.case and item.presenter == referrer
    assert not AgendaItem.objects.filter(meeting=held).exists()


def test_the_triage_queue_shows_fifty_at_a_time_oldest_first(referrer, chair):
    for i in range(53):
        complete_referral(referrer, given_name=f"Waiting{i:02d}", family_name="Person")
    client = signed_in_client(chair)
    first = client.get(reverse("referrals:triage")).content.decode()
    assert "53 waiting: page 1 of 2." in first
    assert "Waiting00 Person" in first and "Waiting49 Person" in first
    assert "Waiting50 Person" not in first and 'rel="next"' in first
    second = client.get(reverse("referrals:triage"), {"page": 2}).content.decode()
    assert "Waiting50 Person" in second and "Waiting52 Person" in second
    assert "Waiting49 Person" not in second and 'rel="prev"' in second
    # A page past the end shows the last one rather than failing.
    past_the_end = client.get(reverse("referrals:triage"), {"page": 9})
    assert "Waiting52 Person" in past_the_end.content.decode()
