"""Working days in China: weekends and public holidays off, adjusted working days (调休) on.

Pure (no Django). The permit regulations count their deadlines in working days (取水许可和
水资源费征收管理条例 art. 13: 5, art. 19: 45). A working day is Monday to Friday unless the State
Council's holiday notice gives it off, plus the weekend days the notice makes working days.

Data: the ``chinese-calendar`` package (module ``chinese_calendar``), which transcribes the State
Council General Office's yearly notices (国务院办公厅关于 N 年部分节假日安排的通知): its
``holidays`` (days off, whole spans including their weekends) and ``workdays`` (the weekend days
made working days). Its maintainers publish a release soon after each notice (November or
December); upgrading the package is how the bureau takes in a new year.

A year beyond the package's data (``KNOWN_YEARS``; 2004–2026 with chinese-calendar 1.11) is not
refused: it counts weekends only, ``Calendar.covers`` / ``Calendar.uncovered_years`` say so, and
the permits API marks a deadline that depends on such a year as provisional. A bureau cannot
stop accepting applications in December because next year's notice is not out; it can add the
notice's dates through the settings ``AQUIFER["PERMITS"]["HOLIDAYS"]`` / ``["EXTRA_WORKDAYS"]``
/ ``["HOLIDAY_YEARS"]`` until the package catches up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

__all__ = [
    "HOLIDAYS",
    "KNOWN_YEARS",
    "WORKDAYS",
    "Calendar",
    "default_calendar",
]


def _dates(data: Iterable[object]) -> frozenset[date]:
    # chinese_calendar's tables are dicts keyed by datetime.date (the package is untyped).
    return frozenset(d for d in data if isinstance(d, date))


#: Days off that are not ordinary weekends' (the full holiday spans, weekends included).
HOLIDAYS: frozenset[date] = _dates(chinese_calendar.holidays)

#: Weekend days that the notices make working days (调休上班).
WORKDAYS: frozenset[date] = _dates(chinese_calendar.workdays)

#: Years whose notice is in the data (the package's range: its first to its last holiday).
KNOWN_YEARS: frozenset[int] = frozenset(
    range(min(d.year for d in HOLIDAYS), max(d.year for d in HOLIDAYS) + 1)
)


@dataclass(frozen=True)
class Calendar:
    """A working-day calendar: ``holidays`` off, ``workdays`` on, else Monday–Friday."""

    holidays: frozenset[date] = HOLIDAYS
    workdays: frozenset[date] = WORKDAYS
    known_years: frozenset[int] = field(default=KNOWN_YEARS)

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is a working day (weekends only in a year the data does not cover)."""
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

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """The years in [start, end] (either order) counted by weekends only, ascending."""
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if y not in self.known_years]


def default_calendar(
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    extra_years: Iterable[int] = (),
) -> Calendar:
    """The package's calendar, extended by the settings' dates (e.g. a notice it lacks yet)."""
    return Calendar(
        HOLIDAYS | frozenset(extra_holidays),
        WORKDAYS | frozenset(extra_workdays),
        KNOWN_YEARS | frozenset(extra_years),
    )
