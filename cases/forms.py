"""Risk forms. The risk's version travels with the form so concurrent edits are caught."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms

from cases.models import RiskCategory, RiskLevel
from csf_portal.forms import GovukFormMixin
from referrals.forms import GovukDateField, _text


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


class EmergencyAccessForm(GovukFormMixin, forms.Form):
    submit_label = "Open the record in an emergency"
    nhs_number = forms.CharField(label="NHS number", required=False, max_length=14)
    family_name = _text("Last name", 100, required=False)
    date_of_birth = GovukDateField(label="Date of birth", required=False)
    reason = _text(
        "What is the emergency?",
        2000,
        required_message="Explain the emergency: what is happening and why you need it now",
        help_text="This is logged, shown on the record, and reviewed by the forum chair",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.text("nhs_number", field_width=10),
            Field.text("family_name", field_width=20),
            Field("date_of_birth"),
            Field.textarea("reason", rows=4),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("nhs_number") and not (
            data.get("family_name") and data.get("date_of_birth")
        ):
            raise forms.ValidationError("Enter an NHS number, or a last name and date of birth")
        return data


class ReviewForm(GovukFormMixin, forms.Form):
    submit_label = "Mark as reviewed"
    note = _text("Review note (optional)", 2000, required=False)
