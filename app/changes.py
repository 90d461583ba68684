"""The data version: one number that moves with every committed write to the data.

A page rendered while the number was n shows what was true at n; while the number stays n it
may be served again (app.page_cache), by any worker or host, since the number lives in the
database. The number moves in the writing transaction itself, as its last statement, so it is
committed or rolled back with the write, and never moves for a write that did not happen.

Every ORM session of the app is watched (listeners on the Session class): rows added, changed or
deleted through the unit of work, and INSERT, UPDATE and DELETE statements run through
`session.execute`. Bookkeeping that no page shows does not count: the sign-in throttle, imports
waiting for confirmation, and a session's sliding expiry or a token's last use.
"""

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from app.models import DataVersion

IGNORED_TABLES = frozenset({"data_version", "login_throttle", "pending_import"})
# tables where an UPDATE of only these columns is bookkeeping (a sign-in's sliding expiry)
IGNORED_UPDATES = {"login_session": frozenset({"expires_at"}), "api_token": {"last_used_at"}}
CHANGED = "phonlap_data_changed"
_WRITE = re.compile(r"^\s*(?:insert\s+into|update|delete\s+from)\s+\"?(\w+)", re.IGNORECASE)

_table = DataVersion.__table__
READ = sa.select(_table.c.n).where(_table.c.id == 1)
_BUMP = sa.update(_table).where(_table.c.id == 1).values(n=_table.c.n + 1)


def current(connection: sa.Connection) -> int:
    """The data version as this connection's transaction sees it (0 before any write)."""
    return connection.execute(READ).scalar() or 0


def _counts(obj: Any, *, updated: bool) -> bool:
    table = getattr(obj, "__tablename__", None)
    if table in IGNORED_TABLES:
        return False
    allowed = IGNORED_UPDATES.get(table) if updated else None
    if allowed is None:
        return True
    state = sa.inspect(obj)
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    return not changed <= allowed


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(CHANGED):
        return
    if any(_counts(o, updated=False) for o in (*session.new, *session.deleted)) or any(
        _counts(o, updated=True) for o in session.dirty if session.is_modified(o)
    ):
        session.info[CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_select or state.session.info.get(CHANGED):
        return
    statement = state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table is None:  # text(): read the verb and the table from the SQL
        found = _WRITE.match(str(statement))
        if found is None:
            return
        table = found.group(1).lower()
    if table not in IGNORED_TABLES:
        state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    session.flush()  # what is pending is written now, so that it is noted above
    if session.info.pop(CHANGED, False):
        connection = session.connection()
        if connection.execute(_BUMP).rowcount == 0:  # a database made without the migration
            connection.execute(sa.insert(_table).values(id=1, n=1))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """The database rolled the transaction back: what it noted did not happen."""
    if not session.in_nested_transaction():
        session.info.pop(CHANGED, None)
