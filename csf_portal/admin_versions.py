"""The admin's change forms, version-checked like the portal's (DESIGN §4 rule 4).

A change form carries, hidden, a token of the record as the administrator read it. If
someone else saved the record in between, the save is refused on the form with what the
record now says where it differs from what was typed; the typed values are kept and the
form now carries the new token, so saving again is a conscious choice.

Core only: this module knows no feature app.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models

READ_VERSION = "read_version"


def record_token(obj: models.Model) -> str:
    """What a record says now, as a short token: its fields and its many-to-many links."""
    opts = obj._meta
    values: dict[str, Any] = {f.attname: f.value_from_object(obj) for f in opts.concrete_fields}
    for field in opts.many_to_many:
        values[field.name] = sorted(field.value_from_object(obj), key=lambda o: str(o.pk))
    raw = json.dumps(values, sort_keys=True, default=lambda v: str(getattr(v, "pk", v)))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value in (None, ""):
        return "blank"
    return str(value)


class VersionTokenForm(forms.ModelForm):
    """Mixed into an admin's change form: the hidden token and its check."""

    read_version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields[READ_VERSION].initial = record_token(self.instance)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if not self.instance.pk:
            return cleaned
        manager = type(self.instance)._default_manager
        stored = manager.select_for_update().get(pk=self.instance.pk)
        now = record_token(stored)
        if self.data.get(READ_VERSION) == now:
            return cleaned
        changed = self._theirs(stored, cleaned)
        if not changed:
            return cleaned  # what they typed is what it now says: nothing to lose
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
        data[READ_VERSION] = now
        self.data = data
        raise forms.ValidationError(
            "Someone else changed this record while you were editing. It now says: "
            + "; ".join(changed)
            + ". Your changes are below; save again to replace theirs"
        )

    def _theirs(self, stored: models.Model, cleaned: dict[str, Any]) -> list[str]:
        """What the record now says, field by field, where it differs from what was typed."""
        out = []
        model_fields = {f.name: f for f in stored._meta.get_fields()}
        for name, field in self.fields.items():
            model_field = model_fields.get(name)
            if name not in cleaned or model_field is None or not model_field.concrete:
                continue  # a form-only field (roles, passwords)
            typed = cleaned[name]
            if model_field.many_to_many:
                now = list(getattr(stored, name).all())
                differs = {o.pk for o in now} != {o.pk for o in typed or []}
                shown = ", ".join(str(o) for o in now) or "none"
            else:
                now = getattr(stored, name)
                differs = now != typed
                shown = _shown(now)
            if differs:
                out.append(f"{field.label or name}: {shown}")
        return out


class VersionCheckedAdmin(admin.ModelAdmin):
    """Put first in an admin's bases: its change form is checked against the version read."""

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(f"Versioned{base.__name__}", (VersionTokenForm, base), {})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: Any, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None or not fieldsets:
            return fieldsets
        name, options = fieldsets[0]
        fields = tuple(options.get("fields", ()))
        if READ_VERSION not in fields:
            fieldsets[0] = (name, {**options, "fields": (*fields, READ_VERSION)})
        return fieldsets
