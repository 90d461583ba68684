"""Reporting-period codes from Thai calendars. Pure.

Codes: AY2566 (academic year, B.E.), AY2566-S1 / -S2 (semester), FY2567 (fiscal year named by
the B.E. year it ends in), FY2567-Q2 (fiscal quarter), CY2566 (calendar year, B.E.).
"""

import re
from dataclasses import dataclass

from app.i18n import BE_OFFSET, get_locale
from app.models.enums import PeriodType

_CODE = re.compile(r"^(AY|FY|CY)(\d{4})(?:-(S[12]|Q[1-4]))?$")


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


def parse_period(code: str) -> PeriodCode | None:
    match = _CODE.match(code.strip().upper())
    if not match:
        return None
    prefix, year, part = match.groups()
    if prefix == "CY" and part or prefix == "AY" and part and part[0] == "Q":
        return None
    if prefix == "FY" and part and part[0] == "S":
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
