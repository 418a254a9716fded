"""Notification events of the portal's complaints (issue 18): a complaint filed, a complaint
past its reply deadline. Township officers get both for their township (inbox and e-mail);
the bureau already gets every event (0002's "*" rule)."""

from typing import Any

from django.db import migrations, models

RULES = [
    {"role": "township", "event": "complaint.filed", "inbox": True, "email": True},
    {"role": "township", "event": "complaint.overdue", "inbox": True, "email": True},
]


def create(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("notifications", "Rule")
    for row in RULES:
        if not Rule.objects.filter(role=row["role"], event=row["event"]).exists():
            Rule.objects.create(**row)


def remove(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("notifications", "Rule")
    for row in RULES:
        Rule.objects.filter(role=row["role"], event=row["event"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_events_supervision"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notice",
            name="event",
            field=models.CharField(
                choices=[
                    ("alarm.opened", "告警产生"),
                    ("alarm.escalated", "告警升级"),
                    ("ticket.assigned", "工单派发"),
                    ("ticket.closed", "工单关闭"),
                    ("permit.decided", "许可审批结果"),
                    ("permit.deadline", "许可到期提醒"),
                    ("trade.announced", "交易公示"),
                    ("trade.completed", "交易完成"),
                    ("quality.warning", "水质预警"),
                    ("complaint.filed", "收到公众举报"),
                    ("complaint.overdue", "举报答复超期"),
                ],
                max_length=32,
                verbose_name="事件",
            ),
        ),
        migrations.AlterField(
            model_name="rule",
            name="event",
            field=models.CharField(
                choices=[
                    ("*", "全部事件"),
                    ("alarm.opened", "告警产生"),
                    ("alarm.escalated", "告警升级"),
                    ("ticket.assigned", "工单派发"),
                    ("ticket.closed", "工单关闭"),
                    ("permit.decided", "许可审批结果"),
                    ("permit.deadline", "许可到期提醒"),
                    ("trade.announced", "交易公示"),
                    ("trade.completed", "交易完成"),
                    ("quality.warning", "水质预警"),
                    ("complaint.filed", "收到公众举报"),
                    ("complaint.overdue", "举报答复超期"),
                ],
                default="*",
                max_length=32,
                verbose_name="事件",
            ),
        ),
        migrations.RunPython(create, remove),
    ]
