"""``aquifer quality classify SAMPLES.csv``: GB/T 14848-2017 classes of lab samples, no database.

SAMPLES.csv has one row per sample and indicator, columns ``sample_id``, ``indicator`` (named
as in the standard's Chinese, or its English name), ``value`` (a number, 无/有, or empty / ND /
未检出 / "<x" for a non-detect), ``unit`` and ``detection_limit`` (in ``unit``; needed for a
non-detect). Prints a JSON list, one object per sample in order of first appearance:
``sample_id``, ``class`` ("I"…"V", or null when no indicator is definite), ``deciding`` (the
indicators that set it), ``indicators`` (each indicator's class; "≤III" for a non-detect whose
detection limit is above the class I limit) and ``notes``. A bad row gives one line naming the
row and the column, and exit status 1.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from aquifer.analysis.quality import (
    IndicatorResult,
    QualityError,
    classify,
    overall_class,
)
from aquifer.core.csvinput import read_rows, row_error

COLUMNS = ("sample_id", "indicator", "value", "unit", "detection_limit")


def classify_file(path: str) -> list[dict[str, Any]]:
    samples: dict[str, list[IndicatorResult]] = {}
    for line, row in read_rows(path, COLUMNS):
        sample_id = (row["sample_id"] or "").strip()
        if not sample_id:
            raise row_error(line, "sample_id", _("样品编号为空"))
        dl_text = (row["detection_limit"] or "").strip()
        try:
            try:
                dl = float(dl_text) if dl_text else None
            except ValueError:
                raise QualityError(f"not a number: {dl_text!r}", "detection_limit") from None
            result = classify(row["indicator"] or "", row["value"] or "", row["unit"] or "", dl)
        except QualityError as exc:
            raise row_error(line, exc.field, exc) from None
        results = samples.setdefault(sample_id, [])
        if any(r.indicator == result.indicator for r in results):
            raise row_error(line, "indicator", _("同一样品中指标重复"))
        results.append(result)
    out = []
    for sample_id, results in samples.items():
        klass, deciding = overall_class(results)
        out.append(
            {
                "sample_id": sample_id,
                "class": None if klass is None else ["I", "II", "III", "IV", "V"][klass - 1],
                "deciding": list(deciding),
                "indicators": {r.indicator: r.label for r in results},
                "notes": sorted({f"{r.indicator}: {n}" for r in results for n in r.notes}),
            }
        )
    return out


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("水质评价：按 GB/T 14848-2017 对化验样品逐项和综合评定 I–V 类，以 JSON 输出。")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="classify")
        what = _("按 GB/T 14848-2017 评定样品类别 (classify samples)")
        p = sub.add_parser("classify", help=what, description=what)
        p.add_argument(
            "samples",
            metavar="SAMPLES.csv",
            help=_("样品文件（列 sample_id、indicator、value、unit、detection_limit）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = classify_file(options["samples"])
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
