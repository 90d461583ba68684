"""The deployment of deploy/: Debian's nginx with the site file as shipped (ports, upstream and a
self-signed certificate substituted) in front of `phonlap serve --proxy-headers`, two workers on
PostgreSQL (one on SQLite). What a visitor's browser would get through the proxy is checked.

Needs /usr/sbin/nginx and openssl (.ci/nginx.sh installs them as root); skipped without them
unless PHONLAP_REQUIRE_NGINX=1. The test client connects from 127.0.0.2, so the address the
throttle sees can be told apart from the proxy's (127.0.0.1)."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import ROOT
from app.models import LoginThrottle
from app.services import accounts
from app.web import auth
from tests import factories as f

NGINX = "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx-phonlap.conf"
CLIENT_ADDRESS = "127.0.0.2"

if not (Path(NGINX).exists() and Path("/usr/bin/openssl").exists()):
    if os.environ.get("PHONLAP_REQUIRE_NGINX") == "1":
        raise RuntimeError(f"PHONLAP_REQUIRE_NGINX=1 but {NGINX} or openssl is missing")
    pytest.skip(
        "deployment test skipped: nginx is not installed (.ci/nginx.sh)", allow_module_level=True
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"did not start:\n{log.read_text()}")


def site_for_test(site: str, *, app_port: int, http: int, https: int, cert: Path) -> str:
    """The shipped site file, on loopback ports and with the test certificate."""
    replaced = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "/etc/letsencrypt/live/phonlap.example.go.th/fullchain.pem": str(cert / "cert.pem"),
        "/etc/letsencrypt/live/phonlap.example.go.th/privkey.pem": str(cert / "key.pem"),
    }
    for old, new in replaced.items():
        assert old in site, f"the site file no longer has {old!r}"
        site = site.replace(old, new)
    return re.sub(r"\n\s*listen \[::\]:\d+[^\n]*", "", site)


def _nginx_conf(work: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    temps = "\n".join(
        f"    {kind}_temp_path {work / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {work}/access.log;
{temps}
    include {work}/site.conf;
}}
"""


@pytest.fixture(scope="module")
def proxy(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    work = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=localhost"]
        + ["-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
        check=True,
        capture_output=True,
    )
    app_port, http, https = _free_port(), _free_port(), _free_port()
    site = site_for_test(SITE.read_text(), app_port=app_port, http=http, https=https, cert=work)
    (work / "site.conf").write_text(site)
    (work / "nginx.conf").write_text(_nginx_conf(work))
    workers = "1" if database_url.startswith("sqlite") else "2"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PHONLAP_DATABASE_URL": database_url,
        "PHONLAP_WORKERS": workers,
        "PHONLAP_PUBLIC_URL": f"https://localhost:{https}",
    }
    app_log, nginx_log = work / "app.log", work / "nginx.out"
    with app_log.open("w") as out, nginx_log.open("w") as nginx_out:
        app = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(app_port), "--proxy-headers"]
            + ["--forwarded-allow-ips", "127.0.0.1"],
            env=env,
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        nginx = subprocess.Popen(
            [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")],
            stdout=nginx_out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(app_port, app, app_log)
            _wait(https, nginx, nginx_log)
            yield {"https": f"https://127.0.0.1:{https}", "http": f"http://127.0.0.1:{http}"}
        finally:
            for proc in (nginx, app):
                proc.terminate()
            for proc in (nginx, app):
                proc.wait(timeout=30)


@pytest.fixture
def browser(proxy: dict[str, str]) -> Iterator[Callable[..., httpx.Client]]:
    made = []

    def make(**kwargs: object) -> httpx.Client:
        transport = httpx.HTTPTransport(verify=False, local_address=CLIENT_ADDRESS)
        client = httpx.Client(base_url=proxy["https"], transport=transport, timeout=30, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _signed_in(client: httpx.Client, session: Session) -> httpx.Client:
    token = accounts.start_session(session, user=f.make_user(session, "admin"))
    client.cookies.set(auth.SESSION_COOKIE, auth.sign(token))
    return client


def test_https_cookies_are_secure_and_hsts_is_sent(
    proxy: dict[str, str], browser: Callable[..., httpx.Client]
) -> None:
    page = browser().get("/login")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=")
    cookies = page.headers.get_list("set-cookie")
    assert cookies and all("; Secure" in c for c in cookies), cookies
    plain = httpx.get(proxy["http"] + "/login", follow_redirects=False)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")


def test_the_throttle_sees_the_visitor_not_the_proxy(
    browser: Callable[..., httpx.Client], session: Session
) -> None:
    client = browser()
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    spoofed = {"X-Forwarded-For": "203.0.113.7"}  # a visitor cannot choose their address
    answer = client.post(
        "/login",
        data={"email": "nobody@example.go.th", "password": "wrong", "csrf_token": csrf},
        headers=spoofed,
    )
    assert answer.status_code in (401, 422)
    counted = select(LoginThrottle.key).where(
        col(LoginThrottle.key).startswith("address:"), LoginThrottle.attempts > 0
    )
    assert session.exec(counted).all() == [f"address:{CLIENT_ADDRESS}"]


def test_live_updates_pass_through_without_buffering(
    browser: Callable[..., httpx.Client], session: Session
) -> None:
    client = _signed_in(browser(), session)
    opened = time.monotonic()
    with client.stream("GET", "/areas/phuket/events") as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("event: ready"):
                break
    assert time.monotonic() - opened < 1.0


def test_pages_and_static_files_are_compressed_and_static_files_cached(
    browser: Callable[..., httpx.Client], session: Session
) -> None:
    client = _signed_in(browser(), session)
    for path in ("/", "/static/css/app.css", "/static/vendor/htmx-2.0.11.min.js"):
        answer = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200, path
        assert answer.headers.get("content-encoding") == "gzip", path
    page = client.get("/").text
    own = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1)
    for path in ("/static/vendor/htmx-2.0.11.min.js", own):  # names that change with the file
        cache = client.get(path).headers["cache-control"]
        assert "max-age=31536000" in cache and "immutable" in cache, path


def test_uploads_over_the_limit_are_refused_by_the_proxy(
    browser: Callable[..., httpx.Client],
) -> None:
    client = browser()
    too_big = client.post("/login", content=b"x" * (13 * 1024 * 1024))
    assert too_big.status_code == 413
    allowed = client.post("/login", content=b"x" * (9 * 1024 * 1024))
    assert allowed.status_code != 413  # reaches the app, which refuses it for its own reasons
