"""The outcome map as drawn in Chromium, measured: its rings show, no label overlaps another label
or a mark, and no link runs through a label, at 1280×720 and 1920×1080, for the demo plan and for a
plan of 30 KRAs; on a phone the chain is a list instead."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, open_page, shoot, sign_in, unexpected_problems

SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})
BIG_AREA = "buriram"  # no demo plan, and no other browser test writes one there
GAP_STROKE = "rgb(180, 35, 24)"  # outcome_map.GAP_COLOUR
ADDED_STROKE = "rgb(0, 119, 187)"  # the ring of an element added since the first date
LONG = "ร้อยละของนักเรียนชั้นประถมศึกษาปีที่ {n} ที่อ่านออกเขียนคล่องและสื่อสารได้ตามเกณฑ์ของเขตพื้นที่"

# Boxes in page pixels: every label's text, every mark and ring; the labels a link runs through.
MEASURE = """(el, stroke) => {
  const box = e => { const b = e.getBoundingClientRect();
    return {l: b.left, t: b.top, r: b.right, b: b.bottom, text: e.textContent}; };
  const labels = [...el.querySelectorAll('g.annotation text.annotation-text')].map(box);
  const marks = [...el.querySelectorAll('g.scatterlayer path.point')]
    .filter(p => p.getBoundingClientRect().width > 0).map(box);
  // links: points every 4 px along each line, kept only when they fall inside a label
  const inside = (x, y, b) => b.l + 1 < x && x < b.r - 1 && b.t + 1 < y && y < b.b - 1;
  const crossed = new Set();
  el.querySelectorAll('g.scatterlayer path.js-line').forEach(path => {
    const m = path.getScreenCTM(), svg = path.ownerSVGElement, total = path.getTotalLength();
    for (let at = 0; at <= total; at += 4) {
      const p = path.getPointAtLength(at), q = svg.createSVGPoint();
      q.x = p.x; q.y = p.y; const s = q.matrixTransform(m);
      labels.forEach((b, i) => { if (inside(s.x, s.y, b)) { crossed.add(i); } });
    }
  });
  const links = [...crossed].map(i => labels[i].text);
  const rings = stroke => [...el.querySelectorAll('g.scatterlayer path.point')]
    .filter(p => p.style.stroke === stroke)
    .map(p => ({opacity: Number(getComputedStyle(p).strokeOpacity),
                width: p.getBoundingClientRect().width}));
  const legend = stroke => [...el.querySelectorAll('g.legend path.scatterpts')]
    .filter(p => p.style.stroke === stroke)
    .map(p => Number(getComputedStyle(p).strokeOpacity));
  return {labels, marks, links, gap: rings(stroke), legendGap: legend(stroke)};
}"""


def _overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (
        a["l"] + slack < b["r"]
        and b["l"] + slack < a["r"]
        and a["t"] + slack < b["b"]
        and b["t"] + slack < a["b"]
    )


def _measure(page: Page, ring_stroke: str = GAP_STROKE) -> dict:
    chart = page.locator(".map-figure .chart.map.drawn")
    expect(chart).to_be_visible()
    return chart.evaluate(MEASURE, ring_stroke)


def _problems(found: dict) -> list[str]:
    labels, marks = found["labels"], found["marks"]
    problems = [
        f"label over label: {a['text'][:30]} / {b['text'][:30]}"
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if _overlap(a, b)
    ]
    problems += [
        f"label over a mark: {a['text'][:30]}" for a in labels for m in marks if _overlap(a, m)
    ]
    problems += [f"link through a label: {text[:30]}" for text in found["links"]]
    return problems


def _make_big_plan(page: Page) -> int:
    """30 KRAs, 40 KPIs and 45 actions through the JSON API; returns how many gaps it has."""
    token = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
    base = f"{page.base_url}/api/v1/areas/{BIG_AREA}/plan"

    def post(path: str, body: dict) -> dict:
        answer = page.request.post(base + path, data=body, headers={"X-CSRF-Token": token})
        assert answer.status == 201, answer.text()
        return answer.json()

    post(
        "",
        {
            "title": "แผนบุรีรัมย์",
            "span_start_be": 2566,
            "span_end_be": 2570,
            "vision": LONG.format(n=1),
        },
    )
    kras = [
        post("/kras", {"code": f"KRA{n}", "title": f"ยุทธศาสตร์ที่ {n} " + LONG.format(n=n)})["id"]
        for n in range(1, 31)
    ]
    kpis = []
    for n in range(1, 41):
        kra_ids = [kras[(n - 1) % 27]] + ([kras[n % 27]] if n % 5 == 0 else [])
        kpi = {"code": f"KPI{n}", "name": LONG.format(n=n), "kind": "percentage"}
        kpis.append(
            post("/kpis", {**kpi, "period_type": "academic_year", "kra_ids": kra_ids})["id"]
        )
    for n in range(1, 46):
        links = {"kpi_ids": [kpis[(n - 1) % 36]]} if n <= 40 else {}
        if n in (41, 42):  # serves its KRA straight
            links = {"kra_ids": [kras[n - 40]]}
        title = f"โครงการพัฒนาครูและโรงเรียนเครือข่ายรุ่นที่ {n} เพื่อยกระดับการอ่าน"
        post("/actions", {"code": f"ACT{n}", "title": title, **links})
    return 3 + 4 + 3  # KRA28-30 measured by nothing, KPI37-40 served by nothing, ACT43-45 loose


@pytest.fixture(scope="module")
def big_plan_gaps(browser, server: str) -> int:  # noqa: ANN001
    page = open_page(browser, server)
    sign_in(page)
    page.goto(f"{server}/areas/{BIG_AREA}")
    gaps = _make_big_plan(page)
    page.context.close()
    return gaps


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_the_demo_map_has_no_overlaps(browser, server: str, size: dict) -> None:  # noqa: ANN001
    page = open_page(browser, server, size)
    sign_in(page)
    page.goto(f"{server}/areas/krabi/map")
    found = _measure(page)
    assert len(found["labels"]) > 30 and len(found["marks"]) > 30, found["labels"][:3]
    assert _problems(found) == []
    # every label is whole unless very long: KPI1's full name is on the map, over its lines
    assert any("KPI1 " in label["text"] for label in found["labels"])
    shoot(page, f"map-krabi-{size['width']}", full_page=True)
    page.context.close()
    assert unexpected_problems(page) == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_a_30_kra_map_rings_its_gaps_without_overlaps(
    browser,  # noqa: ANN001
    server: str,
    size: dict,
    big_plan_gaps: int,
) -> None:
    page = open_page(browser, server, size)
    sign_in(page)
    page.goto(f"{server}/areas/{BIG_AREA}/map")
    found = _measure(page)
    assert sum("KRA" in label["text"][:5] for label in found["labels"]) == 30
    assert _problems(found) == []
    assert len(found["gap"]) == big_plan_gaps
    assert all(ring["opacity"] > 0 and ring["width"] > 15 for ring in found["gap"])
    assert found["legendGap"] and all(opacity > 0 for opacity in found["legendGap"])
    assert page.locator(".gaps li").count() == big_plan_gaps
    shoot(page, f"map-30-kras-{size['width']}", full_page=True)
    page.context.close()
    assert unexpected_problems(page) == []


def test_a_comparison_rings_what_was_added(admin_page: Page, big_plan_gaps: int) -> None:
    page = admin_page
    page.goto(f"{page.base_url}/areas/{BIG_AREA}/map/compare?since=2020-01-01")
    found = _measure(page, ADDED_STROKE)
    assert len(found["gap"]) >= 30  # every KRA, KPI and action is new since 2020
    assert all(ring["opacity"] > 0 and ring["width"] > 15 for ring in found["gap"])
    assert found["legendGap"] and all(opacity > 0 for opacity in found["legendGap"])


def test_a_phone_shows_the_chain_as_a_list(phone: Page) -> None:
    page = phone
    page.goto(f"{page.base_url}/areas/krabi/map")
    chain = page.locator(".map-chain")
    expect(chain).to_be_visible()
    expect(page.locator(".map-figure")).to_be_hidden()
    kra = chain.locator(".chain-kras > li").first
    expect(kra).to_contain_text("KRA1")
    expect(kra.locator(".chain-kpis > li").first).to_contain_text("KPI")
    expect(kra.locator(".chain-actions > li").first).to_contain_text("ACT")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], wide
    shoot(page, "map-krabi-phone")
    shoot(page, "map-krabi-phone-full", full_page=True)
