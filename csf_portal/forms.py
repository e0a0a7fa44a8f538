"""Sign-in forms, rendered with GOV.UK markup through crispy-forms-gds."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Size, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm


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

    def __init__(self, *args: Any, submit_label: str = "Continue", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.submit_label = submit_label
        self.helper = self.build_helper(Field.text("token", field_width=5))

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip().replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("The security code must be 6 digits")
        return token
