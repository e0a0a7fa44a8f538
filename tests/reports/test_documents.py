"""PDF documents: meeting packs, care plans and subject access exports, checked by their text.

Rendering is real (WeasyPrint in a child process); the text is read back with pypdf.
"""

from __future__ import annotations

import datetime
import io

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import RiskCategory
from csf_portal.celery import app as celery_app
from csf_portal.models import AccessEvent, Role
from forums import services as forum_services
from forums.models import Forum, ForumMembership
from reports import services
from reports.models import GeneratedDocument as D
from reports.pdf import PortalURLFetcher, RenderError, render_pdf
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent, set_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST, then run the tasks queued on commit here (a real worker is tested elsewhere)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True

    def run(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    yield run
    celery_app.conf.task_always_eager = previous


def _text(document: D) -> list[str]:
    with document.file.open("rb") as f:
        reader = pypdf.PdfReader(io.BytesIO(f.read()))
    return [page.extract_text() for page in reader.pages]


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def w():
    chair = UserFactory(
        first_name="Sam",
        last_name="Okafor",
        agency=AgencyFactory(name="Adult Safeguarding"),
        roles=[Role.FORUM_CHAIR],
    )
    hostel = AgencyFactory(name="Hostel provider")
    jo = UserFactory(first_name="Jo", last_name="Pearce", agency=hostel)
    mh = AgencyFactory(name="Mental health provider")
    member = UserFactory(first_name="Priya", last_name="Shah", agency=mh, roles=[Role.FORUM_MEMBER])
    csf = Forum.objects.get(kind="csf")
    with set_up():
        ForumMembership.objects.create(forum=csf, user=member, agency=mh)
    meeting = forum_services.meeting_plan(
        actor=chair,
        forum=csf,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        location="Room 2, Council House",
    )
    names = [("Ada", "Brennan"), ("Tom", "Kerrigan"), ("Lena", "Moss")]
    cases = []
    for (given, family), category in zip(
        names,
        [RiskCategory.ACCIDENTAL_OVERDOSE, RiskCategory.SELF_NEGLECT, RiskCategory.SUICIDE],
        strict=True,
    ):
        case = CaseFactory(person__given_name=given, person__family_name=family)
        give_consent(case.person)
        case_services.case_agency_join(actor=chair, case=case, agency=chair.agency)
        case_services.case_agency_join(actor=chair, case=case, agency=hostel, named_worker=jo)
        case_services.risk_add(
            actor=chair, case=case, category=category, level="high", at_referral=True
        )
        forum_services.agenda_item_add(actor=chair, meeting=meeting, case=case, presenter=jo)
        cases.append(case)
    plan = case_services.care_plan_draft(actor=jo, case=cases[0])
    case_services.care_plan_item_add(
        actor=jo,
        plan=plan,
        expected_edit_version=plan.edit_version,
        what="Meet at Smith & Sons <Café> every Tuesday",
        agency=hostel,
        named_worker=jo,
    )
    outsider = CaseFactory(person__given_name="Quentin", person__family_name="Absentee")
    give_consent(outsider.person)
    case_services.case_agency_join(actor=chair, case=outsider, agency=chair.agency)
    return {
        "chair": chair,
        "jo": jo,
        "member": member,
        "meeting": meeting,
        "cases": cases,
        "plan": plan,
    }


def test_the_fetcher_serves_only_the_portals_print_assets():
    fetcher = PortalURLFetcher()
    for url in (
        "file:///etc/passwd",
        "http://example.com/logo.png",
        "https://169.254.169.254/latest/meta-data/",
        "file:///work/../etc/passwd",
        "ftp://example.com/x",
    ):
        with pytest.raises(ValueError, match="Refused"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    from reports.pdf import STYLESHEET

    assert b"@page" in fetcher.fetch(STYLESHEET.as_uri()).read()


def test_a_hostile_document_cannot_embed_local_files_or_reach_the_network():
    rendered = render_pdf(
        '<p class="recipient">Test reader</p><p>Visible</p>'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<img src="file:///etc/hostname" alt="">'
        '<img src="http://127.0.0.1:9/pixel.png" alt="">'
        '<style>@import url("file:///etc/passwd");</style>'
    )
    reader = pypdf.PdfReader(io.BytesIO(rendered.pdf))
    assert dict(reader.attachments) == {}
    assert b"root:" not in rendered.pdf
    assert "Visible" in _pdf_text(rendered.pdf)


def test_each_render_is_time_limited_and_memory_capped():
    rows = "".join(f"<tr><td>row {i}</td><td>{'word ' * 40}</td></tr>" for i in range(4000))
    with pytest.raises(RenderError, match="took longer than 1 seconds"):
        render_pdf(f"<table>{rows}</table>", time_limit=1)
    with pytest.raises(RenderError):
        render_pdf(f"<table>{rows}</table>", memory_mb=16)


def test_chair_produces_a_meeting_pack(w, post):
    client = signed_in_client(w["chair"])
    page = client.get(reverse("forums:meeting", args=[w["meeting"].pk])).content.decode()
    assert "Produce the meeting pack (PDF)" in page
    response = post(client, reverse("reports:meeting_pack", args=[w["meeting"].pk]))
    document = D.objects.get(kind=D.Kind.MEETING_PACK)
    assert response["Location"] == reverse("reports:document", args=[document.pk])
    assert document.status == D.Status.DONE, document.error
    assert document.page_count and document.page_count >= 5
    assert len(document.sha256) == 64 and document.size > 1000
    pages = _text(document)
    assert len(pages) == document.page_count
    for text in pages:
        assert "Prepared for Sam Okafor" in text
        assert "OFFICIAL-SENSITIVE" in text
    assert f"of {document.page_count}" in pages[-1]
    whole = "\n".join(pages)
    for name in ("Ada Brennan", "Tom Kerrigan", "Lena Moss"):
        assert name in whole
    for risk in ("Accidental overdose", "Self-neglect", "Suicide"):
        assert risk in whole
    assert (
        "Contents" in whole and "Agenda" in whole and "Actions from the previous meeting" in whole
    )
    assert "Quentin" not in whole and "Absentee" not in whole
    assert "Jo Pearce" in whole  # presenter
    # the download: the requester only, logged for every person in the pack
    download = client.get(reverse("reports:document_download", args=[document.pk]))
    assert download["Content-Type"] == "application/pdf"
    people = {c.person_id for c in w["cases"]}
    logged = set(
        AccessEvent.objects.filter(
            action=AccessEvent.Action.DOWNLOAD, object_id=str(document.pk)
        ).values_list("person_id", flat=True)
    )
    assert logged == people


def test_asking_twice_gives_one_pack_while_in_hand(w):
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        first = services.meeting_pack_request(actor=w["chair"], meeting=w["meeting"])
        second = services.meeting_pack_request(actor=w["chair"], meeting=w["meeting"])
    finally:
        celery_app.conf.task_always_eager = previous
    assert first.pk == second.pk and D.objects.count() == 1


def test_only_people_who_may_see_every_case_get_the_pack(w, post):
    url = reverse("reports:meeting_pack", args=[w["meeting"].pk])
    outsider = UserFactory(agency=AgencyFactory(name="Probation"))
    commissioner = UserFactory(agency=AgencyFactory(), roles=[Role.COMMISSIONER])
    for user in (outsider, commissioner, w["member"]):
        # the member sees nothing until the agenda is published
        assert post(signed_in_client(user), url).status_code == 404, user
    forum_services.agenda_publish(actor=w["chair"], meeting=w["meeting"])
    member = signed_in_client(w["member"])
    assert post(member, url).status_code == 302
    pack = D.objects.get(requested_by=w["member"])
    assert pack.status == D.Status.DONE
    assert "Prepared for Priya Shah" in _text(pack)[0]
    download = reverse("reports:document_download", args=[pack.pk])
    # someone else's copy: 404, even for the chair
    assert signed_in_client(w["chair"]).get(download).status_code == 404
    assert signed_in_client(outsider).get(download).status_code == 404
    assert member.get(download).status_code == 200
    # after the meeting day the member's access has gone, and so has the download
    type(w["meeting"]).objects.filter(pk=w["meeting"].pk).update(
        access_ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert member.get(download).status_code == 404
    assert post(member, url).status_code == 404


def test_the_meeting_page_offers_the_pack_exactly_to_those_who_may_have_it(w):
    meeting = w["meeting"]
    url = reverse("forums:meeting", args=[meeting.pk])

    def offered(user) -> bool:
        response = signed_in_client(user).get(url)
        shown = (
            response.status_code == 200 and "Produce the meeting pack" in response.content.decode()
        )
        # the page works the rule out from what it reads; the request checks it afresh
        meeting.refresh_from_db()
        assert shown == services.may_have_meeting_pack(user, meeting), user
        return shown

    assert offered(w["chair"])
    assert not offered(w["member"])  # the agenda is not published yet
    forum_services.agenda_publish(actor=w["chair"], meeting=meeting)
    assert offered(w["member"]) and offered(w["jo"])
    # A case the hostel is not involved in, on an item Jo does not present: Jo is not
    # shown it, and may no longer have the pack, which holds every case on the agenda.
    other = CaseFactory(person__given_name="Rhona", person__family_name="Vale")
    give_consent(other.person)
    case_services.case_agency_join(actor=w["chair"], case=other, agency=w["chair"].agency)
    forum_services.agenda_item_add(actor=w["chair"], meeting=meeting, case=other)
    assert "Rhona" not in signed_in_client(w["jo"]).get(url).content.decode()
    assert not offered(w["jo"])
    assert offered(w["chair"]) and offered(w["member"])


def test_care_plan_pdf_standard_and_easy_read(w, post):
    client = signed_in_client(w["jo"])
    case = w["cases"][0]
    page = client.get(reverse("cases:care_plan_version", args=[case.pk, 1])).content.decode()
    assert "Easy-read PDF for Ada" in page
    url = reverse("reports:care_plan_pdf", args=[w["plan"].pk])
    post(client, url, {"layout": "standard"})
    post(client, url, {"layout": "easy_read"})
    standard = D.objects.get(kind=D.Kind.CARE_PLAN)
    easy = D.objects.get(kind=D.Kind.CARE_PLAN_EASY_READ)
    text = "\n".join(_text(standard))
    assert "Care plan for Ada Brennan" in text
    assert "Meet at Smith & Sons <Café> every Tuesday" in text  # escaped, not parsed
    assert "Prepared for Jo Pearce" in text
    easy_text = "\n".join(_text(easy))
    assert "Your plan, Ada" in easy_text and "Who will do it: Jo Pearce from Hostel provider" in (
        easy_text
    )
    outsider = signed_in_client(UserFactory(agency=AgencyFactory()))
    assert post(outsider, url).status_code == 404
    assert outsider.get(reverse("reports:document", args=[standard.pk])).status_code == 404


def test_subject_access_export_as_pdf(w, post):
    person = w["cases"][0].person
    client = signed_in_client(w["chair"])
    response = post(
        client, reverse("reports:subject_access_request", args=[person.pk]), {"format": "pdf"}
    )
    document = D.objects.get(kind=D.Kind.SUBJECT_ACCESS_PDF)
    assert response["Location"] == reverse("reports:document", args=[document.pk])
    assert document.status == D.Status.DONE, document.error
    text = "\n".join(_text(document))
    assert "Everything held about Ada Brennan" in text
    assert "History of changes" in text and "Accidental overdose" in text.replace(
        "accidental_overdose", "Accidental overdose"
    )
    client.get(reverse("reports:document_download", args=[document.pk]))
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.EXPORT, person_id=person.pk, object_id=str(document.pk)
    ).exists()


def test_a_render_that_breaks_its_limits_is_retried_then_failed_with_the_reason(w, post, settings):
    settings.CSF_PDF_TIME_LIMIT = 0.01
    client = signed_in_client(w["chair"])
    post(client, reverse("reports:meeting_pack", args=[w["meeting"].pk]))
    document = D.objects.get(kind=D.Kind.MEETING_PACK)
    assert document.status == D.Status.FAILED and document.attempts == 4
    page = client.get(reverse("reports:document", args=[document.pk])).content.decode()
    assert "The meeting pack could not be produced" in page
    assert "took longer than 0 seconds" in page and "Try again" in page
    assert client.get(reverse("reports:document_download", args=[document.pk])).status_code == 404
    settings.CSF_PDF_TIME_LIMIT = 60
    post(client, reverse("reports:document_retry", args=[document.pk]))
    document.refresh_from_db()
    assert document.status == D.Status.DONE and document.page_count


def test_the_pdf_benchmark_reports_pages_time_and_memory(w, tmp_path):
    import json

    from django.core.management import call_command

    output = tmp_path / "pdf.json"
    call_command("bench_pdf", runs=1, output=str(output))
    result = json.loads(output.read_text())
    assert result["cases"] == 3 and result["pages"] >= 5
    assert result["total_seconds"] > 0 and result["pages_per_second"] > 0
    assert result["render_peak_rss_mb"] > 0
