"""Workshop sessions: the facilitator's list and board, and the guests' join pages.

Facilitators (`FacilitateArea`) open a session, watch contributions arrive on the board (it
reloads itself on the area's `workshop` server events), group, accept or archive them, and close
the session. Every action is a plain POST form with a redirect, and with htmx returns the card
or board that changed.

Guests have no account: `/join/{code}` takes a display name and gives back a random token in a
signed cookie scoped to that code's path; only the token's hash is stored. The cookie gives no
principal, so guests reach nothing but their own session's page. CSRF works for them as for
everyone: their first visit gets the seed cookie, their forms carry the token.
"""

from collections.abc import Callable
from functools import lru_cache
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session
from starlette.routing import NoMatchFound

from app.checks import loopback_host
from app.config import get_settings
from app.db import SessionDep, release
from app.i18n import as_utc, get_locale
from app.models import Area, WorkshopParticipant, WorkshopSession
from app.models.base import utcnow
from app.services import rounds, votes, workshop_events, workshops
from app.services.access import Permission
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.workshops import RateLimited, SessionEnded
from app.templating import env, is_htmx, render
from app.web import vote_panels
from app.web.auth import CurrentPrincipal, FacilitateArea, ReadArea, sign, unsign
from app.web.background import in_turn
from app.web.forms import Form, field_text

GUEST_COOKIE = "phonlap_guest"
POLL = "every 15s"  # when the area's event stream is not there, the board polls

facilitator = APIRouter(prefix="/areas/{slug}/workshops")
guests = APIRouter(prefix="/join")


# where a kept line takes the guest's CSRF token: drawn as is, a "<" that escaped text never has
_TOKEN = Markup("<csrf>")


def vote_line(
    item: Any, mine: int, vote: Any, dots_left: int, url: str, token: str, oob: bool = False
) -> Markup:
    """A line of a guest's vote section (the `vote_item` macro). When a vote opens, a hall's
    phones each load the section, and the dot that uses a guest's last one redraws it: lines
    are drawn once per language, item, text, dots and state (`_drawn_line`), with each guest's
    own CSRF token put in after."""
    disabled = vote.mode != "single" and not dots_left
    key = (get_locale(), vote.mode, item.id, item.text, mine, disabled, url, oob)
    return Markup(_drawn_line(*key).replace(_TOKEN, str(escape(token))))


@lru_cache(maxsize=8192)
def _drawn_line(
    locale: str, mode: str, item_id: int, text: str, mine: int, disabled: bool, url: str, oob: bool
) -> str:
    vote = SimpleNamespace(mode=mode)  # (the locale is the one in use: part of the key)
    macro = env.get_template("workshop/_guest_vote_item.html").module.vote_item  # type: ignore[attr-defined]
    item = SimpleNamespace(id=item_id, text=text)
    return str(macro(item, mine, vote, 0 if disabled else 1, url, _TOKEN, oob))


def dot_answer(vote: Any, item: Any, mine: int, dots_left: int, url: str, token: str) -> Markup:
    """The answer to a dot a guest put or took back while they have dots left before and after
    it: only what changed, swapped out of band (the phone swaps nothing else: HX-Reswap none),
    the dots left and the item's line. A hall puts dozens a second: both are drawn once per
    language and state (`_drawn_left`, `vote_line`), without a template's render."""
    left = Markup(_drawn_left(get_locale(), vote.mode, dots_left, vote.dots))
    return left + Markup("\n") + vote_line(item, mine, vote, dots_left, url, token, oob=True)


@lru_cache(maxsize=512)
def _drawn_left(locale: str, mode: str, dots_left: int, total: int) -> str:
    macro = env.get_template("workshop/_guest_vote_item.html").module.dots_left_line  # type: ignore[attr-defined]
    return str(macro(SimpleNamespace(mode=mode, dots=total), dots_left, True))


env.globals.update(
    join_qr_svg=workshops.join_qr_svg,
    format_join_code=workshops.format_code,
    workshop_is_open=workshops.is_open,
    vote_line=vote_line,
)


def join_url(request: Request, workshop: WorkshopSession) -> str:
    """The absolute address a phone opens (what the QR code holds): under PHONLAP_PUBLIC_URL
    when it is set, since the address the server was reached at may be a proxy's."""
    public = get_settings().public_url.rstrip("/")
    if public:
        return public + request.url_for("join_session", code=workshop.join_code).path
    return str(request.url_for("join_session", code=workshop.join_code))


def loopback_join_host(url: str) -> str | None:
    """The host of a join address that only this machine can open (then no phone can join:
    the join panel says so and how to set PHONLAP_PUBLIC_URL), else None."""
    host = urlsplit(url).hostname
    return host if host and loopback_host(host) else None


env.globals["join_host_if_loopback"] = loopback_join_host


def _events_url(request: Request, area: Area) -> str | None:
    try:
        return request.url_for("area_events", slug=area.slug).path
    except NoMatchFound:
        return None


# ---- the facilitator ------------------------------------------------------------------------


def load_workshop(workshop_id: int, area: FacilitateArea, session: SessionDep) -> WorkshopSession:
    workshop = workshops.get_workshop(session, area_id=area.id, workshop_id=workshop_id)
    release(session)  # no connection held while the route waits for its thread (db.release)
    return workshop


def load_read_workshop(workshop_id: int, area: ReadArea, session: SessionDep) -> WorkshopSession:
    workshop = workshops.get_workshop(session, area_id=area.id, workshop_id=workshop_id)
    release(session)
    return workshop


Workshop = Annotated[WorkshopSession, Depends(load_workshop)]
ReadWorkshop = Annotated[WorkshopSession, Depends(load_read_workshop)]


def _list(
    request: Request,
    session: Session,
    area: Area,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    rows = workshops.sessions_of(session, area.id)
    ctx = {
        "area": area,
        "sessions": rows,
        "counts": workshops.contribution_counts(session, [w.id for w in rows]),
        "values": values or {},
        "errors": errors or {},
        "now": utcnow(),
        "default_hours": int(workshops.DEFAULT_DURATION.total_seconds() // 3600),
    }
    return render(request, "workshop/list.html", ctx, status_code=status_code)


@facilitator.get("", name="workshops")
def workshop_list(request: Request, area: FacilitateArea, session: SessionDep) -> Response:
    return _list(request, session, area)


@facilitator.post("", name="workshop_create")
def workshop_create(
    request: Request,
    area: FacilitateArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {"title": field_text(form, "title", 1000), "closes_at": field_text(form, "closes_at")}
    try:
        row = workshops.create_session(
            session, actor=principal.actor, area_id=area.id, workshop_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _list(request, session, area, values=values, errors=exc.errors, status_code=422)
    url = request.url_for("workshop_board", slug=area.slug, workshop_id=row.id).path
    return Response(status_code=303, headers={"Location": url})


def _board_ctx(
    request: Request,
    session: Session,
    area: Area,
    workshop: WorkshopSession,
    principal: CurrentPrincipal,
    *,
    readonly: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    events = _events_url(request, area)
    board = workshops.board_view(session, workshop)
    return {
        "area": area,
        "workshop": workshop,
        "board": board,
        **votes.board_view(votes.latest(session, workshop), board.cards),
        "cafe": rounds.board_view(session, workshop),
        "cafe_values": {},
        "cafe_errors": {},
        "cafe_form": None,
        "vote_values": {},
        "vote_errors": {},
        "readonly": readonly or not principal.can(Permission.facilitate, area.id),
        "join_url": join_url(request, workshop),
        "live_url": events,  # base.html opens the page's one event stream
        "board_trigger": "sse:workshop, resync" if events else POLL,
        "notice": None,
        **extra,
    }


@facilitator.get("/{workshop_id:id}", name="workshop_board")
def workshop_board(
    request: Request,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    ctx = _board_ctx(request, session, area, workshop, principal)
    ctx.update(workshop_events.board_context(session, workshop))  # "part of event X"
    return render(request, "workshop/board.html", ctx)


@facilitator.get("/{workshop_id:id}/board", name="workshop_board_fragment")
def workshop_board_fragment(
    request: Request,
    area: ReadArea,
    workshop: ReadWorkshop,
    session: SessionDep,
    principal: CurrentPrincipal,
    readonly: bool = False,
    part: Annotated[str | None, Query(max_length=10)] = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """The board alone, for live reloads; `readonly=1` (and anyone who cannot facilitate) gets
    it without buttons, as on a projector. While guests post and vote, a board on a screen
    asks for a part only: `part=new` the cards newer than `after` (appended where they belong,
    with the counts); `part=vote` gives the vote's panel and dots, as the area's event stream
    carries them with each dot (vote_panels)."""
    readonly = readonly or not principal.can(Permission.facilitate, area.id)
    base = {"area": area, "workshop": workshop, "readonly": readonly, "card_errors": {}}
    if part == "new":
        board = workshops.board_view(session, workshop, after=after)
        ctx = {
            **base,
            "board": board,
            **votes.board_view(votes.latest(session, workshop), board.cards),
            "column_counts": workshops.column_counts(session, workshop),
            "total": workshops.contribution_counts(session, [workshop.id]).get(workshop.id, 0),
        }
        return render(request, "workshop/_board_new.html", ctx)
    if part == "vote":  # (what the area's event stream carries: vote_panels)
        return HTMLResponse(
            vote_panels.panel(session, workshop), headers={"Vary": "HX-Request, Cookie"}
        )
    ctx = _board_ctx(request, session, area, workshop, principal, readonly=readonly)
    return render(request, "workshop/_board.html", ctx)


@facilitator.post("/{workshop_id:id}/close", name="workshop_close")
def workshop_close(
    request: Request,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    workshops.close_session(session, actor=principal.actor, workshop=workshop)
    if is_htmx(request):
        ctx = _board_ctx(request, session, area, workshop, principal)
        return render(request, "workshop/_board.html", ctx)
    url = request.url_for("workshop_board", slug=area.slug, workshop_id=workshop.id).path
    return Response(status_code=303, headers={"Location": url})


STEPS = ("accept", "archive", "unarchive", "group")


@facilitator.post(
    "/{workshop_id:id}/contributions/{contribution_id:id}/{step}", name="contribution_step"
)
def contribution_step(
    request: Request,
    contribution_id: int,
    step: str,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Accept, archive, un-archive or group one contribution."""
    if step not in STEPS:
        raise NotFound(step)
    actor, errors, status_code = principal.actor, {}, 200
    target = {"workshop": workshop, "contribution_id": contribution_id}
    try:
        if step == "accept":
            workshops.accept(session, actor=actor, **target)
        elif step == "group":
            group_in = {"group_label": field_text(form, "group_label", 200)}
            workshops.set_group(session, actor=actor, group_in=group_in, **target)
        else:
            workshops.archive(session, actor=actor, archived=step == "archive", **target)
    except (Conflict, ValidationFailed) as exc:
        session.rollback()
        status_code = exc.status_code
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"card": exc.message}
    if not is_htmx(request) and not errors:
        url = request.url_for("workshop_board", slug=area.slug, workshop_id=workshop.id).path
        return Response(
            status_code=303, headers={"Location": f"{url}#contribution-{contribution_id}"}
        )
    ctx = _board_ctx(
        request, session, area, workshop, principal, card_errors={contribution_id: errors}
    )
    if not is_htmx(request):
        return render(request, "workshop/board.html", ctx, status_code=status_code)
    card = next((c for c in ctx["board"].cards if c.contribution.id == contribution_id), None)
    if card is None:
        raise NotFound(f"contribution/{contribution_id}")
    return render(request, "workshop/_card.html", {**ctx, "card": card}, status_code=status_code)


# ---- the guests -----------------------------------------------------------------------------


def _join_page(
    request: Request,
    *,
    code: str = "",
    message: Msg | None = None,
    status_code: int = 200,
) -> Response:
    ctx = {"values": {"code": code}, "errors": {"code": message} if message else {}}
    return render(request, "workshop/join.html", ctx, status_code=status_code)


@guests.get("", name="join")
def join_form(request: Request, code: str | None = None) -> Response:
    """Type the code (any case, with spaces or dashes); a well-formed one goes to its page."""
    if code is None:
        return _join_page(request)
    normal = workshops.normalize_code(code[:40])
    if not workshops.is_code(normal):
        message = Msg("A join code has 8 letters and digits, e.g. ABCD-EFGH.")
        return _join_page(request, code=code[:40], message=message, status_code=422)
    url = request.url_for("join_session", code=normal).path
    return Response(status_code=303, headers={"Location": url})


def _guest_session(request: Request, session: Session, code: str) -> WorkshopSession | Response:
    """The open session of the code, or the join page saying why not (unknown or ended)."""
    found = _guest(request, session, code)
    return found if isinstance(found, Response) else found[0]


def _guest(
    request: Request, session: Session, code: str
) -> tuple[WorkshopSession, WorkshopParticipant | None] | Response:
    """The open session of the code and the guest of this phone (None before they gave a name,
    or when the cookie was lost), or the join page saying why not (unknown or ended)."""
    token = unsign(request.cookies.get(GUEST_COOKIE))
    try:
        return workshops.guest_by_code(session, code, token)
    except NotFound:
        message = Msg(workshops.UNKNOWN_CODE)
        return _join_page(request, code=code[:40], message=message, status_code=404)
    except SessionEnded as exc:
        return _join_page(request, code=code[:40], message=exc.message, status_code=410)


def _polled(
    request: Request,
    session: Session,
    code: str,
    key: Callable[[Session, WorkshopSession], str],
) -> tuple[WorkshopSession, WorkshopParticipant | None] | Response:
    """A phone's section reloading itself: the open session of the code and the phone's guest
    (as `_guest`), or the answer already, the join page (unknown or ended code) or 204 while the
    key of what the phone shows (`seen`, from `key`) still holds: nothing to redraw."""
    found = _guest(request, session, code)
    if isinstance(found, Response):
        return found
    seen = request.query_params.get("seen")
    if seen is not None and seen == key(session, found[0]):
        return Response(status_code=204)
    return found


def _canonical(request: Request, code: str) -> Response | None:
    """`/join/abcd-efgh` and the like go to `/join/ABCDEFGH` (the guest cookie's path)."""
    normal = workshops.normalize_code(code)
    if normal == code or not workshops.is_code(normal):
        return None
    return Response(status_code=303, headers={"Location": f"/join/{normal}"})


def _participant(
    request: Request, session: Session, workshop: WorkshopSession
) -> WorkshopParticipant | None:
    token = unsign(request.cookies.get(GUEST_COOKIE))
    return workshops.participant_by_token(session, workshop, token)


def _guest_page(
    request: Request,
    session: Session,
    workshop: WorkshopSession,
    participant: WorkshopParticipant | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    message: Msg | None = None,
    ended: bool = False,
    sent: bool = False,
    vote_message: Msg | None = None,
    unsent: bool = False,
    status_code: int = 200,
) -> Response:
    ctx = {
        **votes.guest_view(session, workshop, participant if not ended else None),
        **rounds.guest_view(session, workshop, participant if not ended else None),
        "vote_message": vote_message,
        "workshop": workshop,
        "area": session.get(Area, workshop.area_id),
        "participant": participant,
        "mine": workshops.contributions_of(session, participant) if participant else [],
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "ended": ended,
        "sent": sent,
        "unsent": unsent,
        "text_max": workshops.TEXT_MAX,
        "name_max": workshops.NAME_MAX,
    }
    if is_htmx(request):
        headers = {"HX-Retarget": "#guest-panel", "HX-Reswap": "outerHTML"}
        return render(
            request, "workshop/_guest_panel.html", ctx, status_code=status_code, headers=headers
        )
    return render(request, "workshop/guest.html", ctx, status_code=status_code)


@guests.get("/{code}", name="join_session")
def join_session(request: Request, code: str, session: SessionDep) -> Response:
    if (redirect := _canonical(request, code)) is not None:
        return redirect
    found = _guest(request, session, code)
    if isinstance(found, Response):
        return found
    workshop, participant = found
    sent = request.query_params.get("sent") == "1"
    return _guest_page(request, session, workshop, participant, sent=sent)


@guests.post("/{code}", name="join_submit")
def join_submit(request: Request, code: str, session: SessionDep, form: Form) -> Response:
    workshop = _guest_session(request, session, code)
    if isinstance(workshop, Response):
        return workshop
    values = {
        "display_name": field_text(form, "display_name", 200),
        "attends": field_text(form, "attends", 20),
    }
    try:
        participant, token = workshops.join(session, workshop=workshop, participant_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _guest_page(
            request, session, workshop, None, values=values, errors=exc.errors, status_code=422
        )
    except SessionEnded as exc:
        return _join_page(request, code=code, message=exc.message, status_code=410)
    url = request.url_for("join_session", code=workshop.join_code).path
    response = Response(status_code=303, headers={"Location": url})
    _set_guest_cookie(request, response, workshop, token)
    return response


def _set_guest_cookie(
    request: Request, response: Response, workshop: WorkshopSession, token: str
) -> None:
    remaining = as_utc(workshop.expires_at) - utcnow()
    response.set_cookie(
        GUEST_COOKIE,
        sign(token),
        max_age=max(60, int(remaining.total_seconds())),
        path=f"/join/{workshop.join_code}",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


CONTRIBUTION_FIELDS = ("kind", "dimension", "text", "detail", "round_id")


@guests.get("/{code}/live", name="guest_live", dependencies=[Depends(in_turn)])
def guest_live(request: Request, code: str, session: SessionDep) -> Response:
    """A phone's poll (_guest_poll.html), every 20 s: 204 while the keys it sends of its vote
    and café sections (`vote`, `round`) both hold, else the sections that changed, out of band,
    and the poller with the new keys. One request for both: hundreds of phones ask, each in
    its turn after the requests someone waits for (app.web.background)."""
    found = _guest(request, session, code)
    if isinstance(found, Response):
        return found
    workshop, participant = found
    vote_key, round_key = votes.guest_key(session, workshop), rounds.guest_key(session, workshop)
    seen = request.query_params
    vote_changed, round_changed = seen.get("vote") != vote_key, seen.get("round") != round_key
    if not (vote_changed or round_changed):
        release(session)
        return Response(status_code=204)
    ctx: dict[str, Any] = {"workshop": workshop, "participant": participant}
    if vote_changed:
        ctx |= votes.guest_view(session, workshop, participant)
    if round_changed:
        ctx |= {"polled": True, **rounds.guest_view(session, workshop, participant)}
    ctx |= {"vote_key": vote_key, "round_key": round_key, "vote_changed": vote_changed,
            "round_changed": round_changed}  # fmt: skip
    release(session)
    return render(request, "workshop/_guest_live.html", ctx)


@guests.post("/{code}/contributions", name="contribution_create")
def contribution_create(request: Request, code: str, session: SessionDep, form: Form) -> Response:
    values = {name: field_text(form, name, 5000) for name in CONTRIBUTION_FIELDS}
    token = unsign(request.cookies.get(GUEST_COOKIE))
    try:
        workshop, participant = workshops.guest_by_code(session, code, token)
    except NotFound:
        return _join_page(
            request, code=code[:40], message=Msg(workshops.UNKNOWN_CODE), status_code=404
        )
    except SessionEnded as exc:
        return _ended(request, session, code, values, exc)
    if participant is None:  # no name given yet (or the cookie was lost): the name form
        url = request.url_for("join_session", code=workshop.join_code).path
        return Response(status_code=303, headers={"Location": url})
    try:
        workshops.contribute(
            session, workshop=workshop, participant=participant, contribution_in=values
        )
    except SessionEnded as exc:  # it ended while the guest was typing
        session.rollback()
        return _ended(request, session, code, values, exc)
    except (ValidationFailed, RateLimited, Conflict) as exc:
        # refused, nothing saved: the page again with what was typed and why (a Conflict: the
        # World Café round ended while the guest was typing; the text is kept, unsent)
        session.rollback()
        why = (
            {"errors": exc.errors}
            if isinstance(exc, ValidationFailed)
            else {"message": exc.message, "unsent": isinstance(exc, Conflict)}
        )
        return _guest_page(
            request,
            session,
            workshop,
            participant,
            values=values,
            status_code=exc.status_code,
            **why,
        )
    if is_htmx(request):  # the next one is often of the same kind: keep it chosen
        kept = {"kind": values["kind"], "dimension": values["dimension"]}
        return _guest_page(request, session, workshop, participant, values=kept, sent=True)
    url = request.url_for("join_session", code=workshop.join_code).path
    return Response(status_code=303, headers={"Location": f"{url}?sent=1"})


def _ended(
    request: Request, session: Session, code: str, values: dict[str, Any], exc: SessionEnded
) -> Response:
    """A post to a session that has ended: say so, and give back what was typed (unsent)."""
    workshop = workshops.find_code(session, code)
    if workshop is None:
        return _join_page(request, code=code[:40], message=exc.message, status_code=410)
    participant = _participant(request, session, workshop)
    return _guest_page(
        request,
        session,
        workshop,
        participant,
        values=values,
        message=exc.message,
        ended=True,
        status_code=410,
    )


router = APIRouter()
router.include_router(facilitator)
router.include_router(guests)
