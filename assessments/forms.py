"""The assessment form is built from the template: the instrument is data."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Button, Field, Fieldset, Size
from django import forms

from assessments.models import Assessment
from assessments.services import UNANSWERED, answer_token
from cases.validators import validate_no_markup
from csf_portal.forms import GovukFormMixin


class AssessmentForm(GovukFormMixin, forms.Form):
    submit_label = "Save as draft"

    def __init__(self, *args: Any, assessment: Assessment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(assessment.template.items.all())
        answers = {a.item_id: a for a in assessment.answers.all()}
        layout: list[Any] = []
        for item in self.items:
            answer = answers.get(item.pk)
            score_name, text_name = f"score_{item.code}", f"narrative_{item.code}"
            read_name = f"read_{item.code}"
            self.fields[read_name] = forms.CharField(
                widget=forms.HiddenInput,
                required=False,
                max_length=64,
                initial=answer_token((answer.score, answer.narrative) if answer else UNANSWERED),
            )
            self.fields[score_name] = forms.TypedChoiceField(
                label=item.question,
                help_text=item.guidance
                or ("Counts double in the total" if item.counts_double else ""),
                choices=[(o["value"], o["label"]) for o in item.options],
                coerce=int,
                required=False,
                widget=forms.RadioSelect,
                initial=answer.score if answer else None,
                error_messages={"invalid_choice": f"{item.domain}: choose a score from the list"},
            )
            self.fields[text_name] = forms.CharField(
                label=f"What is happening ({item.domain.lower()})",
                required=False,
                max_length=3000,
                validators=[validate_no_markup],
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=answer.narrative if answer else "",
                error_messages={"max_length": f"{item.domain}: use 3000 characters or fewer"},
            )
            layout.append(
                Fieldset(
                    Field(read_name),
                    Field.radios(score_name, legend_size=Size.SMALL, small=True, inline=True),
                    Field.textarea(text_name, rows=3),
                    legend=item.domain,
                    legend_size=Size.MEDIUM,
                )
            )
        self.helper = self.build_helper(*layout)
        self.helper.layout.append(Button("complete", "Complete assessment"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["answers"], cleaned["read"] = self.answers(), self.read()
        return cleaned

    def answers(self) -> dict[int, tuple[int | None, str]]:
        out: dict[int, tuple[int | None, str]] = {}
        for item in self.items:
            score = self.cleaned_data.get(f"score_{item.code}")
            out[item.pk] = (
                score if score not in ("", None) else None,
                self.cleaned_data.get(f"narrative_{item.code}", ""),
            )
        return out

    def read(self) -> dict[int, str]:
        """What each answer said when the user read it (its token), by item id."""
        empty = answer_token(UNANSWERED)
        return {i.pk: self.cleaned_data.get(f"read_{i.code}") or empty for i in self.items}
