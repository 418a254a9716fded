"""The watermark's generation: bumped by every move of the mark and every rebuild of
rollups, so that a merge computed outside the write transaction (SQLite, the gateway
writer's upkeep thread) is applied only if neither happened meanwhile."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0005_rollupwatermark"),
    ]

    operations = [
        migrations.AddField(
            model_name="rollupwatermark",
            name="generation",
            field=models.BigIntegerField(default=0, verbose_name="版本"),
        ),
    ]
