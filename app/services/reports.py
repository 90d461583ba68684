"""Reports for committees and reviewers: the provincial brief (one printable page per area, as
HTML or PDF), the annual summary per academic year, and the cross-area workbook.

How a KPI reads in a chosen year (AY2567, FY2568 or CY2567):
- A KPI counted by that kind of year, or by its parts (semesters, quarters), shows its newest
  period in the year that has a figure (its last period in the year when none has).
- A KPI counted by another kind of year shows the year of its own kind that *ends* within the
  chosen one: under AY2567 (16 May 2024 – 15 May 2025) a fiscal-year KPI shows FY2567 (ends
  30 Sep 2024) and a calendar-year KPI CY2567 (ends 31 Dec 2024).

The cross-area figures (completeness, statuses, counts, budget, spending) come from the review's
read model (`app.services.review`); nothing here computes them a second time.
"""

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from app import ROOT
from app.i18n import N_, THAI_TZ, gettext, local_time, thai_today
from app.labels import label
from app.models import Action, ActionUpdate, Area, AuditEvent, Plan, Reflection, ReviewRound
from app.models.enums import ActionStatus, KPIStatus, PeriodType
from app.periods import Span, contains, parse_period, period_label, period_span, sort_key
from app.services import plans, reflections
from app.services.access import Principal
from app.services.errors import Msg, ServiceError
from app.services.plan_tree import PlanTree
from app.services.progress import KPIProgress, action_updates, progress_view, rule_of
from app.services.review import AreaReview, Filters, ReviewView, review_view
from app.services.reviews import YEAR_PREFIX, round_periods
from app.services.spreadsheets import Column, save_workbook, table_sheet
from app.status import Judgement, Trend, distribution, trend

MAX_CHANGES = 8
MAX_REFLECTIONS = 3  # the year's newest reflections on the brief
OUTCOMES = {"met": N_("Met"), "not_met": N_("Not met"), "no_data": N_("No data")}
# The annual summary's rules, shown under its tables and in its workbook.
ANNUAL_RULES = (
    N_(
        "A KPI counted by academic year or by semester belongs to the academic year its period "
        "falls in; the year's result is its newest period in the year with a value."
    ),
    N_(
        "A KPI counted by fiscal or calendar year belongs to the academic year in which its year "
        "ends (FY2567, which ends on 30 Sep 2024, counts in AY2567)."
    ),
    N_(
        "Met: the result reaches the year's target (set for the period, or on the line from the "
        "baseline to the end target). No data: no result or no target."
    ),
    N_(
        "Actions: those running during the year (undated ones too), with their status and the "
        "money spent as of the last check-in by the year's end. Budget: their whole budgets."
    ),
)
PDF_UNAVAILABLE = N_(
    "PDF files cannot be made on this server right now: the PDF renderer's system libraries "
    "(Pango) are missing. Open the brief as a web page and print it from the browser instead."
)


# ---- a KPI in a year --------------------------------------------------------------------------


def year_of_kind(prefix: str, year: str) -> str | None:
    """The year of kind `prefix` (AY, FY, CY) that ends within `year`; `year` itself when it is
    of that kind."""
    chosen = parse_period(year)
    if chosen is None:
        return None
    if chosen.prefix == prefix:
        return chosen.code
    span = period_span(chosen.code)
    for be in (chosen.year_be - 1, chosen.year_be, chosen.year_be + 1):
        code = f"{prefix}{be}"
        if span.starts_on <= period_span(code).ends_on <= span.ends_on:
            return code
    return None


def periods_in_year(row: KPIProgress, year: str) -> list[str]:
    own = year_of_kind(YEAR_PREFIX[row.kpi.period_type], year)
    return [p for p in row.periods if own and contains(own, p)]


@dataclass(frozen=True)
class YearFigure:
    """A KPI's reading in a year: the period it comes from, its judgement, its trend so far."""

    period: str
    judgement: Judgement
    trend: Trend

    @property
    def outcome(self) -> str:
        j = self.judgement
        if j.figure is None or j.target is None:
            return "no_data"
        return "met" if j.status == KPIStatus.on_track else "not_met"


def year_figure(row: KPIProgress, year: str) -> YearFigure | None:
    """None when the KPI has no period in that year (outside the plan's years)."""
    periods = periods_in_year(row, year)
    if not periods:
        return None
    known = [p for p in periods if row.judgements[p].figure is not None]
    period = (known or periods)[-1]
    so_far = row.periods[: row.periods.index(period) + 1]
    figures = [row.judgements[p].figure for p in so_far]
    return YearFigure(period, row.judgements[period], trend(figures, rule_of(row.kpi)))


def outcome_label(outcome: str) -> str:
    return gettext(OUTCOMES[outcome])


# ---- the provincial brief ----------------------------------------------------------------------


@dataclass
class KPILine:
    row: KPIProgress
    figure: YearFigure | None  # None: the KPI has no period in the year


@dataclass
class Brief:
    """One area on one page: its plan chain, its KPIs in the year, the year's adaptations and
    the review round's notes."""

    area: Area
    plan: Plan | None
    tree: PlanTree | None
    year: str | None
    years: list[str]  # the years the brief can show, newest first
    lines: list[KPILine]
    changes: list[AuditEvent]  # plan changes of the year with a reason, newest first
    more_changes: int  # such changes beyond those shown
    unexplained: int  # plan changes of the year without a reason
    round: ReviewRound | None
    unknown: str | None = None  # a year asked for that the plan does not have
    reflections: list[Reflection] = field(default_factory=list)  # of the year, newest first
    more_reflections: int = 0  # the year's reflections beyond those shown

    @property
    def status_counts(self) -> dict[KPIStatus, int]:
        return distribution(
            line.figure.judgement.status if line.figure else KPIStatus.no_data
            for line in self.lines
        )


def brief_years(tree: PlanTree | None, today: date) -> list[str]:
    """The years of the plan's kinds of KPI period that have begun, newest first."""
    if tree is None:
        return []
    kinds = {k.period_type for k in tree.kpis} or {PeriodType.academic_year.value}
    plan = tree.plan
    codes = round_periods(kinds, plan.span_start_be, plan.span_end_be, today)
    return sorted(codes, key=sort_key, reverse=True)


def default_year(years: list[str], rows: Iterable[KPIProgress]) -> str | None:
    """The newest year, of the kind most of the plan's KPIs are counted by, in which some KPI
    has a value; otherwise the newest year of that kind."""
    rows = list(rows)
    kinds = Counter(YEAR_PREFIX[row.kpi.period_type] for row in rows)
    main = max(kinds, key=lambda prefix: (kinds[prefix], prefix == "AY"), default="AY")
    candidates = [y for y in years if y.startswith(main)] or years
    for year in candidates:
        if any(p in row.actuals for row in rows for p in periods_in_year(row, year)):
            return year
    return candidates[0] if candidates else None


def unknown_year(brief: Brief) -> dict[str, Msg]:
    codes = ", ".join(brief.years) or "-"
    msg = N_("This plan has no such year. Choose one of: %(codes)s.")
    return {"period": Msg(msg, {"codes": codes})}


def area_brief(
    session: Session, area: Area, period: str | None = None, today: date | None = None
) -> Brief:
    """The brief of one area in a year (`period`; by default the newest year with data). A year
    the plan does not have shows the default one, with `unknown` set."""
    today = today or thai_today()
    view = progress_view(session, area, today)
    rows = list(view.kpis.values())
    years = brief_years(view.tree, today)
    asked = (period or "").strip().upper() or None
    year = asked if asked in years else default_year(years, rows)
    events = _plan_events(session, [area.id], [year] if year else [])
    brief = _brief(
        area, view.plan, view.tree, rows, years, year, view.rounds.get(year or ""), events
    )
    brief.unknown = asked if asked and asked not in years else None
    _add_reflections(session, [brief])
    return brief


def review_briefs(
    session: Session, principal: Principal, filters: Filters, today: date | None = None
) -> tuple[ReviewView, list[Brief]]:
    """Briefs of the areas the review's filters show: each in the filters' year, or else in its
    own newest year with data."""
    today = today or thai_today()
    view = review_view(session, principal, filters, today)
    chosen: dict[int, tuple[list[str], str | None]] = {}
    for r in view.areas:
        years = brief_years(r.tree, today)
        chosen[r.area.id] = (years, filters.year or default_year(years, r.kpis))
    ids = list(chosen)
    events = _plan_events(session, ids, [y for _, y in chosen.values() if y])
    rounds = _rounds(session, ids)
    briefs = []
    for r in view.areas:
        years, year = chosen[r.area.id]
        round_ = rounds.get((r.area.id, year or ""))
        briefs.append(_brief(r.area, r.plan, r.tree, r.kpis, years, year, round_, events))
    _add_reflections(session, briefs)
    return view, briefs


def _add_reflections(session: Session, briefs: list[Brief]) -> None:
    """Each brief's reflections held in its year: one query for all the briefs."""
    spans = {b.area.id: period_span(b.year) for b in briefs if b.year}
    if not spans:
        return
    starts = min(s.starts_on for s in spans.values())
    ends = max(s.ends_on for s in spans.values())
    found = reflections.reflections_between(session, list(spans), starts, ends)
    for brief in briefs:
        span = spans.get(brief.area.id)
        if span is None:
            continue
        held = [r for r in found[brief.area.id] if span.starts_on <= r.held_on <= span.ends_on]
        brief.reflections = held[:MAX_REFLECTIONS]
        brief.more_reflections = max(0, len(held) - MAX_REFLECTIONS)


def _brief(
    area: Area,
    plan: Plan | None,
    tree: PlanTree | None,
    rows: list[KPIProgress],
    years: list[str],
    year: str | None,
    round_: ReviewRound | None,
    events: dict[int, list[AuditEvent]],
) -> Brief:
    lines = [KPILine(row, year_figure(row, year) if year else None) for row in rows]
    brief = Brief(area, plan, tree, year, years, lines, [], 0, 0, round_)
    if year:
        span = period_span(year)
        in_year = [e for e in events.get(area.id, []) if _within(e.at, span)]
        reasoned = [e for e in in_year if (e.reason or "").strip()]
        brief.changes = reasoned[:MAX_CHANGES]
        brief.more_changes = max(0, len(reasoned) - MAX_CHANGES)
        brief.unexplained = len(in_year) - len(reasoned)
    return brief


def _midnight(day: date) -> datetime:
    """The start of a day in Thailand, where the periods are counted."""
    return datetime.combine(day, time.min, tzinfo=THAI_TZ)


def _within(moment: datetime, span: Span) -> bool:
    return span.starts_on <= local_time(moment).date() <= span.ends_on


def _plan_events(
    session: Session, area_ids: list[int], years: list[str]
) -> dict[int, list[AuditEvent]]:
    """Changes to the plans' elements from the first to the last of the years, newest first."""
    if not area_ids or not years:
        return {}
    spans = [period_span(y) for y in years]
    starts = min(s.starts_on for s in spans)
    ends = max(s.ends_on for s in spans)
    query = (
        select(AuditEvent)
        .where(col(AuditEvent.area_id).in_(area_ids))
        .where(col(AuditEvent.entity_type).in_(plans.PLAN_ENTITIES))
        .where(col(AuditEvent.at) >= _midnight(starts))
        .where(col(AuditEvent.at) < _midnight(ends + timedelta(days=1)))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    )
    found: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in session.exec(query):
        found[event.area_id or 0].append(event)
    return found


def _rounds(session: Session, area_ids: list[int]) -> dict[tuple[int, str], ReviewRound]:
    if not area_ids:
        return {}
    query = select(ReviewRound).where(col(ReviewRound.area_id).in_(area_ids))
    return {(r.area_id, r.period): r for r in session.exec(query)}


# ---- PDF ----------------------------------------------------------------------------------------

STATIC = ROOT / "static"
PDF_BASE = "https://phonlap.invalid/"  # never fetched: the fetcher serves files under static/
FILE_TYPES = {".css": "text/css", ".woff2": "font/woff2", ".svg": "image/svg+xml"}


class PDFUnavailable(ServiceError):
    """WeasyPrint cannot load its system libraries (Pango, HarfBuzz)."""

    status_code = 503


def render_pdf(html: str) -> bytes:
    """The HTML as a PDF. Links to /static/... are read from the app's own files; nothing else is
    fetched (no network)."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except (OSError, ImportError) as exc:  # cffi could not open libpango and friends
        raise PDFUnavailable(str(exc)) from exc

    class StaticFiles(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            path = static_file(url)
            content_type = FILE_TYPES.get(path.suffix, "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    # app.css has screen-only rules the renderer warns about on every file; failures still show
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = HTML(string=html, base_url=PDF_BASE, url_fetcher=StaticFiles())
    return document.write_pdf()


def static_file(url: str) -> Any:
    """The file under static/ that a URL of the PDF names; anything else is refused."""
    prefix = PDF_BASE + "static/"
    if not url.startswith(prefix):
        raise ValueError(f"not fetched: {url}")
    path = (STATIC / url[len(prefix) :].split("?")[0].split("#")[0]).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        raise ValueError(f"not fetched: {url}")
    return path


# ---- the annual summary -------------------------------------------------------------------------


@dataclass
class AnnualKPI:
    row: KPIProgress
    figure: YearFigure


@dataclass
class AnnualArea:
    area: Area
    plan: Plan | None
    kpis: list[AnnualKPI]
    actions: dict[ActionStatus, int]
    budget_thb: int
    spent_thb: int
    round: ReviewRound | None

    @property
    def outcomes(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for k in self.kpis:
            counts[k.figure.outcome] += 1
        return counts


@dataclass
class Annual:
    view: ReviewView  # the areas' group and the groups to choose from
    year: str
    years: list[str]  # academic years that have begun, newest first
    areas: list[AnnualArea]
    unknown: str | None = None  # a year asked for that is not one of `years`
    checkins: dict[int, list[ActionUpdate]] = field(default_factory=dict)  # newest first

    @property
    def totals(self) -> dict[str, Any]:
        outcomes = dict.fromkeys(OUTCOMES, 0)
        actions = dict.fromkeys(ActionStatus, 0)
        for a in self.areas:
            for key, n in a.outcomes.items():
                outcomes[key] += n
            for status, n in a.actions.items():
                actions[status] += n
        return {
            "kpis": sum(len(a.kpis) for a in self.areas),
            "outcomes": outcomes,
            "actions": actions,
            "budget_thb": sum(a.budget_thb for a in self.areas),
            "spent_thb": sum(a.spent_thb for a in self.areas),
            "submitted": sum(1 for a in self.areas if a.round and a.round.state == "submitted"),
            "approved": sum(1 for a in self.areas if a.round and a.round.state == "approved"),
        }


def unknown_academic_year(annual: Annual) -> dict[str, Msg]:
    msg = N_("Choose an academic year from the list (e.g. %(example)s).")
    return {"year": Msg(msg, {"example": annual.year})}


def annual_summary(
    session: Session,
    principal: Principal,
    filters: Filters,
    year: str | None = None,
    today: date | None = None,
) -> Annual:
    """Each area the reader may read (of the filters' group) in an academic year: its KPIs of
    the year against their targets, its actions and money, its review round."""
    today = today or thai_today()
    view = review_view(session, principal, filters, today)
    years = [y for y in view.years if y.startswith("AY")]
    asked = (year or "").strip().upper() or None
    chosen = asked if asked in years else years[0]
    span = period_span(chosen)
    ids = [r.area.id for r in view.areas]
    rounds = _rounds(session, ids)
    checkins = action_updates(session, [a.id for r in view.areas for a in r.actions])
    areas = [
        _annual_area(r, chosen, span, rounds.get((r.area.id, chosen)), checkins) for r in view.areas
    ]
    unknown = asked if asked and asked not in years else None
    return Annual(view, chosen, years, areas, unknown, checkins)


def _annual_area(
    review: AreaReview,
    year: str,
    span: Span,
    round_: ReviewRound | None,
    checkins: dict[int, list[ActionUpdate]],
) -> AnnualArea:
    kpis = [AnnualKPI(row, f) for row in review.kpis if (f := year_figure(row, year))]
    actions = [a for a in review.actions if _runs_in(a, span)]
    counts = dict.fromkeys(ActionStatus, 0)
    spent = 0
    for action in actions:
        status, spent_thb = as_of(action, checkins.get(action.id, []), span.ends_on)
        counts[ActionStatus(status)] += 1
        spent += spent_thb
    budget = sum(a.budget_thb or 0 for a in actions)
    return AnnualArea(review.area, review.plan, kpis, counts, budget, spent, round_)


def _runs_in(action: Action, span: Span) -> bool:
    starts_in_time = action.start_on is None or action.start_on <= span.ends_on
    return starts_in_time and (action.end_on is None or action.end_on >= span.starts_on)


def as_of(action: Action, checkins: list[ActionUpdate], day: date | None) -> tuple[str, int]:
    """An action's status and money spent as of a day (its latest check-in by then, newest
    first in `checkins`); with no check-in at all, the status it has now."""
    done = [u for u in checkins if day is None or u.on_date <= day]
    if done:
        status = done[0].status
    else:
        status = action.status if not checkins else ActionStatus.not_started.value
    spent = next((u.spent_thb for u in done if u.spent_thb is not None), 0)
    return status, spent


# ---- workbooks ----------------------------------------------------------------------------------

BAHT = "#,##0"
ACTION_COUNT_TITLES = {
    ActionStatus.not_started: N_("Actions not started"),
    ActionStatus.on_track: N_("Actions on track"),
    ActionStatus.delayed: N_("Actions delayed"),
    ActionStatus.done: N_("Actions done"),
    ActionStatus.dropped: N_("Actions dropped"),
}
KPI_COUNT_TITLES = {
    KPIStatus.on_track: N_("KPIs on track"),
    KPIStatus.at_risk: N_("KPIs at risk"),
    KPIStatus.off_track: N_("KPIs off track"),
    KPIStatus.no_data: N_("KPIs with no data"),
}
SUMMARY_COLUMNS = (
    Column("name_th", N_("Area (Thai)"), 22),
    Column("name_en", N_("Area (English)"), 20),
    Column("cohort", N_("Cohort"), 9),
    Column("completeness", N_("Plan completeness"), 12, number_format="0%"),
    *(Column(f"kpi_{s}", title, 11) for s, title in KPI_COUNT_TITLES.items()),
    Column("last_update", N_("Last update"), 13),  # a date cell
    Column("overdue", N_("Overdue periods"), 10),
    Column("submitted", N_("Years submitted"), 10),
    Column("approved", N_("Years approved"), 10),
    *(Column(f"act_{s}", title, 11) for s, title in ACTION_COUNT_TITLES.items()),
    Column("budget_thb", N_("Budget (baht)"), 15, number_format=BAHT),
    Column("spent_thb", N_("Spent (baht)"), 15, number_format=BAHT),
)
ACTION_COLUMNS = (
    Column("code", N_("Action code"), 12),
    Column("title", N_("Action"), 48),
    Column("status", N_("Status"), 16),
    Column("budget_thb", N_("Budget (baht)"), 15, number_format=BAHT),
    Column("spent_thb", N_("Spent (baht)"), 15, number_format=BAHT),
)
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A valid sheet name (at most 31 characters, none of []:*?/\\ nor a control character),
    unique in the workbook."""
    base = SHEET_NAME_BAD.sub(" ", wanted).strip().strip("'")[:31].strip() or "Sheet"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)].rstrip() + suffix, n + 1
    taken.add(name.casefold())
    return name


def review_workbook(view: ReviewView) -> bytes:
    """A summary sheet (one row per area) and one sheet per area: its KPIs' values per period
    and status at the filters' year, then its actions."""
    book = Workbook()
    summary = book.active
    taken: set[str] = set()
    summary.title = sheet_name(gettext("Summary"), taken)
    table_sheet(summary, SUMMARY_COLUMNS, [_summary_row(r) for r in view.areas])
    for r in view.areas:
        sheet = book.create_sheet(sheet_name(r.area.name_en or r.area.slug, taken))
        _area_sheet(sheet, r, view.filters.year)
    return save_workbook(book)


def _summary_row(r: AreaReview) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name_th": r.area.name_th,
        "name_en": r.area.name_en,
        "cohort": int(r.area.cohort) if r.area.cohort.isdigit() else r.area.cohort,
        "completeness": r.completeness,
        "last_update": local_time(r.last_update).date() if r.last_update else None,
        "overdue": r.overdue,
        "submitted": r.submitted,
        "approved": r.approved,
        "budget_thb": r.budget_thb,
        "spent_thb": r.spent_thb,
    }
    row.update({f"kpi_{s}": n for s, n in r.status_counts.items()})
    row.update({f"act_{s}": n for s, n in r.action_counts.items()})
    return row


def _area_sheet(sheet: Any, r: AreaReview, year: str | None) -> None:
    periods = sorted({p for row in r.kpis for p in row.periods}, key=_kind_then_time)
    status_title = (
        gettext("Status at the end of %(year)s", year=period_label(year))
        if year
        else gettext("Latest status")
    )
    columns = (
        Column("code", N_("KPI code"), 12),
        Column("name", N_("KPI"), 48),
        Column("unit", N_("Unit"), 12),
        Column("baseline", N_("Baseline"), 12),
        Column("target", N_("End target"), 12),
        *(Column(p, period_label(p), 13) for p in periods),
        Column("status", status_title, 16),
    )
    rows = []
    for row in r.kpis:
        kpi = row.kpi
        line: dict[str, Any] = {
            "code": kpi.code,
            "name": kpi.name,
            "unit": kpi.unit,
            "baseline": kpi.baseline_value,
            "target": kpi.target_value,
            "status": label("kpi_status", r.status_of(kpi.id)),
        }
        line.update({p: m.value for p, m in row.actuals.items()})
        rows.append(line)
    table_sheet(sheet, columns, rows)
    actions = [
        {
            "code": a.code,
            "title": a.title,
            "status": label("action_status", a.status),
            "budget_thb": a.budget_thb,
            "spent_thb": r.spent.get(a.id, 0),
        }
        for a in r.actions
    ]
    table_sheet(sheet, ACTION_COLUMNS, actions, first_row=len(rows) + 3)


KINDS = list(PeriodType)


def _kind_then_time(code: str) -> tuple[int, date, date]:
    """Academic years, then semesters, fiscal years, quarters, calendar years; each in time
    order."""
    parsed = parse_period(code)
    kind = KINDS.index(parsed.period_type) if parsed else len(KINDS)
    return (kind, *sort_key(code))


ANNUAL_COLUMNS = (
    Column("name_th", N_("Area (Thai)"), 22),
    Column("name_en", N_("Area (English)"), 20),
    Column("kpis", N_("KPIs in the year"), 10),
    *(Column(key, title, 10) for key, title in OUTCOMES.items()),
    *(Column(f"act_{s}", title, 11) for s, title in ACTION_COUNT_TITLES.items()),
    Column("budget_thb", N_("Budget (baht)"), 15, number_format=BAHT),
    Column("spent_thb", N_("Spent (baht)"), 15, number_format=BAHT),
    Column("round", N_("Review of the year"), 22),
)
ANNUAL_KPI_COLUMNS = (
    Column("area", N_("Area (Thai)"), 20),
    Column("code", N_("KPI code"), 12),
    Column("name", N_("KPI"), 48),
    Column("unit", N_("Unit"), 12),
    Column("period", N_("Period"), 20),
    Column("baseline", N_("Baseline"), 12),
    Column("target", N_("Target of the year"), 12),
    Column("result", N_("Result"), 12),
    Column("outcome", N_("Outcome"), 14),
)


def round_label(round_: ReviewRound | None) -> str:
    return label("review_state", round_.state) if round_ else gettext("Not submitted")


def annual_workbook(annual: Annual) -> bytes:
    """The summary (a row per area and a totals row), the KPIs of the year, and the rules."""
    book = Workbook()
    taken: set[str] = set()
    summary = book.active
    summary.title = sheet_name(gettext("Annual summary"), taken)
    rows = [_annual_row(a) for a in annual.areas]
    totals = annual.totals
    rows.append(
        {
            "name_th": gettext("All areas"),
            "kpis": totals["kpis"],
            **totals["outcomes"],
            **{f"act_{s}": n for s, n in totals["actions"].items()},
            "budget_thb": totals["budget_thb"],
            "spent_thb": totals["spent_thb"],
        }
    )
    table_sheet(summary, ANNUAL_COLUMNS, rows)
    kpi_rows = [_annual_kpi_row(a, k) for a in annual.areas for k in a.kpis]
    table_sheet(book.create_sheet(sheet_name(gettext("KPIs"), taken)), ANNUAL_KPI_COLUMNS, kpi_rows)
    notes = book.create_sheet(sheet_name(gettext("How to read"), taken))
    notes.append([period_label(annual.year)])
    for rule in ANNUAL_RULES:
        notes.append([gettext(rule)])
    notes.column_dimensions["A"].width = 110
    return save_workbook(book)


def _annual_row(a: AnnualArea) -> dict[str, Any]:
    return {
        "name_th": a.area.name_th,
        "name_en": a.area.name_en,
        "kpis": len(a.kpis),
        **a.outcomes,
        **{f"act_{s}": n for s, n in a.actions.items()},
        "budget_thb": a.budget_thb,
        "spent_thb": a.spent_thb,
        "round": round_label(a.round),
    }


def _annual_kpi_row(a: AnnualArea, k: AnnualKPI) -> dict[str, Any]:
    kpi, j = k.row.kpi, k.figure.judgement
    return {
        "area": a.area.name_th,
        "code": kpi.code,
        "name": kpi.name,
        "unit": kpi.unit,
        "period": period_label(k.figure.period),
        "baseline": kpi.baseline_value,
        "target": j.target,
        "result": j.figure,
        "outcome": outcome_label(k.figure.outcome),
    }


def review_export(
    session: Session, principal: Principal, filters: Filters, today: date | None = None
) -> bytes:
    """The cross-area workbook of the areas and year the review's filters show."""
    return review_workbook(review_view(session, principal, filters, today))
