"""Read models of the area's developmental-evaluation layer: the hub's counts."""

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import (
    Area,
    BoundaryPartner,
    DataItem,
    EmergentOutcome,
    GuidingPrinciple,
    KeyDevelopment,
    LearningQuestion,
    PlanVersion,
    Reflection,
    Resource,
)

COUNTED = {
    "versions": PlanVersion,
    "reflections": Reflection,
    "questions": LearningQuestion,
    "developments": KeyDevelopment,
    "outcomes": EmergentOutcome,
    "partners": BoundaryPartner,
    "resources": Resource,
    "data_items": DataItem,
    "principles": GuidingPrinciple,
}


def counts(session: Session, area: Area) -> dict[str, int]:
    """How many records of each kind the area holds, in one query."""
    parts = [
        select(func.count()).select_from(model).where(model.area_id == area.id).scalar_subquery()
        for model in COUNTED.values()
    ]
    row = session.exec(select(*parts)).one()
    return dict(zip(COUNTED, row, strict=True))
