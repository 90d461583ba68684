"""National workshops (events): the organisers' list and create form (`/workshops`), an event's
page (`/workshops/{event_id}`), its national projector (`/workshops/{event_id}/present`) and the
projector's event stream (`/workshops/{event_id}/events`); and, for a facilitator, attaching an
open session of their area to an open event (a form on the session's board).

Organisers are national staff: administrators and reviewers (`Permission.review` held for every
area). An area's facilitator sees on their board which event the session belongs to, and may
attach or detach it; the event's pages show other areas' attendance, so they stay national.

The stream listens to the channels of all the stations' areas and the event's own channel, and
names each event by what it changes (`participant`, `contribution`, `vote`, `stations`), so the
projector reloads only the parts that show it.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import live
from app.db import SessionDep, release
from app.i18n import localized, thai_today
from app.models import WorkshopEvent
from app.models.workshops import ContributionKind
from app.services import workshop_events as events
from app.services import workshops
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.reference import default_group, group_areas
from app.templating import render
from app.web import events as sse
from app.web.auth import CurrentPrincipal, FacilitateArea, require
from app.web.forms import Form, field_int, field_text
from app.web.workshops import Workshop, join_url

router = APIRouter()

Organiser = Annotated[Principal, Depends(require(Permission.review))]
PARTS = ("stations", "highlights", "board")


def load_event(event_id: int, principal: Organiser, session: SessionDep) -> WorkshopEvent:
    event = events.get_event(session, event_id)
    release(session)  # no connection held while the route waits for its thread (db.release)
    return event


Event = Annotated[WorkshopEvent, Depends(load_event)]


# ---- the list and the create form ---------------------------------------------------------


def _list(
    request: Request,
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    areas = group_areas(session, None)
    group = {a.id for a in group_areas(session, default_group(session))}
    today = thai_today().isoformat()
    defaults = {
        "starts_on": today,
        "ends_on": today,
        "area_ids": [a.id for a in areas if a.id in group],
    }
    ctx = {
        "rows": events.events_list(session),
        "area_choices": [(a.id, localized(a)) for a in areas],
        "values": values if values is not None else defaults,
        "errors": errors or {},
        "max_days": events.MAX_DAYS,
    }
    return render(request, "workshop_event/list.html", ctx, status_code=status_code)


@router.get("/workshops", name="workshop_events")
def event_list(request: Request, principal: Organiser, session: SessionDep) -> Response:
    return _list(request, session)


@router.post("/workshops", name="workshop_event_create")
def event_create(
    request: Request, principal: Organiser, session: SessionDep, form: Form
) -> Response:
    values: dict[str, Any] = {
        name: field_text(form, name, 1000)
        for name in ("title", "station_title", "starts_on", "ends_on")
    }
    values["area_ids"] = [v for v in form.getlist("area_ids") if isinstance(v, str)][:200]
    try:
        event = events.create_event(session, actor=principal.actor, event_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _list(request, session, values=values, errors=exc.errors, status_code=422)
    url = request.url_for("workshop_event", event_id=event.id).path
    return Response(status_code=303, headers={"Location": url})


# ---- the event's page -----------------------------------------------------------------------


@router.get("/workshops/{event_id:id}", name="workshop_event")
def event_page(request: Request, event: Event, session: SessionDep) -> Response:
    return render(request, "workshop_event/page.html", _page_ctx(request, session, event))


def _page_ctx(
    request: Request, session: Session, event: WorkshopEvent, message: Msg | None = None
) -> dict[str, Any]:
    view = events.event_view(session, event)
    return {
        "event": event,
        "view": view,
        "steps": [k.value for k in ContributionKind],
        "attendees": events.attendance(session, view),
        "join_urls": {s.workshop.id: join_url(request, s.workshop) for s in view.stations},
        "message": message,
    }


@router.post("/workshops/{event_id:id}/close", name="workshop_event_close")
def event_close(
    request: Request, event: Event, session: SessionDep, form: Form, principal: Organiser
) -> Response:
    try:
        events.close_event(
            session, actor=principal.actor, event=event, version=field_int(form, "version")
        )
    except Conflict as exc:
        session.rollback()
        session.refresh(event)
        ctx = _page_ctx(request, session, event, exc.message)
        return render(request, "workshop_event/page.html", ctx, status_code=409)
    url = request.url_for("workshop_event", event_id=event.id).path
    return Response(status_code=303, headers={"Location": url})


# ---- the national projector -----------------------------------------------------------------


def _step(value: str | None) -> ContributionKind:
    try:
        return ContributionKind(value or ContributionKind.doe_statement.value)
    except ValueError:
        raise NotFound(f"step/{value}") from None


@router.get("/workshops/{event_id:id}/present", name="workshop_event_present")
def event_present(
    request: Request,
    event: Event,
    session: SessionDep,
    step: str | None = None,
    part: str | None = None,
) -> Response:
    """The projector; `part=stations|highlights|board` answers that part alone (live reloads)."""
    chosen = _step(step)
    if part is not None and part not in PARTS:
        raise NotFound(f"part/{part}")
    view = events.event_view(session, event)
    ctx: dict[str, Any] = {"event": event, "view": view, "step": chosen.value}
    if part in (None, "highlights"):
        ctx["highlights"] = events.highlights(session, view)
        ctx["leaders"] = events.vote_leaders(session, view)
    if part in (None, "board"):
        ctx["cards"] = events.combined_board(session, view, chosen)
    if part is not None:
        return render(request, f"workshop_event/_{part}.html", ctx)
    ctx["steps"] = [k.value for k in ContributionKind]
    ctx["live_url"] = request.url_for("workshop_event_events", event_id=event.id).path
    return render(request, "workshop_event/present.html", ctx)


def stream_name(event: live.Event) -> str | None:
    """What a change means for the projector: the part it reloads (None: not for it)."""
    kind = event.get("type")
    if kind == "resync":
        return "resync"
    if kind == "workshop_event.changed":
        return "stations"
    if kind not in workshops.CHANGES:
        return None
    return {
        "workshop_participant": "participant",
        "contribution": "contribution",
        "workshop_vote": "vote",
        "workshop_ballot": "vote",
        "workshop_session": "stations",
    }.get(str(event.get("entity")), "contribution")


@router.get("/workshops/{event_id:id}/events", name="workshop_event_events")
def event_events(event: Event, session: SessionDep) -> sse.EventStream:
    """The stations' workshop events, named by the part they change. When the stations change
    (attached, detached), the stream ends after saying so: the browser reconnects and listens to
    the new set of areas."""
    view = events.event_view(session, event)
    session_ids = set(view.session_ids)
    channels = {live.area_channel(s.area.id) for s in view.stations}
    channels.add(live.workshop_event_channel(event.id))
    release(session)  # no database connection held while the stream stays open

    def name_of(change: live.Event) -> str | None:
        if change.get("type") in workshops.CHANGES and (
            change.get("session_id") not in session_ids
        ):
            return None  # another session of the same area
        return stream_name(change)

    return sse.EventStream(
        sorted(channels),
        name_of,
        last=lambda change: change.get("type") == "workshop_event.changed",
    )


# ---- a facilitator attaches their session ---------------------------------------------------


@router.post("/areas/{slug}/workshops/{workshop_id:id}/event", name="workshop_event_link")
def event_link(
    request: Request,
    area: FacilitateArea,
    workshop: Workshop,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Attach the session to the event chosen (blank: detach it from its event)."""
    event_id = field_int(form, "event_id")
    try:
        if event_id is None:
            events.detach(session, actor=principal.actor, workshop=workshop)
        else:
            event = events.get_event(session, event_id)
            events.attach(session, actor=principal.actor, event=event, workshop=workshop)
    except Conflict:
        session.rollback()
        raise
    url = request.url_for("workshop_board", slug=area.slug, workshop_id=workshop.id).path
    return Response(status_code=303, headers={"Location": url})
