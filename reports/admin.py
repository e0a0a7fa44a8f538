"""Administrators set the unit costs behind the dashboard's cost estimates."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from csf_portal.admin_versions import VersionCheckedAdmin
from reports import services
from reports.models import UnitCost


@admin.register(UnitCost)
class UnitCostAdmin(VersionCheckedAdmin, SimpleHistoryAdmin):
    list_display = ("item", "amount", "is_placeholder", "source")
    fields = ("item", "amount", "source", "is_placeholder")
    readonly_fields = ("item",)

    def save_model(self, request, obj, form, change):
        # Changing a figure (or reverting to an old one) goes through the service.
        services.unit_cost_update(
            actor=request.user,
            unit_cost=obj,
            amount=obj.amount,
            source=obj.source,
            is_placeholder=obj.is_placeholder,
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
