"""The audit trail's hash chain (core.chain) and security events; an INSERT that would replace
an existing entry is refused.

SQLite: ``INSERT OR REPLACE`` deletes the conflicting row without firing DELETE triggers (unless
recursive triggers are on), so 0002's triggers did not stop it; a BEFORE INSERT trigger now
refuses a row whose id exists. (On PostgreSQL, ``INSERT … ON CONFLICT DO UPDATE`` fires the
UPDATE trigger and is refused already.)

The append-only triggers are dropped for the length of this migration (the new columns of the
existing rows must be filled in; on SQLite, altering a column rebuilds the table and its
triggers with it) and created again at its end. The migration is one transaction.
"""

import importlib

from django.db import migrations, models

TABLE = "core_auditentry"
MESSAGE = "audit entries are append-only"

_0002 = importlib.import_module("aquifer.core.migrations.0002_audit_append_only")

NO_REPLACE = [
    f"CREATE TRIGGER {TABLE}_no_replace BEFORE INSERT ON {TABLE} "
    f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
]
NO_REPLACE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_no_replace;"]

PROTECT = {"sqlite": _0002.SQLITE_UP + NO_REPLACE, "postgresql": _0002.PG_UP}
UNPROTECT = {"sqlite": _0002.SQLITE_DOWN + NO_REPLACE_DOWN, "postgresql": _0002.PG_DOWN}


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


def seal(apps, schema_editor):
    """Hash the existing entries in id order, each chained to the one before."""
    from aquifer.core.chain import entry_hash

    AuditEntry = apps.get_model("core", "AuditEntry")
    db = schema_editor.connection.alias
    previous, batch = "", []
    for entry in AuditEntry.objects.using(db).order_by("id").iterator(chunk_size=2000):
        entry.prev_hash = previous
        entry.entry_hash = previous = entry_hash(entry)
        batch.append(entry)
        if len(batch) >= 1000:
            AuditEntry.objects.using(db).bulk_update(batch, ["prev_hash", "entry_hash"])
            batch = []
    if batch:
        AuditEntry.objects.using(db).bulk_update(batch, ["prev_hash", "entry_hash"])


class Migration(migrations.Migration):
    dependencies = [("core", "0004_jobstate")]

    operations = [
        migrations.RunPython(_run(UNPROTECT), _run(PROTECT)),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "新建"),
                    ("update", "修改"),
                    ("delete", "删除"),
                    ("login", "登录"),
                    ("login_failed", "登录失败"),
                    ("lockout", "账号锁定"),
                    ("denied", "拒绝访问"),
                    ("expired", "会话超时"),
                ],
                max_length=16,
                verbose_name="操作",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="前一条哈希"
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="哈希"),
        ),
        migrations.RunPython(seal, migrations.RunPython.noop),
        migrations.RunPython(_run(PROTECT), _run(UNPROTECT)),
    ]
