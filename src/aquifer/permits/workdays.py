"""Working days in China: weekends and public holidays off, adjusted working days (调休) on.

Pure (no Django). The permit regulations count their deadlines in working days (取水许可和
水资源费征收管理条例 art. 13: 5, art. 19: 45). A working day is Monday to Friday unless the State
Council's holiday notice gives it off, plus the weekend days the notice makes working days.

Data, from the State Council General Office's notices (国务院办公厅关于 N 年部分节假日安排的
通知), as published by Xinhua:

- 2025: 国办发明电〔2024〕12号, 2024-11-12 (first year under the amended 全国年节及纪念日
  放假办法: Spring Festival and Labour Day one day longer);
- 2026: notice of 2025-11-04 (Xinhua, Beijing, 4 November 2025);
- 2027: not yet published when this was written — the calendar falls back to weekends only for
  2027 (``KNOWN_YEARS`` says which years are covered); add the notice's dates to the setting
  ``AQUIFER["PERMITS"]["HOLIDAYS"]`` / ``["EXTRA_WORKDAYS"]`` when it appears.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = [
    "HOLIDAYS",
    "KNOWN_YEARS",
    "WORKDAYS",
    "Calendar",
    "default_calendar",
]


def _span(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]


#: Days off that are not ordinary weekends' (the full holiday spans, weekends included).
HOLIDAYS: frozenset[date] = frozenset(
    [
        # 2025 (国办发明电〔2024〕12号)
        date(2025, 1, 1),
        *_span(date(2025, 1, 28), 8),  # 春节 1-28 … 2-4
        *_span(date(2025, 4, 4), 3),  # 清明 4-4 … 4-6
        *_span(date(2025, 5, 1), 5),  # 劳动节 5-1 … 5-5
        *_span(date(2025, 5, 31), 3),  # 端午 5-31 … 6-2
        *_span(date(2025, 10, 1), 8),  # 国庆、中秋 10-1 … 10-8
        # 2026 (notice of 2025-11-04)
        *_span(date(2026, 1, 1), 3),  # 元旦 1-1 … 1-3
        *_span(date(2026, 2, 15), 9),  # 春节 2-15 … 2-23
        *_span(date(2026, 4, 4), 3),  # 清明 4-4 … 4-6
        *_span(date(2026, 5, 1), 5),  # 劳动节 5-1 … 5-5
        *_span(date(2026, 6, 19), 3),  # 端午 6-19 … 6-21
        *_span(date(2026, 9, 25), 3),  # 中秋 9-25 … 9-27
        *_span(date(2026, 10, 1), 7),  # 国庆 10-1 … 10-7
    ]
)

#: Weekend days that the notices make working days (调休上班).
WORKDAYS: frozenset[date] = frozenset(
    [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
)

#: Years whose notice is in the data.
KNOWN_YEARS: frozenset[int] = frozenset({2025, 2026})


@dataclass(frozen=True)
class Calendar:
    """A working-day calendar: ``holidays`` off, ``workdays`` on, else Monday–Friday."""

    holidays: frozenset[date] = HOLIDAYS
    workdays: frozenset[date] = WORKDAYS
    known_years: frozenset[int] = field(default=KNOWN_YEARS)

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is a working day."""
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted; n ≥ 0).

        A deadline "within 45 working days of acceptance" ends on ``add_working_days(received,
        45)``; for n = 0 the answer is ``start``.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        d = start
        left = n
        while left > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start
        while d < end:
            d += timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return count

    def covers(self, d: date) -> bool:
        """True if the year of ``d`` has its holiday notice in the data."""
        return d.year in self.known_years


def default_calendar(
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    extra_years: Iterable[int] = (),
) -> Calendar:
    """The shipped calendar, extended by the settings' dates (e.g. the 2027 notice)."""
    return Calendar(
        HOLIDAYS | frozenset(extra_holidays),
        WORKDAYS | frozenset(extra_workdays),
        KNOWN_YEARS | frozenset(extra_years),
    )
