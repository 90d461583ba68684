"""World Café rounds: the facilitator sets up the tables, starts and ends timed rounds from the
board's café panel; a guest's phone shows the table to go to and the countdown, in a section
that reloads itself (guests have no event stream). Posts into a round go through the guests'
contribution form (app/web/workshops.py), which carries the round the phone showed.

Plain POST forms with a redirect; with htmx the facilitator gets the board back.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.i18n import as_utc
from app.models.base import utcnow
from app.services import rounds
from app.services.errors import Conflict, Msg, ValidationFailed
from app.services.workshops import SessionEnded
from app.templating import env, is_htmx, render
from app.web.auth import CurrentPrincipal, FacilitateArea
from app.web.forms import Form, field_int, field_text
from app.web.workshops import Workshop, _board_ctx, _polled

facilitator = APIRouter(prefix="/areas/{slug}/workshops")
guests = APIRouter(prefix="/join")


def _back(request: Request, area: Any, workshop: Any) -> Response:
    url = request.url_for("workshop_board", slug=area.slug, workshop_id=workshop.id).path
    return Response(status_code=303, headers={"Location": f"{url}#cafe"})


def _refused(
    request: Request,
    session: SessionDep,
    area: Any,
    workshop: Any,
    principal: CurrentPrincipal,
    exc: ValidationFailed | Conflict | SessionEnded,
    values: dict[str, Any],
    form_name: str,
) -> Response:
    session.rollback()
    if isinstance(exc, ValidationFailed):
        errors: dict[str, Msg] = exc.errors
    else:
        errors = {"form": exc.message}
    ctx = _board_ctx(
        request,
        session,
        area,
        workshop,
        principal,
        cafe_values=values,
        cafe_errors=errors,
        cafe_form=form_name,
    )
    return render(request, "workshop/board.html", ctx, status_code=exc.status_code)


@facilitator.post("/{workshop_id:id}/tables", name="cafe_tables")
def cafe_tables(
    request: Request,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """The number of tables, and each table's question and host."""
    count = field_text(form, "count", 20)
    shown = field_int(form, "shown") or 0  # the table rows the form had
    tables_in = {
        n: {
            "question": field_text(form, f"question_{n}", 1000),
            "host_name": field_text(form, f"host_name_{n}", 200),
            "host_participant_id": field_text(form, f"host_participant_id_{n}", 20),
        }
        for n in range(1, min(shown, rounds.MAX_TABLES) + 1)
    }
    values = {"count": count} | {
        f"{name}_{n}": value for n, row in tables_in.items() for name, value in row.items()
    }
    try:
        rounds.set_tables(
            session, actor=principal.actor, workshop=workshop, count=count, tables_in=tables_in
        )
    except (ValidationFailed, Conflict) as exc:
        return _refused(request, session, area, workshop, principal, exc, values, "tables")
    return _back(request, area, workshop)


@facilitator.post("/{workshop_id:id}/rounds", name="round_start")
def round_start(
    request: Request,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {
        "minutes": field_text(form, "minutes", 20),
        "question": field_text(form, "question", 1000),
    }
    try:
        rounds.start_round(session, actor=principal.actor, workshop=workshop, round_in=values)
    except (ValidationFailed, Conflict, SessionEnded) as exc:
        return _refused(request, session, area, workshop, principal, exc, values, "round")
    return _back(request, area, workshop)


@facilitator.post("/{workshop_id:id}/rounds/{round_id:id}/end", name="round_end")
def round_end(
    request: Request,
    round_id: int,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    rounds.end_round(session, actor=principal.actor, workshop=workshop, round_id=round_id)
    if is_htmx(request):
        ctx = _board_ctx(request, session, area, workshop, principal)
        return render(request, "workshop/_board.html", ctx)
    return _back(request, area, workshop)


# ---- the guests -----------------------------------------------------------------------------


@guests.get("/{code}/round", name="guest_round")
def guest_round(request: Request, code: str, session: SessionDep) -> Response:
    """The guest's café section alone, for its reloads (empty before the first round)."""
    found = _polled(request, session, code, rounds.guest_key)
    if isinstance(found, Response):
        return found
    workshop, participant = found
    ctx = {
        "workshop": workshop,
        "participant": participant,
        "polled": True,
        **rounds.guest_view(session, workshop, participant),
    }
    return render(request, "workshop/_guest_round.html", ctx)


router = APIRouter()
router.include_router(facilitator)
router.include_router(guests)


def seconds_left(row: Any) -> int:
    """The whole seconds a round has left (0 once it has ended)."""
    if not rounds.is_running(row):
        return 0
    return max(0, int((as_utc(row.ends_at) - utcnow()).total_seconds()))


env.globals["cafe_seconds_left"] = seconds_left
