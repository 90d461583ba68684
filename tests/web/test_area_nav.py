"""The area navigation: each reader sees the area's pages they may open, the current one marked,
and the links that used to lead readers to the editor's 403 now lead them to what they may read."""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.middleware import LANG_COOKIE
from app.web.area_nav import AREA_PAGES
from tests import factories as f
from tests.conftest import sign_in

EVERY_PAGE = (
    "",
    "plan",
    "problems",
    "progress",
    "units",
    "map",
    "present",
    "workshops",
    "learning",
    "timeline",
    "committee",
    "history",
)
SHOWN = {  # persona -> the tabs it sees on Phuket
    "viewer": (
        "",
        "problems",
        "progress",
        "units",
        "map",
        "present",
        "learning",
        "timeline",
        "committee",
        "history",
    ),
    "reviewer": (
        "",
        "problems",
        "progress",
        "units",
        "map",
        "present",
        "learning",
        "timeline",
        "committee",
        "history",
    ),
    "editor": (
        "",
        "plan",
        "problems",
        "progress",
        "units",
        "map",
        "present",
        "learning",
        "timeline",
        "committee",
        "history",
    ),
    "facilitator": (
        "",
        "problems",
        "progress",
        "units",
        "map",
        "present",
        "workshops",
        "learning",
        "timeline",
        "committee",
        "history",
    ),
    "admin": EVERY_PAGE,
}
ROLES = {"viewer": "phuket", "reviewer": None, "editor": "phuket", "facilitator": "phuket"}


def nav(html: str) -> str:
    found = re.search(r'<nav class="area-nav".*?</nav>', html, re.S)
    return found.group(0) if found else ""


def tabs(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', nav(html))


def href(page: str) -> str:
    return f"/areas/phuket/{page}".rstrip("/")


@pytest.fixture
def as_persona(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> Callable[[str], TestClient]:
    def make(persona: str) -> TestClient:
        if persona == "admin":
            return client
        user = f.make_user(session, persona, ROLES[persona])
        return sign_in(app_client(), session, user)

    return make


def test_the_list_names_each_page_once_in_the_order_of_the_brief() -> None:
    assert tuple(p.segment for p in AREA_PAGES) == EVERY_PAGE


@pytest.mark.parametrize("persona", list(SHOWN))
def test_each_reader_sees_the_pages_they_may_open_and_each_of_them_opens(
    persona: str, as_persona: Callable[[str], TestClient], session: Session
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    browser = as_persona(persona)
    shown = tabs(browser.get("/areas/phuket").text)
    assert shown == [href(p) for p in SHOWN[persona]]
    for url in shown:
        assert browser.get(url).status_code == 200, url
    for page in set(EVERY_PAGE) - set(SHOWN[persona]):
        assert browser.get(href(page)).status_code == 403, page


def test_the_current_page_is_marked_and_so_is_the_section_of_a_page_within_it(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "phuket", kras=1)
    kpi = f.make_kpi(session, plan, "KPI7")
    progress = nav(client.get("/areas/phuket/progress").text)
    assert re.findall(r'aria-current="(\w+)">([^<]+)<', progress) == [("page", "ความก้าวหน้า")]
    one_kpi = nav(client.get(f"/areas/phuket/progress/kpis/{kpi.id}").text)
    assert re.findall(r'aria-current="(\w+)">([^<]+)<', one_kpi) == [("true", "ความก้าวหน้า")]
    reflections = nav(client.get("/areas/phuket/reflections").text)
    assert re.findall(r'aria-current="(\w+)">([^<]+)<', reflections) == [("true", "การเรียนรู้")]
    overview = nav(client.get("/areas/phuket").text)
    assert re.findall(r'aria-current="(\w+)">([^<]+)<', overview) == [("page", "ภาพรวม")]


def test_the_navigation_is_a_landmark_named_for_the_area_in_the_readers_language(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    assert 'aria-label="หน้าของพื้นที่ภูเก็ต"' in nav(client.get("/areas/phuket/map").text)
    client.cookies.set(LANG_COOKIE, "en")
    english = nav(client.get("/areas/phuket/map").text)
    assert 'aria-label="Pages of Phuket"' in english and ">Results chain map<" in english


def test_pages_outside_an_area_and_the_projector_have_no_area_navigation(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    for url in ("/", "/review", "/review/briefs", "/indicators", "/areas/phuket/present"):
        assert 'class="area-nav"' not in client.get(url).text, url


def test_the_map_and_projector_of_an_area_without_a_plan_say_so(
    as_persona: Callable[[str], TestClient],
) -> None:
    for persona, start in (("admin", True), ("reviewer", False)):
        browser = as_persona(persona)
        for url in ("/areas/trat/map", "/areas/trat/present"):
            page = browser.get(url)
            assert page.status_code == 200, url
            assert "พื้นที่นี้ยังไม่มีแผน" in page.text
            assert ('href="/areas/trat/plan"' in page.text) is start


def test_an_agency_loaded_as_reference_data_has_a_history_page(
    client: TestClient, session: Session
) -> None:
    agency = f.agency(session, "phuket")
    page = client.get(f"/areas/phuket/history/agency/{agency.id}")
    assert page.status_code == 200
    assert agency.name_th in page.text and "ยังไม่มีการบันทึกการเปลี่ยนแปลง" in page.text
    other = f.agency(session, "krabi")
    assert client.get(f"/areas/phuket/history/agency/{other.id}").status_code == 404
    assert client.get("/areas/phuket/history/agency/999999").status_code == 404
    assert client.get("/areas/phuket/history/nonsense/1").status_code == 404


def test_the_review_sends_editors_to_the_plan_and_other_readers_to_what_they_may_read(
    as_persona: Callable[[str], TestClient], session: Session
) -> None:
    plan = f.make_full_plan(session, "phuket", kras=1)
    kpi = f.make_kpi(session, plan, "KPI8")  # measures no common indicator
    for persona, completeness, unmapped in (
        ("editor", "/areas/phuket/plan", f"/areas/phuket/plan#kpi-{kpi.id}"),
        ("reviewer", "/areas/phuket", f"/areas/phuket/progress/kpis/{kpi.id}"),
        ("viewer", "/areas/phuket", f"/areas/phuket/progress/kpis/{kpi.id}"),
    ):
        client = as_persona(persona)
        page = client.get("/review").text
        row = re.search(r'<tr id="review-phuket">(.*?)</tr>', page, re.S).group(1)
        assert f'<td class="num"><a href="{completeness}">' in row, persona
        # the review counts the area's unmapped KPIs; their list sends each reader onwards
        assert 'href="/indicators/unmapped#unmapped-phuket"' in page, persona
        assert f'href="{unmapped}"' in client.get("/indicators/unmapped").text, persona


def test_readers_follow_the_checks_and_the_map_to_the_overview_and_land_on_the_element(
    as_persona: Callable[[str], TestClient], session: Session
) -> None:
    plan = f.make_full_plan(session, "phuket", kras=2)
    f.make_kpi(session, plan, "KPI9")  # a gap: no action serves it, no baseline
    viewer = as_persona("viewer")
    overview = viewer.get("/areas/phuket").text
    ids = set(re.findall(r'id="([^"]+)"', overview))
    checks = overview[overview.index('id="plan-checks"') :]
    checks = checks[: checks.index("</aside>")]
    links = re.findall(r'href="([^"]+)"', checks)
    assert links and all(link.startswith("#") and link[1:] in ids for link in links), links
    map_page = viewer.get("/areas/phuket/map").text
    assert "/areas/phuket/plan" not in map_page
    anchors = re.findall(r"/areas/phuket#([\w-]+)", map_page)
    assert anchors and set(anchors) <= ids, set(anchors) - ids
