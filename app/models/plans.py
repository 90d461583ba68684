"""A province's plan: DOE → problems → vision → KRAs → shared KPIs → actions."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field

TEXT = sa.Text()


class Plan(Versioned, SQLModel, table=True):
    __tablename__ = "plan"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    title: str = Field(sa_type=sa.String(300))
    span_start_be: int
    span_end_be: int
    status: str = Field(default="draft", sa_type=sa.String(20))
    vision: str = Field(default="", sa_type=TEXT)
    is_demo: bool = False
    version: int = 1
    created_at: datetime = created_at_field()


class DOEStatement(Versioned, SQLModel, table=True):
    __tablename__ = "doe_statement"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    position: int = 0
    text: str = Field(sa_type=TEXT)
    version: int = 1


class DOEStatementItem(SQLModel, table=True):
    __tablename__ = "doe_statement_item"

    statement_id: int = Field(foreign_key="doe_statement.id", primary_key=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="doe_item.id", primary_key=True)


class ProblemNode(Versioned, SQLModel, table=True):
    """One node of the plan's problem tree (the workshop's second step): a top-level node is a
    problem, a node under it a cause, and a cause with no causes of its own a root cause."""

    __tablename__ = "problem_node"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(
        default=None, foreign_key="problem_node.id", index=True, ondelete="CASCADE"
    )
    position: int = 0
    text: str = Field(sa_type=TEXT)
    affected_groups: str = Field(default="", sa_type=TEXT)
    note: str = Field(default="", sa_type=TEXT)  # evidence in words
    urls: str = Field(default="", sa_type=TEXT)  # evidence on the web, one address a line
    version: int = 1


class ProblemNodeKRA(SQLModel, table=True):
    """A KRA the problem (or cause) motivates."""

    __tablename__ = "problem_node_kra"

    node_id: int = Field(foreign_key="problem_node.id", primary_key=True, ondelete="CASCADE")
    kra_id: int = Field(foreign_key="key_result_area.id", primary_key=True, ondelete="CASCADE")


class ProblemNodeDOEItem(SQLModel, table=True):
    """A DOE item the problem (or cause) motivates."""

    __tablename__ = "problem_node_doe_item"

    node_id: int = Field(foreign_key="problem_node.id", primary_key=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="doe_item.id", primary_key=True)


class ProblemNodeAction(SQLModel, table=True):
    """An action that addresses the (root) cause."""

    __tablename__ = "problem_node_action"

    node_id: int = Field(foreign_key="problem_node.id", primary_key=True, ondelete="CASCADE")
    action_id: int = Field(foreign_key="action.id", primary_key=True, ondelete="CASCADE")


class ProblemNodeDataItem(SQLModel, table=True):
    """Evidence: an entry of the area's data catalogue."""

    __tablename__ = "problem_node_data_item"

    node_id: int = Field(foreign_key="problem_node.id", primary_key=True, ondelete="CASCADE")
    data_item_id: int = Field(foreign_key="data_item.id", primary_key=True, ondelete="CASCADE")


class ProblemNodeFile(SQLModel, table=True):
    """Evidence: a file uploaded to the area."""

    __tablename__ = "problem_node_file"

    node_id: int = Field(foreign_key="problem_node.id", primary_key=True, ondelete="CASCADE")
    file_id: int = Field(foreign_key="evidence_file.id", primary_key=True, ondelete="CASCADE")


class KeyResultArea(Versioned, SQLModel, table=True):
    __tablename__ = "key_result_area"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    position: int = 0
    code: str = Field(sa_type=sa.String(20))
    title: str = Field(sa_type=sa.String(500))
    description: str = Field(default="", sa_type=TEXT)
    theme_id: int | None = Field(default=None, foreign_key="strategy_theme.id")
    version: int = 1


class KRADOEItem(SQLModel, table=True):
    __tablename__ = "kra_doe_item"

    kra_id: int = Field(foreign_key="key_result_area.id", primary_key=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="doe_item.id", primary_key=True)


class KPI(Versioned, SQLModel, table=True):
    __tablename__ = "kpi"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    position: int = 0
    code: str = Field(sa_type=sa.String(20))
    name: str = Field(sa_type=sa.String(500))
    definition: str = Field(default="", sa_type=TEXT)
    unit: str = Field(default="", sa_type=sa.String(60))
    kind: str = Field(sa_type=sa.String(20))
    direction: str = Field(default="higher", sa_type=sa.String(10))
    period_type: str = Field(sa_type=sa.String(20))
    baseline_value: float | None = None
    baseline_period: str | None = Field(default=None, sa_type=sa.String(20))
    target_value: float | None = None
    target_period: str | None = Field(default=None, sa_type=sa.String(20))
    aggregation: str = Field(default="standalone", sa_type=sa.String(20))
    rollup: str = Field(default="mean", sa_type=sa.String(20))
    tolerance: float | None = None  # within this distance short of the target: at risk
    data_source: str = Field(default="", sa_type=TEXT)
    lead_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    # the national common indicator it measures, so reviewers can compare areas
    indicator_id: int | None = Field(
        default=None, foreign_key="common_indicator.id", index=True, ondelete="SET NULL"
    )
    # computed from data items (app.models.data.KPIComputeTerm): "ratio", "sum", "mean", "item"
    compute_method: str | None = Field(default=None, sa_type=sa.String(10))
    compute_scale: float | None = None
    version: int = 1


class KPIKRA(SQLModel, table=True):
    """A shared KPI may serve several KRAs."""

    __tablename__ = "kpi_kra"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    kra_id: int = Field(foreign_key="key_result_area.id", primary_key=True, ondelete="CASCADE")


class KPICoOwner(SQLModel, table=True):
    __tablename__ = "kpi_co_owner"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)


class Action(Versioned, SQLModel, table=True):
    __tablename__ = "action"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    position: int = 0
    code: str = Field(sa_type=sa.String(20))
    title: str = Field(sa_type=sa.String(500))
    description: str = Field(default="", sa_type=TEXT)
    lead_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    budget_thb: int | None = Field(default=None, sa_type=sa.BigInteger())
    start_on: date | None = None
    end_on: date | None = None
    status: str = Field(default="not_started", sa_type=sa.String(20))
    autonomy_domain: str | None = Field(default=None, sa_type=sa.String(20))
    version: int = 1


class ActionKPI(SQLModel, table=True):
    __tablename__ = "action_kpi"

    action_id: int = Field(foreign_key="action.id", primary_key=True, ondelete="CASCADE")
    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")


class ActionKRA(SQLModel, table=True):
    __tablename__ = "action_kra"

    action_id: int = Field(foreign_key="action.id", primary_key=True, ondelete="CASCADE")
    kra_id: int = Field(foreign_key="key_result_area.id", primary_key=True, ondelete="CASCADE")


class ActionPartner(SQLModel, table=True):
    __tablename__ = "action_partner"

    action_id: int = Field(foreign_key="action.id", primary_key=True, ondelete="CASCADE")
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)
