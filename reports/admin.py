"""Administrators set the unit costs behind the dashboard's cost estimates."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from reports.models import UnitCost


@admin.register(UnitCost)
class UnitCostAdmin(SimpleHistoryAdmin):
    list_display = ("item", "amount", "is_placeholder", "source")
    fields = ("item", "amount", "source", "is_placeholder")
    readonly_fields = ("item",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
