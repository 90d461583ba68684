"""All table models, imported here so SQLModel.metadata is complete."""

from app.models.audit import AuditEvent
from app.models.plans import (
    KPI,
    KPIKRA,
    Action,
    ActionKPI,
    ActionKRA,
    ActionPartner,
    DOEStatement,
    DOEStatementItem,
    KeyResultArea,
    KPICoOwner,
    KRADOEItem,
    Plan,
    ProblemEntry,
)
from app.models.reference import (
    Agency,
    AgencyType,
    Area,
    AreaGroup,
    AreaGroupMember,
    DOEAspect,
    DOEFramework,
    DOEItem,
    StrategyTheme,
)

__all__ = [
    "KPI", "Action", "ActionKPI", "ActionKRA", "ActionPartner", "Agency", "AgencyType", "Area",
    "AreaGroup", "AreaGroupMember", "AuditEvent", "DOEAspect", "DOEFramework", "DOEItem",
    "DOEStatement", "DOEStatementItem", "KPICoOwner", "KPIKRA", "KRADOEItem", "KeyResultArea",
    "Plan", "ProblemEntry", "StrategyTheme",
]
