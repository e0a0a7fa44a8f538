"""Forum pages: thin views over forums.services (writes) and forums.selectors (reads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

import access
from csf_portal.edits import VersionedEditView, add_domain_error
from csf_portal.errors import DomainError
from csf_portal.types import AuthenticatedHttpRequest
from forums import forms, selectors, services
from forums.models import Action, AgendaItem, Meeting, SystemIssue

FORM_TEMPLATE = "forums/form.html"


def _form_page(
    request: AuthenticatedHttpRequest,
    form: django_forms.Form,
    run: Callable[[dict[str, Any]], HttpResponse],
    context: dict[str, Any],
    template: str = FORM_TEMPLATE,
) -> HttpResponse:
    """Validate, call the service, show its refusal on the form: never a 500, nothing lost."""
    if request.method == "POST" and form.is_valid():
        try:
            return run(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
    return render(request, template, {"form": form, **context})


def _run_meeting(request: AuthenticatedHttpRequest, pk: Any) -> Meeting:
    """The meeting, for whoever runs its forum; 404 for everyone else."""
    meeting = selectors.meeting_for(user=request.user, meeting_id=pk)
    if not access.can_run_forum(request.user, meeting.forum):
        raise Http404("No such page")
    return meeting


def _run_item(request: AuthenticatedHttpRequest, pk: Any, item_id: Any) -> AgendaItem:
    meeting = _run_meeting(request, pk)
    return selectors.item_for(user=request.user, meeting=meeting, item_id=item_id)


def _meeting_url(meeting: Meeting) -> str:
    return reverse("forums:meeting", args=[meeting.pk])


def _item_url(item: AgendaItem) -> str:
    return reverse("forums:item", args=[item.meeting_id, item.pk])


# --- meetings -----------------------------------------------------------------------


def forum_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    forums_run = selectors.forums_run_by(user=user)
    return render(
        request,
        "forums/index.html",
        {
            **selectors.meeting_list(user=user),
            "forums_run": forums_run,
        },
    )


class MeetingPlanView(View):
    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.forum = selectors.forum_for(kind=kwargs["kind"])
        if not access.can_run_forum(request.user, self.forum):
            raise Http404("No such page")
        return super().dispatch(request, *args, **kwargs)

    def _page(self, request: AuthenticatedHttpRequest, data: Any = None) -> HttpResponse:
        def run(d: dict[str, Any]) -> HttpResponse:
            meeting = services.meeting_plan(
                actor=request.user,
                forum=self.forum,
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                location=d["location"],
                online_link=d["online_link"],
            )
            messages.success(request, "Meeting planned.")
            return redirect(_meeting_url(meeting))

        form = forms.MeetingForm(data, initial={"starts": "10:00", "ends": "12:00"})
        return _form_page(
            request,
            form,
            run,
            {
                "title": "Plan a meeting",
                "caption": str(self.forum),
                "back": reverse("forums:index"),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
        return self._page(request)

    def post(self, request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
        return self._page(request, request.POST)


class ScheduleView(MeetingPlanView):
    def _page(self, request: AuthenticatedHttpRequest, data: Any = None) -> HttpResponse:
        def run(d: dict[str, Any]) -> HttpResponse:
            import datetime

            planned = services.meetings_schedule_monthly(
                actor=request.user,
                forum=self.forum,
                first_starts_at=d["first_starts_at"],
                length=datetime.timedelta(minutes=d["length"]),
                location=d["location"],
                online_link=d["online_link"],
            )
            messages.success(
                request,
                f"{len(planned)} meeting{'s' if len(planned) != 1 else ''} planned"
                + ("" if len(planned) == 6 else " (days already planned were skipped)")
                + ".",
            )
            return redirect("forums:index")

        form = forms.ScheduleForm(data, initial={"starts": "10:00", "length": 120})
        return _form_page(
            request,
            form,
            run,
            {
                "title": "Schedule the next 6 monthly meetings",
                "caption": str(self.forum),
                "back": reverse("forums:index"),
            },
        )


def meeting_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    meeting = selectors.meeting_for(user=request.user, meeting_id=pk)
    return render(
        request,
        "forums/meeting.html",
        {
            "meeting": meeting,
            **selectors.meeting_page(user=request.user, meeting=meeting, request=request),
        },
    )


class MeetingChangeView(VersionedEditView):
    """Move a planned meeting or change where it is, against the details the chair read."""

    version_field = "details_version"
    success_message = "Meeting changed."

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any) -> Meeting:
        return _run_meeting(request, pk)

    def get_form(
        self, request: AuthenticatedHttpRequest, meeting: Meeting, data: Any = None
    ) -> Any:
        return forms.MeetingForm.for_change(meeting, data)

    def stale_data(self, request: AuthenticatedHttpRequest, meeting: Meeting) -> Any:
        data = request.POST.copy()
        data["version"] = str(meeting.details_version)
        return data

    def save(
        self, request: AuthenticatedHttpRequest, meeting: Meeting, data: dict[str, Any]
    ) -> None:
        services.meeting_reschedule(
            actor=request.user,
            meeting=meeting,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            location=data["location"],
            online_link=data["online_link"],
            expected_version=data["version"],
        )

    def success_url(self, meeting: Meeting) -> str:
        return _meeting_url(meeting)

    def render_page(
        self, request: AuthenticatedHttpRequest, meeting: Meeting, form: Any
    ) -> HttpResponse:
        context = {
            "title": "Change the meeting",
            "caption": str(meeting),
            "back": _meeting_url(meeting),
        }
        return render(request, FORM_TEMPLATE, {"form": form, **context})


class StepView(View):
    """A confirm-and-do page for one meeting transition (publish, held, approve)."""

    title = ""
    button = ""
    template = "forums/confirm.html"

    def do(self, request: AuthenticatedHttpRequest, meeting: Meeting) -> str:
        raise NotImplementedError

    def context(self, request: AuthenticatedHttpRequest, meeting: Meeting) -> dict[str, Any]:
        return {}

    def _render(self, request, meeting, form) -> HttpResponse:
        return render(
            request,
            self.template,
            {
                "meeting": meeting,
                "form": form,
                "title": self.title,
                **self.context(request, meeting),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        meeting = _run_meeting(request, pk)
        return self._render(request, meeting, forms.ConfirmForm(submit_label=self.button))

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        meeting = _run_meeting(request, pk)
        form = forms.ConfirmForm(request.POST, submit_label=self.button)
        try:
            message = self.do(request, meeting)
        except DomainError as exc:
            form.is_valid()
            form.add_error(None, exc.message)
            return self._render(request, meeting, form)
        messages.success(request, message)
        return redirect(_meeting_url(meeting))


class PublishView(StepView):
    title = "Publish the agenda"
    button = "Publish the agenda"

    def context(self, request, meeting):
        return {
            "warnings": selectors.agenda_warnings(
                meeting, selectors.meeting_items(meeting=meeting)
            ),
            "people": len(services.meeting_people(meeting)),
            "intro": "Members and invited services are told, in the portal and by email. "
            "Invited services can see their case from now until the end of the meeting day.",
        }

    def do(self, request, meeting):
        services.agenda_publish(actor=request.user, meeting=meeting)
        return "Agenda published. Members and invited services have been told."


class HeldView(StepView):
    title = "Record that the meeting was held"
    button = "The meeting was held"

    def do(self, request, meeting):
        services.meeting_mark_held(actor=request.user, meeting=meeting)
        return "Meeting recorded as held. Record attendance and the minutes."


class ApproveView(StepView):
    title = "Approve the minutes"
    button = "Approve the minutes"

    def context(self, request, meeting):
        return {
            "intro": "Once approved, the minutes are read-only. Corrections are recorded as "
            "amendments beside them."
        }

    def do(self, request, meeting):
        services.minutes_approve(actor=request.user, meeting=meeting)
        return "Minutes approved. They are now read-only."


class AmendView(View):
    def _page(self, request, pk, data=None) -> HttpResponse:
        meeting = _run_meeting(request, pk)
        form = forms.AmendmentForm(data, items=selectors.meeting_items(meeting=meeting))

        def run(d: dict[str, Any]) -> HttpResponse:
            services.minutes_amend(
                actor=request.user, meeting=meeting, text=d["text"], item=d["item"]
            )
            messages.success(request, "Amendment recorded.")
            return redirect(_meeting_url(meeting))

        return _form_page(
            request,
            form,
            run,
            {
                "title": "Correct the approved minutes",
                "caption": str(meeting),
                "intro": "The approved minutes stay as they were; "
                "the correction is shown beside them.",
                "back": _meeting_url(meeting),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        return self._page(request, pk)

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        return self._page(request, pk, request.POST)


# --- the agenda -------------------------------------------------------------------------


class AgendaAddView(View):
    def _page(self, request, pk, data=None) -> HttpResponse:
        meeting = _run_meeting(request, pk)
        context: dict[str, Any] = {"meeting": meeting, "back": _meeting_url(meeting)}
        if meeting.forum.discusses_cases:
            candidates = selectors.agenda_candidates(user=request.user, meeting=meeting)
            # The builder lists people by name: the read is logged.
            access.record_list_access(
                user=request.user, request=request, what="forums.agenda_candidates"
            )
            form: django_forms.Form = forms.AgendaCaseForm(
                data, cases=candidates["awaiting"] + candidates["due"]
            )
            context.update(candidates)
            context["title"] = "Add a case to the agenda"
            template = "forums/agenda_add.html"
        else:
            form = forms.AgendaTopicForm(data)
            context["title"] = "Add a topic or system issue to the agenda"
            template = FORM_TEMPLATE
            context["caption"] = str(meeting)

        def run(d: dict[str, Any]) -> HttpResponse:
            item = services.agenda_item_add(
                actor=request.user,
                meeting=meeting,
                case=d.get("case"),
                topic=d.get("topic", ""),
                system_issue=d.get("system_issue"),
            )
            messages.success(request, f"Added as item {item.order}.")
            if item.case_id:
                return redirect("forums:item_settings", meeting.pk, item.pk)
            return redirect(_meeting_url(meeting))

        return _form_page(request, form, run, context, template)

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        return self._page(request, pk)

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        return self._page(request, pk, request.POST)


class ItemSettingsView(VersionedEditView):
    """An item's time, presenter and invited services, against the settings the chair read."""

    version_field = "settings_version"

    def get_object(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> AgendaItem:
        return _run_item(request, pk, item_id)

    def get_form(self, request: AuthenticatedHttpRequest, item: AgendaItem, data: Any = None):
        involved = selectors.item_involved_agencies(item=item)
        return forms.ItemSettingsForm(data, item=item, involved=involved)

    def stale_data(self, request: AuthenticatedHttpRequest, item: AgendaItem) -> Any:
        data = request.POST.copy()
        data["version"] = str(item.settings_version)
        return data

    def save(self, request: AuthenticatedHttpRequest, item: AgendaItem, d: dict[str, Any]) -> None:
        services.agenda_item_update(
            actor=request.user,
            item=item,
            presenter=d["presenter"],
            starts_at=d["starts_at"],
            minutes_allowed=d["minutes_allowed"],
            invited_agencies=d.get("invited_agencies") or [],
            expected_version=d["version"],
        )
        messages.success(request, f"Item {item.order} saved.")

    def success_url(self, item: AgendaItem) -> str:
        return _meeting_url(item.meeting)

    def render_page(self, request: AuthenticatedHttpRequest, item: AgendaItem, form: Any) -> Any:
        involved = selectors.item_involved_agencies(item=item)
        show_case = item.case is not None and access.can_view_case(request.user, item.case)
        context = {
            "title": f"Item {item.order}: time, presenter and invited services",
            "caption": str(item.person_label(show_case)),
            "intro": "Involved: " + ", ".join(a.name for a in involved) if involved else "",
            "back": _meeting_url(item.meeting),
        }
        return render(request, FORM_TEMPLATE, {"form": form, **context})


class ItemMoveView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        item = _run_item(request, pk, item_id)
        try:
            services.agenda_item_move(
                actor=request.user, item=item, up=request.POST.get("direction") == "up"
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(_meeting_url(item.meeting))


class ItemRemoveView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        item = _run_item(request, pk, item_id)
        try:
            services.agenda_item_remove(actor=request.user, item=item)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Item removed from the agenda.")
        return redirect(_meeting_url(item.meeting))


# --- the meeting's record ---------------------------------------------------------------


class AttendanceView(View):
    def _page(self, request, pk, data=None) -> HttpResponse:
        meeting = _run_meeting(request, pk)
        items = selectors.meeting_items(meeting=meeting)
        form = forms.AttendanceForm(
            data, people=services.attendance_candidates(meeting), items=items
        )

        def run(d: dict[str, Any]) -> HttpResponse:
            services.attendance_record(
                actor=request.user,
                meeting=meeting,
                user=d["user"],
                item=d["item"],
                status=d["status"],
            )
            messages.success(request, "Attendance recorded.")
            return redirect("forums:attendance", meeting.pk)

        return _form_page(
            request,
            form,
            run,
            {
                "meeting": meeting,
                "title": "Attendance",
                "attendance": selectors.meeting_attendance(meeting=meeting),
                "back": _meeting_url(meeting),
            },
            "forums/attendance.html",
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        return self._page(request, pk)

    def post(self, request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
        return self._page(request, pk, request.POST)


class AttendanceRemoveView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any, attendance_id: int) -> HttpResponse:
        meeting = _run_meeting(request, pk)
        attendance = selectors.attendance_for(meeting=meeting, attendance_id=attendance_id)
        try:
            services.attendance_remove(actor=request.user, attendance=attendance)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("forums:attendance", meeting.pk)


def _item_context(request: AuthenticatedHttpRequest, item: AgendaItem) -> dict[str, Any]:
    page = selectors.meeting_page(user=request.user, meeting=item.meeting, request=request)
    shown = next((i for i in page["items"] if i.pk == item.pk), None)
    if shown is None:
        raise Http404
    return {"meeting": item.meeting, "item": shown, "runner": page["runner"]}


def _saved_minutes(item: AgendaItem) -> dict[str, Any]:
    return {"minutes": item.minutes, "minutes_version": item.minutes_version}


class ItemView(VersionedEditView):
    """One agenda item: its minutes (editable by the chair until approval), decisions, actions.

    A stale save shows the minutes as now saved, and what this user wrote beside them.
    """

    version_field = "minutes_version"
    stale_error_field = "minutes"
    success_message = "Minutes saved."

    def get_object(self, request, pk, item_id) -> AgendaItem:
        meeting = selectors.meeting_for(user=request.user, meeting_id=pk)
        return selectors.item_for(user=request.user, meeting=meeting, item_id=item_id)

    def get_object_for_edit(self, request, pk, item_id) -> AgendaItem:
        return _run_item(request, pk, item_id)

    def get_form(self, request, item, data=None):
        if data is None and (
            item.meeting.minutes_locked
            or not access.can_run_forum(request.user, item.meeting.forum)
        ):
            return None
        return forms.MinutesForm(data, initial=_saved_minutes(item))

    def stale_data(self, request, item) -> dict[str, Any]:
        return _saved_minutes(item)

    def stale_form(self, request, item):
        form = super().stale_form(request, item)
        form.your_text = request.POST.get("minutes", "")
        return form

    def save(self, request, item, data) -> None:
        services.item_minutes_save(
            actor=request.user,
            item=item,
            minutes=data["minutes"],
            expected_version=data["minutes_version"],
        )

    def success_url(self, item) -> str:
        return _item_url(item)

    def render_page(self, request, item, form) -> HttpResponse:
        context = _item_context(request, item)
        draft = None
        if item.case_id and context["item"].can_see_case:
            draft = selectors.item_draft_care_plan(item=item)
        return render(request, "forums/item.html", {**context, "form": form, "draft_plan": draft})


class DecisionView(View):
    def _page(self, request, pk, item_id, data=None) -> HttpResponse:
        item = _run_item(request, pk, item_id)
        if item.case is not None and not access.can_view_case(request.user, item.case):
            raise Http404
        form = forms.DecisionForm(data, case=item.case)

        def run(d: dict[str, Any]) -> HttpResponse:
            services.item_decision_record(
                actor=request.user,
                item=item,
                kind=d["kind"],
                summary=d["summary"],
                agency=d.get("agency"),
                risk=d.get("risk"),
                level=d.get("level") or "",
            )
            messages.success(request, "Decision recorded.")
            return redirect(_item_url(item))

        return _form_page(
            request,
            form,
            run,
            {
                "title": "Record a decision",
                "caption": f"Item {item.order}: {item.person_label(True)}",
                "intro": "An agency stops being involved, or gives up a risk, only by a decision "
                "of the forum (no hand-offs); the forum can also close a risk. Recording it "
                "here carries it out.",
                "back": _item_url(item),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        return self._page(request, pk, item_id)

    def post(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        return self._page(request, pk, item_id, request.POST)


class ActionAddView(View):
    def _page(self, request, pk, item_id, data=None) -> HttpResponse:
        item = _run_item(request, pk, item_id)
        if item.case is not None and not access.can_view_case(request.user, item.case):
            raise Http404
        form = forms.ActionForm(data, owners=access.action_owners_for(item=item))

        def run(d: dict[str, Any]) -> HttpResponse:
            owner = d["owner"]
            services.action_add(
                actor=request.user,
                meeting=item.meeting,
                item=item,
                description=d["description"],
                owner_agency=owner.agency,
                owner=owner,
                due_on=d["due_on"],
            )
            messages.success(request, "Action added. The owner has been told.")
            return redirect(_item_url(item))

        return _form_page(
            request,
            form,
            run,
            {
                "title": "Add an action",
                "caption": f"Item {item.order}: {item.person_label(True)}",
                "back": _item_url(item),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        return self._page(request, pk, item_id)

    def post(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        return self._page(request, pk, item_id, request.POST)


class ItemCarePlanView(View):
    def post(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        item = _run_item(request, pk, item_id)
        if item.case is None or not access.can_view_case(request.user, item.case):
            raise Http404
        try:
            plan = services.item_care_plan_agree(actor=request.user, item=item)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Care plan version {plan.version} agreed at this meeting.")
        return redirect(_item_url(item))


class EscalateView(View):
    def _page(self, request, pk, item_id, data=None) -> HttpResponse:
        item = _run_item(request, pk, item_id)
        form = forms.SystemIssueForm(data)
        form.submit_label = "Raise for the SOG"
        form.helper = form.build_helper(*form.helper.layout.fields[:-1])

        def run(d: dict[str, Any]) -> HttpResponse:
            issue = services.system_issue_raise(
                actor=request.user,
                title=d["title"],
                description=d["description"],
                theme=d["theme"],
                item=item,
            )
            messages.success(request, "System issue raised for the System Optimisation Group.")
            return redirect("forums:issue", issue.pk)

        return _form_page(
            request,
            form,
            run,
            {
                "title": "System learning: raise an issue for the SOG",
                "caption": f"Item {item.order}",
                "intro": "What does this case show about how the system works? The SOG sees "
                "the issue and that it came from a case, never who the person is.",
                "back": _item_url(item),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        return self._page(request, pk, item_id)

    def post(self, request: AuthenticatedHttpRequest, pk: Any, item_id: int) -> HttpResponse:
        return self._page(request, pk, item_id, request.POST)


# --- actions ----------------------------------------------------------------------------------


def action_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.action_log_visible_to(request.user):
        raise Http404
    filters = forms.ActionFilterForm(request.GET or None)
    wanted: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        wanted = {
            "forum": data["forum"],
            "agency": data["agency"].pk if data["agency"] else None,
            "status": data["status"],
            "theme": data["theme"],
        }
    mine = request.GET.get("mine") == "1"
    actions = selectors.action_log(user=request.user, mine=mine, **wanted)
    page = Paginator(actions, 50).get_page(request.GET.get("page"))
    rows = selectors.readable_actions(user=request.user, actions=page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "forums/actions.html",
        {
            "filters": filters,
            "page": page,
            "actions": rows,
            "mine": mine,
            "query": query.urlencode(),
        },
    )


class ActionView(VersionedEditView):
    success_message = "Action updated."

    def get_object(self, request, pk) -> Action:
        return selectors.action_for(user=request.user, action_id=pk)

    def get_form(self, request, action, data=None):
        if not access.can_update_action(request.user, action):
            return None
        return forms.ActionUpdateForm(
            data,
            may_change_due=access.can_run_forum(request.user, action.forum),
            initial={"status": action.status, "version": action.version, "due_on": action.due_on},
        )

    def save(self, request, action, data) -> None:
        services.action_update(
            actor=request.user,
            action=action,
            status=data["status"],
            note=data["note"],
            expected_version=data["version"],
            due_on=data.get("due_on"),
        )

    def success_url(self, action) -> str:
        return reverse("forums:action", args=[action.pk])

    def render_page(self, request, action, form) -> HttpResponse:
        page = selectors.action_page(user=request.user, action=action, request=request)
        return render(request, "forums/action.html", {"action": action, "form": form, **page})


# --- system issues -----------------------------------------------------------------------------


def issue_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.issues_visible_to(request.user):
        raise Http404
    theme = request.GET.get("theme", "")
    status = request.GET.get("status", "")
    theme = theme if theme in SystemIssue.Theme.values else ""
    status = status if status in SystemIssue.Status.values else ""
    issues = list(selectors.system_issues(user=request.user, theme=theme, status=status)[:200])
    return render(
        request,
        "forums/issues.html",
        {
            "issues": issues,
            "themes": SystemIssue.Theme.choices,
            "statuses": SystemIssue.Status.choices,
            "theme": theme,
            "status": status,
        },
    )


class IssueNewView(View):
    def _page(self, request, data=None) -> HttpResponse:
        if not access.can_work_system_issues(request.user):
            raise Http404
        form = forms.SystemIssueForm(data)

        def run(d: dict[str, Any]) -> HttpResponse:
            issue = services.system_issue_raise(actor=request.user, **d)
            messages.success(request, "System issue raised.")
            return redirect("forums:issue", issue.pk)

        return _form_page(
            request,
            form,
            run,
            {
                "title": "Raise a system issue",
                "caption": "System Optimisation Group",
                "back": reverse("forums:issues"),
            },
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._page(request)

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._page(request, request.POST)


class IssueView(VersionedEditView):
    success_message = "Issue updated."

    def get_object(self, request, pk) -> SystemIssue:
        return selectors.issue_for(user=request.user, issue_id=pk)

    def get_form(self, request, issue, data=None):
        if not access.can_work_system_issues(request.user):
            return None
        return forms.SystemIssueUpdateForm(
            data,
            initial={
                "status": issue.status,
                "recommendation": issue.recommendation,
                "version": issue.version,
            },
        )

    def save(self, request, issue, data) -> None:
        services.system_issue_update(
            actor=request.user,
            issue=issue,
            status=data["status"],
            recommendation=data["recommendation"],
            expected_version=data["version"],
        )

    def success_url(self, issue) -> str:
        return reverse("forums:issue", args=[issue.pk])

    def render_page(self, request, issue, form) -> HttpResponse:
        page = selectors.issue_page(user=request.user, issue=issue, request=request)
        return render(request, "forums/issue.html", {"issue": issue, "form": form, **page})
