from __future__ import annotations

import datetime

import pytest

from cases.models import AccommodationStatus, Gender, RiskCategory, RiskLevel
from csf_portal.models import AgencyKind, Role
from referrals import services
from referrals.models import Referral, ReferralReason
from tests.factories import AgencyFactory, UserFactory


def complete_referral(
    referrer,
    *,
    submit: bool = True,
    involved=(),
    covered=None,
    basis: str = Referral.LawfulBasis.CONSENT,
    **overrides,
) -> Referral:
    """A referral with every answer given, through the services, optionally submitted."""
    referral = services.referral_start(actor=referrer)
    fields = {
        "given_name": "Kate",
        "family_name": "Smyth",
        "date_of_birth": datetime.date(1982, 4, 3),
        "gender": Gender.WOMAN,
        "accommodation_status": AccommodationStatus.HOSTEL,
        "meam_homelessness": True,
        "meam_substance_misuse": True,
        "tried_so_far": "Three hostel placements ended in eviction.",
        "hoped_outcome": "A joint plan with shared risk.",
        "urgency": Referral.Urgency.URGENT,
        "lawful_basis": basis,
        "sharing_all_members": covered is None,
    }
    if basis == Referral.LawfulBasis.CONSENT:
        fields |= {
            "consent_method": Referral.ConsentMethod.WRITTEN,
            "consent_given_on": datetime.date(2026, 11, 1),
            "consent_person_informed": True,
        }
    else:
        fields["basis_justification"] = "Immediate risk to life; she refuses all contact."
    fields |= overrides
    services.referral_update(
        actor=referrer,
        referral=referral,
        reasons=[ReferralReason.objects.get(code="self-neglect")],
        services_involved=list(involved),
        sharing_agencies=list(covered or []),
        **fields,
    )
    services.referral_risk_add(
        actor=referrer,
        referral=referral,
        category=RiskCategory.SELF_NEGLECT,
        level=RiskLevel.HIGH,
    )
    if submit:
        services.referral_submit(actor=referrer, referral=referral)
    referral.refresh_from_db()
    return referral


@pytest.fixture
def referrer(db):
    return UserFactory(agency=AgencyFactory(name="Police", kind=AgencyKind.POLICE))


@pytest.fixture
def chair(db):
    return UserFactory(
        agency=AgencyFactory(name="Adult Safeguarding", kind=AgencyKind.ADULT_SAFEGUARDING),
        roles=[Role.FORUM_CHAIR],
    )
