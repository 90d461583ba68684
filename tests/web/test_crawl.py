"""Every screen found, and no link that leads its reader to a refusal.

For each persona a client starts at the home page and follows every same-site `<a href>` it is
shown (GET only), breadth first. Two things must hold:

- every area page of an area the persona may read (overview, progress, map, present, learning,
  timeline, history; the plan editor for editors, workshop sessions for facilitators) is
  reachable from home within two clicks;
- no link the persona sees answers 403, 404 or a server error;
- every area page it opens carries the area navigation.

The demo plans are loaded once for the module (the crawl only reads), with an open workshop
session on Phuket so its board is crawled too.
"""

import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import get_session, sessions_on
from app.main import create_app
from app.models import User
from app.services import seeding
from app.services.reference import default_group, group_areas
from tests import conftest
from tests import factories as f

MAX_PAGES = 600  # per persona: the crawl stays fast
PER_PATTERN = 2  # pages fetched per path pattern (ids as {id}): /history/kpi/7, /history/kpi/8 ...
SKIP_PREFIXES = ("/static/",)
SKIP_PATHS = ("/logout",)
SKIP_SUFFIXES = ("/events",)  # an event stream never ends

ALWAYS = ("", "/progress", "/map", "/present", "/learning", "/timeline", "/history")
PERSONAS = {  # persona -> (role, area slug or None for every area, extra area pages)
    "admin": ("admin", None, ("/plan", "/workshops")),
    "reviewer": ("reviewer", None, ()),
    "editor": ("editor", "phuket", ("/plan",)),
    "viewer": ("viewer", "phuket", ()),
    "facilitator": ("facilitator", "phuket", ("/workshops",)),
    "editor_scoped": ("editor", "phuket", ()),  # limited to the primary ESA
}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.area_nav: str | None = None  # the area navigation's label, when the page has one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav" and dict(attrs).get("class") == "area-nav":
            self.area_nav = dict(attrs).get("aria-label")
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def same_site(href: str) -> str | None:
    """The path and query a link leads to on this site, or None (other host, anchor, mailto)."""
    url, _ = urldefrag(href)
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or not parts.path:
        return None
    if parts.netloc and parts.netloc != "testserver":
        return None
    if not parts.path.startswith("/"):
        return None
    path = parts.path
    if path.startswith(SKIP_PREFIXES) or path in SKIP_PATHS or path.endswith(SKIP_SUFFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def is_area_page(url: str) -> bool:
    """A page of one area (the projector's full screen has no navigation, by design)."""
    path = urlsplit(url).path
    return re.fullmatch(r"/areas/[a-z-]+(/.*)?", path) is not None and not path.endswith("/present")


def pattern(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


@dataclass
class Crawl:
    depth: dict[str, int] = field(default_factory=dict)  # path -> clicks from home
    status: dict[str, int] = field(default_factory=dict)  # url fetched -> its status
    linked_from: dict[str, str] = field(default_factory=dict)  # url -> the first page showing it
    without_nav: list[str] = field(default_factory=list)  # area pages lacking the area navigation

    def broken(self) -> list[str]:
        return [
            f"{code} {url} (linked from {self.linked_from.get(url)})"
            for url, code in self.status.items()
            if code in (403, 404) or code >= 500
        ]


def crawl(client: TestClient, limit: int = MAX_PAGES) -> Crawl:
    """Breadth first from "/"; each path is fetched once (with the first query string seen), and
    at most PER_PATTERN paths that differ only in their ids."""
    result = Crawl(depth={"/": 0})
    sampled: Counter[str] = Counter()
    queue: deque[str] = deque(["/"])
    while queue and len(result.status) < limit:
        url = queue.popleft()
        response = client.get(url, follow_redirects=True)
        result.status[url] = response.status_code
        if "text/html" not in response.headers.get("content-type", ""):
            continue  # a download (.pdf, .xlsx, .csv) or JSON: fetched, not parsed
        parser = Links()
        parser.feed(response.text)
        if is_area_page(url) and response.status_code == 200 and parser.area_nav is None:
            result.without_nav.append(url)
        here = result.depth[urlsplit(url).path]
        for href in parser.hrefs:
            target = same_site(href)
            if target is None:
                continue
            path = urlsplit(target).path
            if path in result.depth:
                continue
            result.depth[path] = here + 1
            if sampled[pattern(path)] >= PER_PATTERN:
                continue  # same page for another element: its permission is the same
            sampled[pattern(path)] += 1
            result.linked_from[target] = url
            queue.append(target)
    return result


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[dict[str, User]]:
    """The demo plans, an open workshop on Phuket, and one account per persona."""
    with Session(engine, expire_on_commit=False) as session:
        seeding.seed_demo(session)
        workshop = f.make_workshop(session, "phuket")
        guest, _ = f.make_guest(session, workshop)
        f.make_contribution(session, workshop, guest)
        users = {
            name: f.make_scoped_editor(session, slug)
            if name == "editor_scoped"
            else f.make_user(session, role, slug)
            for name, (role, slug, _) in PERSONAS.items()
        }
    yield users
    conftest._clean(engine)


@pytest.fixture(scope="module")
def web(engine: Engine) -> Iterator[TestClient]:
    application = create_app()

    application.dependency_overrides[get_session] = sessions_on(engine)
    with TestClient(application, raise_server_exceptions=False) as client:
        yield client


def readable_slugs(engine: Engine, persona: str) -> list[str]:
    _, slug, _ = PERSONAS[persona]
    if slug is not None:
        return [slug]
    with Session(engine) as session:  # global roles: the areas of the home page's group
        return [a.slug for a in group_areas(session, default_group(session))]


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_area_page_is_two_clicks_from_home_and_no_link_is_refused(
    persona: str, demo: dict[str, User], web: TestClient, engine: Engine
) -> None:
    web.cookies.clear()
    web.headers.pop(conftest.auth.CSRF_HEADER, None)
    with Session(engine, expire_on_commit=False) as session:
        conftest.sign_in(web, session, demo[persona])
    result = crawl(web)
    assert result.status["/"] == 200
    extra = PERSONAS[persona][2]
    far = [
        f"/areas/{slug}{page}"
        for slug in readable_slugs(engine, persona)
        for page in (*ALWAYS, *extra)
        if result.depth.get(f"/areas/{slug}{page}", 99) > 2
    ]
    assert far == [], f"{persona}: not within two clicks of home"
    assert result.broken() == [], f"{persona}: links that refuse their reader"
    assert result.without_nav == [], f"{persona}: area pages without the area navigation"
