from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from csf_portal import services
from csf_portal.admin_versions import VersionCheckedAdmin
from csf_portal.errors import DomainError
from csf_portal.models import AccessEvent, Agency, Role, User


class _RolesMixin(forms.Form):
    """The user's roles as one checkbox list, checked by the service's own rules.

    Raw groups and permissions are never edited here: ``save_model`` hands the
    choice to ``services.user_roles_set``, which records it and tells the chairs.
    """

    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="An administrator cannot also hold a role that sees case data.",
    )
    acting_user: User | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk:
            self.fields["roles"].initial = sorted(
                instance.groups.filter(name__in=Role.values).values_list("name", flat=True)
            )

    def clean_roles(self):
        roles = self.cleaned_data.get("roles") or []
        instance = getattr(self, "instance", None)
        try:
            services.user_change_check(
                actor=self.acting_user,
                user=instance if instance is not None and instance.pk else None,
                roles=roles,
            )
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return roles


class PortalUserChangeForm(_RolesMixin, UserChangeForm):
    pass


class PortalUserCreationForm(_RolesMixin, AdminUserCreationForm):
    pass


@admin.register(Agency)
class AgencyAdmin(VersionCheckedAdmin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "is_active")}),
        (
            "Crisis contacts",
            {
                "fields": services.AGENCY_CONTACTS,
                "description": "Shown on every case the agency is involved in, unless the "
                "case gives its own.",
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj else ()

    def get_prepopulated_fields(self, request, obj=None):
        # The slug is fixed once made: filling it from the name is for a new agency only
        # (not a class attribute: the history pages would fill a slug they do not show).
        return {} if obj else {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        # Every agency gets its own auth group: create through the service.
        if change:
            services.agency_update(
                actor=request.user,
                agency=obj,
                name=obj.name,
                kind=obj.kind,
                is_active=obj.is_active,
                **{key: getattr(obj, key) for key in services.AGENCY_CONTACTS},
            )
        else:
            created = services.agency_create(
                actor=request.user,
                name=obj.name,
                kind=obj.kind,
                slug=obj.slug,
                **{key: getattr(obj, key) for key in services.AGENCY_CONTACTS},
            )
            obj.pk = created.pk
            obj.group = created.group

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class PortalUserAdmin(VersionCheckedAdmin, UserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "first_name", "last_name", "agency", "job_title", "is_active")
    list_filter = ("agency", "groups", "is_active", "is_staff")
    list_select_related = ("agency",)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Agency", {"fields": ("agency", "job_title", "roles")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (
            "Agency",
            {"fields": ("first_name", "last_name", "email", "agency", "job_title", "roles")},
        ),
    )
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    actions = ["issue_enrolment_code"]

    @admin.action(description="Set up the second factor afresh: issue a one-time enrolment code")
    def issue_enrolment_code(self, request, queryset):
        """Each code is shown once, on this page, for the administrator to pass on by
        phone or in person; the user's old authenticator app and recovery codes stop."""
        issued = []
        for user in queryset.order_by("username"):
            try:
                code = services.enrolment_code_issue(actor=request.user, user=user)
            except DomainError as error:
                self.message_user(request, f"{user.username}: {error}", level="error")
                continue
            self.log_change(request, user, "Issued a one-time enrolment code.")
            issued.append((user, code))
        if not issued:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "One-time enrolment codes",
            "issued": issued,
            "hours": settings.CSF_ENROLMENT_CODE_HOURS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/csf_portal/enrolment_codes.html", context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.acting_user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # Roles are written only by services.user_roles_set (which refuses self-changes
        # and an administrator holding a case-bearing role): never as raw groups or
        # permissions here. Superuser status is for the command line only.
        fixed = ("groups", "user_permissions", "is_superuser", "is_staff")
        if obj is not None and obj.pk == request.user.pk:
            # Nobody changes their own agency or switches themselves on or off.
            return (*fixed, "agency", "is_active")
        return fixed

    def save_model(self, request, obj, form, change):
        if not change:
            agency, obj.agency = obj.agency, None
            super().save_model(request, obj, form, change)
            services.user_agency_set(actor=request.user, user=obj, agency=agency)
            self._roles_set(request, obj, form)
            return
        stored = User.objects.get(pk=obj.pk)
        agency = obj.agency
        obj.agency_id = stored.agency_id
        services.user_change_check(
            actor=request.user, user=stored, agency=agency, is_active=obj.is_active
        )
        super().save_model(request, obj, form, change)
        services.user_agency_set(actor=request.user, user=obj, agency=agency)
        self._roles_set(request, obj, form)

    def _roles_set(self, request, obj, form):
        if "roles" in form.cleaned_data:
            services.user_roles_set(actor=request.user, user=obj, roles=form.cleaned_data["roles"])

    def has_delete_permission(self, request, obj=None):
        # Accounts are switched off (is_active), never deleted: history refers to them.
        return False


class FilterInputRefused(admin.ModelAdmin):
    """A list whose filters a user typed into the address (a year of forty digits) shows the
    admin's own "invalid filter" page instead of failing."""

    def changelist_view(self, request: Any, extra_context: Any = None) -> Any:
        from django.contrib.admin.views.main import ERROR_FLAG
        from django.http import HttpResponseRedirect

        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()  # the filters are applied when the list is read
        except (OverflowError, ValueError):
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return response


@admin.register(AccessEvent)
class AccessEventAdmin(FilterInputRefused):
    """Who read what, and when: never why. The reason for an emergency access is free text
    about the person, and administrators see no case content (DESIGN §2); the chairs read
    it on the emergency review page."""

    list_display = ("at", "user", "agency", "action", "object_type", "object_id")
    list_filter = ("action", "object_type", "at")  # a fixed set of periods: no typed-in year
    list_select_related = ("user", "agency")
    exclude = ("reason",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
