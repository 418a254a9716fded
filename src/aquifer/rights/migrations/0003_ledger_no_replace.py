"""Refuse an INSERT that would replace a ledger row (SQLite's ``INSERT OR REPLACE`` deletes the
conflicting row without firing 0002's DELETE trigger unless recursive triggers are on).
PostgreSQL's ``INSERT … ON CONFLICT DO UPDATE`` fires the UPDATE trigger and is refused already.
"""

from django.db import migrations

TABLES = ("rights_journal", "rights_entry")
MESSAGE = "the water-rights ledger is append-only"

UP = [
    f"CREATE TRIGGER {t}_no_replace BEFORE INSERT ON {t} "
    f"WHEN EXISTS (SELECT 1 FROM {t} WHERE id = NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
    for t in TABLES
]
DOWN = [f"DROP TRIGGER IF EXISTS {t}_no_replace;" for t in TABLES]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("rights", "0002_ledger_append_only")]

    operations = [migrations.RunPython(_run(UP), _run(DOWN))]
