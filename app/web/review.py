"""The cross-area review page (`/review`): the areas a reviewer follows side by side, filtered
by the URL so a view can be shared."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.i18n import format_year, gettext, localized
from app.models.enums import ActionStatus, KPIStatus
from app.periods import period_label
from app.services import review
from app.services.errors import Msg, ValidationFailed
from app.templating import render
from app.web.auth import SignedIn

router = APIRouter()

FILTERS = ("group", "cohort", "year", "theme", "aspect", "heat", "measure", "indicator")


@router.get("/review", name="review")
def review_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    """Everyone signed in may open it; each sees the areas they may read (reviewers: all)."""
    typed = {name: request.query_params.get(name, "")[:60] for name in FILTERS}
    errors: dict[str, Msg] = {}
    kept = dict(typed)
    while True:  # each round drops the filters refused, and ends once none is
        try:
            view = review.review_view(session, principal, review.Filters.parse(kept), keep=True)
            break
        except ValidationFailed as exc:
            errors.update(exc.errors)
            left = {k: v for k, v in kept.items() if k not in errors}
            kept = left if left != kept else {}
    context = {
        "view": view,
        "values": {
            **view.filters.query(),
            **typed,
            "heat": view.filters.heat,
            "measure": view.filters.measure,
            "indicator": view.indicator.code if view.indicator else "",
        },
        "errors": errors,
        "prefix": "review",
        "choices": _choices(view),
        "kpi_statuses": list(KPIStatus),
        "action_statuses": list(ActionStatus),
    }
    return render(request, "review/page.html", context, status_code=422 if errors else 200)


def _choices(view: review.ReviewView) -> dict[str, Any]:
    ref = view.ref
    measures = {
        "actions": gettext("Actions"),
        "kpis": gettext("KPIs"),
        "budget": gettext("Budget (baht)"),
    }
    return {
        "group": [(review.ALL, gettext("All areas"))]
        + [(g.slug, localized(g)) for g in view.groups],
        "cohort": [(c, format_year(int(c)) if c.isdigit() else c) for c in view.cohorts],
        "year": [(code, period_label(code)) for code in view.years],
        "theme": [(t.code, localized(t)) for t in ref.themes.values()],
        "aspect": [(a.code, f"{a.code} · {localized(a)}") for a in ref.aspects],
        "measure_label": measures[view.filters.measure],
        "indicator": [(i.code, localized(i)) for i in view.indicators],
    }
