"""The cross-area review: every area a reviewer follows, side by side, in a fixed number of
queries whatever the number of areas, KPIs and periods.

Per area: the plan's completeness and checks, its KPIs' statuses at the end of a year (or their
latest), data freshness, actions by status, budget and spending; and a heatmap of areas ×
DOE aspects (or strategy themes) showing where the effort goes. Filters narrow the areas (group,
cohort) and the elements counted (theme, DOE aspect).

Each area's row is kept in process (`ROWS`) and rebuilt only when the area changed: every write
that changes what a row shows records an audit event with the area's id, in the same transaction,
so the newest such event (one indexed query for all areas) tells whether a kept row is current.
Reference data (areas, groups, the DOE framework, common indicators) is recorded with no area: its
newest event invalidates every row. The check reads the database on every request, so several
worker processes stay correct, each with its own rows.
"""

import copy
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import N_, thai_sort_key, thai_today
from app.models import (
    KPI,
    Action,
    ActionUpdate,
    Area,
    AreaGroup,
    AreaGroupMember,
    AuditEvent,
    CommonIndicator,
    KeyResultArea,
    Plan,
    ReviewRound,
)
from app.models.base import utcnow
from app.models.enums import ActionStatus, KPIStatus, ReviewState
from app.periods import parse_period, period_span
from app.services import history, indicators, quality, shared_data
from app.services.access import Principal
from app.services.errors import Msg, ValidationFailed
from app.services.indicators import Comparison
from app.services.plan_tree import PlanTree, current_plans, load_trees
from app.services.progress import KPIProgress, plans_kpi_rows
from app.services.reference import Reference, load_reference
from app.status import Judgement, distribution

ALL = "all"
HEAT_BY = ("aspect", "theme")
MEASURES = ("actions", "kpis", "budget")


@dataclass(frozen=True)
class Filters:
    """What the review shows; the URL carries it (`query()`), so a view can be shared."""

    group: str | None = None  # a group's slug, or "all"; None: the default group
    cohort: str | None = None  # e.g. "2565"
    year: str | None = None  # AY2567, FY2568, CY2567: statuses at the end of it; None: latest
    theme: str | None = None  # a strategy theme's code: count only KRAs of that theme
    aspect: str | None = None  # a DOE aspect's code: count only KRAs addressing it
    heat: str = "aspect"  # the heatmap's columns: DOE aspects or strategy themes
    measure: str = "actions"  # what its cells count
    indicator: str | None = None  # a common indicator to compare across the areas

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> "Filters":
        """Blank values mean "any"; a malformed year or choice is refused with a message."""
        values = {f.name: (params.get(f.name) or "").strip() or None for f in fields(cls)}
        errors: dict[str, Msg] = {}
        year = values["year"]
        if year is not None:
            parsed = parse_period(year.upper())
            if parsed is None or parsed.part is not None:
                errors["year"] = Msg(N_("Choose a year, e.g. AY2567 or FY2568."))
            else:
                values["year"] = parsed.code
        for name, allowed in (("heat", HEAT_BY), ("measure", MEASURES)):
            if values[name] is None:
                values[name] = allowed[0]
            elif values[name] not in allowed:
                errors[name] = Msg(N_("Pick from the list."))
        if errors:
            raise ValidationFailed(errors)
        return cls(**values)

    @property
    def row_key(self) -> tuple[str | None, ...]:
        """The filters that change an area's row (group, cohort and indicator only choose
        among rows or read them)."""
        return (self.year, self.theme, self.aspect, self.heat, self.measure)

    def query(self, **changes: str | None) -> dict[str, str]:
        """The URL parameters of these filters (with some changed), defaults left out."""
        current = replace(self, **changes) if changes else self
        defaults = Filters()
        return {
            f.name: value
            for f in fields(self)
            if (value := getattr(current, f.name)) and value != getattr(defaults, f.name)
        }


@dataclass
class AreaReview:
    area: Area
    plan: Plan | None
    tree: PlanTree | None
    steps: dict[str, bool]
    findings: list[quality.Finding]
    kras: list[KeyResultArea]  # those counted (after the theme and aspect filters)
    kpis: list[KPIProgress]
    actions: list[Action]
    status: dict[int, Judgement]  # KPI id -> its judgement at the year (or its latest)
    last_update: datetime | None
    overdue: int  # periods past due without a value, over the KPIs counted
    rounds: dict[str, int]  # review state -> number of years in it
    spent: dict[int, int]  # action id -> baht spent so far (its newest check-in that says)
    heat: dict[int, float] = field(default_factory=dict)  # column id -> the measure
    # the data catalogue's reports received for its last ended period (None: no catalogue)
    data_completeness: shared_data.Completeness | None = None

    @property
    def completeness(self) -> float:
        return sum(self.steps.values()) / len(self.steps)

    # Rows are kept between requests (see ROWS): what they sum is summed once per row.

    @cached_property
    def status_counts(self) -> dict[KPIStatus, int]:
        return distribution(self.status_of(row.kpi.id) for row in self.kpis)

    def status_of(self, kpi_id: int) -> KPIStatus:
        judgement = self.status.get(kpi_id)
        return judgement.status if judgement else KPIStatus.no_data

    @cached_property
    def action_counts(self) -> dict[ActionStatus, int]:
        counts = dict.fromkeys(ActionStatus, 0)
        for action in self.actions:
            counts[ActionStatus(action.status)] += 1
        return counts

    @cached_property
    def spent_thb(self) -> int:
        return sum(self.spent.values())

    @cached_property
    def budget_thb(self) -> int:
        return sum(a.budget_thb or 0 for a in self.actions)

    @cached_property
    def unmapped(self) -> list[KPI]:
        """The KPIs counted that measure no common indicator."""
        return [row.kpi for row in self.kpis if not row.kpi.indicator_id]

    @property
    def submitted(self) -> int:
        return self.rounds.get(ReviewState.submitted, 0)

    @property
    def approved(self) -> int:
        return self.rounds.get(ReviewState.approved, 0)


@dataclass
class HeatColumn:
    id: int
    code: str
    name: object  # a model with name_th / name_en (localized on display)


@dataclass
class ReviewView:
    filters: Filters
    groups: list[AreaGroup]
    group: AreaGroup | None  # the group shown (None: all the reader's areas)
    cohorts: list[str]
    years: list[str]  # year codes to choose from, newest first
    ref: Reference
    areas: list[AreaReview]
    columns: list[HeatColumn]  # the heatmap's columns
    indicators: list[CommonIndicator]
    indicator: CommonIndicator | None  # the one compared (the first active one by default)
    comparison: Comparison | None = None

    @property
    def unmapped(self) -> list[tuple[Area, KPI]]:
        """The KPIs counted that measure no common indicator, by area."""
        return [(a.area, kpi) for a in self.areas for kpi in a.unmapped]

    @property
    def unmapped_by_area(self) -> list[tuple[Area, list[KPI]]]:
        return [(a.area, a.unmapped) for a in self.areas if a.unmapped]

    @property
    def unmapped_count(self) -> int:
        return sum(len(a.unmapped) for a in self.areas)

    @cached_property
    def heat_max(self) -> float:
        return max((v for a in self.areas for v in a.heat.values()), default=0)

    def heat_level(self, value: float) -> int:
        """0 (none) to 5 (the most of any cell), for the cell's shade."""
        top = self.heat_max
        return 0 if not value or not top else max(1, round(5 * value / top))

    @property
    def totals(self) -> dict[str, object]:
        counts = dict.fromkeys(KPIStatus, 0)
        actions = dict.fromkeys(ActionStatus, 0)
        for a in self.areas:
            for status, n in a.status_counts.items():
                counts[status] += n
            for status, n in a.action_counts.items():
                actions[status] += n
        return {
            "status_counts": counts,
            "action_counts": actions,
            "overdue": sum(a.overdue for a in self.areas),
            "submitted": sum(a.submitted for a in self.areas),
            "approved": sum(a.approved for a in self.areas),
            "budget_thb": sum(a.budget_thb for a in self.areas),
            "spent_thb": sum(a.spent_thb for a in self.areas),
        }


def review_view(
    session: Session,
    principal: Principal,
    filters: Filters,
    today: date | None = None,
    *,
    keep: bool = False,
) -> ReviewView:
    """With `keep` (the page), rows of unchanged areas come from ROWS and new ones are kept
    there, slimmed to what the page shows; without it (reports, which read every period of
    every KPI) every row is read whole."""
    today = today or thai_today()
    groups = list(session.exec(select(AreaGroup).order_by(AreaGroup.id)).all())
    group = _chosen_group(groups, filters)
    readable = principal.area_ids()
    every = _areas(session, group, readable)
    cohorts = sorted({a.cohort for a in every})
    areas = [a for a in every if filters.cohort in (None, a.cohort)]
    ref = load_reference(session, [a.id for a in areas])
    _check_choices(filters, ref)
    if keep:
        reviews = _area_reviews(session, areas, filters, ref, today)
    else:
        rows = _build_rows(session, areas, filters, ref, today) if areas else {}
        reviews = [rows[a.id] for a in areas]
    indicators = [i for i in ref.indicators.values() if i.is_active]
    chosen = next((i for i in ref.indicators.values() if i.code == filters.indicator), None)
    chosen = chosen or (indicators[0] if indicators else None)
    return ReviewView(
        filters=filters,
        groups=groups,
        group=group,
        cohorts=cohorts,
        years=_years(today),
        ref=ref,
        areas=reviews,
        columns=_columns(filters, ref),
        indicators=indicators,
        indicator=chosen,
        comparison=_compare(chosen, reviews) if chosen else None,
    )


# ---- each area's row, kept until the area changes --------------------------------------------

ACCOUNT_EVENTS = ("user", "api_token")  # recorded with no area, yet no concern of the review
SETTLE = timedelta(seconds=10)


class Stamp(NamedTuple):
    """What a row was built from: the area's newest audit event and the newest reference-data
    event (id and time of each; the time tells the events of one database from another's)."""

    area: tuple[int, datetime] | None
    reference: tuple[int, datetime] | None

    def settled(self, now: datetime) -> bool:
        """Whether its events are old enough that no transaction holding an earlier event id
        can still be open. (PostgreSQL hands out ids at insert, not commit: a row built while a
        slower writer is still open would miss its change under a newer id. Services write
        their audit events last and commit at once, well within SETTLE; until then the row is
        built afresh each time.)"""
        times = [e[1] for e in (self.area, self.reference) if e is not None]
        return all(now - _aware(t) >= SETTLE for t in times)


class RowCache:
    """Area rows by (area, filters that change a row, day), each with its stamp; the least
    recently used are dropped beyond `size` (77 provinces × four filter choices; a
    kept row of 50 KPIs holds about 150 kB)."""

    def __init__(self, size: int = 300) -> None:
        self.size = size
        self._rows: OrderedDict[tuple, tuple[Stamp, AreaReview]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, stamp: Stamp) -> AreaReview | None:
        with self._lock:
            entry = self._rows.get(key)
            if entry is None or entry[0] != stamp:
                return None
            self._rows.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, stamp: Stamp, row: AreaReview) -> None:
        with self._lock:
            self._rows[key] = (stamp, row)
            self._rows.move_to_end(key)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


ROWS = RowCache()


def clear_cache() -> None:
    ROWS.clear()


def _area_reviews(
    session: Session, areas: list[Area], filters: Filters, ref: Reference, today: date
) -> list[AreaReview]:
    """Each area's row: kept ones whose area has not changed since, the others built (in the
    same fixed number of queries whether one area changed or all)."""
    stamps = _stamps(session, [a.id for a in areas])
    keys = {a.id: (a.id, filters.row_key, today) for a in areas}
    kept = {a.id: row for a in areas if (row := ROWS.get(keys[a.id], stamps[a.id]))}
    stale = [a for a in areas if a.id not in kept]
    built = _build_rows(session, stale, filters, ref, today, data=True) if stale else {}
    now = utcnow()
    for area_id, row in built.items():
        if stamps[area_id].settled(now):
            ROWS.put(keys[area_id], stamps[area_id], _slim(row))
    return [kept.get(a.id) or built[a.id] for a in areas]


def _slim(row: AreaReview) -> AreaReview:
    """A copy of the row to keep, with what the page shows: its sums (worked out now, from the
    whole row) and each period's figures only for the KPIs measuring a common indicator (the
    comparison draws those); not the plan's tree. A tenth of the whole row's memory."""
    for name in ("status_counts", "action_counts", "budget_thb", "spent_thb", "unmapped"):
        getattr(row, name)
    slim = copy.copy(row)  # with the sums cached on it
    slim.tree, slim.kras, slim.actions = None, [], []
    slim.kpis = [k if k.kpi.indicator_id else _bare(k) for k in row.kpis]
    return slim


def _bare(row: KPIProgress) -> KPIProgress:
    return KPIProgress(row.kpi, [], {}, {}, {}, row.trend, [], set())


def _stamps(session: Session, area_ids: list[int]) -> dict[int, Stamp]:
    """Each area's stamp: two queries, each an index look-up per area (audit_event's
    (area_id, id) index), however long the audit trail."""
    newest = (
        select(func.max(AuditEvent.id))
        .where(AuditEvent.area_id == Area.id)
        .correlate(Area)
        .scalar_subquery()
    )
    query = (
        select(Area.id, AuditEvent.id, AuditEvent.at)
        .outerjoin(AuditEvent, col(AuditEvent.id) == newest)
        .where(col(Area.id).in_(area_ids))
    )
    reference = session.exec(
        select(AuditEvent.id, AuditEvent.at)
        .where(col(AuditEvent.area_id).is_(None))
        .where(col(AuditEvent.entity_type).not_in(ACCOUNT_EVENTS))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    ref_stamp = (reference[0], reference[1]) if reference else None
    return {
        area_id: Stamp((event_id, at) if event_id else None, ref_stamp)
        for area_id, event_id, at in session.exec(query).all()
    }


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive times (stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _build_rows(
    session: Session,
    areas: list[Area],
    filters: Filters,
    ref: Reference,
    today: date,
    *,
    data: bool = False,
) -> dict[int, AreaReview]:
    """The rows of these areas, read through a session of their own on the same connection:
    the rows outlive the request, so nothing in them may be expired by its later commits."""
    with Session(bind=session.connection(), expire_on_commit=False) as own:
        return _read_rows(own, areas, filters, ref, today, data=data)


def _read_rows(
    session: Session,
    areas: list[Area],
    filters: Filters,
    ref: Reference,
    today: date,
    *,
    data: bool = False,  # the data catalogues' completeness too (the page's column)
) -> dict[int, AreaReview]:
    plans = current_plans(session, [a.id for a in areas])
    trees = load_trees(session, list(plans.values()), {a.id: a for a in areas})
    codes = {item_id: item.code for item_id, item in ref.items.items()}
    counted = {
        a.id: _counted(trees[plans[a.id].id], filters, ref) if a.id in plans else ([], [], [])
        for a in areas
    }
    rows = plans_kpi_rows(
        session,
        [(plans[a.id], counted[a.id][1]) for a in areas if a.id in plans],
        today,
        details=False,
    )
    freshness = last_updates(session, [a.id for a in areas])
    rounds = _round_counts(session, [a.id for a in areas])
    reported = shared_data.areas_completeness(session, [a.id for a in areas], today) if data else {}
    spent = _spent(session, [x.id for a in areas for x in counted[a.id][2]])
    year_end = period_span(filters.year).ends_on if filters.year else None
    reviews = {}
    for area in areas:
        plan = plans.get(area.id)
        tree = trees.get(plan.id) if plan else None
        kras, kpis, actions = counted[area.id]
        kpi_rows = [rows[k.id] for k in kpis]
        reviews[area.id] = AreaReview(
            area=area,
            plan=plan,
            tree=tree,
            steps=quality.completeness(tree) if tree else dict.fromkeys(quality.STEPS, False),
            findings=quality.findings(tree, codes) if tree else [],
            kras=kras,
            kpis=kpi_rows,
            actions=actions,
            status={row.kpi.id: j for row in kpi_rows if (j := _at(row, year_end))},
            last_update=freshness.get(area.id),
            overdue=sum(len(row.overdue) for row in kpi_rows),
            rounds=rounds.get(area.id, {}),
            spent={a.id: spent[a.id] for a in actions if a.id in spent},
            heat=_heat(tree, kras, kpis, actions, filters, ref) if tree else {},
            data_completeness=reported.get(area.id),
        )
    return reviews


def _compare(indicator: CommonIndicator, reviews: list[AreaReview]) -> Comparison:
    """The indicator across the areas, from the KPIs already read: no query of its own."""
    return indicators.assemble(
        indicator,
        [(r.area, [k for k in r.kpis if k.kpi.indicator_id == indicator.id]) for r in reviews],
    )


def _chosen_group(groups: list[AreaGroup], filters: Filters) -> AreaGroup | None:
    if filters.group == ALL:
        return None
    if filters.group is None:
        return next((g for g in groups if g.is_default), None)
    for group in groups:
        if group.slug == filters.group:
            return group
    raise ValidationFailed({"group": Msg(N_("Pick from the list."))})


def _areas(session: Session, group: AreaGroup | None, readable: set[int] | None) -> list[Area]:
    """The group's areas (or every area) that the reader may read, in Thai order."""
    query = select(Area)
    if group is not None:
        query = query.join(AreaGroupMember).where(AreaGroupMember.group_id == group.id)
    if readable is not None:
        query = query.where(col(Area.id).in_(readable or [-1]))
    return sorted(session.exec(query).all(), key=lambda a: thai_sort_key(a.name_th))


def _check_choices(filters: Filters, ref: Reference) -> None:
    errors = {}
    if filters.theme and filters.theme not in {t.code for t in ref.themes.values()}:
        errors["theme"] = Msg(N_("Pick from the list."))
    if filters.aspect and filters.aspect not in {a.code for a in ref.aspects}:
        errors["aspect"] = Msg(N_("Pick from the list."))
    if filters.indicator and filters.indicator not in {i.code for i in ref.indicators.values()}:
        errors["indicator"] = Msg(N_("Pick from the list."))
    if errors:
        raise ValidationFailed(errors)


def _kra_matches(tree: PlanTree, kra: KeyResultArea, filters: Filters, ref: Reference) -> bool:
    if filters.theme:
        theme = ref.themes.get(kra.theme_id) if kra.theme_id else None
        if theme is None or theme.code != filters.theme:
            return False
    if filters.aspect:
        aspects = {_aspect_code(ref, i) for i in tree.kra_items.get(kra.id, [])}
        if filters.aspect not in aspects:
            return False
    return True


def _aspect_code(ref: Reference, item_id: int) -> str | None:
    item = ref.items.get(item_id)
    return next((a.code for a in ref.aspects if item and a.id == item.aspect_id), None)


def _counted(
    tree: PlanTree, filters: Filters, ref: Reference
) -> tuple[list[KeyResultArea], list[KPI], list[Action]]:
    """The KRAs, KPIs and actions the filters keep: everything without a theme or aspect;
    otherwise the matching KRAs, their KPIs, and the actions serving either."""
    if not filters.theme and not filters.aspect:
        return tree.kras, tree.kpis, tree.actions
    kras = [k for k in tree.kras if _kra_matches(tree, k, filters, ref)]
    kra_ids = {k.id for k in kras}
    kpis = [k for k in tree.kpis if kra_ids & set(tree.kpi_kras.get(k.id, []))]
    kpi_ids = {k.id for k in kpis}
    actions = [
        a
        for a in tree.actions
        if kra_ids & set(tree.action_kras.get(a.id, []))
        or kpi_ids & set(tree.action_kpis.get(a.id, []))
    ]
    return kras, kpis, actions


def _at(row: KPIProgress, year_end: date | None) -> Judgement | None:
    """The judgement of the newest period with a figure (ending by the year's end, if given)."""
    if year_end is None:
        return row.latest
    known = [
        j
        for period, j in row.judgements.items()
        if j.figure is not None and period_span(period).ends_on <= year_end
    ]
    return known[-1] if known else None


def last_updates(session: Session, area_ids: list[int]) -> dict[int, datetime]:
    """When each area last changed anything (its plan, values, check-ins, rounds); comments
    are talk about the area, not its data."""
    query = (
        select(AuditEvent.area_id, func.max(AuditEvent.at))
        .where(col(AuditEvent.area_id).in_(area_ids), history.listed())
        .group_by(AuditEvent.area_id)
    )
    return {area_id: at for area_id, at in session.exec(query).all()}


def _round_counts(session: Session, area_ids: list[int]) -> dict[int, dict[str, int]]:
    query = (
        select(ReviewRound.area_id, ReviewRound.state, func.count())
        .where(col(ReviewRound.area_id).in_(area_ids))
        .group_by(ReviewRound.area_id, ReviewRound.state)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for area_id, state, n in session.exec(query).all():
        counts[area_id][state] = n
    return counts


def _spent(session: Session, action_ids: list[int]) -> dict[int, int]:
    """Each action's spending to date: the newest check-in that states it."""
    query = (
        select(ActionUpdate.action_id, ActionUpdate.spent_thb)
        .where(col(ActionUpdate.action_id).in_(action_ids))
        .where(col(ActionUpdate.spent_thb).is_not(None))
        .order_by(col(ActionUpdate.on_date), col(ActionUpdate.id))
    )
    return dict(session.exec(query).all())  # later rows win


def _columns(filters: Filters, ref: Reference) -> list[HeatColumn]:
    if filters.heat == "theme":
        return [HeatColumn(t.id, t.code, t) for t in ref.themes.values()]
    return [HeatColumn(a.id, a.code, a) for a in ref.aspects]


def _heat(
    tree: PlanTree,
    kras: list[KeyResultArea],
    kpis: list[KPI],
    actions: list[Action],
    filters: Filters,
    ref: Reference,
) -> dict[int, float]:
    """Per column: how many actions (or KPIs, or how much budget) serve the area's KRAs of that
    DOE aspect or theme. An element serving KRAs of two columns counts in both."""
    columns_of: dict[int, set[int]] = {}  # KRA id -> column ids
    for kra in kras:
        if filters.heat == "theme":
            columns_of[kra.id] = {kra.theme_id} if kra.theme_id else set()
        else:
            items = tree.kra_items.get(kra.id, [])
            columns_of[kra.id] = {ref.items[i].aspect_id for i in items if i in ref.items}
    heat: dict[int, float] = defaultdict(float)
    if filters.measure == "kpis":
        for kpi in kpis:
            for column in _columns_served(columns_of, tree.kpi_kras.get(kpi.id, [])):
                heat[column] += 1
        return dict(heat)
    kpi_kras = tree.kpi_kras
    for action in actions:
        served = list(tree.action_kras.get(action.id, []))
        for kpi_id in tree.action_kpis.get(action.id, []):
            served.extend(kpi_kras.get(kpi_id, []))
        weight = (action.budget_thb or 0) if filters.measure == "budget" else 1
        for column in _columns_served(columns_of, served):
            heat[column] += weight
    return dict(heat)


def _columns_served(columns_of: dict[int, set[int]], kra_ids: list[int]) -> set[int]:
    return {c for kra_id in kra_ids for c in columns_of.get(kra_id, set())}


def _years(today: date) -> list[str]:
    """Academic and fiscal years that have begun, from B.E. 2562 (the first areas), newest
    first."""
    last = today.year + 543 + 1
    codes = [f"{prefix}{be}" for be in range(last, 2561, -1) for prefix in ("AY", "FY")]
    return [c for c in codes if period_span(c).starts_on <= today]
