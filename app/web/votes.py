"""Voting in a workshop session: the facilitator opens and closes a vote from the board; guests
vote from their join page, whose vote section reloads itself every little while (guests have no
event stream), and the board's counts follow live on the area's `workshop` events.

Plain POST forms with a redirect; with htmx the guest gets their panel back, the facilitator the
board.
"""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.db import SessionDep
from app.models.workshops import VoteMode
from app.services import votes
from app.services.errors import Conflict, Msg, ValidationFailed
from app.services.workshops import SessionEnded
from app.templating import is_htmx, render, route_path
from app.web.auth import CurrentPrincipal, FacilitateArea, csrf_token
from app.web.background import in_turn
from app.web.forms import Form, field_int, field_text
from app.web.workshops import (
    Workshop,
    _board_ctx,
    _ended,
    _guest,
    _guest_page,
    _polled,
    dot_answer,
)

facilitator = APIRouter(prefix="/areas/{slug}/workshops")
guests = APIRouter(prefix="/join")


def _scope(value: str) -> dict[str, Any]:
    """The board's "what to vote on" choice: `kind:problem` or `group:<its name>`."""
    kind, _, rest = value.partition(":")
    if kind == "kind":
        return {"kind": rest}
    if kind == "group":
        return {"group_label": rest}
    return {}


@facilitator.post("/{workshop_id:id}/votes", name="vote_open")
def vote_open(
    request: Request,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {
        "scope": field_text(form, "scope", 100),
        "mode": field_text(form, "mode", 20),
        "dots": field_text(form, "dots", 20),
    }
    vote_in = {**_scope(values["scope"]), "mode": values["mode"], "dots": values["dots"]}
    try:
        votes.open_vote(session, actor=principal.actor, workshop=workshop, vote_in=vote_in)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"scope": exc.message}
        errors = {("scope" if k in ("kind", "group_label") else k): v for k, v in errors.items()}
        ctx = _board_ctx(
            request, session, area, workshop, principal, vote_values=values, vote_errors=errors
        )
        return render(request, "workshop/board.html", ctx, status_code=exc.status_code)
    url = request.url_for("workshop_board", slug=area.slug, workshop_id=workshop.id).path
    return Response(status_code=303, headers={"Location": f"{url}#vote"})


@facilitator.post("/{workshop_id:id}/votes/{vote_id:id}/close", name="vote_close")
def vote_close(
    request: Request,
    vote_id: int,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    votes.close_vote(session, actor=principal.actor, workshop=workshop, vote_id=vote_id)
    if is_htmx(request):
        ctx = _board_ctx(request, session, area, workshop, principal)
        return render(request, "workshop/_board.html", ctx)
    url = request.url_for("workshop_board", slug=area.slug, workshop_id=workshop.id).path
    return Response(status_code=303, headers={"Location": f"{url}#vote"})


# ---- the guests -----------------------------------------------------------------------------


@guests.get("/{code}/vote", name="guest_vote", dependencies=[Depends(in_turn)])
def guest_vote(request: Request, code: str, session: SessionDep) -> Response:
    """The guest's vote section alone, for its reloads (empty when no vote is open)."""
    found = _polled(request, session, code, votes.guest_key)
    if isinstance(found, Response):
        return found
    workshop, participant = found
    ctx = {"workshop": workshop, **votes.guest_view(session, workshop, participant)}
    return render(request, "workshop/_guest_vote.html", ctx)


@guests.post("/{code}/votes/{vote_id:id}", name="guest_vote_cast")
def guest_vote_cast(
    request: Request, code: str, vote_id: int, session: SessionDep, form: Form
) -> Response:
    """A dot put on an item (`back=1`: one taken back)."""
    found = _guest(request, session, code)
    if isinstance(found, Response):
        return found
    workshop, participant = found
    if participant is None:
        url = request.url_for("join_session", code=workshop.join_code).path
        return Response(status_code=303, headers={"Location": url})
    message: Msg | None = None
    status_code = 200
    dots: votes.GuestDots | None = None
    contribution_id = field_int(form, "contribution_id") or 0
    take_back = field_text(form, "back", 5) == "1"
    try:
        dots = votes.cast(
            session,
            workshop=workshop,
            participant=participant,
            vote_id=vote_id,
            contribution_id=contribution_id,
            take_back=take_back,
        )
    except SessionEnded as exc:
        session.rollback()
        return _ended(request, session, code, {}, exc)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        status_code = exc.status_code
        message = (
            next(iter(exc.errors.values())) if isinstance(exc, ValidationFailed) else exc.message
        )
    if not is_htmx(request) and message is None:
        url = request.url_for("join_session", code=workshop.join_code).path
        return Response(status_code=303, headers={"Location": f"{url}#guest-vote"})
    if not is_htmx(request):
        return _guest_page(
            request, session, workshop, participant, vote_message=message, status_code=status_code
        )
    if dots is not None and _only_the_item_changed(dots, take_back):
        # A hall puts thousands of dots in a minute: the phone gets back the two lines that
        # changed, not the section with every item (swapped out of band, the rest left alone).
        url = route_path(request, "guest_vote_cast", code=workshop.join_code, vote_id=vote_id)
        body = dot_answer(
            dots.vote, dots.item, dots.mine[contribution_id], dots.left, url, csrf_token(request)
        )
        headers = {"HX-Reswap": "none", "Vary": "HX-Request, Cookie"}
        return HTMLResponse(body, headers=headers)
    ctx = {
        "workshop": workshop,
        "vote_message": message,
        **votes.guest_view(session, workshop, participant, dots),
    }
    return render(request, "workshop/_guest_vote.html", ctx, status_code=status_code)


def _only_the_item_changed(dots: votes.GuestDots, take_back: bool) -> bool:
    """Whether a dot changed only its item's line and the count of dots left: in a dots vote,
    while the guest has dots left both before and after it (every "+ Dot" button stays as it
    was). A single choice moves between two items: the section is drawn again."""
    if dots.vote.mode != VoteMode.dots.value:
        return False
    left = dots.left
    return left >= 2 if take_back else left >= 1


router = APIRouter()
router.include_router(facilitator)
router.include_router(guests)
