"""Referral rules: the state machine, access on acceptance, duplicates and repeats."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse

import access
from cases.models import Case, Person
from csf_portal.errors import DomainError, InvalidTransition, NotAllowed
from csf_portal.models import Notification, Role
from referrals import selectors, services
from referrals.models import Referral
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import complete_referral

pytestmark = pytest.mark.django_db
S = Referral.State


def test_a_new_referral_is_a_draft_of_the_referrers_agency(referrer):
    referral = services.referral_start(actor=referrer)
    assert referral.state == S.DRAFT
    assert referral.referring_agency == referrer.agency


def test_only_practitioners_and_chairs_may_refer(db):
    commissioner = UserFactory(roles=[Role.COMMISSIONER])
    with pytest.raises(NotAllowed):
        services.referral_start(actor=commissioner)


def test_an_incomplete_referral_cannot_be_submitted(referrer):
    referral = services.referral_start(actor=referrer)
    with pytest.raises(DomainError, match="not finished"):
        services.referral_submit(actor=referrer, referral=referral)
    missing = {step for step, _ in services.referral_missing_answers(referral)}
    assert {"person", "meam", "reasons", "risks", "basis", "urgency"} <= missing


def test_no_submission_without_a_lawful_basis(referrer):
    referral = complete_referral(referrer, submit=False, lawful_basis="")
    assert ("basis", "Select the lawful basis for sharing this information") in (
        services.referral_missing_answers(referral)
    )
    with pytest.raises(DomainError):
        services.referral_submit(actor=referrer, referral=referral)


def test_consent_needs_the_person_to_have_been_told(referrer):
    referral = complete_referral(referrer, submit=False, consent_person_informed=False)
    with pytest.raises(DomainError, match="told what will be shared"):
        services.referral_submit(actor=referrer, referral=referral)


def test_another_basis_needs_a_justification(referrer):
    referral = complete_referral(
        referrer, submit=False, basis=Referral.LawfulBasis.SAFEGUARDING, basis_justification=""
    )
    with pytest.raises(DomainError, match="justified"):
        services.referral_submit(actor=referrer, referral=referral)


def test_submission_notifies_the_chairs(referrer, chair):
    referral = complete_referral(referrer)
    assert referral.state == S.SUBMITTED
    assert referral.submitted_at is not None
    assert Notification.objects.filter(user=chair, url__contains=str(referral.pk)).exists()


def test_a_submitted_referral_can_no_longer_be_edited(referrer):
    referral = complete_referral(referrer)
    with pytest.raises(InvalidTransition, match="Only a draft"):
        services.referral_update(actor=referrer, referral=referral, given_name="Changed")


@pytest.mark.parametrize(
    "decide",
    [
        lambda chair, r: services.referral_accept(actor=chair, referral=r),
        lambda chair, r: services.referral_decline(actor=chair, referral=r, reason="Not complex"),
        lambda chair, r: services.referral_redirect(
            actor=chair, referral=r, destination="practitioner_forum", advice="Try the PF"
        ),
    ],
)
def test_a_draft_cannot_be_decided(referrer, chair, decide):
    draft = complete_referral(referrer, submit=False)
    with pytest.raises(InvalidTransition, match="is still a draft"):
        decide(chair, draft)


def test_decisions_are_final(referrer, chair):
    referral = complete_referral(referrer)
    services.referral_decline(actor=chair, referral=referral, reason="Single-agency need")
    with pytest.raises(InvalidTransition, match="already been declined, so it cannot be accepted"):
        services.referral_accept(actor=chair, referral=referral)
    with pytest.raises(InvalidTransition, match="already been declined, so it cannot be withdrawn"):
        services.referral_withdraw(actor=referrer, referral=referral, reason="late")


def test_only_a_chair_decides(referrer):
    referral = complete_referral(referrer)
    with pytest.raises(NotAllowed):
        services.referral_accept(actor=referrer, referral=referral)


def test_withdraw_before_a_decision(referrer):
    referral = complete_referral(referrer)
    with pytest.raises(DomainError, match="why"):
        services.referral_withdraw(actor=referrer, referral=referral, reason=" ")
    services.referral_withdraw(actor=referrer, referral=referral, reason="Housed and engaging")
    referral.refresh_from_db()
    assert referral.state == S.WITHDRAWN
    assert referral.withdrawal_reason == "Housed and engaging"


def test_another_agency_cannot_withdraw(referrer):
    referral = complete_referral(referrer)
    outsider = UserFactory()
    with pytest.raises(NotAllowed):
        services.referral_withdraw(actor=outsider, referral=referral, reason="no")


def test_decline_needs_a_reason_and_tells_the_referrer(referrer, chair):
    referral = complete_referral(referrer)
    with pytest.raises(DomainError):
        services.referral_decline(actor=chair, referral=referral, reason="")
    services.referral_decline(actor=chair, referral=referral, reason="Single-agency need")
    referral.refresh_from_db()
    assert referral.state == S.DECLINED
    assert referral.decided_by == chair
    assert referral.decision_reason == "Single-agency need"
    assert Notification.objects.filter(user=referrer, text__contains="declined").exists()


def test_redirect_to_a_named_service_needs_its_name(referrer, chair):
    referral = complete_referral(referrer)
    with pytest.raises(DomainError, match="Name the service"):
        services.referral_redirect(
            actor=chair, referral=referral, destination="named_service", advice="Call them"
        )
    services.referral_redirect(
        actor=chair,
        referral=referral,
        destination="named_service",
        service="Complex Needs Team",
        advice="Call them",
    )
    referral.refresh_from_db()
    assert referral.state == S.REDIRECTED
    assert referral.redirect_service == "Complex Needs Team"


@pytest.mark.django_db(transaction=True)
def test_decision_is_emailed_to_the_referrer_after_commit(referrer, chair):
    referral = complete_referral(referrer)
    mail.outbox.clear()
    services.referral_decline(actor=chair, referral=referral, reason="Single-agency need")
    assert [m.to for m in mail.outbox] == [[referrer.email]]
    assert "Kate" not in mail.outbox[0].body  # no personal data in email


def test_accept_opens_a_case_and_grants_only_covered_agencies(referrer, chair):
    hostel, mental_health, gp = AgencyFactory(), AgencyFactory(), AgencyFactory()
    referral = complete_referral(
        referrer, involved=[hostel, mental_health, gp], covered=[hostel, mental_health]
    )
    services.referral_accept(actor=chair, referral=referral)
    referral.refresh_from_db()
    case = referral.case
    assert referral.state == S.ACCEPTED
    assert case.state == Case.State.AWAITING_FORUM
    assert case.person.family_name == "Smyth"
    assert not referral.is_repeat
    for agency, sees in [
        (referrer.agency, True),
        (chair.agency, True),
        (hostel, True),
        (mental_health, True),
        (gp, False),  # involved but not covered by the consent
    ]:
        user = UserFactory(agency=agency)
        assert access.can_view_case(user, case) is sees, agency


def test_accepting_a_closed_persons_referral_reopens_the_case_as_a_repeat(referrer, chair):
    first = complete_referral(referrer, nhs_number="9434765919")
    services.referral_accept(actor=chair, referral=first)
    first.refresh_from_db()
    case = first.case
    Case.objects.filter(pk=case.pk).update(state=Case.State.CLOSED, closure_outcome="risk_reduced")

    second = complete_referral(referrer, nhs_number="9434765919")
    # Linked by NHS number at submission (name and date of birth agree); the chair confirms.
    assert second.person_id == case.person_id
    services.referral_accept(actor=chair, referral=second, person=second.person)
    second.refresh_from_db()
    case.refresh_from_db()
    assert second.case == case
    assert second.is_repeat
    assert case.state == Case.State.AWAITING_FORUM
    assert case.times_reopened == 1
    assert Person.objects.count() == 1


def test_chair_can_confirm_a_name_variant_is_a_known_person(referrer, chair):
    first = complete_referral(referrer, given_name="Katherine", family_name="Smith")
    services.referral_accept(actor=chair, referral=first)
    first.refresh_from_db()
    second = complete_referral(referrer, given_name="Kate", family_name="Smyth")
    matches = selectors.person_matches_for_triage(user=chair, referral=second)
    assert matches == [first.case.person]
    services.referral_accept(actor=chair, referral=second, person=matches[0])
    second.refresh_from_db()
    assert second.case == first.case
    assert second.is_repeat
    assert Person.objects.count() == 1


def test_triage_queue_is_oldest_first_and_flags_repeat_referrals(referrer, chair):
    first = complete_referral(referrer, given_name="Katherine", family_name="Smith")
    services.referral_accept(actor=chair, referral=first)
    other = complete_referral(
        referrer, given_name="Brian", family_name="Okoro", date_of_birth=datetime.date(1970, 1, 1)
    )
    again = complete_referral(referrer, given_name="Kate", family_name="Smyth")
    queue = list(selectors.triage_queue(user=chair))
    assert queue == [other, again]
    assert [r.has_earlier for r in queue] == [False, True]
    assert [r.pk for r in selectors.earlier_referrals(user=chair, referral=again)] == [first.pk]
    assert list(selectors.triage_queue(user=referrer)) == []


def test_referrer_is_offered_only_people_they_may_see(referrer, chair):
    first = complete_referral(referrer, given_name="Katherine", family_name="Smith")
    services.referral_accept(actor=chair, referral=first)
    first.refresh_from_db()

    draft = complete_referral(referrer, submit=False)
    assert selectors.person_matches_for_referrer(user=referrer, referral=draft) == [
        first.case.person
    ]
    stranger = UserFactory()
    their_draft = complete_referral(stranger, submit=False)
    assert selectors.person_matches_for_referrer(user=stranger, referral=their_draft) == []
    with pytest.raises(NotAllowed):
        services.referral_use_person(actor=stranger, referral=their_draft, person=first.case.person)


def test_using_a_known_person_prefills_what_is_known(referrer, chair):
    first = complete_referral(
        referrer, given_name="Katherine", family_name="Smith", gp_practice="Harbour Surgery"
    )
    services.referral_accept(actor=chair, referral=first)
    first.refresh_from_db()
    draft = services.referral_start(actor=referrer)
    services.referral_update(
        actor=referrer,
        referral=draft,
        given_name="Kate",
        family_name="Smyth",
        date_of_birth=datetime.date(1982, 4, 3),
    )
    services.referral_use_person(actor=referrer, referral=draft, person=first.case.person)
    draft.refresh_from_db()
    assert draft.person == first.case.person
    assert draft.gp_practice == "Harbour Surgery"
    assert draft.given_name == "Kate"  # what the referrer typed is kept


def test_every_state_change_is_in_history_with_who(referrer, chair):
    referral = complete_referral(referrer)
    services.referral_accept(actor=chair, referral=referral)
    events = selectors.state_history(referral=referral)
    assert [(e["state"], e["by"]) for e in events] == [
        ("Draft", referrer),
        ("Submitted", referrer),
        ("Accepted", chair),
    ]


def test_a_known_persons_latest_assessment_is_attached_not_retyped(referrer, chair):
    from assessments import services as assessment_services

    first = complete_referral(referrer, given_name="Katherine", family_name="Smith")
    services.referral_accept(actor=chair, referral=first)
    first.refresh_from_db()
    person = first.case.person
    assessment = assessment_services.assessment_start(actor=referrer, person=person)
    answers = {i.pk: (1, "") for i in assessment.template.items.all()}
    assessment_services.assessment_save(actor=referrer, assessment=assessment, answers=answers)
    assessment_services.assessment_complete(actor=referrer, assessment=assessment)

    draft = complete_referral(referrer, submit=False)
    services.referral_use_person(actor=referrer, referral=draft, person=person)
    draft.refresh_from_db()
    assert draft.assessment == assessment
    page = (
        signed_in_client(referrer).get(reverse("referrals:check", args=[draft.pk])).content.decode()
    )
    assert "Latest assessment attached: score 17 out of 68" in page
