"""Administrators keep the forums' standing membership: who sits on each forum, for which agency."""

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from csf_portal.admin_versions import VersionCheckedAdmin
from csf_portal.errors import DomainError
from csf_portal.models import User
from forums import services
from forums.models import Forum, ForumMembership


@admin.register(Forum)
class ForumAdmin(VersionCheckedAdmin):
    list_display = ("name", "kind")
    readonly_fields = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _MembershipRules:
    """Added to the admin's form: the services' own rules, so a refusal shows on the field.

    Not a form of its own (the admin's form never saves: ``save_model`` calls the service).
    """

    acting_user: User | None = None
    instance: ForumMembership
    fields: dict
    add_error: Any

    def clean(self):
        cleaned = super().clean()  # type: ignore[misc]
        stored = ForumMembership.objects.get(pk=self.instance.pk) if self.instance.pk else None
        user = stored.user if stored else cleaned.get("user")
        if user is None or self.acting_user is None:
            return cleaned
        try:
            services.membership_check(
                actor=self.acting_user,
                user=user,
                membership=stored,
                joined_on=cleaned.get("joined_on"),
                left_on=cleaned.get("left_on"),
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return cleaned


@admin.register(ForumMembership)
class ForumMembershipAdmin(VersionCheckedAdmin, SimpleHistoryAdmin):
    """Membership gives meeting-window access to cases: every save goes through a service."""

    list_display = ("user", "agency", "forum", "role", "joined_on", "left_on")
    list_filter = ("forum", "role", "left_on")
    list_select_related = ("user", "agency", "forum")
    search_fields = ("user__username", "user__first_name", "user__last_name", "agency__name")
    autocomplete_fields = ("user",)

    def get_fields(self, request, obj=None):
        # Leaving is recorded on an existing membership; a new one starts current.
        if obj is None:
            return ("forum", "user", "role", "joined_on")
        return ("forum", "user", "role", "joined_on", "left_on")

    def get_readonly_fields(self, request, obj=None):
        # Another person or forum is a new membership, not an edit of this one.
        return ("forum", "user") if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # An ended membership is kept as a record: shown, never edited.
        if obj is not None and obj.left_on is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (_MembershipRules, form), {"acting_user": request.user})

    def save_model(self, request, obj, form, change):
        # The member sits for the agency they work for; leaving is recorded, never deleted.
        if change:
            services.membership_update(
                actor=request.user,
                membership=obj,
                role=obj.role,
                joined_on=obj.joined_on,
                left_on=obj.left_on,
            )
            return
        created = services.membership_add(
            actor=request.user,
            forum=obj.forum,
            user=obj.user,
            role=obj.role,
            joined_on=obj.joined_on,
        )
        obj.pk, obj.agency_id = created.pk, created.agency_id
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False
