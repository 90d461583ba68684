"""Read reference data: areas, groups, DOE framework, themes, agencies."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select

from app.i18n import thai_sort_key
from app.models import (
    Agency,
    AgencyType,
    Area,
    AreaGroup,
    AreaGroupMember,
    CommonIndicator,
    DOEAspect,
    DOEFramework,
    DOEItem,
    StrategyTheme,
)
from app.services.errors import NotFound

_AREA_BY_SLUG = select(Area).where(Area.slug == bindparam("slug"))  # built once: every area page


def get_area(session: Session, slug: str) -> Area:
    area = session.exec(_AREA_BY_SLUG, params={"slug": slug}).first()
    if area is None:
        raise NotFound(slug)
    return area


def default_group(session: Session) -> AreaGroup | None:
    return session.exec(select(AreaGroup).where(col(AreaGroup.is_default).is_(True))).first()


def group_areas(session: Session, group: AreaGroup | None) -> list[Area]:
    """The group's areas (all areas when there is no group), in Thai dictionary order."""
    query = select(Area)
    if group is not None:
        query = query.join(AreaGroupMember).where(AreaGroupMember.group_id == group.id)
    return sorted(session.exec(query).all(), key=lambda a: thai_sort_key(a.name_th))


MAIN_PROGRAMME = "innovation_area"


def other_programme_areas(session: Session) -> list[Area]:
    """Areas of programmes other than the education innovation areas (e.g. area-based
    education), in Thai dictionary order."""
    rows = session.exec(select(Area).where(Area.programme != MAIN_PROGRAMME)).all()
    return sorted(rows, key=lambda a: thai_sort_key(a.name_th))


def by_programme(items: list, area_of: Callable[[Any], Area]) -> list[tuple[str, list]]:
    """`items` split by their area's programme: the education innovation areas first, then
    the others by programme code; each keeps its order."""
    out: dict[str, list] = {}
    for item in items:
        out.setdefault(area_of(item).programme, []).append(item)
    return sorted(out.items(), key=lambda kv: (kv[0] != MAIN_PROGRAMME, kv[0]))


def areas_by_ids(session: Session, ids: set[int]) -> list[Area]:
    if not ids:
        return []
    rows = session.exec(select(Area).where(col(Area.id).in_(ids))).all()
    return sorted(rows, key=lambda a: thai_sort_key(a.name_th))


@dataclass
class Reference:
    """What a plan page needs to name the ids it holds; loaded in a fixed number of queries."""

    aspects: list[DOEAspect] = field(default_factory=list)
    items: dict[int, DOEItem] = field(default_factory=dict)
    items_by_aspect: dict[int, list[DOEItem]] = field(default_factory=dict)
    themes: dict[int, StrategyTheme] = field(default_factory=dict)
    agency_types: dict[int, AgencyType] = field(default_factory=dict)
    agencies: dict[int, Agency] = field(default_factory=dict)
    indicators: dict[int, CommonIndicator] = field(default_factory=dict)  # retired ones too

    def item_codes(self, ids: list[int]) -> list[str]:
        return [self.items[i].code for i in ids if i in self.items]

    def sorted_agencies(self) -> list[Agency]:
        return sorted(self.agencies.values(), key=lambda a: (a.area_id is None, a.position, a.id))


def current_framework(session: Session) -> DOEFramework | None:
    query = select(DOEFramework).where(col(DOEFramework.is_current).is_(True))
    return session.exec(query.order_by(col(DOEFramework.version).desc())).first()


def load_reference(session: Session, area_ids: list[int]) -> Reference:
    ref = Reference()
    framework = current_framework(session)
    if framework is not None:
        ref.aspects = list(
            session.exec(
                select(DOEAspect)
                .where(DOEAspect.framework_id == framework.id)
                .order_by(DOEAspect.position)
            ).all()
        )
        items = session.exec(
            select(DOEItem)
            .where(col(DOEItem.aspect_id).in_([a.id for a in ref.aspects]))
            .order_by(DOEItem.aspect_id, DOEItem.position)
        ).all()
        grouped: dict[int, list[DOEItem]] = defaultdict(list)
        for item in items:
            ref.items[item.id] = item
            grouped[item.aspect_id].append(item)
        ref.items_by_aspect = dict(grouped)
    themes = session.exec(select(StrategyTheme).order_by(StrategyTheme.position)).all()
    ref.themes = {t.id: t for t in themes}
    types = session.exec(select(AgencyType).order_by(AgencyType.position)).all()
    ref.agency_types = {t.id: t for t in types}
    agencies = session.exec(
        select(Agency).where(or_(col(Agency.area_id).is_(None), col(Agency.area_id).in_(area_ids)))
    ).all()
    ref.agencies = {a.id: a for a in agencies}
    indicators = session.exec(select(CommonIndicator).order_by(CommonIndicator.position)).all()
    ref.indicators = {i.id: i for i in indicators}
    return ref
