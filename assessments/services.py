"""Common core assessment use cases: start, save, complete (then locked), correct, re-version."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

import access
from assessments.models import Assessment, AssessmentAnswer, AssessmentTemplate, TemplateItem
from cases.models import Person
from csf_portal.errors import ConcurrentEdit, DomainError, InvalidTransition, NotAllowed
from csf_portal.history import acting_as
from csf_portal.models import Role, User


def current_template(name: str | None = None) -> AssessmentTemplate:
    from assessments.instrument import NAME

    return AssessmentTemplate.objects.get(name=name or NAME, is_current=True)


def _may_assess(actor: User, person: Person) -> bool:
    return access.can_view_person(actor, person) and (
        access.has_role(actor, Role.PRACTITIONER) or access.has_role(actor, Role.FORUM_CHAIR)
    )


def score_total(template: AssessmentTemplate, scores: Mapping[int, int | None]) -> int:
    items = {i.pk: i for i in template.items.all()}
    return sum(items[pk].points(s) for pk, s in scores.items() if s is not None and pk in items)


def score_range(template: AssessmentTemplate) -> tuple[int, int]:
    items = list(template.items.all())
    return (
        sum(min(i.values) * i.multiplier for i in items),
        sum(max(i.values) * i.multiplier for i in items),
    )


@transaction.atomic
def assessment_start(
    *, actor: User, person: Person, template: AssessmentTemplate | None = None
) -> Assessment:
    if not _may_assess(actor, person):
        raise NotAllowed("You cannot assess this person.")
    assessment = Assessment(
        person=person, template=template or current_template(), assessor=actor, agency=actor.agency
    )
    with acting_as(actor):
        assessment.save()
    return assessment


def _editable(actor: User, assessment: Assessment) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.state != Assessment.State.DRAFT:
        raise InvalidTransition(
            "This assessment is completed and cannot be changed. Start a correction instead."
        )
    if assessment.agency_id != actor.agency_id or not _may_assess(actor, assessment.person):
        raise NotAllowed("Only the assessing agency can change this assessment.")
    return assessment


Answer = tuple[int | None, str]
UNANSWERED: Answer = (None, "")


def answer_token(answer: Answer) -> str:
    """What an answer said when it was read: the form carries it, hidden, per answer."""
    score, narrative = answer
    raw = f"{'' if score is None else score}|{narrative}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def stored_answers(assessment: Assessment) -> dict[int, Answer]:
    """The answers as they now are, by item id (an unanswered item is absent)."""
    return {a.item_id: (a.score, a.narrative) for a in assessment.answers.all()}


def _describe(answer: Answer) -> str:
    score, narrative = answer
    if answer == UNANSWERED:
        return "no answer"
    said = "no score" if score is None else f"score {score}"
    return f"{said}, “{narrative}”" if narrative else said


@transaction.atomic
def assessment_save(
    *,
    actor: User,
    assessment: Assessment,
    answers: Mapping[int, Answer],
    read: Mapping[int, str] | None = None,
) -> Assessment:
    """Save answers (item id -> (score, narrative)); a draft may be partly answered.

    Saved answer by answer against what the user read (``read``: item id -> the
    :func:`answer_token` of the answer then): an answer the user left as they read it is
    not written, so a second session's save never blanks what another changed; an answer
    both changed is refused (:class:`ConcurrentEdit`) with what it now says, nothing saved.
    """
    assessment = _editable(actor, assessment)
    items = {i.pk: i for i in assessment.template.items.all()}
    if read is not None:
        answers = _changed_answers(assessment, items, answers, read)
    with acting_as(actor):
        _answers_save(assessment, items, answers)
        assessment.save(update_fields=["updated_at"])
    return assessment


def _changed_answers(
    assessment: Assessment,
    items: dict[int, TemplateItem],
    answers: Mapping[int, Answer],
    read: Mapping[int, str],
) -> dict[int, Answer]:
    """The answers the user changed; a conflict if someone else changed one of them too."""
    now = stored_answers(assessment)
    changed: dict[int, Answer] = {}
    conflicts: list[str] = []
    for item_id, answer in answers.items():
        current = now.get(item_id, UNANSWERED)
        was = read.get(item_id, answer_token(UNANSWERED))
        if answer == current or answer_token(answer) == was:
            continue  # already so, or left as read: someone else's change stands
        if answer_token(current) != was:
            item = items.get(item_id)
            conflicts.append(f"{item.domain if item else 'an answer'} now has {_describe(current)}")
        changed[item_id] = answer
    if conflicts:
        raise ConcurrentEdit(
            "Someone else changed these answers while you were editing: "
            + "; ".join(conflicts)
            + ". Your answers are below; save again to replace theirs"
        )
    return changed


def _answers_save(
    assessment: Assessment,
    items: dict[int, TemplateItem],
    answers: Mapping[int, tuple[int | None, str]],
) -> None:
    for item_id, (score, narrative) in answers.items():
        item = items.get(item_id)
        if item is None:
            raise DomainError("That question is not part of this assessment")
        if score is not None and score not in item.values:
            low, high = min(item.values), max(item.values)
            raise DomainError(
                f"{item.domain}: the score must be between {low} and {high}", field=item.code
            )
        answer = AssessmentAnswer.objects.filter(assessment=assessment, item=item).first()
        if answer is None:
            answer = AssessmentAnswer(assessment=assessment, item=item)
        answer.score = score
        answer.narrative = narrative
        answer.save()


@transaction.atomic
def assessment_complete(*, actor: User, assessment: Assessment) -> Assessment:
    """Complete and lock: every domain needs a score."""
    assessment = _editable(actor, assessment)
    scores = dict(assessment.answers.values_list("item_id", "score"))
    unanswered = [i.domain for i in assessment.template.items.all() if scores.get(i.pk) is None]
    if unanswered:
        raise DomainError("Give a score for: " + ", ".join(unanswered))
    assessment.total_score = score_total(assessment.template, scores)
    assessment.max_score = score_range(assessment.template)[1]
    assessment.state = Assessment.State.COMPLETED
    assessment.completed_at = timezone.now()
    with acting_as(actor):
        assessment.save()
    access.case_activity_touch_person(person=assessment.person)
    return assessment


@transaction.atomic
def assessment_correct(*, actor: User, assessment: Assessment) -> Assessment:
    """A completed assessment is never edited: a correction is a new one that refers to it."""
    assessment = Assessment.objects.get(pk=assessment.pk)
    if assessment.state != Assessment.State.COMPLETED:
        raise InvalidTransition("Only a completed assessment can be corrected.")
    correction = assessment_start(
        actor=actor, person=assessment.person, template=assessment.template
    )
    correction.corrects = assessment
    with acting_as(actor):
        correction.save(update_fields=["corrects"])
        for answer in assessment.answers.all():
            AssessmentAnswer.objects.create(
                assessment=correction,
                item=answer.item,
                score=answer.score,
                narrative=answer.narrative,
            )
    return correction


@transaction.atomic
def template_new_version(
    *, template: AssessmentTemplate, changes: Mapping[str, Mapping[str, object]] | None = None
) -> AssessmentTemplate:
    """Copy the instrument to a new current version, applying ``changes`` by item code.

    Assessments keep the version they were made with.
    """
    latest = AssessmentTemplate.objects.filter(name=template.name).order_by("-version").first()
    assert latest is not None
    AssessmentTemplate.objects.filter(name=template.name, is_current=True).update(is_current=False)
    new = AssessmentTemplate.objects.create(
        name=template.name,
        version=latest.version + 1,
        is_current=True,
        description=template.description,
    )
    allowed = {"domain", "question", "guidance", "options", "weight", "counts_double", "order"}
    for item in template.items.all():
        fields = {f: getattr(item, f) for f in allowed}
        for key, value in (changes or {}).get(item.code, {}).items():
            if key not in allowed:
                raise DomainError(f"{key} cannot be changed")
            fields[key] = value
        TemplateItem.objects.create(template=new, code=item.code, **fields)
    return new


def answers_form_data(
    *,
    assessment: Assessment,
    data: Mapping[str, object],
    typed: Mapping[int, Answer],
    read: Mapping[int, str],
) -> dict[str, object]:
    """The edit form's data after a refused save, over the answers as they now are: what
    the user typed where they changed an answer, what it now says where they did not, and
    every answer's token now, so saving again is a conscious choice."""
    now = stored_answers(assessment)
    out: dict[str, object] = {k: data[k] for k in data}
    for item in assessment.template.items.all():
        current = now.get(item.pk, UNANSWERED)
        answer = typed.get(item.pk, UNANSWERED)
        if answer_token(answer) == read.get(item.pk):
            score, narrative = current
            out[f"score_{item.code}"] = "" if score is None else str(score)
            out[f"narrative_{item.code}"] = narrative
        out[f"read_{item.code}"] = answer_token(current)
    return out
