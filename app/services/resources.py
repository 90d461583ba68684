"""The area's capital and resources in the four dimensions (DOMAIN.md §6) and its data
catalogue: the data items KPIs cite as their data source.

Both are DE records written through records.py (RecordSpec): a resource names its owner agency
and the actions that use it; a data item its custodian agency, source system, frequency and
access. A workshop contribution of kind "resource" becomes a resource when the facilitator
accepts it (`from_contribution`, called by workshops.accept inside its own transaction).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from openpyxl import Workbook
from pydantic import BeforeValidator, Field
from sqlmodel import Session, col, or_, select

from app.i18n import N_, gettext, localized, thai_sort_key
from app.labels import label, reporter_label
from app.models import (
    KPI,
    Action,
    Agency,
    Area,
    Contribution,
    DataItem,
    DataItemCategorySet,
    KPIDataItem,
    Resource,
    ResourceAction,
    WorkshopSession,
)
from app.models.de import DataAccess, DataFrequency
from app.models.enums import PeriodType, UnitKind
from app.models.workshops import ResourceDimension
from app.schemas import Ids, InputModel, OptionalId, Text, _integer, fail
from app.services import audit, breakdowns, records, shared_data
from app.services.breakdowns import SetView
from app.services.errors import Conflict, Msg
from app.services.plan_tree import current_plan_ids
from app.services.records import RecordLink, RecordSpec
from app.services.spreadsheets import Column, save_workbook, table_sheet

NAME_MAX = 300
DESCRIPTION_MAX = 4000
CITED = N_("KPIs cite this data item; confirm to delete it and remove it from them.")


class ResourceIn(InputModel):
    dimension: ResourceDimension
    name: Text = Field(min_length=1, max_length=NAME_MAX)
    description: Text = Field(default="", max_length=DESCRIPTION_MAX)
    owner_agency_id: OptionalId = None
    action_ids: Ids = []


REPORTERS = ("", *(kind.value for kind in UnitKind))  # "": one value for the whole area
DUE_DAYS = 90


def _reporter(value: Any) -> Any:
    text = value.strip() if isinstance(value, str) else value
    if text not in REPORTERS:
        raise fail("Pick from the list.")
    return text


def _due_days(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return DUE_DAYS
    return _integer(value)


class DataItemIn(InputModel):
    name: Text = Field(min_length=1, max_length=NAME_MAX)
    description: Text = Field(default="", max_length=DESCRIPTION_MAX)
    custodian_agency_id: OptionalId = None
    source_system: Text = Field(default="", max_length=300)
    frequency: DataFrequency = DataFrequency.yearly
    access: DataAccess = DataAccess.on_request
    measure: Text = Field(default="", max_length=60)
    period_type: PeriodType = PeriodType.fiscal_year
    reported_by: Annotated[str, BeforeValidator(_reporter)] = ""
    due_days: Annotated[int, BeforeValidator(_due_days), Field(ge=1, le=730)] = DUE_DAYS
    category_set_ids: Ids = []


RESOURCES = RecordSpec(
    "resource",
    Resource,
    ResourceIn,
    links=(RecordLink("action_ids", ResourceAction, "resource_id", "action_id", "actions"),),
    agency_fields=("owner_agency_id",),
    positioned=True,
)
DATA_ITEMS = RecordSpec(
    "data_item",
    DataItem,
    DataItemIn,
    links=(
        RecordLink(
            "category_set_ids", DataItemCategorySet, "data_item_id", "set_id", "category_sets"
        ),
    ),
    agency_fields=("custodian_agency_id",),
    positioned=True,
)


# ---- writing --------------------------------------------------------------------------------


def create_resource(
    session: Session, *, actor: audit.Actor, area: Area, resource_in: dict[str, Any]
) -> Resource:
    return records.create(session, actor=actor, area=area, spec=RESOURCES, record_in=resource_in)


def update_resource(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    resource_id: int,
    resource_in: dict[str, Any],
    expected_version: int | None = None,
) -> Resource:
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=RESOURCES,
        record_id=resource_id,
        record_in=resource_in,
        expected_version=expected_version,
    )


def delete_resource(
    session: Session, *, actor: audit.Actor, area: Area, resource_id: int
) -> dict[str, Any]:
    return records.delete(session, actor=actor, area=area, spec=RESOURCES, record_id=resource_id)


def from_contribution(
    session: Session, *, actor: audit.Actor, area: Area, contribution: Contribution
) -> Resource:
    """The resource an accepted contribution becomes: its dimension, its text as the name (the
    whole text in the description when it is longer than a name may be). Recorded, not
    committed: the caller commits it with the contribution's change."""
    name = " ".join(contribution.text.split())
    long = len(name) > NAME_MAX
    values = {
        "dimension": contribution.dimension,
        "name": name[: NAME_MAX - 1] + "…" if long else name,
        "description": contribution.text if long else "",
    }
    extra = {"contribution_id": contribution.id}
    return records.create(
        session,
        actor=actor,
        area=area,
        spec=RESOURCES,
        record_in=values,
        extra=extra,
        commit=False,
    )


def create_data_item(
    session: Session, *, actor: audit.Actor, area: Area, item_in: dict[str, Any]
) -> DataItem:
    return records.create(session, actor=actor, area=area, spec=DATA_ITEMS, record_in=item_in)


def update_data_item(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    item_id: int,
    item_in: dict[str, Any],
    expected_version: int | None = None,
) -> DataItem:
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=DATA_ITEMS,
        record_id=item_id,
        record_in=item_in,
        expected_version=expected_version,
    )


def delete_data_item(
    session: Session, *, actor: audit.Actor, area: Area, item_id: int, force: bool = False
) -> dict[str, Any]:
    """Delete a data item; the KPIs citing it lose the link (the database cascades it).
    Without `force`, a cited item is refused with the KPIs that cite it."""
    item = records.get(session, DATA_ITEMS, area, item_id)
    cited = citing_kpis(session, area, [item.id]).get(item.id, [])
    if cited and not force:
        raise Conflict(Msg(CITED), current={"kpis": [k.id for k in cited]})
    # a KPI computed from it is entered by hand again, keeping its last values
    for kpi in shared_data.computed_from(session, [item.id]):
        shared_data.set_computation(
            session, actor=actor, area=area, plan=None, kpi=kpi, computation=None
        )
    return records.delete(session, actor=actor, area=area, spec=DATA_ITEMS, record_id=item_id)


# ---- reading --------------------------------------------------------------------------------


def get_resource(session: Session, area: Area, resource_id: int) -> Resource:
    return records.get(session, RESOURCES, area, resource_id)


def get_data_item(session: Session, area: Area, item_id: int) -> DataItem:
    return records.get(session, DATA_ITEMS, area, item_id)


def resource_values(session: Session, row: Resource) -> dict[str, Any]:
    return records.values(session, RESOURCES, row)


def data_item_values(session: Session, row: DataItem) -> dict[str, Any]:
    return records.values(session, DATA_ITEMS, row)


def agencies(session: Session, area: Area) -> list[Agency]:
    """What a resource's owner or a data item's custodian may be: the area's agencies, then the
    national ones (the plan editor's order)."""
    rows = session.exec(
        select(Agency).where(or_(col(Agency.area_id).is_(None), Agency.area_id == area.id))
    ).all()
    return sorted(rows, key=lambda a: (a.area_id is None, a.position, a.id))


@dataclass
class ResourceEntry:
    resource: Resource
    owner: Agency | None
    actions: list[Action]
    workshop: WorkshopSession | None  # the session its contribution was posted in

    @property
    def action_ids(self) -> list[int]:
        return [a.id for a in self.actions]


@dataclass
class Inventory:
    area: Area
    dimensions: dict[str, list[ResourceEntry]]  # every dimension, in DOMAIN.md order
    agencies: list[Agency] = field(default_factory=list)  # choices for the forms
    actions: list[Action] = field(default_factory=list)  # of the current plan

    @property
    def total(self) -> int:
        return sum(len(entries) for entries in self.dimensions.values())

    @property
    def agency_choices(self) -> list[tuple[int, str]]:
        return [(a.id, localized(a)) for a in self.agencies]

    @property
    def action_choices(self) -> list[tuple[int, str]]:
        return [(a.id, f"{a.code} · {a.title}") for a in self.actions]

    def entry(self, resource_id: int) -> ResourceEntry | None:
        return next(
            (e for es in self.dimensions.values() for e in es if e.resource.id == resource_id),
            None,
        )


def inventory(session: Session, area: Area) -> Inventory:
    """The area's resources by dimension, with owners, actions and workshops, in six queries
    however many there are."""
    rows = session.exec(
        select(Resource).where(Resource.area_id == area.id).order_by(Resource.position, Resource.id)
    ).all()
    links = records.links_by_record(session, RESOURCES, [r.id for r in rows])["action_ids"]
    linked = {i for targets in links.values() for i in targets}
    plan_ids = set(session.exec(current_plan_ids([area.id])).all())
    actions = session.exec(
        select(Action)
        .where(or_(col(Action.id).in_(linked), col(Action.plan_id).in_(plan_ids)))
        .order_by(Action.position, Action.id)
    ).all()
    by_id = {a.id: a for a in actions}
    owners = agencies(session, area)
    agency_by_id = {a.id: a for a in owners}
    workshops = _workshops(session, [r.contribution_id for r in rows if r.contribution_id])
    dimensions: dict[str, list[ResourceEntry]] = {d.value: [] for d in ResourceDimension}
    for row in rows:
        entry = ResourceEntry(
            resource=row,
            owner=agency_by_id.get(row.owner_agency_id) if row.owner_agency_id else None,
            actions=[by_id[i] for i in links[row.id] if i in by_id],
            workshop=workshops.get(row.contribution_id) if row.contribution_id else None,
        )
        entry.actions.sort(key=lambda a: (a.position, a.id))
        dimensions.setdefault(row.dimension, []).append(entry)
    in_plan = [a for a in actions if a.plan_id in plan_ids]
    return Inventory(area, dimensions, owners, in_plan)


def _workshops(session: Session, contribution_ids: list[int]) -> dict[int, WorkshopSession]:
    if not contribution_ids:
        return {}
    rows = session.exec(
        select(Contribution.id, WorkshopSession)
        .join(WorkshopSession, col(WorkshopSession.id) == Contribution.session_id)
        .where(col(Contribution.id).in_(contribution_ids))
    ).all()
    return dict(rows)


@dataclass
class CatalogueEntry:
    item: DataItem
    custodian: Agency | None
    kpis: list[KPI]  # of the current plan, in plan order
    sets: list[SetView] = field(default_factory=list)  # its breakdowns, national first


@dataclass
class Catalogue:
    area: Area
    entries: list[CatalogueEntry]  # in Thai dictionary order of their names
    agencies: list[Agency] = field(default_factory=list)  # choices for the forms
    sets: list[SetView] = field(default_factory=list)  # national breakdowns, then the area's

    @property
    def agency_choices(self) -> list[tuple[int, str]]:
        return [(a.id, localized(a)) for a in self.agencies]

    @property
    def set_choices(self) -> list[tuple[int, str]]:
        return [(v.set.id, v.label) for v in self.sets]

    @property
    def own_sets(self) -> list[SetView]:
        return [v for v in self.sets if not v.national]

    @property
    def national_sets(self) -> list[SetView]:
        return [v for v in self.sets if v.national]

    def entry(self, item_id: int) -> CatalogueEntry | None:
        return next((e for e in self.entries if e.item.id == item_id), None)


def catalogue(session: Session, area: Area) -> Catalogue:
    """The area's data catalogue with custodians, the KPIs citing each item and its breakdowns,
    in six queries however many there are."""
    items = session.exec(select(DataItem).where(DataItem.area_id == area.id)).all()
    owners = agencies(session, area)
    agency_by_id = {a.id: a for a in owners}
    cited = citing_kpis(session, area, [i.id for i in items])
    sets = breakdowns.sets_for(session, area)
    order: dict[int, int] = defaultdict(int, {v.set.id: n for n, v in enumerate(sets)})
    set_by_id = {v.set.id: v for v in sets}
    item_sets = breakdowns.sets_by_item(session, [i.id for i in items])
    entries = [
        CatalogueEntry(
            item=item,
            custodian=agency_by_id.get(item.custodian_agency_id)
            if item.custodian_agency_id
            else None,
            kpis=cited.get(item.id, []),
            sets=[
                set_by_id[i]
                for i in sorted(item_sets.get(item.id, []), key=order.__getitem__)
                if i in set_by_id
            ],
        )
        for item in items
    ]
    entries.sort(key=lambda e: (thai_sort_key(e.item.name), e.item.id))
    return Catalogue(area, entries, owners, sets)


def citing_kpis(session: Session, area: Area, item_ids: list[int]) -> dict[int, list[KPI]]:
    """The KPIs of the area's current plan that cite each data item, in plan order."""
    if not item_ids:
        return {}
    rows = session.exec(
        select(KPIDataItem.data_item_id, KPI)
        .join(KPI, col(KPI.id) == KPIDataItem.kpi_id)
        .where(
            col(KPIDataItem.data_item_id).in_(item_ids),
            col(KPI.plan_id).in_(current_plan_ids([area.id])),
        )
        .order_by(KPI.position, KPI.id)
    ).all()
    found: dict[int, list[KPI]] = defaultdict(list)
    for item_id, kpi in rows:
        found[item_id].append(kpi)
    return dict(found)


# ---- the catalogue as a workbook ------------------------------------------------------------

CATALOGUE_SHEET = N_("Data catalogue")
CATALOGUE_COLUMNS = (
    Column("name", N_("Data item"), 40),
    Column("description", N_("Description"), 48),
    Column("measure", N_("Measure"), 12),
    Column("custodian", N_("Custodian agency"), 32),
    Column("source_system", N_("Source system"), 28),
    Column("frequency", N_("Frequency"), 16),
    Column("period_type", N_("Period type"), 16),
    Column("reported_by", N_("Reported by"), 20),
    Column("due_days", N_("Due days"), 10),
    Column("breakdowns", N_("Breakdowns (codes)"), 24),
    Column("access", N_("Access"), 16),
    Column("kpis", N_("KPIs citing it"), 40, info=True),
)


def catalogue_rows(view: Catalogue) -> list[dict[str, Any]]:
    """One row per item, in the columns the catalogue import reads back unchanged."""
    return [
        {
            "name": e.item.name,
            "description": e.item.description,
            "measure": e.item.measure,
            "custodian": localized(e.custodian) if e.custodian else "",
            "source_system": e.item.source_system,
            "frequency": label("data_frequency", e.item.frequency),
            "period_type": label("period_type", e.item.period_type),
            "reported_by": reporter_label(e.item.reported_by),
            "due_days": e.item.due_days,
            "breakdowns": ", ".join(v.set.code for v in e.sets),
            "access": label("data_access", e.item.access),
            "kpis": "\n".join(f"{k.code} {k.name}" for k in e.kpis),
        }
        for e in view.entries
    ]


def catalogue_workbook(view: Catalogue) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = gettext(CATALOGUE_SHEET)
    table_sheet(sheet, CATALOGUE_COLUMNS, catalogue_rows(view))
    return save_workbook(book)
