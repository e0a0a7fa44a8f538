"""Sharing without consent needs a second, eligible person; purposes are checked per use;
bases warn before they lapse; future-dated coverage enters lists on its own (issue 19)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

import access
from consent import services
from consent.models import SharingBasis
from csf_portal.errors import NotAllowed
from csf_portal.models import Notification, Role
from csf_portal.system import system_actor
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
TODAY = timezone.localdate


@pytest.fixture
def w():
    police = AgencyFactory(name="Police")
    case = CaseFactory()
    access.case_access_grant(agency=police, case=case)
    return {
        "case": case,
        "person": case.person,
        "police": UserFactory(agency=police, roles=[Role.PRACTITIONER]),
        "chair": UserFactory(roles=[Role.FORUM_CHAIR]),
        "other_chair": UserFactory(roles=[Role.FORUM_CHAIR]),
    }


def _request(actor, person, agency, **kw):
    return services.sharing_basis_request(
        actor=actor,
        person=person,
        basis="crime",
        justification="Threats to staff.",
        starts_on=kw.get("starts_on", TODAY()),
        ends_on=kw.get("ends_on", TODAY() + datetime.timedelta(days=60)),
        agencies=[agency],
        check_recorder=False,
    )


def _sees(user, case) -> bool:
    return access.can_view_case(user, case) or case in access.cases_visible_to(user=user)


def test_a_request_covers_no_one_until_another_chair_approves_it(w):
    basis = _request(w["police"], w["person"], w["police"].agency)
    assert not _sees(w["police"], w["case"])
    # The chairs are told, and it waits on their list (not the requester's).
    assert Notification.objects.filter(user=w["chair"]).exists()
    waiting = signed_in_client(w["chair"]).get(reverse("sharing_bases:waiting"))
    assert escape(w["person"].family_name) in waiting.content.decode()
    decide = reverse("sharing_bases:decide", args=[basis.pk])
    assert signed_in_client(w["police"]).get(decide).status_code == 404
    with pytest.raises(NotAllowed):
        services.sharing_basis_approve(actor=w["police"], basis=basis)
    response = signed_in_client(w["chair"]).post(decide, {"decision": "approve"})
    assert response.status_code == 302
    basis.refresh_from_db()
    assert basis.status == SharingBasis.Status.APPROVED and basis.approved_by == w["chair"]
    assert _sees(w["police"], w["case"])
    assert {h.status for h in basis.history.all()} == {"pending", "approved"}


def test_a_chair_cannot_approve_their_own_request(w):
    basis = _request(w["chair"], w["person"], w["police"].agency)
    assert not access.can_approve_sharing_basis(w["chair"], basis)
    with pytest.raises(NotAllowed):
        services.sharing_basis_approve(actor=w["chair"], basis=basis)
    assert not _sees(w["police"], w["case"])
    assert access.can_approve_sharing_basis(w["other_chair"], basis)


def test_a_refused_request_never_covers_and_needs_a_reason(w):
    basis = _request(w["police"], w["person"], w["police"].agency)
    client = signed_in_client(w["other_chair"])
    decide = reverse("sharing_bases:decide", args=[basis.pk])
    response = client.post(decide, {"decision": "refuse", "reason": ""})
    assert response.status_code == 200 and "govuk-error-summary" in response.content.decode()
    client.post(decide, {"decision": "refuse", "reason": "Consent can be sought first."})
    basis.refresh_from_db()
    assert basis.status == SharingBasis.Status.REFUSED
    assert not _sees(w["police"], w["case"])


def test_consent_covers_only_the_uses_its_purposes_name(w):
    hostel = AgencyFactory()
    access.case_access_grant(agency=hostel, case=w["case"])
    worker = UserFactory(agency=hostel, roles=[Role.PRACTITIONER])
    consent = give_consent(w["person"], agencies=[hostel], all_member_agencies=False)
    consent.purposes = ["referral"]  # to the forum only, not for care planning
    access.sharing_write(consent, actor=consent.recorded_by)
    assert not _sees(worker, w["case"])
    pid = w["person"].pk
    assert access.people_covered(
        person_ids=[pid], agency_id=hostel.pk, use=access.Use.FORUM_DISCUSSION
    ) == {pid}
    assert not access.people_covered(
        person_ids=[pid], agency_id=hostel.pk, use=access.Use.CARE_COORDINATION
    )
    consent.purposes = ["referral", "care_planning"]
    access.sharing_write(consent, actor=consent.recorded_by)
    assert _sees(worker, w["case"])


def test_workers_are_told_once_before_a_basis_lapses(w):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC), tick=False):
        basis = _request(w["police"], w["person"], w["police"].agency)
        services.sharing_basis_approve(actor=w["chair"], basis=basis)
        Notification.objects.all().delete()
    from consent.tasks import sharing_basis_lapse_reminders

    with time_machine.travel(datetime.datetime(2026, 4, 10, 9, tzinfo=datetime.UTC), tick=False):
        assert sharing_basis_lapse_reminders() == 1  # ends 1 May: within 4 weeks
        assert set(Notification.objects.values_list("user_id", flat=True)) == {w["police"].pk}
        assert sharing_basis_lapse_reminders() == 0
        assert Notification.objects.count() == 1
    # No one acted: the nightly task marks it as the portal's own account, named in history.
    marked = basis.history.latest()
    assert marked.lapse_reminder_sent_on == datetime.date(2026, 4, 10)
    assert marked.history_user == system_actor()


def test_a_future_basis_enters_the_list_on_its_first_day_without_a_write(w):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC), tick=False):
        basis = _request(
            w["police"],
            w["person"],
            w["police"].agency,
            starts_on=datetime.date(2026, 3, 9),
            ends_on=datetime.date(2026, 4, 9),
        )
        services.sharing_basis_approve(actor=w["chair"], basis=basis)
        assert w["case"] not in access.cases_visible_to(user=w["police"])
    with time_machine.travel(datetime.datetime(2026, 3, 9, 9, tzinfo=datetime.UTC), tick=False):
        assert w["case"] in access.cases_visible_to(user=w["police"])
    with time_machine.travel(datetime.datetime(2026, 4, 10, 9, tzinfo=datetime.UTC), tick=False):
        assert w["case"] not in access.cases_visible_to(user=w["police"])
        from consent.tasks import visibility_roll

        assert visibility_roll() == 1
        assert not access.cases_visible_to(user=w["police"]).exists()
