"""Issue 26.3: two sessions on one draft referral never lose a page's answers (DESIGN §4 rule 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from csf_portal.errors import ConcurrentEdit
from referrals import services
from referrals.models import Referral
from tests.conftest import signed_in_client
from tests.referrals.test_views import PERSON, _read, _start

pytestmark = pytest.mark.django_db


def _url(referral, step):
    return reverse("referrals:step", args=[referral.pk, step])


def test_a_second_save_of_a_page_read_before_the_first_is_refused_and_keeps_the_typing(referrer):
    first, second = signed_in_client(referrer), signed_in_client(referrer)
    referral = _start(first)
    url = _url(referral, "tried")
    read_first, read_second = _read(first.get(url)), _read(second.get(url))
    assert read_first and read_first == read_second
    assert first.post(url, {"read": read_first, "tried_so_far": "Hostel place"}).status_code == 302
    page = second.post(url, {"read": read_second, "tried_so_far": "Typed by the second session"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "govuk-error-summary" in body and "<title>Error:" in body
    assert "Someone else changed this page while you were editing" in body
    assert "Tried so far: Hostel place" in body  # the other person's change, shown
    assert "Typed by the second session</textarea>" in body  # what they typed, kept
    referral.refresh_from_db()
    assert referral.tried_so_far == "Hostel place"
    # the page now carries the new version: saving again replaces theirs, knowingly
    again = second.post(url, {"read": _read(page), "tried_so_far": "Typed by the second session"})
    assert again.status_code == 302
    referral.refresh_from_db()
    assert referral.tried_so_far == "Typed by the second session"


def test_saving_another_page_in_between_is_no_conflict(referrer):
    first, second = signed_in_client(referrer), signed_in_client(referrer)
    referral = _start(first)
    read_hopes = _read(second.get(_url(referral, "hopes")))
    tried = _url(referral, "tried")
    first.post(tried, {"read": _read(first.get(tried)), "tried_so_far": "Hostel place"})
    response = second.post(
        _url(referral, "hopes"), {"read": read_hopes, "hoped_outcome": "Housing"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.tried_so_far, referral.hoped_outcome) == ("Hostel place", "Housing")


def test_a_page_without_the_version_it_read_is_not_saved_over_another_change(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    url = _url(referral, "person")
    client.post(url, {"read": _read(client.get(url)), **PERSON})
    page = client.post(url, {**PERSON, "given_name": "Katie"})  # no version: not a blind save
    assert page.status_code == 200 and "Someone else changed this page" in page.content.decode()
    assert Referral.objects.get(pk=referral.pk).given_name == "Kate"


def test_the_service_refuses_a_stale_page_but_not_the_same_answer(referrer):
    client = signed_in_client(referrer)
    referral = _start(client)
    read = services.referral_step_token(referral, ["urgency"])
    services.referral_update(actor=referrer, referral=referral, urgency="urgent", read=read)
    services.referral_update(actor=referrer, referral=referral, urgency="urgent", read=read)
    with pytest.raises(ConcurrentEdit, match="Urgency: Urgent: the next forum"):
        services.referral_update(actor=referrer, referral=referral, urgency="routine", read=read)
