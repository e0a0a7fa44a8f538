"""The common core assessment: versioned data-driven instrument, scoring, locking, reuse."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments import selectors, services
from assessments.models import Assessment, AssessmentTemplate
from csf_portal.errors import DomainError, InvalidTransition, NotAllowed
from csf_portal.models import Role
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_city")]


@pytest.fixture
def world():
    hostel, mental_health = AgencyFactory(name="Hostel"), AgencyFactory(name="Mental health")
    case = visible_case(hostel, mental_health)
    return {
        "person": case.person,
        "hostel": UserFactory(agency=hostel),
        "mh": UserFactory(agency=mental_health),
        "outsider": UserFactory(agency=AgencyFactory()),
    }


def _all(assessment, score):
    return {item.pk: (score, "") for item in assessment.template.items.all()}


def test_the_seeded_instrument_covers_the_domains_with_double_risk_items():
    template = services.current_template()
    assert template.version == 1
    domains = [i.domain for i in template.items.all()]
    assert len(domains) == 14
    assert "Meaningful use of time" in domains
    doubled = {i.code for i in template.items.all() if i.counts_double}
    assert doubled == {"risk-to-self", "risk-to-others", "risk-from-others"}
    assert services.score_range(template) == (0, 11 * 4 + 3 * 8)


def test_score_is_weighted_and_doubled(world):
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    items = {i.code: i for i in a.template.items.all()}
    answers = _all(a, 0) | {items["accommodation"].pk: (3, ""), items["risk-to-self"].pk: (4, "")}
    services.assessment_save(actor=world["hostel"], assessment=a, answers=answers)
    services.assessment_complete(actor=world["hostel"], assessment=a)
    a.refresh_from_db()
    assert a.total_score == 3 + 4 * 2
    assert a.max_score == 68


def test_scores_out_of_range_are_refused(world):
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    item = a.template.items.first()
    with pytest.raises(DomainError, match="between 0 and 4"):
        services.assessment_save(actor=world["hostel"], assessment=a, answers={item.pk: (5, "")})


def test_complete_needs_every_domain(world):
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    item = a.template.items.first()
    services.assessment_save(actor=world["hostel"], assessment=a, answers={item.pk: (2, "")})
    with pytest.raises(DomainError, match="Give a score for"):
        services.assessment_complete(actor=world["hostel"], assessment=a)


def test_completed_is_locked_and_corrections_refer_to_it(world):
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    services.assessment_save(actor=world["hostel"], assessment=a, answers=_all(a, 2))
    services.assessment_complete(actor=world["hostel"], assessment=a)
    with pytest.raises(InvalidTransition, match="cannot be changed"):
        services.assessment_save(actor=world["hostel"], assessment=a, answers=_all(a, 1))
    correction = services.assessment_correct(actor=world["mh"], assessment=a)
    assert correction.corrects == a
    assert correction.agency == world["mh"].agency
    assert list(correction.answers.values_list("score", flat=True)) == [2] * 14
    services.assessment_save(actor=world["mh"], assessment=correction, answers=_all(a, 1))
    services.assessment_complete(actor=world["mh"], assessment=correction)
    a.refresh_from_db()
    assert a.total_score == 2 * 17  # the original is unchanged


def test_another_agency_cannot_edit_a_draft(world):
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    with pytest.raises(NotAllowed):
        services.assessment_save(actor=world["mh"], assessment=a, answers=_all(a, 1))


def test_only_involved_covered_agencies_may_assess(world):
    with pytest.raises(NotAllowed):
        services.assessment_start(actor=world["outsider"], person=world["person"])
    commissioner = UserFactory(agency=world["hostel"].agency, roles=[Role.COMMISSIONER])
    with pytest.raises(NotAllowed):
        services.assessment_start(actor=commissioner, person=world["person"])


def test_a_new_version_leaves_old_assessments_on_theirs(world):
    old = services.assessment_start(actor=world["hostel"], person=world["person"])
    services.assessment_save(actor=world["hostel"], assessment=old, answers=_all(old, 1))
    services.assessment_complete(actor=world["hostel"], assessment=old)
    v1 = old.template
    v2 = services.template_new_version(
        template=v1, changes={"money": {"weight": 2, "question": "How are money and debts?"}}
    )
    assert v2.version == 2
    assert AssessmentTemplate.objects.get(pk=v1.pk).is_current is False
    assert services.current_template() == v2
    new = services.assessment_start(actor=world["hostel"], person=world["person"])
    assert new.template == v2
    old.refresh_from_db()
    assert old.template == v1 and old.total_score == 17
    assert services.score_range(v2)[1] == 68 + 4
    with pytest.raises(DomainError):
        services.template_new_version(template=v2, changes={"money": {"code": "x"}})


def test_other_services_see_the_score_over_time(world):
    for score in (3, 2, 1):
        a = services.assessment_start(actor=world["hostel"], person=world["person"])
        services.assessment_save(actor=world["hostel"], assessment=a, answers=_all(a, score))
        services.assessment_complete(actor=world["hostel"], assessment=a)
    summary = selectors.person_assessment_summary(user=world["mh"], person=world["person"])
    assert [a.total_score for a in summary["assessments"]] == [17, 34, 51]
    assert len(summary["assessment_chart"]["points"]) == 3
    page = signed_in_client(world["mh"]).get(reverse("cases:person", args=[world["person"].pk]))
    body = page.content.decode()
    assert "Latest score <strong>17</strong> out of 68" in body
    assert '<svg role="img"' in body and "Completed assessments" in body


def test_assessment_pages_404_for_outsiders_and_other_agencies_drafts(world):
    draft = services.assessment_start(actor=world["hostel"], person=world["person"])
    for user, status in ((world["outsider"], 404), (world["mh"], 404), (world["hostel"], 200)):
        client = signed_in_client(user)
        assert client.get(reverse("assessments:edit", args=[draft.pk])).status_code == status
        assert client.get(reverse("assessments:detail", args=[draft.pk])).status_code == status


def test_the_form_explains_bad_input_and_keeps_answers(world):
    client = signed_in_client(world["hostel"])
    response = client.post(reverse("cases:assessment_start", args=[world["person"].pk]))
    a = Assessment.objects.get()
    assert response["Location"] == reverse("assessments:edit", args=[a.pk])
    response = client.post(
        reverse("assessments:edit", args=[a.pk]),
        {
            "score_accommodation": "9",
            "narrative_drugs": "<b>x</b>",
            "narrative_alcohol": "Daily",
            "complete": "1",
        },
    )
    body = response.content.decode()
    assert "Accommodation: choose a score from the list" in body
    assert "Remove the HTML or script" in body
    assert "Daily</textarea>" in body
    assert Assessment.objects.get().state == Assessment.State.DRAFT


def test_administrator_copies_the_instrument_and_a_version_in_use_is_read_only(world):
    admin_user = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    client = signed_in_client(admin_user)
    v1 = services.current_template()
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    assert a.template == v1
    page = client.get(reverse("admin:assessments_assessmenttemplate_change", args=[v1.pk]))
    assert page.status_code == 200
    assert 'name="items-0-question"' not in page.content.decode()  # in use: read-only
    response = client.post(
        reverse("admin:assessments_assessmenttemplate_changelist"),
        {"action": "copy_to_new_version", "_selected_action": [v1.pk]},
    )
    assert response.status_code == 302
    v2 = services.current_template()
    assert v2.version == 2 and v2.items.count() == v1.items.count()
    page = client.get(reverse("admin:assessments_assessmenttemplate_change", args=[v2.pk]))
    assert 'name="items-0-question"' in page.content.decode()  # not yet used: editable


def test_a_completed_correction_replaces_the_original_in_the_score_history(world):
    a = services.assessment_start(actor=world["hostel"], person=world["person"])
    services.assessment_save(actor=world["hostel"], assessment=a, answers=_all(a, 2))
    services.assessment_complete(actor=world["hostel"], assessment=a)
    correction = services.assessment_correct(actor=world["hostel"], assessment=a)
    assert selectors.latest_completed(person=world["person"]) == a  # until it is completed
    services.assessment_save(actor=world["hostel"], assessment=correction, answers=_all(a, 1))
    services.assessment_complete(actor=world["hostel"], assessment=correction)
    assert selectors.latest_completed(person=world["person"]) == correction
    summary = selectors.person_assessment_summary(user=world["mh"], person=world["person"])
    assert summary["assessments"] == [correction]
    # every change to an answer is one history row, naming who made it
    rows = correction.answers.first().history.all()
    assert [r.history_user for r in rows] == [world["hostel"], world["hostel"]]
