"""JSON API for the results chain map: the same figure the map page draws, with its nodes and gaps."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.api.errors import json_error
from app.api.v1 import AUTH_RESPONSES
from app.db import SessionDep
from app.display import parse_date
from app.i18n import N_
from app.outcome_map import map_figure
from app.periods import period_label
from app.services import maps
from app.services.partners import PartnerMark
from app.templating import translate
from app.web.auth import ReadArea
from app.web.deps import ReadPlan
from app.web.maps import BAD_DATE, Layer, figure_names, layer_shown, linker, problems_shown

router = APIRouter(prefix="/api/v1", tags=["map"], responses=AUTH_RESPONSES)


@router.get(
    "/areas/{slug}/map",
    name="api_map",
    responses={422: {"description": "Unknown period (the answer lists the valid codes)"}},
)
def read_map(
    request: Request,
    area: ReadArea,
    plan: ReadPlan,
    session: SessionDep,
    period: Annotated[str | None, Query(max_length=20, description="e.g. AY2567")] = None,
    as_of: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    partners: Layer = None,
    problems: Layer = None,
) -> Any:
    """The results chain map at a period (the newest one with data when none is given), of the plan
    now or as it stood at the end of `as_of`: a Plotly figure plus its nodes, links and gaps;
    and the boundary partners with their progress markers' levels at that period (`partners=0`
    leaves them out); with `problems=1`, the problem tree's problems left of the desired
    outcomes, linked to the DOE statements and KRAs they motivate."""
    day = parse_date(as_of) if as_of else None
    if as_of and day is None:
        return json_error(422, N_("The input is not valid."), errors={"as_of": translate(BAD_DATE)})
    view = maps.map_view(
        session,
        area,
        plan,
        linker(request, area),
        period=period,
        as_of=day,
        partners=layer_shown(partners),
        problems=problems_shown(problems),
    )
    if view.unknown:
        errors = {k: translate(m) for k, m in maps.unknown_period(view).items()}
        return json_error(422, N_("The input is not valid."), errors=errors, valid=view.periods)
    data = view.data
    layer = {} if view.partners is None else {"partners": [_partner(m) for m in view.partners]}
    return JSONResponse(
        {
            "area": area.slug,
            "period": view.period,
            "period_label": period_label(view.period) if view.period else None,
            "as_of": day.isoformat() if day else None,
            "periods": [{"code": p, "label": period_label(p)} for p in view.periods],
            "nodes": [
                {
                    "key": n.key,
                    "layer": n.layer,
                    "code": n.code,
                    "title": n.title,
                    "status": n.status,
                    "detail": n.detail,
                    "gap": n.gap,
                    "url": n.url,
                }
                for n in data.nodes
            ],
            "edges": [list(e) for e in data.edges],
            "gaps": [n.key for n in data.gaps()],
            "figure": map_figure(data, figure_names(area)),
            **layer,
        }
    )


def _partner(mark: PartnerMark) -> dict[str, Any]:
    """A boundary partner at the map's period: the semester its levels come from (None: never
    rated by then), its highest rung reached, and per level how many active markers were rated
    medium or high."""
    step = mark.step
    return {
        "id": mark.partner.id,
        "name": mark.partner.name,
        "outcome_challenge": mark.partner.outcome_challenge,
        "period": step.period if step else None,
        "period_label": period_label(step.period) if step else None,
        "rung": mark.rung,
        "levels": [
            {"level": r.level, "reached": r.reached, "active": r.active}
            for r in (step.rungs if step else ())
        ],
    }
