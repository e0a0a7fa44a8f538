"""Forum forms: planning, the agenda, the meeting's record, actions and system issues."""

from __future__ import annotations

import datetime
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.utils import timezone

from cases.models import Case, RiskLevel
from csf_portal.forms import GovukDateField, GovukFormMixin, _text
from csf_portal.models import Agency, User
from forums.models import Action, ForumDecision, SystemIssue


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.username
        return f"{name} ({obj.agency})" if obj.agency_id else name


def _time(label: str, *, required: bool = True, help_text: str = "") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=required,
        input_formats=["%H:%M", "%H.%M", "%H%M"],
        help_text=help_text or "24-hour clock, for example 10:00 or 14:30",
        error_messages={
            "required": f"Enter {label[0].lower() + label[1:]}",
            "invalid": f"{label} must be a time like 10:00 or 14:30",
        },
        widget=forms.TimeInput(format="%H:%M"),
    )


def _aware(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, at))


class MeetingForm(GovukFormMixin, forms.Form):
    submit_label = "Plan the meeting"
    day = GovukDateField(label="Date", past_only=False, help_text="For example, 9 12 2026")
    starts = _time("Start time")
    ends = _time("End time")
    location = _text(
        "Place (optional if online)",
        300,
        required=False,
        help_text="Room and building, for example Room 2, Council House",
    )
    online_link = forms.URLField(
        label="Online meeting link (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": "Enter the full meeting link, starting https://"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field("day"),
            Field.text("starts", field_width=5),
            Field.text("ends", field_width=5),
            Field.text("location"),
            Field.text("online_link"),
        )

    @classmethod
    def for_change(cls, meeting: Any, data: Any = None) -> MeetingForm:
        """The form over a planned meeting, to move it or change where it is."""
        starts = timezone.localtime(meeting.starts_at)
        ends = timezone.localtime(meeting.ends_at or meeting.starts_at)
        form = cls(
            data,
            initial={
                "day": starts.date(),
                "starts": starts.strftime("%H:%M"),
                "ends": ends.strftime("%H:%M"),
                "location": meeting.location,
                "online_link": meeting.online_link,
                "version": meeting.details_version,
            },
        )
        form.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)
        form.submit_label = "Save changes"
        form.helper = form.build_helper(*form.helper.layout.fields[:-1], Field("version"))
        return form

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("day") and data.get("starts") and data.get("ends"):
            data["starts_at"] = _aware(data["day"], data["starts"])
            data["ends_at"] = _aware(data["day"], data["ends"])
            if data["ends_at"] <= data["starts_at"]:
                self.add_error("ends", "The end time must be after the start time")
        return data


class ScheduleForm(GovukFormMixin, forms.Form):
    submit_label = "Plan 6 meetings"
    day = GovukDateField(
        label="Date of the first meeting",
        past_only=False,
        help_text="The next five follow on the same weekday of the same week of each month",
    )
    starts = _time("Start time")
    length = forms.TypedChoiceField(
        label="How long?",
        coerce=int,
        choices=[(60, "1 hour"), (90, "1 hour 30 minutes"), (120, "2 hours"), (180, "3 hours")],
        initial=120,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how long the meetings last"},
    )
    location = MeetingForm.base_fields["location"]
    online_link = MeetingForm.base_fields["online_link"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field("day"),
            Field.text("starts", field_width=5),
            Field.radios("length", legend_size=Size.SMALL, inline=True),
            Field.text("location"),
            Field.text("online_link"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("day") and data.get("starts"):
            data["first_starts_at"] = _aware(data["day"], data["starts"])
        return data


class CaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        last = getattr(obj, "last_discussed", None)
        seen = f"last discussed {last:%-d %b %Y}" if last else "not yet discussed"
        return f"{obj.person} – {obj.get_state_display().lower()}, {seen}"


class AgendaCaseForm(GovukFormMixin, forms.Form):
    submit_label = "Add to the agenda"
    case = CaseChoiceField(
        label="Which case?",
        queryset=Case.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Select a case",
            "invalid_choice": "Select one of the cases listed",
        },
    )

    def __init__(self, *args: Any, cases: list[Case], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["case"]
        field.queryset = Case.objects.filter(pk__in=[c.pk for c in cases])  # type: ignore[attr-defined]
        field.choices = [(c.pk, field.label_from_instance(c)) for c in cases]  # type: ignore[attr-defined]
        self.helper = self.build_helper(Field.radios("case", legend_size=Size.MEDIUM))


class AgendaTopicForm(GovukFormMixin, forms.Form):
    submit_label = "Add to the agenda"
    system_issue = forms.ModelChoiceField(
        label="System issue (optional)",
        queryset=SystemIssue.objects.none(),
        required=False,
        empty_label="None: a topic of its own",
    )
    topic = _text("Topic (optional if you choose an issue)", 200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system_issue"].queryset = SystemIssue.objects.exclude(  # type: ignore[attr-defined]
            status__in=[SystemIssue.Status.RESOLVED, SystemIssue.Status.CLOSED]
        )
        self.helper = self.build_helper(Field.select("system_issue"), Field.text("topic"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("topic") and not data.get("system_issue") and not self.errors:
            self.add_error("topic", "Give a topic or choose a system issue")
        return data


class ItemSettingsForm(GovukFormMixin, forms.Form):
    submit_label = "Save"
    starts_at = _time("Time slot starts (optional)", required=False)
    minutes_allowed = forms.IntegerField(
        label="Minutes allowed",
        min_value=5,
        max_value=180,
        initial=20,
        error_messages={
            "required": "Enter the minutes allowed",
            "invalid": "Minutes allowed must be a number, like 20",
            "min_value": "Allow at least 5 minutes",
            "max_value": "Allow 180 minutes or fewer",
        },
    )
    presenter = UserChoiceField(
        label="Presenting practitioner (optional)",
        queryset=User.objects.none(),
        required=False,
        empty_label="Not chosen yet",
    )
    invited_agencies = forms.ModelMultipleChoiceField(
        label="Services invited for this case",
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Invited services see this case from publication until the end of the "
        "meeting day, where the person's consent or another basis covers them",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, item: Any, involved: list[Agency], **kwargs: Any) -> None:
        invited_ids = list(item.invitations.values_list("agency_id", flat=True))
        kwargs.setdefault(
            "initial",
            {
                "starts_at": item.starts_at,
                "minutes_allowed": item.minutes_allowed,
                "presenter": item.presenter_id,
                "invited_agencies": invited_ids,
                "version": item.settings_version,
            },
        )
        super().__init__(*args, **kwargs)
        involved_ids = [a.pk for a in involved]
        invitable = Agency.objects.filter(is_active=True).exclude(pk__in=involved_ids)
        self.fields["invited_agencies"].queryset = invitable  # type: ignore[attr-defined]
        self.fields["presenter"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True, agency_id__in=involved_ids + invited_ids)
            .select_related("agency")
            .order_by("agency__name", "last_name")
        )
        layout = [
            Field.text("starts_at", field_width=5),
            Field.text("minutes_allowed", field_width=3),
            Field.select("presenter"),
        ]
        if item.case_id:
            layout.append(Field.checkboxes("invited_agencies", legend_size=Size.SMALL, small=True))
        else:
            del self.fields["invited_agencies"]
        self.helper = self.build_helper(*layout, Field("version"))


class AttendanceForm(GovukFormMixin, forms.Form):
    submit_label = "Record attendance"
    user = UserChoiceField(
        label="Who?",
        queryset=User.objects.none(),
        empty_label="Select a person",
        error_messages={"required": "Select who attended", "invalid_choice": "Select a person"},
    )
    item = forms.ChoiceField(label="For", required=False)
    status = forms.ChoiceField(
        label="Attendance",
        choices=[("present", "Present"), ("apologies", "Sent apologies")],
        initial="present",
        widget=forms.RadioSelect,
        error_messages={"required": "Select present or apologies"},
    )

    def __init__(self, *args: Any, people: list[User], items: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=[u.pk for u in people]
        ).select_related("agency")
        self.items = {str(i.pk): i for i in items}
        self.fields["item"].choices = [("", "The whole meeting")] + [  # type: ignore[attr-defined]
            (str(i.pk), f"Item {i.order}") for i in items
        ]
        self.helper = self.build_helper(
            Field.select("user"),
            Field.select("item"),
            Field.radios("status", legend_size=Size.SMALL, inline=True),
        )

    def clean_item(self) -> Any:
        value = self.cleaned_data.get("item")
        return self.items.get(value) if value else None


class MinutesForm(GovukFormMixin, forms.Form):
    submit_label = "Save the minutes"
    minutes = _text(
        "Minutes",
        10_000,
        required_message="Write the minutes for this item",
        help_text="What was discussed and agreed. Decisions and actions are recorded below.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    minutes_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(Field.textarea("minutes", rows=8), Field("minutes_version"))


class DecisionForm(GovukFormMixin, forms.Form):
    submit_label = "Record the decision"
    kind = forms.ChoiceField(
        label="What kind of decision?",
        # A care plan is agreed with its own button on the item (it checks the plan).
        choices=[
            c for c in ForumDecision.Kind.choices if c[0] != ForumDecision.Kind.CARE_PLAN_AGREED
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of decision"},
    )
    agency = forms.ModelChoiceField(
        label="Which agency? (for an agency leaving, or giving up a risk)",
        queryset=Agency.objects.none(),
        required=False,
        empty_label="Not about one agency",
    )
    risk: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Which risk? (for an agency giving up a risk, or a risk closing)",
        queryset=None,
        required=False,
        empty_label="Not about a risk",
    )
    level = forms.ChoiceField(
        label="Its level at closure (for a risk closing)",
        choices=[("", "Its level now"), *RiskLevel.choices],
        required=False,
        help_text="Outcome figures count a closed risk at this level",
    )
    summary = _text(
        "What did the forum decide, and why?",
        2000,
        required_message="Say what the forum decided and why",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, case: Case | None, **kwargs: Any) -> None:
        from cases.models import Risk

        super().__init__(*args, **kwargs)
        if case is None:
            self.fields["kind"].choices = [(ForumDecision.Kind.OTHER, "Other decision")]  # type: ignore[attr-defined]
            self.fields["kind"].initial = ForumDecision.Kind.OTHER
            del self.fields["agency"], self.fields["risk"], self.fields["level"]
            self.helper = self.build_helper(
                Field.radios("kind", legend_size=Size.SMALL), Field.textarea("summary", rows=4)
            )
            return
        self.fields["agency"].queryset = Agency.objects.filter(  # type: ignore[attr-defined]
            pk__in=case.involvements.filter(left_at__isnull=True).values("agency_id")
        )
        self.fields["risk"].queryset = Risk.objects.filter(case=case, status=Risk.Status.OPEN)  # type: ignore[attr-defined]
        self.fields["risk"].label_from_instance = lambda r: (  # type: ignore[attr-defined]
            f"{r.get_category_display()} ({r.get_level_display().lower()})"
        )
        self.helper = self.build_helper(
            Field.radios("kind", legend_size=Size.SMALL),
            Field.select("agency"),
            Field.select("risk"),
            Field.select("level"),
            Field.textarea("summary", rows=4),
        )


class ActionForm(GovukFormMixin, forms.Form):
    submit_label = "Add the action"
    description = _text(
        "What will be done?",
        2000,
        required_message="Say what will be done",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    owner = UserChoiceField(
        label="Who owns it?",
        queryset=User.objects.none(),
        empty_label="Select a person",
        help_text="The action belongs to them and to their agency",
        error_messages={"required": "Select who owns the action"},
    )
    due_on = GovukDateField(label="Due date", past_only=False)

    def __init__(self, *args: Any, owners, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        self.helper = self.build_helper(
            Field.textarea("description", rows=3), Field.select("owner"), Field("due_on")
        )


class ActionUpdateForm(GovukFormMixin, forms.Form):
    submit_label = "Save the update"
    status = forms.ChoiceField(
        label="Status",
        choices=Action.Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the status"},
    )
    note = _text(
        "Update",
        2000,
        required_message="Say what has happened since the last update",
        help_text="For a dropped action, say why it was dropped",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    due_on = GovukDateField(label="Due date", past_only=False, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, may_change_due: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        layout = [Field.radios("status", legend_size=Size.SMALL), Field.textarea("note", rows=3)]
        if may_change_due:
            layout.append(Field("due_on"))
        else:
            del self.fields["due_on"]
        layout.append(Field("version"))
        self.helper = self.build_helper(*layout)


class SystemIssueForm(GovukFormMixin, forms.Form):
    submit_label = "Raise the issue"
    title = _text("Short title", 200, required_message="Give the issue a short title")
    description = _text(
        "What is the issue for the system?",
        5000,
        required_message="Describe the issue",
        help_text="Do not name the person: SOG members see the issue, not who it is about",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    theme = forms.ChoiceField(
        label="Theme",
        choices=SystemIssue.Theme.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the theme"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.text("title"),
            Field.textarea("description", rows=6),
            Field.radios("theme", legend_size=Size.SMALL),
        )


class SystemIssueUpdateForm(GovukFormMixin, forms.Form):
    submit_label = "Save"
    status = forms.ChoiceField(
        label="Status",
        choices=SystemIssue.Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the status"},
    )
    recommendation = _text(
        "Recommendation to commissioners",
        5000,
        required=False,
        help_text="When the fix is outside the current system",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.radios("status", legend_size=Size.SMALL),
            Field.textarea("recommendation", rows=5),
            Field("version"),
        )


class AmendmentForm(GovukFormMixin, forms.Form):
    submit_label = "Record the amendment"
    item = forms.ChoiceField(label="Which part of the minutes?", required=False)
    text = _text(
        "Correction",
        5000,
        required_message="Write the correction",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, items: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = {str(i.pk): i for i in items}
        self.fields["item"].choices = [("", "The meeting as a whole")] + [  # type: ignore[attr-defined]
            (str(i.pk), f"Item {i.order}") for i in items
        ]
        self.helper = self.build_helper(Field.select("item"), Field.textarea("text", rows=4))

    def clean_item(self) -> Any:
        value = self.cleaned_data.get("item")
        return self.items.get(value) if value else None


class ConfirmForm(GovukFormMixin, forms.Form):
    """A page whose only input is the button."""

    def __init__(self, *args: Any, submit_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.submit_label = submit_label
        self.helper = self.build_helper()


class ActionFilterForm(forms.Form):
    """The action log's filters (GET)."""

    forum = forms.ChoiceField(
        label="Forum",
        required=False,
        choices=[("", "Both forums"), ("csf", "Creative Solutions Forum"), ("sog", "SOG")],
    )
    agency = forms.ModelChoiceField(
        label="Owner agency", queryset=Agency.objects.none(), required=False, empty_label="All"
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "All"),
            ("open", "Open or in progress"),
            ("overdue", "Overdue"),
            *list(Action.Status.choices),
        ],
    )
    theme = forms.ChoiceField(
        label="Theme", required=False, choices=[("", "All"), *list(SystemIssue.Theme.choices)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(  # type: ignore[attr-defined]
            pk__in=Action.objects.values("owner_agency_id")
        )

    def selects(self) -> list[tuple[forms.BoundField, list[tuple[str, str, bool]]]]:
        """Each filter with its options as (value, label, chosen), worked out here:
        comparing every option with the chosen value in the template cost more than
        the rest of the action log's table (ADR 0006)."""
        selects = []
        for field in self:
            chosen = "" if field.value() is None else str(field.value())
            options = [
                (str(value), str(label), str(value) == chosen)
                for value, label in field.field.choices  # type: ignore[attr-defined]
            ]
            selects.append((field, options))
        return selects
