"""Demo documents: the chair's pack for the next forum meeting, and a care plan for every agency.

Produced in the seed itself (the worker, when there is one, finds them done and
leaves them). Written once: a second run finds them and changes nothing.
"""

from __future__ import annotations

from csf_portal.history import unattributed
from csf_portal.models import User
from reports import services
from reports.models import GeneratedDocument


@unattributed("demo data: a fictional city no one made")
def build_demo_documents(*, users: dict[str, User]) -> None:
    from cases.models import CarePlan
    from forums.models import Forum, Meeting

    chair = users.get("chair")
    hostel = users.get("hostel")
    if (
        chair is None
        or GeneratedDocument.objects.exclude(kind__startswith="subject_access").exists()
    ):
        return
    # The next forum: its agenda published, still to come or held today and not yet
    # recorded as held (demo.dates.Diary).
    upcoming = (
        Meeting.objects.filter(forum__kind=Forum.Kind.CSF, state=Meeting.State.AGENDA_PUBLISHED)
        .order_by("starts_at")
        .first()
    )
    requests = []
    if upcoming is not None and services.may_have_meeting_pack(chair, upcoming):
        requests.append(services.meeting_pack_request(actor=chair, meeting=upcoming))
    if hostel is not None:
        import access

        plan = next(
            (
                p
                for p in CarePlan.objects.filter(state=CarePlan.State.AGREED)
                .select_related("case__person")
                .order_by("-agreed_at")[:20]
                if access.can_view_case(hostel, p.case)
            ),
            None,
        )
        if plan is not None:
            requests.append(services.care_plan_pdf_request(actor=hostel, plan=plan))
            requests.append(services.care_plan_pdf_request(actor=hostel, plan=plan, easy_read=True))
    for document in requests:
        services.document_generate(document_id=str(document.pk))
