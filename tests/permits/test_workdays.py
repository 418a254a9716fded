"""The working-day calendar: the State Council notices' data (from chinese-calendar), and
invariants."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from aquifer.permits.workdays import KNOWN_YEARS, Calendar, default_calendar

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
    assert CAL.covers(date(2026, 1, 1)) and not CAL.covers(date(2100, 1, 1))


def test_package_covers_2022_to_2026_with_make_up_days() -> None:
    assert set(range(2022, 2027)) <= KNOWN_YEARS
    # 2022: 春节 1-31 … 2-6, with Saturdays 1-29 and 1-30 worked.
    assert CAL.is_working_day(date(2022, 1, 29)) and CAL.is_working_day(date(2022, 1, 30))
    assert not CAL.is_working_day(date(2022, 2, 4))  # a Friday off
    # 2023: 国庆 9-29 … 10-6; Saturday 10-7 and Sunday 10-8 worked.
    assert not CAL.is_working_day(date(2023, 10, 2))
    assert CAL.is_working_day(date(2023, 10, 7)) and CAL.is_working_day(date(2023, 10, 8))
    # 2024: 春节 2-10 … 2-17; Sunday 2-4 and Sunday 2-18 worked; 元旦 a Monday.
    assert CAL.is_working_day(date(2024, 2, 4))
    assert CAL.is_working_day(date(2024, 2, 18))
    assert not CAL.is_working_day(date(2024, 2, 15))  # a Thursday off
    assert not CAL.is_working_day(date(2024, 1, 1))
    assert CAL.is_working_day(date(2024, 9, 29))  # Sunday before 国庆
    # 2025: Sunday 1-26 worked, 10-1 … 10-8 off (国庆 with 中秋), Saturday 10-11 worked.
    assert CAL.is_working_day(date(2025, 1, 26))
    assert not any(CAL.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert CAL.is_working_day(date(2025, 10, 9)) and CAL.is_working_day(date(2025, 10, 11))
    # an ordinary weekend stays off
    assert not CAL.is_working_day(date(2025, 3, 8)) and not CAL.is_working_day(date(2025, 3, 9))


def test_45_working_days_across_spring_festival_2025() -> None:
    # Received Monday 2025-01-20. Counting: 1-21…1-24 (4), Sunday 1-26 (5), Monday 1-27 (6);
    # 1-28 … 2-4 off; Wednesday 2-5 is day 7, Saturday 2-8 is worked (day 10, after 2-5/6/7).
    received = date(2025, 1, 20)
    assert CAL.add_working_days(received, 6) == date(2025, 1, 27)
    assert CAL.add_working_days(received, 7) == date(2025, 2, 5)
    assert CAL.add_working_days(received, 10) == date(2025, 2, 8)
    # From 2-8 (day 10), 35 more ordinary working days: 7 weeks to Saturday 3-29, i.e. the
    # Friday before, 3-28. 清明 (4-4) is not reached.
    deadline = CAL.add_working_days(received, 45)
    assert deadline == date(2025, 3, 28)
    # Weekends only: six weekdays off less two make-up days = four working days earlier.
    assert Calendar(frozenset(), frozenset()).add_working_days(received, 45) == date(2025, 3, 24)
    assert CAL.working_days_between(received, deadline) == 45


def test_a_year_beyond_the_data_counts_weekends_only_and_says_so() -> None:
    far = max(KNOWN_YEARS) + 1
    monday = next(date(far, 1, d) for d in range(1, 8) if date(far, 1, d).weekday() == 0)
    assert not CAL.covers(monday)
    # 1 January of an unknown year is a plain weekday unless it falls on a weekend.
    assert CAL.is_working_day(monday) and CAL.add_working_days(monday, 5).weekday() == 0
    assert CAL.uncovered_years(date(far - 1, 12, 1), monday) == [far]
    assert CAL.uncovered_years(monday, date(far - 1, 12, 1)) == [far]
    assert CAL.uncovered_years(date(2025, 1, 1), date(2026, 12, 31)) == []


def test_deadline_over_spring_festival() -> None:
    # Received Friday 2026-02-13: the 14th (Sat) works, 15–23 off, then from the 24th.
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_settings_extend_the_calendar() -> None:
    cal = default_calendar([date(2027, 2, 8)], [date(2027, 2, 6)], [2027])
    assert not cal.is_working_day(date(2027, 2, 8)) and cal.is_working_day(date(2027, 2, 6))
    assert cal.covers(date(2027, 5, 1))
    assert cal.uncovered_years(date(2026, 12, 1), date(2027, 2, 1)) == []


@given(st.dates(date(2024, 6, 1), date(2027, 6, 1)), st.integers(0, 80))
def test_add_and_count_agree(start: date, n: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    assert n == 0 or CAL.is_working_day(end)
    assert CAL.working_days_between(end, start) == -n
