"""Reports: a KPI read in a year, the provincial brief, the annual summary and the cross-area
workbook, checked against what is stored."""

import io
from dataclasses import dataclass
from datetime import date, datetime, time

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from app.i18n import THAI_TZ, gettext
from app.labels import label
from app.models import KPI, Action, AuditEvent, Plan
from app.models.enums import Role
from app.services import plans, progress, reports, reviews
from app.services.access import Grant, Principal
from app.services.quality import completeness_ratio
from app.services.review import Filters, review_view
from tests import factories as f

TODAY = date(2026, 11, 22)
EVERY_AREA = Principal(user=None, grants=(Grant(Role.reviewer, None),))


@dataclass
class ReportPlan:
    plan: Plan
    kpis: dict[str, KPI]
    actions: dict[str, Action]


def _value(session: Session, plan: Plan, kpi: KPI, period: str, value: str) -> None:
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=kpi.id, period=period, cell="actual", text=value
    )


def _change(
    session: Session, plan: Plan, kpi: KPI, definition: str, reason: str, day: date
) -> None:
    """A change to a KPI with its reason, dated `day` (noon in Thailand)."""
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"definition": definition},
        partial=True,
        reason=reason,
    )
    event = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    event.at = datetime.combine(day, time(12), tzinfo=THAI_TZ)
    session.add(event)
    session.commit()


def report_plan(session: Session, slug: str = "krabi") -> ReportPlan:
    """Two academic-year KPIs, a fiscal-year one and a semester one with values in AY2567; two
    actions, one with check-ins in AY2567 and AY2568; AY2567 returned by the reviewer with a
    comment; a reasoned change in AY2567 and another in AY2568."""
    plan = f.make_full_plan(session, slug, kras=2)
    kpis = {k.code: k for k in session.exec(select(KPI).where(KPI.plan_id == plan.id)).all()}
    kpis["KPI3"] = f.make_kpi(
        session,
        plan,
        "KPI3",
        name="จำนวนโรงเรียนนำร่องที่ใช้หลักสูตรท้องถิ่น",
        kind="count",
        period_type="fiscal_year",
        baseline_value="10",
        baseline_period="FY2566",
        target_value="50",
        target_period="FY2570",
    )
    kpis["KPI4"] = f.make_kpi(
        session,
        plan,
        "KPI4",
        name="ร้อยละนักเรียนที่ผ่านเกณฑ์การอ่านรายภาค",
        period_type="semester",
        baseline_value="50",
        baseline_period="AY2565-S2",
        target_value="70",
        target_period="AY2570-S2",
    )
    for code, period, value in (
        ("KPI1", "AY2566", "64"),
        ("KPI1", "AY2567", "70"),  # target on the line: 67.5 -> met
        ("KPI2", "AY2567", "60"),  # below its baseline 62.5 -> not met
        ("KPI3", "FY2567", "30"),  # target on the line: 20 -> met
        ("KPI4", "AY2567-S1", "55"),  # target 56 -> not met (at risk)
    ):
        _value(session, plan, kpis[code], period, value)
    actions = {a.code: a for a in session.exec(select(Action).where(Action.plan_id == plan.id))}
    for day, status, spent in (
        (date(2024, 8, 1), "on_track", "100000"),
        (date(2025, 6, 10), "done", "300000"),
    ):
        progress.add_action_update(
            session,
            actor=f.ACTOR,
            plan=plan,
            action_id=actions["ACT1"].id,
            update_in={
                "on_date": day,
                "status": status,
                "spent_thb": spent,
                "what_changed": "อบรมครู",
            },
        )
    area = f.area(session, slug)
    reviews.step_round(session, actor=f.ACTOR, area=area, period="AY2567", action="submit")
    reviews.step_round(
        session,
        actor=f.ACTOR,
        area=area,
        period="AY2567",
        action="return",
        comment="ขอให้แนบผลการทดสอบการอ่านรายโรงเรียน",
    )
    _change(
        session,
        plan,
        kpis["KPI1"],
        "นับเฉพาะโรงเรียนนำร่อง",
        "O-NET กลายเป็นการสอบแบบสมัครใจ",
        date(2024, 7, 15),
    )
    _change(session, plan, kpis["KPI2"], "นับทุกโรงเรียน", "คณะกรรมการขยายพื้นที่", date(2025, 7, 1))
    return ReportPlan(plan, kpis, actions)


def test_a_year_of_another_kind_is_the_one_that_ends_within_it() -> None:
    assert reports.year_of_kind("FY", "AY2567") == "FY2567"  # ends 30 Sep 2024
    assert reports.year_of_kind("CY", "AY2567") == "CY2567"  # ends 31 Dec 2024
    assert reports.year_of_kind("AY", "FY2568") == "AY2567"  # ends 15 May 2025
    assert reports.year_of_kind("AY", "AY2567") == "AY2567"


def test_a_semester_kpi_reads_its_newest_semester_with_a_value(session: Session) -> None:
    data = report_plan(session)
    rows = progress.kpi_rows(session, data.plan, list(data.kpis.values()), TODAY)
    semester = rows[data.kpis["KPI4"].id]
    assert reports.periods_in_year(semester, "AY2567") == ["AY2567-S1", "AY2567-S2"]
    figure = reports.year_figure(semester, "AY2567")
    assert (figure.period, figure.judgement.figure, figure.outcome) == ("AY2567-S1", 55, "not_met")
    fiscal = reports.year_figure(rows[data.kpis["KPI3"].id], "AY2567")
    assert (fiscal.period, fiscal.judgement.figure, fiscal.outcome) == ("FY2567", 30, "met")
    assert reports.year_figure(rows[data.kpis["KPI1"].id], "AY2580") is None  # outside the plan


def test_the_brief_shows_the_years_values_its_reasoned_changes_and_the_reviewers_words(
    session: Session,
) -> None:
    data = report_plan(session)
    brief = reports.area_brief(session, f.area(session), today=TODAY)
    assert brief.year == "AY2567"  # the newest academic year with values
    values = {line.row.kpi.code: line.figure.judgement.figure for line in brief.lines}
    assert values == {"KPI1": 70, "KPI2": 60, "KPI3": 30, "KPI4": 55}
    assert [e.reason for e in brief.changes] == ["O-NET กลายเป็นการสอบแบบสมัครใจ"]
    assert brief.round.state == "returned"
    assert brief.round.comment == "ขอให้แนบผลการทดสอบการอ่านรายโรงเรียน"
    later = reports.area_brief(session, f.area(session), "AY2568", today=TODAY)
    assert [e.reason for e in later.changes] == ["คณะกรรมการขยายพื้นที่"]
    assert later.round is None
    assert {line.row.kpi.code: line.figure.judgement.figure for line in later.lines}["KPI1"] is None
    assert data.plan.id == brief.plan.id


def test_a_year_the_plan_does_not_have_shows_the_default_and_says_so(session: Session) -> None:
    report_plan(session)
    brief = reports.area_brief(session, f.area(session), "AY2400", today=TODAY)
    assert (brief.year, brief.unknown) == ("AY2567", "AY2400")
    assert "AY2567" in reports.unknown_year(brief)["period"].params["codes"]


def test_the_annual_summary_counts_kpis_actions_money_and_the_round(session: Session) -> None:
    data = report_plan(session)
    f.make_full_plan(session, "phuket", kras=1)
    annual = reports.annual_summary(session, EVERY_AREA, Filters(), "AY2567", TODAY)
    krabi = next(a for a in annual.areas if a.area.slug == "krabi")
    assert [k.row.kpi.code for k in krabi.kpis] == ["KPI1", "KPI2", "KPI3", "KPI4"]
    assert krabi.outcomes == {"met": 2, "not_met": 2, "no_data": 0}
    assert (krabi.actions["on_track"], krabi.actions["done"]) == (2, 0)  # ACT1 as of 15 May 2025
    budget = sum(a.budget_thb for a in data.actions.values())
    assert (krabi.budget_thb, krabi.spent_thb) == (budget, 100000)
    assert krabi.round.state == "returned"
    phuket = next(a for a in annual.areas if a.area.slug == "phuket")
    assert phuket.outcomes == {"met": 0, "not_met": 0, "no_data": 1}
    assert annual.totals["kpis"] == 5 and annual.totals["budget_thb"] == budget + 450000
    next_year = reports.annual_summary(session, EVERY_AREA, Filters(), "AY2568", TODAY)
    krabi = next(a for a in next_year.areas if a.area.slug == "krabi")
    assert (krabi.actions["done"], krabi.spent_thb, krabi.round) == (1, 300000, None)


def test_the_annual_summary_defaults_to_the_academic_year_under_way(session: Session) -> None:
    annual = reports.annual_summary(session, EVERY_AREA, Filters(), None, TODAY)
    assert annual.year == "AY2569" and annual.years[0] == "AY2569"
    assert all(y.startswith("AY") for y in annual.years)
    assert (
        reports.annual_summary(session, EVERY_AREA, Filters(), "FY2568", TODAY).unknown == "FY2568"
    )


def _rows(sheet, columns, key: str) -> dict:  # noqa: ANN001
    """The sheet's rows (under its header) by the value in column `key`, as {column key: value}."""
    keys = [c.key for c in columns]
    found = {}
    for values in sheet.iter_rows(min_row=2, max_col=len(keys), values_only=True):
        row = dict(zip(keys, values, strict=True))
        found[row[key]] = row
    return found


def test_the_annual_workbook_holds_the_summary_with_totals_and_each_kpi(session: Session) -> None:
    report_plan(session)
    annual = reports.annual_summary(session, EVERY_AREA, Filters(group="all"), "AY2567", TODAY)
    book = load_workbook(io.BytesIO(reports.annual_workbook(annual)))
    rows = _rows(book.worksheets[0], reports.ANNUAL_COLUMNS, "name_th")
    krabi = rows["กระบี่"]
    assert (krabi["kpis"], krabi["met"], krabi["not_met"], krabi["no_data"]) == (4, 2, 2, 0)
    assert (krabi["budget_thb"], krabi["spent_thb"]) == (900000, 100000)
    assert krabi["round"] == label("review_state", "returned")
    totals = rows[gettext("All areas")]
    assert (totals["kpis"], totals["met"], totals["budget_thb"]) == (4, 2, 900000)
    kpis = _rows(book.worksheets[1], reports.ANNUAL_KPI_COLUMNS, "code")
    assert {code: row["result"] for code, row in kpis.items()} == {
        "KPI1": 70,
        "KPI2": 60,
        "KPI3": 30,
        "KPI4": 55,
    }
    assert kpis["KPI1"]["target"] == 67.5


def test_the_cross_area_workbook_matches_the_review(session: Session) -> None:
    data = report_plan(session)
    f.make_full_plan(session, "phuket", kras=1)
    view = review_view(session, EVERY_AREA, Filters(group="all", year="AY2567"), TODAY)
    book = load_workbook(io.BytesIO(reports.review_workbook(view)))
    summary = book.worksheets[0]
    assert summary.freeze_panes == "A2"
    rows = _rows(summary, reports.SUMMARY_COLUMNS, "name_en")
    assert len(rows) == len(view.areas)  # one row per area, with a plan or not
    krabi = rows["Krabi"]
    tree = next(r.tree for r in view.areas if r.area.slug == "krabi")
    assert krabi["completeness"] == completeness_ratio(tree) == 1
    budget = sum(a.budget_thb for a in data.actions.values())
    assert (krabi["budget_thb"], krabi["spent_thb"]) == (budget, 300000)  # spent to date
    assert (krabi["kpi_on_track"], krabi["kpi_at_risk"], krabi["kpi_off_track"]) == (2, 1, 1)
    assert (krabi["submitted"], krabi["approved"], krabi["act_done"]) == (0, 0, 1)
    assert rows["Phuket"]["budget_thb"] == 450000 and rows["Bangkok"]["budget_thb"] == 0
    sheet = book["Krabi"]
    header = [c.value for c in sheet[1]]
    kpi1 = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "KPI1")
    assert kpi1[header.index("ปีการศึกษา 2566")] == 64
    assert kpi1[header.index("ปีการศึกษา 2567")] == 70
    act1 = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "ACT1")
    assert (act1[3], act1[4]) == (450000, 300000)
    assert "Phuket" in book.sheetnames and all(len(n) <= 31 for n in book.sheetnames)


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert reports.sheet_name("Summary", taken) == "Summary"
    assert reports.sheet_name("summary", taken) == "summary (2)"
    assert reports.sheet_name("A/B: [C]*?", taken) == "A B   C"
    long = "Phra Nakhon Si Ayutthaya and a very long name"
    first, second = reports.sheet_name(long, taken), reports.sheet_name(long, taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second


def test_a_reader_of_one_area_gets_only_that_area(session: Session) -> None:
    report_plan(session)
    f.make_full_plan(session, "phuket", kras=1)
    viewer = f.make_user(session, "viewer", "phuket")
    phuket_viewer = Principal(
        user=viewer, grants=(Grant(Role.viewer, f.area(session, "phuket").id),)
    )
    annual = reports.annual_summary(session, phuket_viewer, Filters(group="all"), "AY2567", TODAY)
    assert [a.area.slug for a in annual.areas] == ["phuket"]
