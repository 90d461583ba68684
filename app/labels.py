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
