"""Referral use cases: draft, submit, withdraw; the chair's accept, redirect, decline.

State machine (DESIGN §3): draft -> submitted -> accepted | redirected | declined;
draft or submitted -> withdrawn. Anything else is refused with a clear message.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

import access
from cases.matching import identifiers_agree, phonetic_key
from cases.models import Case, Person, RiskCategory, RiskLevel
from cases.validators import normalise_nhs_number
from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Agency, Role, User
from csf_portal.notifications import notification_send
from referrals.models import Referral, ReferralReason, ReferralRisk

if TYPE_CHECKING:
    from assessments.models import Assessment
    from forums.models import Meeting

S = Referral.State

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.ACCEPTED, S.REDIRECTED, S.DECLINED, S.WITHDRAWN},
}

# What the wizard may set on a draft.
EDITABLE_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "other_names",
        "date_of_birth",
        "nhs_number",
        "gender",
        "accommodation_status",
        "gp_practice",
        "meam_homelessness",
        "meam_substance_misuse",
        "meam_offending",
        "meam_mental_health",
        "reason_other",
        "tried_so_far",
        "hoped_outcome",
        "urgency",
        "lawful_basis",
        "consent_method",
        "consent_given_on",
        "consent_person_informed",
        "basis_justification",
        "sharing_all_members",
    }
)

_PAST_TENSE = {
    S.DRAFT: "is still a draft",
    S.SUBMITTED: "has been submitted",
    S.ACCEPTED: "has already been accepted",
    S.REDIRECTED: "has already been redirected",
    S.DECLINED: "has already been declined",
    S.WITHDRAWN: "has been withdrawn",
}
_VERB = {
    S.SUBMITTED: "submitted",
    S.ACCEPTED: "accepted",
    S.REDIRECTED: "redirected",
    S.DECLINED: "declined",
    S.WITHDRAWN: "withdrawn",
}


def _transition(referral: Referral, to: str) -> None:
    if to not in TRANSITIONS.get(referral.state, set()):
        raise InvalidTransition(
            f"This referral {_PAST_TENSE[S(referral.state)]}, so it cannot be {_VERB[S(to)]}."
        )
    referral.state = to


def _locked(referral: Referral) -> Referral:
    """Re-read the referral under a row lock: two decisions cannot race."""
    return Referral.objects.select_for_update().get(pk=referral.pk)


def _save(referral: Referral, actor: User) -> None:
    with acting_as(actor):
        referral.save()


def _match_key(date_of_birth: datetime.date | None, family_name: str) -> str:
    if date_of_birth is None or not family_name:
        return ""
    return f"{date_of_birth:%Y%m%d}:{phonetic_key(family_name)}"[:40]


def referral_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


# --- practitioner -------------------------------------------------------------


@transaction.atomic
def referral_start(*, actor: User) -> Referral:
    if not access.can_make_referral(actor):
        raise NotAllowed("You need the practitioner role in a member agency to make a referral.")
    referral = Referral(referrer=actor, referring_agency=actor.agency)
    _save(referral, actor)
    return referral


_MANY = ("reasons", "services_involved", "sharing_agencies")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple, set, frozenset)) or (
        hasattr(value, "__iter__") and not (isinstance(value, str))
    ):
        return sorted(_plain(v) for v in value)
    return value


def _stored(referral: Referral, names: Iterable[str]) -> dict[str, Any]:
    return {
        n: _plain(getattr(referral, n).all() if n in _MANY else getattr(referral, n))
        for n in names
        if n in EDITABLE_FIELDS or n in _MANY
    }


def _token(values: dict[str, Any]) -> str:
    raw = json.dumps(values, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def referral_step_token(referral: Referral, names: Iterable[str]) -> str:
    """What a wizard page's answers said when read: its form carries this, hidden."""
    return _token(_stored(referral, names))


def _check_step_read(referral: Referral, read: str, answers: dict[str, Any]) -> None:
    """Refuse a page's save if someone else changed its answers since it was read and
    these answers differ from theirs; the refusal says what the page now says."""
    now = _stored(referral, answers)
    if _token(now) == read or _token(_stored_like(answers)) == _token(now):
        return
    said = "; ".join(f"{_label(n)}: {_shown(referral, n)}" for n in now)
    raise ConcurrentEdit(
        f"Someone else changed this page while you were editing. It now says: {said}. "
        "Your answers are below; save again to replace theirs"
    )


def _stored_like(answers: dict[str, Any]) -> dict[str, Any]:
    values = dict(answers)
    if "nhs_number" in values:
        values["nhs_number"] = normalise_nhs_number(values["nhs_number"])
    return {n: _plain(v) for n, v in values.items() if n in EDITABLE_FIELDS or n in _MANY}


def _label(name: str) -> str:
    field = Referral._meta.get_field(name)
    return str(getattr(field, "verbose_name", name)).capitalize()


def _shown(referral: Referral, name: str) -> str:
    if name in _MANY:
        return ", ".join(str(v) for v in getattr(referral, name).all()) or "none"
    display = getattr(referral, f"get_{name}_display", None)
    value = display() if display else getattr(referral, name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return f"{value:%-d %B %Y}"
    return str(value) if value not in (None, "") else "not given"


@transaction.atomic
def referral_update(
    *,
    actor: User,
    referral: Referral,
    reasons: Iterable[ReferralReason] | None = None,
    services_involved: Iterable[Agency] | None = None,
    sharing_agencies: Iterable[Agency] | None = None,
    read: str | None = None,
    **fields: Any,
) -> Referral:
    """Save answers on a draft (any step, in any order).

    ``read`` is :func:`referral_step_token` of these answers as the user read them: if
    someone else changed them since, the save is refused (:class:`ConcurrentEdit`)."""
    referral = _locked(referral)
    if not access.can_edit_referral(actor, referral):
        raise NotAllowed("You cannot change this referral.")
    if referral.state != S.DRAFT:
        raise InvalidTransition("Only a draft can be changed. This referral has been submitted.")
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if read is not None:
        many = {"reasons": reasons, "services_involved": services_involved}
        many["sharing_agencies"] = sharing_agencies
        _check_step_read(
            referral, read, fields | {n: list(v) for n, v in many.items() if v is not None}
        )
    if "nhs_number" in fields:
        fields["nhs_number"] = normalise_nhs_number(fields["nhs_number"])
    for name, value in fields.items():
        setattr(referral, name, value)
    referral.match_key = _match_key(referral.date_of_birth, referral.family_name)
    _save(referral, actor)
    if reasons is not None:
        referral.reasons.set(reasons)
    if services_involved is not None:
        referral.services_involved.set(services_involved)
    if sharing_agencies is not None:
        referral.sharing_agencies.set(sharing_agencies)
    return referral


@transaction.atomic
def referral_use_person(*, actor: User, referral: Referral, person: Person | None) -> Referral:
    """Link the draft to a person the referrer may see, filling in what is known.

    ``None`` records that the referrer says it is not the same person.
    """
    referral = _locked(referral)
    if not access.can_edit_referral(actor, referral) or referral.state != S.DRAFT:
        raise NotAllowed("You cannot change this referral.")
    if person is not None and not access.can_view_person(actor, person):
        raise NotAllowed("You cannot see that person's record.")
    referral.person = person
    if person is not None:
        for name in (
            "given_name",
            "family_name",
            "other_names",
            "date_of_birth",
            "nhs_number",
            "gender",
            "accommodation_status",
            "gp_practice",
        ):
            if not getattr(referral, name) and getattr(person, name):
                setattr(referral, name, getattr(person, name))
        referral.match_key = _match_key(referral.date_of_birth, referral.family_name)
    referral.assessment = _latest_assessment(person)
    _save(referral, actor)
    return referral


def _latest_assessment(person: Person | None) -> Assessment | None:
    if person is None:
        return None
    from assessments.selectors import latest_completed

    return latest_completed(person=person)


@transaction.atomic
def referral_risk_add(
    *, actor: User, referral: Referral, category: str, level: str, description: str = ""
) -> ReferralRisk:
    referral = _locked(referral)
    if not access.can_edit_referral(actor, referral) or referral.state != S.DRAFT:
        raise NotAllowed("You cannot change this referral.")
    RiskCategory(category)
    RiskLevel(level)
    risk = ReferralRisk(referral=referral, category=category, level=level, description=description)
    with acting_as(actor):
        risk.save()
    return risk


@transaction.atomic
def referral_risk_remove(*, actor: User, referral: Referral, risk_id: int) -> None:
    referral = _locked(referral)
    if not access.can_edit_referral(actor, referral) or referral.state != S.DRAFT:
        raise NotAllowed("You cannot change this referral.")
    risk = referral.risks.filter(pk=risk_id).first()
    if risk is not None:
        with acting_as(actor):
            risk.delete()


def referral_missing_answers(referral: Referral) -> list[tuple[str, str]]:
    """(step, message) for every answer a referral needs before it can be submitted."""
    missing: list[tuple[str, str]] = []
    if not referral.given_name or not referral.family_name:
        missing.append(("person", "Enter the person's first and last name"))
    if referral.date_of_birth is None:
        missing.append(("person", "Enter the person's date of birth"))
    if not referral.gender:
        missing.append(("person", "Select the person's gender"))
    if not referral.accommodation_status:
        missing.append(("circumstances", "Select where the person is living now"))
    if not referral.meam_domains:
        missing.append(("meam", "Select at least one area of need"))
    reasons = list(referral.reasons.all())
    if not reasons:
        missing.append(("reasons", "Select at least one reason for the referral"))
    elif any(r.is_other for r in reasons) and not referral.reason_other:
        missing.append(("reasons", "Describe the other reason for the referral"))
    if not referral.risks.exists():
        missing.append(("risks", "Add at least one risk"))
    if not referral.tried_so_far:
        missing.append(("tried", "Say what has been tried and why it has not worked"))
    if not referral.hoped_outcome:
        missing.append(("hopes", "Say what you hope the forum can do"))
    if not referral.urgency:
        missing.append(("urgency", "Select how urgent the referral is"))
    if not referral.lawful_basis:
        missing.append(("basis", "Select the lawful basis for sharing this information"))
    elif referral.lawful_basis == Referral.LawfulBasis.CONSENT:
        if not referral.consent_method or referral.consent_given_on is None:
            missing.append(("sharing", "Say how and when the person gave consent"))
        if not referral.consent_person_informed:
            missing.append(
                ("sharing", "Confirm the person was told what will be shared and with whom")
            )
    elif not referral.basis_justification:
        missing.append(("sharing", "Explain why sharing without consent is justified"))
    if referral.lawful_basis and not (
        referral.sharing_all_members or referral.sharing_agencies.exists()
    ):
        missing.append(("sharing", "Select which agencies this information may be shared with"))
    return missing


def _chairs() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.FORUM_CHAIR, is_active=True).order_by("pk").distinct()
    )


def referral_identifiers_agree(referral: Referral, person: Person) -> bool:
    """The strict rule of ``cases.matching.identifiers_agree``, for this referral and person."""
    return identifiers_agree(
        given=referral.given_name,
        family=referral.family_name,
        date_of_birth=referral.date_of_birth,
        nhs_number=referral.nhs_number,
        other_names=referral.other_names,
        candidate_given=person.given_name,
        candidate_family=person.family_name,
        candidate_dob=person.date_of_birth,
        candidate_nhs=person.nhs_number,
        candidate_other_names=person.other_names,
    )


def _match_known_person(referral: Referral) -> None:
    """At submission: link, propose, or leave alone - never a silent merge (issue 19).

    The candidates are the person the referrer chose on the "same person?" page, or
    else everyone already known with the referral's NHS number. One whose identifiers
    agree (``referral_identifiers_agree``) is linked, still for the chair to confirm at
    acceptance; otherwise the first is only *proposed* to the chair and the referral
    stays unlinked. Only the referral changes: nothing about the existing person does.
    The referrer is shown nothing either way.
    """
    candidates: list[Person]
    if referral.person_id is not None:
        candidates = [referral.person] if referral.person is not None else []
    elif referral.nhs_number:
        candidates = list(
            Person.objects.filter(nhs_number=referral.nhs_number).order_by("created_at", "pk")
        )
    else:
        candidates = []
    agreeing = [p for p in candidates if referral_identifiers_agree(referral, p)]
    referral.person = agreeing[0] if agreeing else None
    referral.proposed_person = None if agreeing or not candidates else candidates[0]
    if referral.assessment is not None and referral.assessment.person_id != referral.person_id:
        # An assessment attached for a person the referral is no longer linked to.
        referral.assessment = None


@transaction.atomic
def referral_submit(*, actor: User, referral: Referral) -> Referral:
    referral = _locked(referral)
    if not access.can_edit_referral(actor, referral):
        raise NotAllowed("You cannot submit this referral.")
    missing = referral_missing_answers(referral)
    if referral.state == S.DRAFT and missing:
        raise DomainError("This referral is not finished: " + "; ".join(m for _, m in missing))
    _transition(referral, S.SUBMITTED)
    referral.submitted_at = timezone.now()
    _match_known_person(referral)
    _save(referral, actor)
    for chair in _chairs():
        notification_send(
            user=chair,
            text=f"New referral {referral.short_ref} ({referral.get_urgency_display()}) "
            "is waiting for triage.",
            url=referral_url(referral),
            email_subject="CSF Portal: a new referral is waiting for triage",
        )
    return referral


@transaction.atomic
def referral_withdraw(*, actor: User, referral: Referral, reason: str) -> Referral:
    referral = _locked(referral)
    if not access.can_act_as_referrer(actor, referral):
        raise NotAllowed("You cannot withdraw this referral.")
    if referral.state == S.SUBMITTED and not reason.strip():
        raise DomainError("Say why the referral is being withdrawn", field="reason")
    _transition(referral, S.WITHDRAWN)
    referral.withdrawn_at = timezone.now()
    referral.withdrawal_reason = reason.strip()
    _save(referral, actor)
    return referral


# --- chair -------------------------------------------------------------------------


def _decide(actor: User, referral: Referral, to: str, reason: str) -> Referral:
    if not access.can_triage_referrals(actor):
        raise NotAllowed("Only a forum chair can triage referrals.")
    referral = _locked(referral)
    _transition(referral, to)
    referral.decided_at = timezone.now()
    referral.decided_by = actor
    referral.decision_reason = reason.strip()
    return referral


def _notify_referrer(referral: Referral, text: str) -> None:
    notification_send(
        user=referral.referrer,
        text=text,
        url=referral_url(referral),
        email_subject=f"CSF Portal: decision on referral {referral.short_ref}",
    )


CONSENT_REVIEW_AFTER = datetime.timedelta(days=365)
SHARING_BASIS_LASTS = datetime.timedelta(days=182)


def _record_lawful_basis(actor: User, referral: Referral, person: Person) -> None:
    """Turn the referral's lawful basis into the person's consent record or sharing basis.

    Consent is reviewed a year after acceptance; a basis without consent lasts six
    months, requested by the referrer and approved by the accepting chair. Both cover
    the agencies the referrer named, the referring agency and the forum.
    """
    from consent import services as consent_services
    from consent.models import CapacityOutcome, ConsentPurpose

    agencies = list(referral.sharing_agencies.all())
    agencies += [a for a in (referral.referring_agency, actor.agency) if a is not None]
    today = timezone.localdate()
    if referral.lawful_basis == Referral.LawfulBasis.CONSENT:
        consent_services.consent_record(
            actor=actor,
            person=person,
            method=referral.consent_method,
            given_on=min(referral.consent_given_on or today, today),
            review_date=today + CONSENT_REVIEW_AFTER,
            purposes=[ConsentPurpose.REFERRAL, ConsentPurpose.CARE_PLANNING],
            capacity_considered=False,
            capacity_outcome=CapacityOutcome.NOT_IN_DOUBT,
            all_member_agencies=referral.sharing_all_members,
            agencies=agencies,
            recorded_by=referral.referrer,
            check_recorder=False,
        )
    else:
        # The referrer asked for it; the accepting chair, in their own session, is the
        # second pair of eyes. A chair accepting their own referral cannot approve it:
        # it waits for another chair.
        basis = consent_services.sharing_basis_request(
            actor=referral.referrer,
            person=person,
            basis=referral.lawful_basis,
            justification=referral.basis_justification,
            starts_on=today,
            ends_on=today + SHARING_BASIS_LASTS,
            all_member_agencies=referral.sharing_all_members,
            agencies=agencies,
            check_recorder=False,
            tell_approvers=False,
        )
        if not access.can_approve_sharing_basis(actor, basis):
            raise NotAllowed(
                "You made this referral and it asks to share without consent: another "
                "forum chair must accept it."
            )
        consent_services.sharing_basis_approve(actor=actor, basis=basis)


@transaction.atomic
def referral_accept(
    *,
    actor: User,
    referral: Referral,
    person: Person | None = None,
    reason: str = "",
    meeting: Meeting | None = None,
    new_person: bool = False,
) -> Referral:
    """Accept: open a case for the person, or reopen their closed case (a repeat referral).

    Who the referral is about is the chair's decision, made here and fixed by it:
    ``person`` is an existing person the chair has confirmed this referral is about
    ("Yes, same person"); ``new_person=True`` creates a new person from the referral's
    own identifiers, whatever it was linked to or proposed with ("No, this is a new
    person"). A referral linked or proposed at submission needs one or the other.
    Consent, sharing basis, agencies and risks all go to that person alone.
    ``meeting``, a forum meeting whose agenda the case joins, with the referrer presenting.
    """
    if person is not None and new_person:
        raise ValueError("Either an existing person or a new person, not both")
    current = _locked(referral)
    if current.state == S.SUBMITTED and not access.can_confirm_person_match(actor, current):
        raise NotAllowed("Only a forum chair can confirm who a referral is about.")
    referral = _decide(actor, current, S.ACCEPTED, reason)
    undecided = person is None and not new_person
    if undecided and (referral.person_id is not None or referral.proposed_person_id is not None):
        raise DomainError(
            "Say whether this referral is about the person already known, or a new person",
            field="person",
        )
    if person is None:
        person = Person(
            given_name=referral.given_name,
            family_name=referral.family_name,
            other_names=referral.other_names,
            date_of_birth=referral.date_of_birth,
            nhs_number=referral.nhs_number,
            gender=referral.gender,
            accommodation_status=referral.accommodation_status,
            gp_practice=referral.gp_practice,
        )
        with acting_as(actor):
            person.save()
        created = True
    else:
        created = False
        person.accommodation_status = referral.accommodation_status or person.accommodation_status
        person.gp_practice = referral.gp_practice or person.gp_practice
        with acting_as(actor):
            person.save(update_fields=["accommodation_status", "gp_practice", "updated_at"])
    referral.identity_decision = (
        Referral.IdentityDecision.NEW if created else Referral.IdentityDecision.SAME
    )
    referral.person = person
    if referral.assessment is None or referral.assessment.person_id != person.pk:
        referral.assessment = _latest_assessment(person)

    earlier = (
        Referral.objects.filter(person=person)
        .exclude(pk=referral.pk)
        .exclude(state__in=[S.DRAFT, S.WITHDRAWN])
        .exists()
    )
    case = Case.objects.select_for_update().filter(person=person).order_by("-created_at").first()
    now = timezone.now()
    if case is None:
        case = Case(person=person, opened_at=now)
    elif case.state == Case.State.CLOSED:
        case.state = Case.State.AWAITING_FORUM
        case.times_reopened += 1
        case.closed_at = None
        case.closure_outcome = ""
        earlier = True
    with acting_as(actor):
        case.save()
    referral.case = case
    referral.is_repeat = earlier
    _save(referral, actor)

    # Involvement: the referrer, the forum, the services already involved. Each sees
    # the case only while the recorded lawful basis covers it (access).
    _record_lawful_basis(actor, referral, person)
    from cases import services as case_services
    from cases.models import Risk

    involved: list[tuple[Agency, str, User | None]] = [
        (referral.referring_agency, "Referrer", referral.referrer)
    ]
    if actor.agency is not None:
        involved.append((actor.agency, "Forum chair", actor))
    involved += [(a, "Already involved", None) for a in referral.services_involved.all()]
    seen: set[int] = set()
    for agency, role, worker in involved:
        if agency.pk not in seen:
            seen.add(agency.pk)
            case_services.case_agency_join(
                actor=actor, case=case, agency=agency, role=role, named_worker=worker
            )
    open_categories = set(
        Risk.objects.filter(case=case, status=Risk.Status.OPEN).values_list("category", flat=True)
    )
    for risk in referral.risks.all():
        if risk.category not in open_categories:
            case_services.risk_add(
                actor=actor,
                case=case,
                category=risk.category,
                level=risk.level,
                description=risk.description,
                at_referral=True,
            )
    access.case_activity_touch(case=case)
    when = ""
    if meeting is not None:
        from forums import services as forum_services
        from forums.models import AgendaItem

        if not AgendaItem.objects.filter(meeting=meeting, case=case).exists():
            forum_services.agenda_item_add(
                actor=actor, meeting=meeting, case=case, presenter=referral.referrer
            )
        when = f" It will be discussed on {timezone.localtime(meeting.starts_at):%-d %B %Y}."

    _notify_referrer(
        referral,
        f"Your referral {referral.short_ref} has been accepted by the Creative Solutions Forum."
        + when,
    )
    return referral


@transaction.atomic
def referral_redirect(
    *, actor: User, referral: Referral, destination: str, service: str = "", advice: str
) -> Referral:
    destination = Referral.RedirectDestination(destination)
    if not advice.strip():
        raise DomainError("Give advice for the referrer", field="advice")
    if destination == Referral.RedirectDestination.NAMED_SERVICE and not service.strip():
        raise DomainError("Name the service to redirect to", field="service")
    referral = _decide(actor, referral, S.REDIRECTED, advice)
    referral.redirect_destination = destination
    referral.redirect_service = service.strip()
    _save(referral, actor)
    where = service.strip() if service.strip() else destination.label.lower()
    _notify_referrer(
        referral, f"Your referral {referral.short_ref} has been redirected to {where}."
    )
    return referral


@transaction.atomic
def referral_decline(*, actor: User, referral: Referral, reason: str) -> Referral:
    if not reason.strip():
        raise DomainError("Give the reason for declining the referral", field="reason")
    referral = _decide(actor, referral, S.DECLINED, reason)
    _save(referral, actor)
    _notify_referrer(referral, f"Your referral {referral.short_ref} has been declined.")
    return referral
