"""The demo city's common core assessments and confidentiality, built by ``manage.py seed_demo``.

The city is built once for the module (it takes a while) inside a transaction
that is rolled back at the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

import access
from assessments.models import Assessment, AssessmentAnswer
from cases.models import Person
from consent.models import CapacityOutcome, ConsentRecord, SharingBasis
from csf_portal.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.dates, pytest.mark.xdist_group("demo_city")]

COMPLETED = Assessment.State.COMPLETED


def _snapshot() -> dict[str, int]:
    return {
        "assessments": Assessment.objects.count(),
        "answers": AssessmentAnswer.objects.count(),
        "consents": ConsentRecord.objects.count(),
        "sharing bases": SharingBasis.objects.count(),
        "assessment history": Assessment.history.count(),
        "answer history": AssessmentAnswer.history.count(),
        "consent history": ConsentRecord.history.count(),
        "sharing basis history": SharingBasis.history.count(),
    }


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    assert before["assessments"] >= 60
    call_command("seed_demo", verbosity=0)
    assert _snapshot() == before


def test_a_year_of_assessments_mostly_showing_risk_reduced(seeded):
    assessed = Person.objects.filter(assessments__state=COMPLETED).distinct()
    assert assessed.count() >= 30

    now = timezone.now()
    lower = repeated = 0
    for person in assessed:
        opened = min(person.cases.values_list("opened_at", flat=True))
        series = list(
            Assessment.objects.filter(person=person, state=COMPLETED).order_by("completed_at")
        )
        assert 1 <= len(series) <= 5  # up to four, and a correction
        for assessment in series:
            assert assessment.completed_at is not None
            assert opened < assessment.created_at <= assessment.completed_at < now
            assert not assessment.answers.filter(score__isnull=True).exists()
            assert assessment.answers.count() == assessment.template.items.count()
            # The history is dated with the assessment and names who made each change.
            for row in assessment.history.all():
                assert assessment.created_at <= row.history_date <= assessment.completed_at
                assert row.history_user_id == assessment.assessor_id
            answer_history = AssessmentAnswer.history.filter(assessment_id=assessment.pk)
            assert not answer_history.filter(history_date__gt=assessment.completed_at).exists()
            assert not answer_history.exclude(history_user=assessment.assessor).exists()
        if len(series) >= 2:
            repeated += 1
            lower += series[-1].total_score < series[0].total_score
    assert repeated >= 15
    assert lower >= repeated * 0.7
    assert lower < repeated  # a few unchanged or worse

    earliest = Assessment.objects.filter(state=COMPLETED).order_by("completed_at").first()
    assert earliest is not None and earliest.completed_at is not None
    assert (now - earliest.completed_at).days > 300

    # By many agencies' practitioners, in their own plain words.
    agencies = set()
    for assessment in Assessment.objects.select_related("assessor"):
        assert assessment.agency_id == assessment.assessor.agency_id
        agencies.add(assessment.agency_id)
    assert len(agencies) >= 8
    for username in ("hostel", "mh", "housing", "police"):
        assert Assessment.objects.filter(assessor__username=username, state=COMPLETED).exists()
    notes = list(AssessmentAnswer.objects.exclude(narrative="").values_list("narrative", flat=True))
    assert len(notes) > AssessmentAnswer.objects.count() / 2
    assert not [n for n in notes if "<" in n or ">" in n]
    assert any("methadone" in n for n in notes)


def test_a_correction_and_drafts_in_progress(seeded):
    correction = Assessment.objects.get(corrects__isnull=False)
    original = correction.corrects
    assert original is not None
    assert correction.state == original.state == COMPLETED
    assert correction.assessor == original.assessor
    assert correction.completed_at > original.completed_at
    scores = dict(correction.answers.values_list("item__code", "score"))
    assert scores != dict(original.answers.values_list("item__code", "score"))

    drafts = Assessment.objects.filter(state=Assessment.State.DRAFT)
    assert 1 <= drafts.count() <= 2
    hostel = User.objects.get(username="hostel")
    for draft in drafts:
        assert draft.assessor == hostel
        assert draft.completed_at is None
        assert 0 < draft.answers.count() < draft.template.items.count()
        assert access.can_view_person(hostel, draft.person)


def test_withdrawn_consent_leaves_access_only_where_a_sharing_basis_applies(seeded):
    withdrawn = ConsentRecord.objects.get(withdrawn_at__isnull=False)
    assert withdrawn.withdrawal_recorded_by is not None
    assert withdrawn.withdrawal_note
    person = withdrawn.person
    basis = SharingBasis.objects.get(person=person, basis=SharingBasis.Basis.SAFEGUARDING)
    assert basis.is_current()
    assert basis.approved_by.username == "chair"
    assert not basis.all_member_agencies
    covered = set(basis.agencies.values_list("pk", flat=True))

    users = User.objects.filter(username__in=["hostel", "mh", "mel.turner", "chair"])
    seeing = {u.username for u in users if access.can_view_person(u, person)}
    assert seeing == {"hostel", "mel.turner", "chair"}
    for user in users:
        assert access.is_involved_with_person(user, person)
        assert access.can_view_person(user, person) == (user.agency_id in covered)
    assert withdrawn.recorded_by.agency_id in covered
    assert withdrawn.withdrawal_recorded_by.agency_id in covered

    # Another person's vital-interests basis ended early once she consented herself.
    ended = SharingBasis.objects.get(ended_at__isnull=False)
    assert ended.ended_at is not None
    assert ended.ended_at.date() < ended.ends_on
    assert ended.ended_by is not None
    assert ConsentRecord.objects.filter(
        person=ended.person, withdrawn_at__isnull=True, all_member_agencies=True
    ).exists()
    police = User.objects.get(username="police")
    assert access.cases_visible_to(user=police).filter(person=ended.person).exists()


def test_renewed_consent_a_review_due_and_the_gp_sees_nobody(seeded):
    today = timezone.localdate()
    renewed = ConsentRecord.objects.exclude(persons_own_words="")
    assert renewed.count() >= 3
    assert renewed.filter(persons_own_words__icontains="telling my story").exists()
    outcomes = set(renewed.values_list("capacity_outcome", flat=True))
    assert {CapacityOutcome.HAS_CAPACITY, CapacityOutcome.LACKS_CAPACITY} <= outcomes
    assert renewed.filter(capacity_considered=False).exists()
    for consent in renewed:
        assert consent.is_current()

    # One agreement is due for review within four weeks: the nightly reminder's work.
    due = ConsentRecord.objects.filter(
        withdrawn_at__isnull=True,
        review_reminder_sent_on__isnull=True,
        review_date__gte=today,
        review_date__lte=today + datetime.timedelta(days=28),
    )
    assert due.count() == 1
    consent = due.get()
    mh = User.objects.get(username="mh")
    assert access.cases_visible_to(user=mh).filter(person=consent.person).exists()
    coverage = access.coverage_until(
        person_id=consent.person_id, agency_id=mh.agency_id, use=access.Use.CARE_COORDINATION
    )
    assert coverage == consent.review_date

    gp = User.objects.get(username="gp")
    assert not access.cases_visible_to(user=gp).exists()
    assert not Assessment.objects.filter(agency=gp.agency).exists()
    assert not ConsentRecord.objects.filter(agencies=gp.agency).exists()
    assert not SharingBasis.objects.filter(agencies=gp.agency).exists()
