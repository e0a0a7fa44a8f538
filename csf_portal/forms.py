"""Sign-in forms, rendered with GOV.UK markup through crispy-forms-gds."""

from __future__ import annotations

import datetime
from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Size, Submit
from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from csf_portal.validators import validate_no_markup


class GovukFormMixin:
    """Gives a form a crispy-forms-gds helper with one primary button."""

    submit_label = "Continue"

    def build_helper(self, *fields: Any) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True  # the form template adds the token
        helper.label_size = Size.SMALL
        helper.layout = Layout(*fields, Submit("submit", self.submit_label))
        return helper


class SignInForm(GovukFormMixin, AuthenticationForm):
    submit_label = "Sign in"
    error_messages = {
        "invalid_login": (
            "The username or password is not right. Check them and try again. "
            "After several failed attempts your account will be locked for a while."
        ),
        "inactive": "This account has been switched off. Contact your administrator.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.helper = self.build_helper(
            Field.text("username"),
            Field.text("password"),
        )

    def clean(self) -> dict[str, Any]:
        from csf_portal.selectors import account_sign_in_backoff

        wait = account_sign_in_backoff(self.data.get("username", "").strip())
        if wait:
            minutes = max(1, (wait + 59) // 60)
            unit = "minute" if minutes == 1 else "minutes"
            raise ValidationError(
                "There have been too many attempts to sign in with this username. "
                f"Wait {minutes} {unit} and try again.",
                code="backoff",
            )
        return super().clean()


class TokenForm(GovukFormMixin, forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.CharField(
        label="Security code",
        help_text="The 6-digit code shown in your authenticator app",
        max_length=6,
        min_length=6,
        error_messages={
            "required": "Enter the 6-digit security code from your authenticator app",
            "min_length": "The security code must be 6 digits",
            "max_length": "The security code must be 6 digits",
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def __init__(
        self,
        *args: Any,
        submit_label: str = "Continue",
        allow_recovery: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.submit_label = submit_label
        self.allow_recovery = allow_recovery
        if allow_recovery:  # a 6-digit code, or an 8-character recovery code
            self.fields["token"] = forms.CharField(
                label="Security code or recovery code",
                help_text="The 6-digit code shown in your authenticator app, "
                "or one of your 8-character recovery codes",
                max_length=12,
                error_messages={
                    "required": "Enter the 6-digit security code from your authenticator app",
                    "max_length": "Enter a 6-digit security code or an 8-character recovery code",
                },
                widget=forms.TextInput(
                    attrs={"autocomplete": "one-time-code", "spellcheck": "false"}
                ),
            )
        self.helper = self.build_helper(
            Field.text("token", field_width=10 if allow_recovery else 5)
        )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip().replace(" ", "").replace("-", "")
        if self.allow_recovery and len(token) == 8 and token.isalnum():
            return token.lower()
        if not token.isdigit() or len(token) != 6:
            if self.allow_recovery:
                raise forms.ValidationError(
                    "Enter a 6-digit security code or an 8-character recovery code"
                )
            raise forms.ValidationError("The security code must be 6 digits")
        return token


ENROLMENT_CODE_SHAPE = "The enrolment code is 12 letters and numbers, for example ABCD-EFGH-JKLM"


class EnrolmentCodeForm(GovukFormMixin, forms.Form):
    """The one-time code an administrator gave the user to set up their authenticator app."""

    submit_label = "Continue"
    enrolment_code = forms.CharField(
        label="Enrolment code",
        help_text="The 12-character code your administrator gave you, for example ABCD-EFGH-JKLM",
        max_length=20,
        error_messages={
            "required": "Enter the enrolment code your administrator gave you",
            "max_length": ENROLMENT_CODE_SHAPE,
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(Field.text("enrolment_code", field_width=10))

    def clean_enrolment_code(self) -> str:
        from csf_portal.services import ENROLMENT_CODE_LENGTH, enrolment_code_normalise

        code = enrolment_code_normalise(self.cleaned_data["enrolment_code"])
        if len(code) != ENROLMENT_CODE_LENGTH or not code.isalnum() or not code.isascii():
            raise forms.ValidationError(ENROLMENT_CODE_SHAPE)
        return code


def _password_fields(form: forms.Form) -> None:
    """GOV.UK wording for the new-password pair Django's forms share."""
    form.fields["new_password1"].label = "New password"
    form.fields["new_password1"].error_messages["required"] = "Enter a new password"
    form.fields["new_password2"].label = "Confirm new password"
    form.fields["new_password2"].help_text = "Type the new password again"
    form.fields["new_password2"].error_messages["required"] = "Confirm your new password"
    for name in ("new_password1", "new_password2"):  # a 100k-character paste is refused early
        form.fields[name].validators.append(MaxLengthValidator(128))
        form.fields[name].error_messages["max_length"] = (
            "The password must be 128 characters or fewer"
        )


PASSWORD_MISMATCH = "The two new passwords do not match"  # noqa: S105
WRONG_CURRENT_PASSWORD = "Your current password is not right. Check it and try again"  # noqa: S105


class GovukPasswordChangeForm(GovukFormMixin, PasswordChangeForm):
    submit_label = "Change password"
    error_messages = {  # a copy: Django's own dict (the admin's forms use it) is left alone
        **PasswordChangeForm.error_messages,
        "password_mismatch": PASSWORD_MISMATCH,
        "password_incorrect": WRONG_CURRENT_PASSWORD,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["old_password"].error_messages["required"] = "Enter your current password"
        _password_fields(self)
        self.helper = self.build_helper(
            Field.text("old_password"), Field.text("new_password1"), Field.text("new_password2")
        )


class GovukSetPasswordForm(GovukFormMixin, SetPasswordForm):
    submit_label = "Reset password"
    error_messages = {**SetPasswordForm.error_messages, "password_mismatch": PASSWORD_MISMATCH}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _password_fields(self)
        self.helper = self.build_helper(Field.text("new_password1"), Field.text("new_password2"))


class GovukPasswordResetForm(GovukFormMixin, PasswordResetForm):
    """Asks for the address; the look-up and the email happen in a worker, so neither the
    page nor its timing says whether an account has that address."""

    submit_label = "Send reset link"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = "Email address"
        email.help_text = "The work email address your CSF Portal account uses"
        email.error_messages["required"] = "Enter your email address"
        email.error_messages["invalid"] = (
            "Enter an email address in the correct format, like name@example.org"
        )
        self.helper = self.build_helper(Field.text("email"))

    def save(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        from django.conf import settings

        from csf_portal import services

        base_url = settings.CSF_BASE_URL or request.build_absolute_uri("/").rstrip("/")
        services.password_reset_request(email=self.cleaned_data["email"], base_url=base_url)


# --- fields every app's forms share ---------------------------------------------------


def _text(label: str, max_length: int, *, required: bool = True, help_text: str = "", **kw: Any):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        validators=[validate_no_markup],
        error_messages={
            "required": kw.pop("required_message", f"Enter {label[0].lower() + label[1:]}"),
            "max_length": f"{label} must be {max_length} characters or fewer",
        },
        **kw,
    )


def _textarea(label: str, *, required_message: str, help_text: str = "", max_length: int = 5000):
    return _text(
        label,
        max_length,
        help_text=help_text,
        required_message=required_message,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class GovukDateField(DateInputField):
    """Day, month and year boxes with GOV.UK error messages."""

    def __init__(self, *, label: str, required: bool = True, past_only: bool = True, **kwargs):
        self.what = label
        self.past_only = past_only
        super().__init__(label=label, required=required, **kwargs)
        self.require_all_fields = True
        self.error_messages["required"] = f"Enter {label.lower()}"
        self.error_messages["incomplete"] = f"{label} must include a day, month and year"

    def compress(self, data_list: Any) -> datetime.date | None:
        day, month, year = data_list
        if not (day and month and year):
            return None
        try:
            # A year of more than four digits is no date (and would overflow ``date``).
            if max(len(str(part).strip()) for part in (day, month, year)) > 4:
                raise ValueError
            value = datetime.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            raise ValidationError(f"{self.what} must be a real date") from None
        if value.year < 1900:
            raise ValidationError(f"{self.what} must be after 1900")
        if self.past_only and value > timezone.localdate():
            raise ValidationError(f"{self.what} must be today or in the past")
        return value

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)
        except ValidationError as exc:
            # The sub-fields' own messages are generic: say what is wrong in our words.
            ours = (self.what, self.error_messages["required"])
            messages = [
                m if m.startswith(ours) else f"{self.what} must be a real date"
                for m in exc.messages
            ]
            raise ValidationError(sorted(set(messages), key=messages.index)) from None


def posted_int(value: object) -> int:
    """A whole number a page posts back (an id, a version); 0 when it is missing or not one,
    which the service then refuses as no such thing."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else 0
