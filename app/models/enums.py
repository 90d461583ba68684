"""Closed vocabularies. Stored as plain strings so migrations stay portable."""

from enum import StrEnum


class AreaStatus(StrEnum):
    prospective = "prospective"
    active = "active"
    ended = "ended"


class PlanStatus(StrEnum):
    draft = "draft"
    adopted = "adopted"


class KPIKind(StrEnum):
    percentage = "percentage"
    mean = "mean"
    count = "count"
    rate = "rate"
    rubric = "rubric"
    milestone = "milestone"


class Direction(StrEnum):
    higher = "higher"
    lower = "lower"


class PeriodType(StrEnum):
    academic_year = "academic_year"
    semester = "semester"
    fiscal_year = "fiscal_year"
    fiscal_quarter = "fiscal_quarter"
    calendar_year = "calendar_year"


class ActionStatus(StrEnum):
    not_started = "not_started"
    on_track = "on_track"
    delayed = "delayed"
    done = "done"
    dropped = "dropped"


class AutonomyDomain(StrEnum):
    academic = "academic"
    budget = "budget"
    personnel = "personnel"
    general_admin = "general_admin"


class AuditOp(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"
    restore = "restore"  # a deleted element brought back, or an earlier value put back


class Role(StrEnum):
    admin = "admin"
    reviewer = "reviewer"
    editor = "editor"
    viewer = "viewer"
    facilitator = "facilitator"


GLOBAL_ROLES = frozenset({Role.admin, Role.reviewer})  # held for every area at once
