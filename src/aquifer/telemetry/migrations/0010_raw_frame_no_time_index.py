"""The raw-frame archive without its index on the reception time: ids ascend with reception,
so the retention job finds its cutoff by the key (telemetry/archive.py), and the gateway writes
one index fewer per frame. Dropped by name, not by AlterField, which on SQLite would rebuild
the table and with it lose the append-only triggers of 0009."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0009_raw_frame_archive"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "telemetry_rawframe_received_at_6d499c00"',
                    'CREATE INDEX "telemetry_rawframe_received_at_6d499c00" '
                    'ON "telemetry_rawframe" ("received_at")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="rawframe",
                    name="received_at",
                    field=models.DateTimeField(verbose_name="接收时间"),
                ),
            ],
        )
    ]
