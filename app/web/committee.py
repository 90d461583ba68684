"""The area's committee: members and working groups (/committee), meetings (/meetings), one
meeting with its attendance, agenda and resolutions (/meetings/{id}) and its minutes as a Thai
A4 PDF (/meetings/{id}.pdf).

Plain forms that redirect (303) when they worked and come back with 422, the message beside
the field and the input kept, when they did not; a stale save comes back with 409. Reading needs
ReadArea; every write EditArea (the area's editors: the committee's secretary), and the pages
show forms only to them.
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.i18n import localized, thai_today
from app.models import Area
from app.services import committee
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, ValidationFailed
from app.templating import env, render
from app.web.auth import CurrentPrincipal, EditArea, ReadArea
from app.web.forms import Form, field_int, field_text, redirect
from app.web.reports import pdf_download

router = APIRouter(prefix="/areas/{slug}")

TEXT_LIMIT = 20_000
MEMBER_FIELDS = ("name", "title", "agency_id", "role")
GROUP_FIELDS = ("name", "remit", "lead_id", "others")
MEETING_FIELDS = ("held_on", "title", "place", "agenda", "guests")
CITATION_ROWS = 3  # empty citation rows offered on a resolution's form


def _ids(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)][:500]


def _errors(exc: ValidationFailed | Conflict) -> dict[str, Msg]:
    return exc.errors if isinstance(exc, ValidationFailed) else {"__all__": exc.message}


def cited_url(request: Request, area: Area, target_type: str, target_id: int) -> str:
    """Where a cited record is shown."""
    slug = area.slug
    if target_type == "plan_version":
        return request.url_for("plan_version", slug=slug, version_id=target_id).path
    if target_type == "change_proposal":
        return request.url_for("proposals", slug=slug).path + f"#proposal-{target_id}"
    if target_type == "review_round":
        return request.url_for("progress", slug=slug).path + "#rounds"
    if target_type == "kpi":
        return request.url_for("progress_kpi", slug=slug, kpi_id=target_id).path
    if target_type == "action":
        return request.url_for("progress", slug=slug).path + f"#action-progress-{target_id}"
    return request.url_for("area_overview", slug=slug).path + f"#kra-{target_id}"


def meeting_url(request: Request, area: Area, meeting_id: int, anchor: str = "") -> str:
    path = request.url_for("meeting", slug=area.slug, meeting_id=meeting_id).path
    return path + (f"#{anchor}" if anchor else "")


env.globals.update(committee_cited_url=cited_url, committee_meeting_url=meeting_url)


# ---- members and working groups -------------------------------------------------------------


def _committee_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    forms: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """`forms`: which form is open with what values and errors: {"key": "member-new" |
    "member-5" | "group-new" | "group-2", "values": {...}, "errors": {...}}."""
    members = committee.members(session, area)
    agencies = committee.agencies(session, area)
    ctx = {
        "area": area,
        "members": members,
        "member_names": {m.id: m.name for m in members},
        "member_choices": [(m.id, _member_label(m)) for m in members],
        "agencies": {a.id: a for a in agencies},
        "agency_choices": [(a.id, localized(a)) for a in agencies],
        "groups": committee.groups(session, area),
        "can_edit": principal.can(Permission.edit, area.id),
        "open_form": forms or {},
    }
    return render(request, "committee/page.html", ctx, status_code=status_code)


@router.get("/committee", name="committee")
def committee_page(
    request: Request,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    member: int | None = None,
    group: int | None = None,
) -> Response:
    forms: dict[str, Any] = {}
    if principal.can(Permission.edit, area.id):
        if member is not None:
            row = committee.get_member(session, area, member)
            forms = {
                "key": f"member-{row.id}",
                "values": committee.member_values(row),
                "errors": {},
            }
        elif group is not None:
            row = committee.get_group(session, area, group)
            forms = {
                "key": f"group-{row.id}",
                "values": committee.group_values(session, row),
                "errors": {},
            }
    return _committee_page(request, session, area, principal, forms=forms)


def _member_values(form: FormData) -> dict[str, Any]:
    return {name: field_text(form, name, TEXT_LIMIT) for name in MEMBER_FIELDS}


def _group_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: field_text(form, name, TEXT_LIMIT) for name in GROUP_FIELDS}
    values["members"] = _ids(form, "members")
    return values


def _committee_url(request: Request, area: Area, anchor: str) -> str:
    return request.url_for("committee", slug=area.slug).path + f"#{anchor}"


def _committee_saved(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    keys: tuple[str, str],
    values: dict[str, Any],
    write: Callable[[], Any],
) -> Response:
    """Run a member's or a group's write: done, back to it on the page (`keys[1]` its anchor,
    "{id}" its id); refused, the page again with the form `keys[0]` open, the input kept and the
    message beside the field (422), or the stale save said (409)."""
    try:
        row = write()
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        forms = {"key": keys[0], "values": values, "errors": _errors(exc)}
        return _committee_page(
            request, session, area, principal, forms=forms, status_code=exc.status_code
        )
    return redirect(_committee_url(request, area, keys[1].format(id=row.id)))


@router.post("/committee/members", name="committee_member_create")
def member_create(
    request: Request, area: EditArea, session: SessionDep, form: Form, principal: CurrentPrincipal
) -> Response:
    values = _member_values(form)
    return _committee_saved(
        request,
        session,
        area,
        principal,
        ("member-new", "member-{id}"),
        values,
        lambda: committee.create_member(
            session, actor=principal.actor, area=area, member_in=values
        ),
    )


@router.post("/committee/members/{member_id:id}", name="committee_member_update")
def member_update(
    request: Request,
    member_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _member_values(form)
    return _committee_saved(
        request,
        session,
        area,
        principal,
        (f"member-{member_id}", "member-{id}"),
        values,
        lambda: committee.update_member(
            session,
            actor=principal.actor,
            area=area,
            member_id=member_id,
            member_in=values,
            expected_version=field_int(form, "version"),
        ),
    )


@router.post("/committee/members/{member_id:id}/delete", name="committee_member_delete")
def member_delete(
    request: Request,
    member_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    committee.delete_member(
        session,
        actor=principal.actor,
        area=area,
        member_id=member_id,
        expected_version=field_int(form, "version"),
    )
    return redirect(_committee_url(request, area, "h-members"))


@router.post("/committee/groups", name="working_group_create")
def group_create(
    request: Request, area: EditArea, session: SessionDep, form: Form, principal: CurrentPrincipal
) -> Response:
    values = _group_values(form)
    return _committee_saved(
        request,
        session,
        area,
        principal,
        ("group-new", "group-{id}"),
        values,
        lambda: committee.create_group(session, actor=principal.actor, area=area, group_in=values),
    )


@router.post("/committee/groups/{group_id:id}", name="working_group_update")
def group_update(
    request: Request,
    group_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _group_values(form)
    return _committee_saved(
        request,
        session,
        area,
        principal,
        (f"group-{group_id}", "group-{id}"),
        values,
        lambda: committee.update_group(
            session,
            actor=principal.actor,
            area=area,
            group_id=group_id,
            group_in=values,
            expected_version=field_int(form, "version"),
        ),
    )


@router.post("/committee/groups/{group_id:id}/delete", name="working_group_delete")
def group_delete(
    request: Request,
    group_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    committee.delete_group(
        session,
        actor=principal.actor,
        area=area,
        group_id=group_id,
        expected_version=field_int(form, "version"),
    )
    return redirect(_committee_url(request, area, "h-groups"))


# ---- meetings -------------------------------------------------------------------------------


def _meeting_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: field_text(form, name, TEXT_LIMIT) for name in MEETING_FIELDS}
    values["attendees"] = _ids(form, "attendees")
    return values


def _meetings_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    members = committee.members(session, area)
    ctx = {
        "area": area,
        "meetings": committee.meetings(session, area),
        "member_choices": [(m.id, _member_label(m)) for m in members],
        "can_edit": principal.can(Permission.edit, area.id),
        "values": values or {"held_on": thai_today().isoformat()},
        "errors": errors or {},
    }
    return render(request, "committee/meetings.html", ctx, status_code=status_code)


def _member_label(member: Any) -> str:
    return f"{member.name} ({member.title})" if member.title else member.name


@router.get("/meetings", name="meetings")
def meetings_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _meetings_page(request, session, area, principal)


@router.post("/meetings", name="meeting_create")
def meeting_create(
    request: Request, area: EditArea, session: SessionDep, form: Form, principal: CurrentPrincipal
) -> Response:
    values = _meeting_values(form)
    try:
        row = committee.create_meeting(session, actor=principal.actor, area=area, meeting_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _meetings_page(
            request, session, area, principal, values=values, errors=exc.errors, status_code=422
        )
    return redirect(meeting_url(request, area, row.id))


def _meeting_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    meeting_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    view = committee.meeting_view(session, area, meeting_id)
    members = committee.members(session, area)
    ctx = {
        "area": area,
        "view": view,
        "meeting": view.meeting,
        "member_choices": [(m.id, _member_label(m)) for m in members],
        "citable": committee.citable(session, area),
        "citation_rows": CITATION_ROWS,
        "can_edit": principal.can(Permission.edit, area.id),
        "editing": False,
        "values": committee.meeting_values(view),
        "errors": {},
        "resolution_form": {},
        **extra,
    }
    return render(request, "committee/meeting.html", ctx, status_code=status_code)


@router.get("/meetings/{meeting_id:id}", name="meeting")
def meeting_page(
    request: Request,
    meeting_id: int,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    edit: bool = False,
    resolution: int | None = None,
) -> Response:
    can_edit = principal.can(Permission.edit, area.id)
    extra: dict[str, Any] = {"editing": edit and can_edit}
    if resolution is not None and can_edit:
        meeting = committee.get_meeting(session, area, meeting_id)
        row = committee.get_resolution(session, meeting, resolution)
        cites = committee.current_citations(session, row.id)
        extra["resolution_form"] = {
            "key": f"resolution-{row.id}",
            "values": {"text": row.text, "cites": cites},
            "errors": {},
        }
    return _meeting_page(request, session, area, principal, meeting_id, **extra)


@router.post("/meetings/{meeting_id:id}", name="meeting_update")
def meeting_update(
    request: Request,
    meeting_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _meeting_values(form)
    try:
        committee.update_meeting(
            session,
            actor=principal.actor,
            area=area,
            meeting_id=meeting_id,
            meeting_in=values,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        return _meeting_page(
            request,
            session,
            area,
            principal,
            meeting_id,
            editing=True,
            values=values,
            errors=_errors(exc),
            status_code=exc.status_code,
        )
    return redirect(meeting_url(request, area, meeting_id))


@router.post("/meetings/{meeting_id:id}/delete", name="meeting_delete")
def meeting_delete(
    request: Request,
    meeting_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    committee.delete_meeting(
        session,
        actor=principal.actor,
        area=area,
        meeting_id=meeting_id,
        expected_version=field_int(form, "version"),
    )
    return redirect(request.url_for("meetings", slug=area.slug).path)


# ---- resolutions ----------------------------------------------------------------------------


def _resolution_input(form: FormData) -> tuple[dict[str, Any], list[str], list[str]]:
    return (
        {"text": field_text(form, "text", TEXT_LIMIT)},
        _ids(form, "cite"),
        _ids(form, "cite_kind"),
    )


def _resolution_failed(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    meeting_id: int,
    key: str,
    values: dict[str, Any],
    targets: list[str],
    kinds: list[str],
    exc: ValidationFailed | Conflict,
) -> Response:
    session.rollback()
    cites = [
        {"target": t, "kind": kinds[i] if i < len(kinds) else ""}
        for i, t in enumerate(targets)
        if t
    ]
    form = {"key": key, "values": {**values, "raw_cites": cites}, "errors": _errors(exc)}
    return _meeting_page(
        request,
        session,
        area,
        principal,
        meeting_id,
        resolution_form=form,
        status_code=exc.status_code,
    )


@router.post("/meetings/{meeting_id:id}/resolutions", name="resolution_create")
def resolution_create(
    request: Request,
    meeting_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values, targets, kinds = _resolution_input(form)
    try:
        citations = committee.parse_citations(targets, kinds)
        row = committee.add_resolution(
            session,
            actor=principal.actor,
            area=area,
            meeting_id=meeting_id,
            resolution_in=values,
            citations=citations,
        )
    except ValidationFailed as exc:
        return _resolution_failed(
            request,
            session,
            area,
            principal,
            meeting_id,
            "resolution-new",
            values,
            targets,
            kinds,
            exc,
        )
    return redirect(meeting_url(request, area, meeting_id, f"resolution-{row.id}"))


@router.post("/meetings/{meeting_id:id}/resolutions/{resolution_id:id}", name="resolution_update")
def resolution_update(
    request: Request,
    meeting_id: int,
    resolution_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values, targets, kinds = _resolution_input(form)
    try:
        citations = committee.parse_citations(targets, kinds)
        committee.update_resolution(
            session,
            actor=principal.actor,
            area=area,
            meeting_id=meeting_id,
            resolution_id=resolution_id,
            resolution_in=values,
            citations=citations,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        key = f"resolution-{resolution_id}"
        return _resolution_failed(
            request, session, area, principal, meeting_id, key, values, targets, kinds, exc
        )
    return redirect(meeting_url(request, area, meeting_id, f"resolution-{resolution_id}"))


@router.post(
    "/meetings/{meeting_id:id}/resolutions/{resolution_id:id}/delete",
    name="resolution_delete",
)
def resolution_delete(
    request: Request,
    meeting_id: int,
    resolution_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    committee.delete_resolution(
        session,
        actor=principal.actor,
        area=area,
        meeting_id=meeting_id,
        resolution_id=resolution_id,
        expected_version=field_int(form, "version"),
    )
    return redirect(meeting_url(request, area, meeting_id, "h-resolutions"))


# ---- the minutes as a PDF -------------------------------------------------------------------


@router.get("/meetings/{meeting_id:id}.pdf", name="meeting_pdf")
def meeting_pdf(request: Request, meeting_id: int, area: ReadArea, session: SessionDep) -> Response:
    view = committee.meeting_view(session, area, meeting_id)
    members = {m.id: m for m in committee.members(session, area)}
    agencies = {a.id: a for a in committee.agencies(session, area)}
    context = {
        "area": area,
        "view": view,
        "members": members,
        "agencies": agencies,
        "title": view.meeting.title,
        "today": thai_today(),
    }
    filename = f"phonlap-{area.slug}-minutes-{view.meeting.held_on.isoformat()}.pdf"
    return pdf_download(request, "committee/minutes.html", context, filename)
