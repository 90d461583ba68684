"""Dependencies for routes: load-or-404, after the permission check (see app.web.auth)."""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.db import SessionDep, release
from app.models import Area, Plan
from app.services.errors import NotFound
from app.services.plan_tree import current_plans
from app.web.auth import EditArea, ReadArea, ScopedEditArea


def _plan_of(area: Area, session: Session) -> Plan:
    plan = current_plans(session, [area.id]).get(area.id)
    if plan is None:
        raise NotFound(f"plan of {area.slug}")
    release(session)
    return plan


def load_read_plan(area: ReadArea, session: SessionDep) -> Plan:
    return _plan_of(area, session)


def load_read_plan_or_none(area: ReadArea, session: SessionDep) -> Plan | None:
    """For pages that say "no plan yet" rather than 404 (the area navigation links them)."""
    plan = current_plans(session, [area.id]).get(area.id)
    release(session)
    return plan


def load_edit_plan(area: EditArea, session: SessionDep) -> Plan:
    return _plan_of(area, session)


def load_scoped_edit_plan(area: ScopedEditArea, session: SessionDep) -> Plan:
    """For routes an agency-scoped editor may use too: they ask app.services.scope per element."""
    return _plan_of(area, session)


ReadPlan = Annotated[Plan, Depends(load_read_plan)]
EditPlan = Annotated[Plan, Depends(load_edit_plan)]
ScopedEditPlan = Annotated[Plan, Depends(load_scoped_edit_plan)]
ReadPlanOrNone = Annotated[Plan | None, Depends(load_read_plan_or_none)]
