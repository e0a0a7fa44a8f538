"""The forum pages end to end through the test client: plan, agenda, publish, minutes, approve."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases import services as cs
from csf_portal.models import Role
from forums import services as fs
from forums.models import Forum, ForumMembership
from tests.conftest import signed_in_client
from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent, set_up

pytestmark = pytest.mark.django_db


def test_a_meeting_from_planning_to_amended_minutes(django_capture_on_commit_callbacks):
    chair = UserFactory(agency=AgencyFactory(name="ASC"), roles=[Role.FORUM_CHAIR])
    hostel = AgencyFactory(name="Hostel")
    mh = AgencyFactory(name="MH")
    worker = UserFactory(agency=hostel)
    member = UserFactory(agency=mh, roles=[Role.FORUM_MEMBER, Role.PRACTITIONER])
    csf = Forum.objects.get(kind="csf")
    with set_up():
        ForumMembership.objects.create(forum=csf, user=member, agency=mh)
    case = CaseFactory(person__given_name="Zebedee", person__family_name="Quill")
    give_consent(case.person)
    cs.case_agency_join(actor=chair, case=case, agency=chair.agency)
    cs.case_agency_join(actor=chair, case=case, agency=hostel)
    c = signed_in_client(chair)
    for url in [
        reverse("forums:index"),
        reverse("forums:plan", args=["csf"]),
        reverse("forums:schedule", args=["csf"]),
        reverse("forums:actions"),
        reverse("forums:issues"),
        reverse("forums:issue_new"),
        "/",
    ]:
        r = c.get(url)
        assert r.status_code == 200, url
    day = timezone.localdate() - datetime.timedelta(days=0)
    r = c.post(
        reverse("forums:plan", args=["csf"]),
        {
            "day_0": day.day,
            "day_1": day.month,
            "day_2": day.year,
            "starts": "00:01",
            "ends": "23:00",
            "location": "Room 1",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    m = csf.meetings.get()
    r = c.get(reverse("forums:agenda_add", args=[m.pk]))
    assert "Zebedee" in r.content.decode()
    r = c.post(reverse("forums:agenda_add", args=[m.pk]), {"case": str(case.pk)})
    assert r.status_code == 302
    item = m.items.get()
    r = c.get(r.url)
    assert r.status_code == 200
    r = c.post(
        reverse("forums:item_settings", args=[m.pk, item.pk]),
        {
            "starts_at": "10:00",
            "minutes_allowed": 25,
            "presenter": worker.pk,
            "invited_agencies": [mh.pk],
            "version": 1,
        },
    )
    assert r.status_code == 302, r.content.decode()
    assert c.get(reverse("forums:meeting", args=[m.pk])).status_code == 200
    assert c.get(reverse("forums:publish", args=[m.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("forums:publish", args=[m.pk]))
    assert r.status_code == 302
    mc = signed_in_client(member)
    page = mc.get(reverse("forums:meeting", args=[m.pk])).content.decode()
    assert "Zebedee" in page
    assert mc.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert c.post(reverse("forums:held", args=[m.pk])).status_code == 302
    r = c.post(
        reverse("forums:attendance", args=[m.pk]),
        {"user": member.pk, "item": "", "status": "present"},
    )
    assert r.status_code == 302, r.content.decode()
    r = c.get(reverse("forums:item", args=[m.pk, item.pk]))
    assert r.status_code == 200
    r = c.post(
        reverse("forums:item", args=[m.pk, item.pk]),
        {"minutes": "Discussed.", "minutes_version": 0},
    )
    assert r.status_code == 302
    r = c.post(
        reverse("forums:item", args=[m.pk, item.pk]), {"minutes": "Mine.", "minutes_version": 0}
    )
    assert "Someone else changed" in r.content.decode()
    r = c.get(reverse("forums:action_add", args=[m.pk, item.pk]))
    assert r.status_code == 200
    due = timezone.localdate() + datetime.timedelta(days=10)
    r = c.post(
        reverse("forums:action_add", args=[m.pk, item.pk]),
        {
            "description": "Visit",
            "owner": worker.pk,
            "due_on_0": due.day,
            "due_on_1": due.month,
            "due_on_2": due.year,
        },
    )
    assert r.status_code == 302, r.content.decode()
    r = c.get(reverse("forums:decision_add", args=[m.pk, item.pk]))
    assert r.status_code == 200
    r = c.post(
        reverse("forums:decision_add", args=[m.pk, item.pk]), {"kind": "other", "summary": "Agreed"}
    )
    assert r.status_code == 302, r.content.decode()
    r = c.post(
        reverse("forums:escalate", args=[m.pk, item.pk]),
        {"title": "Quill needs", "description": "x", "theme": "accommodation"},
    )
    assert "Do not name the person" in r.content.decode()
    r = c.post(
        reverse("forums:escalate", args=[m.pk, item.pk]),
        {"title": "Hostel evictions", "description": "x", "theme": "accommodation"},
    )
    assert r.status_code == 302
    assert c.get(r.url).status_code == 200
    assert c.get(reverse("forums:actions")).status_code == 200
    action = item.actions.get()
    wc = signed_in_client(worker)
    assert "Visit" in wc.get("/").content.decode()
    r = wc.post(
        reverse("forums:action", args=[action.pk]),
        {"status": "done", "note": "Done it", "version": 1},
    )
    assert r.status_code == 302, r.content.decode()
    assert c.get(reverse("forums:approve", args=[m.pk])).status_code == 200
    r = c.post(reverse("forums:approve", args=[m.pk]))
    assert r.status_code == 302
    r = c.post(reverse("forums:amend", args=[m.pk]), {"item": str(item.pk), "text": "Correction"})
    assert r.status_code == 302
    assert "Correction" in c.get(reverse("forums:meeting", args=[m.pk])).content.decode()
    # SOG
    sog = Forum.objects.get(kind="sog")
    s = fs.meeting_plan(
        actor=chair, forum=sog, starts_at=timezone.now() + datetime.timedelta(days=5), location="R"
    )
    r = c.post(reverse("forums:agenda_add", args=[s.pk]), {"topic": "Review the log"})
    assert r.status_code == 302, r.content.decode()
    other = UserFactory(agency=AgencyFactory())
    oc = signed_in_client(other)
    assert oc.get(reverse("forums:meeting", args=[m.pk])).status_code == 404
    assert oc.get(reverse("forums:action", args=[action.pk])).status_code == 404


def test_administrator_keeps_standing_membership_in_the_admin():
    admin_user = UserFactory(agency=None, roles=[Role.ADMINISTRATOR])
    member = UserFactory(agency=AgencyFactory(name="Housing"))
    client = signed_in_client(admin_user)
    assert client.get(reverse("admin:forums_forummembership_changelist")).status_code == 200
    response = client.post(
        reverse("admin:forums_forummembership_add"),
        {
            "forum": Forum.objects.get(kind="sog").pk,
            "user": member.pk,
            "role": "member",
            "joined_on": "2026-01-05",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = ForumMembership.objects.get(user=member)
    assert membership.agency == member.agency
    assert membership.history.get().history_user == admin_user
    # nobody else reaches it
    practitioner = signed_in_client(member)
    refused = practitioner.get(reverse("admin:forums_forummembership_changelist"))
    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]


def test_the_chair_is_warned_when_consent_does_not_cover_an_invited_service():
    chair = UserFactory(agency=AgencyFactory(name="ASC"), roles=[Role.FORUM_CHAIR])
    probation = AgencyFactory(name="Probation")
    housing = AgencyFactory(name="Housing")
    case = CaseFactory()
    give_consent(case.person, all_member_agencies=False, agencies=[chair.agency, housing])
    cs.case_agency_join(actor=chair, case=case, agency=chair.agency)
    meeting = fs.meeting_plan(
        actor=chair,
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() + datetime.timedelta(days=4),
        location="Room 1",
    )
    fs.agenda_item_add(
        actor=chair, meeting=meeting, case=case, invited_agencies=[probation, housing]
    )
    page = signed_in_client(chair).get(reverse("forums:publish", args=[meeting.pk]))
    body = page.content.decode()
    assert "Probation is invited to item 1, but the person&#x27;s consent" in body
    assert "Housing is invited" not in body


def test_action_and_issue_pages_that_name_a_person_are_in_the_access_log():
    from csf_portal.models import AccessEvent

    chair = UserFactory(agency=AgencyFactory(name="ASC"), roles=[Role.FORUM_CHAIR])
    case = CaseFactory()
    give_consent(case.person)
    cs.case_agency_join(actor=chair, case=case, agency=chair.agency)
    meeting = fs.meeting_plan(
        actor=chair,
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        location="Room 1",
    )
    item = fs.agenda_item_add(actor=chair, meeting=meeting, case=case)
    action = fs.action_add(
        actor=chair,
        meeting=meeting,
        item=item,
        description="Visit",
        owner_agency=chair.agency,
        owner=chair,
        due_on=timezone.localdate(),
    )
    issue = fs.system_issue_raise(
        actor=chair, title="Move-on beds", description="Too few", theme="accommodation", item=item
    )
    client = signed_in_client(chair)
    name = escape(str(case.person))
    assert name in client.get(reverse("forums:action", args=[action.pk])).content.decode()
    assert name in client.get(reverse("forums:issue", args=[issue.pk])).content.decode()
    reasons = set(
        AccessEvent.objects.filter(person_id=case.person_id).values_list("reason", flat=True)
    )
    assert {"forum action", "system issue"} <= reasons
    # a SOG member sees the issue, not the person, and nothing is logged for them
    sog = UserFactory(agency=AgencyFactory(), roles=[Role.SOG_MEMBER])
    page = signed_in_client(sog).get(reverse("forums:issue", args=[issue.pk])).content.decode()
    assert "1 linked case" in page and escape(str(case.person)) not in page
    assert not AccessEvent.objects.filter(user=sog).exists()
