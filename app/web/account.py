"""Signing in and out, and a person's own account: name, password and API tokens."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.config import get_settings
from app.db import SessionDep
from app.services import accounts, scope
from app.services.errors import Msg, ValidationFailed
from app.services.reference import areas_by_ids
from app.templating import render
from app.web.auth import SESSION_COOKIE, CurrentPrincipal, SignedIn, sign, unsign
from app.web.forms import Form, field_text, safe_next

router = APIRouter()


# ---- signing in and out ---------------------------------------------------------------------


@router.get("/login", name="login")
def login_page(
    request: Request, principal: CurrentPrincipal, next: str = "/", expired: bool = False
) -> Response:
    target = safe_next(next)
    if not principal.is_anonymous:
        return RedirectResponse(target, status_code=303)
    notice = Msg("Your session has expired. Sign in again.") if expired else None
    return _login_form(request, {"next": target}, {}, notice=notice)


@router.post("/login", name="login_submit")
def login(request: Request, session: SessionDep, form: Form) -> Response:
    email, password = field_text(form, "email", 254), field_text(form, "password", 200)
    target = safe_next(field_text(form, "next", 2000))
    values = {"email": email, "next": target}
    if not email or not password:
        errors = {}
        if not email:
            errors["email"] = Msg("This field is required.")
        if not password:
            errors["password"] = Msg("This field is required.")
        return _login_form(request, values, errors, status_code=422)
    try:
        user = accounts.authenticate(
            session, email=email, password=password, address=_address(request)
        )
    except accounts.LoginRefused as exc:
        return _login_form(request, values, {}, notice=exc.message, status_code=exc.status_code)
    token = accounts.start_session(session, user=user)
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(request, response, token)
    return response


def _address(request: Request) -> str:
    """The client's address, which sign-in throttling counts by."""
    return request.client.host if request.client else "unknown"


def _login_form(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, Msg],
    *,
    notice: Msg | None = None,
    status_code: int = 200,
) -> Response:
    ctx = {"values": values, "errors": errors, "notice": notice, "prefix": "login"}
    return render(request, "account/login.html", ctx, status_code=status_code)


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign(token),
        max_age=get_settings().session_max_days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.post("/logout", name="logout")
def logout(request: Request, session: SessionDep) -> Response:
    token = unsign(request.cookies.get(SESSION_COOKIE))
    if token:
        accounts.end_session(session, token)
    response = RedirectResponse(request.url_for("login").path, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- the account page -----------------------------------------------------------------------


@router.get("/account", name="account")
def account(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    return _account(request, session, principal)


def _account(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    user = principal.user
    ctx = {
        "user": user,
        "tokens": accounts.user_tokens(session, user),
        "grants": principal.grants,
        "area_names": _area_names(session, principal),
        "agency_names": scope.agency_names(
            session, {a for g in principal.grants for a in g.agencies}
        ),
        "values": {"display_name": user.display_name},
        "errors": {},
        "prefix": "account",
        **extra,
    }
    return render(request, "account/account.html", ctx, status_code=status_code)


def _area_names(session: SessionDep, principal: SignedIn) -> dict[int, Any]:
    ids = {g.area_id for g in principal.grants if g.area_id is not None}
    return {a.id: a for a in areas_by_ids(session, ids)}


@router.post("/account/profile", name="account_profile")
def account_profile(
    request: Request, session: SessionDep, principal: SignedIn, form: Form
) -> Response:
    values = {"display_name": field_text(form, "display_name", 500)}
    try:
        accounts.update_user(session, actor=principal.actor, user=principal.user, user_in=values)
    except ValidationFailed as exc:
        return _account(
            request, session, principal, status_code=422, values=values, errors=exc.errors
        )
    return _account(request, session, principal, saved=Msg("Your name was saved."))


@router.post("/account/password", name="account_password")
def account_password(
    request: Request, session: SessionDep, principal: SignedIn, form: Form
) -> Response:
    current, new = field_text(form, "current_password", 200), field_text(form, "password", 200)
    try:
        accounts.set_password(
            session,
            actor=principal.actor,
            user=principal.user,
            password=new,
            current_password=current,
            address=_address(request),
            keep_session=unsign(request.cookies.get(SESSION_COOKIE)),
        )
    except ValidationFailed as exc:
        return _account(request, session, principal, status_code=422, errors=exc.errors)
    except accounts.LoginRefused as exc:  # too many wrong current passwords: paused
        errors = {"current_password": exc.message}
        return _account(request, session, principal, status_code=exc.status_code, errors=errors)
    return _account(
        request,
        session,
        principal,
        saved=Msg("Your password was changed. Your other sign-ins have ended."),
    )


@router.post("/account/tokens", name="account_token_create")
def account_token_create(
    request: Request, session: SessionDep, principal: SignedIn, form: Form
) -> Response:
    values = {"name": field_text(form, "name", 500)}
    try:
        _token, plain = accounts.create_token(
            session, actor=principal.actor, user=principal.user, token_in=values
        )
    except ValidationFailed as exc:
        return _account(
            request, session, principal, status_code=422, errors=exc.errors, token_values=values
        )
    return _account(request, session, principal, new_token=plain)


@router.post("/account/tokens/{token_id:id}/revoke", name="account_token_revoke")
def account_token_revoke(
    request: Request, token_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    accounts.revoke_token(session, actor=principal.actor, user=principal.user, token_id=token_id)
    return _account(request, session, principal, saved=Msg("The token was revoked."))
