"""Who owns what, for the agency scope of an editor grant (the rule is `Principal.may_change`).

A KPI is owned by its lead agency and its co-owners, an action by its lead agency and its
partner agencies, a data item by its custodian agency. Each lookup is one query for any number
of elements, so pages that mark rows editable or read-only stay flat as data grows.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.i18n import localized
from app.models import KPI, Action, ActionPartner, Agency, DataItem, KPICoOwner
from app.services.access import SCOPED_READ_ONLY, Forbidden, Principal

Owners = dict[int, set[int]]


def kpi_owners(session: Session, kpi_ids: Iterable[int]) -> Owners:
    ids = sorted(set(kpi_ids))
    out: Owners = {i: set() for i in ids}
    if not ids:
        return out
    for kpi_id, lead, co in session.exec(
        select(KPI.id, KPI.lead_agency_id, KPICoOwner.agency_id)
        .outerjoin(KPICoOwner, col(KPICoOwner.kpi_id) == KPI.id)
        .where(col(KPI.id).in_(ids))
    ).all():
        out[kpi_id] |= {a for a in (lead, co) if a is not None}
    return out


def action_owners(session: Session, action_ids: Iterable[int]) -> Owners:
    ids = sorted(set(action_ids))
    out: Owners = {i: set() for i in ids}
    if not ids:
        return out
    for action_id, lead, partner in session.exec(
        select(Action.id, Action.lead_agency_id, ActionPartner.agency_id)
        .outerjoin(ActionPartner, col(ActionPartner.action_id) == Action.id)
        .where(col(Action.id).in_(ids))
    ).all():
        out[action_id] |= {a for a in (lead, partner) if a is not None}
    return out


def item_owners(session: Session, item_ids: Iterable[int]) -> Owners:
    ids = sorted(set(item_ids))
    out: Owners = {i: set() for i in ids}
    if not ids:
        return out
    for item_id, custodian in session.exec(
        select(DataItem.id, DataItem.custodian_agency_id).where(col(DataItem.id).in_(ids))
    ).all():
        if custodian is not None:
            out[item_id].add(custodian)
    return out


OWNERS = {"kpi": kpi_owners, "action": action_owners, "data_item": item_owners}


def editable(
    session: Session, principal: Principal, area_id: int, kind: str, ids: Iterable[int]
) -> set[int]:
    """Of these elements (of one kind: kpi, action, data_item), the ones this principal may
    change. Full editors may change them all; others (viewers) none."""
    ids = set(ids)
    scope = principal.edit_scope(area_id)
    if scope is None:
        return ids
    if not scope:
        return set()
    owners = OWNERS[kind](session, ids)
    return {i for i, who in owners.items() if principal.may_change(area_id, who)}


def require(session: Session, principal: Principal, area_id: int, kind: str, id_: int) -> None:
    """403 unless the principal may change this KPI, action or data item (checks nothing
    else: the caller still loads the element from the area, so a foreign id stays a 404)."""
    if principal.edit_scope(area_id) is None:
        principal.require_change(area_id, ())
        return
    principal.require_change(area_id, OWNERS[kind](session, [id_]).get(id_, set()))


OWNED_KINDS = {"kpis": "kpi", "actions": "action"}  # the plan's parts an agency leads


def require_element(
    session: Session, principal: Principal, area_id: int, kind: str, element_id: int
) -> None:
    """Changing a plan element (kind as in app.services.plans.SPECS): full editors any; an
    agency-scoped editor only its agencies' KPIs and actions (403 for the rest)."""
    if principal.edit_scope(area_id) is None:
        return
    if kind not in OWNED_KINDS:
        raise Forbidden(SCOPED_READ_ONLY)
    require(session, principal, area_id, OWNED_KINDS[kind], element_id)


def require_all(
    session: Session, principal: Principal, area_id: int, kind: str, ids: Iterable[int]
) -> None:
    ids = set(ids)
    if principal.edit_scope(area_id) is None:
        principal.require_change(area_id, ())
        return
    for owners in OWNERS[kind](session, ids).values():
        principal.require_change(area_id, owners)


def agency_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = session.exec(select(Agency).where(col(Agency.id).in_(ids))).all()
    return {a.id: localized(a) for a in rows if a.id is not None}


def scope_names(session: Session, principal: Principal, area_id: int) -> list[str]:
    """The names of the agencies a scoped editor works for here (empty for everyone else)."""
    scope = principal.edit_scope(area_id) or frozenset()
    names = agency_names(session, scope)
    return [names[i] for i in sorted(names)]
