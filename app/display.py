"""How stored values read on screen: the history's before/after and a conflict's "theirs".

Snapshots hold ids and codes; people read names, labels and Thai dates.
"""

from datetime import date
from typing import Any

from app import i18n, labels
from app.inputs import parse_id
from app.models import AuditEvent


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
}
# The same field name in another entity's vocabulary: (entity type, field) -> vocabulary.
ENTITY_VOCABULARY = {
    ("key_development", "kind"): "development_kind",
    ("reflection_follow_up", "kind"): "follow_up_kind",
    ("learning_question", "state"): "question_state",
    ("change_proposal", "state"): "proposal_state",
}
REFERENCES = {
    "kra_ids": "kras",
    "kpi_ids": "kpis",
    "co_owner_ids": "agencies",
    "partner_ids": "agencies",
    "lead_agency_id": "agencies",
    "item_ids": "doe_items",
    "doe_item_ids": "doe_items",
    "theme_id": "themes",
    "type_id": "agency_types",
    "data_item_ids": "data_items",
    "owner_agency_id": "agencies",
    "custodian_agency_id": "agencies",
    "action_ids": "actions",
}


def value_names(view: Any) -> dict[str, dict[int, str]]:
    """Names for the ids a snapshot holds, from the plan as it is now (gone ones show #id)."""
    tree, ref = view.tree, view.ref
    return {
        "kras": {k.id: k.code for k in tree.kras} if tree else {},
        "kpis": {k.id: k.code for k in tree.kpis} if tree else {},
        "actions": {a.id: a.code for a in tree.actions} if tree else {},
        "data_items": {i.id: i.name for i in getattr(view, "data_items", {}).values()},
        "agencies": {a.id: i18n.localized(a) for a in ref.agencies.values()},
        "doe_items": {i.id: i.code for i in ref.items.values()},
        "themes": {t.id: i18n.localized(t) for t in ref.themes.values()},
        "agency_types": {t.id: i18n.localized(t) for t in ref.agency_types.values()},
    }


def show_value(entity_type: str, field: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field in REFERENCES:
        known = names[REFERENCES[field]]
        ids = [_as_id(v) for v in (value if isinstance(value, list) else [value])]
        return ", ".join(known.get(i, f"#{i}") for i in ids)
    if field == "status":
        vocabulary = "plan_status" if entity_type == "plan" else "action_status"
        return labels.label(vocabulary, value)
    vocabulary = ENTITY_VOCABULARY.get((entity_type, field)) or VOCABULARY.get(field)
    if vocabulary:
        return labels.label(vocabulary, str(value))
    if field.endswith("_on"):  # start_on, held_on, observed_on ...: a day, in Thai
        parsed = parse_date(str(value))
        return i18n.format_date(parsed) if parsed else str(value)
    if isinstance(value, bool):
        return i18n.gettext("yes") if value else i18n.gettext("no")
    if isinstance(value, int | float):
        return i18n.format_number(value)
    if isinstance(value, dict | list):
        return ", ".join(str(v) for v in value)
    return str(value)


def entry_name(event: AuditEvent) -> str:
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
    ):
        if snapshot.get(key):
            text = str(snapshot[key])
            return text if len(text) <= 60 else text[:59] + "…"
    return ""


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
