"""Reporting-period codes from Thai calendars. Pure.

Codes: AY2566 (academic year, B.E.), AY2566-S1 / -S2 (semester), FY2567 (fiscal year named by
the B.E. year it ends in), FY2567-Q2 (fiscal quarter), CY2566 (calendar year, B.E.).
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path

import yaml

from app import ROOT
from app.i18n import BE_OFFSET, get_locale
from app.models.enums import PeriodType

CALENDAR_FILE = ROOT / "seeds" / "calendar.yaml"

_CODE = re.compile(r"^(AY|FY|CY)(\d{4})(?:-(S[12]|Q[1-4]))?$")
YEAR_MIN_BE, YEAR_MAX_BE = 2443, 3143  # 1900-2600 CE, as dates are bounded (app.schemas)


@dataclass(frozen=True)
class PeriodCode:
    prefix: str
    year_be: int
    part: str | None

    @property
    def code(self) -> str:
        return f"{self.prefix}{self.year_be}" + (f"-{self.part}" if self.part else "")

    @property
    def period_type(self) -> PeriodType:
        if self.prefix == "AY":
            return PeriodType.semester if self.part else PeriodType.academic_year
        if self.prefix == "FY":
            return PeriodType.fiscal_quarter if self.part else PeriodType.fiscal_year
        return PeriodType.calendar_year


@lru_cache(maxsize=4096)  # pure, and called for every period of every KPI on review pages
def parse_period(code: str) -> PeriodCode | None:
    match = _CODE.match(code.strip().upper())
    if not match:
        return None
    prefix, year, part = match.groups()
    if prefix == "CY" and part or prefix == "AY" and part and part[0] == "Q":
        return None
    if prefix == "FY" and part and part[0] == "S":
        return None
    if not YEAR_MIN_BE <= int(year) <= YEAR_MAX_BE:  # AY0000 names no period anyone plans
        return None
    return PeriodCode(prefix, int(year), part)


EXAMPLES = {
    PeriodType.academic_year: "AY2566",
    PeriodType.semester: "AY2566-S1",
    PeriodType.fiscal_year: "FY2567",
    PeriodType.fiscal_quarter: "FY2567-Q2",
    PeriodType.calendar_year: "CY2566",
}


def period_label(code: str | None, locale: str | None = None) -> str:
    """Thai labels in B.E. ('ปีการศึกษา 2566'); English in C.E. ('Academic year 2023')."""
    if not code:
        return ""
    period = parse_period(code)
    if period is None:
        return code
    if (locale or get_locale()) == "th":
        return _label_th(period)
    return _label_en(period)


def _label_th(p: PeriodCode) -> str:
    if p.prefix == "AY":
        return f"ภาคเรียนที่ {p.part[1]}/{p.year_be}" if p.part else f"ปีการศึกษา {p.year_be}"
    if p.prefix == "FY":
        quarter = f" ไตรมาส {p.part[1]}" if p.part else ""
        return f"ปีงบประมาณ {p.year_be}{quarter}"
    return f"ปี {p.year_be}"


def _label_en(p: PeriodCode) -> str:
    year = p.year_be - BE_OFFSET
    if p.prefix == "AY":
        return f"Semester {p.part[1]}, AY {year}" if p.part else f"Academic year {year}"
    if p.prefix == "FY":
        quarter = f" Q{p.part[1]}" if p.part else ""
        return f"FY {year}{quarter}"
    return str(year)


# ---- dates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Calendar:
    """Academic-year and semester boundaries: month-day defaults plus per-year overrides."""

    year: tuple[str, str]
    semesters: dict[str, tuple[str, str]]
    overrides: dict[str, dict[str, Span]]

    def academic_year(self, year_be: int) -> Span:
        ce = year_be - BE_OFFSET
        return Span(_day(ce, self.year[0]), _day(ce + 1, self.year[1]))

    def semester(self, year_be: int, part: str) -> Span:
        override = self.overrides.get(f"AY{year_be}", {}).get(part)
        if override:
            return override
        starts, ends = self.semesters[part]
        ce = year_be - BE_OFFSET
        first = _day(ce, starts)
        last = _day(ce, ends)
        if last < first:  # semester 2 ends in the next calendar year
            last = _day(ce + 1, ends)
        return Span(first, last)


def _day(ce_year: int, month_day: str) -> date:
    month, day = (int(x) for x in month_day.split("-"))
    return date(ce_year, month, day)


def load_calendar(path: Path = CALENDAR_FILE) -> Calendar:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    overrides = {
        year: {
            part: Span(date.fromisoformat(str(d["starts"])), date.fromisoformat(str(d["ends"])))
            for part, d in parts.items()
        }
        for year, parts in (data.get("overrides") or {}).items()
    }
    return Calendar(
        year=(data["academic_year"]["starts"], data["academic_year"]["ends"]),
        semesters={part: (d["starts"], d["ends"]) for part, d in data["semesters"].items()},
        overrides=overrides,
    )


@cache
def calendar() -> Calendar:
    return load_calendar()


def period_span(code: str, cal: Calendar | None = None) -> Span:
    """The first and last day of a period. Raises ValueError for a malformed code."""
    return _span(code, cal) if cal is not None else _default_span(code)


@lru_cache(maxsize=4096)
def _default_span(code: str) -> Span:
    return _span(code, calendar())


def _span(code: str, cal: Calendar) -> Span:
    p = parse_period(code)
    if p is None:
        raise ValueError(f"not a period code: {code!r}")
    ce = p.year_be - BE_OFFSET
    if p.prefix == "AY":
        return cal.semester(p.year_be, p.part) if p.part else cal.academic_year(p.year_be)
    if p.prefix == "CY":
        return Span(date(ce, 1, 1), date(ce, 12, 31))
    if not p.part:  # FY2567 = 1 Oct 2023 - 30 Sep 2024
        return Span(date(ce - 1, 10, 1), date(ce, 9, 30))
    quarter = int(p.part[1])
    first = date(ce - 1, 10, 1) if quarter == 1 else date(ce, 3 * quarter - 5, 1)
    after = date(ce, 3 * quarter - 2, 1) if quarter < 4 else date(ce, 10, 1)
    return Span(first, after - timedelta(days=1))


def periods_of(period_type: PeriodType | str, first_be: int, last_be: int) -> list[str]:
    """Every period of a type whose year lies in first_be..last_be, in time order."""
    period_type = PeriodType(period_type)
    years = range(first_be, last_be + 1)
    if period_type == PeriodType.academic_year:
        return [f"AY{y}" for y in years]
    if period_type == PeriodType.semester:
        return [f"AY{y}-S{s}" for y in years for s in (1, 2)]
    if period_type == PeriodType.fiscal_year:
        return [f"FY{y}" for y in years]
    if period_type == PeriodType.fiscal_quarter:
        return [f"FY{y}-Q{q}" for y in years for q in (1, 2, 3, 4)]
    return [f"CY{y}" for y in years]


def sort_key(code: str) -> tuple[date, date]:
    span = period_span(code)
    return (span.starts_on, span.ends_on)


def contains(outer: str, inner: str) -> bool:
    """AY2566 contains AY2566 and AY2566-S1; FY2567 contains FY2567-Q2."""
    return inner == outer or inner.startswith(outer + "-")
