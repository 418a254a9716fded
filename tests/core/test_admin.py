"""The admin shows what Aquifer makes itself (audit trail, job states, alarms, findings,
quarantined frames, the SMS outbox) and lets nobody add, change or delete it there."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client

from aquifer.core.admin import ReadOnlyAdmin

READ_ONLY = [
    "core.AuditEntry",
    "core.JobState",
    "monitoring.Alarm",
    "monitoring.ReadingFinding",
    "notifications.SmsOutbox",
    "telemetry.QuarantinedFrame",
]


@pytest.mark.parametrize("label", READ_ONLY)
def test_registered_read_only(label: str) -> None:
    from django.apps import apps

    model = apps.get_model(label)
    assert isinstance(admin.site._registry[model], ReadOnlyAdmin)


@pytest.mark.parametrize("label", READ_ONLY)
def test_superuser_cannot_add_change_or_delete(world: Any, label: str) -> None:
    from django.apps import apps

    from aquifer.core.models import User

    model = apps.get_model(label)
    root = User.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    client = Client()
    client.force_login(root)
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert client.get(base).status_code == 200
    assert client.get(base + "add/").status_code == 403
    obj = model._default_manager.first()
    if obj is not None:
        assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
        assert model._default_manager.filter(pk=obj.pk).exists()
