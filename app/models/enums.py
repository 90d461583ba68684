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


class Aggregation(StrEnum):
    """How a KPI's periods add up; the status compares this figure with the period's target."""

    standalone = "standalone"  # each period stands alone (a rate, a mean score)
    running_sum = "running_sum"  # counts that add up (schools joined so far)
    latest = "latest"  # the most recent value carries on (a milestone, a rubric level)


class Rollup(StrEnum):
    """How values per organisation unit make the area's value."""

    sum = "sum"
    mean = "mean"
    weighted_mean = "weighted_mean"  # weighted by the number measured in each unit


class UnitKind(StrEnum):
    province = "province"
    district = "district"  # อำเภอ
    esa_office = "esa_office"  # สำนักงานเขตพื้นที่การศึกษา
    school = "school"  # a pilot school


class KPIStatus(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    off_track = "off_track"
    no_data = "no_data"


class ReviewState(StrEnum):
    open = "open"
    submitted = "submitted"
    returned = "returned"
    approved = "approved"
