"""Issue 26.3: two sessions on one draft assessment never lose an answer (DESIGN §4 rule 4)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import Assessment
from csf_portal.errors import ConcurrentEdit
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, visible_case

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_city")]


@pytest.fixture
def draft():
    hostel = AgencyFactory(name="Hostel")
    case = visible_case(hostel, AgencyFactory(name="Mental health"))
    user = UserFactory(agency=hostel)
    return services.assessment_start(actor=user, person=case.person), user


def _form_data(page) -> dict[str, str]:
    """What the browser would send back: every field as the page shows it."""
    body = page.content.decode()
    radios = r'<input[^>]*name="(score_[^"]+)"[^>]*value="(\d+)"[^>]*checked'
    texts = r'<textarea name="(narrative_[^"]+)"[^>]*>\s*([^<]*)</textarea>'
    data = dict(re.findall(r'<input type="hidden" name="(read_[^"]+)" value="([^"]*)"', body))
    data.update(re.findall(radios, body))
    data.update((name, value.strip()) for name, value in re.findall(texts, body))
    return data


def _answer(assessment, code):
    return assessment.answers.filter(item__code=code).values_list("score", "narrative").first()


def test_a_second_session_does_not_blank_an_answer_it_did_not_change(draft):
    assessment, user = draft
    url = reverse("assessments:edit", args=[assessment.pk])
    first, second = signed_in_client(user), signed_in_client(user)
    seen_first, seen_second = _form_data(first.get(url)), _form_data(second.get(url))
    assert seen_first and all(k.startswith(("read_", "score_", "narrative_")) for k in seen_first)
    r = first.post(
        url, seen_first | {"score_accommodation": "3", "narrative_accommodation": "Sofa"}
    )
    assert r.status_code == 302
    r = second.post(url, seen_second | {"score_drugs": "1", "narrative_drugs": "Cannabis"})
    assert r.status_code == 302
    assert _answer(assessment, "accommodation") == (3, "Sofa")
    assert _answer(assessment, "drugs") == (1, "Cannabis")


def test_both_changing_one_answer_is_refused_with_theirs_shown_and_mine_kept(draft):
    assessment, user = draft
    url = reverse("assessments:edit", args=[assessment.pk])
    first, second = signed_in_client(user), signed_in_client(user)
    seen_first, seen_second = _form_data(first.get(url)), _form_data(second.get(url))
    first.post(url, seen_first | {"score_accommodation": "3", "narrative_accommodation": "Sofa"})
    page = second.post(
        url,
        seen_second
        | {"score_accommodation": "1", "narrative_accommodation": "Own flat typed here"}
        | {"narrative_drugs": "Cannabis"},
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "govuk-error-summary" in body
    assert "Someone else changed these answers" in body
    assert "Accommodation now has score 3, “Sofa”" in body
    assert "Own flat typed here</textarea>" in body and "Cannabis</textarea>" in body
    assert _answer(assessment, "accommodation") == (3, "Sofa")
    assert _answer(assessment, "drugs") is None  # refused whole: nothing half-saved
    # the page now carries the new version: saving again is a conscious replace
    assert second.post(url, _form_data(page)).status_code == 302
    assert _answer(assessment, "accommodation") == (1, "Own flat typed here")
    assert _answer(assessment, "drugs") == (None, "Cannabis")


def test_after_a_refusal_an_answer_i_left_alone_shows_theirs_and_is_kept(draft):
    assessment, user = draft
    url = reverse("assessments:edit", args=[assessment.pk])
    first, second = signed_in_client(user), signed_in_client(user)
    seen_first, seen_second = _form_data(first.get(url)), _form_data(second.get(url))
    first.post(url, seen_first | {"score_accommodation": "3", "score_drugs": "2"})
    page = second.post(url, seen_second | {"score_accommodation": "1"})
    assert page.status_code == 200
    assert _form_data(page)["score_drugs"] == "2"  # theirs shown, not my stale blank
    second.post(url, _form_data(page))
    assert _answer(assessment, "drugs") == (2, "")


def test_the_service_refuses_a_conflict_and_skips_answers_left_as_read(draft):
    assessment, user = draft
    item = assessment.template.items.get(code="accommodation")
    other = assessment.template.items.get(code="drugs")
    blank = services.answer_token(services.UNANSWERED)
    services.assessment_save(actor=user, assessment=assessment, answers={item.pk: (2, "A")})
    with pytest.raises(ConcurrentEdit, match="Accommodation now has score 2, “A”"):
        services.assessment_save(
            actor=user, assessment=assessment, answers={item.pk: (4, "")}, read={item.pk: blank}
        )
    services.assessment_save(
        actor=user,
        assessment=assessment,
        answers={item.pk: services.UNANSWERED, other.pk: (1, "")},
        read={item.pk: blank, other.pk: blank},
    )
    assert _answer(assessment, "accommodation") == (2, "A")
    assert _answer(assessment, "drugs") == (1, "")
    assert Assessment.objects.get().state == Assessment.State.DRAFT
