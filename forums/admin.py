"""Administrators keep the forums' standing membership: who sits on each forum, for which agency."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from forums.models import Forum, ForumMembership


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    readonly_fields = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ForumMembership)
class ForumMembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "agency", "forum", "role", "joined_on", "left_on")
    list_filter = ("forum", "role", "left_on")
    list_select_related = ("user", "agency", "forum")
    search_fields = ("user__username", "user__first_name", "user__last_name", "agency__name")
    autocomplete_fields = ("user",)
    fields = ("forum", "user", "role", "joined_on", "left_on")

    def save_model(self, request, obj, form, change):
        # The member sits for the agency they work for; leaving is recorded, never deleted.
        obj.agency_id = obj.user.agency_id
        obj._history_user = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False
