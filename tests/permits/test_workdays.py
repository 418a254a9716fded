"""The working-day calendar: the State Council notices' data, and invariants."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from aquifer.permits.workdays import default_calendar

CAL = default_calendar()


def test_notice_days() -> None:
    assert not CAL.is_working_day(date(2025, 1, 28))  # 春节 2025
    assert CAL.is_working_day(date(2025, 1, 26))  # Sunday made a working day
    assert CAL.is_working_day(date(2025, 2, 8))
    assert not CAL.is_working_day(date(2025, 10, 8))
    assert CAL.is_working_day(date(2025, 10, 11))  # Saturday
    assert not CAL.is_working_day(date(2026, 2, 23))  # 春节 2026, a Monday
    assert CAL.is_working_day(date(2026, 2, 28))  # Saturday
    assert not CAL.is_working_day(date(2026, 9, 25))  # 中秋 2026
    assert CAL.is_working_day(date(2026, 10, 10))
    assert CAL.covers(date(2026, 1, 1)) and not CAL.covers(date(2027, 1, 1))


def test_deadline_over_spring_festival() -> None:
    # Received Friday 2026-02-13: the 14th (Sat) works, 15–23 off, then from the 24th.
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_settings_extend_the_calendar() -> None:
    cal = default_calendar([date(2027, 2, 8)], [date(2027, 2, 6)], [2027])
    assert not cal.is_working_day(date(2027, 2, 8)) and cal.is_working_day(date(2027, 2, 6))
    assert cal.covers(date(2027, 5, 1))


@given(st.dates(date(2024, 6, 1), date(2027, 6, 1)), st.integers(0, 80))
def test_add_and_count_agree(start: date, n: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    assert n == 0 or CAL.is_working_day(end)
    assert CAL.working_days_between(end, start) == -n
