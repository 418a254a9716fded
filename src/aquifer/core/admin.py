"""Admin for accounts, API tokens and the audit trail (read-only: it is append-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from aquifer.core.models import ApiToken, AuditEntry, JobState, User


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """For records made by Aquifer itself (the audit trail, job states, alarms, outboxes):
    the admin shows them; nobody adds, changes or deletes them there."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("角色与管辖范围"), {"fields": ("role", "township", "water_user")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("角色与管辖范围"), {"fields": ("role", "township", "water_user")}),
    )
    list_display = ("username", "role", "township", "water_user", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff", "township")
    autocomplete_fields = ("water_user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are issued by ``aquifer token create`` (the clear key is shown once); here they
    can only be looked at and revoked."""

    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail, to read: nobody adds, changes or deletes entries."""

    list_display = ("time", "username", "source", "action", "object_type", "object_repr")
    list_filter = ("action", "source", "object_type")
    search_fields = ("object_repr", "object_id", "username", "request_id")
    date_hierarchy = "time"

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in AuditEntry._meta.fields]


@admin.register(JobState)
class JobStateAdmin(ReadOnlyAdmin):
    list_display = ("name", "next_due", "last_finished", "last_ok", "failures", "runs")
