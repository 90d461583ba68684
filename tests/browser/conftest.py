"""A real server (uvicorn on a free loopback port, temp SQLite) and Debian's Chromium.

Without /usr/bin/chromium the browser tests skip with one line, unless PHONLAP_REQUIRE_BROWSER=1
(CI), which makes them fail instead. Nothing is ever downloaded (`playwright install` is not used).
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "browser-suite-password"
ADMIN = "admin@example.go.th"
USERS = (
    (ADMIN, "admin", None),
    ("editor.krabi@example.go.th", "editor", "krabi"),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("PHONLAP_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"PHONLAP_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    skip = pytest.mark.skip(reason=f"browser tests skipped: {CHROMIUM} not installed")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("browser") / "browser.db"
    env = {**os.environ, "PHONLAP_DATABASE_URL": f"sqlite:///{db}"}
    env.pop("PHONLAP_TEST_DATABASE_URL", None)
    cli = [sys.executable, "-m", "app"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed", "--demo"], env=env, check=True, capture_output=True)
    for email, role, area in USERS:
        subprocess.run(
            [*cli, "create-user", "--email", email, "--name", email.split("@")[0], "--role", role]
            + (["--area", area] if area else []),
            env=env,
            check=True,
            capture_output=True,
            input=PASSWORD + "\n",
            text=True,
        )
    port = _free_port()
    log = open(tmp_path_factory.mktemp("log") / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    _wait(port)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def _wait(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not start")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:  # noqa: ANN001
    """A page that fails its test on an outside request, a JS error or a failed asset."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    problems: list[str] = []
    host = urlsplit(server).netloc

    def guard(route) -> None:  # noqa: ANN001
        if urlsplit(route.request.url).netloc != host:
            problems.append(f"outside request: {route.request.url}")
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.on("pageerror", lambda err: problems.append(f"js error: {err}"))
    # failed loads are judged by the response listener (a 422 form answer is expected)
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and problems.append(f"console: {m.text}")
        ),
    )
    # an asset that fails, or any server error; a form answered with 401/409/422/429 is expected
    page.on(
        "response",
        lambda r: (
            (
                r.status >= 500
                or (r.status >= 400 and r.request.resource_type not in ("document", "fetch", "xhr"))
            )
            and problems.append(f"{r.status} {r.url}")
        ),
    )
    page.base_url = server
    yield page
    context.close()
    assert problems == []


def sign_in(page, email: str = ADMIN) -> None:  # noqa: ANN001
    """Through the sign-in form, as a person would."""
    page.goto(page.base_url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def admin_page(page):  # noqa: ANN001
    sign_in(page)
    return page
