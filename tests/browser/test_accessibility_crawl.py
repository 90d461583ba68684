"""axe on every kind of page a signed-in administrator can reach from home, in Thai and English.

test_accessibility.py checks named pages in named states (forms open, errors shown); this crawl
makes sure no page was left out of that list. Like tests/web/test_crawl.py it follows same-site
links breadth first, but opens one page per path pattern (ids as {id}, the query ignored), so
the run stays near a hundred pages per language.
"""

import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import axe_problems, follow, sign_in

MAX_PAGES = 100  # per language; the demo has about that many path patterns
SKIP = re.compile(r"^/(static|logout|docs)|/events$|\.(xlsx|csv|pdf|json)$|/(export|template)(/|$)")


def _pattern(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def _links(page: Page) -> list[str]:
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('a[href]:not([download])')].map(a => a.href)"
    )
    host = urlsplit(page.base_url).netloc
    paths = []
    for href in hrefs:
        url = urlsplit(urldefrag(href)[0])
        if url.netloc == host and not SKIP.search(url.path):
            paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


@pytest.mark.parametrize("language", ["ไทย", "English"])
def test_every_page_reached_from_home_has_no_serious_violation(page: Page, language: str) -> None:
    sign_in(page)
    page.goto(page.base_url + "/")
    follow(page, page.get_by_role("button", name=language))
    queue, seen, problems = deque(["/"]), {_pattern("/")}, {}
    opened = 0
    while queue and opened < MAX_PAGES:
        path = queue.popleft()
        response = page.goto(page.base_url + path)
        opened += 1
        if (
            response is None
            or response.status >= 400
            or "text/html" not in (response.headers.get("content-type", ""))
        ):
            continue
        if found := axe_problems(page):
            problems[path] = found
        for link in _links(page):
            key = _pattern(urlsplit(link).path)
            if key not in seen:
                seen.add(key)
                queue.append(link)
    assert opened > 40, f"the crawl found only {opened} pages"
    assert problems == {}
