"""Rollups are merged after the readings' commit, up to a watermark (telemetry.store).

The rollups of the readings already stored were merged at ingest, so the watermark starts
at the highest reading id there is."""

from django.db import migrations, models


def start_at_the_last_reading(apps, schema_editor):  # type: ignore[no-untyped-def]
    Reading = apps.get_model("telemetry", "Reading")
    RollupWatermark = apps.get_model("telemetry", "RollupWatermark")
    last = Reading.objects.order_by("-id").values_list("id", flat=True).first() or 0
    RollupWatermark.objects.update_or_create(
        pk=1, defaults={"reading_id": last, "window_end": last}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0004_reading_key_device_time_element"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupWatermark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reading_id",
                    models.BigIntegerField(default=0, verbose_name="已汇总至读数编号"),
                ),
                (
                    "window_end",
                    models.BigIntegerField(default=0, verbose_name="汇总窗口止于读数编号"),
                ),
                (
                    "next_device",
                    models.BigIntegerField(default=0, verbose_name="窗口内下一设备编号"),
                ),
                (
                    "device_step",
                    models.BigIntegerField(default=0, verbose_name="每段设备编号跨度"),
                ),
                (
                    "device_end",
                    models.BigIntegerField(default=0, verbose_name="窗口内设备编号上界"),
                ),
                (
                    "refreshed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="汇总时间"),
                ),
            ],
            options={
                "verbose_name": "汇总进度",
                "verbose_name_plural": "汇总进度",
            },
        ),
        migrations.RunPython(start_at_the_last_reading, migrations.RunPython.noop),
    ]
