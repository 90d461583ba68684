"""Smoke test of an installed wheel (run by .ci/wheel.sh with the fresh virtualenv's Python, from
a directory outside the checkout): migrate and seed a temporary SQLite database, serve it, sign in
with a demo account, and fetch pages, every static file and a PDF.

Only the standard library and the installed `phonlap` package are used."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
PAGES = [
    "/",
    "/areas/phuket",
    "/areas/phuket/plan",
    "/areas/phuket/progress",
    "/areas/phuket/progress/charts",
    "/areas/phuket/map",
    "/areas/phuket/history",
    "/areas/phuket/learning",
    "/review",
    "/indicators",
    "/account",
    "/admin/users",
    "/docs",
    "/api/v1/areas",
]


def main() -> int:
    import app

    work = Path(tempfile.mkdtemp(prefix="phonlap-wheel-smoke-"))
    os.chdir(work)  # nowhere near a checkout
    checkout = Path(sys.argv[1]).resolve()  # the package must not be read from there
    assert checkout not in app.ROOT.parents and checkout != app.ROOT, app.ROOT
    assert (app.ROOT / "templates").is_dir(), f"templates not shipped in {app.ROOT}"
    env = {
        **os.environ,
        "PHONLAP_DATABASE_URL": f"sqlite:///{work / 'smoke.db'}",
        "PHONLAP_VAR_DIR": str(work / "var"),
        "PHONLAP_DEMO": "1",
    }
    env.pop("PYTHONPATH", None)
    phonlap = str(BIN / "phonlap")
    run([phonlap, "migrate"], env)
    seeded = run([phonlap, "seed", "--demo"], env)
    password = re.search(r"password\s+(\S+)", seeded).group(1)
    assert (work / "var" / "demo-accounts.txt").exists(), "demo accounts not under PHONLAP_VAR_DIR"
    port = free_port()
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [phonlap, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        check_server(f"http://127.0.0.1:{port}", password, app.ROOT / "static")
    except BaseException:
        log.flush()
        print((work / "server.log").read_text(), file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    print(f"wheel smoke: ok ({app.ROOT})")
    return 0


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_server(base: str, password: str, static: Path) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    wait_for(opener, base + "/healthz")
    home = fetch(opener, base + "/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    form = {
        "email": "admin@demo.phonlap.test",
        "password": password,
        "next": "/",
        "csrf_token": csrf,
    }
    signed_in = fetch(opener, base + "/login", data=urllib.parse.urlencode(form).encode())
    assert "ออกจากระบบ" in signed_in, "not signed in (or the Thai catalog is missing)"
    for path in PAGES:
        fetch(opener, base + path)
    files = [p for p in static.rglob("*") if p.is_file()]
    for path in files:
        body = fetch(opener, f"{base}/static/{path.relative_to(static).as_posix()}", raw=True)
        assert body == path.read_bytes(), path
    pdf = fetch(opener, base + "/areas/phuket/brief.pdf", raw=True)
    assert pdf.startswith(b"%PDF"), pdf[:100]
    print(f"wheel smoke: {len(PAGES)} pages, {len(files)} static files, a {len(pdf)}-byte PDF")


def wait_for(opener: urllib.request.OpenerDirector, url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            fetch(opener, url)
            return
        except (OSError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None, raw: bool = False
):  # noqa: ANN201
    with opener.open(urllib.request.Request(url, data=data), timeout=60) as response:
        assert response.status == 200, (url, response.status)
        body = response.read()
    return body if raw else body.decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
