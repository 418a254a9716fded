"""Admin for the notifications app: rules and contacts (edited as on the pages); the SMS outbox
read-only, for a gateway operator to look at."""

from __future__ import annotations

from django.contrib import admin

from aquifer.core.admin import ReadOnlyAdmin
from aquifer.notifications.models import Contact, Rule, SmsOutbox


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("role", "event", "township", "min_severity", "inbox", "email", "sms", "active")
    list_filter = ("role", "event", "active")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "mobile")
    search_fields = ("user__username", "mobile")


@admin.register(SmsOutbox)
class SmsOutboxAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "mobile", "text", "state", "gateway_id", "sent_at")
    list_filter = ("state",)
