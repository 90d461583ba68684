"""The common-indicator library: national indicators (P1 reading "good or above" %, O-NET mean
with the number tested…) that provincial KPIs map to, so reviewers can compare areas on the
same measure; and the read models of its pages: the library, one indicator compared across
areas over time, and the KPIs mapped to nothing.

Administrators and reviewers keep the library. An indicator is retired rather than deleted: the
KPIs that measure it keep it, new ones cannot pick it. Its code never changes once made: it is
in links (`/indicators/<code>`, `/review?indicator=<code>`) and the seeds add indicators by code.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from app import charts, i18n, labels
from app.i18n import N_, thai_today
from app.models import (
    KPI,
    Area,
    CommonIndicator,
    DOEAspect,
    DOEFramework,
    KPITarget,
    Measurement,
    Plan,
    StrategyTheme,
)
from app.models.enums import AuditOp, Direction, KPIStatus
from app.periods import period_label, sort_key
from app.schemas import CommonIndicatorIn
from app.services import audit
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plan_tree import current_plan_ids, current_plans
from app.services.progress import KPIProgress, kpi_row
from app.services.validation import validate

ENTITY = "common_indicator"
RESERVED_CODES = frozenset({"unmapped", "new"})  # page names under /indicators/
STALE = N_("Someone else changed this indicator meanwhile. Its saved values are shown below.")

# ---- who may write --------------------------------------------------------------------------

# The library is national: it is kept by the roles held for every area (administrators and
# reviewers), the same people who review the areas' periods.
LIBRARY_PERMISSION = Permission.review


def can_edit_library(principal: Principal) -> bool:
    return principal.can(LIBRARY_PERMISSION)


def require_library_editor(principal: Principal) -> None:
    """Signed in (401) and an administrator or reviewer (403)."""
    principal.require(LIBRARY_PERMISSION)


# ---- writes ---------------------------------------------------------------------------------


def get_indicator(session: Session, code: str) -> CommonIndicator:
    row = session.exec(select(CommonIndicator).where(CommonIndicator.code == code)).first()
    if row is None:
        raise NotFound(code)
    return row


def create_indicator(
    session: Session, *, actor: audit.Actor, indicator_in: dict[str, Any]
) -> CommonIndicator:
    data = validate(CommonIndicatorIn, indicator_in)
    _check(session, data, current=None)
    row = CommonIndicator(**_columns(data), position=_next_position(session))
    session.add(row)
    session.flush()
    _commit(session, actor, row, AuditOp.create, None)
    return row


def update_indicator(
    session: Session,
    *,
    actor: audit.Actor,
    indicator: CommonIndicator,
    indicator_in: dict[str, Any],
    expected_version: int | None = None,
    partial: bool = False,
) -> CommonIndicator:
    """Change an indicator's fields (not its code). Its kind and period type stay while KPIs
    map to it: their values would no longer compare."""
    _check_version(indicator, expected_version)
    merged = {**current_values(indicator), **indicator_in} if partial else dict(indicator_in)
    data = validate(CommonIndicatorIn, {**merged, "code": indicator.code})
    _check(session, data, current=indicator)
    changes = {k: v for k, v in _columns(data).items() if getattr(indicator, k) != v}
    if not changes:
        return indicator
    before = audit.snapshot(indicator)
    for name, value in changes.items():
        setattr(indicator, name, value)
    indicator.version += 1
    session.add(indicator)
    _commit(session, actor, indicator, AuditOp.update, before)
    return indicator


def retire(
    session: Session,
    *,
    actor: audit.Actor,
    indicator: CommonIndicator,
    expected_version: int | None = None,
) -> CommonIndicator:
    """No new KPI can map to it; the KPIs that measure it keep it (and stay comparable)."""
    return _set_active(session, actor, indicator, False, expected_version)


def reactivate(
    session: Session,
    *,
    actor: audit.Actor,
    indicator: CommonIndicator,
    expected_version: int | None = None,
) -> CommonIndicator:
    return _set_active(session, actor, indicator, True, expected_version)


def _set_active(
    session: Session,
    actor: audit.Actor,
    indicator: CommonIndicator,
    active: bool,
    expected_version: int | None,
) -> CommonIndicator:
    _check_version(indicator, expected_version)
    if indicator.is_active == active:
        return indicator
    before = audit.snapshot(indicator)
    indicator.is_active = active
    indicator.version += 1
    session.add(indicator)
    _commit(session, actor, indicator, AuditOp.update, before)
    return indicator


def current_values(indicator: CommonIndicator) -> dict[str, Any]:
    """The indicator's fields as its form shows them."""
    return {name: getattr(indicator, name) for name in CommonIndicatorIn.model_fields}


def _columns(data: CommonIndicatorIn) -> dict[str, Any]:
    values = data.model_dump()
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


def _check_version(indicator: CommonIndicator, expected: int | None) -> None:
    if expected is not None and expected != indicator.version:
        raise Conflict(Msg(STALE), current=audit.snapshot(indicator))


def _check(session: Session, data: CommonIndicatorIn, current: CommonIndicator | None) -> None:
    errors: dict[str, Msg] = {}
    current_id = current.id if current else None
    others = [i for i in session.exec(select(CommonIndicator)).all() if i.id != current_id]
    if current is None and data.code in RESERVED_CODES:
        errors["code"] = Msg(N_("This code is reserved: choose another."))
    elif current is None and any(i.code == data.code for i in others):
        errors["code"] = Msg(N_("Another indicator already has this code."))
    if any(i.name_th.casefold() == data.name_th.casefold() for i in others):
        errors["name_th"] = Msg(N_("Another indicator already has this Thai name."))
    if data.theme_id is not None and session.get(StrategyTheme, data.theme_id) is None:
        errors["theme_id"] = Msg(N_("Pick from the list."))
    if data.aspect_id is not None and data.aspect_id not in _current_aspect_ids(session):
        errors["aspect_id"] = Msg(N_("Pick from the list."))
    if current is not None:
        errors.update(_mapped_changes(session, current, data))
    if errors:
        raise ValidationFailed(errors)


def _mapped_changes(
    session: Session, current: CommonIndicator, data: CommonIndicatorIn
) -> dict[str, Msg]:
    changed = [
        name
        for name in ("kind", "period_type")
        if getattr(data, name).value != getattr(current, name)
    ]
    if not changed:
        return {}
    mapped = session.exec(
        select(func.count()).select_from(KPI).where(KPI.indicator_id == current.id)
    ).one()
    if not mapped:
        return {}
    message = Msg(
        N_(
            "The kind and period type cannot change while KPIs measure this indicator "
            "(%(num)s now): their values would no longer compare. Map those KPIs to another "
            "indicator first."
        ),
        {"num": mapped},
    )
    return dict.fromkeys(changed, message)


def _current_aspect_ids(session: Session) -> set[int]:
    query = select(DOEAspect.id).join(DOEFramework).where(col(DOEFramework.is_current).is_(True))
    return set(session.exec(query).all())


def _next_position(session: Session) -> int:
    current = session.exec(select(func.max(CommonIndicator.position))).one()
    return 0 if current is None else current + 1


def _commit(
    session: Session,
    actor: audit.Actor,
    row: CommonIndicator,
    op: AuditOp,
    before: dict[str, Any] | None,
) -> None:
    audit.commit(
        session,
        actor=actor,
        area_id=None,  # national reference data
        entity_type=ENTITY,
        entity_id=row.id,
        op=op,
        before=before,
        after=audit.snapshot(row),
    )


# ---- the library ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryRow:
    indicator: CommonIndicator
    kpis: int  # KPIs of the areas' current plans that measure it
    areas: int


@dataclass
class Vocabulary:
    """What the library's pages name and offer: themes and DOE aspects."""

    themes: dict[int, StrategyTheme]
    aspects: dict[int, DOEAspect]  # every framework's: an indicator may name an older one
    current_aspects: list[DOEAspect]  # the ones a form offers

    def theme_choices(self) -> list[tuple[int, str]]:
        return [(t.id, i18n.localized(t)) for t in self.themes.values()]

    def aspect_choices(self) -> list[tuple[int, str]]:
        return [(a.id, f"{a.code} · {i18n.localized(a)}") for a in self.current_aspects]


def vocabulary(session: Session) -> Vocabulary:
    themes = session.exec(select(StrategyTheme).order_by(StrategyTheme.position)).all()
    rows = session.exec(
        select(DOEAspect, DOEFramework.is_current)
        .join(DOEFramework)
        .order_by(DOEAspect.framework_id, DOEAspect.position)
    ).all()
    return Vocabulary(
        themes={t.id: t for t in themes},
        aspects={a.id: a for a, _ in rows},
        current_aspects=[a for a, is_current in rows if is_current],
    )


def active_indicators(session: Session) -> list[CommonIndicator]:
    """The indicators a KPI may map to, in the library's order."""
    query = select(CommonIndicator).where(col(CommonIndicator.is_active).is_(True))
    return list(
        session.exec(query.order_by(col(CommonIndicator.position), col(CommonIndicator.id)))
    )


def library(session: Session, area_ids: set[int] | None = None) -> list[LibraryRow]:
    """Every indicator (retired ones too) in the library's order, with how many KPIs of the
    areas' current plans (None: every area) measure it, and in how many areas. Two queries."""
    indicators = session.exec(
        select(CommonIndicator).order_by(col(CommonIndicator.position), col(CommonIndicator.id))
    ).all()
    counts = session.exec(
        select(KPI.indicator_id, func.count(KPI.id), func.count(func.distinct(Plan.area_id)))
        .join(Plan, col(Plan.id) == col(KPI.plan_id))
        .where(col(KPI.indicator_id).is_not(None))
        .where(col(KPI.plan_id).in_(current_plan_ids(area_ids)))
        .group_by(KPI.indicator_id)
    ).all()
    found = {indicator_id: (kpis, areas) for indicator_id, kpis, areas in counts}
    return [LibraryRow(i, *found.get(i.id, (0, 0))) for i in indicators]


# ---- one indicator compared across areas ----------------------------------------------------


@dataclass
class ComparedKPI:
    """One area's KPI that measures the indicator: its values and statuses per period."""

    area: Area
    progress: KPIProgress
    shared: bool = False  # the area has more than one KPI mapped to the indicator

    @property
    def kpi(self) -> KPI:
        return self.progress.kpi

    def value(self, period: str) -> Measurement | None:
        return self.progress.actuals.get(period)

    def status(self, period: str) -> KPIStatus | None:
        judgement = self.progress.judgements.get(period)
        return judgement.status if judgement else None

    @property
    def name(self) -> str:
        """The line's name: the area, and the KPI's code when the area has several."""
        name = i18n.localized(self.area)
        return f"{name} · {self.kpi.code}" if self.shared else name


@dataclass
class Comparison:
    indicator: CommonIndicator
    periods: list[str]  # every period in which some mapped KPI has a value, in time order
    lines: list[ComparedKPI]  # by area (in the order asked), then KPI position
    without: list[Area] = field(default_factory=list)  # areas asked whose plan maps no KPI

    def axis_title(self) -> str:
        unit = self.indicator.unit or labels.label("kpi_kind", self.indicator.kind)
        if self.indicator.direction == Direction.lower:
            return i18n.gettext("%(unit)s (lower is better)", unit=unit)
        return unit

    def figure(self) -> dict[str, Any]:
        """The Plotly figure: one line per area, period labels along the bottom. A KPI with no
        value yet has no line (its row in the table says so)."""
        count = self.indicator.needs_count
        lines = []
        for line in self.lines:
            values = [self._number(line, p) for p in self.periods]
            if all(v is None for v in values):
                continue
            hover = [self._count_text(line, p) for p in self.periods] if count else None
            lines.append(charts.Line(line.name, values, hover))
        labels_ = [period_label(p) for p in self.periods]
        return charts.indicator_figure(labels_, lines, self.axis_title())

    @staticmethod
    def _number(line: ComparedKPI, period: str) -> float | None:
        m = line.value(period)
        return m.value if m else None

    @staticmethod
    def _count_text(line: ComparedKPI, period: str) -> str:
        m = line.value(period)
        if m is None or m.n_measured is None:
            return ""
        return i18n.gettext("%(num)s measured", num=i18n.format_number(m.n_measured))


def comparison(
    session: Session, indicator: CommonIndicator, areas: list[Area], today: date | None = None
) -> Comparison:
    """The indicator's values in each area (in the order given) whose current plan has KPIs
    mapped to it. Four queries, whatever the number of areas, KPIs and periods."""
    today = today or thai_today()
    plans = current_plans(session, [a.id for a in areas])
    by_plan = {p.id: p for p in plans.values()}
    kpis = (
        session.exec(
            select(KPI)
            .where(KPI.indicator_id == indicator.id, col(KPI.plan_id).in_(list(by_plan)))
            .order_by(col(KPI.position), col(KPI.id))
        ).all()
        if by_plan
        else []
    )
    actuals, targets = _values(session, [k.id for k in kpis])
    rows: dict[int, list[KPIProgress]] = defaultdict(list)
    for kpi in kpis:
        plan = by_plan[kpi.plan_id]
        rows[plan.area_id].append(kpi_row(plan, kpi, actuals[kpi.id], targets[kpi.id], today))
    return assemble(indicator, [(area, rows.get(area.id, [])) for area in areas])


def assemble(
    indicator: CommonIndicator, per_area: list[tuple[Area, list[KPIProgress]]]
) -> Comparison:
    """The comparison from KPI rows already read (each area's KPIs that measure the indicator,
    in the order to show): no query of its own."""
    lines = [
        ComparedKPI(area, row, shared=len(rows) > 1) for area, rows in per_area for row in rows
    ]
    periods = sorted({p for line in lines for p in line.progress.actuals}, key=sort_key)
    without = [area for area, rows in per_area if not rows]
    return Comparison(indicator, periods, lines, without)


def _values(
    session: Session, kpi_ids: list[int]
) -> tuple[dict[int, dict[str, Measurement]], dict[int, dict[str, float]]]:
    actuals: dict[int, dict[str, Measurement]] = defaultdict(dict)
    targets: dict[int, dict[str, float]] = defaultdict(dict)
    if not kpi_ids:
        return actuals, targets
    for m in session.exec(select(Measurement).where(col(Measurement.kpi_id).in_(kpi_ids))):
        actuals[m.kpi_id][m.period] = m
    for t in session.exec(select(KPITarget).where(col(KPITarget.kpi_id).in_(kpi_ids))):
        targets[t.kpi_id][t.period] = t.value
    return actuals, targets


# ---- KPIs mapped to nothing -----------------------------------------------------------------


def unmapped_kpis(session: Session, areas: list[Area]) -> list[tuple[Area, KPI]]:
    """The KPIs of the areas' current plans that measure no common indicator, by area (in the
    order given), then KPI position. One query."""
    if not areas:
        return []
    by_id = {a.id: a for a in areas}
    rows = session.exec(
        select(KPI, Plan.area_id)
        .join(Plan, col(Plan.id) == col(KPI.plan_id))
        .where(col(KPI.indicator_id).is_(None))
        .where(col(KPI.plan_id).in_(current_plan_ids(by_id)))
    ).all()
    order = {area_id: index for index, area_id in enumerate(by_id)}
    rows = sorted(rows, key=lambda r: (order[r[1]], r[0].position, r[0].id))
    return [(by_id[area_id], kpi) for kpi, area_id in rows]
