"""Dependencies for HTML routes: load-or-404."""

from typing import Annotated

from fastapi import Depends

from app.db import SessionDep
from app.models import Area, Plan
from app.services.errors import NotFound
from app.services.plan_tree import current_plans
from app.services.reference import get_area


def load_area(slug: str, session: SessionDep) -> Area:
    return get_area(session, slug)


CurrentArea = Annotated[Area, Depends(load_area)]


def load_plan(area: CurrentArea, session: SessionDep) -> Plan:
    plan = current_plans(session, [area.id]).get(area.id)
    if plan is None:
        raise NotFound(f"plan of {area.slug}")
    return plan


CurrentPlan = Annotated[Plan, Depends(load_plan)]
