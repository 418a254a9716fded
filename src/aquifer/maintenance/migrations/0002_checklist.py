"""The default patrol checklist (configurable afterwards on the checklist page)."""

from typing import Any

from django.db import migrations

ITEMS = [
    ("seal", "铅封完好", "计量设施铅封、封签无破损"),
    ("meter_legible", "表计读数清晰", "表盘或显示屏读数可辨认"),
    ("power", "供电正常", "市电、太阳能板、蓄电池工作正常"),
    ("communication", "通信正常", "信号灯、最近上报时间正常"),
    ("enclosure", "设备箱完好", "井房、设备箱门锁完好，无进水"),
    ("signage", "标识标牌齐全", "取水井标识牌、二维码清晰"),
]


def create(apps: Any, schema_editor: Any) -> None:
    ChecklistItem = apps.get_model("maintenance", "ChecklistItem")
    for order, (code, label, help_text) in enumerate(ITEMS, start=1):
        ChecklistItem.objects.get_or_create(
            code=code, defaults={"label": label, "help_text": help_text, "order": order * 10}
        )


def remove(apps: Any, schema_editor: Any) -> None:
    apps.get_model("maintenance", "ChecklistItem").objects.filter(
        code__in=[c for c, _, _ in ITEMS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("maintenance", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
