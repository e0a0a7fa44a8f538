"""Consent and sharing bases are enforced (DESIGN §4 rules 1 and 3), not advisory."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

import access
from consent import services
from consent.models import SharingBasis
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import Role
from csf_portal.system import SYSTEM_USERNAME
from tests.conftest import signed_in_client
from tests.factories import (
    AgencyFactory,
    CaseFactory,
    UserFactory,
    approved_sharing_basis,
    give_consent,
)

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
TODAY = timezone.localdate


@pytest.fixture
def setting():
    """A case two agencies are involved in; consent covers only the hostel."""
    hostel, police = AgencyFactory(name="Hostel"), AgencyFactory(name="Police")
    case = CaseFactory()
    consent = give_consent(case.person, agencies=[hostel], all_member_agencies=False)
    for agency in (hostel, police):
        access.case_access_grant(agency=agency, case=case)
    return {
        "case": case,
        "person": case.person,
        "consent": consent,
        "hostel": UserFactory(agency=hostel),
        "police": UserFactory(agency=police),
    }


def _sees(user, case) -> bool:
    return access.can_view_case(user, case) and case in access.cases_visible_to(user=user)


def _http_status(user, case) -> int:
    return signed_in_client(user).get(reverse("cases:detail", args=[case.pk])).status_code


def test_only_covered_involved_agencies_see_the_case(setting):
    assert _sees(setting["hostel"], setting["case"])
    assert not _sees(setting["police"], setting["case"])  # involved, not covered
    assert _http_status(setting["hostel"], setting["case"]) == 200
    assert _http_status(setting["police"], setting["case"]) == 404


def test_withdrawal_bites_at_once_and_the_records_are_kept(setting):
    hostel = setting["hostel"]
    services.consent_withdraw(actor=hostel, consent=setting["consent"], recorded_by=hostel)
    assert not _sees(hostel, setting["case"])
    assert _http_status(hostel, setting["case"]) == 404
    person_url = reverse("cases:person", args=[setting["person"].pk])
    assert signed_in_client(hostel).get(person_url).status_code == 404
    setting["case"].refresh_from_db()
    setting["consent"].refresh_from_db()
    assert setting["consent"].withdrawn_at is not None


def test_new_consent_to_more_agencies_restores_and_widens_access(setting):
    hostel, police = setting["hostel"], setting["police"]
    services.consent_withdraw(actor=hostel, consent=setting["consent"], recorded_by=hostel)
    # recording consent is possible without current consent: it is how access returns
    assert (
        signed_in_client(hostel)
        .get(reverse("consent:overview", args=[setting["person"].pk]))
        .status_code
        == 200
    )
    services.consent_record(
        actor=hostel,
        person=setting["person"],
        method="verbal",
        given_on=TODAY(),
        review_date=TODAY() + datetime.timedelta(days=90),
        purposes=["care_planning"],
        capacity_considered=True,
        capacity_outcome="has_capacity",
        agencies=[hostel.agency, police.agency],
    )
    assert _sees(hostel, setting["case"])
    assert _sees(police, setting["case"])
    assert _http_status(police, setting["case"]) == 200


def test_consent_lapses_at_its_review_date(setting):
    consent = setting["consent"]
    consent.review_date = TODAY() - datetime.timedelta(days=1)
    access.sharing_write(consent, actor=consent.recorded_by)
    assert not _sees(setting["hostel"], setting["case"])


def test_lists_stop_showing_a_case_the_day_consent_lapses_without_a_refresh(setting):
    from cases.models import CaseVisibility

    CaseVisibility.objects.filter(case=setting["case"]).update(
        covered_until=TODAY() - datetime.timedelta(days=1)
    )
    assert setting["case"] not in access.cases_visible_to(user=setting["hostel"])


def test_a_sharing_basis_covers_without_consent_until_it_ends(setting):
    chair = UserFactory(roles=[Role.FORUM_CHAIR])
    police = setting["police"]
    basis = approved_sharing_basis(
        setting["person"], basis=SharingBasis.Basis.CRIME, agencies=[police.agency]
    )
    assert _sees(police, setting["case"])
    services.sharing_basis_end(actor=chair, basis=basis)
    assert not _sees(police, setting["case"])


def test_a_sharing_basis_expires(setting):
    basis = approved_sharing_basis(
        setting["person"],
        basis=SharingBasis.Basis.VITAL_INTERESTS,
        starts_on=TODAY() - datetime.timedelta(days=10),
        ends_on=TODAY(),
        agencies=[setting["police"].agency],
    )
    assert access.can_view_case(setting["police"], setting["case"])
    SharingBasis.objects.filter(pk=basis.pk).update(ends_on=TODAY() - datetime.timedelta(days=1))
    assert not access.can_view_case(setting["police"], setting["case"])


def test_sharing_basis_request_rules(setting):
    hostel = setting["hostel"]
    kwargs = dict(
        actor=hostel,
        person=setting["person"],
        basis="safeguarding",
        justification="Section 42 enquiry.",
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=30),
        agencies=[hostel.agency],
    )
    with pytest.raises(DomainError, match="Explain why"):
        services.sharing_basis_request(**kwargs | {"justification": " "})
    with pytest.raises(DomainError, match="end date must be on or after"):
        services.sharing_basis_request(**kwargs | {"ends_on": TODAY() - datetime.timedelta(days=1)})
    record = services.sharing_basis_request(**kwargs)
    assert record.status == SharingBasis.Status.PENDING
    assert record.requested_by == hostel


def test_consent_rules(setting):
    hostel = setting["hostel"]
    kwargs = dict(
        actor=hostel,
        person=setting["person"],
        method="written",
        given_on=TODAY(),
        review_date=TODAY() - datetime.timedelta(days=1),
        purposes=["referral"],
        capacity_considered=False,
        capacity_outcome="not_in_doubt",
        all_member_agencies=True,
    )
    with pytest.raises(DomainError, match="review date must be in the future"):
        services.consent_record(**kwargs)
    with pytest.raises(DomainError, match="who recorded"):
        services.consent_withdraw(actor=hostel, consent=setting["consent"], recorded_by=None)
    outsider = UserFactory()
    with pytest.raises(NotAllowed):
        services.consent_record(**kwargs | {"actor": outsider})


def test_consent_pages_explain_bad_input(setting):
    client = signed_in_client(setting["hostel"])
    person = setting["person"]
    response = client.post(
        reverse("consent:record", args=[person.pk]),
        {
            "review_date_0": "1",
            "review_date_1": "1",
            "review_date_2": "2020",
            "persons_own_words": "<script>x</script>",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    for message in (
        "Select at least one purpose",
        "Select how consent was given",
        "The review date must be in the future",
        "Remove the HTML or script",
        "Select which agencies may share information",
    ):
        assert message in body, message
    response = client.post(
        reverse("consent:withdraw", args=[person.pk, setting["consent"].pk]), {"recorded_by": ""}
    )
    assert "Select who recorded the withdrawal" in response.content.decode()


def test_outsiders_get_404_on_consent_pages(setting):
    outsider = UserFactory(agency=AgencyFactory())
    commissioner = UserFactory(agency=setting["hostel"].agency, roles=[Role.COMMISSIONER])
    person = setting["person"]
    urls = [
        reverse("consent:overview", args=[person.pk]),
        reverse("consent:record", args=[person.pk]),
        reverse("consent:basis_record", args=[person.pk]),
        reverse("consent:withdraw", args=[person.pk, setting["consent"].pk]),
    ]
    for user in (outsider, commissioner):
        client = signed_in_client(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)


def test_withdrawal_through_the_page(setting):
    hostel = setting["hostel"]
    client = signed_in_client(hostel)
    response = client.post(
        reverse("consent:withdraw", args=[setting["person"].pk, setting["consent"].pk]),
        {"recorded_by": hostel.pk, "note": "Does not want the police told anything."},
    )
    assert response.status_code == 302
    assert _http_status(hostel, setting["case"]) == 404


def test_review_reminders_go_to_covered_involved_workers_once(setting):
    from consent.tasks import review_reminders
    from csf_portal.models import Notification

    consent = setting["consent"]
    consent.review_date = TODAY() + datetime.timedelta(days=10)
    access.sharing_write(consent, actor=consent.recorded_by)
    later = give_consent(
        setting["person"], agencies=[setting["hostel"].agency], all_member_agencies=False, days=200
    )  # not yet due
    assert review_reminders() == 1
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert notified == {setting["hostel"].pk}  # police are involved but not covered
    consent.refresh_from_db()
    later.refresh_from_db()
    assert consent.review_reminder_sent_on == TODAY()
    assert later.review_reminder_sent_on is None
    assert review_reminders() == 0  # idempotent
    assert Notification.objects.count() == 1
    # The nightly task acts as the portal's own account, which no one can sign in as.
    marked = consent.history.latest()
    assert marked.review_reminder_sent_on == TODAY()
    assert marked.history_user.username == SYSTEM_USERNAME
    assert not marked.history_user.is_active and not marked.history_user.has_usable_password()


def test_no_reminder_for_a_consent_already_renewed(setting):
    from consent.tasks import review_reminders
    from csf_portal.models import Notification

    consent = setting["consent"]
    consent.given_on = TODAY() - datetime.timedelta(days=300)
    consent.review_date = TODAY() + datetime.timedelta(days=10)
    access.sharing_write(consent, actor=consent.recorded_by)
    give_consent(setting["person"], agencies=[setting["hostel"].agency], all_member_agencies=False)
    assert review_reminders() == 0
    assert not Notification.objects.exists()
