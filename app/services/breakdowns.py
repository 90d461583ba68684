"""Breakdowns (category sets) a data item's values are given by (issue 21, part 2): the national
ones (sex, ethnic or language group, school size, urban or rural, disability; seeded from
seeds/vocabularies.yaml, read-only in an area) and an area's own (Krabi's island or mainland).

Codes are lowercase ASCII, unique in the area (and never a national set's code) for a set,
unique in the set for an option; they name the breakdown in stored values, so they stay fixed
once made: only the names change. Each write records an audit event ("category_set" or
"category_option") and publishes `learning.changed`, like the rest of the data catalogue.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from sqlalchemy import func, literal
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from app.i18n import N_, localized
from app.models import Area, CategoryOption, CategorySet, DataItemCategorySet, DataValue
from app.models.enums import AuditOp
from app.schemas import InputModel, Text, fail
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate

CODE_RE = re.compile(r"[a-z0-9_]{1,40}")
SET_CODE_TAKEN = N_("This area or the national list already has a breakdown with that code.")
OPTION_CODE_TAKEN = N_("This breakdown already has an option with that code.")
SET_IN_USE = N_("%(num)s data items are broken down by this; take it off them before deleting it.")
OPTION_IN_USE = N_("%(num)s stored values name this option; it cannot be removed.")


def _code(value: Any) -> Any:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text and not CODE_RE.fullmatch(text):
        raise fail("Use lowercase English letters, digits and _ only, e.g. island.")
    return text


Code = Annotated[str, BeforeValidator(_code), Field(min_length=1, max_length=40)]


class CategorySetIn(InputModel):
    code: Code
    name_th: Text = Field(min_length=1, max_length=200)
    name_en: Text = Field(default="", max_length=200)


class CategoryNamesIn(InputModel):
    name_th: Text = Field(min_length=1, max_length=200)
    name_en: Text = Field(default="", max_length=200)


CategoryOptionIn = CategorySetIn


@dataclass
class SetView:
    set: CategorySet
    options: list[CategoryOption] = field(default_factory=list)

    @property
    def national(self) -> bool:
        return self.set.area_id is None

    @property
    def label(self) -> str:
        return localized(self.set)


def sets_for(session: Session, area: Area) -> list[SetView]:
    """The national sets, then the area's own, each with its options, in two queries."""
    rows = session.exec(
        select(CategorySet).where(
            or_(col(CategorySet.area_id).is_(None), CategorySet.area_id == area.id)
        )
    ).all()
    rows = sorted(rows, key=lambda s: (s.area_id is not None, s.position, s.id))
    views = [SetView(s) for s in rows]
    by_id = {v.set.id: v for v in views}
    if by_id:
        options = session.exec(
            select(CategoryOption)
            .where(col(CategoryOption.set_id).in_(list(by_id)))
            .order_by(col(CategoryOption.position), col(CategoryOption.id))
        ).all()
        for option in options:
            by_id[option.set_id].options.append(option)
    return views


def sets_by_item(session: Session, item_ids: list[int]) -> dict[int, list[int]]:
    """The set ids each data item is broken down by, in one query."""
    found: dict[int, list[int]] = defaultdict(list)
    if item_ids:
        rows = session.exec(
            select(DataItemCategorySet.data_item_id, DataItemCategorySet.set_id).where(
                col(DataItemCategorySet.data_item_id).in_(item_ids)
            )
        ).all()
        for item_id, set_id in rows:
            found[item_id].append(set_id)
    return dict(found)


def own_set(session: Session, area: Area, set_id: int) -> CategorySet:
    """One of the area's own sets (a national set is not the area's to change)."""
    row = session.get(CategorySet, set_id)
    if row is None or row.area_id != area.id:
        raise NotFound(N_("No such breakdown in this area."))
    return row


def own_option(session: Session, area: Area, set_id: int, option_id: int) -> CategoryOption:
    own_set(session, area, set_id)
    row = session.get(CategoryOption, option_id)
    if row is None or row.set_id != set_id:
        raise NotFound(N_("No such option in this breakdown."))
    return row


def _set_code_taken(session: Session, area: Area, code: str) -> bool:
    query = select(CategorySet.id).where(
        CategorySet.code == code,
        or_(col(CategorySet.area_id).is_(None), CategorySet.area_id == area.id),
    )
    return session.exec(query).first() is not None


def _finish(
    session: Session,
    actor: audit.Actor,
    area: Area,
    entity: str,
    entity_id: int | None,
    op: AuditOp,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type=entity,
        entity_id=entity_id,
        op=op,
        before=before,
        after=after,
    )
    publish = {"type": "learning.changed", "entity": entity, "id": entity_id, "op": op.value}
    try:
        audit.finish(session, area_id=area.id, publish=publish, inserts=True)
    except Conflict:  # another writer took the code first: the same message as a taken code
        raise ValidationFailed({"code": Msg(_TAKEN[entity])}) from None


_TAKEN = {"category_set": SET_CODE_TAKEN, "category_option": OPTION_CODE_TAKEN}


def _flush_new(session: Session, row: Any, entity: str) -> None:
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed({"code": Msg(_TAKEN[entity])}) from None


def create_set(
    session: Session, *, actor: audit.Actor, area: Area, set_in: dict[str, Any]
) -> CategorySet:
    data = validate(CategorySetIn, set_in)
    if _set_code_taken(session, area, data.code):
        raise ValidationFailed({"code": Msg(SET_CODE_TAKEN)})
    position = session.exec(
        select(func.count()).select_from(CategorySet).where(CategorySet.area_id == area.id)
    ).one()
    row = CategorySet(area_id=area.id, position=position, **data.model_dump())
    _flush_new(session, row, "category_set")
    _finish(session, actor, area, "category_set", row.id, AuditOp.create, None, audit.snapshot(row))
    return row


def rename_set(
    session: Session, *, actor: audit.Actor, area: Area, set_id: int, names_in: dict[str, Any]
) -> CategorySet:
    row = own_set(session, area, set_id)
    data = validate(CategoryNamesIn, names_in)
    before = audit.snapshot(row)
    row.name_th, row.name_en = data.name_th, data.name_en
    session.add(row)
    _finish(
        session, actor, area, "category_set", row.id, AuditOp.update, before, audit.snapshot(row)
    )
    return row


def delete_set(session: Session, *, actor: audit.Actor, area: Area, set_id: int) -> None:
    """Delete one of the area's sets and its options; refused while data items use it."""
    row = own_set(session, area, set_id)
    used = session.exec(
        select(func.count())
        .select_from(DataItemCategorySet)
        .where(DataItemCategorySet.set_id == row.id)
    ).one()
    if used:
        raise ValidationFailed({"delete": Msg(SET_IN_USE, {"num": used})})
    options = session.exec(select(CategoryOption).where(CategoryOption.set_id == row.id)).all()
    before = audit.snapshot(row, options=[o.code for o in options])
    session.delete(row)
    session.flush()
    _finish(session, actor, area, "category_set", set_id, AuditOp.delete, before, None)


def add_option(
    session: Session, *, actor: audit.Actor, area: Area, set_id: int, option_in: dict[str, Any]
) -> CategoryOption:
    category_set = own_set(session, area, set_id)
    data = validate(CategoryOptionIn, option_in)
    options = session.exec(
        select(CategoryOption).where(CategoryOption.set_id == category_set.id)
    ).all()
    if any(o.code == data.code for o in options):
        raise ValidationFailed({"code": Msg(OPTION_CODE_TAKEN)})
    position = max((o.position for o in options), default=-1) + 1
    row = CategoryOption(set_id=category_set.id, position=position, **data.model_dump())
    _flush_new(session, row, "category_option")
    after = audit.snapshot(row)
    _finish(session, actor, area, "category_option", row.id, AuditOp.create, None, after)
    return row


def rename_option(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    set_id: int,
    option_id: int,
    names_in: dict[str, Any],
) -> CategoryOption:
    row = own_option(session, area, set_id, option_id)
    data = validate(CategoryNamesIn, names_in)
    before = audit.snapshot(row)
    row.name_th, row.name_en = data.name_th, data.name_en
    session.add(row)
    after = audit.snapshot(row)
    _finish(session, actor, area, "category_option", row.id, AuditOp.update, before, after)
    return row


def values_naming(session: Session, category_set: CategorySet, option: CategoryOption) -> int:
    """How many stored data values are given for this option (their cell names it)."""
    token = f"%;{category_set.code}={option.code};%"
    cell = literal(";") + DataValue.categories + literal(";")
    query = select(func.count()).select_from(DataValue).where(cell.like(token))
    return int(session.exec(query).one())


def remove_option(
    session: Session, *, actor: audit.Actor, area: Area, set_id: int, option_id: int
) -> None:
    """Remove an option; refused while stored values name it."""
    category_set = own_set(session, area, set_id)
    row = own_option(session, area, set_id, option_id)
    used = values_naming(session, category_set, row)
    if used:
        raise ValidationFailed({"delete": Msg(OPTION_IN_USE, {"num": used})})
    before = audit.snapshot(row)
    session.delete(row)
    session.flush()
    _finish(session, actor, area, "category_option", option_id, AuditOp.delete, before, None)
