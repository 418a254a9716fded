# The scheduler's state moves from monitoring to core, where the scheduler is: the table is
# renamed, its rows kept.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_role_label"),
        ("monitoring", "0002_alarm_board_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobState",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=64, unique=True)),
                        ("next_due", models.DateTimeField(default=django.utils.timezone.now)),
                        ("lease_until", models.DateTimeField(blank=True, null=True)),
                        ("last_started", models.DateTimeField(blank=True, null=True)),
                        ("last_finished", models.DateTimeField(blank=True, null=True)),
                        ("last_ok", models.BooleanField(default=True)),
                        ("failures", models.PositiveIntegerField(default=0)),
                        ("runs", models.PositiveIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                    ],
                    options={
                        "verbose_name": "后台任务",
                        "verbose_name_plural": "后台任务",
                        "ordering": ["name"],
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE monitoring_jobstate RENAME TO core_jobstate",
                    "ALTER TABLE core_jobstate RENAME TO monitoring_jobstate",
                ),
            ],
        ),
    ]
