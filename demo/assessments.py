"""The demo city's common core assessments and confidentiality agreements (DESIGN §6).

The common core assessment is the one trusted assessment every service accepts,
so people tell their story once; the common core confidentiality agreement is
the one consent behind it. Here a year of both is written for the people the
forum took on: each assessment through the real services (so the access checks,
locking, scoring and history are the portal's own), then moved back to when it
was done.

Most people's scores fall over the year, as the pilot's did; a few stay where
they were or rise (people the forum lost touch with, or whose health is
failing). Practitioners' notes are in their own words; every person is
fictional.
"""

from __future__ import annotations

import datetime
import enum
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from simple_history.models import HistoricalRecords

import access
from assessments import services
from assessments.models import Assessment, AssessmentAnswer, TemplateItem
from cases.models import AccommodationStatus, CaseVisibility, Person, RiskCategory
from consent import services as consent_services
from consent.models import (
    CapacityOutcome,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    SharingBasis,
)
from csf_portal.dates import at as _at
from csf_portal.dates import working_day_after, working_day_on_or_before
from csf_portal.history import unattributed
from csf_portal.models import Agency, User
from referrals.models import Referral

Note = tuple[int, str]
"""A score (0-4) and the practitioner's note for one area of the assessment."""


class Trend(enum.StrEnum):
    IMPROVING = "improving"
    UNCHANGED = "unchanged"
    WORSENING = "worsening"


@dataclass(frozen=True)
class Visit:
    """One completed assessment: how long ago, by whom, and what stood out.

    ``notes`` set the score and note of the areas the practitioner wrote about
    in particular; the other areas follow the person's trend. ``correction``
    is what a correction made the next working day changed.
    """

    days_ago: int
    by: str
    notes: Mapping[str, Note] = field(default_factory=dict)
    correction: Mapping[str, Note] | None = None


@dataclass(frozen=True)
class Journey:
    given: str
    family: str
    trend: Trend
    visits: tuple[Visit, ...]


@dataclass(frozen=True)
class Draft:
    """An assessment still being filled in (a score of None: not scored yet)."""

    given: str
    family: str
    by: str
    days_ago: int
    answers: Mapping[str, tuple[int | None, str]]


JOURNEYS: tuple[Journey, ...] = (
    Journey(
        "Sharon",
        "Pike",
        Trend.IMPROVING,
        (
            Visit(
                320,
                "police",
                {
                    "accommodation": (
                        4,
                        "Rough sleeping in the Civic Centre doorways. Turned away from the night "
                        "shelter when drunk.",
                    ),
                    "alcohol": (4, "Street drinking from 7am, 2-3 litres of cider a day."),
                    "drugs": (3, "Pregabalin bought on the street, taken with the cider."),
                    "risk-from-others": (4, "Assaulted twice this month. Won't give statements."),
                    "engagement": (
                        4,
                        "Closed twice by drug and alcohol service for DNAs. Only contact is "
                        "police and ambulance, most days.",
                    ),
                },
            ),
            Visit(
                230,
                "mel.turner",
                {
                    "alcohol": (
                        3,
                        "Seeing the alcohol nurse at the hub. Down to a litre a day on a good day.",
                    ),
                    "accommodation": (
                        3,
                        "Wet hostel bed since last week, first night indoors since the spring.",
                    ),
                    "engagement": (2, "Came to 4 of 6 appointments with her lead worker."),
                },
            ),
            Visit(
                130,
                "mh",
                {
                    "mental-health": (
                        2,
                        "Seen jointly with drug and alcohol at the hub, no more ping-pong between "
                        "us. Low mood; started sertraline.",
                    ),
                    "risk-from-others": (2, "No assaults reported since she moved indoors."),
                },
            ),
            Visit(
                25,
                "mel.turner",
                {
                    "accommodation": (1, "Housing First flat since September. Rent paid direct."),
                    "alcohol": (2, "Still drinking most days, but at home."),
                    "offending": (
                        0,
                        "No police call-outs in six weeks (was three a day last winter).",
                    ),
                    "engagement": (1, "Keeps appointments if she gets a text the day before."),
                },
            ),
        ),
    ),
    Journey(
        "Kevin",
        "Marsh",
        Trend.IMPROVING,
        (
            Visit(
                315,
                "police",
                {
                    "drugs": (4, "Spice daily; psychotic when using."),
                    "offending": (
                        4,
                        "Three racially aggravated public order offences since August.",
                    ),
                    "risk-to-others": (
                        4,
                        "Assaults on strangers when using. Threatened staff at two hostels.",
                    ),
                },
            ),
            Visit(
                190,
                "nadia.kowalski",
                {
                    "offending": (
                        3,
                        "New community order with a drug rehabilitation requirement. Reporting "
                        "weekly.",
                    ),
                    "drugs": (3, "Tests still show spice most weeks, but less of it."),
                    "accommodation": (
                        3,
                        "One hostel lifted his exclusion after the forum agreed shared risk "
                        "management.",
                    ),
                },
            ),
            Visit(
                60,
                "hostel",
                {
                    "risk-to-others": (
                        2,
                        "No incidents in 10 weeks. Two staff on shift when he is in, and it works.",
                    ),
                    "mental-health": (2, "CMHT now see him at the hostel monthly; on a depot."),
                },
            ),
        ),
    ),
    Journey(
        "Daniel",
        "Hooper",
        Trend.IMPROVING,
        (
            Visit(
                320,
                "hostel",
                {
                    "drugs": (4, "Heroin and crack daily. Overdosed in the hostel toilets twice."),
                    "mental-health": (3, "Low since his son died. Won't see CMHT while using."),
                },
            ),
            Visit(
                230,
                "mel.turner",
                {
                    "drugs": (2, "Engaging with methadone script, 60ml. Occasional use on top."),
                    "mental-health": (2, "Bereavement counselling started at the hub."),
                },
            ),
            Visit(
                36,
                "police",
                {
                    "accommodation": (
                        4,
                        "Lost the move-on flat. Sleeping in the multi-storey car park.",
                    ),
                    "drugs": (4, "Found unresponsive in the car park, naloxone given."),
                    "risk-from-others": (3, "Assaulted over a drug debt."),
                },
            ),
            Visit(
                12,
                "mel.turner",
                {
                    "drugs": (3, "Back on script this week, 40ml and titrating."),
                    "accommodation": (
                        3,
                        "Emergency bed at the hostel while the forum looks at Housing First.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Katherine",
        "Smith",
        Trend.UNCHANGED,
        (
            Visit(
                300,
                "owen.price",
                {
                    "daily-living": (
                        4,
                        "Hoarding to the ceiling in every room. Rats; no working toilet.",
                    ),
                    "accommodation": (3, "Council tenancy: notice of seeking possession served."),
                    "engagement": (
                        3,
                        "Only opens the door to me. Declined the clearance again.",
                    ),
                },
            ),
            Visit(
                180,
                "tom.bradley",
                {
                    "engagement": (
                        4,
                        "Not seen since July. No answer on three visits; letters returned.",
                    ),
                    "daily-living": (4, "Windows still blacked out; neighbours report the smell."),
                },
            ),
        ),
    ),
    Journey(
        "Lee",
        "Hocking",
        Trend.IMPROVING,
        (
            Visit(
                300,
                "mel.turner",
                {
                    "drugs": (
                        4,
                        "Methadone 80ml but topping up with street benzos. Three naloxone "
                        "reversals in two months.",
                    ),
                    "risk-to-self": (4, "Says he doesn't care if he wakes up."),
                },
            ),
            Visit(
                180,
                "mh",
                {
                    "mental-health": (
                        3,
                        "Seen at the hostel with his recovery worker. Depressed, not psychotic. "
                        "Wants talking therapy, not tablets.",
                    ),
                },
            ),
            Visit(
                30,
                "hostel",
                {
                    "drugs": (
                        3,
                        "No reversals since July. Benzos at weekends; picks up his script daily.",
                    ),
                    "risk-to-self": (3, "Naloxone kit in his room; hourly checks at weekends."),
                },
            ),
        ),
    ),
    Journey(
        "Michelle",
        "Harvey",
        Trend.IMPROVING,
        (
            Visit(
                295,
                "mel.turner",
                {
                    "physical-health": (
                        4,
                        "BMI 13. Two refeeding admissions, self-discharged from both.",
                    ),
                    "drugs": (4, "Heroin and crack daily; sharing equipment."),
                    "risk-from-others": (
                        4,
                        "A man visiting the hostel takes her money; sex working to pay him.",
                    ),
                },
            ),
            Visit(
                200,
                "aisha.rahman",
                {
                    "physical-health": (
                        3,
                        "Stayed for the whole medical stabilisation admission this time. BMI 15.",
                    ),
                    "drugs": (3, "Script titrated on the ward with the eating disorder team."),
                },
            ),
            Visit(
                70,
                "hostel",
                {
                    "risk-from-others": (
                        2,
                        "Visitor banned from the hostel; police harassment warning issued.",
                    ),
                    "physical-health": (3, "BMI 15.5. Weighed weekly at the hostel clinic."),
                    "engagement": (
                        2,
                        "Goes to the joint eating disorder and drugs clinic fortnightly.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Leanne",
        "Gould",
        Trend.WORSENING,
        (
            Visit(
                285,
                "mh",
                {
                    "risk-to-self": (4, "Deep cuts needing plastics twice this month."),
                    "alcohol": (3, "Drinking on top of her quetiapine at weekends."),
                },
            ),
            Visit(
                190,
                "mh",
                {
                    "engagement": (
                        3,
                        "Missed three MH appointments. Not at the supported flat when visited.",
                    ),
                },
            ),
            Visit(
                50,
                "mel.turner",
                {
                    "accommodation": (
                        3,
                        "Back in the city and sofa surfing; left the supported flat without "
                        "notice.",
                    ),
                    "alcohol": (4, "Drinking daily. Two overdoses since she reappeared."),
                    "risk-to-self": (4, "Cutting again."),
                },
            ),
        ),
    ),
    Journey(
        "Donna",
        "Reeve",
        Trend.IMPROVING,
        (
            Visit(
                280,
                "gill.ward",
                {
                    "physical-health": (
                        4,
                        "Two hypos needing an ambulance in a fortnight. Insulin not stored or "
                        "taken.",
                    ),
                    "alcohol": (4, "2-3 litres of cider daily."),
                    "daily-living": (4, "Little food in the flat; often out when we call."),
                },
            ),
            Visit(
                170,
                "tom.bradley",
                {
                    "daily-living": (
                        3,
                        "Care package twice daily alongside the district nurses. Fridge stocked.",
                    ),
                    "mental-health": (
                        3,
                        "Memory assessment booked after a week of supported abstinence. "
                        "?Korsakoff's.",
                    ),
                },
            ),
            Visit(
                45,
                "gill.ward",
                {
                    "physical-health": (
                        2,
                        "No hypos in 8 weeks. Insulin given at the carers' morning visit.",
                    ),
                    "alcohol": (3, "Still drinking daily but less, about a litre."),
                },
            ),
        ),
    ),
    Journey(
        "Craig",
        "Penrose",
        Trend.IMPROVING,
        (
            Visit(
                276,
                "mel.turner",
                {
                    "drugs": (3, "On and off script for ten years. Fentanyl in the local supply."),
                    "offending": (3, "Shoplifting to fund use; on licence."),
                },
            ),
            Visit(
                200,
                "nadia.kowalski",
                {
                    "offending": (
                        2,
                        "Probation and hostel now work to one plan. No breaches since the forum.",
                    ),
                    "risk-to-others": (1, "No fights in the hostel since he changed rooms."),
                },
            ),
            Visit(
                110,
                "hostel",
                {
                    "drugs": (1, "Stable on script six months; tests negative."),
                    "accommodation": (1, "Moving on to a supported flat next month."),
                    "meaningful-time": (2, "Volunteering at the food bank two days a week."),
                },
            ),
        ),
    ),
    Journey(
        "Ian",
        "Trethewey",
        Trend.IMPROVING,
        (
            Visit(
                270,
                "lucy.fenwick",
                {
                    "mental-health": (
                        3,
                        "Acquired brain injury: memory and planning poor. Drinking again since "
                        "the rehab placement ended.",
                    ),
                    "risk-from-others": (
                        3,
                        "Targeted by people who drink with him; gives his money away.",
                    ),
                },
            ),
            Visit(
                60,
                "tom.bradley",
                {
                    "money": (2, "Appointee in place; weekly budget he can manage."),
                    "risk-from-others": (2, "Door entry changed; fewer visitors."),
                },
            ),
        ),
    ),
    Journey(
        "Natalie",
        "Cross",
        Trend.IMPROVING,
        (
            Visit(
                266,
                "mh",
                {
                    "risk-to-self": (
                        4,
                        "Four overdoses in three months, one needing ITU. Ligatures most weeks.",
                    ),
                    "accommodation": (3, "Supported housing have given notice."),
                },
            ),
            Visit(
                200,
                "housing",
                {
                    "accommodation": (
                        2,
                        "Notice withdrawn after the forum agreed shared risk management with MH.",
                    ),
                },
            ),
            Visit(
                120,
                "mh",
                {
                    "risk-to-self": (
                        3,
                        "Ligatures less often; one overdose this quarter. Started the DBT skills "
                        "group.",
                    ),
                },
            ),
            Visit(
                40,
                "police",
                {
                    "risk-to-self": (3, "Two welfare checks this month, down from most nights."),
                    "engagement": (1, "Goes to DBT every week."),
                },
            ),
        ),
    ),
    Journey(
        "Stephen",
        "McDonald",
        Trend.UNCHANGED,
        (
            Visit(
                265,
                "housing",
                {
                    "accommodation": (4, "Evicted from three B&Bs. Refused hostel places."),
                    "alcohol": (4, "3 litres of cider a day."),
                },
            ),
            Visit(
                15,
                "aisha.rahman",
                {
                    "physical-health": (4, "Admitted with alcoholic hepatitis, hypothermic."),
                    "accommodation": (4, "Medically fit in a week and nowhere to go."),
                },
            ),
        ),
    ),
    Journey(
        "Darren",
        "Colwill",
        Trend.IMPROVING,
        (
            Visit(
                260,
                "hostel",
                {
                    "mental-health": (
                        4,
                        "Paranoid schizophrenia; stopped clozapine. Believes the food is poisoned.",
                    ),
                    "risk-to-others": (4, "Knife found in his room; threats to night staff."),
                    "accommodation": (3, "Notice to quit served."),
                },
            ),
            Visit(
                175,
                "mh",
                {
                    "mental-health": (
                        3,
                        "Back on clozapine after a section 3 admission; bloods weekly.",
                    ),
                    "risk-to-others": (3, "No threats since discharge. Agreed to room searches."),
                },
            ),
            Visit(
                80,
                "housing",
                {
                    "accommodation": (
                        2,
                        "Notice withdrawn. Moving to a self-contained flat in the hostel annexe.",
                    ),
                    "mental-health": (2, "Clozapine levels therapeutic; eating hostel meals."),
                },
            ),
        ),
    ),
    Journey(
        "Kelly",
        "Ashworth",
        Trend.IMPROVING,
        (
            Visit(
                255,
                "housing",
                {
                    "accommodation": (3, "In B&B 11 weeks. Her ex-partner has found her at two."),
                    "risk-from-others": (4, "Domestic abuse, MARAC high risk."),
                    "physical-health": (3, "22 weeks pregnant, no antenatal booking."),
                },
            ),
            Visit(
                170,
                "mel.turner",
                {
                    # Typed into the wrong boxes; put right by the correction below.
                    "alcohol": (3, "On methadone; using heroin on top less often."),
                    "drugs": (1, "A couple of cans at weekends."),
                    "physical-health": (
                        2,
                        "Booked with the specialist midwife; going to her scans.",
                    ),
                },
                correction={
                    "drugs": (3, "On methadone; using heroin on top less often."),
                    "alcohol": (1, "A couple of cans at weekends."),
                },
            ),
            Visit(
                60,
                "police",
                {
                    "risk-from-others": (2, "Ex-partner remanded in custody."),
                    "accommodation": (
                        2,
                        "In refuge; drug use no longer a bar with her recovery worker's support.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Yusuf",
        "Ahmed",
        Trend.IMPROVING,
        (
            Visit(
                240,
                "mh",
                {
                    "mental-health": (
                        4,
                        "?PTSD. Flashbacks, not sleeping. A friend found a ligature.",
                    ),
                    "accommodation": (3, "28 days to leave asylum accommodation; sofa surfing."),
                },
            ),
            Visit(
                150,
                "housing",
                {
                    "accommodation": (
                        2,
                        "Supported lodging through community connections: an address for the "
                        "trauma referral at last.",
                    ),
                    "money": (2, "Universal Credit in payment, rent paid direct."),
                },
            ),
            Visit(
                30,
                "mh",
                {
                    "mental-health": (
                        2,
                        "Trauma therapy started, with an interpreter. Sleeping better.",
                    ),
                    "meaningful-time": (1, "ESOL classes three mornings a week."),
                },
            ),
        ),
    ),
    Journey(
        "Julie",
        "Tamblyn",
        Trend.UNCHANGED,
        (
            Visit(
                236,
                "owen.price",
                {
                    "daily-living": (
                        4,
                        "Hoarding to ceiling height; gas cooker blocked. Fire risk.",
                    ),
                    "accommodation": (3, "Private landlord has served notice."),
                },
            ),
            Visit(
                110,
                "mh",
                {
                    "mental-health": (
                        3,
                        "Autism assessment done: autistic, with anxiety. Declines medication.",
                    ),
                    "daily-living": (
                        4,
                        "Agreed to clear one room at a time. First room done; filling up again.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Shaun",
        "Dingle",
        Trend.IMPROVING,
        (
            Visit(
                226,
                "police",
                {
                    "offending": (
                        4,
                        "Arrested 14 times this year, mostly drunk and disorderly. CBO in place.",
                    ),
                    "accommodation": (4, "Rough sleeping; turns down outreach."),
                },
            ),
            Visit(
                90,
                "ben.carey",
                {
                    "accommodation": (3, "Night shelter most nights since the forum."),
                    "offending": (3, "Two arrests in three months, down from weekly."),
                },
            ),
        ),
    ),
    Journey(
        "Amy",
        "Rendle",
        Trend.IMPROVING,
        (
            Visit(
                225,
                "hostel",
                {
                    "risk-to-self": (
                        4,
                        "Cutting; needs sutures two or three times a week.",
                    ),
                    "risk-from-others": (4, "Older men picking her up outside the hostel."),
                },
            ),
            Visit(
                140,
                "tom.bradley",
                {
                    "risk-from-others": (
                        3,
                        "Section 42 enquiry; police disrupting the men outside the hostel.",
                    ),
                    "engagement": (
                        2,
                        "Her leaving-care PA and hostel keyworker see her together weekly.",
                    ),
                },
            ),
            Visit(
                35,
                "mh",
                {
                    "risk-to-self": (
                        3,
                        "Still self-harming weekly, but wound care at the hostel; no ED visits "
                        "this month.",
                    ),
                    "mental-health": (
                        3,
                        "Psychology assessment done; trauma-focused work offered.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Robert",
        "Penhaligon",
        Trend.UNCHANGED,
        (
            Visit(
                215,
                "tom.bradley",
                {
                    "daily-living": (4, "No heating, hoarded newspapers, refuses carers."),
                    "physical-health": (4, "COPD on home oxygen and still smoking."),
                },
            ),
            Visit(
                75,
                "gill.ward",
                {
                    "physical-health": (
                        3,
                        "Oxygen removed by the respiratory team because of the fire risk.",
                    ),
                    "daily-living": (
                        4,
                        "Still refusing the care package; has accepted hot meal deliveries.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Lorraine",
        "Pascoe",
        Trend.WORSENING,
        (
            Visit(
                210,
                "aisha.rahman",
                {
                    "physical-health": (
                        4,
                        "End stage liver disease; prognosis months. Delayed discharge 23 days.",
                    ),
                    "accommodation": (3, "No fixed abode before admission."),
                },
            ),
            Visit(
                50,
                "gill.ward",
                {
                    "physical-health": (
                        4,
                        "Deteriorating. Ascites drained weekly; palliative care involved.",
                    ),
                    "daily-living": (4, "Needs two carers for personal care now."),
                    "accommodation": (
                        2,
                        "Nursing home that lets her keep the dog, with a managed drinking plan.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Adam",
        "Fraser",
        Trend.IMPROVING,
        (
            Visit(
                205,
                "mh",
                {
                    "mental-health": (
                        4,
                        "First episode psychosis; off section 2 after 18 days.",
                    ),
                    "drugs": (3, "Cannabis daily."),
                    "risk-to-others": (3, "Assaulted his mother while psychotic."),
                },
            ),
            Visit(
                120,
                "police",
                {
                    "risk-to-others": (3, "Threatening support staff; one call-out this month."),
                    "offending": (2, "Conditional caution for the assault on his mother."),
                },
            ),
            Visit(
                40,
                "housing",
                {
                    "mental-health": (2, "Early intervention team weekly; taking aripiprazole."),
                    "drugs": (2, "Cannabis at weekends only."),
                },
            ),
        ),
    ),
    Journey(
        "Tracey",
        "Bolt",
        Trend.UNCHANGED,
        (
            Visit(
                190,
                "police",
                {
                    "risk-from-others": (
                        4,
                        "Domestic abuse, MARAC high risk. Partner back in the house.",
                    ),
                    "risk-to-self": (3, "Overdose after the last assault."),
                },
            ),
            Visit(
                100,
                "mh",
                {"mental-health": (3, "Low mood and flashbacks. Seen at the women's centre.")},
            ),
            Visit(
                15,
                "hostel",
                {
                    "accommodation": (3, "Fled the house; emergency placement with us."),
                    "alcohol": (3, "Drinking heavily since she left home."),
                    "risk-from-others": (
                        3,
                        "Partner has found out where she is staying; staff on alert.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Neil",
        "Carthew",
        Trend.IMPROVING,
        (
            Visit(
                182,
                "housing",
                {
                    "accommodation": (3, "B&B for 19 weeks at £55 a night."),
                    "physical-health": (
                        3,
                        "Type 1 diabetes; insulin can't be kept cold in the B&B.",
                    ),
                },
            ),
            Visit(
                60,
                "gill.ward",
                {
                    "accommodation": (
                        2,
                        "Supported flat with a fridge; the forum got the drinking bar waived.",
                    ),
                    "physical-health": (2, "HbA1c coming down; district nurse monthly."),
                },
            ),
        ),
    ),
    Journey(
        "Emma",
        "Chudleigh",
        Trend.IMPROVING,
        (
            Visit(
                176,
                "mh",
                {
                    "accommodation": (4, "Possession hearing in five weeks; £2,300 arrears."),
                    "mental-health": (
                        4,
                        "Paranoid schizophrenia, no depot since March. Barricades the door.",
                    ),
                },
            ),
            Visit(
                110,
                "housing",
                {
                    "money": (
                        2,
                        "Housing benefit backdated after the forms were done at a joint visit; "
                        "arrears halved.",
                    ),
                    "accommodation": (3, "Possession adjourned on terms."),
                },
            ),
            Visit(
                25,
                "tom.bradley",
                {
                    "mental-health": (3, "Depot restarted under a CTO; letting the CPN in."),
                    "daily-living": (
                        2,
                        "Electricity back on; shops with a support worker weekly.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Jamie",
        "Kneebone",
        Trend.IMPROVING,
        (
            Visit(
                175,
                "nadia.kowalski",
                {
                    "accommodation": (
                        4,
                        "Release in five weeks, still nowhere to go. Released NFA twice last year.",
                    ),
                    "risk-to-self": (4, "Opioid tolerance lost in custody."),
                },
            ),
            Visit(
                130,
                "mel.turner",
                {
                    "drugs": (3, "Met at the gate; script started the same day. Naloxone given."),
                    "accommodation": (3, "Approved premises for 12 weeks."),
                },
            ),
            Visit(
                40,
                "housing",
                {
                    "accommodation": (
                        2,
                        "Move-on flat from the housing register with a tenancy sustainment worker.",
                    ),
                    "offending": (1, "No recall. Reporting weekly."),
                },
            ),
        ),
    ),
    Journey(
        "Claire",
        "Vosper",
        Trend.IMPROVING,
        (
            Visit(
                165,
                "ben.carey",
                {
                    "accommodation": (
                        4,
                        "Sleeping in a tent by the river; the tent has been slashed twice.",
                    ),
                    "mental-health": (
                        3,
                        "?PTSD, army veteran. Talks of 'finishing it' when drinking.",
                    ),
                },
            ),
            Visit(
                45,
                "housing",
                {
                    "accommodation": (
                        2,
                        "Veterans' housing flat; housing options led, as the forum agreed.",
                    ),
                    "mental-health": (3, "On the veterans' trauma service waiting list."),
                },
            ),
        ),
    ),
    Journey(
        "Hayley",
        "Bickford",
        Trend.IMPROVING,
        (
            Visit(
                150,
                "ben.carey",
                {
                    "drugs": (4, "Injecting in the groin. Naloxone given twice by outreach."),
                    "accommodation": (4, "Rough sleeping 8 months."),
                },
            ),
            Visit(
                90,
                "aisha.rahman",
                {
                    "physical-health": (
                        3,
                        "Finished IV antibiotics this admission, with the in-reach worker "
                        "visiting daily.",
                    ),
                },
            ),
            Visit(
                20,
                "mel.turner",
                {
                    "accommodation": (2, "Housing First flat from October."),
                    "physical-health": (2, "GP registration sorted; Hep C treatment started."),
                    "drugs": (3, "Still injecting, not in the groin now; on script."),
                },
            ),
        ),
    ),
    Journey(
        "Anthony",
        "Vickery",
        Trend.IMPROVING,
        (
            Visit(
                120,
                "mh",
                {
                    "risk-to-self": (
                        4,
                        "Talked down from the bridge three times in a month; section 136 each "
                        "time.",
                    ),
                    "accommodation": (4, "No address, so no follow-up after each 136."),
                },
            ),
            Visit(
                25,
                "police",
                {
                    "risk-to-self": (
                        3,
                        "No 136s in six weeks; crisis plan shared with the control room.",
                    ),
                    "accommodation": (3, "Supported room at the YMCA while he bids."),
                },
            ),
        ),
    ),
    Journey(
        "Peter",
        "Olver",
        Trend.IMPROVING,
        (
            Visit(
                110,
                "gill.ward",
                {
                    "physical-health": (
                        4,
                        "Leg ulcers, maggots at the last visit. Cellulitis, two admissions.",
                    ),
                    "alcohol": (4, "A bottle of vodka a day."),
                },
            ),
            Visit(
                30,
                "mel.turner",
                {
                    "physical-health": (2, "Dressings at home three times a week; healing."),
                    "alcohol": (3, "Half a bottle a day; home detox being planned."),
                },
            ),
        ),
    ),
    Journey(
        "Paula",
        "Jago",
        Trend.UNCHANGED,
        (
            Visit(
                130,
                "mark.ellis",
                {
                    "daily-living": (4, "Lives on cereal; house cold."),
                    "mental-health": (3, "Alcohol related dementia; doesn't remember the carers."),
                },
            ),
            Visit(
                40,
                "mh",
                {
                    "risk-from-others": (
                        2,
                        "Bank card back from the neighbours; appointee in place.",
                    ),
                    "daily-living": (
                        4,
                        "Still not eating the meals left for her; 2 kg down.",
                    ),
                },
            ),
        ),
    ),
    Journey(
        "Gemma",
        "Polglase",
        Trend.IMPROVING,
        (
            Visit(
                76,
                "mh",
                {
                    "mental-health": (
                        4,
                        "Psychosis; heavy cannabis use. Early intervention discharged her after "
                        "three missed appointments.",
                    ),
                    "physical-health": (3, "Pregnant, about 16 weeks, not booked."),
                },
            ),
            Visit(
                30,
                "aisha.rahman",
                {"physical-health": (2, "Booked with the perinatal team; scans normal.")},
            ),
        ),
    ),
    Journey(
        "Simon",
        "Rickard",
        Trend.IMPROVING,
        (
            Visit(
                70,
                "hostel",
                {
                    "alcohol": (
                        4,
                        "4 litres of white cider a day. Detox cancelled twice for lack of beds.",
                    ),
                    "physical-health": (4, "Withdrawal seizures; found fitting in the lift."),
                },
            ),
        ),
    ),
    Journey(
        "Gareth",
        "Pryce",
        Trend.IMPROVING,
        (
            Visit(
                55,
                "mh",
                {
                    "risk-to-self": (
                        4,
                        "Swallowing objects; 11 ED attendances since May. Stated intent on the "
                        "last admission.",
                    ),
                    "engagement": (3, "'Between teams': liaison discharge him each time."),
                },
            ),
            Visit(
                15,
                "aisha.rahman",
                {
                    "engagement": (2, "Named CMHT care co-ordinator now; ED care plan shared."),
                    "risk-to-self": (3, "Two ED attendances this month."),
                },
            ),
        ),
    ),
)

DRAFTS: tuple[Draft, ...] = (
    Draft(
        "Gemma",
        "Polglase",
        "hostel",
        3,
        {
            "accommodation": (2, "Final warning lifted; room safe at the last check."),
            "mental-health": (3, "Hearing voices again at night; EIP appointment Thursday."),
            "physical-health": (None, "Check with the midwife before scoring."),
            "drugs": (3, "Cannabis daily."),
        },
    ),
    Draft(
        "Simon",
        "Rickard",
        "hostel",
        6,
        {
            "alcohol": (3, "Inpatient detox booked for the 14th; cutting down to 2 litres."),
            "physical-health": (3, "No seizures since the diazepam plan."),
            "accommodation": (2, "Room kept for him while he is in detox."),
        },
    ),
)


@dataclass(frozen=True)
class Renewal:
    """A new common core confidentiality agreement, in the person's own words."""

    given: str
    family: str
    by: str
    days_ago: int
    method: ConsentMethod
    capacity_considered: bool
    capacity_outcome: CapacityOutcome
    words: str
    review_after_days: int = 365
    agencies: tuple[str, ...] = ()
    what_may_be_shared: str = ""


RENEWALS: tuple[Renewal, ...] = (
    Renewal(
        "Donna",
        "Reeve",
        "tom.bradley",
        40,
        ConsentMethod.VERBAL,
        capacity_considered=True,
        capacity_outcome=CapacityOutcome.LACKS_CAPACITY,
        words="I don't want to go in a home. If the nurses and that lot need to talk to each "
        "other to keep me here, they can.",
        review_after_days=182,
        agencies=(
            "community-nursing",
            "adult-social-care",
            "substance-misuse",
            "hospital",
            "adult-safeguarding",
        ),
        what_may_be_shared="What is needed to keep her safe at home: diabetes, drinking, memory, "
        "care visits. Best-interests decision with her sister, who holds no LPA.",
    ),
    Renewal(
        "Ian",
        "Trethewey",
        "lucy.fenwick",
        60,
        ConsentMethod.WRITTEN,
        capacity_considered=True,
        capacity_outcome=CapacityOutcome.HAS_CAPACITY,
        words="Write down who knows what so I can look at it when I forget. Housing can know "
        "as well now.",
        agencies=(
            "neuro-rehab",
            "adult-social-care",
            "substance-misuse",
            "housing",
            "adult-safeguarding",
        ),
    ),
    Renewal(
        "Yusuf",
        "Ahmed",
        "mh",
        30,
        ConsentMethod.WRITTEN,
        capacity_considered=False,
        capacity_outcome=CapacityOutcome.NOT_IN_DOUBT,
        words="I have told what happened to me to five different people. I want to tell it one "
        "time only. (Through the Arabic interpreter.)",
    ),
)

# The consent whose withdrawal the demo shows, and the safeguarding basis that keeps
# the agencies responding to his overdoses in touch.
WITHDRAWAL_PERSON = ("Lee", "Hocking")
WITHDRAWAL_DAYS_AGO = 45
WITHDRAWAL_NOTE = (
    "Rang Dan and said he doesn't want anyone 'talking about me behind my back' any more, "
    "and that includes the forum."
)
SAFEGUARDING_AGENCIES = ("substance-misuse", "hostel", "adult-safeguarding")
SAFEGUARDING_JUSTIFICATION = (
    "Three naloxone reversals in two months and he has said he doesn't care if he wakes up: "
    "a risk to life. Care Act s42 enquiry open. Sharing limited to the agencies that respond "
    "to his overdoses (his recovery worker, the hostel that holds naloxone) and adult "
    "safeguarding. Review when the enquiry closes or if he agrees to share again."
)

# The vital-interests basis that ends early once she signs the agreement herself.
BASIS_ENDED_PERSON = ("Sharon", "Pike")
SHARON_WORDS = (
    "I'm fed up of telling my story again and again. Tell whoever needs to know, just don't "
    "make me start from the beginning every time."
)

# The consent due for review in a fortnight (the nightly reminder picks it up).
REVIEW_DUE_PERSON = ("Natalie", "Cross")
REVIEW_DUE_IN_DAYS = 14


# --- scores that follow a trend ------------------------------------------------

_LEVEL_SCORE = {"low": 1, "medium": 2, "high": 3, "very_high": 4}
_HOUSING_SCORE: dict[str, int] = {
    AccommodationStatus.NO_FIXED_ABODE: 4,
    AccommodationStatus.SOFA_SURFING: 3,
    AccommodationStatus.EMERGENCY: 3,
    AccommodationStatus.HOSTEL: 3,
    AccommodationStatus.HOSPITAL: 3,
    AccommodationStatus.CUSTODY: 3,
    AccommodationStatus.SUPPORTED: 2,
    AccommodationStatus.OWN_TENANCY: 1,
}
_DRINK_WORDS = ("drink", "cider", "alcohol", "vodka")
_DRUG_WORDS = ("heroin", "crack", "spice", "methadone", "script", "inject", "cannabis", "benzo")
# How far an area improves over the year, by where it started.
_DROPS: dict[int, tuple[int, ...]] = {4: (1, 2, 2, 3), 3: (1, 1, 2), 2: (0, 1, 1), 1: (0, 0, 1)}


def _clamp(score: int) -> int:
    return max(0, min(4, score))


def _baseline(referral: Referral, rng: random.Random) -> dict[str, int]:
    """Where someone starts, read from the referral the forum accepted."""
    risks: dict[str, int] = {}
    for risk in referral.risks.all():
        risks[risk.category] = max(risks.get(risk.category, 0), _LEVEL_SCORE[risk.level])
    text = " ".join([referral.tried_so_far, *(r.description for r in referral.risks.all())])
    text = text.lower()

    def level(*categories: RiskCategory, default: int) -> int:
        return max((risks[c] for c in categories if c in risks), default=default)

    substance = referral.meam_substance_misuse
    drinks = substance and any(w in text for w in _DRINK_WORDS)
    uses = substance and any(w in text for w in _DRUG_WORDS)
    housing = _HOUSING_SCORE.get(referral.accommodation_status, 2)
    return {
        "accommodation": max(housing, level(RiskCategory.EVICTION, default=0)),
        "drugs": 3 + rng.randint(0, 1) if uses else rng.randint(0, 1),
        "alcohol": 3 + rng.randint(0, 1) if drinks else rng.randint(0, 1),
        "mental-health": (3 if referral.meam_mental_health else 1) + rng.randint(0, 1),
        "physical-health": level(
            RiskCategory.PHYSICAL_HEALTH,
            RiskCategory.LIVER_DAMAGE,
            RiskCategory.BLOOD_BORNE_VIRUS,
            RiskCategory.EATING_DISORDER,
            default=1 + rng.randint(0, 1),
        ),
        "offending": 3 if referral.meam_offending else rng.randint(0, 1),
        "risk-to-self": level(
            RiskCategory.SUICIDE,
            RiskCategory.SELF_HARM,
            RiskCategory.ACCIDENTAL_OVERDOSE,
            RiskCategory.SELF_NEGLECT,
            RiskCategory.EATING_DISORDER,
            default=1,
        ),
        "risk-to-others": level(
            RiskCategory.VIOLENCE_PERPETRATOR,
            RiskCategory.RISK_TO_STAFF,
            RiskCategory.RISK_TO_PUBLIC,
            RiskCategory.HATE_CRIME,
            default=rng.randint(0, 1),
        ),
        "risk-from-others": level(
            RiskCategory.VIOLENCE_VICTIM, RiskCategory.EXPLOITATION, default=1
        ),
        "engagement": _clamp(3 + rng.randint(0, 1)),
        "money": 2 + rng.randint(0, 1),
        "relationships": 2 + rng.randint(0, 1),
        "daily-living": level(RiskCategory.SELF_NEGLECT, default=2),
        "meaningful-time": 3,
    }


def _change(baseline: Mapping[str, int], trend: Trend, rng: random.Random) -> dict[str, int]:
    """How much each area moves between the first assessment and the last."""
    if trend == Trend.IMPROVING:
        return {code: -rng.choice(_DROPS.get(score, (0,))) for code, score in baseline.items()}
    change = dict.fromkeys(baseline, 0)
    if trend == Trend.WORSENING:
        for code in rng.sample(sorted(baseline), 4):
            change[code] = 1
        return change
    # Unchanged overall: one area a little better, another a little worse.
    better, worse = rng.sample(["money", "relationships", "daily-living", "meaningful-time"], 2)
    change[better], change[worse] = -1, 1
    return change


def _series(
    baseline: Mapping[str, int], journey: Journey, rng: random.Random
) -> list[dict[str, int]]:
    change = _change(baseline, journey.trend, rng)
    last = len(journey.visits) - 1
    series: list[dict[str, int]] = []
    for index, visit in enumerate(journey.visits):
        progress = index / last if last else 0.0
        if 0 < index < last:
            progress = min(1.0, max(0.0, progress + rng.uniform(-0.15, 0.15)))
        scores = {
            code: _clamp(start + round(change[code] * progress)) for code, start in baseline.items()
        }
        scores.update({code: score for code, (score, _) in visit.notes.items()})
        series.append(scores)
    return series


# --- what practitioners write when nothing stands out ---------------------------

_NOTES: dict[str, dict[int, tuple[str, ...]]] = {
    "accommodation": {
        0: ("Settled.", "Settled; rent paid direct."),
        1: ("Settled for now; keyworker checks in weekly.", "Placement going well."),
        2: ("Not settled yet; bidding on the register.", "Placement holding, arrears building."),
        3: ("Could lose the placement any week.", "No settled address for letters."),
        4: ("Nowhere safe to stay most nights.", "Sleeping out again some nights."),
    },
    "drugs": {
        0: ("No drug use reported.", "No concerns."),
        1: ("Stable on script; tests clear.", "Occasional cannabis."),
        2: ("On script, using on top now and then.", "Using at weekends; takes harm reduction."),
        3: ("Using daily; script missed most days.", "Injecting; needle exchange only."),
        4: ("Using daily, injecting; high overdose risk.", "Found unresponsive twice this month."),
    },
    "alcohol": {
        0: ("Doesn't drink.", "No alcohol concerns."),
        1: ("Abstinent since detox; goes to SMART group.", "Drinks now and then, no harm seen."),
        2: ("Drinking most days, 4-6 cans.", "Binges at weekends; trying to cut down."),
        3: ("Drinking daily from the morning.", "Strong cider daily; shaky in the mornings."),
        4: ("Dependent; withdrawal fits when stopping.", "Drinking round the clock."),
    },
    "mental-health": {
        0: ("No concerns.",),
        1: ("Mood OK on antidepressants.", "Anxious at times; managing with support."),
        2: ("Low mood, sleeping poorly; meds being reviewed.", "Anxiety most days; on IAPT list."),
        3: ("Missed three MH appointments; mood very low.", "Paranoid and withdrawn."),
        4: ("Acutely unwell; MHA assessment requested.", "In crisis; crisis team daily."),
    },
    "physical-health": {
        0: ("No concerns.",),
        1: ("GP registration sorted; health check done.", "Minor issues managed by the GP."),
        2: ("Chest infection, treated.", "Dental pain; emergency dentist booked."),
        3: ("Missing hospital appointments.", "Wounds not healing; two ED visits this month."),
        4: ("Repeated admissions; self-discharging.", "Ambulance called most weeks."),
    },
    "offending": {
        0: ("No police contact this month.", "No offending known."),
        1: ("One police contact, no further action.", "Order completed; no new offences."),
        2: ("Shoplifting arrest; court next month.", "On licence, reporting as required."),
        3: ("Arrested several times this month.", "Breached conditions; recall considered."),
        4: ("Arrested most days.", "Serious charge pending; remand likely."),
    },
    "risk-to-self": {
        0: ("No risk to self identified.",),
        1: ("Historic self-harm, none recently.", "Passive thoughts at times, no plans."),
        2: ("Safety plan in place and used.", "Overdose risk when using alone; has naloxone."),
        3: ("Self-harm weekly.", "Suicidal thoughts with a plan at times; crisis plan shared."),
        4: ("Overdoses weekly; risk to life.", "Found unresponsive twice this month."),
    },
    "risk-to-others": {
        0: ("None known.", "No risk to others identified."),
        1: ("Verbally aggressive when drunk, no violence.", "Historic violence, none this year."),
        2: ("Threats to staff this month; two-worker visits.", "Arguments with neighbours."),
        3: ("Assaulted a member of staff; banned from one service.", "Threats with a weapon."),
        4: ("Serious violence when intoxicated.", "Carries a knife; threats to kill staff."),
    },
    "risk-from-others": {
        0: ("No risk from others known.",),
        1: ("Lends money to acquaintances; low risk.", "Ex-partner in the area, no contact."),
        2: ("Friends taking money; advice given.", "Visitors at the flat causing concern."),
        3: ("Financially exploited; safeguarding referral made.", "Assaulted; won't report."),
        4: ("Cuckooed and threatened.", "Domestic abuse, MARAC high risk."),
    },
    "engagement": {
        0: ("Engaging well with everyone.",),
        1: ("Keeps most appointments with a text reminder.", "Engaging with the lead worker."),
        2: ("Engages with one service, misses others.", "Comes to drop-ins, not appointments."),
        3: ("Closed by one service for DNAs.", "Only seen in crisis."),
        4: ("Refuses contact with all services.", "Not seen this month; whereabouts unknown."),
    },
    "money": {
        0: ("Benefits in payment; no debts.",),
        1: ("Universal Credit in payment; debts on a plan.", "Managing with a budget plan."),
        2: ("Sanctioned after a missed appointment; food bank twice.", "Rent arrears on a plan."),
        3: ("No income for six weeks; UC claim closed.", "Large arrears; letters unopened."),
        4: ("No income, no ID, no bank account.", "Money taken on payday; nothing left."),
    },
    "relationships": {
        0: ("Good support from family.",),
        1: ("Back in touch with a sister; sees her weekly.", "A couple of supportive friends."),
        2: ("Isolated apart from services.", "Contact with family on and off."),
        3: ("Only contacts are people met through using.", "Estranged from family."),
        4: ("Controlling partner; no other contacts.", "Completely isolated."),
    },
    "daily-living": {
        0: ("Managing independently.",),
        1: ("Manages with prompting.", "Meals and laundry with a little help."),
        2: ("Eating irregularly; room untidy.", "Needs prompts with hygiene and meals."),
        3: ("Not eating most days; hygiene poor.", "Home unsafe: clutter, no heating."),
        4: ("Not eating or washing.", "Squalor; no working facilities."),
    },
    "meaningful-time": {
        0: ("Working part time.",),
        1: ("Volunteering weekly.", "College course two days a week."),
        2: ("Goes to the hub's groups sometimes.", "Some structure: gym and a walking group."),
        3: ("Days revolve around using.", "No structure; sleeps in the day."),
        4: ("Nothing in the day but getting by.", "Doesn't leave the room."),
    },
}


def _generic_note(code: str, score: int, rng: random.Random) -> str:
    # Practitioners often leave an area with nothing in it blank.
    if rng.random() < (0.5 if score == 0 else 0.15):
        return ""
    return rng.choice(_NOTES[code][score])


# --- dates -----------------------------------------------------------------------


def _working_day(days_ago: int) -> datetime.date:
    return working_day_on_or_before(timezone.localdate() - datetime.timedelta(days=days_ago))


_next_working_day = working_day_after


@contextmanager
def _signed_in(user: User) -> Iterator[None]:
    """Changes made as ``user`` in the portal: history rows name them, as in a request."""
    request = HttpRequest()
    request.user = user
    HistoricalRecords.context.request = request
    try:
        yield
    finally:
        del HistoricalRecords.context.request


def _backdate(
    model: Any, pk: Any, *, since: datetime.datetime, at: datetime.datetime, **dates: Any
) -> None:
    """Move the step just taken, and its history rows, back to when it happened."""
    if dates:
        model.objects.filter(pk=pk).update(**dates)
    model.history.filter(id=pk, history_date__gte=since).update(history_date=at)


class _Builder:
    def __init__(self, *, users: Mapping[str, User]) -> None:
        self.users = users
        self.rng = random.Random(2016)  # noqa: S311 - demo data, not security
        self.template = services.current_template()
        self.items: dict[str, TemplateItem] = {i.code: i for i in self.template.items.all()}
        self.agencies = {a.slug: a for a in Agency.objects.all()}
        # When each person's cases last had something happen, before this builder
        # touched them; completing an assessment moves it to now.
        self.activity = {
            (row.case_id, row.agency_id): row.last_activity_at
            for row in CaseVisibility.objects.all()
        }
        self.latest: dict[Any, datetime.datetime] = {}
        self.slot = 0

    def build(self) -> None:
        for journey in JOURNEYS:
            self._journey(journey)
        for draft in DRAFTS:
            self._draft(draft)
        for renewal in RENEWALS:
            self._renewal(renewal)
        self._withdrawal_with_safeguarding()
        self._basis_ended_by_consent()
        self._review_due()
        self._restore_activity()

    # --- assessments -------------------------------------------------------------

    def _person(self, given: str, family: str) -> Person:
        person = (
            Person.objects.filter(given_name=given, family_name=family, cases__isnull=False)
            .order_by("created_at")
            .first()
        )
        if person is None:
            raise LookupError(f"The demo referrals have no case for {given} {family}.")
        return person

    def _time(self, day: datetime.date) -> datetime.datetime:
        self.slot += 1
        return _at(day, 9 + self.slot % 7, (self.slot * 17) % 60)

    def _answers(
        self, notes: Mapping[str, tuple[int | None, str]]
    ) -> dict[int, tuple[int | None, str]]:
        return {self.items[code].pk: note for code, note in notes.items()}

    def _journey(self, journey: Journey) -> None:
        person = self._person(journey.given, journey.family)
        referral = (
            Referral.objects.filter(person=person, state=Referral.State.ACCEPTED)
            .order_by("submitted_at")
            .prefetch_related("risks")
            .first()
        )
        if referral is None:
            raise LookupError(f"No accepted referral for {person}.")
        series = _series(_baseline(referral, self.rng), journey, self.rng)
        for visit, scores in zip(journey.visits, series, strict=True):
            answers: dict[str, tuple[int | None, str]] = {
                code: visit.notes.get(code) or (score, _generic_note(code, score, self.rng))
                for code, score in scores.items()
            }
            day = _working_day(visit.days_ago)
            done = self._time(day)
            assessment = self._complete(
                person=person, actor=self.users[visit.by], answers=answers, done=done
            )
            if visit.correction is not None:
                corrected = _at(_next_working_day(day), 10, 5)
                if corrected > timezone.now():
                    corrected = done + datetime.timedelta(hours=1)
                self._correct(assessment, changes=visit.correction, done=corrected)

    def _complete(
        self,
        *,
        person: Person,
        actor: User,
        answers: Mapping[str, tuple[int | None, str]],
        done: datetime.datetime,
        correcting: Assessment | None = None,
    ) -> Assessment:
        """An assessment filled in over the three quarters of an hour before ``done``."""
        started = done - datetime.timedelta(minutes=45)
        saved = done - datetime.timedelta(minutes=4)
        since = timezone.now()
        with _signed_in(actor):
            if correcting is None:
                assessment = services.assessment_start(actor=actor, person=person)
            else:
                assessment = services.assessment_correct(actor=actor, assessment=correcting)
        self._backdate_answers(assessment, since=since, at=started)
        _backdate(
            Assessment,
            assessment.pk,
            since=since,
            at=started,
            created_at=started,
            updated_at=started,
        )
        since = timezone.now()
        with _signed_in(actor):
            services.assessment_save(
                actor=actor, assessment=assessment, answers=self._answers(answers)
            )
        self._backdate_answers(assessment, since=since, at=saved)
        _backdate(Assessment, assessment.pk, since=since, at=saved, updated_at=saved)
        since = timezone.now()
        assessment = services.assessment_complete(actor=actor, assessment=assessment)
        _backdate(
            Assessment, assessment.pk, since=since, at=done, updated_at=done, completed_at=done
        )
        self.latest[person.pk] = max(done, self.latest.get(person.pk, done))
        return assessment

    def _correct(
        self, original: Assessment, *, changes: Mapping[str, Note], done: datetime.datetime
    ) -> None:
        """A completed assessment is never edited: the assessor completes a correction."""
        self._complete(
            person=original.person,
            actor=original.assessor,
            answers=changes,
            done=done,
            correcting=original,
        )

    def _backdate_answers(
        self, assessment: Assessment, *, since: datetime.datetime, at: datetime.datetime
    ) -> None:
        AssessmentAnswer.history.filter(
            assessment_id=assessment.pk, history_date__gte=since
        ).update(history_date=at)

    def _draft(self, draft: Draft) -> None:
        person = self._person(draft.given, draft.family)
        actor = self.users[draft.by]
        day = _working_day(draft.days_ago)
        started = _at(day, 14, 20)
        saved = started + datetime.timedelta(minutes=25)
        since = timezone.now()
        assessment = services.assessment_start(actor=actor, person=person)
        _backdate(
            Assessment,
            assessment.pk,
            since=since,
            at=started,
            created_at=started,
            updated_at=started,
        )
        since = timezone.now()
        with _signed_in(actor):
            services.assessment_save(
                actor=actor, assessment=assessment, answers=self._answers(draft.answers)
            )
        self._backdate_answers(assessment, since=since, at=saved)
        _backdate(Assessment, assessment.pk, since=since, at=saved, updated_at=saved)

    # --- common core confidentiality ---------------------------------------------

    def _agencies(self, slugs: tuple[str, ...]) -> list[Agency]:
        return [self.agencies[slug] for slug in slugs]

    def _renewal(self, renewal: Renewal) -> None:
        person = self._person(renewal.given, renewal.family)
        given_on = _working_day(renewal.days_ago)
        at = self._time(given_on)
        since = timezone.now()
        record = consent_services.consent_record(
            actor=self.users[renewal.by],
            person=person,
            method=renewal.method,
            given_on=given_on,
            review_date=given_on + datetime.timedelta(days=renewal.review_after_days),
            purposes=[ConsentPurpose.REFERRAL, ConsentPurpose.CARE_PLANNING],
            capacity_considered=renewal.capacity_considered,
            capacity_outcome=renewal.capacity_outcome,
            all_member_agencies=not renewal.agencies,
            agencies=self._agencies(renewal.agencies),
            what_may_be_shared=renewal.what_may_be_shared,
            persons_own_words=renewal.words,
        )
        _backdate(ConsentRecord, record.pk, since=since, at=at, created_at=at, updated_at=at)
        self.latest[person.pk] = max(at, self.latest.get(person.pk, at))

    def _withdrawal_with_safeguarding(self) -> None:
        """He withdraws consent; the chair approves sharing on a safeguarding basis instead.

        Withdrawal bites at once: the agencies the basis does not name lose access.
        """
        person = self._person(*WITHDRAWAL_PERSON)
        consent = ConsentRecord.objects.get(person=person, withdrawn_at__isnull=True)
        worker, manager = self.users["mel.turner"], self.users["sog"]
        day = _working_day(WITHDRAWAL_DAYS_AGO)
        withdrawn = _at(day, 10, 40)
        since = timezone.now()
        consent_services.consent_withdraw(
            actor=worker, consent=consent, recorded_by=manager, note=WITHDRAWAL_NOTE
        )
        _backdate(
            ConsentRecord,
            consent.pk,
            since=since,
            at=withdrawn,
            withdrawn_at=withdrawn,
            updated_at=withdrawn,
        )
        # She asks; the chair approves it in her own session that afternoon.
        requested, approved = _at(day, 14, 30), _at(day, 15, 10)
        since = timezone.now()
        basis = consent_services.sharing_basis_request(
            actor=worker,
            person=person,
            basis=SharingBasis.Basis.SAFEGUARDING,
            justification=SAFEGUARDING_JUSTIFICATION,
            starts_on=day,
            ends_on=day + datetime.timedelta(days=182),
            agencies=self._agencies(SAFEGUARDING_AGENCIES),
            tell_approvers=False,  # decided months ago: nothing is waiting now
        )
        _backdate(SharingBasis, basis.pk, since=since, at=requested, requested_at=requested)
        since = timezone.now()
        consent_services.sharing_basis_approve(actor=self.users["chair"], basis=basis)
        _backdate(
            SharingBasis,
            basis.pk,
            since=since,
            at=approved,
            created_at=requested,
            updated_at=approved,
            approved_at=approved,
        )
        self.latest[person.pk] = max(approved, self.latest.get(person.pk, approved))

    def _basis_ended_by_consent(self) -> None:
        """She signs the agreement herself, so the chair ends the vital-interests basis.

        The basis was recorded to run from today (when the forum accepted her, it
        started then), so both happen today: an end earlier than the start would
        make no sense on her consent page.
        """
        person = self._person(*BASIS_ENDED_PERSON)
        basis = SharingBasis.objects.get(
            person=person, basis=SharingBasis.Basis.VITAL_INTERESTS, ended_at__isnull=True
        )
        today = timezone.localdate()
        consent_services.consent_record(
            actor=self.users["mel.turner"],
            person=person,
            method=ConsentMethod.WRITTEN,
            given_on=today,
            review_date=today + datetime.timedelta(days=365),
            purposes=[ConsentPurpose.REFERRAL, ConsentPurpose.CARE_PLANNING],
            capacity_considered=True,
            capacity_outcome=CapacityOutcome.HAS_CAPACITY,
            all_member_agencies=True,
            persons_own_words=SHARON_WORDS,
        )
        consent_services.sharing_basis_end(actor=self.users["chair"], basis=basis)

    def _review_due(self) -> None:
        """Her agreement is due for review in a fortnight."""
        person = self._person(*REVIEW_DUE_PERSON)
        consent = ConsentRecord.objects.get(person=person, withdrawn_at__isnull=True)
        due = timezone.localdate() + datetime.timedelta(days=REVIEW_DUE_IN_DAYS)
        # As if it had been agreed with this review date: the history says so too.
        ConsentRecord.objects.filter(pk=consent.pk).update(review_date=due)
        ConsentRecord.history.filter(id=consent.pk).update(review_date=due)
        access.person_visibility_refresh(person=person)

    def _restore_activity(self) -> None:
        """Each list shows the person's cases by when something last really happened."""
        for person_id, latest in self.latest.items():
            for row in CaseVisibility.objects.filter(person_id=person_id):
                before = self.activity.get((row.case_id, row.agency_id))
                when = max(before, latest) if before is not None else latest
                if row.last_activity_at != when:
                    CaseVisibility.objects.filter(pk=row.pk).update(last_activity_at=when)


def _demo_assessors() -> set[str]:
    return {visit.by for journey in JOURNEYS for visit in journey.visits} | {
        draft.by for draft in DRAFTS
    }


@transaction.atomic
@unattributed("demo data: a fictional city no one made")
def build_demo_assessments_and_consent(*, users: dict[str, User]) -> None:
    """Write the demo city's assessments and consent changes, once.

    The builder's own marker: any assessment made by a demo practitioner means
    this part of the city is already there, and a second run changes nothing.
    """
    if Assessment.objects.filter(assessor__username__in=_demo_assessors()).exists():
        return
    _Builder(users=users).build()
