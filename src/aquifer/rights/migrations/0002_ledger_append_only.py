"""Make the water-rights ledger append-only in the database itself (as core 0002 does for the
audit trail): triggers refuse UPDATE and DELETE of journals and entries on SQLite, and UPDATE,
DELETE and TRUNCATE on PostgreSQL."""

from django.db import migrations

TABLES = ("rights_journal", "rights_entry")
MESSAGE = "the water-rights ledger is append-only"


def _sqlite_up(table):
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    ]


def _sqlite_down(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


PG_FUNCTION = f"""CREATE OR REPLACE FUNCTION rights_ledger_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END;
$$ LANGUAGE plpgsql;"""


def _pg_up(table):
    return [
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION rights_ledger_append_only();",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION rights_ledger_append_only();",
    ]


def _pg_down(table):
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
    ]


UP = {
    "sqlite": [s for t in TABLES for s in _sqlite_up(t)],
    "postgresql": [PG_FUNCTION] + [s for t in TABLES for s in _pg_up(t)],
}
DOWN = {
    "sqlite": [s for t in TABLES for s in _sqlite_down(t)],
    "postgresql": [s for t in TABLES for s in _pg_down(t)]
    + ["DROP FUNCTION IF EXISTS rights_ledger_append_only();"],
}


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("rights", "0001_initial")]

    operations = [migrations.RunPython(_run(UP), _run(DOWN))]
