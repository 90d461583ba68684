"""Comments on an area's plan and years (`/areas/{slug}/comments`) and "what's new since your
last visit" (`/news`).

Writing a thread is a plain form (from the comments page or the overview's own section): it
redirects to the thread, or comes back with 422, the message beside the text and the text kept.
Replying, resolving and reopening swap the thread in place with htmx (without htmx they
redirect). Who may see a thread is decided by the service for every route, fragments too.
"""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import labels
from app.db import SessionDep
from app.display import entry_label
from app.i18n import N_, as_utc, gettext
from app.models import Area
from app.periods import period_label
from app.services import comments, notifications
from app.services.access import Permission, Principal
from app.services.comments import NewsItem, Target
from app.services.errors import Conflict, Msg, ValidationFailed
from app.templating import env, is_htmx, render
from app.web.auth import CurrentPrincipal, ReadArea, SignedIn
from app.web.forms import Form, field_int, field_text
from app.web.pages import overview_page

router = APIRouter()

TEXT_LIMIT = 20_000  # read this much, so the service can say how long a too-long text is
GONE = N_("%(kind)s no longer in the plan")


def target_label(target: Target) -> str:
    """'KPI KPI3 ร้อยละ…', 'Review round: ปีการศึกษา 2567', 'The area as a whole'."""
    if target.target_type == "area":
        return gettext("The area as a whole")
    if target.target_type == "period":
        return gettext("Review round: %(period)s", period=period_label(target.period))
    kind = labels.label("kind", target.target_type)
    if not target.exists:
        return gettext(GONE, kind=kind)
    text = target.text if len(target.text) <= 80 else target.text[:79] + "…"
    return " ".join(p for p in (kind, target.code, text) if p)


def group_label(target_type: str) -> str:
    """The picker's group headings: the area, the plan's steps, the review rounds."""
    if target_type == "area":
        return gettext("The area")
    if target_type == "period":
        return gettext("Review rounds")
    return labels.step_title(target_type)


def target_url(request: Request, area: Area, target: Target) -> str:
    """Where the target is shown: its place on the overview, its KPI page, its review round."""

    def path(name: str, **params: Any) -> str:
        return request.url_for(name, slug=area.slug, **params).path

    anchors = {"doe": "doe-statement", "kras": "kra"}
    if target.target_type == "problems" and target.exists:
        return path("problems") + f"#problem-node-{target.target_id}"
    if target.target_type == "kpis" and target.exists:
        return path("progress_kpi", kpi_id=target.target_id)
    if target.target_type == "actions" and target.exists:
        return path("progress") + f"#action-progress-{target.target_id}"
    if target.target_type == "period":
        return path("progress") + f"#round-{target.period}"
    if target.target_type in anchors and target.exists:
        return path("area_overview") + f"#{anchors[target.target_type]}-{target.target_id}"
    return path("area_overview")


def news_title(item: NewsItem) -> str:
    if item.kind in ("comment", "reply") and item.target is not None:
        msgid = (
            N_("%(who)s commented on %(target)s")
            if item.kind == "comment"
            else N_("%(who)s replied about %(target)s")
        )
        return gettext(msgid, who=item.who, target=target_label(item.target))
    event = item.event
    assert event is not None
    after = event.after or event.before or {}
    if item.kind == "round":
        return gettext(
            "%(who)s: %(period)s is now “%(state)s”",
            who=item.who,
            period=period_label(after.get("period")),
            state=labels.label("review_state", after.get("state")),
        )
    if item.kind == "measurement" and item.more:
        codes = dict.fromkeys(
            i.target.code for i in (item, *item.more) if i.target and i.target.code
        )
        return gettext(
            "%(who)s entered %(count)s values: %(kpis)s",
            who=item.who,
            count=len(item.more) + 1,
            kpis=", ".join(codes),
        )
    if item.kind == "measurement":
        kpi = item.target.code if item.target and item.target.code else "KPI"
        return gettext(
            "%(who)s entered the value of %(kpi)s for %(period)s",
            who=item.who,
            kpi=kpi,
            period=period_label(after.get("period")),
        )
    what = f"{labels.label('entity', event.entity_type)} {entry_label(event, 60)}".strip()
    return gettext("%(who)s changed %(what)s", who=item.who, what=what)


def news_url(request: Request, item: NewsItem, area: Area) -> str:
    def path(name: str, **params: Any) -> str:
        return request.url_for(name, slug=area.slug, **params).path

    if item.comment is not None:
        return path("comments") + f"#thread-{item.comment.parent_id or item.comment.id}"
    event = item.event
    assert event is not None
    if item.kind == "round":
        return path("progress") + f"#round-{(event.after or {}).get('period', '')}"
    if item.kind == "measurement":
        if item.target and item.target.exists and not item.more:
            return path("progress_kpi", kpi_id=item.target.target_id)
        return path("progress")
    return path("element_history", entity_type=event.entity_type, entity_id=event.entity_id)


env.globals.update(
    comment_target_label=target_label,
    comment_group_label=group_label,
    comment_target_url=target_url,
    comment_key=comments.target_key,
    news_title=news_title,
    news_url=news_url,
)


# ---- pages ----------------------------------------------------------------------------------


def _page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    state = request.query_params.get("state", "all")
    state = state if state in comments.STATES else "all"
    data = comments.threads_for_area(session, area, principal, state)
    ctx = {
        "area": area,
        "data": data,
        "state": state,
        "form_values": {"target": request.query_params.get("target", "area")},
        "form_errors": {},
        **_abilities(principal, area),
        **extra,
    }
    return render(request, "comments/page.html", ctx, status_code=status_code)


def _abilities(principal: Principal, area: Area) -> dict[str, bool]:
    return {
        "can_comment": principal.can(Permission.comment, area.id),
        "internal": comments.sees_internal(principal),
    }


@router.get("/areas/{slug}/comments", name="comments")
def comments_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _page(request, session, area, principal)


def _back(form: Any) -> str:
    return "overview" if field_text(form, "from", 20) == "overview" else "comments"


def _redirect(request: Request, area: Area, back: str, root_id: int) -> Response:
    name = "area_overview" if back == "overview" else "comments"
    url = request.url_for(name, slug=area.slug).path + f"#thread-{root_id}"
    return RedirectResponse(url, status_code=303)


def _again(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    back: str,
    status_code: int,
    **extra: Any,
) -> Response:
    """The page the form was on, with the problem beside the form and the typed text kept."""
    if back == "overview":
        return overview_page(request, session, area, principal, status_code=status_code, **extra)
    return _page(request, session, area, principal, status_code=status_code, **extra)


@router.post("/areas/{slug}/comments", name="comment_create")
def comment_create(
    request: Request,
    area: ReadArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    by = comments.commenter(principal, area)
    values = {
        "target": field_text(form, "target", 60),
        "visibility": field_text(form, "visibility", 20) or "area",
        "body": field_text(form, "body", TEXT_LIMIT),
    }
    comment_in = {**comments.parse_target(values["target"]), **values}
    try:
        row = comments.add_comment(session, by=by, area=area, comment_in=comment_in)
    except ValidationFailed as exc:
        session.rollback()
        return _again(
            request,
            session,
            area,
            principal,
            _back(form),
            422,
            form_values=values,
            form_errors=exc.errors,
        )
    return _redirect(request, area, _back(form), row.id)


def _thread(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    comment_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    t = comments.thread(session, area=area, principal=principal, comment_id=comment_id)
    ctx = {"area": area, "t": t, "from_page": extra.pop("from_page", "comments")}
    ctx |= _abilities(principal, area) | extra
    return render(request, "comments/_thread.html", ctx, status_code=status_code)


@router.get("/areas/{slug}/comments/{comment_id:id}", name="comment_thread")
def comment_thread(
    request: Request,
    comment_id: int,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """The thread alone (htmx); a browser going there lands on it on the comments page."""
    if is_htmx(request):
        return _thread(request, session, area, principal, comment_id)
    t = comments.thread(session, area=area, principal=principal, comment_id=comment_id)
    return _redirect(request, area, "comments", t.root.id)


@router.post("/areas/{slug}/comments/{comment_id:id}/replies", name="comment_reply")
def comment_reply(
    request: Request,
    comment_id: int,
    area: ReadArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    by = comments.commenter(principal, area)
    body = field_text(form, "body", TEXT_LIMIT)
    back = _back(form)
    try:
        row = comments.add_comment(
            session, by=by, area=area, comment_in={"parent_id": comment_id, "body": body}
        )
    except ValidationFailed as exc:
        session.rollback()
        root = comments.thread_root(session, area=area, comment_id=comment_id, internal=by.internal)
        problem = {"reply_to": root.id, "reply_body": body, "reply_errors": exc.errors}
        return _answer(request, session, area, principal, back, root.id, 422, **problem)
    return _answer(request, session, area, principal, back, row.parent_id or row.id, 200)


def _answer(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    back: str,
    root_id: int,
    status_code: int,
    **extra: Any,
) -> Response:
    """htmx: the thread as it is now; otherwise the page (with a problem) or a redirect."""
    if is_htmx(request):
        return _thread(
            request,
            session,
            area,
            principal,
            root_id,
            status_code=status_code,
            from_page=back,
            **extra,
        )
    if status_code >= 400:
        return _again(request, session, area, principal, back, status_code, **extra)
    return _redirect(request, area, back, root_id)


def _set_resolved(
    request: Request,
    comment_id: int,
    area: Area,
    session: Session,
    form: Any,
    principal: Principal,
    resolved: bool,
) -> Response:
    by = comments.commenter(principal, area)
    back = _back(form)
    try:
        row = comments.set_resolved(
            session,
            by=by,
            area=area,
            comment_id=comment_id,
            resolved=resolved,
            expected_version=field_int(form, "version"),
        )
    except Conflict as exc:
        session.rollback()
        root = comments.thread_root(session, area=area, comment_id=comment_id, internal=by.internal)
        problem: dict[str, Any] = {"thread_problem": (root.id, exc.message)}
        return _answer(request, session, area, principal, back, root.id, 409, **problem)
    return _answer(request, session, area, principal, back, row.id, 200)


@router.post("/areas/{slug}/comments/{comment_id:id}/resolve", name="comment_resolve")
def comment_resolve(
    request: Request,
    comment_id: int,
    area: ReadArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    return _set_resolved(request, comment_id, area, session, form, principal, True)


@router.post("/areas/{slug}/comments/{comment_id:id}/reopen", name="comment_reopen")
def comment_reopen(
    request: Request,
    comment_id: int,
    area: ReadArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    return _set_resolved(request, comment_id, area, session, form, principal, False)


# ---- what's new -----------------------------------------------------------------------------


@router.get("/news", name="news")
def news_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    assert principal.user is not None
    seen = comments.seen_at(session, principal.user.id)
    news = comments.whats_new(session, principal, seen or comments.first_visit_since())
    ctx = {
        "news": news,
        "first_visit": seen is None,
        "seen": request.query_params.get("seen") == "1",
        "unread_notifications": notifications.unread_count(session, principal.user.id),
    }
    return render(request, "comments/news.html", ctx)


@router.post("/news/seen", name="news_seen")
def news_seen(request: Request, session: SessionDep, form: Form, principal: SignedIn) -> Response:
    """Seen up to the newest item the page showed, not "now": what arrived meanwhile stays
    new."""
    assert principal.user is not None
    until = _moment(field_text(form, "until", 40))
    if until is None:
        raise ValidationFailed({"until": Msg(N_("This page is out of date. Reload it."))})
    comments.mark_seen(session, user_id=principal.user.id, at=until)
    return RedirectResponse(request.url_for("news").path + "?seen=1", status_code=303)


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return as_utc(moment)
