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
from typing import Any

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
from csf_portal.history import acting_as, unattributed
from csf_portal.models import Agency, Notification, User
from demo import tables
from demo.dates import working_day_on_or_before
from demo.people import PRACTITIONERS, fictional_nhs_numbers, people_create
from referrals import services
from referrals.models import Referral, ReferralReason, ReferralRisk

U = Referral.Urgency
LB = Referral.LawfulBasis
CM = Referral.ConsentMethod
H = MeamDomain.HOMELESSNESS
S = MeamDomain.SUBSTANCE_MISUSE
OF = MeamDomain.OFFENDING
MH = MeamDomain.MENTAL_HEALTH
CO = Case.ClosureOutcome

Risk = tuple[RiskCategory, RiskLevel, str]


# Whose referrals mark the demo referrals as already built.
_MARKER_REFERRER = "mel.turner"


@dataclass(frozen=True)
class Basis:
    """The lawful basis for sharing; ``share_with`` empty means every forum member."""

    lawful_basis: Referral.LawfulBasis
    consent_method: Referral.ConsentMethod | None = None
    justification: str = ""
    share_with: tuple[str, ...] = ()


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


def _referral(entry: dict[str, Any]) -> DemoReferral:
    """One referral of ``demo/data/referrals.toml``, its choices as the models' own."""
    values = dict(entry)
    values["gender"] = Gender(values["gender"])
    values["living"] = AccommodationStatus(values["living"])
    values["meam"] = tuple(MeamDomain(domain) for domain in values["meam"])
    values["reasons"] = tuple(values["reasons"])
    values["services"] = tuple(values.get("services", ()))
    values["risks"] = tuple(
        (RiskCategory(category), RiskLevel(level), text)
        for category, level, text in values.get("risks", ())
    )
    if "urgency" in values:
        values["urgency"] = U(values["urgency"])
    if "outcome" in values:
        values["outcome"] = Outcome(values["outcome"])
    if "basis" in values:
        basis = values["basis"]
        method = basis.get("consent_method")
        values["basis"] = Basis(
            LB(basis["lawful_basis"]),
            CM(method) if method else None,
            justification=basis.get("justification", ""),
            share_with=tuple(basis.get("share_with", ())),
        )
    if "close" in values:
        values["close"] = Closure(CO(values["close"]["outcome"]), values["close"]["days_ago"])
    return DemoReferral(**values)


REFERRALS: tuple[DemoReferral, ...] = tuple(map(_referral, tables.load("referrals")["referral"]))


def demo_nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers from the 999 range, which is reserved and never issued."""
    return fictional_nhs_numbers(count, first=999_000_100, step=7_919)


def _at(days_ago: int, slot: int) -> datetime.datetime:
    """Working hours on the last working day ``days_ago`` days back (``slot`` varies the time)."""
    day = working_day_on_or_before(timezone.localdate() - datetime.timedelta(days=days_ago))
    moment = datetime.time(9 + slot % 8, (slot * 17) % 60)
    return timezone.make_aware(datetime.datetime.combine(day, moment))


def _practitioners(*, agencies: dict[str, Agency], users: dict[str, User]) -> dict[str, User]:
    """The demo users and the referrers beyond them, who do not sign in."""
    made = people_create(PRACTITIONERS, agencies=agencies, existing=users, password=None)
    return {**users, **made}


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

    def _answers(self, spec: DemoReferral, submitted: datetime.datetime) -> dict[str, Any]:
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
