"""A person's notifications (reminders) and how they want to be told: /account/notifications."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.i18n import _, get_locale
from app.services import notifications
from app.services.errors import Msg, ValidationFailed
from app.templating import render
from app.web.auth import SignedIn
from app.web.forms import Form, field_text

router = APIRouter(prefix="/account/notifications")


@router.get("", name="notifications")
def notifications_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    return _page(request, session, principal, saved=_saved(request))


def _saved(request: Request) -> Msg | None:
    if request.query_params.get("saved") == "1":
        return Msg("Your settings were saved.")
    return None


def _page(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    saved: Msg | None = None,
) -> Response:
    assert principal.user is not None and principal.user.id is not None
    user_id = principal.user.id
    setting = notifications.settings_of(session, user_id)
    items = notifications.listing(session, user_id, get_locale())
    ctx = {
        "items": items,
        "unread": sum(1 for i in items if i.notification.read_at is None),
        "kinds": [(k.value, _(notifications.KIND_LABELS[k])) for k in notifications.Kind],
        "modes": [(m.value, _(notifications.MODE_LABELS[m])) for m in notifications.Mode],
        "languages": list(notifications.LANGUAGES.items()),
        "values": values
        or {
            "language": setting.language,
            **{k.value: getattr(setting, k.value) for k in notifications.Kind},
        },
        "errors": errors or {},
        "saved": saved,
        "prefix": "notify",
    }
    return render(request, "account/notifications.html", ctx, status_code=status_code)


@router.post("/settings", name="notifications_settings")
def notifications_settings(
    request: Request, session: SessionDep, principal: SignedIn, form: Form
) -> Response:
    names = ["language", *(k.value for k in notifications.Kind)]
    values = {name: field_text(form, name, 20) for name in names}
    try:
        notifications.save_settings(session, principal=principal, settings_in=values)
    except ValidationFailed as exc:
        return _page(request, session, principal, status_code=422, values=values, errors=exc.errors)
    return RedirectResponse(request.url_for("notifications").path + "?saved=1", status_code=303)


@router.post("/read", name="notifications_read_all")
def notifications_read_all(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    assert principal.user is not None and principal.user.id is not None
    notifications.mark_read(session, user_id=principal.user.id)
    return RedirectResponse(request.url_for("notifications").path, status_code=303)


@router.post("/{notification_id:id}/read", name="notification_read")
def notification_read(
    request: Request, notification_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    """Mark it read and follow its link (the person's own only: another's changes nothing)."""
    assert principal.user is not None and principal.user.id is not None
    notifications.mark_read(session, user_id=principal.user.id, notification_id=notification_id)
    own = notifications.own(session, user_id=principal.user.id, notification_id=notification_id)
    link = own.link if own else None
    target = link if link and link.startswith("/") else request.url_for("notifications").path
    return RedirectResponse(target, status_code=303)
