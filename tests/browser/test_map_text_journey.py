"""Plan text that looks like markup is drawn on the outcome map as the text people typed: no
link to another site, no bold."""

from playwright.sync_api import Page, expect

LINK_TITLE = "<a href='//e.example'>x</a>"
BOLD_TITLE = "<b>bold</b>"


def _post(page: Page, path: str, body: dict) -> dict:
    """Through the JSON API with the signed-in browser's session and its page's CSRF token."""
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    answer = page.request.post(
        page.base_url + path, data=body, headers={"X-CSRF-Token": token or ""}
    )
    assert answer.status == 201, answer.text()
    return answer.json()


def test_a_kra_title_with_markup_is_drawn_as_text_on_the_map(admin_page: Page) -> None:
    page = admin_page
    page.goto(page.base_url + "/areas/satun")
    plan = {"title": "แผนสตูล", "span_start_be": 2566, "span_end_be": 2570, "vision": "สตูล"}
    _post(page, "/api/v1/areas/satun/plan", plan)
    _post(page, "/api/v1/areas/satun/plan/kras", {"code": "KRA1", "title": LINK_TITLE})
    _post(page, "/api/v1/areas/satun/plan/kras", {"code": "KRA2", "title": BOLD_TITLE})

    page.goto(page.base_url + "/areas/satun/map")
    chart = page.locator(".chart.map.drawn")
    expect(chart).to_be_visible()
    labels = chart.locator("g.annotation text.annotation-text")
    expect(labels.filter(has_text="KRA2")).to_have_text(f"KRA2 {BOLD_TITLE}")
    expect(labels.filter(has_text="KRA1")).to_contain_text("KRA1 <a")
    expect(labels.filter(has_text="KRA1")).to_contain_text("href='//e.example'>x</a>")
    links = chart.evaluate(
        """el => Array.from(el.querySelectorAll('a'))
            .map(a => a.getAttribute('href') || a.getAttribute('xlink:href'))
            .filter(Boolean)"""
    )
    assert not [href for href in links if "e.example" in href], links
    bold = chart.evaluate(
        """el => Array.from(el.querySelectorAll('g.textpoint tspan'))
            .concat(Array.from(el.querySelectorAll('text.annotation-text tspan')))
            .filter(t => (t.style.fontWeight || t.getAttribute('font-weight')) === 'bold')
            .map(t => t.textContent)"""
    )
    assert bold == []
