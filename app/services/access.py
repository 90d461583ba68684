"""Who may do what: the one policy that pages, fragments and the JSON API all ask.

A principal is the person behind a request (or nobody). Permissions are checked per area:
admins and reviewers hold theirs for every area, editors, viewers and facilitators for the
areas they were given.

An editor grant may be limited to agencies (an agency's data clerk): it then keeps `read` and
`comment` on its area but not `edit` nor `reflect`; instead `may_change` lets it change only
the KPIs and actions its agencies lead or co-own and the data items they keep, and
`edit_scope` tells pages which rows to offer. It creates and deletes nothing.
"""

from collections.abc import Iterable
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


# What an agency-scoped editor grant still gives on its area (edit only through may_change).
SCOPED_EDITOR = frozenset({Permission.read, Permission.comment})

OUT_OF_SCOPE = Msg("You may change only what your agencies lead, co-own or keep.")
SCOPED_READ_ONLY = Msg(
    "Your role is limited to your agencies' KPIs, actions and data: this is read-only for you."
)


@dataclass(frozen=True)
class Grant:
    role: Role
    area_id: int | None  # None: every area
    agencies: frozenset[int] = frozenset()  # an editor's agencies; empty: the whole area

    @property
    def scoped(self) -> bool:
        return bool(self.agencies)

    def gives(self, permission: Permission) -> bool:
        if self.scoped:
            return permission in SCOPED_EDITOR
        return self.role in POLICY[permission]


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
        for grant in self.grants:
            if not grant.gives(permission):
                continue
            if grant.role in GLOBAL_ROLES or (area_id is not None and grant.area_id == area_id):
                return True
        return False

    def area_ids(self, permission: Permission = Permission.read) -> set[int] | None:
        """The areas this principal holds the permission on; None means every area."""
        ids: set[int] = set()
        for grant in self.grants:
            if grant.gives(permission):
                if grant.role in GLOBAL_ROLES:
                    return None
                if grant.area_id is not None:
                    ids.add(grant.area_id)
        return ids

    # ---- the agency scope: one rule for pages, fragments, imports and the JSON API ----------

    def edit_scope(self, area_id: int) -> frozenset[int] | None:
        """None: may change anything in the area (full `edit`). Otherwise the agencies whose
        KPIs, actions and data items it may change (empty: nothing at all)."""
        if self.can(Permission.edit, area_id):
            return None
        agencies: set[int] = set()
        for grant in self.grants:
            if grant.scoped and grant.role == Role.editor and grant.area_id == area_id:
                agencies |= grant.agencies
        return frozenset(agencies)

    def is_scoped(self, area_id: int) -> bool:
        """An agency-scoped editor here (and nothing more)."""
        return bool(self.edit_scope(area_id))

    def can_edit_some(self, area_id: int) -> bool:
        """May change at least something in the area (fully, or within its agencies)."""
        scope = self.edit_scope(area_id)
        return scope is None or bool(scope)

    def may_change(self, area_id: int, owners: Iterable[int | None]) -> bool:
        """May this principal change an element of the area whose owning agencies (a KPI's
        lead and co-owners, an action's lead and partners, a data item's custodian) are
        `owners`? Full editors and admins may change everything; scoped editors only an
        element one of their agencies owns."""
        scope = self.edit_scope(area_id)
        return scope is None or not scope.isdisjoint(a for a in owners if a is not None)

    def require_change(self, area_id: int, owners: Iterable[int | None]) -> None:
        self.require_signed_in()
        if not self.may_change(area_id, owners):
            raise Forbidden(OUT_OF_SCOPE if self.is_scoped(area_id) else None)

    def require_signed_in(self) -> None:
        if self.is_anonymous:
            raise NotAuthenticated()

    def require(self, permission: Permission, area_id: int | None = None) -> None:
        self.require_signed_in()
        if not self.can(permission, area_id):
            raise Forbidden()


ANONYMOUS = Principal()
