"""The demo city's referrals: a year of fictional referrals to the forum (DESIGN §6).

Every referral goes through the real services, so history, case access and
notifications are what the portal itself would have written; afterwards the
dates are moved back over the last twelve months. Nobody here is a real person,
and every NHS number is in the 999 range, which is never issued.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases.models import (
    AccommodationStatus,
    Case,
    CaseVisibility,
    Gender,
    MeamDomain,
    Person,
    RiskCategory,
    RiskLevel,
)
from cases.validators import nhs_check_digit
from csf_portal import services as identity
from csf_portal.dates import working_day_on_or_before
from csf_portal.history import acting_as, unattributed
from csf_portal.models import Agency, Notification, Role, User
from referrals import services
from referrals.models import Referral, ReferralReason, ReferralRisk

U = Referral.Urgency
LB = Referral.LawfulBasis
CM = Referral.ConsentMethod
RC = RiskCategory
VH = RiskLevel.VERY_HIGH
HI = RiskLevel.HIGH
MED = RiskLevel.MEDIUM
LOW = RiskLevel.LOW
W = Gender.WOMAN
M = Gender.MAN
A = AccommodationStatus
H = MeamDomain.HOMELESSNESS
S = MeamDomain.SUBSTANCE_MISUSE
OF = MeamDomain.OFFENDING
MH = MeamDomain.MENTAL_HEALTH
CO = Case.ClosureOutcome

Risk = tuple[RiskCategory, RiskLevel, str]


@dataclass(frozen=True)
class DemoPractitioner:
    username: str
    first_name: str
    last_name: str
    agency_slug: str
    job_title: str


# Referrers from the pilot's list beyond the demo users: they make referrals but
# do not sign in (no usable password).
PRACTITIONERS: tuple[DemoPractitioner, ...] = (
    DemoPractitioner("mel.turner", "Mel", "Turner", "substance-misuse", "Recovery worker"),
    DemoPractitioner("tom.bradley", "Tom", "Bradley", "adult-social-care", "Social worker"),
    DemoPractitioner("aisha.rahman", "Aisha", "Rahman", "hospital", "Alcohol liaison nurse"),
    DemoPractitioner("gill.ward", "Gill", "Ward", "community-nursing", "District nurse"),
    DemoPractitioner(
        "owen.price", "Owen", "Price", "environmental-health", "Environmental health officer"
    ),
    DemoPractitioner("lucy.fenwick", "Lucy", "Fenwick", "neuro-rehab", "Occupational therapist"),
    DemoPractitioner("mark.ellis", "Mark", "Ellis", "reablement", "Reablement co-ordinator"),
    DemoPractitioner("nadia.kowalski", "Nadia", "Kowalski", "probation", "Probation officer"),
    DemoPractitioner("ben.carey", "Ben", "Carey", "street-outreach", "Outreach worker"),
)

# Whose referrals mark the demo referrals as already built.
_MARKER_REFERRER = "mel.turner"


@dataclass(frozen=True)
class Basis:
    """The lawful basis for sharing; ``share_with`` empty means every forum member."""

    lawful_basis: Referral.LawfulBasis
    consent_method: Referral.ConsentMethod | None = None
    justification: str = ""
    share_with: tuple[str, ...] = ()


WRITTEN = Basis(LB.CONSENT, CM.WRITTEN)
VERBAL = Basis(LB.CONSENT, CM.VERBAL)


def consent(method: Referral.ConsentMethod, *slugs: str) -> Basis:
    return Basis(LB.CONSENT, method, share_with=slugs)


def safeguarding(justification: str) -> Basis:
    return Basis(LB.SAFEGUARDING, justification=justification)


def vital(justification: str) -> Basis:
    return Basis(LB.VITAL_INTERESTS, justification=justification)


def crime(justification: str) -> Basis:
    return Basis(LB.CRIME, justification=justification)


class Outcome(enum.StrEnum):
    ACCEPT = "accept"
    SUBMIT = "submit"
    REDIRECT_FORUM = "redirect_forum"
    REDIRECT_SERVICE = "redirect_service"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    DRAFT = "draft"


@dataclass(frozen=True)
class Closure:
    outcome: Case.ClosureOutcome
    days_ago: int


@dataclass(frozen=True)
class DemoReferral:
    key: str
    referrer: str
    given: str
    family: str
    born: datetime.date
    gender: Gender
    living: AccommodationStatus
    meam: tuple[MeamDomain, ...]
    reasons: tuple[str, ...]
    days_ago: int
    services: tuple[str, ...] = ()
    risks: tuple[Risk, ...] = ()
    tried: str = ""
    hoped: str = ""
    urgency: Referral.Urgency | None = None
    basis: Basis | None = None
    outcome: Outcome = Outcome.ACCEPT
    decision: str = ""
    redirect_service: str = ""
    decided_after: int = 4
    nhs: int | None = None
    other_names: str = ""
    gp_practice: str = ""
    reason_other: str = ""
    same_person_as: str = ""
    close: Closure | None = None


def d(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, day)


NOT_REGISTERED = "Not registered with a GP"
HARBOURSIDE = "Harbourside Surgery"
NORTHGATE = "Northgate Medical Practice"
MILLBROOK = "Millbrook Health Centre"
CROSSWAYS = "Crossways Surgery (homeless health service)"
RIVERSIDE = "Riverside Medical Group"
ST_ANNES = "St Anne's Surgery"

REFERRALS: tuple[DemoReferral, ...] = (
    # --- accepted: women -------------------------------------------------------
    DemoReferral(
        key="sharon-pike",
        referrer="police",
        given="Sharon",
        family="Pike",
        other_names="Shaz Pike",
        born=d(1979, 3, 14),
        gender=W,
        living=A.NO_FIXED_ABODE,
        gp_practice=CROSSWAYS,
        nhs=1,
        meam=(H, S, OF, MH),
        reasons=("multiple-hand-offs", "drinking-drug-use", "violence"),
        services=(
            "police",
            "ambulance",
            "hospital",
            "substance-misuse",
            "mental-health",
            "street-outreach",
        ),
        risks=(
            (RC.VIOLENCE_VICTIM, VH, "Assaulted twice in the last month while street drinking"),
            (RC.ACCIDENTAL_OVERDOSE, HI, "Mixing pregabalin with alcohol"),
            (RC.SELF_NEGLECT, HI, "Not eating; wounds left untreated"),
        ),
        tried=(
            "Averaging 3 police or ambulance call-outs a DAY over the last six weeks, mostly "
            "intoxicated and either assaulted or abusive to passers-by. Substance misuse service "
            "has closed her twice for DNAs. MH triage say presentation is substance related so "
            "not for secondary care; SM say she can't engage until her MH is treated."
        ),
        hoped=(
            "One plan that stops the ping-pong between MH and drug and alcohol services, a "
            "named lead worker, and somewhere to sleep that will take her when intoxicated."
        ),
        urgency=U.IMMEDIATE,
        basis=vital(
            "Repeated assaults and overdoses, at risk to life most days. No stable address to "
            "seek informed consent; she was too intoxicated to discuss it on three attempts."
        ),
        days_ago=340,
        decided_after=1,
    ),
    DemoReferral(
        key="michelle-harvey",
        referrer="mel.turner",
        given="Michelle",
        family="Harvey",
        born=d(1992, 7, 2),
        gender=W,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=2,
        meam=(H, S, MH),
        reasons=("eating-disorder", "exploitation-sex-work", "drinking-drug-use"),
        services=("substance-misuse", "hostel", "mental-health", "hospital"),
        risks=(
            (RC.EATING_DISORDER, VH, "BMI 13 at last weigh-in"),
            (RC.EXPLOITATION, HI, "Sex work; a man visiting the hostel takes her money"),
            (RC.BLOOD_BORNE_VIRUS, HI, "Shares equipment, not tested for six months"),
        ),
        tried=(
            "BMI 13, sex worker. Eating disorder service won't take her while she is using "
            "heroin and crack; our prescribers can't safely titrate at her weight. Hostel staff "
            "think she is being exploited. Two admissions for refeeding, self-discharged both."
        ),
        hoped=(
            "Eating disorder service and our prescribers agreeing one plan; a safe place for "
            "medical stabilisation; a safeguarding response to the exploitation."
        ),
        urgency=U.IMMEDIATE,
        basis=safeguarding(
            "Sexual exploitation and risk to life: Care Act s42 duty. She declined to sign "
            "consent while the man exploiting her was present."
        ),
        days_ago=310,
        decided_after=2,
    ),
    DemoReferral(
        key="donna-reeve",
        referrer="gill.ward",
        given="Donna",
        family="Reeve",
        born=d(1974, 10, 21),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=NORTHGATE,
        nhs=3,
        meam=(S,),
        reasons=("physical-health", "drinking-drug-use", "capacity-permanent-home"),
        services=("community-nursing", "substance-misuse", "adult-social-care", "hospital"),
        risks=(
            (RC.PHYSICAL_HEALTH, VH, "Two hypos needing ambulance in a fortnight"),
            (RC.LIVER_DAMAGE, HI, "Hep C positive, drinking 2-3 litres of cider daily"),
            (RC.SELF_NEGLECT, HI, "Insulin not stored or taken; little food in the flat"),
        ),
        tried=(
            "Drug and alcohol, ? Korsakoff's, unmanaged diabetes, Hep C. District nurses visit "
            "twice daily for insulin but she is often out or intoxicated. Memory poor, never "
            "assessed because she is drinking. Missed three hepatology appointments. ASC say "
            "no eligible needs as she 'has capacity'."
        ),
        hoped=(
            "A proper capacity assessment, a memory assessment despite the drinking, and a "
            "package of care that fits her day rather than clinic times."
        ),
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=295,
        decided_after=6,
    ),
    DemoReferral(
        key="natalie-cross",
        referrer="mh",
        given="Natalie",
        family="Cross",
        born=d(1999, 5, 30),
        gender=W,
        living=A.SUPPORTED,
        gp_practice=HARBOURSIDE,
        nhs=4,
        meam=(MH, H),
        reasons=("suicide-self-harm-overdose", "multiple-hand-offs"),
        services=("mental-health", "hospital", "ambulance", "police", "housing"),
        risks=(
            (RC.SUICIDE, VH, "Four overdoses in three months, one needing ITU"),
            (RC.SELF_HARM, VH, "Ligatures most weeks"),
            (RC.EVICTION, HI, "Supported housing have given notice"),
        ),
        tried=(
            "Emotionally unstable personality disorder. Crisis team contact most nights, ED "
            "weekly. Supported housing have given notice as staff can't manage the ligature "
            "risk. DBT waiting list is 14 months."
        ),
        hoped=(
            "A shared risk plan so the supported housing can keep her, and one agreed crisis "
            "response across ED, the crisis team and police."
        ),
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=280,
        decided_after=5,
    ),
    DemoReferral(
        key="kelly-ashworth",
        referrer="housing",
        given="Kelly",
        family="Ashworth",
        born=d(1995, 1, 12),
        gender=W,
        living=A.EMERGENCY,
        gp_practice=NOT_REGISTERED,
        nhs=5,
        meam=(H, S),
        reasons=("accommodation-need", "drinking-drug-use", "violence"),
        services=("housing", "substance-misuse", "hospital", "adult-social-care", "police"),
        risks=(
            (RC.VIOLENCE_VICTIM, VH, "Ex-partner has found her at two B&Bs"),
            (RC.ACCIDENTAL_OVERDOSE, HI, "Using heroin on her own in the B&B"),
            (RC.OTHER, HI, "22 weeks pregnant, no antenatal booking"),
        ),
        tried=(
            "Pregnancy. In B&B for 11 weeks. Refuge declined her because of drug use; she "
            "can't get across the city to substance misuse appointments. Midwifery not yet "
            "involved."
        ),
        hoped=(
            "Safe, suitable accommodation before the birth, an antenatal booking, and one "
            "joined-up plan with children's services aware."
        ),
        urgency=U.IMMEDIATE,
        basis=consent(
            CM.VERBAL, "housing", "substance-misuse", "hospital", "adult-social-care", "police"
        ),
        days_ago=265,
        decided_after=1,
    ),
    DemoReferral(
        key="julie-tamblyn",
        referrer="owen.price",
        given="Julie",
        family="Tamblyn",
        born=d(1968, 8, 8),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=MILLBROOK,
        nhs=6,
        meam=(MH,),
        reasons=("self-neglect", "retain-accommodation", "capacity-permanent-home"),
        services=("environmental-health", "housing", "mental-health", "adult-social-care"),
        risks=(
            (RC.SELF_NEGLECT, VH, "Hoarding to ceiling height, gas cooker blocked: fire risk"),
            (RC.EVICTION, HI, "Private landlord has served notice"),
            (RC.SUICIDE, MED, "Attempt after the forced clearance in 2023"),
        ),
        tried=(
            "Hoarding. Private landlord served notice after a fire service visit. She refuses "
            "clearances; the forced clear in 2023 led to rapid re-accumulation and a suicide "
            "attempt. No MH diagnosis; ?anxiety, ?autism, never assessed."
        ),
        hoped=(
            "A gradual, therapeutic approach with the landlord holding off, and an assessment "
            "for autism and anxiety."
        ),
        urgency=U.URGENT,
        basis=consent(
            CM.WRITTEN, "environmental-health", "housing", "mental-health", "adult-social-care"
        ),
        days_ago=250,
        decided_after=7,
    ),
    DemoReferral(
        key="amy-rendle",
        referrer="hostel",
        given="Amy",
        family="Rendle",
        born=d(2003, 4, 17),
        gender=W,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=7,
        meam=(H, MH),
        reasons=("suicide-self-harm-overdose", "exploitation-sex-work", "thresholds-blocking-help"),
        services=("hostel", "mental-health", "ambulance", "adult-social-care"),
        risks=(
            (RC.SELF_HARM, VH, "Cutting, needing sutures two or three times a week"),
            (RC.EXPLOITATION, HI, "Older men picking her up outside the hostel"),
            (RC.BLOOD_BORNE_VIRUS, MED, "Unprotected sex; seen twice at sexual health"),
        ),
        tried=(
            "Mental health, sexual health, self harm, overdose. Care leaver. CMHT say no severe "
            "mental illness. Hostel calls an ambulance for self-harm two or three times a week."
        ),
        hoped=(
            "Leaving care and adult services working together, trauma-informed support, and "
            "fewer ambulance call-outs."
        ),
        urgency=U.URGENT,
        basis=safeguarding(
            "Sexual exploitation that began in care is continuing into adulthood; a s42 "
            "enquiry is open."
        ),
        days_ago=235,
        decided_after=3,
    ),
    DemoReferral(
        key="lorraine-pascoe",
        referrer="aisha.rahman",
        given="Lorraine",
        family="Pascoe",
        born=d(1965, 2, 25),
        gender=W,
        living=A.HOSPITAL,
        gp_practice=NOT_REGISTERED,
        nhs=8,
        meam=(H, S),
        reasons=("end-of-life-care", "accommodation-need"),
        services=("hospital", "hostel", "community-nursing", "adult-social-care"),
        risks=(
            (RC.LIVER_DAMAGE, VH, "End stage liver disease; prognosis months"),
            (RC.SELF_NEGLECT, HI, "Rough sleeping with her dog before admission"),
        ),
        tried=(
            "End stage liver disease. Medically fit for discharge but NFA before admission. "
            "Hospice say they don't take people who are still drinking; the hostel can't meet "
            "her nursing needs. Delayed discharge 23 days."
        ),
        hoped=(
            "An end of life pathway for someone who is homeless: somewhere she can die with "
            "dignity, with her dog."
        ),
        urgency=U.IMMEDIATE,
        basis=WRITTEN,
        days_ago=220,
        decided_after=1,
    ),
    DemoReferral(
        key="sarah-kitto",
        referrer="police",
        given="Sarah",
        family="Kitto",
        born=d(1988, 11, 3),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=HARBOURSIDE,
        nhs=9,
        meam=(S, OF),
        reasons=("violence", "retain-accommodation", "other"),
        reason_other="Home taken over by dealers (cuckooing)",
        services=("police", "housing", "adult-social-care", "substance-misuse"),
        risks=(
            (RC.EXPLOITATION, VH, "Flat used by a county lines group"),
            (RC.VIOLENCE_VICTIM, HI, "Threatened with a knife when she asked them to leave"),
            (RC.EVICTION, HI, "Possession proceedings for anti-social behaviour"),
        ),
        tried=(
            "Two warrants executed; she lets the same people back in. Housing association is "
            "starting possession proceedings for ASB. Suspected learning disability, never "
            "assessed."
        ),
        hoped=(
            "A move that keeps her safe, a learning disability assessment, and housing to "
            "pause possession while a plan is agreed."
        ),
        urgency=U.URGENT,
        basis=crime(
            "Sharing to prevent serious crime (drug supply from her home) and to protect her "
            "from the people exploiting her; asking for consent would put her at risk."
        ),
        days_ago=205,
        decided_after=4,
    ),
    DemoReferral(
        key="emma-chudleigh",
        referrer="mh",
        given="Emma",
        family="Chudleigh",
        born=d(1982, 6, 19),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=MILLBROOK,
        nhs=10,
        meam=(MH,),
        reasons=("retain-accommodation", "mental-health-act"),
        services=("mental-health", "housing", "adult-social-care"),
        risks=(
            (RC.EVICTION, VH, "Possession hearing in five weeks; £2,300 arrears"),
            (RC.SELF_NEGLECT, HI, "Electricity cut off, not eating"),
            (RC.RISK_TO_STAFF, MED, "Barricades the door; threatened a housing officer"),
        ),
        tried=(
            "Retain accommodation, non payment of rent, MHA assessment. Paranoid schizophrenia, "
            "no depot since March. Two MHA assessments, not detainable on the day. Housing "
            "benefit stopped when forms weren't returned."
        ),
        hoped=(
            "Stop the eviction while a plan is agreed, an appointee for her benefits, and a way "
            "to engage that doesn't rely on her opening the door."
        ),
        urgency=U.URGENT,
        basis=safeguarding(
            "Currently unable to weigh up information because of psychosis; sharing is needed "
            "to prevent loss of her home. s42 duty."
        ),
        days_ago=190,
        decided_after=5,
    ),
    DemoReferral(
        key="claire-vosper",
        referrer="chair",
        given="Claire",
        family="Vosper",
        born=d(1977, 9, 9),
        gender=W,
        living=A.NO_FIXED_ABODE,
        gp_practice=NOT_REGISTERED,
        meam=(H, S, MH),
        reasons=("trauma", "accommodation-need", "thresholds-blocking-help"),
        services=("housing", "mental-health", "street-outreach", "substance-misuse"),
        risks=(
            (RC.SUICIDE, HI, "Talks of 'finishing it' when drinking"),
            (RC.VIOLENCE_VICTIM, HI, "Tent slashed twice"),
        ),
        tried=(
            "?PTSD. Army veteran, sleeping in a tent by the river. The veterans' charity and "
            "housing options each say the other should lead. No trauma assessment because "
            "she is drinking."
        ),
        hoped="A lead agency, a route to a trauma assessment, and an offer of accommodation.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=175,
        decided_after=0,
    ),
    DemoReferral(
        key="hayley-bickford",
        referrer="ben.carey",
        given="Hayley",
        family="Bickford",
        born=d(1997, 12, 1),
        gender=W,
        living=A.NO_FIXED_ABODE,
        gp_practice=NOT_REGISTERED,
        meam=(H, S),
        reasons=("physical-health", "drinking-drug-use", "accommodation-need"),
        services=("street-outreach", "substance-misuse", "hospital", "housing"),
        risks=(
            (RC.BLOOD_BORNE_VIRUS, VH, "HCV positive, injecting in the groin"),
            (RC.ACCIDENTAL_OVERDOSE, VH, "Naloxone given twice by outreach"),
            (RC.PHYSICAL_HEALTH, HI, "Leg abscesses; self-discharged from ED twice"),
        ),
        tried=(
            "Rough sleeping 8 months. Self-discharges before IV antibiotics finish. Hostels "
            "won't take her while she is injecting on site. Hep C treatment offered but she "
            "can't keep appointments without an address."
        ),
        hoped=(
            "An accommodation offer that accepts current use, HCV treatment started in the "
            "community, and wound care where she is."
        ),
        urgency=U.IMMEDIATE,
        basis=vital(
            "Two overdoses reversed in a month and spreading infection: risk to life. She "
            "could not be found again to discuss consent."
        ),
        days_ago=160,
        decided_after=1,
    ),
    DemoReferral(
        key="rachel-symons",
        referrer="tom.bradley",
        given="Rachel",
        family="Symons",
        born=d(1991, 3, 28),
        gender=W,
        living=A.SUPPORTED,
        gp_practice=RIVERSIDE,
        nhs=11,
        meam=(MH,),
        reasons=("eating-disorder", "thresholds-blocking-help"),
        services=("adult-social-care", "mental-health", "hospital"),
        risks=(
            (RC.EATING_DISORDER, VH, "Anorexia; BMI 14.5 and falling"),
            (RC.SELF_HARM, MED, "Scratching when routines are disrupted"),
        ),
        tried=(
            "Autism diagnosed at 30. Anorexia. The eating disorder service say her restriction "
            "is autism-related; the autism team say it is an eating disorder. Both have closed "
            "the referral."
        ),
        hoped="One service to lead, with the other advising, and a plan the care staff can follow.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=150,
        decided_after=6,
    ),
    DemoReferral(
        key="paula-jago",
        referrer="mark.ellis",
        given="Paula",
        family="Jago",
        born=d(1960, 5, 14),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=ST_ANNES,
        nhs=12,
        meam=(S, MH),
        reasons=("capacity-permanent-home", "self-neglect", "drinking-drug-use"),
        services=("reablement", "adult-social-care", "mental-health", "community-nursing"),
        risks=(
            (RC.SELF_NEGLECT, VH, "Lives on cereal; house cold"),
            (RC.PHYSICAL_HEALTH, HI, "Falls: three ED attendances since June"),
            (RC.EXPLOITATION, HI, "Neighbours holding her bank card"),
        ),
        tried=(
            "Alcohol related dementia, diagnosed 2025. Reablement ended after six weeks as she "
            "doesn't remember the carers. Memory service discharged her as 'drinking'. Care "
            "homes declined: under 70 and still drinking."
        ),
        hoped=(
            "A capacity assessment about where she lives and her money, and a placement that "
            "can manage alcohol."
        ),
        urgency=U.URGENT,
        basis=safeguarding(
            "Financial abuse by neighbours, and she lacks capacity to decide on sharing. s42."
        ),
        days_ago=140,
        decided_after=3,
    ),
    DemoReferral(
        key="vicky-hammett",
        referrer="nadia.kowalski",
        given="Vicky",
        family="Hammett",
        born=d(1986, 1, 7),
        gender=W,
        living=A.SUPPORTED,
        gp_practice=HARBOURSIDE,
        nhs=13,
        meam=(OF, S, H),
        reasons=("risk-to-staff-public", "drinking-drug-use", "accommodation-need"),
        services=("probation", "substance-misuse", "housing", "police"),
        risks=(
            (RC.VIOLENCE_PERPETRATOR, HI, "Assault on hostel staff (2024), GBH conviction"),
            (RC.ACCIDENTAL_OVERDOSE, HI, "Released from prison three weeks ago"),
            (RC.EVICTION, MED, "Approved premises placement ends in 6 weeks"),
        ),
        tried=(
            "Released on licence. Every hostel in the city has her on their exclusion list "
            "after the 2024 assault. Housing say she is intentionally homeless."
        ),
        hoped=(
            "Move-on accommodation before the approved premises placement ends, so she is not "
            "released to the street and recalled."
        ),
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=110,
        decided_after=8,
    ),
    DemoReferral(
        key="gemma-polglase",
        referrer="hostel",
        given="Gemma",
        family="Polglase",
        born=d(2001, 8, 23),
        gender=W,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=14,
        meam=(H, MH, S),
        reasons=("mental-health-act", "retain-accommodation"),
        services=("hostel", "mental-health", "substance-misuse", "hospital"),
        risks=(
            (RC.SELF_NEGLECT, HI, "Not eating, room unsafe"),
            (RC.EVICTION, HI, "Final warning at the hostel"),
            (RC.VIOLENCE_VICTIM, MED, "Other residents taking her money"),
        ),
        tried=(
            "Psychosis, heavy cannabis use. Pregnant, about 16 weeks. Early intervention "
            "team discharged her after three missed appointments. MHA assessment requested "
            "twice, not carried out."
        ),
        hoped=(
            "An MHA assessment that happens, midwifery and mental health together, and the "
            "hostel supported to keep her."
        ),
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=90,
        decided_after=5,
    ),
    DemoReferral(
        key="angela-roskilly",
        referrer="housing",
        given="Angela",
        family="Roskilly",
        born=d(1971, 4, 4),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=NORTHGATE,
        nhs=15,
        meam=(MH,),
        reasons=("retain-accommodation", "self-neglect"),
        services=("housing", "mental-health", "community-connections"),
        risks=(
            (RC.EVICTION, MED, "Rent arrears of £900, repayment plan broken"),
            (RC.SUICIDE, MED, "Passive thoughts, no plans"),
        ),
        tried=(
            "Depression since her mother died. Stopped paying rent and opening post. GP "
            "increased sertraline. Community connections visited once but she didn't answer."
        ),
        hoped=(
            "Keep the tenancy, a benefits check, and someone she trusts visiting until she "
            "reconnects."
        ),
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=70,
        decided_after=9,
    ),
    DemoReferral(
        key="jodie-trewin",
        referrer="police",
        given="Jodie",
        family="Trewin",
        born=d(2006, 2, 11),
        gender=W,
        living=A.SOFA_SURFING,
        gp_practice=RIVERSIDE,
        meam=(H, MH),
        reasons=("exploitation-sex-work", "suicide-self-harm-overdose"),
        services=("police", "adult-social-care", "mental-health", "hostel"),
        risks=(
            (RC.EXPLOITATION, VH, "Reported missing 9 times; found with older men"),
            (RC.SELF_HARM, HI, "Overdose of paracetamol last month"),
        ),
        tried=(
            "Turned 18 in February; children's services closed and adult services haven't "
            "picked up. Sofa surfing between addresses linked to exploitation."
        ),
        hoped=(
            "A transition plan from children's to adult services that actually happens, and "
            "safe accommodation away from these addresses."
        ),
        urgency=U.IMMEDIATE,
        basis=safeguarding(
            "Ongoing sexual exploitation of a young adult with care and support needs: s42."
        ),
        days_ago=35,
        decided_after=1,
    ),
    # --- accepted: men ---------------------------------------------------------
    DemoReferral(
        key="kevin-marsh",
        referrer="police",
        given="Kevin",
        family="Marsh",
        born=d(1981, 7, 15),
        gender=M,
        living=A.NO_FIXED_ABODE,
        gp_practice=CROSSWAYS,
        nhs=16,
        meam=(H, S, OF, MH),
        reasons=("risk-to-staff-public", "hate-crime", "violence"),
        services=("police", "probation", "hostel", "mental-health", "substance-misuse"),
        risks=(
            (RC.VIOLENCE_PERPETRATOR, VH, "Assaults on strangers when using spice"),
            (RC.HATE_CRIME, HI, "Three racially aggravated public order offences"),
            (RC.RISK_TO_STAFF, HI, "Banned from two hostels for threats to staff"),
        ),
        tried=(
            "High risk to staff, public and of hate crime (perpetrator). Psychotic when using "
            "spice. Excluded from every hostel in the city. Community order ends next month and "
            "probation contact will stop."
        ),
        hoped=(
            "A shared risk plan so one provider can house him safely, and a dual diagnosis "
            "assessment."
        ),
        urgency=U.URGENT,
        basis=crime("Sharing to prevent further violent and hate crime; he refused consent."),
        days_ago=330,
        decided_after=3,
    ),
    DemoReferral(
        key="lee-hocking",
        referrer="mel.turner",
        given="Lee",
        family="Hocking",
        born=d(1989, 10, 5),
        gender=M,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=17,
        meam=(S, H, MH),
        reasons=("imminent-risk-of-death", "drinking-drug-use"),
        services=("substance-misuse", "hostel", "ambulance", "mental-health"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Three naloxone reversals in two months"),
            (RC.SUICIDE, HI, "Says he doesn't care if he wakes up"),
        ),
        tried=(
            "High risk of death, drinking and drug use. On methadone but topping up with "
            "street benzos and alcohol. Hostel staff found him blue twice. Declines residential "
            "rehab; CMHT won't see him until he is abstinent."
        ),
        hoped=(
            "An overdose plan shared with the hostel and ambulance service, and a mental "
            "health assessment while he is still using."
        ),
        urgency=U.IMMEDIATE,
        basis=WRITTEN,
        days_ago=318,
        decided_after=1,
    ),
    DemoReferral(
        key="martin-blewett",
        referrer="aisha.rahman",
        given="Martin",
        family="Blewett",
        born=d(1963, 12, 12),
        gender=M,
        living=A.HOSPITAL,
        gp_practice=ST_ANNES,
        nhs=18,
        meam=(S, H),
        reasons=("drinking-drug-use", "capacity-permanent-home", "physical-health"),
        services=("hospital", "adult-social-care", "substance-misuse", "housing"),
        risks=(
            (RC.LIVER_DAMAGE, VH, "Cirrhosis, ascites drained twice"),
            (RC.SELF_NEGLECT, HI, "Flat condemned by environmental health"),
            (RC.PHYSICAL_HEALTH, HI, "Withdrawal seizures"),
        ),
        tried=(
            "?Korsakoff's. Fifth admission this year with withdrawal seizures. Can't go back "
            "to the flat. Nursing homes won't take him; the hostel can't meet his care needs."
        ),
        hoped="A capacity assessment about accommodation and a placement that accepts alcohol.",
        urgency=U.URGENT,
        basis=safeguarding(
            "Lacks capacity about where to live on current assessment; self-neglect s42."
        ),
        days_ago=300,
        decided_after=4,
    ),
    DemoReferral(
        key="ian-trethewey",
        referrer="lucy.fenwick",
        given="Ian",
        family="Trethewey",
        born=d(1975, 3, 3),
        gender=M,
        living=A.SUPPORTED,
        gp_practice=MILLBROOK,
        nhs=19,
        meam=(S, MH),
        reasons=("capacity-permanent-home", "multiple-hand-offs"),
        services=("neuro-rehab", "adult-social-care", "substance-misuse", "housing"),
        risks=(
            (RC.SELF_NEGLECT, HI, "Forgets to eat and take medication"),
            (RC.VIOLENCE_VICTIM, HI, "Targeted by people who drink with him"),
            (RC.EXPLOITATION, MED, "Gives away his money"),
        ),
        tried=(
            "Acquired brain injury after an assault in 2022. Neuro-rehab placement ending. "
            "Drinking again. ASC say his needs are alcohol-related, substance misuse say "
            "they are ABI-related."
        ),
        hoped="A permanent home with support that understands brain injury and alcohol.",
        urgency=U.ROUTINE,
        basis=consent(
            CM.WRITTEN, "neuro-rehab", "adult-social-care", "substance-misuse", "housing"
        ),
        days_ago=285,
        decided_after=9,
    ),
    DemoReferral(
        key="darren-colwill",
        referrer="hostel",
        given="Darren",
        family="Colwill",
        born=d(1984, 9, 17),
        gender=M,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=20,
        meam=(H, MH, OF),
        reasons=("risk-to-staff-public", "mental-health-act", "eviction"),
        services=("hostel", "mental-health", "police", "housing"),
        risks=(
            (RC.RISK_TO_STAFF, VH, "Knife found in his room; threats to night staff"),
            (RC.EVICTION, HI, "Notice to quit served"),
            (RC.SELF_NEGLECT, MED, "Not eating, believes food is poisoned"),
        ),
        tried=(
            "Paranoid schizophrenia, stopped clozapine. Two MHA assessments: not detained. "
            "We have served notice but eviction will put him on the street."
        ),
        hoped=(
            "A plan that lets us withdraw the notice safely, and a clear escalation route "
            "with the CMHT and police."
        ),
        urgency=U.URGENT,
        basis=safeguarding(
            "Risk of serious harm to staff and to himself; lacks insight into his illness."
        ),
        days_ago=270,
        decided_after=2,
    ),
    DemoReferral(
        key="yusuf-ahmed",
        referrer="mh",
        given="Yusuf",
        family="Ahmed",
        born=d(1996, 4, 22),
        gender=M,
        living=A.SOFA_SURFING,
        gp_practice=HARBOURSIDE,
        meam=(H, MH),
        reasons=("trauma", "accommodation-need", "suicide-self-harm-overdose"),
        services=("mental-health", "housing", "community-connections"),
        risks=(
            (RC.SUICIDE, HI, "Ligature found by a friend"),
            (RC.SELF_NEGLECT, MED, "Sleeps in the day, not eating"),
        ),
        tried=(
            "?PTSD. Granted refugee status, then given 28 days to leave asylum accommodation. "
            "Housing options waiting list; trauma service needs a fixed address for referral."
        ),
        hoped="Accommodation and a trauma assessment, with an interpreter he trusts.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=255,
        decided_after=6,
    ),
    DemoReferral(
        key="shaun-dingle",
        referrer="police",
        given="Shaun",
        family="Dingle",
        born=d(1998, 2, 14),
        gender=M,
        living=A.NO_FIXED_ABODE,
        gp_practice=NOT_REGISTERED,
        nhs=21,
        meam=(H, S, OF),
        reasons=("violence", "drinking-drug-use"),
        services=("police", "street-outreach", "substance-misuse"),
        risks=(
            (RC.VIOLENCE_VICTIM, HI, "Stabbed in the leg in April"),
            (RC.ACCIDENTAL_OVERDOSE, HI, "Using spice and alcohol together"),
            (RC.RISK_TO_PUBLIC, MED, "Begging aggressively in the city centre"),
        ),
        tried=(
            "Arrested 14 times this year, mostly drunk and disorderly. Banned from the city "
            "centre under a CBO. Outreach offers turned down."
        ),
        hoped="Fewer arrests and an offer he will accept before he is seriously hurt.",
        urgency=U.ROUTINE,
        basis=crime("Repeated offending and risk of serious violence; he refused consent."),
        days_ago=240,
        decided_after=7,
    ),
    DemoReferral(
        key="robert-penhaligon",
        referrer="tom.bradley",
        given="Robert",
        family="Penhaligon",
        born=d(1956, 12, 30),
        gender=M,
        living=A.OWN_TENANCY,
        gp_practice=ST_ANNES,
        nhs=22,
        meam=(S,),
        reasons=("self-neglect", "physical-health"),
        services=("adult-social-care", "community-nursing", "environmental-health"),
        risks=(
            (RC.SELF_NEGLECT, VH, "No heating, hoarded newspapers, refuses carers"),
            (RC.PHYSICAL_HEALTH, HI, "COPD, on oxygen, still smoking"),
        ),
        tried="Self neglect. Refuses the care package. Oxygen and smoking: fire service visited.",
        hoped="A plan he agrees to that makes the flat safe with oxygen in use.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=228,
        decided_after=5,
    ),
    DemoReferral(
        key="adam-fraser",
        referrer="mh",
        given="Adam",
        family="Fraser",
        born=d(2002, 9, 29),
        gender=M,
        living=A.SUPPORTED,
        gp_practice=RIVERSIDE,
        nhs=23,
        meam=(MH, OF, S),
        reasons=("mental-health-act", "violence"),
        services=("mental-health", "police", "housing"),
        risks=(
            (RC.VIOLENCE_PERPETRATOR, HI, "Assaulted his mother during a psychotic episode"),
            (RC.RISK_TO_STAFF, HI, "Threatening support staff"),
        ),
        tried=(
            "Psychosis, first episode, daily cannabis. Discharged from section 2 after 18 "
            "days. Supported housing want to end the placement."
        ),
        hoped="Keep the placement with a shared risk plan and early intervention in reach.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=215,
        decided_after=3,
    ),
    DemoReferral(
        key="neil-carthew",
        referrer="housing",
        given="Neil",
        family="Carthew",
        born=d(1970, 1, 19),
        gender=M,
        living=A.EMERGENCY,
        gp_practice=NORTHGATE,
        nhs=24,
        meam=(H, S),
        reasons=("accommodation-need", "physical-health"),
        services=("housing", "substance-misuse", "community-nursing"),
        risks=(
            (RC.PHYSICAL_HEALTH, HI, "Type 1 diabetes; insulin can't be stored in the B&B"),
            (RC.EVICTION, MED, "B&B has asked him to leave twice"),
        ),
        tried=(
            "In B&B for 19 weeks at £55 a night. Supported housing turned him down for "
            "drinking; general needs turned him down for support needs."
        ),
        hoped="A move out of B&B into accommodation with support, and his diabetes managed.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=200,
        decided_after=9,
    ),
    DemoReferral(
        key="jamie-kneebone",
        referrer="nadia.kowalski",
        given="Jamie",
        family="Kneebone",
        born=d(1994, 11, 11),
        gender=M,
        living=A.CUSTODY,
        gp_practice=NOT_REGISTERED,
        nhs=25,
        meam=(OF, S, H),
        reasons=("risk-to-staff-public", "accommodation-need", "drinking-drug-use"),
        services=("probation", "substance-misuse", "housing", "police"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Release from prison: opioid tolerance lost"),
            (RC.VIOLENCE_PERPETRATOR, HI, "Robbery conviction; violent when using"),
        ),
        tried=(
            "Released to no fixed abode twice in a year and recalled within weeks both times. "
            "Release date in 5 weeks and still no accommodation."
        ),
        hoped="Accommodation, a prescription and a worker waiting at the gate on release day.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=185,
        decided_after=4,
    ),
    DemoReferral(
        key="christopher-lane",
        referrer="mel.turner",
        given="Christopher",
        family="Lane",
        born=d(1979, 5, 5),
        gender=M,
        living=A.OWN_TENANCY,
        gp_practice=MILLBROOK,
        nhs=26,
        meam=(S,),
        reasons=("physical-health", "drinking-drug-use"),
        services=("substance-misuse", "hospital", "community-nursing"),
        risks=(
            (RC.LIVER_DAMAGE, VH, "Fibroscan 21 kPa"),
            (RC.BLOOD_BORNE_VIRUS, HI, "HCV, treatment not started"),
        ),
        tried=(
            "HCV positive. Liver clinic want him abstinent before treatment; he can't get a "
            "detox bed until he has been seen by the liver clinic."
        ),
        hoped="Start HCV treatment and detox in one joined-up plan.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=170,
        decided_after=8,
    ),
    DemoReferral(
        key="anthony-vickery",
        # The police refer and the chair accepts: sharing without consent needs two people.
        referrer="police",
        given="Anthony",
        family="Vickery",
        born=d(1987, 8, 1),
        gender=M,
        living=A.NO_FIXED_ABODE,
        gp_practice=CROSSWAYS,
        nhs=27,
        meam=(H, MH, S),
        reasons=("imminent-risk-of-death", "suicide-self-harm-overdose", "multiple-hand-offs"),
        services=("mental-health", "police", "hospital", "street-outreach", "ambulance"),
        risks=(
            (RC.SUICIDE, VH, "Talked down from the bridge three times in a month"),
            (RC.SELF_HARM, HI, "Cuts when refused admission"),
        ),
        tried=(
            "Imminent risk of death. Section 136 three times in a month; each time discharged "
            "from the place of safety with no follow-up because he has no address."
        ),
        hoped="A crisis plan that doesn't end in discharge to the street.",
        urgency=U.IMMEDIATE,
        basis=vital("Imminent risk to life; consent not possible at the time of referral."),
        days_ago=130,
        decided_after=0,
    ),
    DemoReferral(
        key="peter-olver",
        referrer="gill.ward",
        given="Peter",
        family="Olver",
        born=d(1966, 3, 21),
        gender=M,
        living=A.OWN_TENANCY,
        gp_practice=NORTHGATE,
        nhs=28,
        meam=(S,),
        reasons=("self-neglect", "physical-health"),
        services=("community-nursing", "adult-social-care", "substance-misuse"),
        risks=(
            (RC.SELF_NEGLECT, HI, "Leg ulcers, maggots found at last visit"),
            (RC.PHYSICAL_HEALTH, HI, "Cellulitis, two admissions"),
        ),
        tried="Refuses to attend the leg ulcer clinic. Drinking a bottle of vodka a day.",
        hoped="Wound care at home with alcohol support alongside it.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=120,
        decided_after=4,
    ),
    DemoReferral(
        key="matthew-bray",
        referrer="ben.carey",
        given="Matthew",
        family="Bray",
        born=d(2000, 7, 7),
        gender=M,
        living=A.NO_FIXED_ABODE,
        gp_practice=NOT_REGISTERED,
        meam=(H,),
        reasons=("accommodation-need", "thresholds-blocking-help"),
        services=("street-outreach", "housing", "adult-social-care"),
        risks=(
            (RC.VIOLENCE_VICTIM, HI, "Robbed and beaten while sleeping out"),
            (RC.EXPLOITATION, HI, "Being used to carry drugs"),
        ),
        tried=(
            "?Autism. Hostel placements break down in days (noise, sharing). Doesn't meet the "
            "ASC threshold without a diagnosis; can't get a diagnosis without a GP."
        ),
        hoped="A single-occupancy offer and an autism assessment.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=100,
        decided_after=5,
    ),
    DemoReferral(
        key="simon-rickard",
        referrer="hostel",
        given="Simon",
        family="Rickard",
        born=d(1978, 10, 30),
        gender=M,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=29,
        meam=(S, H),
        reasons=("drinking-drug-use", "imminent-risk-of-death"),
        services=("hostel", "substance-misuse", "hospital", "ambulance"),
        risks=(
            (RC.PHYSICAL_HEALTH, VH, "Withdrawal seizures; found fitting in the lift"),
            (RC.LIVER_DAMAGE, HI, "Jaundiced"),
        ),
        tried=(
            "Drinking 4 litres of white cider a day. Inpatient detox cancelled twice for "
            "lack of beds; a community detox isn't safe in the hostel."
        ),
        hoped="A detox bed date, and a managed alcohol plan in the hostel until then.",
        urgency=U.IMMEDIATE,
        basis=WRITTEN,
        days_ago=80,
        decided_after=1,
    ),
    DemoReferral(
        key="gareth-pryce",
        referrer="aisha.rahman",
        given="Gareth",
        family="Pryce",
        born=d(1991, 12, 24),
        gender=M,
        living=A.HOSPITAL,
        gp_practice=RIVERSIDE,
        nhs=30,
        meam=(MH, S),
        reasons=("suicide-self-harm-overdose", "multiple-hand-offs"),
        services=("hospital", "mental-health", "substance-misuse"),
        risks=(
            (RC.SELF_HARM, HI, "Swallowing objects, 11 ED attendances since May"),
            (RC.SUICIDE, HI, "Stated intent on last admission"),
        ),
        tried=(
            "Borderline personality disorder. Psychiatric liaison discharge him each time; no "
            "community follow-up because he is 'between teams'."
        ),
        hoped="One community team to hold him, and a plan ED can follow.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=65,
        decided_after=3,
    ),
    DemoReferral(
        key="dean-sleeman",
        referrer="police",
        given="Dean",
        family="Sleeman",
        born=d(1983, 4, 9),
        gender=M,
        living=A.OWN_TENANCY,
        gp_practice=HARBOURSIDE,
        nhs=31,
        meam=(OF, MH),
        reasons=("retain-accommodation", "other"),
        reason_other="Neighbour dispute escalating, 40 calls to police in six months",
        services=("police", "housing", "mental-health"),
        risks=(
            (RC.RISK_TO_PUBLIC, MED, "Shouting threats at neighbours"),
            (RC.EVICTION, MED, "Housing association considering an injunction"),
        ),
        tried=(
            "Anxiety, possibly autism. Mediation tried twice. Every call is logged as a "
            "separate neighbour dispute so nobody sees the pattern."
        ),
        hoped="Somebody to look at the whole picture, and an assessment.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=50,
        decided_after=9,
    ),
    # --- accepted, closed, then referred again -----------------------------------
    DemoReferral(
        key="daniel-hooper",
        referrer="hostel",
        given="Daniel",
        family="Hooper",
        born=d(1985, 6, 28),
        gender=M,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=32,
        meam=(H, S, MH),
        reasons=("drinking-drug-use", "suicide-self-harm-overdose"),
        services=("hostel", "substance-misuse", "mental-health"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Overdosed in the hostel toilets twice"),
            (RC.SUICIDE, HI, "Anniversary of his son's death in March"),
        ),
        tried="Heroin and crack. Depression. Won't engage with CMHT while using.",
        hoped="Shared overdose plan; bereavement support.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=330,
        decided_after=2,
        close=Closure(CO.RISK_REDUCED, 200),
    ),
    DemoReferral(
        key="daniel-hooper-2",
        referrer="police",
        given="Daniel",
        family="Hooper",
        born=d(1985, 6, 28),
        gender=M,
        living=A.NO_FIXED_ABODE,
        gp_practice=CROSSWAYS,
        nhs=32,
        meam=(H, S, OF),
        reasons=("drinking-drug-use", "violence", "accommodation-need"),
        services=("police", "substance-misuse", "street-outreach"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Found unresponsive in a car park"),
            (RC.VIOLENCE_VICTIM, HI, "Assaulted over a drug debt"),
        ),
        tried=(
            "Lost his flat after the move-on tenancy failed; back on the street and using. "
            "Was known to the CSF last year and did well."
        ),
        hoped="Pick up the plan that worked last time before he overdoses again.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=45,
        decided_after=2,
    ),
    DemoReferral(
        key="leanne-gould",
        referrer="mh",
        given="Leanne",
        family="Gould",
        born=d(1990, 2, 2),
        gender=W,
        living=A.SUPPORTED,
        gp_practice=HARBOURSIDE,
        meam=(MH, S),
        reasons=("suicide-self-harm-overdose", "drinking-drug-use"),
        services=("mental-health", "substance-misuse", "housing"),
        risks=(
            (RC.SELF_HARM, VH, "Deep cuts needing plastics"),
            (RC.ACCIDENTAL_OVERDOSE, HI, "Alcohol with prescribed quetiapine"),
        ),
        tried="EUPD and alcohol. Crisis team and ED most weekends.",
        hoped="An agreed weekend plan and a dual diagnosis worker.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=300,
        decided_after=3,
        close=Closure(CO.LOST_TO_FOLLOW_UP, 170),
    ),
    DemoReferral(
        key="leanne-gould-2",
        referrer="mel.turner",
        given="Leanne",
        family="Gould",
        born=d(1990, 2, 2),
        gender=W,
        living=A.SOFA_SURFING,
        gp_practice=HARBOURSIDE,
        meam=(MH, S, H),
        reasons=("drinking-drug-use", "accommodation-need", "multiple-hand-offs"),
        services=("substance-misuse", "mental-health", "housing", "hospital"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Two overdoses since she reappeared"),
            (RC.SELF_HARM, HI, "Cutting again"),
        ),
        tried=(
            "Back in the city after months away; left the supported flat without notice. "
            "Sofa surfing, drinking daily."
        ),
        hoped="Re-open the CSF plan and find her somewhere to live.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=60,
        decided_after=4,
        same_person_as="leanne-gould",
    ),
    DemoReferral(
        key="stephen-mcdonald",
        referrer="housing",
        given="Stephen",
        family="McDonald",
        born=d(1972, 11, 16),
        gender=M,
        living=A.EMERGENCY,
        gp_practice=MILLBROOK,
        meam=(H, S),
        reasons=("accommodation-need", "drinking-drug-use"),
        services=("housing", "substance-misuse", "adult-social-care"),
        risks=(
            (RC.EVICTION, HI, "Evicted from three B&Bs"),
            (RC.LIVER_DAMAGE, HI, "Drinking 3 litres of cider a day"),
        ),
        tried="Eviction. B&B after B&B. Refused hostel places.",
        hoped="A housing option he will accept.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=280,
        decided_after=7,
        close=Closure(CO.MOVED_AWAY, 150),
    ),
    DemoReferral(
        key="stephen-mcdonald-2",
        referrer="aisha.rahman",
        given="Steve",
        family="Macdonald",
        born=d(1972, 11, 16),
        gender=M,
        living=A.HOSPITAL,
        gp_practice=NOT_REGISTERED,
        nhs=33,
        meam=(H, S),
        reasons=("drinking-drug-use", "accommodation-need", "physical-health"),
        services=("hospital", "housing", "substance-misuse"),
        risks=(
            (RC.LIVER_DAMAGE, VH, "Alcoholic hepatitis"),
            (RC.SELF_NEGLECT, HI, "Admitted from the street, hypothermic"),
        ),
        tried=(
            "Came back to the city after his brother's house didn't work out. Admitted with "
            "alcoholic hepatitis; medically fit in a week and nowhere to go."
        ),
        hoped="Discharge to somewhere that will keep him, not the street.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=25,
        decided_after=2,
        same_person_as="stephen-mcdonald",
    ),
    DemoReferral(
        key="tracey-bolt",
        referrer="police",
        given="Tracey",
        family="Bolt",
        born=d(1976, 9, 3),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=NORTHGATE,
        nhs=34,
        meam=(S, MH, OF),
        reasons=("violence", "drinking-drug-use"),
        services=("police", "substance-misuse", "mental-health", "housing"),
        risks=(
            (RC.VIOLENCE_VICTIM, VH, "Domestic abuse, MARAC high risk"),
            (RC.SUICIDE, HI, "Overdose after the last assault"),
        ),
        tried="MARAC twice. Partner back in the house within weeks each time.",
        hoped="A plan she agrees to that keeps her safe at home.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=200,
        decided_after=3,
    ),
    DemoReferral(
        key="tracey-bolt-2",
        referrer="hostel",
        given="Tracey",
        family="Bolt",
        born=d(1976, 9, 3),
        gender=W,
        living=A.HOSTEL,
        gp_practice=NORTHGATE,
        nhs=34,
        meam=(S, MH, H),
        reasons=("accommodation-need", "drinking-drug-use"),
        services=("hostel", "substance-misuse", "housing"),
        risks=(
            (RC.VIOLENCE_VICTIM, HI, "Partner has found out where she is staying"),
            (RC.LIVER_DAMAGE, HI, "Drinking heavily since leaving home"),
        ),
        tried="Fled the house; came to us as an emergency placement.",
        hoped="Add the hostel to the existing CSF plan.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=30,
        decided_after=1,
    ),
    DemoReferral(
        key="katherine-smith",
        referrer="owen.price",
        given="Katherine",
        family="Smith",
        born=d(1969, 1, 23),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=ST_ANNES,
        nhs=35,
        meam=(MH,),
        reasons=("self-neglect", "retain-accommodation"),
        services=("environmental-health", "housing", "adult-social-care"),
        risks=(
            (RC.SELF_NEGLECT, VH, "Hoarding; rats; no working toilet"),
            (RC.EVICTION, HI, "Council tenancy at risk"),
        ),
        tried="Self neglect. Clearance refused. Housing serving a notice of seeking possession.",
        hoped="Save the tenancy with a gradual clearance she agrees to.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=320,
        decided_after=5,
        close=Closure(CO.LOST_TO_FOLLOW_UP, 120),
    ),
    DemoReferral(
        key="craig-penrose",
        referrer="mel.turner",
        given="Craig",
        family="Penrose",
        born=d(1980, 4, 30),
        gender=M,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=36,
        meam=(S, OF, H),
        reasons=("drinking-drug-use", "risk-to-staff-public"),
        services=("substance-misuse", "hostel", "probation", "police"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, HI, "Fentanyl in the local supply"),
            (RC.VIOLENCE_PERPETRATOR, HI, "Fights in the hostel"),
        ),
        tried="On and off script for ten years. Probation and hostel not talking to each other.",
        hoped="One plan between probation, the hostel and us.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=290,
        decided_after=6,
        close=Closure(CO.RISK_REDUCED, 100),
    ),
    # --- waiting for triage -------------------------------------------------------
    DemoReferral(
        key="terry-spargo",
        referrer="mark.ellis",
        given="Terry",
        family="Spargo",
        born=d(1958, 6, 2),
        gender=M,
        living=A.OWN_TENANCY,
        gp_practice=ST_ANNES,
        nhs=37,
        meam=(S,),
        reasons=("self-neglect", "drinking-drug-use"),
        services=("reablement", "adult-social-care", "substance-misuse"),
        risks=(
            (RC.SELF_NEGLECT, HI, "Falls at home; found on the floor twice"),
            (RC.LIVER_DAMAGE, MED, "Drinking daily since his wife died"),
        ),
        tried=(
            "Reablement after a hip fracture. Drinking from the morning; carers can't get "
            "him to eat. ASC say the drinking is a lifestyle choice."
        ),
        hoped="A care plan that takes the alcohol into account instead of ending the service.",
        urgency=U.ROUTINE,
        basis=VERBAL,
        days_ago=12,
        outcome=Outcome.SUBMIT,
    ),
    DemoReferral(
        key="louise-carne",
        referrer="housing",
        given="Louise",
        family="Carne",
        born=d(1981, 10, 10),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=MILLBROOK,
        nhs=38,
        meam=(MH,),
        reasons=("eviction", "self-neglect", "thresholds-blocking-help"),
        services=("housing", "mental-health", "environmental-health"),
        risks=(
            (RC.EVICTION, VH, "Bailiffs booked in three weeks"),
            (RC.SUICIDE, HI, "Told her neighbour she'll 'end it' if she's evicted"),
        ),
        tried=(
            "Eviction. Hoarding and rent arrears. CMHT closed her in the summer as 'not "
            "engaging'. Environmental health notice due to expire."
        ),
        hoped="A stay on the eviction and a mental health assessment before the bailiffs come.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=8,
        outcome=Outcome.SUBMIT,
    ),
    DemoReferral(
        key="kate-smyth",
        referrer="ben.carey",
        given="Kate",
        family="Smyth",
        born=d(1969, 1, 23),
        gender=W,
        living=A.NO_FIXED_ABODE,
        gp_practice=NOT_REGISTERED,
        meam=(H, MH),
        reasons=("accommodation-need", "self-neglect"),
        services=("street-outreach", "housing", "mental-health"),
        risks=(
            (RC.SELF_NEGLECT, VH, "Sleeping in a doorway with many bags of belongings"),
            (RC.VIOLENCE_VICTIM, HI, "Belongings set alight last week"),
        ),
        tried=(
            "New to outreach. Says she 'lost her flat' last year. Won't go to the hostel "
            "without her belongings."
        ),
        hoped="An accommodation offer that lets her keep her things.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=6,
        outcome=Outcome.SUBMIT,
    ),
    DemoReferral(
        key="craig-penrose-2",
        referrer="police",
        given="Craig",
        family="Penrose",
        born=d(1980, 4, 30),
        gender=M,
        living=A.NO_FIXED_ABODE,
        gp_practice=CROSSWAYS,
        nhs=36,
        meam=(S, OF, H),
        reasons=("drinking-drug-use", "violence"),
        services=("police", "substance-misuse", "probation"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Naloxone given by officers on Tuesday"),
            (RC.VIOLENCE_VICTIM, HI, "Owes money to dealers"),
        ),
        tried="Evicted from the hostel after a fight. Sleeping in the multi-storey.",
        hoped="Get him back into the plan that worked before.",
        urgency=U.URGENT,
        basis=crime("Drug-related violence and exploitation; he was not able to consent."),
        days_ago=3,
        outcome=Outcome.SUBMIT,
    ),
    DemoReferral(
        key="bethany-oates",
        referrer="police",
        given="Bethany",
        family="Oates",
        born=d(2004, 3, 15),
        gender=W,
        living=A.SOFA_SURFING,
        gp_practice=RIVERSIDE,
        nhs=39,
        meam=(H, S, MH),
        reasons=("imminent-risk-of-death", "exploitation-sex-work", "suicide-self-harm-overdose"),
        services=("police", "adult-social-care", "mental-health", "substance-misuse"),
        risks=(
            (RC.ACCIDENTAL_OVERDOSE, VH, "Found unconscious on Saturday; ketamine and alcohol"),
            (RC.EXPLOITATION, VH, "Sexual exploitation by an organised group"),
            (RC.SUICIDE, HI, "Said she wants to die"),
        ),
        tried="Three missing episodes this month. Refused a refuge place.",
        hoped="An urgent multi-agency plan and a safe place to stay tonight.",
        urgency=U.IMMEDIATE,
        basis=safeguarding("Imminent risk of serious harm through exploitation: s42."),
        days_ago=2,
        outcome=Outcome.SUBMIT,
    ),
    # --- redirected, declined, withdrawn ----------------------------------------
    DemoReferral(
        key="liam-brennan",
        referrer="hostel",
        given="Liam",
        family="Brennan",
        born=d(1993, 2, 17),
        gender=M,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=40,
        meam=(H, S),
        reasons=("drinking-drug-use", "retain-accommodation"),
        services=("hostel", "substance-misuse"),
        risks=(
            (RC.EVICTION, MED, "Warnings for drinking in his room"),
            (RC.LIVER_DAMAGE, MED, "Drinking most days"),
        ),
        tried="Warnings for drinking on site. Recovery worker allocated last week.",
        hoped="Help keeping his hostel room.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=210,
        outcome=Outcome.REDIRECT_FORUM,
        decision=(
            "The risks are real, but the hostel and his new recovery worker haven't yet met "
            "together. Please bring him to the practitioner forum; if thresholds still block "
            "help afterwards, refer again and we will prioritise him."
        ),
        decided_after=6,
    ),
    DemoReferral(
        key="chloe-rowe",
        referrer="mh",
        given="Chloe",
        family="Rowe",
        born=d(1998, 8, 12),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=HARBOURSIDE,
        nhs=41,
        meam=(MH,),
        reasons=("suicide-self-harm-overdose",),
        services=("mental-health", "housing"),
        risks=(
            (RC.SELF_HARM, MED, "Superficial cutting"),
            (RC.EVICTION, LOW, "Small arrears"),
        ),
        tried="Under the CMHT with a care co-ordinator. Housing aware of the arrears.",
        hoped="Joint working between mental health and housing.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=160,
        outcome=Outcome.REDIRECT_FORUM,
        decision=(
            "Two agencies already working with Chloe and no sign of hand-offs. The "
            "practitioner forum is the right place to agree the joint plan."
        ),
        decided_after=5,
    ),
    DemoReferral(
        key="jason-pengelly",
        referrer="police",
        given="Jason",
        family="Pengelly",
        born=d(1988, 12, 5),
        gender=M,
        living=A.OWN_TENANCY,
        gp_practice=NORTHGATE,
        nhs=42,
        meam=(MH, S),
        reasons=("mental-health-act", "drinking-drug-use"),
        services=("police", "mental-health"),
        risks=(
            (RC.SUICIDE, HI, "Section 136 twice in August"),
            (RC.SELF_NEGLECT, MED, "Not eating when unwell"),
        ),
        tried="Two s136 detentions, discharged both times with advice to see his GP.",
        hoped="A mental health assessment that takes his drinking into account.",
        urgency=U.URGENT,
        basis=VERBAL,
        days_ago=95,
        outcome=Outcome.REDIRECT_SERVICE,
        redirect_service="Dual diagnosis team (mental health provider)",
        decision=(
            "This is one service's work: the dual diagnosis team have agreed to assess him "
            "this week. Refer again if that doesn't happen."
        ),
        decided_after=2,
    ),
    DemoReferral(
        key="paul-jennings",
        referrer="housing",
        given="Paul",
        family="Jennings",
        born=d(1967, 7, 21),
        gender=M,
        living=A.EMERGENCY,
        gp_practice=MILLBROOK,
        nhs=43,
        meam=(H,),
        reasons=("accommodation-need",),
        services=("housing",),
        risks=((RC.EVICTION, MED, "Temporary accommodation ends this month"),),
        tried="Housing options offered supported accommodation; he is thinking about it.",
        hoped="Find him somewhere permanent.",
        urgency=U.ROUTINE,
        basis=WRITTEN,
        days_ago=185,
        outcome=Outcome.DECLINE,
        decision=(
            "A single-agency housing need that is being met: housing options have made an "
            "offer. No hand-offs or blocked thresholds. Please refer again if the placement "
            "breaks down."
        ),
        decided_after=4,
    ),
    DemoReferral(
        key="margaret-ellery",
        referrer="tom.bradley",
        given="Margaret",
        family="Ellery",
        born=d(1957, 3, 9),
        gender=W,
        living=A.OWN_TENANCY,
        gp_practice=ST_ANNES,
        nhs=44,
        meam=(S,),
        reasons=("self-neglect", "drinking-drug-use"),
        services=("adult-social-care", "community-nursing"),
        risks=(
            (RC.SELF_NEGLECT, HI, "Weight loss, not eating"),
            (RC.EXPLOITATION, HI, "Grandson taking her pension"),
        ),
        tried="Section 42 enquiry open. Care package in place twice daily.",
        hoped="Oversight of the safeguarding plan.",
        urgency=U.ROUTINE,
        basis=safeguarding("Financial abuse; s42 enquiry open."),
        days_ago=75,
        outcome=Outcome.DECLINE,
        decision=(
            "The s42 enquiry is open and the safeguarding plan is working; the forum would "
            "duplicate it. I have spoken to Tom; bring her back if the plan stalls."
        ),
        decided_after=3,
    ),
    DemoReferral(
        key="joanne-kerr",
        referrer="mh",
        given="Joanne",
        family="Kerr",
        born=d(1985, 5, 27),
        gender=W,
        living=A.SOFA_SURFING,
        gp_practice=HARBOURSIDE,
        nhs=45,
        meam=(MH, H),
        reasons=("accommodation-need", "suicide-self-harm-overdose"),
        services=("mental-health", "housing"),
        risks=(
            (RC.SUICIDE, HI, "Overdose in September"),
            (RC.VIOLENCE_VICTIM, MED, "Staying with an ex-partner"),
        ),
        tried="Bipolar disorder. Housing application stalled; no fixed address for letters.",
        hoped="Accommodation and a stable care co-ordinator.",
        urgency=U.URGENT,
        basis=WRITTEN,
        days_ago=40,
        outcome=Outcome.WITHDRAW,
        decision=(
            "Joanne has moved to her sister's in another city and registered with the mental "
            "health team there. No longer in the area."
        ),
        decided_after=5,
    ),
    # --- drafts -------------------------------------------------------------------
    DemoReferral(
        key="ryan-mortimer",
        referrer="police",
        given="Ryan",
        family="Mortimer",
        born=d(1996, 1, 30),
        gender=M,
        living=A.NO_FIXED_ABODE,
        meam=(H, OF),
        reasons=("violence", "risk-to-staff-public"),
        services=("police", "probation"),
        tried="Arrested four times this month for shoplifting and one assault.",
        days_ago=1,
        outcome=Outcome.DRAFT,
    ),
    DemoReferral(
        key="abigail-fox",
        referrer="hostel",
        given="Abigail",
        family="Fox",
        born=d(1999, 10, 4),
        gender=W,
        living=A.HOSTEL,
        gp_practice=CROSSWAYS,
        nhs=46,
        meam=(H, S),
        reasons=("drinking-drug-use", "physical-health"),
        services=("hostel", "substance-misuse", "hospital"),
        risks=((RC.BLOOD_BORNE_VIRUS, HI, "HIV test pending; shares needles"),),
        tried="Injecting into her neck since her veins collapsed. Declines the needle exchange.",
        hoped="Harm reduction she will accept, and a wound clinic that comes to the hostel.",
        urgency=U.URGENT,
        days_ago=4,
        outcome=Outcome.DRAFT,
    ),
)


def demo_nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers from the 999 range, which is reserved and never issued."""
    numbers: list[str] = []
    stem = 999_000_100
    while len(numbers) < count:
        digits = f"{stem:09d}"
        check = nhs_check_digit(digits)
        if check is not None:
            numbers.append(f"{digits}{check}")
        stem += 7_919
    return numbers


def _at(days_ago: int, slot: int) -> datetime.datetime:
    """Working hours on the last working day ``days_ago`` days back (``slot`` varies the time)."""
    day = working_day_on_or_before(timezone.localdate() - datetime.timedelta(days=days_ago))
    moment = datetime.time(9 + slot % 8, (slot * 17) % 60)
    return timezone.make_aware(datetime.datetime.combine(day, moment))


def _practitioners(*, agencies: dict[str, Agency], users: dict[str, User]) -> dict[str, User]:
    everyone = dict(users)
    for demo in PRACTITIONERS:
        if demo.username in everyone:
            continue
        everyone[demo.username] = identity.user_create(
            username=demo.username,
            password=None,
            first_name=demo.first_name,
            last_name=demo.last_name,
            email="",
            agency=agencies[demo.agency_slug],
            job_title=demo.job_title,
            roles=(Role.PRACTITIONER,),
        )
    return everyone


class _Builder:
    def __init__(self, *, agencies: dict[str, Agency], users: dict[str, User]) -> None:
        self.agencies = agencies
        self.users = users
        self.chair = users["chair"]
        self.reasons = {r.code: r for r in ReferralReason.objects.all()}
        self.nhs_numbers = demo_nhs_numbers(max(r.nhs or 0 for r in REFERRALS))
        self.referrals: dict[str, Referral] = {}
        self.closures: list[tuple[Closure, Case]] = []

    def build(self) -> int:
        ordered = sorted(REFERRALS, key=lambda spec: -spec.days_ago)
        for slot, spec in enumerate(ordered):
            self._close_cases_due(before_days_ago=spec.days_ago)
            self.referrals[spec.key] = self._referral(spec, slot)
        self._close_cases_due(before_days_ago=-1)
        return len(self.referrals)

    def _answers(self, spec: DemoReferral, submitted: datetime.datetime) -> dict[str, object]:
        answers: dict[str, object] = {
            "given_name": spec.given,
            "family_name": spec.family,
            "other_names": spec.other_names,
            "date_of_birth": spec.born,
            "nhs_number": self.nhs_numbers[spec.nhs - 1] if spec.nhs else "",
            "gender": spec.gender,
            "accommodation_status": spec.living,
            "gp_practice": spec.gp_practice,
            "meam_homelessness": H in spec.meam,
            "meam_substance_misuse": S in spec.meam,
            "meam_offending": OF in spec.meam,
            "meam_mental_health": MH in spec.meam,
            "reason_other": spec.reason_other,
            "tried_so_far": spec.tried,
            "hoped_outcome": spec.hoped,
            "urgency": spec.urgency or "",
        }
        basis = spec.basis
        if basis is not None:
            answers["lawful_basis"] = basis.lawful_basis
            answers["basis_justification"] = basis.justification
            answers["sharing_all_members"] = not basis.share_with
            if basis.lawful_basis == LB.CONSENT:
                answers["consent_method"] = basis.consent_method or CM.WRITTEN
                answers["consent_given_on"] = (
                    submitted - datetime.timedelta(days=2 + spec.days_ago % 6)
                ).date()
                answers["consent_person_informed"] = True
        return answers

    def _referral(self, spec: DemoReferral, slot: int) -> Referral:
        referrer = self.users[spec.referrer]
        submitted = _at(spec.days_ago, slot)
        created = min(
            _at(spec.days_ago + slot % 3, slot + 5), submitted - datetime.timedelta(minutes=20)
        )
        since = timezone.now()
        referral = services.referral_start(actor=referrer)
        basis = spec.basis
        referral = services.referral_update(
            actor=referrer,
            referral=referral,
            reasons=[self.reasons[code] for code in spec.reasons],
            services_involved=[self.agencies[slug] for slug in spec.services],
            sharing_agencies=[self.agencies[slug] for slug in basis.share_with] if basis else [],
            **self._answers(spec, submitted),
        )
        for category, level, description in spec.risks:
            services.referral_risk_add(
                actor=referrer,
                referral=referral,
                category=category,
                level=level,
                description=description,
            )
        ReferralRisk.objects.filter(referral=referral).update(created_at=created)
        ReferralRisk.history.filter(referral_id=referral.pk).update(history_date=created)
        self._date_referral(referral, since=since, created_at=created, updated_at=created)
        if spec.outcome == Outcome.DRAFT:
            return referral

        since = timezone.now()
        referral = services.referral_submit(actor=referrer, referral=referral)
        self._date_notifications(referral, since=since, at=submitted, read=False)
        self._date_referral(referral, since=since, submitted_at=submitted, updated_at=submitted)
        if spec.outcome == Outcome.SUBMIT:
            return referral

        decided = max(
            _at(spec.days_ago - spec.decided_after, slot + spec.decided_after + 1),
            submitted + datetime.timedelta(hours=2),
        )
        since = timezone.now()
        referral = self._decide(spec, referral, referrer)
        if spec.outcome == Outcome.WITHDRAW:
            self._date_referral(referral, since=since, withdrawn_at=decided, updated_at=decided)
        else:
            self._date_referral(referral, since=since, decided_at=decided, updated_at=decided)
            self._date_notifications(
                referral, since=since, at=decided, read=spec.days_ago - spec.decided_after > 30
            )
        Notification.objects.filter(
            url=services.referral_url(referral), text__startswith="New referral"
        ).update(read_at=decided)
        if spec.outcome == Outcome.ACCEPT and referral.case is not None:
            self._date_case(referral.case, since=since, decided=decided)
            if spec.close is not None:
                self.closures.append((spec.close, referral.case))
        return referral

    def _date_referral(
        self, referral: Referral, *, since: datetime.datetime, **dates: datetime.datetime
    ) -> None:
        """Move the step just taken, and its history rows, back to when it happened."""
        Referral.objects.filter(pk=referral.pk).update(**dates)
        at = min(dates.values())
        Referral.history.filter(id=referral.pk, history_date__gte=since).update(history_date=at)

    def _decide(self, spec: DemoReferral, referral: Referral, referrer: User) -> Referral:
        if spec.outcome == Outcome.ACCEPT:
            # The demo chair confirms a link made at submission (identifiers agree) too.
            if spec.same_person_as:
                person = self.referrals[spec.same_person_as].person
            else:
                person = referral.person
            return services.referral_accept(
                actor=self.chair, referral=referral, person=person, new_person=person is None
            )
        if spec.outcome == Outcome.REDIRECT_FORUM:
            return services.referral_redirect(
                actor=self.chair,
                referral=referral,
                destination=Referral.RedirectDestination.PRACTITIONER_FORUM,
                advice=spec.decision,
            )
        if spec.outcome == Outcome.REDIRECT_SERVICE:
            return services.referral_redirect(
                actor=self.chair,
                referral=referral,
                destination=Referral.RedirectDestination.NAMED_SERVICE,
                service=spec.redirect_service,
                advice=spec.decision,
            )
        if spec.outcome == Outcome.DECLINE:
            return services.referral_decline(
                actor=self.chair, referral=referral, reason=spec.decision
            )
        return services.referral_withdraw(actor=referrer, referral=referral, reason=spec.decision)

    def _date_notifications(
        self, referral: Referral, *, since: datetime.datetime, at: datetime.datetime, read: bool
    ) -> None:
        Notification.objects.filter(
            url=services.referral_url(referral), created_at__gte=since
        ).update(created_at=at, read_at=at + datetime.timedelta(hours=3) if read else None)

    def _date_case(
        self, case: Case, *, since: datetime.datetime, decided: datetime.datetime
    ) -> None:
        if case.created_at >= since:
            Case.objects.filter(pk=case.pk).update(
                created_at=decided, opened_at=decided, updated_at=decided
            )
            Person.objects.filter(pk=case.person_id, created_at__gte=since).update(
                created_at=decided
            )
        else:
            Case.objects.filter(pk=case.pk).update(updated_at=decided)
        Person.objects.filter(pk=case.person_id).update(updated_at=decided)
        Case.history.filter(id=case.pk, history_date__gte=since).update(history_date=decided)
        Person.history.filter(id=case.person_id, history_date__gte=since).update(
            history_date=decided
        )
        CaseVisibility.objects.filter(case=case, granted_at__gte=since).update(granted_at=decided)
        CaseVisibility.objects.filter(case=case).update(last_activity_at=decided)

    def _close_cases_due(self, *, before_days_ago: int) -> None:
        due = [(c, case) for c, case in self.closures if c.days_ago > before_days_ago]
        for closure, case in due:
            self.closures.remove((closure, case))
            closed = _at(closure.days_ago, closure.days_ago)
            since = timezone.now()
            case.refresh_from_db()
            case.state = Case.State.CLOSED
            case.closed_at = closed
            case.closure_outcome = closure.outcome
            with acting_as(self.chair):
                case.save()
            Case.objects.filter(pk=case.pk).update(updated_at=closed)
            Case.history.filter(id=case.pk, history_date__gte=since).update(history_date=closed)
            CaseVisibility.objects.filter(case=case).update(last_activity_at=closed)


@transaction.atomic
@unattributed("demo data: a fictional city no one made")
def build_demo_referrals(*, agencies: dict[str, Agency], users: dict[str, User]) -> int:
    """Build the demo city's referrals; returns how many were made (0 when already built)."""
    everyone = _practitioners(agencies=agencies, users=users)
    if Referral.objects.filter(referrer__username=_MARKER_REFERRER).exists():
        return 0
    return _Builder(agencies=agencies, users=everyone).build()
