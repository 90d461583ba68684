"""How stored values read on screen: the history's before/after and a conflict's "theirs".

Snapshots hold ids and codes; people read names, labels and Thai dates.
"""

import re
from datetime import date, datetime
from typing import Any

from app import i18n, labels, periods
from app.i18n import N_
from app.inputs import parse_id
from app.models import AuditEvent

# Fields holding a person's id (the trail names them by their display name).
USER_FIELDS = frozenset(
    {
        "entered_by",
        "opened_by",
        "closed_by",
        "rated_by",
        "created_by",
        "decided_by",
        "submitted_by",
        "uploaded_by",
        "author_id",
        "resolved_by",
        "user_id",
    }
)
# Records named in snapshots that the plan view does not hold: `names` key -> (entity type,
# model attribute path "Model.field"), loaded by services.history in one query per kind.
LOADABLE = {
    "users": ("user", "User.display_name"),
    "markers": ("progress_marker", "ProgressMarker.text"),
    "partners": ("boundary_partner", "BoundaryPartner.name"),
    "workshop_sessions": ("workshop_session", "WorkshopSession.title"),
    "participants": ("workshop_participant", "WorkshopParticipant.display_name"),
    "contributions": ("contribution", "Contribution.text"),
    "reflections": ("reflection", "Reflection.title"),
    "proposals": ("change_proposal", "ChangeProposal.text"),
    "questions": ("learning_question", "LearningQuestion.question"),
    "resources": ("resource", "Resource.name"),
    "org_units": ("org_unit", "OrgUnit.name"),
    "category_sets": ("category_set", "CategorySet.name_th"),
    "problem_nodes": ("problem_node", "ProblemNode.text"),
    "doe_statements": ("doe_statement", "DOEStatement.text"),
    "evidence_files": ("evidence_file", "EvidenceFile.filename"),
    "committee_members": ("committee_member", "CommitteeMember.name"),
    "meetings": ("meeting", "Meeting.title"),
    "plan_versions": ("plan_version", "PlanVersion.name"),
    "review_rounds": ("review_round", "ReviewRound.period"),
}
LOADED_REFERENCES = {
    "marker_id": "markers",
    "partner_id": "partners",
    "session_id": "workshop_sessions",
    "participant_id": "participants",
    "contribution_id": "contributions",
    "reflection_id": "reflections",
    "answer_reflection_id": "reflections",
    "evidence_id": "evidence_files",
    "indicator_id": "indicators",
    "parent_id": "org_units",
    "category_set_ids": "category_sets",
    "lead_id": "committee_members",
    "members": "committee_members",
    "attendees": "committee_members",
    "meeting_id": "meetings",
    "version_ids": "plan_versions",
    "adopted_version_ids": "plan_versions",
    "proposal_ids": "proposals",
    "round_ids": "review_rounds",
    "agency_id": "agencies",
    "cause_of": "problem_nodes",
    "file_ids": "evidence_files",
}


def parse_date(value: str | None) -> date | None:
    """An ISO date, or None when it is empty or not one."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def input_value(value: Any) -> str:
    """How a stored value is shown in a form field: 75.0 as '75', None as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value.value if hasattr(value, "value") else value)


VOCABULARY = {
    "kind": "kpi_kind",
    "direction": "direction",
    "period_type": "period_type",
    "autonomy_domain": "autonomy_domain",
    "substantiation": "substantiation",
    "level": "marker_level",
    "rating": "marker_rating",
    "frequency": "data_frequency",
    "access": "data_access",
    "dimension": "resource_dimension",
    "reason_category": "reason_category",
    "aggregation": "aggregation",
    "rollup": "rollup",
    "accepted_entity": "entity",
    "element_type": "entity",
    "target_type": "entity",
    "guiding": "guide_rating",
    "useful": "guide_rating",
    "inspiring": "guide_rating",
    "developmental": "guide_rating",
    "evaluable": "guide_rating",
}
# The same field name in another entity's vocabulary: (entity type, field) -> vocabulary.
ENTITY_VOCABULARY = {
    ("key_development", "kind"): "development_kind",
    ("reflection_follow_up", "kind"): "follow_up_kind",
    ("learning_question", "state"): "question_state",
    ("change_proposal", "state"): "proposal_state",
    ("contribution", "kind"): "contribution_kind",
    ("workshop_vote", "kind"): "contribution_kind",
    ("workshop_vote", "mode"): "vote_mode",
    ("contribution", "state"): "contribution_state",
    ("org_unit", "kind"): "unit_kind",
    ("data_item", "reported_by"): "unit_kind",
    ("review_round", "state"): "review_state",
    ("plan", "status"): "plan_status",
    ("committee_member", "role"): "committee_role",
    ("area", "status"): "area_status",
    ("area_status_change", "status"): "area_status",
    ("area", "programme"): "programme",
}
# Fields holding the id (or ids) of another record -> the `names` map that names it.
REFERENCES = {
    "kra_ids": "kras",
    "kpi_ids": "kpis",
    "co_owner_ids": "agencies",
    "partner_ids": "agencies",
    "agency_ids": "agencies",  # an editor grant's agencies (its scope)
    "lead_agency_id": "agencies",
    "item_ids": "doe_items",
    "doe_item_ids": "doe_items",
    "theme_id": "themes",
    "type_id": "agency_types",
    "data_item_ids": "data_items",
    "owner_agency_id": "agencies",
    "custodian_agency_id": "agencies",
    "action_ids": "actions",
    "kpi_id": "kpi_titles",
    "action_id": "action_titles",
    **{f: "users" for f in USER_FIELDS},
    **{f: kind for f, kind in LOADED_REFERENCES.items()},
}
# Fields holding the id of a record whose type another field of the snapshot names.
TYPED_REFERENCES = {
    "accepted_id": "accepted_entity",
    "element_id": "element_type",
    "target_id": "target_type",
}
# Entity type -> the `names` map naming its records (for TYPED_REFERENCES).
ENTITY_NAMES = {
    "kra": "kras",
    "kpi": "kpi_titles",
    "action": "action_titles",
    "agency": "agencies",
    "data_item": "data_items",
    **{entity: kind for kind, (entity, _) in LOADABLE.items()},
}
PERIOD_FIELDS = frozenset(
    {"period", "baseline_period", "target_period", "added_period", "retired_period"}
)
DELETED = N_("(deleted)")
MEASURED = N_("%(n)s measured")


def value_names(view: Any) -> dict[str, dict[int, str]]:
    """Names for the ids a snapshot holds, from the plan as it is now (gone ones show as
    deleted). Records outside the plan (people, workshop sessions...) are added by
    `services.history.reference_names`, in one query per kind."""
    tree, ref = view.tree, view.ref
    return {
        "kras": {k.id: k.code for k in tree.kras} if tree else {},
        "kpis": {k.id: k.code for k in tree.kpis} if tree else {},
        "actions": {a.id: a.code for a in tree.actions} if tree else {},
        "kpi_titles": {k.id: f"{k.code} {k.name}" for k in tree.kpis} if tree else {},
        "action_titles": {a.id: f"{a.code} {a.title}" for a in tree.actions} if tree else {},
        "data_items": {i.id: i.name for i in getattr(view, "data_items", {}).values()},
        "agencies": {a.id: i18n.localized(a) for a in ref.agencies.values()},
        "doe_items": {i.id: i.code for i in ref.items.values()},
        "themes": {t.id: i18n.localized(t) for t in ref.themes.values()},
        "agency_types": {t.id: i18n.localized(t) for t in ref.agency_types.values()},
        "indicators": {i.id: i18n.localized(i) for i in getattr(ref, "indicators", {}).values()},
    }


def reference_kind(field: str, snapshot: dict[str, Any] | None = None) -> str | None:
    """The `names` map that names the record(s) a field refers to, if it refers to any."""
    if field in REFERENCES:
        return REFERENCES[field]
    if field in TYPED_REFERENCES and snapshot:
        return ENTITY_NAMES.get(str(snapshot.get(TYPED_REFERENCES[field])))
    return None


def show_value(
    entity_type: str,
    field: str,
    value: Any,
    names: dict[str, dict[int, str]],
    snapshot: dict[str, Any] | None = None,
) -> str:
    """A stored value as a reader says it: names for ids, labels for codes, Thai dates and
    times; `snapshot` (the record the value belongs to) resolves a reference whose type it
    names."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    kind = reference_kind(field, snapshot)
    if kind is not None:
        return _names(value, names.get(kind, {}))
    if field == "units":  # a measurement's values per unit: {unit id: [value, number measured]}
        return _unit_values(value, names.get("org_units", {}))
    if field in PERIOD_FIELDS:
        return periods.period_label(str(value))
    vocabulary = _vocabulary(entity_type, field)
    if vocabulary:
        return labels.label(vocabulary, str(value))
    if field.endswith("_be"):  # a B.E. year, as its label says: 2566, not 2,566
        return str(value)
    if field.endswith(("_on", "_date")):  # start_on, held_on, on_date ...: a day, in Thai
        parsed = parse_date(str(value))
        return i18n.format_date(parsed) if parsed else str(value)
    if field.endswith("_at") or field == "as_of":  # a moment, in Thai time
        moment = _parse_moment(value)
        return i18n.format_datetime(moment) if moment else str(value)
    if isinstance(value, bool):
        return i18n.gettext("yes") if value else i18n.gettext("no")
    if isinstance(value, int | float):
        return i18n.format_number(value)
    if isinstance(value, dict | list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _vocabulary(entity_type: str, field: str) -> str | None:
    if field == "status" and (entity_type, field) not in ENTITY_VOCABULARY:
        return "action_status"
    return ENTITY_VOCABULARY.get((entity_type, field)) or VOCABULARY.get(field)


def _names(value: Any, known: dict[int, str]) -> str:
    ids = [_as_id(v) for v in (value if isinstance(value, list) else [value])]
    return ", ".join(known.get(i) or i18n.gettext(DELETED) for i in ids)


def _unit_values(value: Any, units: dict[int, str]) -> str:
    if not isinstance(value, dict):
        return str(value)
    return "; ".join(_unit_value(units, unit_id, pair) for unit_id, pair in value.items())


def _unit_value(units: dict[int, str], unit_id: Any, pair: Any) -> str:
    number, n = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (pair, None)
    unit = units.get(_as_id(unit_id)) or i18n.gettext(DELETED)
    shown = f"{unit}: {i18n.format_number(number)}"
    return shown + (f" ({i18n.gettext(MEASURED, n=i18n.format_number(n))})" if n else "")


def _parse_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


# How the trail names the processes that change things without a person (audit.Actor.process).
PROCESSES = {
    "seed": N_("Data loaded with the system"),
    "system": N_("The system"),
    "command line": N_("Administrator's command"),
    "demo": N_("Demo set-up"),
    "anonymous": N_("Someone not signed in"),
}
GUEST = "guest: "


def show_actor(label: str) -> str:
    """Who made a change that no signed-in person made, in the reader's language."""
    if label.startswith(GUEST):
        return i18n.gettext("Workshop guest %(name)s", name=label[len(GUEST) :])
    msgid = PROCESSES.get(label)
    return i18n.gettext(msgid) if msgid else label


# Reasons the services write for the reader to see, in English; translated when shown.
WORKSHOP_REASON = re.compile(r"^From workshop contribution: (?P<title>.*)$", re.DOTALL)
RESTORE_REASON = re.compile(r"^restored from change #\d+$")


def show_reason(reason: str | None) -> str:
    """A change's reason: as typed, or, when the system wrote it, in the reader's language."""
    if not reason:
        return ""
    found = WORKSHOP_REASON.match(reason)
    if found:
        return i18n.gettext("From workshop contribution: %(title)s", title=found["title"])
    if RESTORE_REASON.match(reason):
        return i18n.gettext("Put back as an earlier change left it")
    return reason


def entry_name(event: AuditEvent, names: dict[str, dict[int, str]] | None = None) -> str:
    snapshot = event.after or event.before or {}
    for key in (
        "code",
        "title",
        "name",
        "text",
        "problem",
        "name_th",
        "email",
        "who",
        "statement",
        "question",
        "display_name",
        "filename",
    ):
        if snapshot.get(key):
            text = str(snapshot[key])
            return text if len(text) <= 60 else text[:59] + "…"
    return _progress_name(event.entity_type, snapshot, names or {})


def _progress_name(
    entity_type: str, snapshot: dict[str, Any], names: dict[str, dict[int, str]]
) -> str:
    """A value or an update has no name of its own: its KPI (or action) and its period (or day)."""
    parts = []
    for field in ("kpi_id", "action_id"):
        if snapshot.get(field) is not None:
            parts.append(show_value(entity_type, field, snapshot[field], names))
    if snapshot.get("period"):
        parts.append(periods.period_label(str(snapshot["period"])))
    if snapshot.get("on_date"):
        parts.append(show_value(entity_type, "on_date", snapshot["on_date"], names))
    text = " · ".join(parts)
    return text if len(text) <= 80 else text[:79] + "…"


def entry_label(event: AuditEvent, limit: int = 90) -> str:
    """The element's code and its text (title, name, statement), for a list of changes."""
    snapshot = event.after or event.before or {}
    text = next(
        (
            str(snapshot[k])
            for k in ("title", "name", "text", "problem", "name_th", "who", "statement", "question")
            if snapshot.get(k)
        ),
        "",
    )
    label = " ".join(p for p in (str(snapshot.get("code") or ""), text) if p)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _as_id(value: Any) -> Any:
    number = parse_id(value) if isinstance(value, str) else None
    return value if number is None else number


def _normal(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return sorted(str(_as_id(v)) for v in value)
    return input_value(value).strip()


def same_value(a: Any, b: Any) -> bool:
    """Whether a stored value and a typed one say the same (75.0 and "75", [3] and ["3"])."""
    return _normal(a) == _normal(b)
