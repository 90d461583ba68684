import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import seeding
from tests import factories as f
from tests.test_i18n import WORKSHOP_AREAS_IN_THAI_ORDER


def test_home_lists_the_eleven_workshop_areas_in_thai_order(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    names = re.findall(r'<a href="[^"]*/areas/[a-z-]+" lang="th">([^<]+)</a>', page.text)
    assert names == WORKSHOP_AREAS_IN_THAI_ORDER
    assert "สตูล" not in page.text  # not in the default group


def test_home_shows_completeness_and_demo_badge(client: TestClient, session: Session) -> None:
    seeding.seed_demo(session)
    page = client.get("/").text
    row = page[page.index('id="area-phuket"') :]
    row = row[: row.index("</tr>")]
    assert "ข้อมูลตัวอย่าง" in row and "100%" in row and "ต้องแก้ 1 เรื่อง" in row
    trat = page[page.index('id="area-trat"') :]
    assert "ยังไม่มีแผน" in trat[: trat.index("</tr>")]


def test_a_demo_plan_renders_as_one_readable_page(client: TestClient, session: Session) -> None:
    seeding.seed_demo(session)
    data = seeding.load_yaml(seeding.SEEDS / "demo" / "phuket.yaml")
    page = client.get("/areas/phuket")
    assert page.status_code == 200
    text = page.text
    assert data["plan"]["title"] in text and data["plan"]["vision"].strip() in text
    for kra in data["kras"]:
        assert kra["title"] in text
    for kpi in data["kpis"]:
        assert kpi["name"] in text
    for action in data["actions"]:
        assert action["title"] in text
    assert "ข้อมูลตัวอย่าง" in text
    assert "29 พ.ย. 2565" in text  # designation date in the Buddhist Era


def test_unknown_area_is_a_clean_404_page(client: TestClient) -> None:
    for url in (
        "/areas/atlantis",
        "/areas/atlantis/plan",
        "/areas/krabi/plan/kpis/abc/edit",
        "/areas/krabi/plan/nonsense/1/edit",
    ):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "ไม่พบหน้าที่ต้องการ" in page.text and "Traceback" not in page.text


def test_healthz_reports_the_database(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["dialect"] in ("sqlite", "postgresql")


def test_language_switch_is_remembered(client: TestClient, session: Session) -> None:
    f.make_full_plan(session)
    assert 'lang="th"' in client.get("/areas/krabi").text
    switched = client.post(
        "/lang", data={"lang": "en", "next": "/areas/krabi"}, follow_redirects=False
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/areas/krabi"
    page = client.get("/areas/krabi").text
    assert '<html lang="en">' in page and "Key result areas (KRA)" in page
    assert "ผลลัพธ์หลัก (KRA)" not in page
    assert "Academic year 2022" in page  # AY2565 shown in C.E. in English
    client.post("/lang", data={"lang": "th", "next": "/"})
    assert "ปีการศึกษา 2565" in client.get("/areas/krabi").text


def test_language_switch_refuses_to_redirect_off_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post("/lang", data={"lang": "en", "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_pages_load_nothing_from_another_host(client: TestClient, session: Session) -> None:
    seeding.seed_demo(session)
    for url in ("/", "/areas/phuket", "/areas/phuket/plan", "/areas/trat/plan"):
        html = client.get(url).text
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert external == [], (url, external)


def test_own_static_files_are_linked_by_their_digest_and_cached_long(client: TestClient) -> None:
    page = client.get("/account").text
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    assert re.search(r'src="/static/js/app\.js\?v=[0-9a-f]{12}"', page)
    assert "immutable" in client.get(css).headers["cache-control"]
    assert "immutable" not in client.get("/static/css/app.css").headers["cache-control"]


def test_static_vendor_files_are_served_with_long_cache(client: TestClient) -> None:
    js = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert js.status_code == 200 and "immutable" in js.headers["cache-control"]
    font = client.get("/static/vendor/fonts/sarabun/sarabun-thai-400-normal.woff2")
    assert font.status_code == 200 and len(font.content) > 5000
