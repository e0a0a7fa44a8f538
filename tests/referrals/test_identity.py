"""Issue 19, door 5: an NHS-number match never silently merges a referral into someone
else's record. The chair sees both sets of identifiers and says who it is about."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

import access
from cases.models import Case, CaseAgency, CaseVisibility, Gender, Person
from consent.models import ConsentRecord
from csf_portal.errors import DomainError, NotAllowed
from csf_portal.models import AccessEvent, Role
from referrals import selectors, services
from referrals.models import Referral
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up
from tests.referrals.conftest import complete_referral

pytestmark = pytest.mark.django_db
S = Referral.State
NHS = "9434765919"  # checksum-valid
BRIAN = {
    "given_name": "Brian",
    "family_name": "Okoro",
    "date_of_birth": datetime.date(1970, 1, 1),
    "gender": Gender.MAN,
    "gp_practice": "Harbour Surgery",
}


@pytest.fixture
def stranger(referrer, chair):
    """Brian Okoro: known to the forum, with a case, consent and agencies of his own."""
    referral = complete_referral(referrer, nhs_number=NHS, **BRIAN)
    services.referral_accept(actor=chair, referral=referral)
    referral.refresh_from_db()
    return referral.person


def _snapshot(person: Person) -> dict:
    """Everything about a person that a wrong link would change."""
    case = Case.objects.get(person=person)
    return {
        "person": list(
            Person.objects.filter(pk=person.pk).values(
                "given_name",
                "family_name",
                "date_of_birth",
                "nhs_number",
                "gp_practice",
                "accommodation_status",
                "updated_at",
            )
        ),
        "person_history": person.history.count(),
        "consents": list(
            ConsentRecord.objects.filter(person=person).values_list("pk", "withdrawn_at")
        ),
        "consent_agencies": sorted(
            ConsentRecord.agencies.through.objects.filter(consentrecord__person=person).values_list(
                "agency_id", flat=True
            )
        ),
        "case": list(Case.objects.filter(pk=case.pk).values("state", "times_reopened")),
        "involvements": sorted(
            CaseAgency.objects.filter(case=case).values_list("agency_id", "left_at")
        ),
        "visibility": sorted(
            CaseVisibility.objects.filter(case=case).values_list("agency_id", flat=True)
        ),
        "referrals": sorted(str(pk) for pk in person.referrals.values_list("pk", flat=True)),
    }


def _typo_referral(referrer, **extra):
    """Kate Smyth, whose NHS number was mistyped as Brian Okoro's (still checksum-valid)."""
    return complete_referral(referrer, nhs_number=NHS, **extra)


def test_a_typed_nhs_number_of_someone_else_is_proposed_not_linked(referrer, chair, stranger):
    before = _snapshot(stranger)
    hostel = AgencyFactory(name="Hostel")
    referral = _typo_referral(referrer, involved=[hostel], covered=[hostel])
    assert referral.state == S.SUBMITTED
    assert referral.person is None  # the old behaviour linked Brian here
    assert referral.proposed_person == stranger
    assert _snapshot(stranger) == before
    # The hostel named on Kate's referral sees nothing of Brian.
    assert not access.can_view_case(UserFactory(agency=hostel), stranger.cases.get())


def test_only_agreeing_identifiers_are_linked_at_submission(referrer, chair, stranger):
    same = complete_referral(referrer, nhs_number=NHS, **(BRIAN | {"given_name": "Bryan"}))
    assert same.person == stranger and same.proposed_person is None
    other_dob = complete_referral(
        referrer, nhs_number=NHS, **(BRIAN | {"date_of_birth": datetime.date(1970, 1, 2)})
    )
    assert other_dob.person is None and other_dob.proposed_person == stranger
    other_initial = complete_referral(referrer, nhs_number=NHS, **(BRIAN | {"given_name": "Ryan"}))
    assert other_initial.person is None and other_initial.proposed_person == stranger


def test_a_referrer_chosen_person_with_disagreeing_details_is_only_proposed(referrer, stranger):
    draft = _typo_referral(referrer, submit=False)
    draft.person = stranger  # as if chosen on the "same person?" page
    with set_up():
        draft.save()
    services.referral_submit(actor=referrer, referral=draft)
    draft.refresh_from_db()
    assert draft.person is None and draft.proposed_person == stranger


def test_accepting_a_linked_or_proposed_referral_needs_the_chairs_choice(referrer, chair, stranger):
    referral = _typo_referral(referrer)
    with pytest.raises(DomainError, match="already known, or a new person"):
        services.referral_accept(actor=chair, referral=referral)
    linked = complete_referral(referrer, nhs_number=NHS, **BRIAN)
    with pytest.raises(DomainError, match="already known, or a new person"):
        services.referral_accept(actor=chair, referral=linked)
    assert Referral.objects.get(pk=linked.pk).state == S.SUBMITTED


def test_new_person_is_made_from_the_referral_and_leaves_the_stranger_alone(
    referrer, chair, stranger
):
    before = _snapshot(stranger)
    hostel = AgencyFactory(name="Hostel")
    referral = _typo_referral(referrer, involved=[hostel], covered=[hostel])
    services.referral_accept(actor=chair, referral=referral, new_person=True)
    referral.refresh_from_db()
    kate = referral.person
    assert kate != stranger
    assert (kate.given_name, kate.family_name, kate.date_of_birth, kate.nhs_number) == (
        "Kate",
        "Smyth",
        datetime.date(1982, 4, 3),
        NHS,
    )
    assert referral.case.person == kate and not referral.is_repeat
    assert referral.identity_decision == Referral.IdentityDecision.NEW
    assert _snapshot(stranger) == before
    # Kate's consent and agencies are Kate's.
    assert ConsentRecord.objects.filter(person=kate).count() == 1
    assert access.can_view_case(UserFactory(agency=hostel), referral.case)
    assert not access.can_view_case(UserFactory(agency=hostel), stranger.cases.get())


def test_new_person_never_reuses_the_linked_person(referrer, chair, stranger):
    """The old accept fell back on ``referral.person`` when the chair said "new person"."""
    before = _snapshot(stranger)
    linked = complete_referral(referrer, nhs_number=NHS, **BRIAN)
    assert linked.person == stranger
    services.referral_accept(actor=chair, referral=linked, new_person=True)
    linked.refresh_from_db()
    assert linked.person != stranger
    assert linked.case.person == linked.person
    assert Person.objects.filter(nhs_number=NHS).count() == 2
    assert _snapshot(stranger) == before


def test_same_person_links_to_the_existing_record(referrer, chair, stranger):
    referral = _typo_referral(referrer)
    services.referral_accept(actor=chair, referral=referral, person=stranger)
    referral.refresh_from_db()
    assert referral.person == stranger
    assert referral.case == stranger.cases.get()
    assert referral.is_repeat
    assert referral.identity_decision == Referral.IdentityDecision.SAME
    assert Person.objects.count() == 1


def test_only_a_chair_confirms_and_only_before_the_decision(referrer, chair, stranger):
    referral = _typo_referral(referrer)
    assert access.can_confirm_person_match(chair, referral)
    assert not access.can_confirm_person_match(referrer, referral)
    member = UserFactory(agency=chair.agency, roles=[Role.FORUM_MEMBER])
    assert not access.can_confirm_person_match(member, referral)
    with pytest.raises(NotAllowed):
        services.referral_accept(actor=referrer, referral=referral, new_person=True)
    services.referral_accept(actor=chair, referral=referral, new_person=True)
    referral.refresh_from_db()
    assert not access.can_confirm_person_match(chair, referral)
    assert selectors.identity_comparisons(user=chair, referral=referral) == []


def test_the_chair_sees_both_identifier_sets_with_mismatches_flagged(referrer, chair, stranger):
    referral = _typo_referral(referrer)
    [comparison] = selectors.identity_comparisons(user=chair, referral=referral)
    assert comparison["person"] == stranger and comparison["relation"] == "proposed"
    rows = {r["label"]: r for r in comparison["rows"]}
    assert (rows["Name"]["ours"], rows["Name"]["theirs"]) == ("Kate Smyth", "Brian Okoro")
    assert rows["Name"]["status"] == "differs"
    assert rows["Date of birth"]["status"] == "differs"
    assert rows["NHS number"]["status"] == "matches"
    assert rows["Gender"]["status"] == "differs"
    assert rows["GP practice"]["status"] == "one_side"
    assert comparison["mismatches"] == ["Name", "Date of birth", "Gender"]

    client = signed_in_client(chair)
    page = client.get(reverse("referrals:accept", args=[referral.pk])).content.decode()
    for text in (
        "Proposed, not linked: Brian Okoro",
        "Kate Smyth",
        "3 April 1982",
        "1 January 1970",
        "Harbour Surgery",
        "Does not match: Name, Date of birth, Gender.",
        "Yes, same person: Brian Okoro, born 1 January 1970",
        "No, this is a new person",
    ):
        assert text in page, text
    assert page.count(">Does not match<") == 3  # in words on each row, not colour alone
    # Showing Brian's identifiers is a read of Brian's record.
    assert AccessEvent.objects.filter(
        user=chair, object_type="cases.person", person_id=stranger.pk
    ).exists()


def test_a_referrer_never_sees_the_proposed_person(referrer, stranger):
    referral = _typo_referral(referrer)
    page = (
        signed_in_client(referrer)
        .get(reverse("referrals:detail", args=[referral.pk]))
        .content.decode()
    )
    assert "Okoro" not in page
    assert "already known" not in page and "Possible match" not in page


def test_the_accept_page_choices_and_timeline(referrer, chair, stranger):
    referral = _typo_referral(referrer)
    client = signed_in_client(chair)
    url = reverse("referrals:accept", args=[referral.pk])
    response = client.post(url, {"note": "Kept for the forum"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and "Say whether this is someone already known" in body
    assert "Kept for the forum" in body  # nothing typed is lost
    assert Referral.objects.get(pk=referral.pk).state == S.SUBMITTED

    assert client.post(url, {"person": "new", "note": ""}).status_code == 302
    referral.refresh_from_db()
    assert referral.state == S.ACCEPTED and referral.person != stranger

    detail = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Possible match for the chair to check" in detail
    assert "Chair&#x27;s decision: a new person" in detail
    referrer_view = (
        signed_in_client(referrer)
        .get(reverse("referrals:detail", args=[referral.pk]))
        .content.decode()
    )
    assert "Chair&#x27;s decision" not in referrer_view
    assert "Possible match" not in referrer_view
    # Fixed after acceptance: the accept page no longer offers a choice.
    assert client.get(url).status_code == 302


def test_the_chair_can_choose_same_person_on_the_page(referrer, chair, stranger):
    referral = _typo_referral(referrer)
    client = signed_in_client(chair)
    url = reverse("referrals:accept", args=[referral.pk])
    assert client.post(url, {"person": str(stranger.pk), "note": ""}).status_code == 302
    referral.refresh_from_db()
    assert referral.person == stranger and referral.case == stranger.cases.get()
    detail = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Chair&#x27;s decision: the same person as an existing record" in detail
    history = list(referral.history.order_by("history_date").values_list("identity_decision"))
    assert history[-1] == ("same",)
