"""Account services: every write is audited once, passwords and tokens never stored in clear."""

import inspect
from pathlib import Path

from sqlmodel import Session, select

from app.config import get_settings
from app.models import AuditEvent, RoleGrant
from app.services import accounts, demo_users
from tests import factories as f

WRITES = {
    "create_user",
    "update_user",
    "set_password",
    "set_active",
    "grant_role",
    "revoke_role",
    "set_grant_agencies",
    "create_token",
    "revoke_token",
}
# sign-in bookkeeping: not changes to people or plans, so not in the audit trail
SESSIONS = {"authenticate", "check_password", "start_session", "end_session"}


def _events(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_every_account_write_records_exactly_one_audit_event(session: Session) -> None:
    public = {
        name
        for name, fn in inspect.getmembers(accounts, inspect.isfunction)
        if fn.__module__ == accounts.__name__ and not name.startswith("_")
    }
    readers = {
        "get_user",
        "find_user",
        "list_users",
        "grants_by_user",
        "grant_agencies",
        "scope_choices",
        "principal_for",
        "user_tokens",
        "token_principal",
        "session_principal",
        "digest",
        "renewal",
    }
    assert public - readers - SESSIONS == WRITES, "a new write function must be added here"

    def writes_one(call):  # noqa: ANN001, ANN202
        before = len(_events(session))
        result = call()
        assert len(_events(session)) == before + 1
        return result

    user = writes_one(
        lambda: accounts.create_user(
            session,
            actor=f.ACTOR,
            user_in={"email": "a@example.go.th", "display_name": "ก"},
            password="a long password",
            grant_in={"role": "viewer", "area_id": f.area(session).id},
        )
    )
    writes_one(
        lambda: accounts.update_user(
            session, actor=f.ACTOR, user=user, user_in={"display_name": "ข"}
        )
    )
    writes_one(
        lambda: accounts.set_password(
            session, actor=f.ACTOR, user=user, password="another long one"
        )
    )
    writes_one(lambda: accounts.set_active(session, actor=f.ACTOR, user=user, active=False))
    krabi = f.area(session).id
    grant = writes_one(
        lambda: accounts.grant_role(
            session, actor=f.ACTOR, user=user, grant_in={"role": "reviewer"}
        )
    )
    writes_one(lambda: accounts.revoke_role(session, actor=f.ACTOR, user=user, grant_id=grant.id))
    editor = writes_one(
        lambda: accounts.grant_role(
            session, actor=f.ACTOR, user=user, grant_in={"role": "editor", "area_id": krabi}
        )
    )
    esa = f.agency(session, "krabi").id
    writes_one(
        lambda: accounts.set_grant_agencies(
            session, actor=f.ACTOR, user=user, grant_id=editor.id, scope_in={"agency_ids": [esa]}
        )
    )
    writes_one(lambda: accounts.revoke_role(session, actor=f.ACTOR, user=user, grant_id=editor.id))
    token, plain = writes_one(
        lambda: accounts.create_token(session, actor=f.ACTOR, user=user, token_in={"name": "t"})
    )
    writes_one(lambda: accounts.revoke_token(session, actor=f.ACTOR, user=user, token_id=token.id))
    text = " ".join(str(e.before) + str(e.after) for e in _events(session))
    assert "a long password" not in text and plain not in text and "$argon2" not in text
    assert (
        session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).one().role == "viewer"
    )


def test_a_bad_role_creates_no_account(session: Session) -> None:
    import pytest

    from app.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(
            session,
            actor=f.ACTOR,
            user_in={"email": "b@example.go.th", "display_name": "ค"},
            password="a long password",
            grant_in={"role": "editor", "area_id": None},
        )
    assert set(caught.value.errors) == {"area_id"}
    assert accounts.find_user(session, "b@example.go.th") is None and _events(session) == []


def test_demo_accounts_file_is_kept_under_the_var_directory_of_its_database(
    session: Session,
) -> None:
    created = demo_users.create(session)
    saved = Path(get_settings().var_dir) / "demo-accounts.txt"
    assert created and demo_users.accounts_file() == saved
    password = saved.read_text(encoding="utf-8").splitlines()[0].split("\t")[1]
    admin = accounts.authenticate(
        session, email="admin@demo.phonlap.test", password=password, address="127.0.0.1"
    )
    assert admin.email == "admin@demo.phonlap.test"
    clerk = accounts.find_user(session, "editor.esa.phuket@demo.phonlap.test")
    scoped = accounts.principal_for(session, clerk)
    phuket_esa = f.agency(session, "phuket", "esa-primary-1").id
    assert [g.agencies for g in scoped.grants] == [frozenset({phuket_esa})]
