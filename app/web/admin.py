"""People and their roles, for administrators. Plain forms: post, then show the page again."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.i18n import localized
from app.models import User
from app.services import accounts
from app.services.access import Permission, Principal
from app.services.errors import Msg, ValidationFailed
from app.services.reference import group_areas
from app.templating import render
from app.web.auth import require
from app.web.forms import Form, field_text

router = APIRouter(prefix="/admin")
Admin = Annotated[Principal, Depends(require(Permission.manage))]


def _users_page(
    request: Request, session: SessionDep, *, status_code: int = 200, **extra: Any
) -> Response:
    users = accounts.list_users(session)
    ctx = {
        "users": users,
        "grants": accounts.grants_by_user(session, [u.id for u in users]),
        "areas": {a.id: a for a in group_areas(session, None)},
        "values": {},
        "errors": {},
        "prefix": "new-user",
        **extra,
    }
    return render(request, "admin/users.html", ctx, status_code=status_code)


@router.get("/users", name="admin_users")
def users(request: Request, session: SessionDep, _admin: Admin) -> Response:
    return _users_page(request, session)


@router.post("/users", name="admin_user_create")
def user_create(request: Request, session: SessionDep, admin: Admin, form: Form) -> Response:
    values = {
        "email": field_text(form, "email", 300),
        "display_name": field_text(form, "display_name", 300),
        "role": field_text(form, "role", 40),
        "area_id": field_text(form, "area_id", 20),
    }
    try:
        user = accounts.create_user(
            session,
            actor=admin.actor,
            user_in=values,
            password=field_text(form, "password", 300),
            grant_in=values if values["role"] else None,
        )
    except ValidationFailed as exc:
        return _users_page(request, session, status_code=422, values=values, errors=exc.errors)
    return RedirectResponse(request.url_for("admin_user", user_id=user.id).path, status_code=303)


def _user_page(
    request: Request, session: SessionDep, user: User, *, status_code: int = 200, **extra: Any
) -> Response:
    grants = accounts.grants_by_user(session, [user.id])[user.id]
    scopes = accounts.grant_agencies(session, [g.id for g in grants if g.id])
    values = {f"agency_ids-{gid}": ids for gid, ids in scopes.items()}  # the ticked agencies
    values.update(extra.pop("values", {}))
    ctx = {
        "user": user,
        "grants": grants,
        "scopes": scopes,
        "agency_choices": {
            gid: [(a.id, localized(a)) for a in rows]
            for gid, rows in accounts.scope_choices(session, grants).items()
        },
        "areas": {a.id: a for a in group_areas(session, None)},
        "values": values,
        "errors": {},
        "prefix": f"user-{user.id}",
        **extra,
    }
    return render(request, "admin/user.html", ctx, status_code=status_code)


@router.get("/users/{user_id:id}", name="admin_user")
def user_detail(request: Request, user_id: int, session: SessionDep, _admin: Admin) -> Response:
    return _user_page(request, session, accounts.get_user(session, user_id))


@router.post("/users/{user_id:id}/roles", name="admin_role_grant")
def role_grant(
    request: Request, user_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    user = accounts.get_user(session, user_id)
    values = {"role": field_text(form, "role", 40), "area_id": field_text(form, "area_id", 20)}
    try:
        accounts.grant_role(session, actor=admin.actor, user=user, grant_in=values)
    except ValidationFailed as exc:
        return _user_page(request, session, user, status_code=422, values=values, errors=exc.errors)
    return _user_page(request, session, user, saved=Msg("The role was added."))


@router.post("/users/{user_id:id}/roles/{grant_id:id}/agencies", name="admin_role_scope")
def role_scope(
    request: Request, user_id: int, grant_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    """Limit an editor grant to agencies (or, none ticked, give it the whole area again)."""
    user = accounts.get_user(session, user_id)
    picked = [
        v
        for name in ("agency_ids", f"agency_ids-{grant_id}")
        for v in form.getlist(name)
        if isinstance(v, str)
    ]
    try:
        accounts.set_grant_agencies(
            session,
            actor=admin.actor,
            user=user,
            grant_id=grant_id,
            scope_in={"agency_ids": picked},
        )
    except ValidationFailed as exc:
        return _user_page(
            request,
            session,
            user,
            status_code=422,
            values={f"agency_ids-{grant_id}": picked},
            errors={
                f"agency_ids-{grant_id}": exc.errors.get("agency_ids", Msg("Pick from the list."))
            },
        )
    return _user_page(request, session, user, saved=Msg("The role's agencies were saved."))


@router.post("/users/{user_id:id}/roles/{grant_id:id}/delete", name="admin_role_revoke")
def role_revoke(
    request: Request, user_id: int, grant_id: int, session: SessionDep, admin: Admin
) -> Response:
    user = accounts.get_user(session, user_id)
    accounts.revoke_role(session, actor=admin.actor, user=user, grant_id=grant_id)
    return _user_page(request, session, user, saved=Msg("The role was removed."))


@router.post("/users/{user_id:id}/active", name="admin_user_active")
def user_active(
    request: Request, user_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    user = accounts.get_user(session, user_id)
    active = form.get("active") == "1"
    if not active and admin.user is not None and user.id == admin.user.id:
        return _user_page(
            request,
            session,
            user,
            status_code=422,
            problem=Msg("You cannot deactivate your own account."),
        )
    accounts.set_active(session, actor=admin.actor, user=user, active=active)
    saved = Msg("The account is active.") if active else Msg("The account was deactivated.")
    return _user_page(request, session, user, saved=saved)


@router.post("/users/{user_id:id}/password", name="admin_user_password")
def user_password(
    request: Request, user_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    user = accounts.get_user(session, user_id)
    try:
        accounts.set_password(
            session, actor=admin.actor, user=user, password=field_text(form, "password", 300)
        )
    except ValidationFailed as exc:
        return _user_page(request, session, user, status_code=422, errors=exc.errors)
    return _user_page(
        request, session, user, saved=Msg("The password was set. Their sign-ins have ended.")
    )
