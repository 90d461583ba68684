"""Accounts: users, roles, passwords, sign-in sessions and API tokens.

Changes to people and their roles are audited like plan changes (entity types `user`,
`role_grant`, `api_token`). Passwords and tokens never reach the audit trail or the database
in the clear: passwords are argon2id hashes, tokens are stored as SHA-256 digests.
"""

import hashlib
import math
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import bindparam, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.config import get_settings
from app.i18n import as_utc
from app.models import (
    Agency,
    ApiToken,
    Area,
    LoginSession,
    LoginThrottle,
    RoleGrant,
    RoleGrantAgency,
    User,
)
from app.models.base import utcnow
from app.models.enums import AuditOp, Role
from app.schemas import GrantIn, GrantScopeIn, PasswordIn, TokenIn, UserIn
from app.services import audit
from app.services.access import Grant, Principal
from app.services.audit import Actor
from app.services.errors import Conflict, Msg, NotFound, ServiceError, ValidationFailed
from app.services.validation import validate

TOKEN_PREFIX = "phl_"


class LoginRefused(ServiceError):
    status_code = 401

    def __init__(self, message: Msg, status_code: int = 401) -> None:
        super().__init__(message.msgid)
        self.message = message
        self.status_code = status_code


WRONG_LOGIN = Msg("The email or password is not right.")


# ---- passwords and secrets ------------------------------------------------------------------


@lru_cache
def _hasher() -> PasswordHash:
    settings = get_settings()
    return PasswordHash(
        (Argon2Hasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),)
    )


@lru_cache
def _dummy_hash() -> str:
    """Checked against when the account does not exist, so both cases take as long."""
    return _hasher().hash(secrets.token_urlsafe(16))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user_snapshot(user: User) -> dict[str, Any]:
    return audit.snapshot(user.model_copy(update={"password_hash": None}))


def _user_changed(
    session: Session,
    actor: Actor,
    user: User,
    before: dict[str, Any],
    after: dict[str, Any] | None = None,
) -> None:
    """The tail of every change to an account: new version, one audit event, commit."""
    user.version += 1
    session.add(user)
    audit.commit(
        session,
        actor=actor,
        area_id=None,
        entity_type="user",
        entity_id=user.id,
        op=AuditOp.update,
        before=before,
        after=after or _user_snapshot(user),
    )


# ---- reading --------------------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user/{user_id}")
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.display_name, User.id)).all())


def grants_by_user(session: Session, user_ids: list[int]) -> dict[int, list[RoleGrant]]:
    rows = session.exec(
        select(RoleGrant)
        .where(col(RoleGrant.user_id).in_(user_ids))
        .order_by(RoleGrant.role, RoleGrant.area_id)
    ).all()
    out: dict[int, list[RoleGrant]] = {uid: [] for uid in user_ids}
    for row in rows:
        out[row.user_id].append(row)
    return out


def grant_agencies(session: Session, grant_ids: list[int]) -> dict[int, list[int]]:
    """The agencies each editor grant is limited to (empty: the whole area)."""
    out: dict[int, list[int]] = {gid: [] for gid in grant_ids}
    if grant_ids:
        rows = session.exec(
            select(RoleGrantAgency)
            .where(col(RoleGrantAgency.grant_id).in_(grant_ids))
            .order_by(RoleGrantAgency.grant_id, RoleGrantAgency.agency_id)
        ).all()
        for row in rows:
            out[row.grant_id].append(row.agency_id)
    return out


# Built once (every signed-in request runs them; building and keying a statement costs more than
# running it on SQLite).
_GRANTS = (  # a user's grants with their agencies
    select(RoleGrant, RoleGrantAgency.agency_id)
    .outerjoin(RoleGrantAgency, col(RoleGrantAgency.grant_id) == RoleGrant.id)
    .where(RoleGrant.user_id == bindparam("user_id"))
    .order_by(RoleGrant.role, RoleGrant.area_id)
)
_LOGIN = (  # a session cookie's login and user
    select(LoginSession, User)
    .join(User, col(User.id) == LoginSession.user_id)
    .where(LoginSession.token_hash == bindparam("token_hash"))
)


def principal_for(session: Session, user: User, *, via_token: bool = False) -> Principal:
    rows = session.exec(_GRANTS, params={"user_id": user.id}).all()
    grants: dict[int, tuple[RoleGrant, set[int]]] = {}
    for grant, agency_id in rows:
        _, agencies = grants.setdefault(grant.id, (grant, set()))
        if agency_id is not None:
            agencies.add(agency_id)
    return Principal(
        user=user,
        grants=tuple(
            Grant(Role(g.role), g.area_id, frozenset(agencies)) for g, agencies in grants.values()
        ),
        via_token=via_token,
    )


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.created_at).desc())
    )
    return list(session.exec(query).all())


# ---- people and roles -----------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    actor: Actor,
    user_in: dict[str, Any],
    password: str | None = None,
    grant_in: dict[str, Any] | None = None,
) -> User:
    """A new account, with its first role when `grant_in` names one; all or nothing."""
    errors: dict[str, Msg] = {}
    checks: list[tuple[type, dict[str, Any]]] = [(UserIn, user_in)]
    if password is not None:
        checks.append((PasswordIn, {"password": password}))
    if grant_in is not None:
        checks.append((GrantIn, grant_in))
    parsed = []
    for schema, values in checks:
        try:
            parsed.append(validate(schema, values))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if not errors:
        data = parsed[0]
        if find_user(session, data.email) is not None:
            errors["email"] = Msg("An account with this email already exists.")
        grant = parsed[-1] if grant_in is not None else None
        if grant is not None and grant.area_id and session.get(Area, grant.area_id) is None:
            errors["area_id"] = Msg("Pick from the list.")
        elif grant is not None and grant.agency_ids:
            try:
                _check_agencies(session, grant.area_id, grant.agency_ids)
            except ValidationFailed as exc:
                errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    user = User(email=data.email, display_name=data.display_name)
    if password is not None:
        user.password_hash = _hasher().hash(password)
    session.add(user)
    session.flush()
    roles = []
    if grant is not None:
        row = RoleGrant(user_id=user.id, role=grant.role.value, area_id=grant.area_id)
        session.add(row)
        session.flush()
        _set_agencies(session, row, grant.agency_ids)
        roles.append(
            {"role": grant.role.value, "area_id": grant.area_id, "agency_ids": grant.agency_ids}
        )
    audit.commit(
        session,
        area_id=None,
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        op=AuditOp.create,
        after={**_user_snapshot(user), "roles": roles},
    )
    return user


def update_user(
    session: Session,
    *,
    actor: Actor,
    user: User,
    user_in: dict[str, Any],
    expected_version: int | None = None,
) -> User:
    merged = {"email": user.email, "display_name": user.display_name, **user_in}
    data = validate(UserIn, merged)
    other = find_user(session, data.email)
    if other is not None and other.id != user.id:
        raise ValidationFailed({"email": Msg("An account with this email already exists.")})
    if expected_version is not None and expected_version != user.version:
        raise Conflict(
            Msg("Someone else changed this since you opened it."), current=_user_snapshot(user)
        )
    before = _user_snapshot(user)
    user.email, user.display_name = data.email, data.display_name
    _user_changed(session, actor, user, before)
    return user


def set_password(
    session: Session,
    *,
    actor: Actor,
    user: User,
    password: str,
    current_password: str | None = None,
    address: str | None = None,
    keep_session: str | None = None,
) -> None:
    """Set a new password and end the user's other sign-ins. With `current_password` (a
    person changing their own), the old password must be right; that check is throttled like
    signing in (LoginRefused, 429, when paused)."""
    if current_password is not None and not check_password(
        session,
        email=user.email,
        address=address,
        password=current_password,
        password_hash=user.password_hash,
    ):
        raise ValidationFailed({"current_password": Msg("This is not your current password.")})
    validate(PasswordIn, {"password": password})
    user.password_hash = _hasher().hash(password)
    query = delete(LoginSession).where(col(LoginSession.user_id) == user.id)
    if keep_session:
        query = query.where(col(LoginSession.token_hash) != digest(keep_session))
    session.exec(query)
    _user_changed(session, actor, user, {"password": "(hidden)"}, {"password": "(changed)"})


def set_active(session: Session, *, actor: Actor, user: User, active: bool) -> User:
    """Deactivate (or reactivate) an account: a deactivated account cannot sign in or use
    its tokens, and its sessions end at once. Its history stays."""
    before = _user_snapshot(user)
    user.is_active = active
    if not active:
        session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
    _user_changed(session, actor, user, before)
    return user


def grant_role(
    session: Session, *, actor: Actor, user: User, grant_in: dict[str, Any]
) -> RoleGrant:
    data = validate(GrantIn, grant_in)
    if data.area_id is not None and session.get(Area, data.area_id) is None:
        raise ValidationFailed({"area_id": Msg("Pick from the list.")})
    _check_agencies(session, data.area_id, data.agency_ids)
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == data.role.value,
            RoleGrant.area_id == data.area_id
            if data.area_id is not None
            else col(RoleGrant.area_id).is_(None),
        )
    ).first()
    if existing is not None:
        raise ValidationFailed({"role": Msg("This person already has this role.")})
    grant = RoleGrant(user_id=user.id, role=data.role.value, area_id=data.area_id)
    session.add(grant)
    session.flush()
    _set_agencies(session, grant, data.agency_ids)
    audit.commit(
        session,
        actor=actor,
        entity_type="role_grant",
        entity_id=grant.id,
        op=AuditOp.create,
        after={**audit.snapshot(grant), "agency_ids": data.agency_ids},
        area_id=grant.area_id,
    )
    return grant


def scope_choices(session: Session, grants: list[RoleGrant]) -> dict[int, list[Agency]]:
    """For each area editor grant, the agencies it may be limited to: the area's, then the
    national ones (one query for all grants)."""
    area_ids = {g.area_id for g in grants if g.role == Role.editor.value and g.area_id}
    if not area_ids:
        return {}
    rows = session.exec(
        select(Agency)
        .where(or_(col(Agency.area_id).is_(None), col(Agency.area_id).in_(area_ids)))
        .order_by(col(Agency.area_id).is_(None), Agency.position, Agency.id)
    ).all()
    return {
        g.id: [a for a in rows if a.area_id in (None, g.area_id)]
        for g in grants
        if g.id is not None and g.area_id in area_ids and g.role == Role.editor.value
    }


def _check_agencies(session: Session, area_id: int | None, agency_ids: list[int]) -> None:
    """A scope names agencies of the grant's area or national ones (422 otherwise)."""
    if not agency_ids:
        return
    found = session.exec(
        select(Agency.id).where(
            col(Agency.id).in_(agency_ids),
            or_(col(Agency.area_id).is_(None), col(Agency.area_id) == area_id),
        )
    ).all()
    if set(found) != set(agency_ids):
        raise ValidationFailed({"agency_ids": Msg("Pick agencies of this area or national ones.")})


def _set_agencies(session: Session, grant: RoleGrant, agency_ids: list[int]) -> None:
    session.exec(delete(RoleGrantAgency).where(col(RoleGrantAgency.grant_id) == grant.id))
    for agency_id in agency_ids:
        session.add(RoleGrantAgency(grant_id=grant.id, agency_id=agency_id))
    session.flush()


def set_grant_agencies(
    session: Session, *, actor: Actor, user: User, grant_id: int, scope_in: dict[str, Any]
) -> RoleGrant:
    """Limit an editor grant to agencies, or (none picked) give it the whole area again."""
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound(f"role_grant/{grant_id}")
    data = validate(GrantScopeIn, scope_in)
    if data.agency_ids and grant.role != Role.editor.value:
        raise ValidationFailed(
            {"agency_ids": Msg("Only an editor's role can be limited to agencies.")}
        )
    _check_agencies(session, grant.area_id, data.agency_ids)
    before_ids = grant_agencies(session, [grant.id])[grant.id]
    if before_ids == data.agency_ids:
        return grant
    _set_agencies(session, grant, data.agency_ids)
    snap = audit.snapshot(grant)
    audit.commit(
        session,
        actor=actor,
        entity_type="role_grant",
        entity_id=grant.id,
        op=AuditOp.update,
        before={**snap, "agency_ids": before_ids},
        after={**snap, "agency_ids": data.agency_ids},
        area_id=grant.area_id,
    )
    return grant


def revoke_role(session: Session, *, actor: Actor, user: User, grant_id: int) -> None:
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound(f"role_grant/{grant_id}")
    before = {**audit.snapshot(grant), "agency_ids": grant_agencies(session, [grant.id])[grant.id]}
    session.exec(delete(RoleGrantAgency).where(col(RoleGrantAgency.grant_id) == grant.id))
    session.delete(grant)
    audit.commit(
        session,
        actor=actor,
        entity_type="role_grant",
        entity_id=grant_id,
        op=AuditOp.delete,
        before=before,
        area_id=before["area_id"],
    )


# ---- API tokens -----------------------------------------------------------------------------


def create_token(
    session: Session, *, actor: Actor, user: User, token_in: dict[str, Any]
) -> tuple[ApiToken, str]:
    """A new personal API token; the plain token is returned once and never stored."""
    data = validate(TokenIn, token_in)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=data.name, token_hash=digest(plain), prefix=plain[:10])
    session.add(token)
    session.flush()
    audit.commit(
        session,
        area_id=None,
        actor=actor,
        entity_type="api_token",
        entity_id=token.id,
        op=AuditOp.create,
        after=audit.snapshot(token.model_copy(update={"token_hash": None})),
    )
    return token, plain


def revoke_token(session: Session, *, actor: Actor, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(f"api_token/{token_id}")
    token.revoked_at = utcnow()
    session.add(token)
    audit.commit(
        session,
        area_id=None,
        actor=actor,
        entity_type="api_token",
        entity_id=token.id,
        op=AuditOp.delete,
        before={"name": token.name, "prefix": token.prefix},
    )


def token_principal(session: Session, plain: str) -> Principal | None:
    row = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(plain), col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is None or not row[1].is_active:
        return None
    token, user = row
    now = utcnow()
    if token.last_used_at is None or now - as_utc(token.last_used_at) > timedelta(minutes=5):
        token.last_used_at = now  # coarse, so a busy script does not write on every call
        session.add(token)
        session.commit()
    return principal_for(session, user, via_token=True)


# ---- signing in -----------------------------------------------------------------------------


def _verify(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, password_hash)


def check_password(
    session: Session, *, email: str, address: str | None, password: str, password_hash: str | None
) -> bool:
    """Whether the password is right, checked only when the throttle allows it: otherwise
    LoginRefused (429) without a check. Every check counts against the account's email and the
    client's address; a right password clears the account's count and does not count against
    the address. Commits."""
    now = utcnow()
    keys = _throttle_keys(email, address)
    _claim(session, keys, now)
    if _verify(password, password_hash):
        _release(session, keys)
        return True
    _forget_stale(session, now)
    return False


def authenticate(session: Session, *, email: str, password: str, address: str) -> User:
    """The user behind an email and password, or LoginRefused. After too many failures for
    the account or for the address within the window, refuse without checking (429)."""
    email = email.strip().lower()[:254]
    user = find_user(session, email) if email else None
    usable = user.password_hash if user is not None and user.is_active else None
    ok = check_password(
        session, email=email, address=address, password=password, password_hash=usable
    )
    if not ok or user is None:
        raise LoginRefused(WRONG_LOGIN)
    return user


# ---- the throttle: claim a check before making it -------------------------------------------


def _throttle_keys(email: str, address: str | None) -> list[str]:
    keys = [f"account:{email[:254]}"]
    if address:
        keys.append(f"address:{address[:64]}")
    return sorted(keys)  # one lock order for every caller: claims never deadlock


def _claim(session: Session, keys: list[str], now: datetime) -> None:
    """Count one check against each key in one transaction, each with an atomic upsert that
    starts a new window when the last one is over. When a key was already at the limit,
    nothing is counted and LoginRefused (429) says how long the pause lasts."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    table = LoginThrottle.__table__
    over = table.c.window_start < now - window
    insert = _insert_for(session)
    ends = []
    for key in keys:
        upsert = (
            insert(table)
            .values(key=key, window_start=now, attempts=1)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "attempts": case((over, 1), else_=table.c.attempts + 1),
                    "window_start": case((over, now), else_=table.c.window_start),
                },
            )
            .returning(table.c.attempts, table.c.window_start)
        )
        attempts, start = session.exec(upsert).one()
        if attempts > settings.login_attempts:
            ends.append(as_utc(start) + window)
    if ends:
        session.rollback()
        minutes = max(1, math.ceil((max(ends) - now).total_seconds() / 60))
        raise LoginRefused(
            Msg(
                "Too many failed sign-ins. Wait %(minutes)s minutes and try again.",
                {"minutes": minutes},
            ),
            status_code=429,
        )
    session.commit()


def _insert_for(session: Session) -> Callable[..., Any]:
    """INSERT ... ON CONFLICT, which SQLAlchemy spells per dialect (the SQL is the same)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _release(session: Session, keys: list[str]) -> None:
    """A right password: the account starts afresh, and the address is not charged for it."""
    table = LoginThrottle.__table__
    for key in keys:
        query = update(table).where(table.c.key == key)
        if key.startswith("account:"):
            session.exec(query.values(attempts=0))
        else:
            session.exec(query.where(table.c.attempts > 0).values(attempts=table.c.attempts - 1))
    session.commit()


def _forget_stale(session: Session, now: datetime) -> None:
    """Drop counts whose window is over. Rows a claim holds are skipped (PostgreSQL), so this
    never waits for a claim nor a claim for it; SQLite has one writer at a time anyway."""
    window = timedelta(minutes=get_settings().login_window_minutes)
    stale = (
        select(LoginThrottle.key)
        .where(col(LoginThrottle.window_start) < now - window)
        .limit(100)
        .with_for_update(skip_locked=True)
    )
    session.exec(delete(LoginThrottle).where(col(LoginThrottle.key).in_(stale)))
    session.commit()


def start_session(session: Session, *, user: User) -> str:
    """A new sign-in for the user; returns the token the cookie carries."""
    settings = get_settings()
    plain = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            token_hash=digest(plain),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    user.last_login_at = now
    session.add(user)
    session.exec(delete(LoginSession).where(col(LoginSession.expires_at) < now))
    session.commit()
    return plain


def end_session(session: Session, token: str) -> None:
    session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == digest(token)))
    session.commit()


def session_principal(session: Session, token: str) -> Principal | None:
    """The signed-in principal for a session cookie's token; None when it expired or ended.
    Each use extends the session (at most every few minutes), up to its maximum age."""
    row = session.exec(_LOGIN, params={"token_hash": digest(token)}).first()
    if row is None:
        return None
    login, user = row
    now = utcnow()
    if as_utc(login.expires_at) <= now or not user.is_active:
        return None
    renewed = renewal(login.created_at, login.expires_at, now)
    if renewed is not None:
        login.expires_at = renewed
        session.add(login)
        session.commit()
    return principal_for(session, user)


def renewal(created_at: datetime, expires_at: datetime, now: datetime) -> datetime | None:
    """A session's new expiry when this use should extend it (at most every few minutes, up to
    its maximum age), else None."""
    settings = get_settings()
    renewed = min(
        now + timedelta(hours=settings.session_hours),
        as_utc(created_at) + timedelta(days=settings.session_max_days),
    )
    return renewed if renewed - as_utc(expires_at) > timedelta(minutes=5) else None
