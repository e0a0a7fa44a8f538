"""Door 2 of issue 19: the agenda builder offers exactly the cases the chair may see and
the forum may discuss; adding one is checked in the service; what it shows is logged."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import access
from cases import services as case_services
from cases.models import Case
from consent import services as consent_services
from csf_portal.errors import DomainError
from csf_portal.models import AccessEvent, Role
from forums import selectors
from forums.models import AgendaItem, Forum, ForumMembership
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent, set_up
from tests.forums.conftest import add_case, in_days, plan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def _case(w, *, given, involve=True, purposes=None, state=None):
    case = CaseFactory(person__given_name=given, person__family_name="Candidate")
    consent = give_consent(case.person)
    if purposes is not None:
        type(consent).objects.filter(pk=consent.pk).update(purposes=purposes)
    if involve:
        case_services.case_agency_join(actor=w.chair, case=case, agency=w.safeguarding)
    case_services.case_agency_join(actor=w.chair, case=case, agency=w.hostel)
    if state is not None:
        Case.objects.filter(pk=case.pk).update(state=state)
    return case


@pytest.fixture
def cases(w):
    return {
        "seen": _case(w, given="Seen"),
        "not_involved": _case(w, given="Elsewhere", involve=False),
        "care_only": _case(w, given="Careonly", purposes=["care_planning"]),
        "closed": _case(w, given="Closed", state=Case.State.CLOSED),
    }


def _names(candidates):
    return {c.person.given_name for c in candidates["awaiting"] + candidates["due"]}


def test_candidates_are_exactly_the_cases_the_chair_may_see_and_the_forum_may_discuss(w, cases):
    meeting = plan(w.chair, w.csf, in_days(5))
    found = _names(selectors.agenda_candidates(user=w.chair, meeting=meeting))
    # Kirsty's case (the conftest world) and "Seen" only: not another agency's case,
    # not one whose consent is for care planning alone, not a closed one.
    assert found == {"Kirsty", "Seen"}
    assert set(access.agenda_cases_for(user=w.chair, forum=w.csf)) >= {w.case, cases["seen"]}


def test_withdrawing_consent_takes_a_case_out_of_the_builder_at_once(w, cases):
    meeting = plan(w.chair, w.csf, in_days(5))
    consent = cases["seen"].person.consents.get()
    consent_services.consent_withdraw(
        actor=w.chair, consent=consent, recorded_by=w.chair, note="Asked us to stop."
    )
    assert "Seen" not in _names(selectors.agenda_candidates(user=w.chair, meeting=meeting))


def test_the_service_refuses_a_case_the_chair_may_not_bring(w, cases):
    meeting = plan(w.chair, w.csf, in_days(5))
    for key in ("not_involved", "care_only"):
        with pytest.raises(DomainError, match="Choose a case from the list") as error:
            add_case(w.chair, meeting, cases[key])
        assert error.value.field == "case"
    assert not AgendaItem.objects.filter(meeting=meeting).exists()
    # The standing member gained nothing from the attempt.
    assert not access.has_meeting_access(w.member, case=cases["not_involved"])


def test_a_practitioner_forum_chair_sees_only_their_own_agencys_cases(w, cases):
    forum = Forum.objects.get(kind=Forum.Kind.PRACTITIONER)
    lead = UserFactory(agency=w.housing, roles=[Role.PRACTITIONER])
    with set_up():
        ForumMembership.objects.create(
            forum=forum, user=lead, agency=w.housing, role=ForumMembership.Role.CHAIR
        )
    assert access.can_run_forum(lead, forum)
    meeting = plan(lead, forum, in_days(5))
    assert _names(selectors.agenda_candidates(user=lead, meeting=meeting)) == set()
    with pytest.raises(DomainError, match="Choose a case from the list"):
        add_case(lead, meeting, cases["seen"])
    own = CaseFactory(person__given_name="Housed", person__family_name="Candidate")
    give_consent(own.person)
    case_services.case_agency_join(actor=w.chair, case=own, agency=w.housing)
    assert _names(selectors.agenda_candidates(user=lead, meeting=meeting)) == {"Housed"}
    assert add_case(lead, meeting, own).case == own


def test_the_builder_page_lists_only_those_and_logs_the_read(w, cases):
    meeting = plan(w.chair, w.csf, in_days(5))
    client = signed_in_client(w.chair)
    url = reverse("forums:agenda_add", args=[meeting.pk])
    before = AccessEvent.objects.filter(object_type="forums.agenda_candidates").count()
    page = client.get(url).content.decode()
    assert "Seen Candidate" in page and "Kirsty" in page
    for hidden in ("Elsewhere", "Careonly", "Closed Candidate"):
        assert hidden not in page
    logged = AccessEvent.objects.filter(object_type="forums.agenda_candidates")
    assert logged.count() == before + 1
    assert logged.latest("at").user == w.chair
    refused = client.post(url, {"case": str(cases["not_involved"].pk)})
    assert refused.status_code == 200
    assert not AgendaItem.objects.filter(meeting=meeting).exists()


def test_the_builder_page_keeps_a_constant_number_of_queries(w):
    meeting = plan(w.chair, w.csf, in_days(5))
    client = signed_in_client(w.chair)
    url = reverse("forums:agenda_add", args=[meeting.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for n in range(2):
        _case(w, given=f"First{n}")
    few = queries()
    for n in range(6):
        _case(w, given=f"More{n}")
    assert queries() == few


def test_an_old_meeting_is_no_way_round(w, cases):
    """A meeting that started yesterday offers the same candidates: need to know is now."""
    meeting = plan(w.chair, w.csf, timezone.now() - datetime.timedelta(days=1))
    assert _names(selectors.agenda_candidates(user=w.chair, meeting=meeting)) == {"Kirsty", "Seen"}
    other_agency = AgencyFactory()
    assert not access.agenda_cases_for(
        user=UserFactory(agency=other_agency, roles=[Role.FORUM_CHAIR]), forum=w.csf
    ).exists()
