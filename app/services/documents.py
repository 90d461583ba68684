"""Reports in Word (.docx) that people edit and file: an area's plan, its annual report for an
academic year, and the annual report of all the areas a reviewer may read.

Built on the same read models as the brief and the annual summary (`app.services.reports`);
nothing here computes a status, a target or a sum a second time.

Layout choices, for pasting into the secretariat's (สบน.) annual report of all areas:
- Normal text is TH Sarabun New 16 pt, the font and size of Thai government documents; its name
  is set for the complex-script (Thai) runs too, else Word draws Thai in its own fallback.
- Headings use Word's built-in Heading 1–3 styles with no typed numbers, so the receiving
  document's numbering and table of contents pick them up. Each area's annual report is one
  chapter under a Heading 1 with the area's name; the cross-area report is an overview table
  followed by those chapters in Thai order.
- Tables are plain grids (no merged cells) whose header row repeats on every page.
- A4 portrait, 2.5 cm margins, the page number in the footer; dates in the Buddhist Era; with
  `thai_digits`, numbers and dates in Thai numerals (codes and typed text are left as written).

"Next year's changes" are the change proposals of the year that carry into the next: those the
committee adopted during the year and those still open at its end.
"""

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table
from sqlmodel import Session, col, select

from app.display import entry_label, show_reason
from app.i18n import N_, format_date, format_number, format_year, gettext, localized, thai_today
from app.labels import label
from app.models import KPI, Action, ActionUpdate, Area, AuditEvent, Plan, Reflection, ReviewRound
from app.models.de import ChangeProposal, EmergentOutcome, ProposalState
from app.models.enums import ActionStatus, PeriodType
from app.periods import Span, period_label, period_span
from app.services import reflections as reflection_service
from app.services import reports
from app.services.access import Principal
from app.services.errors import Msg, ValidationFailed
from app.services.plan_tree import PlanTree
from app.services.progress import KPIProgress, progress_view
from app.services.review import Filters
from app.services.reviews import round_periods

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "TH Sarabun New"
SIZES = {"Normal": 16, "Title": 24, "Heading 1": 22, "Heading 2": 18, "Heading 3": 16}
TABLE_SIZE = 14  # table text a size smaller: seven columns fit across A4 portrait
# the schema's order of run properties (CT_RPr), which Word enforces
RPR_ORDER = (
    *("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps"),
    *("w:strike", "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof"),
    *("w:snapToGrid", "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern"),
    *("w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd"),
    *("w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout"),
    *("w:specVanish", "w:oMath"),
)
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


# ---- the read model of an area's year ---------------------------------------------------------


@dataclass
class ActionLine:
    action: Action
    status: str  # as of the year's end
    spent_thb: int


@dataclass
class AreaYear:
    """One area's annual report: its plan, its KPIs in the year against their targets, its
    actions and money, its adaptations with their reasons, reflections, emergent outcomes and
    the changes carried into the next year."""

    area: Area
    plan: Plan | None
    tree: PlanTree | None
    year: str | None
    summary: reports.AnnualArea | None
    actions: list[ActionLine] = field(default_factory=list)
    changes: list[AuditEvent] = field(default_factory=list)  # with a reason, oldest first
    unexplained: int = 0  # plan changes of the year without a reason
    reflections: list[Reflection] = field(default_factory=list)  # oldest first
    outcomes: list[EmergentOutcome] = field(default_factory=list)  # oldest first
    proposals: list[ChangeProposal] = field(default_factory=list)


def academic_years(tree: PlanTree | None, today: date) -> list[str]:
    """The plan's academic years that have begun, newest first."""
    if tree is None:
        return []
    plan = tree.plan
    kinds = [PeriodType.academic_year.value]
    return sorted(round_periods(kinds, plan.span_start_be, plan.span_end_be, today), reverse=True)


def area_year(
    session: Session, area: Area, year: str | None = None, today: date | None = None
) -> AreaYear:
    """An area's academic year (by default the newest with data, as the brief chooses); a year
    the plan does not have is refused."""
    today = today or thai_today()
    view = progress_view(session, area, today)
    rows = list(view.kpis.values())
    years = academic_years(view.tree, today)
    asked = (year or "").strip().upper() or None
    if asked and asked not in years:
        msg = N_("This plan has no such year. Choose one of: %(codes)s.")
        raise ValidationFailed({"year": Msg(msg, {"codes": ", ".join(years) or "-"})})
    chosen = asked or reports.default_year(years, rows)
    item = AreaYear(area, view.plan, view.tree, chosen, None)
    if chosen and view.tree is not None:
        lines = _action_lines(view.tree.actions, view.updates, period_span(chosen))
        item.summary = _summary(area, view.plan, rows, lines, chosen, view.rounds.get(chosen))
        item.actions = lines
        _add_records(session, [item])
    return item


def review_years(
    session: Session,
    principal: Principal,
    filters: Filters,
    year: str | None = None,
    today: date | None = None,
) -> tuple[reports.Annual, list[AreaYear]]:
    """The annual summary of the areas the reader may read, and each area's chapter: the same
    number of queries for 1 area as for 77."""
    annual = reports.annual_summary(session, principal, filters, year, today)
    if annual.unknown:
        raise ValidationFailed(reports.unknown_academic_year(annual))
    span = period_span(annual.year)
    reviews = {r.area.id: r for r in annual.view.areas}
    checkins = annual.checkins
    items = []
    for summary in annual.areas:
        review = reviews[summary.area.id]
        lines = _action_lines(review.actions, checkins, span)
        item = AreaYear(summary.area, review.plan, review.tree, annual.year, summary, lines)
        items.append(item)
    _add_records(session, items)
    return annual, items


def _action_lines(
    actions: Iterable[Action], checkins: dict[int, list[ActionUpdate]], span: Span
) -> list[ActionLine]:
    lines = []
    for action in actions:
        if reports._runs_in(action, span):
            status, spent = reports.as_of(action, checkins.get(action.id, []), span.ends_on)
            lines.append(ActionLine(action, status, spent))
    return lines


def _summary(
    area: Area,
    plan: Plan | None,
    rows: list[KPIProgress],
    lines: list[ActionLine],
    year: str,
    round_: ReviewRound | None,
) -> reports.AnnualArea:
    """The annual summary's line for one area, as `reports.annual_summary` counts it."""
    kpis = [reports.AnnualKPI(row, f) for row in rows if (f := reports.year_figure(row, year))]
    counts = dict.fromkeys(ActionStatus, 0)
    for line in lines:
        counts[ActionStatus(line.status)] += 1
    budget = sum(line.action.budget_thb or 0 for line in lines)
    spent = sum(line.spent_thb for line in lines)
    return reports.AnnualArea(area, plan, kpis, counts, budget, spent, round_)


def _add_records(session: Session, items: list[AreaYear]) -> None:
    """Each area's adaptations, reflections, outcomes and proposals of its year: four queries
    for all the areas."""
    items = [i for i in items if i.year]
    if not items:
        return
    ids = [i.area.id for i in items]
    years = sorted({i.year for i in items if i.year})
    spans = [period_span(y) for y in years]
    starts, ends = min(s.starts_on for s in spans), max(s.ends_on for s in spans)
    events = reports._plan_events(session, ids, years)
    held = reflection_service.reflections_between(session, ids, starts, ends)
    outcomes = _by_area(
        session.exec(
            select(EmergentOutcome)
            .where(col(EmergentOutcome.area_id).in_(ids))
            .where(col(EmergentOutcome.observed_on) >= starts)
            .where(col(EmergentOutcome.observed_on) <= ends)
            .order_by(col(EmergentOutcome.observed_on), col(EmergentOutcome.id))
        )
    )
    proposals = _by_area(
        session.exec(
            select(ChangeProposal)
            .where(col(ChangeProposal.area_id).in_(ids))
            .where(col(ChangeProposal.state) != ProposalState.declined.value)
            .order_by(col(ChangeProposal.created_at), col(ChangeProposal.id))
        )
    )
    for item in items:
        span = period_span(item.year or "")
        in_year = [e for e in reversed(events.get(item.area.id, [])) if reports._within(e.at, span)]
        item.changes = [e for e in in_year if (e.reason or "").strip()]
        item.unexplained = len(in_year) - len(item.changes)
        item.reflections = [
            r for r in reversed(held[item.area.id]) if span.starts_on <= r.held_on <= span.ends_on
        ]
        item.outcomes = [o for o in outcomes[item.area.id] if _inside(o.observed_on, span)]
        item.proposals = [p for p in proposals[item.area.id] if _carried(p, span)]


def _by_area(rows: Iterable[EmergentOutcome | ChangeProposal]) -> dict[int, list]:
    found: dict[int, list] = defaultdict(list)
    for row in rows:
        found[row.area_id].append(row)
    return found


def _inside(day: date | None, span: Span) -> bool:
    return day is not None and span.starts_on <= day <= span.ends_on


def _carried(proposal: ChangeProposal, span: Span) -> bool:
    """Adopted during the year, or put forward by its end and still open then (open now, or
    adopted after it). Declined ones are not read."""
    decided = proposal.decided_on
    if proposal.state == ProposalState.adopted.value and _inside(decided, span):
        return True
    put_by_then = reports._within(proposal.created_at, Span(date.min, span.ends_on))
    return put_by_then and (decided is None or decided > span.ends_on)


# ---- writing a .docx ----------------------------------------------------------------------------


class Writer:
    """A Word document in the house layout (see the module's docstring)."""

    def __init__(self, thai_digits: bool = False) -> None:
        self.thai_digits = thai_digits
        self.doc = Document()
        self._styles()
        self._page()

    # -- text helpers

    def digits(self, text: str) -> str:
        return text.translate(THAI_DIGITS) if self.thai_digits else text

    def num(self, value: float | int | None) -> str:
        return self.digits(format_number(value)) if value is not None else "–"

    def day(self, value: date | datetime | None) -> str:
        return self.digits(format_date(value, long=True)) if value else "–"

    def year(self, code: str | None) -> str:
        return self.digits(period_label(code)) if code else "–"

    # -- blocks

    def title(self, text: str) -> None:
        self.doc.add_paragraph(text, style="Title")

    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(text, level=level)

    def para(self, text: str, lead: str | None = None, style: str | None = None) -> None:
        p = self.doc.add_paragraph(style=style)
        if lead:
            p.add_run(f"{lead}: ").bold = True
        p.add_run(text)

    def empty(self, text: str) -> None:
        self.doc.add_paragraph().add_run(text).italic = True

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        numeric: Iterable[int] = (),
        widths: Sequence[float] | None = None,
        total: Sequence[str] | None = None,
    ) -> Table:
        """A grid with a header row repeated on each page; `numeric` columns aligned right."""
        right = set(numeric)
        body = [*rows, total] if total else list(rows)
        table = self.doc.add_table(rows=1 + len(body), cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _repeat_header(table.rows[0])
        for i, text in enumerate(headers):
            _cell(table.cell(0, i), text, bold=True, right=i in right)
        for r, row in enumerate(body, start=1):
            last = total is not None and r == len(body)
            for i, text in enumerate(row):
                _cell(table.cell(r, i), text, bold=last, right=i in right)
        if widths:  # both the grid and each cell: LibreOffice reads one, Word the other
            table.autofit = False
            for i, width in enumerate(widths):
                table.columns[i].width = Cm(width)
                for cell in table.columns[i].cells:
                    cell.width = Cm(width)
        self.doc.add_paragraph()
        return table

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()

    # -- set-up

    def _styles(self) -> None:
        styles = self.doc.styles
        for name, size in SIZES.items():
            style = styles[name]
            style.font.name = FONT
            style.font.size = Pt(size)
            style.font.color.rgb = RGBColor(0, 0, 0)
            rpr = style.element.get_or_add_rPr()
            fonts = rpr.get_or_add_rFonts()
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                fonts.set(qn(attr), FONT)
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attr), None)
            _set(rpr, "w:szCs", str(size * 2))
            _set(rpr, "w:lang", "th-TH", attr="w:bidi")
            if name != "Normal":
                style.font.bold = True
                _set(rpr, "w:bCs", None)
        normal = styles["Normal"].paragraph_format
        normal.space_after = Pt(0)
        normal.line_spacing = 1.0
        for name in ("Heading 1", "Heading 2", "Heading 3"):
            styles[name].paragraph_format.space_before = Pt(12 if name == "Heading 1" else 8)
            styles[name].paragraph_format.space_after = Pt(2)

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2.5))
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _page_number(footer)


def _set(rpr: Any, tag: str, value: str | None, attr: str = "w:val") -> None:
    """Set a run property, inserting it where the schema orders it (Word refuses a file whose
    run properties are out of order; LibreOffice does not mind)."""
    element = rpr.find(qn(tag))
    if element is None:
        element = OxmlElement(tag)
        order = list(RPR_ORDER)
        later = {qn(t) for t in order[order.index(tag) + 1 :]}
        successor = next((child for child in rpr if child.tag in later), None)
        if successor is None:
            rpr.append(element)
        else:
            successor.addprevious(element)
    if value is not None:
        element.set(qn(attr), value)


def _repeat_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _cell(cell: object, text: str, bold: bool = False, right: bool = False) -> None:
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.font.size = Pt(TABLE_SIZE)
    _set(run._r.get_or_add_rPr(), "w:szCs", str(TABLE_SIZE * 2))
    if bold:
        _set(run._r.get_or_add_rPr(), "w:bCs", None)
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _page_number(paragraph: object) -> None:
    """A PAGE field (Word and LibreOffice fill it in when the page is laid out)."""
    run = paragraph.add_run()  # type: ignore[attr-defined]
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1")):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == " PAGE ":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


# ---- the plan --------------------------------------------------------------------------------


def plan_docx(
    session: Session, area: Area, thai_digits: bool = False, today: date | None = None
) -> bytes:
    """The area's current plan: vision, desired outcomes, problems, KRAs, KPIs and actions."""
    today = today or thai_today()
    view = progress_view(session, area, today)
    w = Writer(thai_digits)
    w.title(gettext("Plan of %(area)s", area=localized(area)))
    tree = view.tree
    if tree is None:
        w.empty(gettext("This area has no plan yet."))
        return w.bytes()
    _plan_head(w, tree, today)
    _plan_body(w, tree, level=1)
    return w.bytes()


def _plan_head(w: Writer, tree: PlanTree, today: date) -> None:
    plan = tree.plan
    years = f"{format_year(plan.span_start_be)}–{format_year(plan.span_end_be)}"
    w.para(plan.title, lead=gettext("Plan"))
    w.para(w.digits(years), lead=gettext("Plan years"))
    w.para(label("plan_status", plan.status), lead=gettext("Status"))
    w.para(w.day(today), lead=gettext("As of"))
    if plan.is_demo:
        w.para(
            gettext("Invented for demonstration; not official figures."), lead=gettext("Demo data")
        )


def _plan_body(w: Writer, tree: PlanTree, level: int) -> None:
    if tree.plan.vision.strip():
        w.heading(gettext("Vision"), level)
        w.para(tree.plan.vision)
    w.heading(gettext("Desired outcomes of education"), level)
    for statement in tree.doe:
        w.para(statement.text, style="List Number")
    if not tree.doe:
        w.empty(gettext("None recorded."))
    problems = tree.problems
    if problems:
        w.heading(gettext("Problems and their causes"), level)
        for node in problems:
            w.para(node.text, style="List Bullet")
            for cause in tree.causes_of(node.id):
                w.para(cause.text, style="List Bullet 2")
    w.heading(gettext("Key result areas"), level)
    kra_kpis = tree.kra_kpis
    kpis = tree.kpis_by_id()
    for kra in tree.kras:
        w.heading(f"{kra.code} {kra.title}", level + 1)
        if kra.description.strip():
            w.para(kra.description)
        codes = ", ".join(kpis[i].code for i in kra_kpis.get(kra.id, []) if i in kpis)
        w.para(codes or "–", lead=gettext("KPIs"))
    if not tree.kras:
        w.empty(gettext("No KRA yet."))
    w.heading(gettext("KPIs"), level)
    _kpi_table(w, tree)
    w.heading(gettext("Actions and budget"), level)
    _plan_actions(w, tree)


def _kpi_table(w: Writer, tree: PlanTree) -> None:
    if not tree.kpis:
        w.empty(gettext("No KPI yet."))
        return
    headers = [
        gettext("KPI code"),
        gettext("KPI"),
        gettext("Unit"),
        gettext("Baseline"),
        gettext("End target"),
        gettext("Rule"),
    ]
    rows = [
        [
            kpi.code,
            kpi.name,
            kpi.unit,
            _with_period(w, kpi.baseline_value, kpi.baseline_period),
            _with_period(w, kpi.target_value, kpi.target_period),
            _rule(w, kpi),
        ]
        for kpi in tree.kpis
    ]
    w.table(headers, rows, numeric=(3, 4), widths=(1.8, 5.2, 1.8, 2.4, 2.4, 2.4))


def _with_period(w: Writer, value: float | None, period: str | None) -> str:
    if value is None:
        return "–"
    return f"{w.num(value)}\n{w.year(period)}" if period else w.num(value)


def _rule(w: Writer, kpi: KPI) -> str:
    """How the KPI is judged: its direction, how its periods add up, its tolerance."""
    parts = [label("direction", kpi.direction), label("aggregation", kpi.aggregation)]
    if kpi.tolerance:
        parts.append(gettext("tolerance %(value)s", value=w.num(kpi.tolerance)))
    return "; ".join(p for p in parts if p)


def _plan_actions(w: Writer, tree: PlanTree) -> None:
    if not tree.actions:
        w.empty(gettext("No action yet."))
        return
    headers = [
        gettext("Action code"),
        gettext("Action"),
        gettext("Dates"),
        gettext("Status"),
        gettext("Budget (baht)"),
    ]
    rows = [
        [
            a.code,
            a.title,
            _dates(w, a.start_on, a.end_on),
            label("action_status", a.status),
            w.num(a.budget_thb),
        ]
        for a in tree.actions
    ]
    total = ["", gettext("Total"), "", "", w.num(sum(a.budget_thb or 0 for a in tree.actions))]
    w.table(headers, rows, numeric=(4,), widths=(1.8, 5.8, 3.6, 2.2, 2.6), total=total)


def _dates(w: Writer, start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "–"
    return f"{w.day(start)} – {w.day(end)}"


# ---- the annual report -------------------------------------------------------------------------


def annual_docx(
    session: Session,
    area: Area,
    year: str | None = None,
    thai_digits: bool = False,
    today: date | None = None,
) -> tuple[str | None, bytes]:
    """The area's annual report of an academic year, and the year it covers."""
    item = area_year(session, area, year, today)
    w = Writer(thai_digits)
    _chapter(w, item, today or thai_today())
    return item.year, w.bytes()


def review_annual_docx(
    session: Session,
    principal: Principal,
    filters: Filters,
    year: str | None = None,
    thai_digits: bool = False,
    today: date | None = None,
) -> tuple[str, bytes]:
    """An overview table of the areas the reader may read, then each area's chapter in Thai
    order."""
    today = today or thai_today()
    annual, items = review_years(session, principal, filters, year, today)
    w = Writer(thai_digits)
    w.title(gettext("Annual report of the areas, %(year)s", year=w.year(annual.year)))
    w.para(w.day(today), lead=gettext("As of"))
    w.heading(gettext("Overview"), 1)
    _overview(w, annual)
    w.heading(gettext("How to read"), 2)
    for rule in reports.ANNUAL_RULES:
        w.para(w.digits(gettext(rule)), style="List Bullet")
    for item in items:
        _chapter(w, item, today)
    return annual.year, w.bytes()


def _overview(w: Writer, annual: reports.Annual) -> None:
    headers = [
        gettext("Area"),
        gettext("KPIs in the year"),
        *(gettext(title) for title in reports.OUTCOMES.values()),
        gettext("Actions"),
        gettext("Budget (baht)"),
        gettext("Spent (baht)"),
        gettext("Review of the year"),
    ]
    rows = [
        [
            localized(a.area),
            w.num(len(a.kpis)),
            *(w.num(n) for n in a.outcomes.values()),
            w.num(sum(a.actions.values())),
            w.num(a.budget_thb),
            w.num(a.spent_thb),
            reports.round_label(a.round),
        ]
        for a in annual.areas
    ]
    t = annual.totals
    total = [
        gettext("All areas"),
        w.num(t["kpis"]),
        *(w.num(n) for n in t["outcomes"].values()),
        w.num(sum(t["actions"].values())),
        w.num(t["budget_thb"]),
        w.num(t["spent_thb"]),
        "",
    ]
    widths = (2.2, 1.1, 1.1, 1.1, 1.1, 1.1, 3.0, 2.9, 2.4)
    w.table(headers, rows, numeric=range(1, 8), widths=widths, total=total)


def _chapter(w: Writer, item: AreaYear, today: date) -> None:
    """One area's annual report under a Heading 1 with its name, in the issue's order."""
    w.heading(localized(item.area), 1)
    if item.tree is None or item.year is None or item.summary is None:
        w.empty(gettext("This area has no plan yet."))
        return
    w.para(w.year(item.year), lead=gettext("Annual report"))
    w.para(w.day(today), lead=gettext("As of"))
    w.heading(gettext("Plan summary"), 2)
    _plan_summary(w, item.tree)
    w.heading(gettext("KPI results against targets"), 2)
    _kpi_results(w, item)
    w.heading(gettext("Actions and budget"), 2)
    _action_results(w, item)
    w.heading(gettext("Adaptations and their reasons"), 2)
    _adaptations(w, item)
    w.heading(gettext("Reflections"), 2)
    _reflections(w, item)
    w.heading(gettext("Emergent outcomes"), 2)
    _outcomes(w, item)
    w.heading(gettext("Changes for the next year"), 2)
    _proposals(w, item)


def _plan_summary(w: Writer, tree: PlanTree) -> None:
    plan = tree.plan
    years = f"{format_year(plan.span_start_be)}–{format_year(plan.span_end_be)}"
    w.para(f"{plan.title} ({w.digits(years)})", lead=gettext("Plan"))
    if plan.vision.strip():
        w.para(plan.vision, lead=gettext("Vision"))
    counts = gettext(
        "%(kras)s KRAs, %(kpis)s KPIs, %(actions)s actions",
        kras=w.num(len(tree.kras)),
        kpis=w.num(len(tree.kpis)),
        actions=w.num(len(tree.actions)),
    )
    w.para(counts)
    for kra in tree.kras:
        w.para(f"{kra.code} {kra.title}", style="List Bullet")


def _kpi_results(w: Writer, item: AreaYear) -> None:
    summary = item.summary
    assert summary is not None
    if not summary.kpis:
        w.empty(gettext("No KPI yet."))
    else:
        headers = [
            gettext("KPI code"),
            gettext("KPI"),
            gettext("Baseline"),
            gettext("Target of the year"),
            gettext("Result"),
            gettext("Outcome"),
            gettext("Rule"),
        ]
        rows = []
        for k in summary.kpis:
            kpi, j = k.row.kpi, k.figure.judgement
            name = f"{kpi.name} ({kpi.unit})" if kpi.unit else kpi.name
            rows.append(
                [
                    kpi.code,
                    f"{name}\n{w.year(k.figure.period)}",
                    w.num(kpi.baseline_value),
                    w.num(j.target),
                    w.num(j.figure),
                    reports.outcome_label(k.figure.outcome),
                    _rule(w, kpi),
                ]
            )
        widths = (1.8, 4.7, 1.6, 2.0, 1.6, 1.9, 2.4)
        w.table(headers, rows, numeric=(2, 3, 4), widths=widths)
    w.para(gettext("How results were judged"), style="Heading 3")
    for rule in reports.ANNUAL_RULES[:3]:
        w.para(w.digits(gettext(rule)), style="List Bullet")


def _action_results(w: Writer, item: AreaYear) -> None:
    if not item.actions:
        w.empty(gettext("No action ran in this year."))
        return
    headers = [
        gettext("Action code"),
        gettext("Action"),
        gettext("Status at the year's end"),
        gettext("Budget (baht)"),
        gettext("Spent (baht)"),
    ]
    rows = [
        [
            line.action.code,
            line.action.title,
            label("action_status", line.status),
            w.num(line.action.budget_thb),
            w.num(line.spent_thb),
        ]
        for line in item.actions
    ]
    summary = item.summary
    assert summary is not None
    total = ["", gettext("Total"), "", w.num(summary.budget_thb), w.num(summary.spent_thb)]
    w.table(headers, rows, numeric=(3, 4), widths=(1.8, 5.4, 2.6, 3.0, 3.2), total=total)
    w.para(w.digits(gettext(reports.ANNUAL_RULES[3])))


def _adaptations(w: Writer, item: AreaYear) -> None:
    if item.changes:
        headers = [gettext("Date"), gettext("Change"), gettext("Reason")]
        rows = [
            [
                w.day(e.at),
                f"{label('audit_op', e.op)} {label('entity', e.entity_type)} {entry_label(e, 120)}",
                show_reason(e.reason),
            ]
            for e in item.changes
        ]
        w.table(headers, rows, widths=(3.0, 6.5, 6.5))
    else:
        w.empty(gettext("No change to the plan with a stated reason in this period."))
    if item.unexplained:
        w.para(
            w.digits(
                gettext("Other changes to the plan without a reason: %(num)s", num=item.unexplained)
            )
        )


def _reflections(w: Writer, item: AreaYear) -> None:
    if not item.reflections:
        w.empty(gettext("No reflection was recorded in this period."))
    for r in item.reflections:
        w.heading(f"{w.day(r.held_on)} · {r.title}", 3)
        if r.participants.strip():
            w.para(r.participants, lead=gettext("Participants"))
        for lead, text in (
            (gettext("What?"), r.what),
            (gettext("So what?"), r.so_what),
            (gettext("Now what?"), r.now_what),
        ):
            if text.strip():
                w.para(text, lead=lead)


def _outcomes(w: Writer, item: AreaYear) -> None:
    if not item.outcomes:
        w.empty(gettext("No emergent outcome was recorded in this period."))
        return
    headers = [
        gettext("Date"),
        gettext("Who changed"),
        gettext("What changed"),
        gettext("Significance"),
        gettext("Contribution of the area"),
    ]
    rows = [
        [w.day(o.observed_on), o.who, o.change, o.significance, o.contribution]
        for o in item.outcomes
    ]
    w.table(headers, rows, widths=(2.4, 3.0, 4.4, 3.1, 3.1))


def _proposals(w: Writer, item: AreaYear) -> None:
    if not item.proposals:
        w.empty(gettext("No change is proposed for the next year."))
        return
    headers = [gettext("Proposed change"), gettext("State"), gettext("Decision")]
    rows = [
        [
            p.text,
            label("proposal_state", p.state),
            " · ".join(
                x for x in (w.day(p.decided_on) if p.decided_on else "", p.decision_note) if x
            )
            or "–",
        ]
        for p in item.proposals
    ]
    w.table(headers, rows, widths=(7.8, 2.4, 5.8))
