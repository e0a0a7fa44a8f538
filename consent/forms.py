"""Consent and sharing-basis forms."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.utils import timezone

from consent.models import CapacityOutcome, ConsentMethod, ConsentPurpose, SharingBasis
from csf_portal.forms import GovukDateField, GovukFormMixin, _text, _textarea
from csf_portal.models import Agency, AgencyKind, User


def _agencies():
    return Agency.objects.filter(is_active=True).exclude(kind=AgencyKind.COMMISSIONER)


class _SharingScope(forms.Form):
    all_member_agencies = forms.BooleanField(
        label="All Creative Solutions Forum member agencies", required=False
    )
    agencies = forms.ModelMultipleChoiceField(
        label="Or only these agencies",
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agencies"].queryset = _agencies()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_member_agencies") and not data.get("agencies"):
            self.add_error("agencies", "Select which agencies may share information")
        return data


class ConsentForm(GovukFormMixin, _SharingScope):
    submit_label = "Record consent"
    purposes = forms.MultipleChoiceField(
        label="For which purposes?",
        choices=ConsentPurpose.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one purpose"},
    )
    what_may_be_shared = _textarea(
        "What may be shared", required_message="Say what information may be shared", max_length=2000
    )
    method = forms.ChoiceField(
        label="How was consent given?",
        choices=ConsentMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how consent was given"},
    )
    given_on = GovukDateField(label="Date consent was given")
    capacity_considered = forms.BooleanField(
        label="The person's capacity to decide about sharing was considered", required=False
    )
    capacity_outcome = forms.ChoiceField(
        label="Outcome",
        choices=CapacityOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome of considering capacity"},
    )
    persons_own_words = _text(
        "The person's own words (optional)",
        2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    review_date = GovukDateField(label="Review date", past_only=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "what_may_be_shared"
        ].initial = "Information needed for the forum's work: assessments, risks, care plans"
        self.helper = self.build_helper(
            Field.checkboxes("purposes", legend_size=Size.SMALL),
            Field.textarea("what_may_be_shared", rows=3),
            Field.checkboxes("all_member_agencies"),
            Field.checkboxes("agencies", legend_size=Size.SMALL, small=True),
            Field.radios("method", legend_size=Size.SMALL),
            Field("given_on"),
            Field.checkboxes("capacity_considered"),
            Field.radios("capacity_outcome", legend_size=Size.SMALL),
            Field.textarea("persons_own_words", rows=3),
            Field("review_date"),
        )

    def clean_review_date(self):
        value = self.cleaned_data["review_date"]
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError("The review date must be in the future")
        return value


class WithdrawConsentForm(GovukFormMixin, forms.Form):
    submit_label = "Record withdrawal"
    recorded_by = forms.ModelChoiceField(
        label="Who recorded the withdrawal?",
        queryset=User.objects.none(),
        empty_label="Select a person",
        error_messages={"required": "Select who recorded the withdrawal"},
    )
    note = _text(
        "What the person said (optional)",
        2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, agency: Agency | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recorded_by"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            agency=agency, is_active=True
        ).order_by("first_name", "last_name")
        self.helper = self.build_helper(Field.select("recorded_by"), Field.textarea("note", rows=3))


class SharingBasisForm(GovukFormMixin, _SharingScope):
    """A request: a forum chair other than the requester approves it in their own session."""

    submit_label = "Ask a forum chair to approve"
    basis = forms.ChoiceField(
        label="Lawful basis",
        choices=SharingBasis.Basis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the lawful basis"},
    )
    justification = _textarea(
        "Why is sharing without consent justified?",
        required_message="Explain why sharing without consent is justified",
    )
    starts_on = GovukDateField(label="Start date")
    ends_on = GovukDateField(label="End date", past_only=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.radios("basis", legend_size=Size.SMALL),
            Field.textarea("justification", rows=5),
            Field.checkboxes("all_member_agencies"),
            Field.checkboxes("agencies", legend_size=Size.SMALL, small=True),
            Field("starts_on"),
            Field("ends_on"),
        )


class ApproveSharingBasisForm(GovukFormMixin, forms.Form):
    submit_label = "Approve sharing without consent"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper()


class RefuseSharingBasisForm(GovukFormMixin, forms.Form):
    submit_label = "Refuse"
    reason = _textarea("Why is it refused?", required_message="Say why the request is refused")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(Field.textarea("reason", rows=4))
