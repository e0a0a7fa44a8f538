"""``{% load access %}``: pages offer what the access rules allow, and nothing else."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse

import access
from access.templatetags import OFFERS
from csf_portal.models import Role
from forums.models import Forum
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, UserFactory, set_up, visible_case

ROOT = Path(settings.BASE_DIR)


def render(source: str, **context) -> str:
    return Template("{% load access %}" + source).render(Context(context)).strip()


def test_every_offer_is_the_access_rule_of_that_name():
    for name, rule in OFFERS.items():
        assert rule is getattr(access, f"can_{name}"), name


def test_every_access_rule_taking_the_user_first_can_be_asked():
    askable = {
        name.removeprefix("can_")
        for name, fn in vars(access).items()
        if name.startswith("can_")
        and inspect.isfunction(fn)
        and next(iter(inspect.signature(fn).parameters)) == "user"
    }
    assert askable == set(OFFERS)


def test_an_unknown_rule_is_an_error_not_a_no():
    with pytest.raises(TemplateSyntaxError, match="no access rule called 'run_everything'"):
        render('{% can "run_everything" as x %}{{ x }}', user=None)


@pytest.mark.django_db
def test_a_rule_with_no_object_answers_for_the_signed_in_user():
    source = '{% can "work_system_issues" as may %}{{ may }}'
    assert render(source, user=UserFactory(roles=[Role.SOG_MEMBER])) == "True"
    assert render(source, user=UserFactory(roles=[Role.PRACTITIONER])) == "False"


@pytest.mark.django_db
def test_a_rule_about_an_object_is_given_it():
    from forums.models import ForumMembership

    csf = Forum.objects.get(kind=Forum.Kind.CSF)
    sog = Forum.objects.get(kind=Forum.Kind.SOG)
    standing = UserFactory(roles=[Role.PRACTITIONER])
    with set_up():
        ForumMembership.objects.create(
            forum=csf, user=standing, agency=standing.agency, role=ForumMembership.Role.CHAIR
        )
    source = '{% can "run_forum" forum as may %}{{ may }}'
    assert render(source, user=standing, forum=csf) == "True"
    assert render(source, user=standing, forum=sog) == "False"


@pytest.mark.django_db
def test_superuser_status_is_not_a_yes():
    root = UserFactory(roles=[Role.PRACTITIONER])
    root.is_superuser = True
    with set_up():
        root.save()
    assert render('{% can "triage_referrals" as may %}{{ may }}', user=root) == "False"


def test_with_no_user_the_answer_is_no():
    assert render('{% can "work_system_issues" as may %}{{ may }}') == "False"


def _templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app in settings.INSTALLED_APPS:
        folder = ROOT / app.split(".")[0] / "templates"
        if folder.is_dir():
            found += folder.rglob("*.html")
    return found


def test_no_template_asks_django_perms():
    """``perms`` passes every check for a superuser: templates ask ``{% can %}``."""
    templates = _templates()
    assert len(templates) > 20
    offenders = [
        str(path.relative_to(ROOT))
        for path in templates
        if re.search(r"\bperms\b", path.read_text())
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_forums_page_offers_the_logs_by_the_rules():
    index = reverse("forums:index")
    sog = signed_in_client(UserFactory(roles=[Role.SOG_MEMBER])).get(index)
    commissioner = signed_in_client(UserFactory(roles=[Role.COMMISSIONER])).get(index)
    for page in (sog, commissioner):
        assert page.status_code == 200
    assert reverse("forums:issues") in sog.text and reverse("forums:actions") in sog.text
    assert reverse("forums:issues") in commissioner.text
    assert reverse("forums:actions") not in commissioner.text


@pytest.mark.django_db
def test_the_issues_page_offers_raising_one_only_to_who_may():
    issues = reverse("forums:issues")
    sog = signed_in_client(UserFactory(roles=[Role.SOG_MEMBER])).get(issues)
    commissioner = signed_in_client(UserFactory(roles=[Role.COMMISSIONER])).get(issues)
    assert reverse("forums:issue_new") in sog.text
    assert commissioner.status_code == 200
    assert reverse("forums:issue_new") not in commissioner.text


@pytest.mark.django_db
def test_the_consent_page_links_back_to_the_person_only_for_who_may_see_them():
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    case = visible_case(practitioner.agency)
    chair = UserFactory(roles=[Role.FORUM_CHAIR])  # may record consent, not see the person
    url = reverse("consent:overview", args=[case.person.pk])
    person = f'href="{reverse("cases:person", args=[case.person.pk])}" class="govuk-back-link"'
    seen = signed_in_client(practitioner).get(url)
    unseen = signed_in_client(chair).get(url)
    assert seen.status_code == unseen.status_code == 200
    assert person in seen.text
    assert person not in unseen.text


@pytest.mark.django_db
def test_a_completed_assessment_offers_a_correction_to_who_may_see_the_person():
    from assessments import services as assessment_services

    hostel, mental_health = AgencyFactory(), AgencyFactory()
    case = visible_case(hostel, mental_health)
    assessor, colleague = UserFactory(agency=hostel), UserFactory(agency=mental_health)
    assessment = assessment_services.assessment_start(actor=assessor, person=case.person)
    answers = {item.pk: (2, "") for item in assessment.template.items.all()}
    assessment_services.assessment_save(actor=assessor, assessment=assessment, answers=answers)
    url = reverse("assessments:detail", args=[assessment.pk])
    correct = reverse("assessments:correct", args=[assessment.pk])
    assert correct not in signed_in_client(assessor).get(url).text  # a draft: not yet
    assessment_services.assessment_complete(actor=assessor, assessment=assessment)
    assert correct in signed_in_client(colleague).get(url).text


@pytest.mark.django_db
def test_the_case_page_offers_the_forums_decisions_only_to_a_chair():
    chair = UserFactory(roles=[Role.FORUM_CHAIR])
    practitioner = UserFactory(roles=[Role.PRACTITIONER], agency=chair.agency)
    case = visible_case(chair.agency)
    url = reverse("cases:detail", args=[case.pk])
    status = reverse("cases:state", args=[case.pk])
    assert status in signed_in_client(chair).get(url).text
    assert status not in signed_in_client(practitioner).get(url).text


@pytest.mark.django_db
def test_the_case_list_offers_emergency_access_only_to_practitioners():
    emergency = "Emergency access to a record you cannot see"
    cases = reverse("cases:list")
    practitioner = signed_in_client(UserFactory(roles=[Role.PRACTITIONER])).get(cases)
    chair = signed_in_client(UserFactory(roles=[Role.FORUM_CHAIR])).get(cases)
    assert emergency in practitioner.text
    assert chair.status_code == 200
    assert emergency not in chair.text
