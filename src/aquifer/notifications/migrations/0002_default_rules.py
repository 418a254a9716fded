"""Default notification rules (docs/notifications.md): the bureau gets everything, township
officers their township's alarms and water-quality warnings, everybody what names them (a
water user's own devices and permits, a ticket assigned to an officer); SMS for critical."""

from typing import Any

from django.db import migrations

DEFAULTS: list[dict[str, Any]] = [
    {"role": "bureau", "event": "*", "inbox": True, "email": True},
    {"role": "bureau", "event": "*", "inbox": False, "sms": True, "min_severity": "critical"},
    {"role": "township", "event": "alarm.opened", "inbox": True, "email": True},
    {"role": "township", "event": "alarm.opened", "inbox": False, "sms": True,
     "min_severity": "critical"},
    {"role": "township", "event": "alarm.escalated", "inbox": True, "email": True, "sms": True,
     "min_severity": "warning"},
    {"role": "township", "event": "quality.warning", "inbox": True, "email": True},
    {"role": "township", "event": "*", "addressed_only": True, "inbox": True, "email": True},
    {"role": "inspector", "event": "*", "addressed_only": True, "inbox": True, "email": True},
    {"role": "water_user", "event": "*", "addressed_only": True, "inbox": True, "email": True},
    {"role": "water_user", "event": "*", "addressed_only": True, "inbox": False, "sms": True,
     "min_severity": "critical"},
]


def create(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("notifications", "Rule")
    if Rule.objects.exists():
        return
    for row in DEFAULTS:
        Rule.objects.create(**row)


def remove(apps: Any, schema_editor: Any) -> None:
    apps.get_model("notifications", "Rule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
