"""People, their roles per area, their sign-in sessions and API tokens."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field


class User(Versioned, SQLModel, table=True):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=sa.String(254), unique=True)  # stored lower-cased
    display_name: str = Field(sa_type=sa.String(120))
    password_hash: str | None = Field(default=None, sa_type=sa.String(255))
    is_active: bool = True
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    version: int = 1


class RoleGrant(SQLModel, table=True):
    """One role of a user. Admin and reviewer hold for every area (area_id is null); editor,
    viewer and facilitator hold for one area each."""

    __tablename__ = "role_grant"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "area_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    role: str = Field(sa_type=sa.String(20))
    area_id: int | None = Field(default=None, foreign_key="area.id", ondelete="CASCADE")
    created_at: datetime = created_at_field()


class RoleGrantAgency(SQLModel, table=True):
    """An editor grant limited to agencies: the grant changes only what these agencies lead
    or co-own (KPIs, actions) or keep (data items). A grant without rows holds the whole area."""

    __tablename__ = "role_grant_agency"

    grant_id: int = Field(foreign_key="role_grant.id", ondelete="CASCADE", primary_key=True)
    # no cascade: deleting an agency must not silently widen the grant to the whole area
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)


class LoginSession(SQLModel, table=True):
    """A browser sign-in. The cookie carries the token; only its SHA-256 is stored."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ApiToken(SQLModel, table=True):
    """A personal token for the JSON API (`Authorization: Bearer`). Shown once, stored hashed."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_type=sa.String(80))
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    prefix: str = Field(sa_type=sa.String(16))  # shown in lists so people can tell tokens apart
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class LoginThrottle(SQLModel, table=True):
    """Password checks per key (`account:<email>` or `address:<ip>`) in the current window.

    A password is checked only after its keys were counted up here in one atomic upsert that
    answered "still under the limit"; so parallel guesses, from any number of workers, cannot
    all be checked before the first failure is written."""

    __tablename__ = "login_throttle"

    key: str = Field(sa_type=sa.String(320), primary_key=True)
    window_start: datetime = Field(sa_type=sa.DateTime(timezone=True))
    attempts: int = 0
