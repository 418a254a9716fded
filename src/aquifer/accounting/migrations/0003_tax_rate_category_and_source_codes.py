"""Tax rate categories and the loaded sources as codes (issue 14 point 13).

The categories (税目) become codes with labels (``TaxCategory``), and the three sources 0002
loaded become codes of ``accounting.references.SOURCES``, so that both show in the reader's
language. A value this migration does not know (a category or source the bureau typed) is
left as it is; reversing restores the texts.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

CATEGORIES = {
    "农业生产取用水；农村集中式饮水工程": "agriculture",
    "农业超定额取用水；农村集中式饮水工程": "agriculture_over_quota",
    "城镇公共供水": "public_supply",
    "其他行业": "other",
    "地下水平均最低税额": "groundwater_average",
}
SOURCES = {
    "山西省财政厅、国家税务总局山西省税务局、山西省水利厅联合通知（新华社 2024-12-03 报道）"
    "；standards.md §5.2 [C][S16]": "shanxi_2024_notice",
    "山西省水资源税改革试点（2017-12-01 起）；standards.md §5.3 [C][S17]": "shanxi_2017_pilot",
    "超计划取水加征倍数：standards.md §5.2 [S20][U]（AI 摘要，低可信度）": "over_plan_multipliers",
}


def _convert(apps: Any, categories: dict[str, str], sources: dict[str, str]) -> None:
    TaxRate = apps.get_model("accounting", "TaxRate")
    TaxMultiplier = apps.get_model("accounting", "TaxMultiplier")
    # update(): a data migration's rename of stored codes, not a change the trail records
    for old, new in categories.items():
        TaxRate.objects.filter(category=old).update(category=new)
    for model in (TaxRate, TaxMultiplier):
        for old, new in sources.items():
            model.objects.filter(source=old).update(source=new)


def forward(apps: Any, schema_editor: Any) -> None:
    _convert(apps, CATEGORIES, SOURCES)


def backward(apps: Any, schema_editor: Any) -> None:
    _convert(
        apps,
        {v: k for k, v in CATEGORIES.items()},
        {v: k for k, v in SOURCES.items()},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0002_tax_rates"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.AlterField(
            model_name="taxrate",
            name="category",
            field=models.CharField(
                choices=[
                    ("agriculture", "农业生产取用水；农村集中式饮水工程"),
                    ("agriculture_over_quota", "农业超定额取用水；农村集中式饮水工程"),
                    ("public_supply", "城镇公共供水"),
                    ("other", "其他行业"),
                    ("groundwater_average", "地下水平均最低税额"),
                ],
                max_length=100,
                verbose_name="税目",
            ),
        ),
    ]
