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

CHROMIUM = os.environ.get("PHONLAP_CHROMIUM", "/usr/bin/chromium")  # Debian's package
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("PHONLAP_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"PHONLAP_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    browser_items = [item for item in items if "tests/browser" in str(item.fspath)]
    if not browser_items:
        return
    reason = f"browser suite skipped: {CHROMIUM} is not installed (apt-get install chromium)"
    skip = pytest.mark.skip(reason=reason)
    for item in browser_items:
        item.add_marker(skip)
    config.pluginmanager.get_plugin("terminalreporter").write_line(
        f"{reason}, {len(browser_items)} tests"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's SQLite file, for a test that sets up what no page can make yet."""
    return tmp_path_factory.mktemp("browser") / "browser.db"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, browser_db: Path) -> Iterator[str]:
    db = browser_db
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


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def open_page(browser, server: str, viewport: dict = DESKTOP, **options):  # noqa: ANN001, ANN201
    """A new page whose `problems` list collects outside requests, JS errors and failed assets."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        viewport=viewport, locale="th-TH", is_mobile=phone, has_touch=phone, **options
    )
    context.set_default_timeout(10_000)
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
    page.problems = problems
    page.expected_problems = []
    return page


def expect_problem(page, start: str) -> None:  # noqa: ANN001
    """This test provokes a problem starting with `start` (a planted failure); it must happen."""
    page.expected_problems.append(start)


def unexpected_problems(page) -> list[str]:  # noqa: ANN001
    """What went wrong that the test did not plant; a planted problem that never happened too."""
    expected = page.expected_problems
    found = [p for p in page.problems if not any(p.startswith(e) for e in expected)]
    missing = [
        f"expected but not seen: {e}"
        for e in expected
        if not any(p.startswith(e) for p in page.problems)
    ]
    return found + missing


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:  # noqa: ANN001
    """A desktop page that fails its test on an outside request, a JS error or a failed asset."""
    page = open_page(browser, server)
    yield page
    page.context.close()
    assert unexpected_problems(page) == []


@pytest.fixture
def phone(browser, server: str) -> Iterator[object]:  # noqa: ANN001
    """The same, 375 px wide with touch, signed in as the administrator."""
    page = open_page(browser, server, PHONE)
    sign_in(page)
    yield page
    page.context.close()
    assert unexpected_problems(page) == []


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


def follow(page, locator) -> None:  # noqa: ANN001
    """Click a link or a plain form button and wait until the new page has loaded (its scripts
    included: a click on an htmx button before htmx has started would do nothing)."""
    with page.expect_navigation():
        locator.click()


def full_loads(page) -> list[str]:  # noqa: ANN001
    """Record every full page load from now on.

    A new document fires DOMContentLoaded and load; an htmx swap, even one that pushes a URL
    (a same-document navigation), fires neither.
    """
    loads: list[str] = []
    page.on("domcontentloaded", lambda p: loads.append(f"new document {p.url}"))
    page.on("load", lambda p: loads.append(f"loaded {p.url}"))
    return loads


AXE = ROOT / "tests" / "vendor" / "axe-core-4.14.1" / "axe.min.js"


def axe_problems(page) -> list[str]:  # noqa: ANN001
    """Serious and critical axe-core violations on the page as it is now.

    axe is evaluated through the DevTools protocol, so the page's CSP (no inline script) stays on.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return {passes: r.passes.length, violations: r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} at ` +
                          v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))};
        }"""
    )
    assert result["passes"] > 10, "axe-core checked almost nothing"
    return result["violations"]


def shoot(page, name: str, **options) -> Path:  # noqa: ANN001
    """Save a screenshot under test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path
