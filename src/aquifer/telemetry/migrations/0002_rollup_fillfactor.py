"""PostgreSQL: leave room in rollup pages so that their frequent updates stay HOT.

Every batch updates the touched hourly and daily rows in place (a day's row of a 15-minute
series is updated 96 times). With free space on the page PostgreSQL makes these heap-only
tuple updates: no new index entries, no index bloat. SQLite needs nothing.
"""

from django.db import migrations

TABLES = ("telemetry_readinghourly", "telemetry_readingdaily")


def set_fillfactor(apps, schema_editor, value=70):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
