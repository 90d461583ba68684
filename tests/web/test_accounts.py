"""Signing in and out, sessions, CSRF, throttling, security headers, tokens and accounts."""

import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, update
from sqlmodel import Session, select

from app import ROOT
from app.config import Settings, UnsafeSettings, check_for_serving
from app.models import AuditEvent, LoginSession, LoginThrottle, Plan, RoleGrant, User
from app.models.base import utcnow
from app.services import accounts
from app.web import auth
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}


def _csrf(client: TestClient) -> str:
    client.get("/login")
    return auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])


def _login(client: TestClient, email: str, password: str = f.PASSWORD, **extra: str):  # noqa: ANN202
    data = {"email": email, "password": password, "csrf_token": _csrf(client), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def test_anonymous_visitors_are_sent_to_sign_in(anonymous: TestClient) -> None:
    home = anonymous.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/login?next=/"
    page = anonymous.get("/areas/phuket", follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.text
    api = anonymous.get("/api/v1/areas")
    assert api.status_code == 401 and api.headers["WWW-Authenticate"] == "Bearer"


def test_sign_in_and_out(session: Session, anonymous: TestClient) -> None:
    user = f.make_user(session, "editor", "phuket", email="Somchai@Example.go.th")
    response = _login(anonymous, "  somchai@example.go.th ", next="/areas/phuket")
    assert response.status_code == 303 and response.headers["location"] == "/areas/phuket"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie
    assert user.display_name in anonymous.get("/areas/phuket").text
    token = anonymous.cookies[auth.SESSION_COOKIE]
    assert session.exec(select(func.count()).select_from(LoginSession)).one() == 1
    csrf = auth._mac("csrf", anonymous.cookies[auth.CSRF_COOKIE])
    out = anonymous.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert session.exec(select(func.count()).select_from(LoginSession)).one() == 0
    # the old cookie, replayed, no longer signs anyone in
    replay = TestClient(anonymous.app, cookies={auth.SESSION_COOKIE: token})
    assert replay.get("/", follow_redirects=False).headers["location"].startswith("/login?next=/")


def test_wrong_password_and_unknown_account_get_the_same_message(
    session: Session, anonymous: TestClient
) -> None:
    f.make_user(session, "viewer", "phuket", email="malee@example.go.th")
    wrong = _login(anonymous, "malee@example.go.th", "not the password")
    unknown = _login(anonymous, "nobody@example.go.th", "whatever-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in response.text
    assert 'value="malee@example.go.th"' in wrong.text  # the typed email is kept
    assert auth.SESSION_COOKIE not in anonymous.cookies


def test_five_failures_pause_the_account_with_a_clear_message(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    f.make_user(session, "viewer", "phuket", email="target@example.go.th")
    attacker = app_client()
    for _ in range(5):
        assert _login(attacker, "target@example.go.th", "guess-guess").status_code == 401
    # even the right password is refused now, from anywhere: the account is paused
    paused = _login(app_client(), "target@example.go.th")
    assert paused.status_code == 429 and "15" in paused.text
    assert auth.SESSION_COOKIE not in paused.cookies
    # after the window, the right password works again
    session.exec(update(LoginThrottle).values(window_start=utcnow() - timedelta(minutes=16)))
    session.commit()
    assert _login(app_client(), "target@example.go.th").status_code == 303


def test_one_address_trying_many_accounts_is_paused(
    session: Session, anonymous: TestClient
) -> None:
    f.make_user(session, "viewer", "phuket", email="real@example.go.th")
    for n in range(5):
        _login(anonymous, f"guess{n}@example.go.th", "guess-guess")
    assert _login(anonymous, "real@example.go.th").status_code == 429


def test_an_expired_session_says_so(session: Session, app_client: Callable[[], TestClient]) -> None:
    client = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    session.exec(update(LoginSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    page = client.get("/areas/phuket", follow_redirects=False)
    assert page.headers["location"] == "/login?next=/areas/phuket&expired=1"
    assert "หมดอายุ" in client.get(page.headers["location"]).text
    fragment = client.get("/areas/phuket/plan/checks", headers=HX)
    assert fragment.status_code == 401 and fragment.headers["HX-Retarget"] == "#flash"
    assert 'target="_blank"' in fragment.text  # sign in elsewhere: the typed text stays


def test_unsafe_requests_need_the_csrf_token(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    client = sign_in(app_client(), session, f.make_user(session, "editor", "trat"))
    good = client.headers.pop(auth.CSRF_HEADER)
    data = {"title": "แผนตราด", "span_start_be": "2566", "span_end_be": "2570"}
    missing = client.post("/areas/trat/plan", data=data)
    wrong = client.post("/areas/trat/plan", data={**data, "csrf_token": good[:-2] + "xx"})
    other = client.post(
        "/areas/trat/plan", data=data, headers={auth.CSRF_HEADER: _csrf(TestClient(client.app))}
    )
    for response in (missing, wrong, other):
        assert response.status_code == 403 and "โหลดหน้า" in response.text
    assert session.exec(select(func.count()).select_from(Plan)).one() == 0
    ok = client.post("/areas/trat/plan", data={**data, "csrf_token": good}, follow_redirects=False)
    assert ok.status_code == 303


def test_bearer_token_calls_need_no_csrf_and_revoked_tokens_stop_working(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    user = f.make_user(session, "editor", "trat")
    token, plain = accounts.create_token(session, actor=f.ACTOR, user=user, token_in={"name": "x"})
    assert token.token_hash != plain and plain not in str(token.model_dump())
    api = app_client()
    api.headers["Authorization"] = f"Bearer {plain}"
    made = api.post(
        "/api/v1/areas/trat/plan", json={"title": "แผน", "span_start_be": 2566, "span_end_be": 2570}
    )
    assert made.status_code == 201
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "plan")).one()
    assert (event.actor_id, event.actor) == (user.id, user.email)
    accounts.revoke_token(session, actor=f.ACTOR, user=user, token_id=token.id)
    refused = api.get("/api/v1/areas/trat/plan")
    assert refused.status_code == 401 and "โทเค็น API" in refused.json()["detail"]


def test_security_headers_on_pages_fragments_and_files(client: TestClient) -> None:
    for url in ("/login", "/areas/phuket", "/static/css/app.css", "/api/v1/areas", "/nowhere"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    assert client.get("/areas/phuket").headers["Cache-Control"] == "no-store"
    page = client.get("/areas/phuket").text
    assert '<meta name="csrf-token" content="' in page and "<script>" not in page
    assert "style=" not in page


def test_the_default_secret_key_is_refused_outside_demo_and_dev() -> None:
    with pytest.raises(UnsafeSettings, match="PHONLAP_SECRET_KEY"):
        check_for_serving(Settings(secret_key="phonlap-demo-secret-key-never-use-in-production"))
    with pytest.raises(UnsafeSettings, match="32"):
        check_for_serving(Settings(secret_key="short"))
    check_for_serving(Settings(demo=True))  # the demo may use the built-in key
    env = {"PATH": "/usr/bin:/bin", "PHONLAP_DATABASE_URL": "sqlite:///:memory:"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "PHONLAP_SECRET_KEY is not set" in result.stderr


def test_account_page_changes_password_and_makes_a_token(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    user = f.make_user(session, "viewer", "phuket")
    client = sign_in(app_client(), session, user)
    other_device = sign_in(app_client(), session, user)
    short = client.post(
        "/account/password", data={"current_password": f.PASSWORD, "password": "short"}
    )
    assert short.status_code == 422 and "10" in short.text
    wrong = client.post(
        "/account/password", data={"current_password": "nope", "password": "a new long password"}
    )
    assert wrong.status_code == 422
    ok = client.post(
        "/account/password",
        data={"current_password": f.PASSWORD, "password": "a new long password"},
    )
    assert ok.status_code == 200
    assert client.get("/account").status_code == 200  # this sign-in continues
    assert other_device.get("/account", follow_redirects=False).status_code == 303  # ended
    made = client.post("/account/tokens", data={"name": "สคริปต์รายเดือน"})
    plain = made.text.split('id="new-token">')[1].split("<")[0]
    assert plain.startswith("phl_") and "สคริปต์รายเดือน" in made.text
    assert client.get("/account").text.count(plain) == 0  # shown once only
    api = TestClient(client.app).get("/api/v1/areas", headers={"Authorization": f"Bearer {plain}"})
    assert [a["slug"] for a in api.json()] == ["phuket"]
    too_long = client.post("/account/profile", data={"display_name": "ก" * 500})
    assert too_long.status_code == 422 and "120" in too_long.text
    session.expire_all()
    assert session.get(User, user.id).display_name == user.display_name


def test_admin_adds_a_person_with_a_role_and_nothing_on_bad_input(
    client: TestClient, session: Session
) -> None:
    before = session.exec(select(func.count()).select_from(User)).one()
    bad = client.post(
        "/admin/users",
        data={"email": "not-an-email", "display_name": "สมศรี", "password": "x", "role": "editor"},
    )
    assert bad.status_code == 422 and 'value="สมศรี"' in bad.text
    assert session.exec(select(func.count()).select_from(User)).one() == before
    phuket = f.area(session, "phuket").id
    made = client.post(
        "/admin/users",
        data={
            "email": "somsri@example.go.th",
            "display_name": "สมศรี ใจดี",
            "password": "a long first password",
            "role": "editor",
            "area_id": str(phuket),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    user = accounts.find_user(session, "somsri@example.go.th")
    grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    assert [(g.role, g.area_id) for g in grants] == [("editor", phuket)]
    assert user.password_hash.startswith("$argon2id$")
    page = client.get(made.headers["location"]).text
    assert "สมศรี ใจดี" in page and "ภูเก็ต" in page


def test_command_line_creates_users_and_tokens(session: Session, database_url: str) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PHONLAP_DATABASE_URL": database_url,
        "PHONLAP_ARGON2_TIME_COST": "1",
        "PHONLAP_ARGON2_MEMORY_KIB": "1024",
    }
    cli = [sys.executable, "-m", "app"]

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [*cli, *args],
            env=env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    made = run(
        "create-user",
        "--email",
        "Lek@Example.go.th",
        "--name",
        "เล็ก",
        "--role",
        "editor",
        "--area",
        "krabi",
        stdin="a password from a script\n",
    )
    assert made.returncode == 0, made.stderr
    user = accounts.find_user(session, "lek@example.go.th")
    assert user is not None and user.display_name == "เล็ก"
    duplicate = run(
        "create-user",
        "--email",
        "lek@example.go.th",
        "--name",
        "x",
        "--role",
        "viewer",
        "--area",
        "krabi",
        stdin="another password\n",
    )
    assert duplicate.returncode == 1 and "email" in duplicate.stderr
    assert run("set-password", "--email", "lek@example.go.th", stdin="short\n").returncode == 1
    assert (
        run(
            "set-password", "--email", "lek@example.go.th", stdin="the second password\n"
        ).returncode
        == 0
    )
    token = run("create-token", "--email", "lek@example.go.th").stdout.strip()
    assert accounts.token_principal(session, token).user.id == user.id
    session.expire_all()
    assert accounts.authenticate(
        session, email="lek@example.go.th", password="the second password", address="t"
    )


def test_a_form_left_open_when_the_session_ended_saves_after_signing_in_again(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    user = f.make_user(session, "editor", "phuket")
    plan = f.make_plan(session, "phuket")
    kra = f.make_kra(session, plan)
    browser = sign_in(app_client(), session, user)
    page_token = browser.headers[auth.CSRF_HEADER]  # the token on the open page
    session.exec(update(LoginSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    form = {"version": "1", "code": "KRA1", "title": "ผลลัพธ์ที่พิมพ์ค้างไว้"}
    url = f"/areas/phuket/plan/kras/{kra.id}"
    assert browser.put(url, data=form, headers=HX).status_code == 401
    signed = browser.post(
        "/login", data={"email": user.email, "password": f.PASSWORD, "csrf_token": page_token}
    )
    assert signed.status_code == 200  # followed to the home page
    saved = browser.put(url, data=form, headers={**HX, auth.CSRF_HEADER: page_token})
    assert saved.status_code == 200 and "ผลลัพธ์ที่พิมพ์ค้างไว้" in saved.text


def test_a_request_from_another_site_is_refused(client: TestClient, session: Session) -> None:
    data = {"title": "แผนตราด", "span_start_be": "2566", "span_end_be": "2570"}
    forged = client.post("/areas/trat/plan", data=data, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert session.exec(select(func.count()).select_from(Plan)).one() == 0
    same = client.post(
        "/areas/trat/plan",
        data=data,
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303
