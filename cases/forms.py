"""Risk forms. The risk's version travels with the form so concurrent edits are caught."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms

from cases.models import RiskCategory, RiskLevel
from csf_portal.forms import GovukFormMixin
from referrals.forms import _text


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
