"""The audit trail on screen: an area's history (filter by person, type, dates), one element's
history, and restoring a deleted element or an earlier version."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app import labels
from app.db import SessionDep
from app.display import entry_name, value_names
from app.i18n import parse_day
from app.inputs import parse_id
from app.models import Area, AuditEvent
from app.services import history
from app.services import plans as plan_service
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plan_views import plan_view
from app.templating import render, translate
from app.web.auth import CurrentPrincipal, EditArea, ReadArea
from app.web.deps import EditPlan
from app.web.forms import Form, field_text

router = APIRouter(prefix="/areas/{slug}/history")

# Audit entity types a filter may name, in the workshop's order.
ENTITY_TYPES = plan_service.PLAN_ENTITIES


def _optional_int(value: str | None) -> int | None:
    return parse_id(value)


@router.get("", name="area_history")
def area_history(
    request: Request,
    area: ReadArea,
    session: SessionDep,
    person: Annotated[str | None, Query(max_length=20)] = None,
    type: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    before: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    filters = history.Filters(
        actor_id=_optional_int(person),
        entity_type=type if type in ENTITY_TYPES else None,
        since=parse_day(since),
        until=parse_day(until),
        before_id=_optional_int(before),
    )
    entries, more = history.area_history(session, area.id, filters)
    view = plan_view(session, area)
    ctx = {
        "view": view,
        "area": area,
        "entries": entries,
        "more": more,
        "filters": filters,
        "people": history.people(session, area.id),
        "entity_types": ENTITY_TYPES,
        "names": history.reference_names(session, entries, value_names(view)),
        "query": _query(request),
    }
    return render(request, "history/area.html", ctx)


def _query(request: Request) -> str:
    """The current filters without the page cursor, for the "older changes" link."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "before" and v]
    return urlencode(kept)


@router.get("/{entity_type}/{entity_id:id}", name="element_history")
def element_history(
    request: Request,
    area: ReadArea,
    entity_type: str,
    entity_id: int,
    session: SessionDep,
    restored: int | None = None,
) -> Response:
    return _element_page(request, session, area, entity_type, entity_id, restored=restored)


def _element_page(
    request: Request,
    session: SessionDep,
    area: Area,
    entity_type: str,
    entity_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    entries = history.element_history(session, area.id, entity_type, entity_id)
    unrecorded = (
        None if entries else history.unrecorded_name(session, area.id, entity_type, entity_id)
    )
    if not entries and unrecorded is None:
        raise NotFound(f"history/{entity_type}/{entity_id}")
    view = plan_view(session, area)
    names = history.reference_names(session, entries, value_names(view))
    ctx = {
        "view": view,
        "area": area,
        "entries": entries,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "title": _title(entries, names) or unrecorded,
        "names": names,
        **extra,
    }
    return render(request, "history/element.html", ctx, status_code=status_code)


def _title(entries: list[history.Entry], names: dict[str, dict[int, str]]) -> str:
    """The element's name as it was last recorded."""
    return next((name for e in entries if (name := entry_name(e.event, names))), "")


@router.post("/{event_id:id}/restore", name="history_restore")
def restore(
    request: Request,
    event_id: int,
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
    form: Form,
) -> Response:
    event = session.get(AuditEvent, event_id)
    reason = field_text(form, "reason", 1000)
    try:
        plan_service.restore(
            session, actor=principal.actor, plan=plan, event_id=event_id, reason=reason
        )
    except (Conflict, ValidationFailed) as exc:
        if event is None or event.area_id != area.id:
            raise
        problem = (
            exc.message
            if isinstance(exc, Conflict)
            else Msg(
                "It cannot be restored as it was: %(details)s",
                {
                    "details": "; ".join(
                        f"{labels.label('field', name)}: {translate(m)}"
                        for name, m in exc.errors.items()
                    )
                },
            )
        )
        return _element_page(
            request,
            session,
            area,
            event.entity_type,
            event.entity_id,
            status_code=exc.status_code,
            problem=problem,
        )
    url = request.url_for(
        "element_history", slug=area.slug, entity_type=event.entity_type, entity_id=event.entity_id
    ).path
    return RedirectResponse(f"{url}?restored={event_id}", status_code=303)
