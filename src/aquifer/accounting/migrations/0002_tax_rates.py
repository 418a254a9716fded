"""Load the Shanxi water resource tax rates and multipliers (standards.md §5).

Each row carries its source and whether standards.md confirms it; [U] items are loaded with
``confirmed=False`` and say why in ``notes``. The bureau edits them in the admin (audited).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import migrations

S16 = (
    "山西省财政厅、国家税务总局山西省税务局、山西省水利厅联合通知（新华社 2024-12-03 报道）"
    "；standards.md §5.2 [C][S16]"
)
S17 = "山西省水资源税改革试点（2017-12-01 起）；standards.md §5.3 [C][S17]"
S20 = "超计划取水加征倍数：standards.md §5.2 [S20][U]（AI 摘要，低可信度）"
D2017 = dt.date(2017, 12, 1)
E2017 = dt.date(2024, 11, 30)
D2024 = dt.date(2024, 12, 1)

# (water, use_type, category, rate, share, exempt_within_quota, from, until, source, ok, notes)
RATES: list[tuple[Any, ...]] = [
    (
        "groundwater",
        "agricultural",
        "农业生产取用水；农村集中式饮水工程",
        "0.2",
        "1",
        True,
        D2024,
        None,
        S16,
        False,
        "税额已核实；定额内免征依据2017年框架（standards.md §5.4 [U]），待确认。",
    ),
    (
        "groundwater",
        "domestic",
        "城镇公共供水",
        "2",
        "0.91",
        False,
        D2024,
        None,
        S16,
        True,
        "公共供水企业允许管网损耗 9%（计税水量 = 取水量 × 91%）。"
        "“生活”用水按城镇公共供水计，为本系统的归类假设。",
    ),
    ("groundwater", "industrial", "其他行业", "4", "1", False, D2024, None, S16, True, ""),
    (
        "groundwater",
        "service",
        "其他行业",
        "4",
        "1",
        False,
        D2024,
        None,
        S16,
        True,
        "特种取用水（洗车、洗浴、高尔夫等）税额 20 元/m³，需按户另设。",
    ),
    (
        "groundwater",
        "ecological",
        "其他行业",
        "4",
        "1",
        False,
        D2024,
        None,
        S16,
        False,
        "生态用水适用哪一税目，参考资料未说明，待确认。",
    ),
    (
        "surface",
        "agricultural",
        "农业生产取用水；农村集中式饮水工程",
        "0.05",
        "1",
        True,
        D2024,
        None,
        S16,
        False,
        "定额内免征（standards.md §5.4 [U]），待确认。",
    ),
    ("surface", "domestic", "城镇公共供水", "0.5", "0.91", False, D2024, None, S16, True, ""),
    ("surface", "industrial", "其他行业", "1", "1", False, D2024, None, S16, True, ""),
    ("surface", "service", "其他行业", "1", "1", False, D2024, None, S16, True, ""),
    (
        "surface",
        "ecological",
        "其他行业",
        "1",
        "1",
        False,
        D2024,
        None,
        S16,
        False,
        "生态用水适用哪一税目，待确认。",
    ),
    (
        "groundwater",
        "agricultural",
        "农业超定额取用水；农村集中式饮水工程",
        "0.1",
        "1",
        True,
        D2017,
        E2017,
        S17,
        False,
        "税额已核实；定额内免征（standards.md §5.4 [U]），待确认。",
    ),
]
for use in ("domestic", "industrial", "service", "ecological"):
    RATES.append(
        (
            "groundwater",
            use,
            "地下水平均最低税额",
            "2",
            "1",
            False,
            D2017,
            E2017,
            "standards.md §5.1 [U]",
            False,
            "2017年试点山西地下水平均最低税额 2.0 元/m³（待确认），各行业具体税额未查到。",
        )
    )

# (kind, above_pct, factor, from, until, source, ok, notes)
MULTIPLIERS: list[tuple[Any, ...]] = [
    ("over_quota", "0", "2", D2024, None, S20, False, "超计划 20% 以内。"),
    ("over_quota", "20", "2.5", D2024, None, S20, False, "超计划 20%–40%。"),
    ("over_quota", "40", "3", D2024, None, S20, False, "超计划 40% 以上。"),
    ("overexploited", "0", "2", D2017, E2017, S17, True, ""),
    (
        "overexploited",
        "0",
        "2",
        D2024,
        None,
        S17,
        False,
        "2024年通知是否保留超采区加倍，standards.md §5.2 [U]。",
    ),
    ("seriously_overexploited", "0", "3", D2017, E2017, S17, True, ""),
    (
        "seriously_overexploited",
        "0",
        "3",
        D2024,
        None,
        S17,
        False,
        "2024年通知是否保留严重超采区加倍，standards.md §5.2 [U]。",
    ),
]


def load(apps: Any, schema_editor: Any) -> None:
    TaxRate = apps.get_model("accounting", "TaxRate")
    TaxMultiplier = apps.get_model("accounting", "TaxMultiplier")
    for water, use, cat, rate, share, exempt, frm, until, src, ok, notes in RATES:
        TaxRate.objects.create(
            water=water,
            use_type=use,
            category=cat,
            yuan_per_m3=Decimal(rate),
            taxable_share=Decimal(share),
            exempt_within_quota=exempt,
            effective_from=frm,
            effective_until=until,
            source=src,
            confirmed=ok,
            notes=notes,
        )
    for kind, above, factor, frm, until, src, ok, notes in MULTIPLIERS:
        TaxMultiplier.objects.create(
            kind=kind,
            above_pct=Decimal(above),
            factor=Decimal(factor),
            effective_from=frm,
            effective_until=until,
            source=src,
            confirmed=ok,
            notes=notes,
        )


def unload(apps: Any, schema_editor: Any) -> None:
    apps.get_model("accounting", "TaxRate").objects.all().delete()
    apps.get_model("accounting", "TaxMultiplier").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
