"""Break-glass: emergency access with a reason, time-boxed, logged, shown, reviewed."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import BreakGlassAccess
from csf_portal import access
from csf_portal.models import AccessEvent, Notification, Role
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
REASON = "Found unresponsive in a stairwell; paramedics need his known risks and GP."


@pytest.fixture
def w():
    hostel = AgencyFactory(name="Hostel")
    case = visible_case(hostel)
    case.person.nhs_number = "9434765919"
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
    assert "for practitioners" in response.content.decode()
    assert not access.can_view_case(commissioner, w["case"])


def test_chair_marks_it_reviewed(w):
    _open(signed_in_client(w["police"]), nhs_number="9434765919")
    grant = BreakGlassAccess.objects.get()
    chair = signed_in_client(w["chair"])
    chair.post(reverse("cases:emergency_reviewed", args=[grant.pk]), {"note": "Appropriate."})
    grant.refresh_from_db()
    assert grant.reviewed_by == w["chair"] and grant.review_note == "Appropriate."
    assert signed_in_client(w["police"]).get(reverse("cases:emergency_review")).status_code == 404
