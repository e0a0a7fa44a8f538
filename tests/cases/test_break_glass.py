"""Break-glass: emergency access with a reason, time-boxed, logged, shown, reviewed."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

import access
from cases import services
from cases.models import BreakGlassAccess
from csf_portal.models import AccessEvent, Notification, Role
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

NO_MATCH = escape(services.NO_EMERGENCY_MATCH)
pytestmark = [pytest.mark.django_db, pytest.mark.dates]
REASON = "Found unresponsive in a stairwell; paramedics need his known risks and GP."


@pytest.fixture
def w():
    hostel = AgencyFactory(name="Hostel")
    case = visible_case(hostel)
    case.person.nhs_number = "9434765919"
    with set_up():
        case.person.save()
    return {
        "case": case,
        "police": UserFactory(agency=AgencyFactory(name="Police")),
        "hostel_worker": UserFactory(agency=hostel),
        "chair": UserFactory(
            agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR]
        ),
    }


def _open(client, **data):
    return client.post(reverse("cases:emergency"), {"reason": REASON, **data})


def test_emergency_access_with_a_reason_is_logged_shown_and_sent_for_review(w):
    client = signed_in_client(w["police"])
    url = reverse("cases:detail", args=[w["case"].pk])
    assert client.get(url).status_code == 404
    response = _open(client, nhs_number="943 476 5919")
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "You opened this record in an emergency" in page and REASON in page
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.BREAK_GLASS, user=w["police"], reason=REASON
    ).exists()
    assert Notification.objects.filter(user=w["chair"], text__contains="Emergency access").exists()
    involved = signed_in_client(w["hostel_worker"]).get(url).content.decode()
    assert "This record has been opened in an emergency 1 time" in involved
    review = signed_in_client(w["chair"]).get(reverse("cases:emergency_review")).content.decode()
    assert REASON in review and "To review" in review


def test_access_lapses_by_itself(w):
    client = signed_in_client(w["police"])
    _open(client, nhs_number="9434765919")
    assert access.can_view_case(w["police"], w["case"])
    BreakGlassAccess.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert not access.can_view_case(w["police"], w["case"])
    assert client.get(reverse("cases:detail", args=[w["case"].pk])).status_code == 404


def test_no_reason_no_access_and_nothing_revealed(w):
    client = signed_in_client(w["police"])
    response = client.post(
        reverse("cases:emergency"), {"nhs_number": "9434765919", "reason": "help"}
    )
    assert "Explain the emergency" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    response = client.post(reverse("cases:emergency"), {"reason": REASON})
    assert "Enter an NHS number, or a last name and date of birth" in response.content.decode()


def test_commissioners_cannot_break_glass(w):
    commissioner = UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER])
    response = _open(signed_in_client(commissioner), nhs_number="9434765919")
    assert response.status_code == 404
    assert not access.can_view_case(commissioner, w["case"])


def test_chair_marks_it_reviewed(w):
    _open(signed_in_client(w["police"]), nhs_number="9434765919")
    grant = BreakGlassAccess.objects.get()
    chair = signed_in_client(w["chair"])
    chair.post(reverse("cases:emergency_reviewed", args=[grant.pk]), {"note": "Appropriate."})
    grant.refresh_from_db()
    assert grant.reviewed_by == w["chair"] and grant.review_note == "Appropriate."
    assert signed_in_client(w["police"]).get(reverse("cases:emergency_review")).status_code == 404


# --- issue 19, doors 6 and 8 ----------------------------------------------------


@pytest.mark.parametrize("roles", [[Role.COMMISSIONER], [Role.FORUM_CHAIR]])
def test_emergency_page_is_a_404_for_those_who_may_not_use_it(w, roles):
    """GET and POST 404, the same for a known and an unknown person, with no look-up at all."""
    user = UserFactory(agency=AgencyFactory(), roles=roles)
    client = signed_in_client(user)
    assert not access.can_request_emergency_access(user)
    assert client.get(reverse("cases:emergency")).status_code == 404
    with CaptureQueriesContext(connection) as known:
        known_response = _open(client, nhs_number="9434765919")
    with CaptureQueriesContext(connection) as unknown:
        unknown_response = _open(client, nhs_number="4010232137")
    assert known_response.status_code == unknown_response.status_code == 404
    assert _form_html(known_response) == _form_html(unknown_response)
    assert not any("cases_person" in q["sql"] for q in known.captured_queries)
    assert len(known.captured_queries) == len(unknown.captured_queries)
    assert not BreakGlassAccess.objects.exists()
    page = client.get(reverse("cases:list")).content.decode()
    assert f'href="{reverse("cases:emergency")}"' not in page


def test_practitioners_are_offered_the_link(w):
    page = signed_in_client(w["police"]).get(reverse("cases:list")).content.decode()
    assert f'href="{reverse("cases:emergency")}"' in page


def _form_html(response):
    """The page less what differs on every render (CSP nonce, masked CSRF token)."""
    html = response.content.decode()
    html = re.sub(r'nonce="[^"]*"', "", html)
    html = re.sub(r'value="[0-9 ]{10,12}"', "", html)  # the NHS number typed, kept on the page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_unknown_and_known_but_refused_get_the_same_page(w, monkeypatch):
    client = signed_in_client(w["police"])
    unknown = _open(client, nhs_number="4010232137")

    def refuse(**kwargs):
        raise services.NotAllowed("a reason that would give the record away")

    monkeypatch.setattr(services, "break_glass_open", refuse)
    known = _open(client, nhs_number="9434765919")
    assert unknown.status_code == known.status_code == 200
    assert NO_MATCH in unknown.content.decode()
    assert _form_html(unknown) == _form_html(known)
    outcomes = list(
        AccessEvent.objects.filter(action=AccessEvent.Action.EMERGENCY_LOOKUP)
        .order_by("at")
        .values_list("object_id", flat=True)
    )
    assert outcomes == ["no_match", "refused"]


def test_every_look_up_is_logged_without_copying_identities(w):
    client = signed_in_client(w["police"])
    _open(client, nhs_number="4010232137")
    _open(
        client,
        family_name="Nobody",
        date_of_birth_0="1",
        date_of_birth_1="2",
        date_of_birth_2="1960",
    )
    _open(client, nhs_number="9434765919")
    rows = AccessEvent.objects.filter(
        user=w["police"], action=AccessEvent.Action.EMERGENCY_LOOKUP
    ).order_by("at")
    assert [r.object_id for r in rows] == ["no_match", "no_match", "opened"]
    assert rows[2].person_id == w["case"].person_id and rows[0].person_id is None
    assert "ending 137" in rows[0].reason and "4010232137" not in rows[0].reason
    assert "nobody" not in rows[1].reason.lower() and "1960" not in rows[1].reason
    # The same search gives the same fingerprint, so a guardian can check a suspicion.
    assert rows[2].reason == access.emergency_lookup_fingerprint(
        nhs_number="9434765919", family_name="", date_of_birth=None
    )
    # The grant itself is still logged and expires as before (DESIGN §4 rule 1).
    grant = BreakGlassAccess.objects.get()
    assert grant.expires_at - grant.started_at == services.BREAK_GLASS_LASTS
    assert AccessEvent.objects.filter(action=AccessEvent.Action.BREAK_GLASS).count() == 1


def test_the_sixth_look_up_in_fifteen_minutes_is_refused_and_logged(w):
    client = signed_in_client(w["police"])
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        for _ in range(5):
            assert NO_MATCH in _open(client, nhs_number="4010232137").content.decode()
        refused = _open(client, nhs_number="9434765919")
        assert refused.status_code == 200
        assert "5 emergency look-ups in 15 minutes" in refused.content.decode()
        assert not BreakGlassAccess.objects.exists()
        assert (
            AccessEvent.objects.filter(
                action=AccessEvent.Action.EMERGENCY_LOOKUP, object_id="rate_limited"
            ).count()
            == 1
        )
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 16, tzinfo=datetime.UTC), tick=False):
        assert _open(client, nhs_number="9434765919").status_code == 302


def test_a_daily_cap_on_look_ups(w):
    start = datetime.datetime(2026, 3, 2, 0, 0, tzinfo=datetime.UTC)
    for i in range(services.EMERGENCY_LOOKUPS_PER_DAY):
        at = start + datetime.timedelta(minutes=20 * i)
        with time_machine.travel(at, tick=False), pytest.raises(services.DomainError):
            services.break_glass_request(
                actor=w["police"],
                nhs_number="4010232137",
                family_name="",
                date_of_birth=None,
                reason=REASON,
            )
    with time_machine.travel(start + datetime.timedelta(hours=23), tick=False):
        page = _open(signed_in_client(w["police"]), nhs_number="9434765919").content.decode()
    assert "in 24 hours" in page
    assert not BreakGlassAccess.objects.exists()


def test_a_second_review_does_not_overwrite_the_first_and_history_is_kept(w):
    _open(signed_in_client(w["police"]), nhs_number="9434765919")
    grant = BreakGlassAccess.objects.get()
    other_chair = UserFactory(agency=AgencyFactory(), roles=[Role.FORUM_CHAIR])
    url = reverse("cases:emergency_reviewed", args=[grant.pk])
    signed_in_client(w["chair"]).post(url, {"note": "Appropriate."})
    response = signed_in_client(other_chair).post(url, {"note": "Not appropriate."}, follow=True)
    assert "already reviewed" in response.content.decode()
    grant.refresh_from_db()
    assert grant.reviewed_by == w["chair"] and grant.review_note == "Appropriate."
    history = list(grant.history.order_by("history_date"))
    assert [h.history_user for h in history] == [w["police"], w["chair"]]
    assert history[0].reviewed_at is None and history[1].review_note == "Appropriate."
