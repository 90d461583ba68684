"""The area's learning: the hub of the developmental-evaluation layer, its timeline, the plan's
named versions and their comparison, and key developments."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.services import learning
from app.services.access import Permission
from app.templating import render
from app.web.auth import CurrentPrincipal, ReadArea

router = APIRouter(prefix="/areas/{slug}")


@router.get("/learning", name="learning")
def hub(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    ctx = {
        "area": area,
        "counts": learning.counts(session, area),
        "can_reflect": principal.can(Permission.reflect, area.id),
    }
    return render(request, "learning/hub.html", ctx)
