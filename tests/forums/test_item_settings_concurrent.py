"""Issue 26.3: an agenda item's time, presenter and invitations: a second chair's change is
refused with what it now says, never lost (DESIGN §4 rule 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from csf_portal.errors import ConcurrentEdit
from forums import services
from tests.conftest import signed_in_client
from tests.forums.conftest import add_case, in_days, plan

pytestmark = pytest.mark.django_db


def _settings(*, version, minutes, starts_at="10:00"):
    return {"starts_at": starts_at, "minutes_allowed": minutes, "presenter": "", "version": version}


def test_a_stale_change_of_an_item_is_refused_and_changes_nothing(w):
    item = add_case(w.chair, plan(w.chair, w.csf, in_days(20)), w.case)
    services.agenda_item_update(
        actor=w.chair,
        item=item,
        presenter=None,
        starts_at=None,
        minutes_allowed=30,
        expected_version=1,
    )
    with pytest.raises(ConcurrentEdit, match="It now says: no time set, 30 minutes"):
        services.agenda_item_update(
            actor=w.chair,
            item=item,
            presenter=None,
            starts_at=None,
            minutes_allowed=40,
            expected_version=1,
        )
    item.refresh_from_db()
    assert (item.minutes_allowed, item.settings_version) == (30, 2)


def test_the_settings_page_shows_theirs_keeps_mine_and_offers_the_new_version(w):
    meeting = plan(w.chair, w.csf, in_days(20))
    item = add_case(w.chair, meeting, w.case)
    url = reverse("forums:item_settings", args=[meeting.pk, item.pk])
    first, second = signed_in_client(w.chair), signed_in_client(w.chair)
    assert 'name="version" value="1"' in first.get(url).content.decode()
    assert first.post(url, _settings(version=1, minutes=35)).status_code == 302
    page = second.post(url, _settings(version=1, minutes=55, starts_at="11:15"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "govuk-error-summary" in text and "<title>Error:" in text
    assert "Someone else changed this item" in text and "10:00, 35 minutes" in text
    assert 'value="55"' in text and 'value="11:15"' in text  # typed, kept
    assert 'name="version" value="2"' in text
    item.refresh_from_db()
    assert item.minutes_allowed == 35
    assert second.post(url, _settings(version=2, minutes=55)).status_code == 302
    item.refresh_from_db()
    assert (item.minutes_allowed, item.settings_version) == (55, 3)
