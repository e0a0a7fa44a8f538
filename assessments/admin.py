"""The instrument is edited as data here. A version in use is never changed: copy it."""

from __future__ import annotations

from django.contrib import admin, messages

from assessments import services
from assessments.models import Assessment, AssessmentTemplate, TemplateItem
from csf_portal.admin_versions import VersionCheckedAdmin


def _in_use(template: AssessmentTemplate | None) -> bool:
    return template is not None and Assessment.objects.filter(template=template).exists()


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    extra = 0
    fields = ("order", "code", "domain", "question", "options", "weight", "counts_double")

    def has_change_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_delete_permission(request, obj)


@admin.register(AssessmentTemplate)
class AssessmentTemplateAdmin(VersionCheckedAdmin):
    list_display = ("name", "version", "is_current", "created_at")
    list_filter = ("name", "is_current")
    inlines = [TemplateItemInline]
    actions = ["copy_to_new_version"]
    readonly_fields = ("name", "version", "is_current")

    def has_add_permission(self, request):
        return False  # versions are made by copying the current one

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_change_permission(request, obj)

    @admin.action(description="Copy to a new current version (to change the instrument)")
    def copy_to_new_version(self, request, queryset):
        for template in queryset:
            new = services.template_new_version(template=template)
            self.message_user(
                request,
                f"{new} created and made current. Its items can be edited until it is first used.",
                messages.SUCCESS,
            )
