"""A meeting with cases on its agenda and a queued meeting-pack request, for the real worker.

Built by the worker test in its own test database (on SQLite, which is in memory,
the worker then reads a copy of it).
"""

from __future__ import annotations

import datetime


def build() -> str:
    from django.utils import timezone

    from cases import services as case_services
    from csf_portal.models import Role
    from forums import services as forum_services
    from forums.models import Forum
    from reports.models import GeneratedDocument
    from tests.factories import AgencyFactory, CaseFactory, UserFactory, give_consent

    chair = UserFactory(
        first_name="Sam",
        last_name="Okafor",
        agency=AgencyFactory(name="Adult Safeguarding"),
        roles=[Role.FORUM_CHAIR],
    )
    hostel = AgencyFactory(name="Hostel provider")
    meeting = forum_services.meeting_plan(
        actor=chair,
        forum=Forum.objects.get(kind="csf"),
        starts_at=timezone.now() + datetime.timedelta(days=2),
        location="Council House",
    )
    for given, family in (("Ada", "Brennan"), ("Tom", "Kerrigan")):
        case = CaseFactory(person__given_name=given, person__family_name=family)
        give_consent(case.person)
        case_services.case_agency_join(actor=chair, case=case, agency=chair.agency)
        case_services.case_agency_join(actor=chair, case=case, agency=hostel)
        case_services.risk_add(actor=chair, case=case, category="self_neglect", level="high")
        forum_services.agenda_item_add(actor=chair, meeting=meeting, case=case)
    # Recorded, not queued: the test hands the task to the worker itself.
    document = GeneratedDocument.objects.create(
        kind=GeneratedDocument.Kind.MEETING_PACK,
        meeting=meeting,
        requested_by=chair,
        request_key=f"meeting_pack:{meeting.pk}:{chair.pk}",
    )
    return str(document.pk)
