"""Form pages over the domain's services, and the version-checked edit they share.

DESIGN §4 rule 4: a concurrent edit never silently overwrites. A versioned record's
form carries, hidden, the version the user read; the service compares it and raises
:class:`~csf_portal.errors.ConcurrentEdit` when someone else saved in between. The page
then shows the refusal with the record as it now is, and the form carries the new
version, so saving again is a conscious choice. :class:`VersionedEditView` is that page,
once; each edit view says only how to load, build the form, save and render.

Core only: this module knows no feature app.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.views import View

from csf_portal.errors import ConcurrentEdit, DomainError
from csf_portal.types import AuthenticatedHttpRequest


def add_domain_error(form: forms.Form, exc: DomainError, *, field: str | None = None) -> None:
    """Put a service's refusal on the field it concerns (else on the whole form)."""
    where = field if field is not None else exc.field
    form.add_error(where if where in form.fields else None, exc.message)


class VersionedEditView(View):
    """Edit one versioned record: GET shows the form, POST saves it against the version read.

    Subclasses give ``get_object`` (and ``get_object_for_edit`` if saving needs more than
    reading), ``get_form`` (``None`` when the user may only read: a POST is then a 404),
    ``save`` (one service call with ``expected_version``), ``success_url`` and
    ``render_page``. On a stale save the record is read again and the form rebuilt by
    ``stale_form`` over ``stale_data`` — by default what the user typed, with the record's
    new version — and shows the refusal.
    """

    version_field = "version"  # the form field and the record's attribute
    stale_error_field: str | None = None  # where the refusal is shown; None: the whole form
    success_message = ""

    def get_object(self, request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def get_object_for_edit(
        self, request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any
    ) -> Any:
        return self.get_object(request, *args, **kwargs)

    def get_form(self, request: AuthenticatedHttpRequest, obj: Any, data: Any = None) -> Any:
        raise NotImplementedError

    def save(self, request: AuthenticatedHttpRequest, obj: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def success_url(self, obj: Any) -> str:
        raise NotImplementedError

    def render_page(self, request: AuthenticatedHttpRequest, obj: Any, form: Any) -> HttpResponse:
        raise NotImplementedError

    def stale_data(self, request: AuthenticatedHttpRequest, obj: Any) -> Any:
        """The form's data after a stale save: what they typed, with the version now saved."""
        data: QueryDict = request.POST.copy()
        data[self.version_field] = str(getattr(obj, self.version_field))
        return data

    def stale_form(self, request: AuthenticatedHttpRequest, obj: Any) -> Any:
        """The form shown after a stale save, built over the record as it now is."""
        return self.get_form(request, obj, self.stale_data(request, obj))

    def get(self, request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object(request, *args, **kwargs)
        return self.render_page(request, obj, self.get_form(request, obj))

    def post(self, request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object_for_edit(request, *args, **kwargs)
        form = self.get_form(request, obj, request.POST)
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                self.save(request, obj, form.cleaned_data)
            except ConcurrentEdit as exc:
                obj.refresh_from_db()
                form = self.stale_form(request, obj)
                form.is_valid()
                add_domain_error(form, exc, field=self.stale_error_field)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return redirect(self.success_url(obj))
        return self.render_page(request, obj, form)
