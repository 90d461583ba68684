"""Display labels for the closed vocabularies, marked for translation."""

from app.i18n import N_, gettext

LABELS: dict[str, dict[str, str]] = {
    "kpi_kind": {
        "percentage": N_("Percentage"),
        "mean": N_("Mean score"),
        "count": N_("Count"),
        "rate": N_("Rate per 100"),
        "rubric": N_("Rubric level (1–5)"),
        "milestone": N_("Milestone (yes/no)"),
    },
    "direction": {"higher": N_("Higher is better"), "lower": N_("Lower is better")},
    "aggregation": {
        "standalone": N_("Each period stands alone"),
        "running_sum": N_("Running total (values add up)"),
        "latest": N_("Latest value carries on"),
    },
    "rollup": {
        "mean": N_("Mean of the units"),
        "sum": N_("Sum of the units"),
        "weighted_mean": N_("Mean weighted by the number measured"),
    },
    "unit_kind": {"esa_office": N_("ESA office"), "school": N_("Pilot school")},
    "kpi_status": {
        "on_track": N_("On track"),
        "at_risk": N_("At risk"),
        "off_track": N_("Off track"),
        "no_data": N_("No data"),
    },
    "review_state": {
        "open": N_("Open for entry"),
        "submitted": N_("Submitted for review"),
        "returned": N_("Returned for changes"),
        "approved": N_("Approved (locked)"),
    },
    "trend": {
        "improving": N_("Improving"),
        "worsening": N_("Worsening"),
        "steady": N_("Steady"),
        "unknown": N_("Not enough data"),
    },
    "period_type": {
        "academic_year": N_("Academic year"),
        "semester": N_("Semester"),
        "fiscal_year": N_("Fiscal year"),
        "fiscal_quarter": N_("Fiscal quarter"),
        "calendar_year": N_("Calendar year"),
    },
    "action_status": {
        "not_started": N_("Not started"),
        "on_track": N_("On track"),
        "delayed": N_("Delayed"),
        "done": N_("Done"),
        "dropped": N_("Dropped"),
    },
    "autonomy_domain": {
        "academic": N_("Academic"),
        "budget": N_("Budget"),
        "personnel": N_("Personnel"),
        "general_admin": N_("General administration"),
    },
    "plan_status": {"draft": N_("Draft"), "adopted": N_("Adopted")},
    "area_status": {
        "prospective": N_("Prospective"),
        "active": N_("Active"),
        "ended": N_("Ended"),
    },
    "step": {
        "doe": N_("Desired outcomes (DOE)"),
        "problems": N_("Problem analysis"),
        "vision": N_("Vision"),
        "kras": N_("Key result areas (KRA)"),
        "kpis": N_("Shared KPIs"),
        "actions": N_("Actions (ACT)"),
        "agencies": N_("Agencies"),
    },
    "step_help": {
        "doe": N_(
            "What learners in this province should become. Tag each statement with the national DOE items it serves."
        ),
        "problems": N_("The problems standing in the way: causes, evidence and who is affected."),
        "vision": N_("One adopted vision for this plan."),
        "kras": N_(
            "The few key result areas (usually 3–5) the province commits to, each with a strategy theme."
        ),
        "kpis": N_(
            "Indicators several agencies own together: baseline, target and direction, and the KRAs they serve."
        ),
        "actions": N_(
            "What the agencies will do, with budget and timing, and the KPIs each action moves."
        ),
        "agencies": N_("Organisations that lead or partner in KPIs and actions."),
    },
    "role": {
        "admin": N_("Administrator"),
        "reviewer": N_("Reviewer (OBEC / ministry)"),
        "editor": N_("Editor (area committee)"),
        "viewer": N_("Viewer"),
        "facilitator": N_("Facilitator"),
    },
    "audit_op": {
        "create": N_("added"),
        "update": N_("changed"),
        "delete": N_("deleted"),
        "restore": N_("restored"),
    },
    "entity": {
        "plan": N_("Plan"),
        "doe_statement": N_("Desired outcome"),
        "problem": N_("Problem"),
        "kra": N_("KRA"),
        "kpi": N_("KPI"),
        "action": N_("Action"),
        "agency": N_("Agency"),
        "user": N_("Account"),
        "role_grant": N_("Role"),
        "api_token": N_("API token"),
        "workshop_session": N_("Workshop session"),
        "workshop_participant": N_("Workshop participant"),
        "contribution": N_("Workshop contribution"),
    },
    "field": {
        "title": N_("Title"),
        "span_start_be": N_("First year (B.E.)"),
        "span_end_be": N_("Last year (B.E.)"),
        "status": N_("Status"),
        "vision": N_("Vision"),
        "text": N_("Statement"),
        "item_ids": N_("National DOE items"),
        "problem": N_("Problem"),
        "causes": N_("Causes"),
        "evidence": N_("Evidence"),
        "affected_groups": N_("Who is affected"),
        "code": N_("Code"),
        "description": N_("Description"),
        "theme_id": N_("Strategy theme"),
        "doe_item_ids": N_("National DOE items"),
        "name": N_("Name"),
        "definition": N_("Definition"),
        "kind": N_("Kind"),
        "unit": N_("Unit"),
        "direction": N_("Direction"),
        "period_type": N_("Period type"),
        "baseline_value": N_("Baseline value"),
        "baseline_period": N_("Baseline period"),
        "target_value": N_("Target value"),
        "target_period": N_("Target period"),
        "data_source": N_("Data source"),
        "lead_agency_id": N_("Lead agency"),
        "co_owner_ids": N_("Co-owner agencies"),
        "kra_ids": N_("KRAs"),
        "kpi_ids": N_("KPIs"),
        "partner_ids": N_("Partner agencies"),
        "budget_thb": N_("Budget (baht)"),
        "start_on": N_("Start"),
        "end_on": N_("End"),
        "autonomy_domain": N_("Autonomy domain"),
        "name_th": N_("Name in Thai"),
        "name_en": N_("Name in English"),
        "type_id": N_("Agency type"),
        "position": N_("Order"),
        "order": N_("Order"),
        "email": N_("Email"),
        "display_name": N_("Name"),
        "is_active": N_("Active"),
        "password": N_("Password"),
        "role": N_("Role"),
        "area_id": N_("Area"),
        "join_code": N_("Join code"),
        "opened_by": N_("Opened by"),
        "opened_at": N_("Opened"),
        "expires_at": N_("Closes"),
        "closed_at": N_("Closed"),
        "closed_by": N_("Closed by"),
        "session_id": N_("Workshop session"),
        "participant_id": N_("Participant"),
        "dimension": N_("Resource dimension"),
        "group_label": N_("Group"),
        "state": N_("State"),
        "accepted_entity": N_("Became"),
        "accepted_id": N_("Plan element"),
    },
    "contribution_kind": {
        "problem": N_("Problem"),
        "kpi_idea": N_("Idea for a KPI"),
        "action_idea": N_("Idea for an action"),
        "resource": N_("Resource"),
        "question": N_("Question"),
    },
    "resource_dimension": {
        "data": N_("Data and information"),
        "operations": N_("Operations: budget, people, agencies"),
        "knowledge": N_("Knowledge, know-how and innovations"),
        "policy_social": N_("Policy and social capital"),
    },
    "contribution_state": {
        "new": N_("New"),
        "accepted": N_("Accepted"),
        "archived": N_("Archived"),
    },
    "kind": {
        "doe": N_("Desired outcome"),
        "problems": N_("Problem"),
        "kras": N_("KRA"),
        "kpis": N_("KPI"),
        "actions": N_("Action"),
        "agencies": N_("Agency"),
    },
}


def label(vocabulary: str, value: str | None) -> str:
    if value is None:
        return ""
    msgid = LABELS[vocabulary].get(value)
    return gettext(msgid) if msgid else value


def step_title(step: str) -> str:
    return label("step", step)


def options(vocabulary: str) -> list[tuple[str, str]]:
    return [(value, gettext(msgid)) for value, msgid in LABELS[vocabulary].items()]
