"""Who may do what: the one policy that pages, fragments and the JSON API all ask.

A principal is the person behind a request (or nobody). Permissions are checked per area:
admins and reviewers hold theirs for every area, editors, viewers and facilitators for the
areas they were given.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from app.models import User
from app.models.enums import GLOBAL_ROLES, Role
from app.services.audit import Actor
from app.services.errors import Msg, ServiceError


class Permission(StrEnum):
    read = "read"  # see the area's plan, progress and history
    edit = "edit"  # change the area's plan and progress
    facilitate = "facilitate"  # run presentation and workshop sessions
    reflect = "reflect"  # keep the DE records: reflections, outcomes, partners, questions
    comment = "comment"  # talk back to the committee (reviewers, committees)
    review = "review"  # approve or return an area's submitted period, reopen an approved one
    manage = "manage"  # users and reference data


# Which roles give which permission (on the areas the role is held for).
POLICY: dict[Permission, frozenset[Role]] = {
    Permission.read: frozenset(Role),
    Permission.edit: frozenset({Role.admin, Role.editor}),
    Permission.facilitate: frozenset({Role.admin, Role.facilitator}),
    Permission.reflect: frozenset({Role.admin, Role.editor, Role.facilitator}),
    Permission.comment: frozenset({Role.admin, Role.reviewer, Role.editor}),
    Permission.review: frozenset({Role.admin, Role.reviewer}),
    Permission.manage: frozenset({Role.admin}),
}


class AccessDenied(ServiceError):
    default = Msg("You do not have permission to do this.")

    def __init__(self, message: Msg | None = None) -> None:
        self.message = message or self.default
        super().__init__(self.message.msgid)


class NotAuthenticated(AccessDenied):
    """Nobody is signed in (or the session ended, or the API token is not valid): 401."""

    status_code = 401
    default = Msg("Sign in, or send an API token.")


class Forbidden(AccessDenied):
    """Signed in, but not allowed: 403."""

    status_code = 403


@dataclass(frozen=True)
class Grant:
    role: Role
    area_id: int | None  # None: every area


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    via_token: bool = False  # signed in with an API token rather than a browser session

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def actor(self) -> Actor:
        if self.user is None:
            return Actor.process("anonymous")
        return Actor(self.user.id, self.user.email)

    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}

    def can(self, permission: Permission, area_id: int | None = None) -> bool:
        """`area_id=None` asks about the whole service (e.g. managing users)."""
        allowed = POLICY[permission]
        for grant in self.grants:
            if grant.role not in allowed:
                continue
            if grant.role in GLOBAL_ROLES or (area_id is not None and grant.area_id == area_id):
                return True
        return False

    def area_ids(self, permission: Permission = Permission.read) -> set[int] | None:
        """The areas this principal holds the permission on; None means every area."""
        allowed = POLICY[permission]
        ids: set[int] = set()
        for grant in self.grants:
            if grant.role in allowed:
                if grant.role in GLOBAL_ROLES:
                    return None
                if grant.area_id is not None:
                    ids.add(grant.area_id)
        return ids

    def require_signed_in(self) -> None:
        if self.is_anonymous:
            raise NotAuthenticated()

    def require(self, permission: Permission, area_id: int | None = None) -> None:
        self.require_signed_in()
        if not self.can(permission, area_id):
            raise Forbidden()


ANONYMOUS = Principal()
