"""Named workers change with a date and a reason, and each involved agency's crisis contacts
are on the case page (issue 20, part 2)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

import access
from cases import services
from cases.models import CaseAgency, NamedWorkerChange
from csf_portal.errors import ConcurrentEdit, DomainError, NotAllowed
from csf_portal.models import AccessEvent, Notification, Role
from csf_portal.services import agency_update
from forums.services import agency_leaves_case_decide
from tests.conftest import signed_in_client
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    discussed_at_meeting,
    give_consent,
)

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def w():
    # The agencies joined 40 days ago (consent, given today, is what lets them see it now).
    with time_machine.travel(timezone.now() - datetime.timedelta(days=40), tick=False):
        chair = UserFactory(
            agency=AgencyFactory(name="Adult Safeguarding"), roles=[Role.FORUM_CHAIR]
        )
        hostel, police = AgencyFactory(name="Hostel"), AgencyFactory(name="Police")
        jo = UserFactory(agency=hostel, first_name="Jo", last_name="Bloggs")
        sam = UserFactory(
            agency=hostel, first_name="Sam", last_name="Okafor", job_title="Keyworker"
        )
        case = CaseFactory()
        services.case_agency_join(actor=chair, case=case, agency=chair.agency)
        hostel_in = services.case_agency_join(
            actor=chair, case=case, agency=hostel, named_worker=jo
        )
        services.case_agency_join(actor=chair, case=case, agency=police)
    give_consent(case.person)
    return {
        "chair": chair,
        "case": case,
        "hostel": hostel,
        "involvement": hostel_in,
        "jo": jo,
        "sam": sam,
        "officer": UserFactory(agency=police),
    }


def _change(actor, involvement, worker, *, on=None, reason="Jo has moved team", **contacts):
    involvement.refresh_from_db()
    return services.involvement_update(
        actor=actor,
        involvement=involvement,
        expected_version=involvement.version,
        named_worker=worker,
        changed_on=on or timezone.localdate(),
        reason=reason,
        **{k: contacts.get(k, getattr(involvement, k)) for k in CONTACTS},
    )


CONTACTS = ("work_phone", "team_inbox", "out_of_hours")


def test_joining_with_a_worker_records_the_first_naming(w):
    first = NamedWorkerChange.objects.get(involvement=w["involvement"])
    assert (first.worker_before, first.worker_after) == (None, w["jo"])
    assert first.changed_on == _days_ago(40)
    assert first.reason == "Named when Hostel joined the case"
    # Jo did not name herself: she is told.
    assert Notification.objects.filter(user=w["jo"], text__contains="named worker").exists()


def test_a_worker_changes_from_a_date_with_a_reason_and_both_are_told(w):
    done = _change(w["jo"], w["involvement"], w["sam"], on=_days_ago(6))
    assert done.named_worker == w["sam"]
    change = NamedWorkerChange.objects.filter(involvement=done).latest("recorded_at")
    assert (change.worker_before, change.worker_after) == (w["jo"], w["sam"])
    assert (change.changed_on, change.reason, change.changed_by) == (
        _days_ago(6),
        "Jo has moved team",
        w["jo"],
    )
    told = Notification.objects.get(user=w["sam"])
    day = _days_ago(6)
    assert f"You are now Hostel's named worker on a case, from {day.day} {day:%B %Y}" in told.text
    assert told.url == f"/cases/{w['case'].pk}/"
    # Jo made the change herself, so she is not told of it.
    assert not Notification.objects.filter(user=w["jo"], text__contains="no longer").exists()
    assert done.history.first().history_change_reason == "Jo has moved team"


def test_the_chair_can_change_any_agencys_worker_and_the_one_replaced_is_told(w):
    _change(w["chair"], w["involvement"], w["sam"])
    assert Notification.objects.filter(user=w["jo"], text__contains="no longer").exists()
    assert Notification.objects.filter(user=w["sam"], text__contains="You are now").exists()


def test_only_the_agency_itself_or_the_chair_may_change_its_worker(w):
    outsider = UserFactory(agency=AgencyFactory())
    for user in (w["officer"], outsider):
        assert not access.can_change_named_worker(user, w["involvement"])
        with pytest.raises(NotAllowed):
            _change(user, w["involvement"], w["sam"])
    assert access.named_worker_agency_ids(w["officer"], w["case"]) == {w["officer"].agency_id}
    assert access.named_worker_agency_ids(w["chair"], w["case"]) == set(
        w["case"].involvements.values_list("agency_id", flat=True)
    )
    assert access.named_worker_agency_ids(outsider, w["case"]) == set()
    # A commissioner of the same agency works with no one's case.
    commissioner = UserFactory(agency=w["hostel"], roles=[Role.COMMISSIONER])
    assert not access.can_change_named_worker(commissioner, w["involvement"])


def test_no_change_once_the_agency_has_left(w):
    item = discussed_at_meeting(w["case"], chair=w["chair"])
    agency_leaves_case_decide(
        actor=w["chair"], item=item, agency=w["hostel"], summary="Moved on to supported housing"
    )
    w["involvement"].refresh_from_db()
    assert not access.can_change_named_worker(w["chair"], w["involvement"])
    with pytest.raises(NotAllowed):
        _change(w["chair"], w["involvement"], w["sam"])


@pytest.mark.parametrize(
    ("on", "reason", "field"),
    [
        (None, "Moved team", "changed_on"),
        ("tomorrow", "Moved team", "changed_on"),
        ("before joining", "Moved team", "changed_on"),
        ("today", "   ", "reason"),
    ],
)
def test_a_change_needs_a_date_in_range_and_a_reason(w, on, reason, field):
    today = timezone.localdate()
    day = {
        None: None,
        "tomorrow": today + datetime.timedelta(days=1),
        "before joining": _days_ago(41),
        "today": today,
    }[on]
    w["involvement"].refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.involvement_update(
            actor=w["jo"],
            involvement=w["involvement"],
            expected_version=w["involvement"].version,
            named_worker=w["sam"],
            changed_on=day,
            reason=reason,
        )
    assert refused.value.field == field
    assert CaseAgency.objects.get(pk=w["involvement"].pk).named_worker == w["jo"]


def test_a_change_cannot_be_dated_before_the_last_one(w):
    _change(w["jo"], w["involvement"], w["sam"], on=_days_ago(10))
    with pytest.raises(DomainError, match="last change of worker") as refused:
        _change(w["sam"], w["involvement"], w["jo"], on=_days_ago(11))
    assert refused.value.field == "changed_on"


def test_the_worker_must_be_of_the_agency_work_with_people_and_see_the_case(w):
    candidates = [
        UserFactory(agency=AgencyFactory()),  # another agency
        UserFactory(agency=w["hostel"], roles=[Role.COMMISSIONER]),
        UserFactory(agency=w["hostel"], is_active=False),
    ]
    for worker in candidates:
        with pytest.raises(DomainError) as refused:
            _change(w["jo"], w["involvement"], worker)
        assert refused.value.field == "named_worker"
    assert list(access.named_workers_for(involvement=w["involvement"])) == [w["jo"], w["sam"]]


def test_a_stale_change_is_refused(w):
    stale = w["involvement"].version
    _change(w["jo"], w["involvement"], w["sam"])
    with pytest.raises(ConcurrentEdit):
        services.involvement_update(
            actor=w["chair"],
            involvement=w["involvement"],
            expected_version=stale,
            named_worker=w["jo"],
            changed_on=timezone.localdate(),
            reason="Back from leave",
        )
    assert CaseAgency.objects.get(pk=w["involvement"].pk).named_worker == w["sam"]


def test_no_one_named_is_a_recorded_change_too(w):
    _change(w["jo"], w["involvement"], None, reason="Jo has left; a new keyworker is coming")
    change = NamedWorkerChange.objects.filter(involvement=w["involvement"]).latest("recorded_at")
    assert (change.worker_before, change.worker_after) == (w["jo"], None)


def test_contacts_are_the_cases_own_or_else_the_agencys(w):
    hostel = w["hostel"]
    agency_update(
        actor=UserFactory(agency=None, roles=[Role.ADMINISTRATOR]),
        agency=hostel,
        name=hostel.name,
        kind=hostel.kind,
        is_active=True,
        phone="0121 496 0000",
        team_inbox="hostel.team@example.org.uk",
        out_of_hours="Night manager on 0121 496 0999",
    )
    involvement = CaseAgency.objects.select_related("agency").get(pk=w["involvement"].pk)
    assert (involvement.contact_phone, involvement.contact_inbox) == (
        "0121 496 0000",
        "hostel.team@example.org.uk",
    )
    version = involvement.version
    # Changing only contacts asks no reason and names no new worker.
    done = services.involvement_update(
        actor=w["jo"],
        involvement=involvement,
        expected_version=version,
        named_worker=w["jo"],
        work_phone=" 07700 900123 ",
        team_inbox="",
        out_of_hours="",
    )
    assert done.version == version + 1
    assert NamedWorkerChange.objects.filter(involvement=done).count() == 1
    done = CaseAgency.objects.select_related("agency").get(pk=done.pk)
    assert done.contact_phone == "07700 900123"
    assert done.contact_inbox == "hostel.team@example.org.uk"
    assert done.contact_out_of_hours == "Night manager on 0121 496 0999"


def test_a_repeat_join_with_another_worker_is_a_recorded_change(w):
    services.case_agency_join(
        actor=w["chair"], case=w["case"], agency=w["hostel"], named_worker=w["sam"]
    )
    changes = NamedWorkerChange.objects.filter(involvement=w["involvement"]).order_by("recorded_at")
    assert [c.worker_after for c in changes] == [w["jo"], w["sam"]]
    # The same worker again is no change.
    services.case_agency_join(
        actor=w["chair"], case=w["case"], agency=w["hostel"], named_worker=w["sam"]
    )
    assert changes.count() == 2


# --- pages -----------------------------------------------------------------------


def _form(involvement, **over):
    today = timezone.localdate()
    data = {
        "named_worker": involvement.named_worker_id or "",
        "changed_on_0": today.day,
        "changed_on_1": today.month,
        "changed_on_2": today.year,
        "reason": "",
        "work_phone": involvement.work_phone,
        "team_inbox": involvement.team_inbox,
        "out_of_hours": involvement.out_of_hours,
        "version": involvement.version,
    }
    return data | over


def test_the_case_page_shows_who_the_worker_is_was_and_how_to_reach_each_agency(w):
    police = w["officer"].agency
    agency_update(
        actor=UserFactory(agency=None, roles=[Role.ADMINISTRATOR]),
        agency=police,
        name=police.name,
        kind=police.kind,
        is_active=True,
        out_of_hours="Call 101, or 999 in an emergency",
    )
    _change(w["jo"], w["involvement"], w["sam"], out_of_hours="Night manager on 0121 496 0999")
    page = signed_in_client(w["officer"]).get(reverse("cases:detail", args=[w["case"].pk]))
    body = page.content.decode()
    assert "Named worker: Sam Okafor, Keyworker" in body
    assert "Before: Jo Bloggs" in body
    assert "Night manager on 0121 496 0999" in body
    assert "Call 101, or 999 in an emergency" in body
    assert "<strong>none recorded</strong>" in body  # the chair's agency gave no route
    assert escape("Hostel's named worker: Sam Okafor, after Jo Bloggs") in body  # the timeline
    # The police may change their own agency's worker, not the hostel's.
    hostel_page = reverse("cases:involvement", args=[w["case"].pk, w["involvement"].pk])
    police_page = reverse(
        "cases:involvement",
        args=[w["case"].pk, CaseAgency.objects.get(case=w["case"], agency=police).pk],
    )
    assert f'href="{hostel_page}">Workers over time' in body
    assert f'href="{police_page}">Change worker or contacts' in body


def test_the_involvement_page_lists_the_workers_over_time_and_is_logged(w):
    _change(w["jo"], w["involvement"], w["sam"], reason="Jo is on long-term leave")
    url = reverse("cases:involvement", args=[w["case"].pk, w["involvement"].pk])
    body = signed_in_client(w["officer"]).get(url).content.decode()
    assert "Jo is on long-term leave" in body and "Named when Hostel joined the case" in body
    assert "Only Hostel, or the forum's chair, can change" in body
    assert AccessEvent.objects.filter(
        user=w["officer"], object_id=str(w["case"].pk), reason="named worker"
    ).exists()
    # Not theirs to change: a POST is a 404 and changes nothing.
    posted = signed_in_client(w["officer"]).post(url, _form(w["involvement"], named_worker=""))
    assert posted.status_code == 404
    assert CaseAgency.objects.get(pk=w["involvement"].pk).named_worker == w["sam"]


def test_the_page_is_404_for_who_cannot_see_the_case_or_another_cases_agency(w):
    url = reverse("cases:involvement", args=[w["case"].pk, w["involvement"].pk])
    assert signed_in_client(UserFactory(agency=AgencyFactory())).get(url).status_code == 404
    other = CaseFactory()
    give_consent(other.person)
    services.case_agency_join(actor=w["chair"], case=other, agency=w["hostel"])
    wrong = reverse("cases:involvement", args=[other.pk, w["involvement"].pk])
    assert signed_in_client(w["jo"]).get(wrong).status_code == 404


def test_changing_the_worker_on_the_page(w):
    url = reverse("cases:involvement", args=[w["case"].pk, w["involvement"].pk])
    client = signed_in_client(w["jo"])
    assert "Save worker and contacts" in client.get(url).content.decode()
    posted = client.post(
        url,
        _form(w["involvement"], named_worker=w["sam"].pk, reason="Jo has moved team"),
        follow=True,
    )
    assert "Worker and contacts saved." in posted.content.decode()
    assert CaseAgency.objects.get(pk=w["involvement"].pk).named_worker == w["sam"]


def test_the_page_says_what_is_wrong_and_keeps_what_was_typed(w):
    url = reverse("cases:involvement", args=[w["case"].pk, w["involvement"].pk])
    client = signed_in_client(w["jo"])
    body = client.post(
        url,
        _form(
            w["involvement"],
            named_worker=w["sam"].pk,
            reason="",
            team_inbox="not an address",
            out_of_hours="Night manager, 0121 496 0999",
        ),
    ).content.decode()
    assert "govuk-error-summary" in body
    assert "Enter the team inbox as an email address" in body
    assert "Night manager, 0121 496 0999" in body
    body = client.post(
        url, _form(w["involvement"], named_worker=w["sam"].pk, reason="")
    ).content.decode()
    assert "Say why the named worker is changing" in body
    assert CaseAgency.objects.get(pk=w["involvement"].pk).named_worker == w["jo"]


def test_a_stale_save_on_the_page_shows_the_refusal_and_keeps_the_typing(w):
    url = reverse("cases:involvement", args=[w["case"].pk, w["involvement"].pk])
    w["involvement"].refresh_from_db()
    read = _form(w["involvement"], work_phone="07700 900456")
    _change(w["chair"], w["involvement"], w["sam"], reason="Agreed at the forum")
    body = signed_in_client(w["jo"]).post(url, read).content.decode()
    assert "Someone else changed this agency" in body
    assert "07700 900456" in body
    assert CaseAgency.objects.get(pk=w["involvement"].pk).work_phone == ""
