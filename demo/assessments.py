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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

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
from csf_portal.history import unattributed
from csf_portal.models import Agency, User
from demo import tables
from demo.dates import at as _at
from demo.dates import working_day_after, working_day_on_or_before
from demo.steps import activity_restore, backdate, signed_in
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


_DATA = tables.load("assessments")


def _notes(notes: Mapping[str, list[Any]]) -> dict[str, Note]:
    return {area: (score, note) for area, (score, note) in notes.items()}


def _visit(entry: dict[str, Any]) -> Visit:
    correction = entry.get("correction")
    return Visit(
        entry["days_ago"],
        entry["by"],
        _notes(entry.get("notes", {})),
        None if correction is None else _notes(correction),
    )


JOURNEYS: tuple[Journey, ...] = tuple(
    Journey(j["given"], j["family"], Trend(j["trend"]), tuple(map(_visit, j["visit"])))
    for j in _DATA["journey"]
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


RENEWALS: tuple[Renewal, ...] = tuple(
    Renewal(
        **{
            **r,
            "method": ConsentMethod(r["method"]),
            "capacity_outcome": CapacityOutcome(r["capacity_outcome"]),
            "agencies": tuple(r.get("agencies", ())),
        }
    )
    for r in _DATA["renewal"]
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
    code: {int(score): tuple(notes) for score, notes in by_score.items()}
    for code, by_score in _DATA["notes"].items()
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
        with signed_in(actor):
            if correcting is None:
                assessment = services.assessment_start(actor=actor, person=person)
            else:
                assessment = services.assessment_correct(actor=actor, assessment=correcting)
        self._backdate_answers(assessment, since=since, at=started)
        backdate(
            Assessment,
            assessment.pk,
            since=since,
            at=started,
            created_at=started,
            updated_at=started,
        )
        since = timezone.now()
        with signed_in(actor):
            services.assessment_save(
                actor=actor, assessment=assessment, answers=self._answers(answers)
            )
        self._backdate_answers(assessment, since=since, at=saved)
        backdate(Assessment, assessment.pk, since=since, at=saved, updated_at=saved)
        since = timezone.now()
        assessment = services.assessment_complete(actor=actor, assessment=assessment)
        backdate(
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
        backdate(
            Assessment,
            assessment.pk,
            since=since,
            at=started,
            created_at=started,
            updated_at=started,
        )
        since = timezone.now()
        with signed_in(actor):
            services.assessment_save(
                actor=actor, assessment=assessment, answers=self._answers(draft.answers)
            )
        self._backdate_answers(assessment, since=since, at=saved)
        backdate(Assessment, assessment.pk, since=since, at=saved, updated_at=saved)

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
        backdate(ConsentRecord, record.pk, since=since, at=at, created_at=at, updated_at=at)
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
        backdate(
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
        backdate(SharingBasis, basis.pk, since=since, at=requested, requested_at=requested)
        since = timezone.now()
        consent_services.sharing_basis_approve(actor=self.users["chair"], basis=basis)
        backdate(
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
        activity_restore(latest=self.latest, by="person_id", activity=self.activity)


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
