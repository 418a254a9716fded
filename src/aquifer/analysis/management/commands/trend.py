"""``aquifer trend SERIES.csv [--value-is depth|level]``: trend test of one series, no database.

SERIES.csv has the columns ``time`` (ISO 8601, e.g. ``2024-03-01`` or ``2024-03-01 08:00``) and
``value`` (m). Prints one JSON object: ``trend`` ("increasing", "decreasing", "no trend" or "not
enough data"), ``p``, ``tau``, ``z``, ``slope_per_year`` (Sen's slope, value units per year) and
``status`` (falling / stabilised / rising, of the water level), plus the test used and the
details of the status rule (see docs/analysis.md). A bad row gives one line naming the row and
the column, and exit status 1.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aquifer.analysis.trends import StatusParams, assess
from aquifer.core.csvinput import read_rows


def parse_time(text: str) -> datetime:
    """ISO 8601 date or date-time (``/`` accepted for ``-``); an offset is dropped after
    conversion to China Standard Time (UTC+8)."""
    t = datetime.fromisoformat(text.strip().replace("/", "-"))
    if t.tzinfo is not None:
        from datetime import timedelta, timezone

        t = t.astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)
    return t


def read_series(path: str) -> tuple[list[datetime], list[float]]:
    times: list[datetime] = []
    values: list[float] = []
    for line, row in read_rows(path, ("time", "value")):
        try:
            times.append(parse_time(row["time"] or ""))
        except ValueError:
            raise CommandError(
                _("第 %(row)d 行，列 “%(column)s”：无法识别的时间 “%(text)s”")
                % {"row": line, "column": "time", "text": row["time"]}
            ) from None
        try:
            value = float(row["value"] or "")
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            raise CommandError(
                _("第 %(row)d 行，列 “%(column)s”：不是数字 “%(text)s”")
                % {"row": line, "column": "value", "text": row["value"]}
            ) from None
        values.append(value)
    return times, values


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "趋势检验：对一个 CSV 序列（列 time、value）做 Mann-Kendall 检验和 Sen 斜率，"
            "判定水位止降返升状态，以 JSON 输出。"
        )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = StatusParams()
        parser.add_argument("series", metavar="SERIES.csv", help=_("序列文件（列 time、value）"))
        parser.add_argument(
            "--value-is",
            choices=["depth", "level"],
            default="depth",
            help=_("value 是埋深（depth，默认）还是水位（level）"),
        )
        parser.add_argument(
            "--alpha", type=float, default=defaults.alpha, help=_("显著性水平（默认 0.05）")
        )
        parser.add_argument(
            "--min-months",
            type=int,
            default=defaults.min_months,
            help=_("至少需要的月均值个数，少于此数输出“数据不足”（默认 12）"),
        )
        parser.add_argument(
            "--window-years",
            type=int,
            default=defaults.window_years,
            help=_("判定止降返升状态的近期窗口（年，默认 5）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        times, values = read_series(options["series"])
        params = StatusParams(
            alpha=options["alpha"],
            min_months=options["min_months"],
            window_years=options["window_years"],
        )
        result = assess(times, values, options["value_is"], params)
        self.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
