"""Reference data kept by administrators in the app: areas (with their status history),
agencies, the DOE framework's versions and the strategy themes.

Every change is one audit event in the change's transaction (entity types `area`,
`area_status_change`, `agency`, `strategy_theme`, `doe_framework`, `doe_aspect`, `doe_item`).
A change that would leave plan data pointing at nothing (deleting an agency, a theme or a DOE
item that something cites; moving a cited agency to another area) is refused with `InUse`
(409), which lists what depends on the row, and nothing is changed.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from app.i18n import N_, thai_sort_key
from app.models import (
    Agency,
    AgencyType,
    Area,
    AreaStatusChange,
    DOEAspect,
    DOEFramework,
    DOEItem,
    DOEStatement,
    DOEStatementItem,
    KeyResultArea,
    KRADOEItem,
    Plan,
    StrategyTheme,
)
from app.models.base import utcnow
from app.models.enums import AuditOp
from app.schemas import (
    AdminAgencyIn,
    AreaIn,
    AreaStatusIn,
    DOENameIn,
    NewAreaIn,
    ThemeIn,
)
from app.services import audit
from app.services.audit import Actor
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate

IN_USE = N_("This is still used, so nothing was changed. Change or remove these first:")
NOT_DRAFT = N_("Only a draft version can be edited. Make a new version first.")
TAKEN = N_("Another one already has this code.")


@dataclass(frozen=True)
class Dependant:
    """Rows of one table that point at the row being changed: `table` and `column` name them
    (labels "entity" and "field"), `count` says how many; `names` the plans, when known."""

    table: str
    column: str
    count: int
    names: tuple[str, ...] = ()


class InUse(Conflict):
    def __init__(self, dependants: list[Dependant]) -> None:
        super().__init__(
            Msg(IN_USE),
            current={"dependants": [d.__dict__ | {"names": list(d.names)} for d in dependants]},
        )
        self.dependants = dependants


# Tables whose rows are the entity named in labels "entity" (a link table names its owner).
TABLE_ENTITY = {
    "kpi": "kpi",
    "kpi_co_owner": "kpi",
    "action": "action",
    "action_partner": "action",
    "key_result_area": "kra",
    "kra_doe_item": "kra",
    "doe_statement_item": "doe_statement",
    "outcome_doe_item": "emergent_outcome",
    "common_indicator": "common_indicator",
}


def dependants(session: Session, table: str, row_id: int) -> list[Dependant]:
    """Every row in the schema that points at `table`.id = row_id, counted per foreign key:
    found from the models' foreign keys, so a table added later is counted too."""
    found = []
    for other in SQLModel.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table.name != table or fk.column.name != "id" or other.name == table:
                continue
            column = fk.parent
            count = session.execute(
                sa.select(sa.func.count()).select_from(other).where(column == row_id)
            ).scalar_one()
            if count:
                found.append(Dependant(other.name, column.name, count))
    return found


def _refuse_if_used(found: list[Dependant]) -> None:
    if found:
        raise InUse(found)


def _taken(field: str = "code") -> ValidationFailed:
    return ValidationFailed({field: Msg(TAKEN)})


# ---- areas ------------------------------------------------------------------------------------


def list_areas(session: Session) -> list[Area]:
    """Every area, grouped by programme (the innovation areas first), in Thai order."""
    rows = session.exec(select(Area)).all()
    return sorted(
        rows,
        key=lambda a: (a.programme != "innovation_area", a.programme, thai_sort_key(a.name_th)),
    )


def status_history(session: Session, area_ids: list[int]) -> dict[int, list[AreaStatusChange]]:
    """Each area's status changes, oldest first (the last one is the current status)."""
    out: dict[int, list[AreaStatusChange]] = {i: [] for i in area_ids}
    if not area_ids:
        return out
    rows = session.exec(
        select(AreaStatusChange)
        .where(col(AreaStatusChange.area_id).in_(area_ids))
        .order_by(AreaStatusChange.changed_on, AreaStatusChange.id)
    ).all()
    for row in rows:
        out[row.area_id].append(row)
    return out


def get_area(session: Session, area_id: int) -> Area:
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(f"area/{area_id}")
    return area


def _validated_area(
    session: Session, schema: type[AreaIn], area_in: dict[str, Any], area_id: int | None
) -> Any:
    """The input checked, with a taken slug or ISO code among the field messages."""
    errors: dict[str, Msg] = {}
    data = None
    try:
        data = validate(schema, area_in)
    except ValidationFailed as exc:
        errors = dict(exc.errors)
    for field, normal in (("slug", str.lower), ("iso_code", str.upper)):
        value = normal(str(area_in.get(field) or "").strip())
        if field in errors or not value:
            continue
        query = select(Area.id).where(getattr(Area, field) == value)
        if area_id is not None:
            query = query.where(Area.id != area_id)
        if session.exec(query).first() is not None:
            errors[field] = Msg(TAKEN)
    if errors:
        raise ValidationFailed(errors)
    return data


def _area_publish(area: Area) -> dict[str, Any]:
    return {"type": "reference.changed", "entity": "area", "id": area.id}


def create_area(session: Session, *, actor: Actor, area_in: dict[str, Any]) -> Area:
    data = _validated_area(session, NewAreaIn, area_in, None)
    area = Area(
        **data.model_dump(include=set(AreaIn.model_fields)),
        status=data.status,
    )
    if area.designated_on is None and data.status in ("designated", "active"):
        area.designated_on = data.changed_on
    session.add(area)
    session.flush()
    change = AreaStatusChange(
        area_id=area.id, status=data.status, changed_on=data.changed_on, instrument=data.instrument
    )
    session.add(change)
    session.flush()
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="area_status_change",
        entity_id=change.id,
        op=AuditOp.create,
        after=audit.snapshot(change),
    )
    audit.commit(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="area",
        entity_id=area.id,
        op=AuditOp.create,
        after=audit.snapshot(area),
        publish=_area_publish(area),
    )
    return area


def update_area(session: Session, *, actor: Actor, area: Area, area_in: dict[str, Any]) -> Area:
    data = _validated_area(session, AreaIn, area_in, area.id)
    before = audit.snapshot(area)
    for name, value in data.model_dump().items():
        setattr(area, name, value)
    session.add(area)
    audit.commit(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="area",
        entity_id=area.id,
        op=AuditOp.update,
        before=before,
        after=audit.snapshot(area),
        publish=_area_publish(area),
    )
    return area


def add_status_change(
    session: Session, *, actor: Actor, area: Area, status_in: dict[str, Any]
) -> AreaStatusChange:
    """Record a change of status; the area's status becomes the latest entry's (by date)."""
    data = validate(AreaStatusIn, status_in)
    change = AreaStatusChange(area_id=area.id, **data.model_dump())
    session.add(change)
    session.flush()
    latest = status_history(session, [area.id])[area.id][-1]
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="area_status_change",
        entity_id=change.id,
        op=AuditOp.create,
        after=audit.snapshot(change),
    )
    if latest.status != area.status:
        before = audit.snapshot(area)
        area.status = latest.status
        session.add(area)
        audit.record(
            session,
            actor=actor,
            area_id=area.id,
            entity_type="area",
            entity_id=area.id,
            op=AuditOp.update,
            before=before,
            after=audit.snapshot(area),
        )
    audit.finish(session, area_id=area.id, publish=_area_publish(area))
    return change


# ---- agencies ---------------------------------------------------------------------------------


def list_agencies(session: Session) -> dict[int | None, list[Agency]]:
    """The national agencies (key None) and each area's, in their order."""
    out: dict[int | None, list[Agency]] = defaultdict(list)
    rows = session.exec(select(Agency).order_by(Agency.position, Agency.id)).all()
    for row in rows:
        out[row.area_id].append(row)
    return out


def agency_types(session: Session) -> list[AgencyType]:
    return list(session.exec(select(AgencyType).order_by(AgencyType.position, AgencyType.id)))


def get_agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency/{agency_id}")
    return agency


def _agency_values(session: Session, data: AdminAgencyIn, agency_id: int | None) -> dict:
    errors = {}
    if data.area_id is not None and session.get(Area, data.area_id) is None:
        errors["area_id"] = Msg(N_("Pick from the list."))
    if session.get(AgencyType, data.type_id) is None:
        errors["type_id"] = Msg(N_("Pick from the list."))
    query = select(Agency.id).where(Agency.code == data.code)
    query = query.where(
        col(Agency.area_id).is_(None) if data.area_id is None else Agency.area_id == data.area_id
    )
    if agency_id is not None:
        query = query.where(Agency.id != agency_id)
    if session.exec(query).first() is not None:
        errors["code"] = Msg(TAKEN)
    if errors:
        raise ValidationFailed(errors)
    values = data.model_dump()
    if values["position"] is None:
        values.pop("position")
    return values


def _agency_publish(agency: Agency, op: AuditOp) -> dict[str, Any]:
    return {"type": "reference.changed", "entity": "agency", "id": agency.id, "op": op.value}


def create_agency(session: Session, *, actor: Actor, agency_in: dict[str, Any]) -> Agency:
    values = _agency_values(session, validate(AdminAgencyIn, agency_in), None)
    if "position" not in values:
        last = session.exec(
            select(func.max(Agency.position)).where(Agency.area_id == values["area_id"])
            if values["area_id"] is not None
            else select(func.max(Agency.position)).where(col(Agency.area_id).is_(None))
        ).one()
        values["position"] = (last or 0) + 1
    agency = Agency(**values)
    session.add(agency)
    session.flush()
    audit.commit(
        session,
        actor=actor,
        area_id=agency.area_id,
        entity_type="agency",
        entity_id=agency.id,
        op=AuditOp.create,
        after=audit.snapshot(agency),
        publish=_agency_publish(agency, AuditOp.create),
    )
    return agency


def update_agency(
    session: Session, *, actor: Actor, agency: Agency, agency_in: dict[str, Any], version: int
) -> Agency:
    if version != agency.version:
        raise Conflict(Msg(audit.STALE), current=audit.snapshot(agency))
    data = validate(AdminAgencyIn, agency_in)
    if data.area_id != agency.area_id:  # moving it would leave another area's plans naming it
        _refuse_if_used(dependants(session, "agency", agency.id))
    values = _agency_values(session, data, agency.id)
    before = audit.snapshot(agency)
    for name, value in values.items():
        setattr(agency, name, value)
    agency.version += 1
    session.add(agency)
    audit.commit(
        session,
        actor=actor,
        area_id=agency.area_id,
        entity_type="agency",
        entity_id=agency.id,
        op=AuditOp.update,
        before=before,
        after=audit.snapshot(agency),
        publish=_agency_publish(agency, AuditOp.update),
    )
    return agency


def delete_agency(session: Session, *, actor: Actor, agency: Agency) -> None:
    _refuse_if_used(dependants(session, "agency", agency.id))
    before = audit.snapshot(agency)
    publish = _agency_publish(agency, AuditOp.delete)
    session.delete(agency)
    audit.commit(
        session,
        actor=actor,
        area_id=before["area_id"],
        entity_type="agency",
        entity_id=before["id"],
        op=AuditOp.delete,
        before=before,
        publish=publish,
    )


# ---- strategy themes --------------------------------------------------------------------------


def list_themes(session: Session) -> list[StrategyTheme]:
    return list(
        session.exec(select(StrategyTheme).order_by(StrategyTheme.position, StrategyTheme.id))
    )


def get_theme(session: Session, theme_id: int) -> StrategyTheme:
    theme = session.get(StrategyTheme, theme_id)
    if theme is None:
        raise NotFound(f"strategy_theme/{theme_id}")
    return theme


def _theme_event(
    session: Session, actor: Actor, theme_id: int, op: AuditOp, before: Any, after: Any
) -> None:
    audit.commit(
        session,
        actor=actor,
        area_id=None,
        entity_type="strategy_theme",
        entity_id=theme_id,
        op=op,
        before=before,
        after=after,
    )


def create_theme(session: Session, *, actor: Actor, theme_in: dict[str, Any]) -> StrategyTheme:
    data = validate(ThemeIn, theme_in)
    if session.exec(select(StrategyTheme.id).where(StrategyTheme.code == data.code)).first():
        raise _taken()
    last = session.exec(select(func.max(StrategyTheme.position))).one()
    theme = StrategyTheme(**data.model_dump(), position=(last or 0) + 1)
    session.add(theme)
    session.flush()
    _theme_event(session, actor, theme.id, AuditOp.create, None, audit.snapshot(theme))
    return theme


def rename_theme(
    session: Session, *, actor: Actor, theme: StrategyTheme, theme_in: dict[str, Any]
) -> StrategyTheme:
    """New names (the code stays: seeds and imports find the theme by it)."""
    data = validate(ThemeIn, {**theme_in, "code": theme.code})
    before = audit.snapshot(theme)
    theme.name_th, theme.name_en = data.name_th, data.name_en
    session.add(theme)
    _theme_event(session, actor, theme.id, AuditOp.update, before, audit.snapshot(theme))
    return theme


def move_theme(session: Session, *, actor: Actor, theme: StrategyTheme, step: int) -> None:
    """Swap the theme with its neighbour above (step -1) or below (+1); renumbers the order."""
    themes = list_themes(session)
    index = next(i for i, t in enumerate(themes) if t.id == theme.id)
    other = index + step
    if step not in (-1, 1) or not 0 <= other < len(themes):
        return
    before = audit.snapshot(theme)
    themes[index], themes[other] = themes[other], themes[index]
    for position, row in enumerate(themes):
        if row.position != position:
            row.position = position
            session.add(row)
    _theme_event(session, actor, theme.id, AuditOp.update, before, audit.snapshot(theme))


def delete_theme(session: Session, *, actor: Actor, theme: StrategyTheme) -> None:
    _refuse_if_used(dependants(session, "strategy_theme", theme.id))
    before = audit.snapshot(theme)
    session.delete(theme)
    _theme_event(session, actor, before["id"], AuditOp.delete, before, None)


# ---- the DOE framework ------------------------------------------------------------------------


@dataclass
class FrameworkView:
    framework: DOEFramework
    aspects: list[DOEAspect]
    items: dict[int, list[DOEItem]]  # by aspect id


def list_frameworks(session: Session) -> list[DOEFramework]:
    return list(
        session.exec(
            select(DOEFramework).order_by(DOEFramework.code, col(DOEFramework.version).desc())
        )
    )


def get_framework(session: Session, framework_id: int) -> DOEFramework:
    framework = session.get(DOEFramework, framework_id)
    if framework is None:
        raise NotFound(f"doe_framework/{framework_id}")
    return framework


def framework_view(session: Session, framework: DOEFramework) -> FrameworkView:
    aspects = list(
        session.exec(
            select(DOEAspect)
            .where(DOEAspect.framework_id == framework.id)
            .order_by(DOEAspect.position, DOEAspect.id)
        )
    )
    items: dict[int, list[DOEItem]] = {a.id: [] for a in aspects}
    rows = session.exec(
        select(DOEItem)
        .join(DOEAspect)
        .where(DOEAspect.framework_id == framework.id)
        .order_by(DOEItem.position, DOEItem.id)
    ).all()
    for row in rows:
        items[row.aspect_id].append(row)
    return FrameworkView(framework, aspects, items)


def _framework_event(
    session: Session, actor: Actor, entity: str, row_id: int, op: AuditOp, before: Any, after: Any
) -> None:
    audit.commit(
        session,
        actor=actor,
        area_id=None,
        entity_type=entity,
        entity_id=row_id,
        op=op,
        before=before,
        after=after,
    )


def new_version(session: Session, *, actor: Actor, framework: DOEFramework) -> DOEFramework:
    """A draft copy of `framework` (its aspects and items, confirmations included) as the next
    version number of its code; the current version stays current until one is marked."""
    last = session.exec(
        select(func.max(DOEFramework.version)).where(DOEFramework.code == framework.code)
    ).one()
    copy = DOEFramework(
        code=framework.code,
        version=(last or 0) + 1,
        name_th=framework.name_th,
        name_en=framework.name_en,
        is_current=False,
    )
    session.add(copy)
    session.flush()
    view = framework_view(session, framework)
    for aspect in view.aspects:
        new_aspect = DOEAspect(
            framework_id=copy.id,
            **aspect.model_dump(include={"code", "name_th", "name_en", "position"}),
        )
        session.add(new_aspect)
        session.flush()
        for item in view.items[aspect.id]:
            fields = {"code", "name_th", "name_en", "position", "confirmed_at", "confirmed_by"}
            session.add(DOEItem(aspect_id=new_aspect.id, **item.model_dump(include=fields)))
    session.flush()
    _framework_event(
        session, actor, "doe_framework", copy.id, AuditOp.create, None, audit.snapshot(copy)
    )
    return copy


def make_current(session: Session, *, actor: Actor, framework: DOEFramework) -> None:
    """Mark `framework` the current version. What plans cite in the version it replaces moves
    to the same-coded items of this one, so no plan loses its DOE links; items the new version
    no longer has stay cited in the old one (and `make_current` refuses: 409 listing them)."""
    previous = [f for f in list_frameworks(session) if f.is_current and f.id != framework.id]
    new_items = {
        (a, i): item_id
        for a, i, item_id in session.exec(
            select(DOEAspect.code, DOEItem.code, DOEItem.id)
            .join(DOEAspect)
            .where(DOEAspect.framework_id == framework.id)
        )
    }
    links = [(t, t.c.item_id) for t in _item_link_tables()]
    moves: dict[int, int] = {}
    missing: list[Dependant] = []
    for old in previous:
        for a, i, item_id in session.exec(
            select(DOEAspect.code, DOEItem.code, DOEItem.id)
            .join(DOEAspect)
            .where(DOEAspect.framework_id == old.id)
        ):
            if (a, i) in new_items:
                moves[item_id] = new_items[(a, i)]
            else:
                missing += dependants(session, "doe_item", item_id)
    _refuse_if_used(missing)
    for table, column in links:
        for old_id, new_id in moves.items():
            session.execute(sa.update(table).where(column == old_id).values({column.name: new_id}))
    before = audit.snapshot(framework)
    for old in previous:
        old.is_current = False
        session.add(old)
    framework.is_current = True
    session.add(framework)
    session.flush()
    _framework_event(
        session,
        actor,
        "doe_framework",
        framework.id,
        AuditOp.update,
        before,
        audit.snapshot(framework),
    )


def _item_link_tables() -> list[sa.Table]:
    return [
        t
        for t in SQLModel.metadata.sorted_tables
        if any(
            fk.column.table.name == "doe_item" and fk.parent.name == "item_id"
            for fk in t.foreign_keys
        )
    ]


def _draft(framework: DOEFramework) -> None:
    if framework.is_current:
        raise Conflict(Msg(NOT_DRAFT))


def get_aspect(session: Session, aspect_id: int) -> DOEAspect:
    aspect = session.get(DOEAspect, aspect_id)
    if aspect is None:
        raise NotFound(f"doe_aspect/{aspect_id}")
    return aspect


def get_item(session: Session, item_id: int) -> DOEItem:
    item = session.get(DOEItem, item_id)
    if item is None:
        raise NotFound(f"doe_item/{item_id}")
    return item


def _item_framework(session: Session, item: DOEItem) -> DOEFramework:
    return get_framework(session, get_aspect(session, item.aspect_id).framework_id)


def add_aspect(
    session: Session, *, actor: Actor, framework: DOEFramework, aspect_in: dict[str, Any]
) -> DOEAspect:
    _draft(framework)
    data = validate(DOENameIn, aspect_in)
    if session.exec(
        select(DOEAspect.id).where(
            DOEAspect.framework_id == framework.id, DOEAspect.code == data.code
        )
    ).first():
        raise _taken()
    last = session.exec(
        select(func.max(DOEAspect.position)).where(DOEAspect.framework_id == framework.id)
    ).one()
    aspect = DOEAspect(framework_id=framework.id, **data.model_dump(), position=(last or 0) + 1)
    session.add(aspect)
    session.flush()
    _framework_event(
        session, actor, "doe_aspect", aspect.id, AuditOp.create, None, audit.snapshot(aspect)
    )
    return aspect


def add_item(
    session: Session, *, actor: Actor, aspect: DOEAspect, item_in: dict[str, Any]
) -> DOEItem:
    _draft(get_framework(session, aspect.framework_id))
    data = validate(DOENameIn, item_in)
    if session.exec(
        select(DOEItem.id).where(DOEItem.aspect_id == aspect.id, DOEItem.code == data.code)
    ).first():
        raise _taken()
    last = session.exec(
        select(func.max(DOEItem.position)).where(DOEItem.aspect_id == aspect.id)
    ).one()
    item = DOEItem(aspect_id=aspect.id, **data.model_dump(), position=(last or 0) + 1)
    session.add(item)
    session.flush()
    _framework_event(
        session, actor, "doe_item", item.id, AuditOp.create, None, audit.snapshot(item)
    )
    return item


def update_item(
    session: Session, *, actor: Actor, item: DOEItem, item_in: dict[str, Any]
) -> DOEItem:
    """New wording for a draft version's item; changed wording needs confirming again."""
    _draft(_item_framework(session, item))
    data = validate(DOENameIn, item_in)
    if session.exec(
        select(DOEItem.id).where(
            DOEItem.aspect_id == item.aspect_id, DOEItem.code == data.code, DOEItem.id != item.id
        )
    ).first():
        raise _taken()
    before = audit.snapshot(item)
    if (data.name_th, data.name_en) != (item.name_th, item.name_en):
        item.confirmed_at = item.confirmed_by = None
    item.code, item.name_th, item.name_en = data.code, data.name_th, data.name_en
    session.add(item)
    _framework_event(
        session, actor, "doe_item", item.id, AuditOp.update, before, audit.snapshot(item)
    )
    return item


def delete_item(session: Session, *, actor: Actor, item: DOEItem) -> None:
    """Delete a draft version's item; refused (409 naming the plans) while plans cite it."""
    found = dependants(session, "doe_item", item.id)
    if found:
        plans = citing_plans(session, item.id)
        raise InUse([Dependant(d.table, d.column, d.count, plans) for d in found])
    _draft(_item_framework(session, item))
    before = audit.snapshot(item)
    session.delete(item)
    _framework_event(session, actor, "doe_item", before["id"], AuditOp.delete, before, None)


def citing_plans(session: Session, item_id: int) -> tuple[str, ...]:
    """The titles of the plans whose desired outcomes or KRAs cite the item."""
    via_doe = (
        select(Plan.id)
        .join(DOEStatement, DOEStatement.plan_id == Plan.id)
        .join(DOEStatementItem, DOEStatementItem.statement_id == DOEStatement.id)
        .where(DOEStatementItem.item_id == item_id)
    )
    via_kra = (
        select(Plan.id)
        .join(KeyResultArea, KeyResultArea.plan_id == Plan.id)
        .join(KRADOEItem, KRADOEItem.kra_id == KeyResultArea.id)
        .where(KRADOEItem.item_id == item_id)
    )
    rows = session.exec(
        select(Plan.title, Area.name_th)
        .join(Area, Area.id == Plan.area_id)
        .where(or_in(Plan.id, via_doe, via_kra))
        .order_by(Plan.title)
    ).all()
    return tuple(f"{title} ({area})" for title, area in rows)


def or_in(column: Any, *queries: Any) -> Any:
    return sa.or_(*(col(column).in_(q) for q in queries))


def confirm_item(session: Session, *, actor: Actor, item: DOEItem) -> DOEItem:
    """The administrator has checked the item's wording against the official text."""
    before = audit.snapshot(item)
    item.confirmed_at = utcnow()
    item.confirmed_by = actor.label
    session.add(item)
    _framework_event(
        session, actor, "doe_item", item.id, AuditOp.update, before, audit.snapshot(item)
    )
    return item
