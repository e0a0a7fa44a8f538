"""Risk forms. The risk's version travels with the form so concurrent edits are caught."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Fluid, Size
from django import forms

from cases.models import AccommodationStatus, Case, OutcomeReview, RiskCategory, RiskLevel
from csf_portal.forms import GovukDateField, GovukFormMixin, _text
from csf_portal.models import Agency, User


class RiskForm(GovukFormMixin, forms.Form):
    submit_label = "Save risk"
    level = forms.ChoiceField(
        label="How serious is it now?",
        choices=RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how serious the risk is now"},
    )
    description = _text(
        "What is the risk?", 2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    mitigations = _text(
        "What is being done to reduce it?",
        2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, new: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: list[Any] = []
        if new:
            self.fields["category"] = forms.ChoiceField(
                label="Risk",
                choices=[("", "Select a risk"), *RiskCategory.choices],
                error_messages={"required": "Select the risk"},
            )
            fields.append(Field.select("category"))
        fields += [
            Field.radios("level", legend_size=Size.SMALL, inline=True),
            Field.textarea("description", rows=3),
            Field.textarea("mitigations", rows=3),
            Field("version"),
        ]
        self.helper = self.build_helper(*fields)


class RiskStatusForm(GovukFormMixin, forms.Form):
    """Agree that a risk can close, or reopen one: its level, why, and the version read."""

    level = forms.ChoiceField(
        choices=RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the risk's level"},
    )
    reason = _text(
        "Why?", 2000, required_message="Say why", widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, closing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if closing:
            self.submit_label = "Agree to close the risk"
            self.fields["level"].label = "How serious is it now, as it closes?"
            self.fields["level"].help_text = "Outcome figures count the risk at this level"
            self.fields["reason"].label = "Why can it close?"
            self.fields["reason"].error_messages["required"] = "Say why the risk can close"
        else:
            self.submit_label = "Reopen the risk"
            self.fields["level"].label = "How serious is it now?"
            self.fields["reason"].label = "Why is it reopened?"
            self.fields["reason"].error_messages["required"] = "Say why the risk is reopened"
        self.helper = self.build_helper(
            Field.radios("level", legend_size=Size.SMALL, inline=True),
            Field.textarea("reason", rows=3),
            Field("version"),
        )


class InvolvementForm(GovukFormMixin, forms.Form):
    """An agency's named worker on a case (who, from when, why) and its crisis contacts."""

    submit_label = "Save worker and contacts"
    named_worker = forms.ModelChoiceField(
        label="Named worker",
        queryset=User.objects.none(),
        required=False,
        empty_label="No one named",
        help_text="The person others contact first about this person",
    )
    changed_on = GovukDateField(
        label="Date the worker took over",
        required=False,
        help_text="Only if the worker is changing. For example, 27 3 2026",
    )
    reason = _text(
        "Why is the worker changing?",
        1000,
        required=False,
        help_text="Only if the worker is changing. For example, 'Jo has moved team'",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    work_phone = _text("Work phone for this case", 40, required=False)
    team_inbox = forms.EmailField(
        label="Team inbox for this case",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter the team inbox as an email address, like team@example.org.uk"
        },
    )
    out_of_hours = _text(
        "Out-of-hours route for this case",
        300,
        required=False,
        help_text="Who to call out of hours, and how",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, workers: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["named_worker"].queryset = workers  # type: ignore[attr-defined]
        self.fields["named_worker"].label_from_instance = (  # type: ignore[attr-defined]
            lambda u: (
                f"{u.get_full_name() or u.username}" + (f", {u.job_title}" if u.job_title else "")
            )
        )
        for name, default in (
            ("work_phone", agency.phone),
            ("team_inbox", agency.team_inbox),
            ("out_of_hours", agency.out_of_hours),
        ):
            self.fields[name].help_text = (
                f"Leave blank to show {agency}'s: {default}"
                if default
                else f"{agency} has none recorded: leave blank if there is none"
            )
        self.helper = self.build_helper(
            Field.select("named_worker"),
            Field("changed_on"),
            Field.textarea("reason", rows=2),
            Field.text("work_phone", field_width=Fluid.ONE_THIRD),
            Field.text("team_inbox", field_width=Fluid.TWO_THIRDS),
            Field.text("out_of_hours"),
            Field("version"),
        )


class PersonIdentifiersForm(GovukFormMixin, forms.Form):
    """Find a person by NHS number, or by last name and date of birth."""

    submit_label = "Find"
    nhs_number = forms.CharField(label="NHS number", required=False, max_length=14)
    family_name = _text("Last name", 100, required=False)
    date_of_birth = GovukDateField(label="Date of birth", required=False)

    def extra_layout(self) -> list[Any]:
        return []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.text("nhs_number", field_width=10),
            Field.text("family_name", field_width=20),
            Field("date_of_birth"),
            *self.extra_layout(),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("nhs_number") and not (
            data.get("family_name") and data.get("date_of_birth")
        ):
            raise forms.ValidationError("Enter an NHS number, or a last name and date of birth")
        return data


class EmergencyAccessForm(PersonIdentifiersForm):
    submit_label = "Open the record in an emergency"
    reason = _text(
        "What is the emergency?",
        2000,
        required_message="Explain the emergency: what is happening and why you need it now",
        help_text="This is logged, shown on the record, and reviewed by the forum chair",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def extra_layout(self) -> list[Any]:
        return [Field.textarea("reason", rows=4)]


class ReviewForm(forms.Form):
    """The chair's note when reviewing emergency access (the page renders its own markup)."""

    note = _text("Review note (optional)", 2000, required=False)


class CarePlanItemForm(GovukFormMixin, forms.Form):
    submit_label = "Add to the plan"
    what = _text(
        "What will happen?",
        1000,
        required_message="Say what will happen",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    agency = forms.ModelChoiceField(
        label="Which agency will do it?",
        queryset=Agency.objects.none(),
        empty_label="Select an agency",
        error_messages={"required": "Select the agency that will do it"},
    )
    named_worker = forms.ModelChoiceField(
        label="Named worker (optional)",
        queryset=User.objects.none(),
        required=False,
        empty_label="Not named yet",
    )
    by_when = GovukDateField(label="By when (optional)", required=False, past_only=False)
    edit_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(
            pk__in=case.involvements.filter(left_at__isnull=True).values("agency_id")
        ).order_by("name")
        self.fields["agency"].queryset = agencies  # type: ignore[attr-defined]
        self.fields["named_worker"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            agency__in=agencies, is_active=True
        ).select_related("agency")
        self.fields["named_worker"].label_from_instance = (  # type: ignore[attr-defined]
            lambda u: f"{u.get_full_name() or u.username} ({u.agency})"
        )
        self.helper = self.build_helper(
            Field.textarea("what", rows=2),
            Field.select("agency"),
            Field.select("named_worker"),
            Field("by_when"),
            Field("edit_version"),
        )


class _DecisionItemField(forms.ModelChoiceField):
    """The case's item on the agenda of a forum meeting that was held (no hand-offs)."""

    def label_from_instance(self, obj: Any) -> str:
        from django.utils import timezone
        from django.utils.formats import date_format

        when = date_format(timezone.localtime(obj.meeting.starts_at), "j F Y")
        return f"{obj.meeting.forum.name}, {when} (item {obj.order})"


def _decision_item_field(case: Any, label: str) -> forms.ModelChoiceField:
    import access

    return _DecisionItemField(
        label=label,
        queryset=access.decision_items_for(case=case),
        empty_label="Select a meeting",
        help_text=(
            "Meetings that discussed this case, have been held and whose minutes are not yet "
            "approved. The decision is recorded on the case's item of the minutes."
        ),
        error_messages={
            "required": "Select the forum meeting",
            "invalid_choice": (
                "Select a forum meeting that discussed this case, has been held and whose "
                "minutes are open"
            ),
        },
    )


class AgreePlanForm(GovukFormMixin, forms.Form):
    submit_label = "Record the plan as agreed"

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"] = _decision_item_field(case, "Which forum meeting agreed it?")
        self.helper = self.build_helper(Field.select("item"))


def _count(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=10000,
        initial=0,
        error_messages={
            "required": f"Enter the number of {label.lower()} (0 if none)",
            "invalid": f"{label} must be a whole number, like 3",
            "min_value": f"{label} cannot be less than 0",
            "max_value": f"{label} must be 10,000 or fewer",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class OutcomeReviewForm(GovukFormMixin, forms.Form):
    submit_label = "Save review"
    period_start = GovukDateField(label="Start of the period")
    period_end = GovukDateField(label="End of the period")
    police_contacts = _count("Police contacts")
    ambulance_contacts = _count("Ambulance call-outs")
    ae_attendances = _count("A&E attendances")
    unplanned_admissions = _count("Unplanned hospital admissions")
    bnb_nights = _count("Nights in B&B or emergency accommodation")
    accommodation_status = forms.ChoiceField(
        label="Where is the person living now?",
        choices=AccommodationStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where the person is living now"},
    )
    housing_satisfied = forms.ChoiceField(
        label="Is the person satisfied with their housing option?",
        choices=OutcomeReview.Answer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the person is satisfied with their housing"},
    )
    avoidable = forms.ChoiceField(
        label="Could this case have been avoided had services been joined up?",
        choices=OutcomeReview.Answer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the case could have been avoided"},
    )
    avoidable_note = _text(
        "What would have made the difference? (optional)",
        2000,
        required=False,
        help_text="System learning the forum can take to the System Optimisation Group",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field("period_start"),
            Field("period_end"),
            Field.text("police_contacts", field_width=3),
            Field.text("ambulance_contacts", field_width=3),
            Field.text("ae_attendances", field_width=3),
            Field.text("unplanned_admissions", field_width=3),
            Field.text("bnb_nights", field_width=3),
            Field.radios("accommodation_status", legend_size=Size.SMALL),
            Field.radios("housing_satisfied", legend_size=Size.SMALL, inline=True),
            Field.radios("avoidable", legend_size=Size.SMALL, inline=True),
            Field.textarea("avoidable_note", rows=3),
        )


class CaseStateForm(GovukFormMixin, forms.Form):
    submit_label = "Change status"
    state = forms.ChoiceField(
        label="New status",
        choices=Case.State.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the new status"},
    )
    closure_outcome = forms.ChoiceField(
        label="If closing: the outcome",
        choices=[("", "Select an outcome"), *Case.ClosureOutcome.choices],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.radios("state", legend_size=Size.SMALL), Field.select("closure_outcome")
        )


class LeaveCaseForm(GovukFormMixin, forms.Form):
    """The chair records the forum's decision that an agency leaves the case."""

    submit_label = "Record the decision"
    agency = forms.ModelChoiceField(
        label="Which agency stops being involved?",
        queryset=Agency.objects.none(),
        empty_label="Select an agency",
        error_messages={"required": "Select the agency"},
    )
    summary = _text(
        "What did the forum decide, and why?",
        2000,
        required_message="Say what the forum decided and why",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(  # type: ignore[attr-defined]
            pk__in=case.involvements.filter(left_at__isnull=True).values("agency_id")
        ).order_by("name")
        self.fields["item"] = _decision_item_field(case, "Which forum meeting decided it?")
        self.order_fields(["agency", "item", "summary"])
        self.helper = self.build_helper(
            Field.select("agency"), Field.select("item"), Field.textarea("summary", rows=4)
        )
