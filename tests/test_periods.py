"""Thai calendars: the days each period covers; semester boundaries come from data."""

from datetime import date
from pathlib import Path

import pytest

from app.models.enums import PeriodType
from app.periods import contains, load_calendar, period_span, periods_of, sort_key


@pytest.mark.parametrize(
    ("code", "first", "last"),
    [
        ("FY2567", date(2023, 10, 1), date(2024, 9, 30)),  # named by the B.E. year it ends in
        ("FY2567-Q1", date(2023, 10, 1), date(2023, 12, 31)),
        ("FY2567-Q2", date(2024, 1, 1), date(2024, 3, 31)),
        ("FY2567-Q4", date(2024, 7, 1), date(2024, 9, 30)),
        ("AY2566", date(2023, 5, 16), date(2024, 5, 15)),
        ("AY2566-S1", date(2023, 5, 16), date(2023, 10, 11)),
        ("AY2566-S2", date(2023, 11, 1), date(2024, 4, 1)),  # ends in the next calendar year
        ("AY2563-S1", date(2020, 7, 1), date(2020, 11, 20)),  # the COVID-19 year, from data
        ("CY2567", date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
def test_period_spans(code: str, first: date, last: date) -> None:
    span = period_span(code)
    assert (span.starts_on, span.ends_on) == (first, last)


def test_semester_boundaries_are_data(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        'academic_year: {starts: "05-16", ends: "05-15"}\n'
        'semesters: {S1: {starts: "05-16", ends: "10-15"}, S2: {starts: "11-01", ends: "03-31"}}\n'
        'overrides: {AY2570: {S1: {starts: "2027-06-01", ends: "2027-10-20"}}}\n'
    )
    cal = load_calendar(path)
    assert period_span("AY2569-S1", cal).ends_on == date(2026, 10, 15)
    assert period_span("AY2569-S2", cal).ends_on == date(2027, 3, 31)
    assert period_span("AY2570-S1", cal).starts_on == date(2027, 6, 1)


def test_periods_of_a_plan_span_in_time_order() -> None:
    assert periods_of(PeriodType.academic_year, 2566, 2568) == ["AY2566", "AY2567", "AY2568"]
    quarters = periods_of(PeriodType.fiscal_quarter, 2567, 2568)
    assert quarters[:2] == ["FY2567-Q1", "FY2567-Q2"] and len(quarters) == 8
    assert quarters == sorted(quarters, key=sort_key)
    semesters = periods_of(PeriodType.semester, 2566, 2567)
    assert semesters == sorted(semesters, key=sort_key)


def test_a_year_contains_its_semesters_and_quarters() -> None:
    assert contains("AY2566", "AY2566-S2")
    assert contains("FY2567", "FY2567-Q3")
    assert not contains("AY2566", "AY2567-S1")
    assert not contains("FY2567-Q1", "FY2567")


def test_a_malformed_code_has_no_span() -> None:
    with pytest.raises(ValueError, match="not a period code"):
        period_span("2566")
