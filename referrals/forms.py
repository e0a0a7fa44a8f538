"""Referral forms: one question per page, GOV.UK markup, plain-text answers."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.utils import timezone

from cases.models import AccommodationStatus, Gender, RiskCategory, RiskLevel
from cases.validators import normalise_nhs_number, validate_nhs_number
from csf_portal.forms import GovukDateField, GovukFormMixin, _text, _textarea
from csf_portal.models import Agency, AgencyKind
from referrals.models import Referral, ReferralReason


class StepForm(GovukFormMixin, forms.Form):
    """A wizard page: 'Save and continue' plus 'Save as draft'."""

    submit_label = "Save and continue"
    title = ""
    # What this page's answers said when the user read it (DESIGN §4 rule 4).
    read = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def layout_fields(self) -> list[Any]:
        return [Field(name) for name in self.fields if name != "read"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.build_step_helper()

    def build_step_helper(self) -> None:
        from crispy_forms_gds.layout import Button

        self.helper = self.build_helper(Field("read"), *self.layout_fields())
        self.helper.layout.append(Button.secondary("save_draft", "Save as draft"))

    def saved_fields(self) -> list[str]:
        """The draft's answers this page writes: what its version is taken over."""
        return [name for name in self.fields if name != "read"]

    def service_kwargs(self) -> dict[str, Any]:
        """What to hand to ``referral_update`` (with ``read``, the version read)."""
        return dict(self.cleaned_data)


class PersonForm(StepForm):
    title = "About the person"
    given_name = _text("First name", 100, required_message="Enter the person's first name")
    family_name = _text("Last name", 100, required_message="Enter the person's last name")
    other_names = _text(
        "Other names they use or have used (optional)",
        300,
        required=False,
        help_text="Aliases, previous names or nicknames, separated by commas",
    )
    date_of_birth = GovukDateField(label="Date of birth", help_text="For example, 27 3 1979")
    nhs_number = forms.CharField(
        label="NHS number (optional)",
        required=False,
        max_length=14,
        help_text="10 digits, for example 943 476 5919",
        error_messages={"max_length": "Enter an NHS number with 10 digits, like 943 476 5919"},
    )
    gender = forms.ChoiceField(
        label="Gender",
        choices=Gender.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the person's gender"},
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("given_name", field_width=20),
            Field.text("family_name", field_width=20),
            Field.text("other_names"),
            Field("date_of_birth"),
            Field.text("nhs_number", field_width=10),
            Field.radios("gender", legend_size=Size.SMALL),
        ]

    def clean_nhs_number(self) -> str:
        value = normalise_nhs_number(self.cleaned_data["nhs_number"])
        if value:
            validate_nhs_number(value)
        return value


class MatchForm(StepForm):
    title = "Is this the same person?"
    NOT_THEM = "none"

    def __init__(self, *args: Any, people: list, **kwargs: Any) -> None:
        self.people = {str(p.pk): p for p in people}
        choices = [
            (
                key,
                f"{p.given_name} {p.family_name}, born {p.date_of_birth:%-d %B %Y}"
                + (f", NHS number {p.nhs_number}" if p.nhs_number else ""),
            )
            for key, p in self.people.items()
        ]
        choices.append((self.NOT_THEM, "No, this is someone else"))
        super().__init__(*args, **kwargs)
        self.fields["person"] = forms.ChoiceField(
            label="We already know someone with these details. Is this the same person?",
            choices=choices,
            widget=forms.RadioSelect,
            error_messages={"required": "Select the person, or say it is someone else"},
        )
        self.helper = self.build_helper(Field.radios("person", legend_size=Size.MEDIUM))

    def chosen(self):
        return self.people.get(self.cleaned_data["person"])


class CircumstancesForm(StepForm):
    title = "Where the person lives"
    accommodation_status = forms.ChoiceField(
        label="Where is the person living now?",
        choices=AccommodationStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where the person is living now"},
    )
    gp_practice = _text(
        "GP practice (optional)",
        200,
        required=False,
        help_text="Leave blank if the person is not registered with a GP",
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.radios("accommodation_status", legend_size=Size.SMALL),
            Field.text("gp_practice"),
        ]


MEAM_CHOICES = [
    ("meam_homelessness", "Homelessness"),
    ("meam_substance_misuse", "Substance misuse"),
    ("meam_offending", "Offending"),
    ("meam_mental_health", "Mental ill-health"),
]


class MeamForm(StepForm):
    title = "Areas of need"
    domains = forms.MultipleChoiceField(
        label="Which of these does the person experience?",
        help_text="Select all that apply",
        choices=MEAM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one area of need"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.checkboxes("domains", legend_size=Size.SMALL)]

    def saved_fields(self) -> list[str]:
        return [name for name, _ in MEAM_CHOICES]

    def service_kwargs(self) -> dict[str, Any]:
        chosen = set(self.cleaned_data["domains"])
        names = [name for name, _ in MEAM_CHOICES]
        return {name: name in chosen for name in names} | {"read": self.cleaned_data["read"]}


class ReasonsForm(StepForm):
    title = "Reasons for the referral"
    reasons = forms.ModelMultipleChoiceField(
        label="Why are you referring the person to the forum?",
        help_text="Select all that apply",
        queryset=ReferralReason.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one reason for the referral"},
    )
    reason_other = _text("If you selected other, describe the reason", 500, required=False)

    def layout_fields(self) -> list[Any]:
        return [Field.checkboxes("reasons", legend_size=Size.SMALL), Field.text("reason_other")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reasons = data.get("reasons") or []
        if any(r.is_other for r in reasons) and not data.get("reason_other"):
            self.add_error("reason_other", "Describe the other reason for the referral")
        return data


class RiskForm(GovukFormMixin, forms.Form):
    submit_label = "Add this risk"
    category = forms.ChoiceField(
        label="Risk",
        choices=[("", "Select a risk"), *RiskCategory.choices],
        error_messages={"required": "Select the risk"},
    )
    level = forms.ChoiceField(
        label="How serious is it now?",
        choices=RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how serious the risk is"},
    )
    description = _text(
        "Describe the risk (optional)",
        500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @classmethod
    def needing_a_risk(cls) -> RiskForm:
        """The empty form, showing that at least one risk must be added first."""
        form = cls(data={})
        form.errors.clear()  # the empty form's own "required" errors are not the point here
        form.add_error("category", "Add at least one risk")
        return form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.select("category"),
            Field.radios("level", legend_size=Size.SMALL, inline=True),
            Field.textarea("description", rows=3),
        )


def _agency_choices():
    return (
        Agency.objects.filter(is_active=True).exclude(kind=AgencyKind.COMMISSIONER).order_by("name")
    )


class ServicesForm(StepForm):
    title = "Services already involved"
    services_involved = forms.ModelMultipleChoiceField(
        label="Which services are already involved with the person?",
        help_text="Select all that apply. Include your own agency if you work with the person.",
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one service that is involved"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services_involved"].queryset = _agency_choices()  # type: ignore[attr-defined]

    def layout_fields(self) -> list[Any]:
        return [Field.checkboxes("services_involved", legend_size=Size.SMALL, small=True)]


class TriedForm(StepForm):
    title = "What has been tried"
    tried_so_far = _textarea(
        "What has been tried, and why has it not worked?",
        required_message="Say what has been tried and why it has not worked",
        help_text="Include hand-offs between services and thresholds that have blocked help",
    )


class HopesForm(StepForm):
    title = "What you hope the forum can do"
    hoped_outcome = _textarea(
        "What do you hope the forum can do?", required_message="Say what you hope the forum can do"
    )


class UrgencyForm(StepForm):
    title = "Urgency"
    urgency = forms.ChoiceField(
        label="How urgent is this referral?",
        choices=Referral.Urgency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how urgent the referral is"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.radios("urgency", legend_size=Size.SMALL)]


class BasisForm(StepForm):
    title = "Lawful basis for sharing"
    lawful_basis = forms.ChoiceField(
        label="On what basis are you sharing this person's information?",
        help_text="A referral cannot be made without a lawful basis for sharing",
        choices=Referral.LawfulBasis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the lawful basis for sharing this information"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.radios("lawful_basis", legend_size=Size.SMALL)]


class SharingForm(StepForm):
    """Details of the basis chosen on the previous page, and who it covers."""

    title = "Sharing"
    sharing_all_members = forms.BooleanField(
        label="All Creative Solutions Forum member agencies", required=False
    )
    sharing_agencies = forms.ModelMultipleChoiceField(
        label="Or only these agencies",
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, basis: str, **kwargs: Any) -> None:
        self.basis = basis
        super().__init__(*args, **kwargs)
        if basis == Referral.LawfulBasis.CONSENT:
            self.fields["consent_method"] = forms.ChoiceField(
                label="How did the person give consent?",
                choices=Referral.ConsentMethod.choices,
                widget=forms.RadioSelect,
                error_messages={"required": "Select how the person gave consent"},
            )
            self.fields["consent_given_on"] = GovukDateField(label="Date consent was given")
            self.fields["consent_person_informed"] = forms.BooleanField(
                label="The person was told what will be shared, with which agencies, and why",
                error_messages={
                    "required": "Confirm the person was told what will be shared and with whom"
                },
            )
        else:
            self.fields["basis_justification"] = _textarea(
                "Why is sharing without consent justified?",
                required_message="Explain why sharing without consent is justified",
                help_text="Say what the risk is and why consent could not be sought or was refused",
            )
        self.fields["sharing_agencies"].queryset = _agency_choices()  # type: ignore[attr-defined]
        self.build_step_helper()

    def layout_fields(self) -> list[Any]:
        if not hasattr(self, "basis"):
            return []
        if self.basis == Referral.LawfulBasis.CONSENT:
            first = [
                Field.radios("consent_method", legend_size=Size.SMALL),
                Field("consent_given_on"),
                Field.checkboxes("consent_person_informed"),
            ]
        else:
            first = [Field.textarea("basis_justification", rows=6)]
        return [
            *first,
            Field.checkboxes("sharing_all_members"),
            Field.checkboxes("sharing_agencies", legend_size=Size.SMALL, small=True),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("sharing_all_members") and not data.get("sharing_agencies"):
            self.add_error(
                "sharing_agencies", "Select which agencies this information may be shared with"
            )
        return data


class WithdrawForm(GovukFormMixin, forms.Form):
    submit_label = "Withdraw referral"
    reason = _textarea(
        "Why are you withdrawing the referral?",
        required_message="Say why the referral is being withdrawn",
    )

    def __init__(self, *args: Any, reason_required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if not reason_required:
            self.fields["reason"].label = "Why are you withdrawing this draft? (optional)"
        self.helper = self.build_helper(Field.textarea("reason", rows=4))


def _upcoming_csf_meetings():
    from django.db.models import Count, Q

    from forums.models import Forum, Meeting

    return (
        Meeting.objects.filter(
            forum__kind=Forum.Kind.CSF,
            starts_at__gt=timezone.now(),
            state__in=[Meeting.State.PLANNED, Meeting.State.AGENDA_PUBLISHED],
        )
        .annotate(case_count=Count("items", filter=Q(items__case__isnull=False)))
        .order_by("starts_at")
    )


class UpcomingMeetingField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        count = getattr(obj, "case_count", 0)
        return (
            f"{timezone.localtime(obj.starts_at):%A %-d %B %Y, %H:%M} "
            f"({count} case{'s' if count != 1 else ''} so far)"
        )


class AcceptForm(GovukFormMixin, forms.Form):
    submit_label = "Accept referral"
    NEW = "new"

    def __init__(self, *args: Any, people: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(p.pk): p for p in people}
        fields: list[Any] = []
        if people:
            choices = [
                (
                    key,
                    f"Yes, same person: {p.given_name} {p.family_name}"
                    + (f", born {p.date_of_birth:%-d %B %Y}" if p.date_of_birth else ""),
                )
                for key, p in self.people.items()
            ]
            choices.append((self.NEW, "No, this is a new person"))
            self.fields["person"] = forms.ChoiceField(
                label="Is this referral about someone already known to the forum?",
                help_text="Compare the identifiers above. A new person is recorded from "
                "the referral's own details; the record already known is not changed.",
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={"required": "Say whether this is someone already known"},
            )
            fields.append(Field.radios("person", legend_size=Size.SMALL))
        self.fields["meeting"] = UpcomingMeetingField(
            label="Place it on the agenda of a forum meeting? (optional)",
            queryset=_upcoming_csf_meetings(),
            required=False,
            empty_label="Not now: add it to an agenda later",
            help_text="The referrer is named as the presenting practitioner",
            error_messages={"invalid_choice": "Select a forum meeting that is still ahead"},
        )
        fields.append(Field.select("meeting"))
        self.fields["note"] = _text(
            "Note for the referrer (optional)",
            2000,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        fields.append(Field.textarea("note", rows=3))
        self.helper = self.build_helper(*fields)

    def chosen(self):
        """The existing person the chair confirmed ("Yes, same person"), if any."""
        return self.people.get(self.cleaned_data.get("person") or "")

    def new_person(self) -> bool:
        """The chair said "No, this is a new person"."""
        return self.cleaned_data.get("person") == self.NEW


class RedirectForm(GovukFormMixin, forms.Form):
    submit_label = "Redirect referral"
    destination = forms.ChoiceField(
        label="Where should this referral go instead?",
        choices=Referral.RedirectDestination.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where the referral should go"},
    )
    service = _text("Name of the service (if a named service)", 200, required=False)
    advice = _textarea("Advice for the referrer", required_message="Give advice for the referrer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            Field.radios("destination", legend_size=Size.SMALL),
            Field.text("service"),
            Field.textarea("advice", rows=5),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("destination") == Referral.RedirectDestination.NAMED_SERVICE and not data.get(
            "service"
        ):
            self.add_error("service", "Name the service to redirect to")
        return data


class DeclineForm(GovukFormMixin, forms.Form):
    submit_label = "Decline referral"
    reason = _textarea(
        "Why is the referral being declined?",
        required_message="Give the reason for declining the referral",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(Field.textarea("reason", rows=5))


def step_initial(referral: Referral, form_class: type[StepForm]) -> dict[str, Any]:
    """What a wizard page shows of the draft so far."""
    initial: dict[str, Any] = {}
    for name in form_class.base_fields:
        if name == "domains":
            initial[name] = [
                f
                for f in (
                    "meam_homelessness",
                    "meam_substance_misuse",
                    "meam_offending",
                    "meam_mental_health",
                )
                if getattr(referral, f)
            ]
        elif name in ("reasons", "services_involved", "sharing_agencies"):
            initial[name] = list(getattr(referral, name).all())
        elif hasattr(referral, name):
            initial[name] = getattr(referral, name)
    for name in ("consent_method", "consent_given_on", "consent_person_informed"):
        initial[name] = getattr(referral, name)
    initial["basis_justification"] = referral.basis_justification
    return initial
