"""The projector (`/areas/{slug}/present`) read from the back of the room: every piece of text
at least 7:1 against what is behind it and at least 24 px at 1920×1080, every view on one
screen at 1920×1080 and 1280×720 (the workshop's QR panel beside its cards, not above them),
no serious axe violation, and the workshop tab coming and going live."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    PHONE,
    axe_problems,
    follow,
    open_page,
    shoot,
    sign_in,
    unexpected_problems,
)

AREA = "/areas/phuket"
LIVE = 10_000
SIZES = [(1920, 1080), (1280, 720)]
VIEWS = ("map", "board", "changes", "workshop")
CONTRIBUTIONS = (
    ("problem", "นักเรียนย้ายตามผู้ปกครองที่ทำงานโรงแรมช่วงนอกฤดูท่องเที่ยว ขาดเรียนต่อเนื่องหลายสัปดาห์"),
    ("problem", "ครูภาษาอังกฤษไม่พอในโรงเรียนขนาดเล็ก"),
    ("kpi_idea", "ร้อยละของนักเรียนที่กลับมาเรียนต่อหลังเปิดภาคเรียน"),
    ("action_idea", "ครูเยี่ยมบ้านนักเรียนกลุ่มเสี่ยงทุกเดือน ร่วมกับ อสม. และท้องถิ่น"),
    ("question", "หลักสูตรเด็กตงห่อช่วยให้เด็กอยู่ในระบบนานขึ้นหรือไม่"),
)

# Every text on the screen (HTML text by its colour over the first opaque background behind it,
# the map's SVG labels by their fill over the map's card), with its size and where it is.
TEXTS = """() => {
  const rgba = s => { const m = s.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const behind = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = out.map((v, i) => v * (1 - c[3]) + c[i] * c[3]);
    return out;
  };
  const ratio = (fg, bg) => {
    const mixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const a = lum(mixed), b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const out = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el) || el.closest("[hidden], title")) continue;
    seen.add(el);
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") continue;
    const svg = el.closest("svg");
    const fg = rgba(svg ? style.fill : style.color);
    const bg = behind(svg ? el.closest(".chart") : el);
    out.push({text: node.textContent.trim().slice(0, 30), tag: el.tagName.toLowerCase(), svg: !!svg,
              ratio: ratio(fg, bg), size: parseFloat(style.fontSize), bottom: box.bottom, right: box.right});
  }
  return out;
}"""


def _sign_in_at(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + AREA + "/present")
    expect(page.locator("#present-map .chart.map.drawn")).to_be_visible()


def _open_session(page: Page, title: str) -> str:
    page.goto(page.base_url + AREA + "/workshops")
    page.locator("input[name=title]").fill(title)
    follow(page, page.locator("form.form button.primary"))
    return page.locator(".join-code").inner_text().split()[-1]


def _close_session(page: Page) -> None:
    page.locator("details.close-session > summary").click()
    page.locator("details.close-session button.danger").click()
    expect(page.locator(".state-ended")).to_be_visible()


def _post(browser, server: str, code: str, name: str, posts) -> None:  # noqa: ANN001
    guest = open_page(browser, server, PHONE)
    try:
        guest.goto(f"{server}/join/{code.replace('-', '')}")
        guest.locator("input[name=display_name]").fill(name)
        follow(guest, guest.locator("form.guest-form button.primary"))
        for n, (kind, text) in enumerate(posts, start=1):
            guest.locator(f"input[name=kind][value={kind}]").check()
            guest.locator("textarea[name=text]").fill(text)
            guest.locator("form.contribute button[type=submit]").click()
            expect(guest.locator(".mine-item")).to_have_count(n)
        assert unexpected_problems(guest) == []
    finally:
        guest.context.close()


@pytest.fixture(scope="module")
def workshop_running(browser, server: str) -> Iterator[str]:  # noqa: ANN001
    """An open session in Phuket with contributions from two guests; closed afterwards."""
    facilitator = open_page(browser, server)
    sign_in(facilitator)
    code = _open_session(facilitator, "World Café รอบที่ 2: ทุนของพื้นที่")
    _post(browser, server, code, "ครูสมศรี", CONTRIBUTIONS[:3])
    _post(browser, server, code, "ผอ.วิชัย (สพป.ภูเก็ต)", CONTRIBUTIONS[3:])
    yield code
    facilitator.reload()
    _close_session(facilitator)
    facilitator.context.close()


def test_the_workshop_tab_comes_and_goes_live_without_a_reload(
    browser: object, server: str
) -> None:
    projector = open_page(browser, server, {"width": 1280, "height": 720})
    facilitator = open_page(browser, server)
    try:
        _sign_in_at(projector)
        expect(projector.locator("html")).to_have_attribute("data-live-state", "on")
        tab = projector.locator("#present-tab-workshop")
        expect(tab).to_be_hidden()
        projector.evaluate("window.sameDocument = true")  # gone if the page reloads

        sign_in(facilitator)
        code = _open_session(facilitator, "ทดสอบแท็บสด")
        expect(tab).to_be_visible(timeout=LIVE)
        tab.click()
        expect(projector.locator("#present-workshop .join-code")).to_contain_text(code)
        expect(projector.locator("#present-workshop .join-qr svg")).to_be_visible()
        # the test server listens on 127.0.0.1: the panel says no phone can reach it
        expect(projector.locator("#present-workshop .join-warning")).to_contain_text(
            "PHONLAP_PUBLIC_URL"
        )
        _post(browser, server, code, "ครูมาลี", CONTRIBUTIONS[:1])
        expect(projector.locator("#present-workshop .column-problem .contribution")).to_have_count(
            1, timeout=LIVE
        )

        _close_session(facilitator)
        expect(tab).to_be_hidden(timeout=LIVE)
        expect(projector.locator("#present-workshop")).to_have_count(0)
        expect(projector.locator("#present-map")).to_be_visible()  # back to a view that exists
        assert projector.evaluate("window.sameDocument") is True
    finally:
        for page in (projector, facilitator):
            page.context.close()
            assert unexpected_problems(page) == []


def _on_screen(page: Page, selector: str, height: int) -> None:
    for box in page.locator(selector).evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().toJSON())"
    ):
        assert box["top"] >= 0 and box["bottom"] <= height, (selector, box)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["1920x1080", "1280x720"])
def test_every_view_reads_from_the_back_of_the_room(
    browser: object, server: str, workshop_running: str, width: int, height: int
) -> None:
    page = open_page(browser, server, {"width": width, "height": height})
    try:
        _sign_in_at(page)
        for view in VIEWS:
            page.locator(f"[data-show={view}]").click()
            expect(page.locator(f"#present-{view}")).to_be_visible()
            if view == "map":
                expect(page.locator("#present-map .chart.map.drawn")).to_be_visible()
            texts = page.evaluate(TEXTS)
            assert len(texts) > 10, view
            dim = [(t["text"], round(t["ratio"], 2)) for t in texts if t["ratio"] < 7]
            assert dim == [], (view, dim)
            if width == 1920:  # the map's labels are the figure's own (app/outcome_map.py)
                small = [(t["text"], t["size"]) for t in texts if t["size"] < 24 and not t["svg"]]
                assert small == [], (view, small)
            scroll = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            assert scroll == [width, height], (view, scroll)  # one screen, nothing to scroll
            if view == "board":
                assert page.locator(".kpi-card").count() >= 8
                _on_screen(page, ".kpi-card", height)
            if view == "workshop":
                _on_screen(page, "#present-workshop .join-panel", height)
                _on_screen(page, "#present-workshop .join-qr svg", height)
                _on_screen(page, "#present-workshop .join-warning", height)
                _on_screen(page, "#present-workshop .contribution:first-child", height)
                expect(page.locator("#present-workshop .join-code")).to_contain_text(
                    workshop_running
                )
                assert page.locator("#present-workshop .contribution").count() == len(CONTRIBUTIONS)
            assert axe_problems(page) == [], view
            shoot(page, f"present-{view}-phuket-{width}x{height}")
    finally:
        page.context.close()
    assert unexpected_problems(page) == []
