"""Live updates across browsers: a projector's present page and another editor's plan page
follow an edit made in a third browser context, without a reload; the present page's keys."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import open_page, shoot, sign_in, unexpected_problems

AREA = "/areas/mae-hong-son"
NEW_TITLE = "อ่านคล่องทุกคน"


def test_a_present_page_follows_an_edit_made_in_another_browser(browser, server: str) -> None:  # noqa: ANN001
    projector = open_page(browser, server, {"width": 1280, "height": 720})
    watcher = projector.context.new_page()  # a second tab: someone else's plan editor
    editor = open_page(browser, server)
    try:
        sign_in(projector)
        sign_in(editor)
        projector.goto(server + AREA + "/present")
        expect(projector.locator("#present-map .chart.map.drawn")).to_be_visible()
        expect(projector.locator("html")).to_have_attribute("data-live-state", "on")
        projector.evaluate("window.sameDocument = true")  # gone if the page reloads
        watcher.goto(server + AREA + "/plan")
        expect(watcher.locator("html")).to_have_attribute("data-live-state", "on")

        editor.goto(server + AREA + "/plan")
        row = editor.locator("#section-kras li.element").first
        row_id = row.get_attribute("id")
        row.get_by_role("button", name=re.compile("^แก้ไข")).click()
        form = editor.locator(f"#{row_id} form")
        form.locator("input[name=title]").fill(NEW_TITLE)
        form.get_by_role("button", name="บันทึก").click()
        expect(editor.locator(f"#{row_id}")).to_contain_text(NEW_TITLE)

        # the projector redraws the map by itself; the other editor's row follows
        expect(
            projector.locator("#present-map .annotation-text", has_text=NEW_TITLE)
        ).to_have_count(1)
        expect(projector.locator("#present-map .chart.map.drawn")).to_be_visible()
        expect(watcher.locator(f"#{row_id}")).to_contain_text(NEW_TITLE)
        assert projector.evaluate("window.sameDocument") is True
        assert watcher.evaluate("document.querySelector('#section-kras .editing') === null")
        shoot(projector, "present-map-mae-hong-son")

        # N: the next view (the KPI board); ←: the period before
        period = projector.locator(".present-period").inner_text()
        projector.keyboard.press("n")
        expect(projector.locator("#present-board")).to_be_visible()
        expect(projector.locator("#present-map")).to_be_hidden()
        expect(projector.locator("[data-show=board]")).to_have_attribute("aria-pressed", "true")
        assert projector.locator("#present-board .kpi-card").count() > 3
        projector.keyboard.press("ArrowLeft")
        expect(projector.locator(".present-period")).not_to_have_text(period)
        expect(projector.locator("#present-board")).to_be_visible()  # the view stays
        assert "period=" in projector.url
        shoot(projector, "present-board-mae-hong-son")
        projector.keyboard.press("n")
        expect(projector.locator("#present-changes")).to_be_visible()
        expect(projector.locator("#present-changes li").first).to_contain_text(NEW_TITLE)
        assert projector.evaluate("window.sameDocument") is True
        # large type: readable from the back of the room
        size = projector.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 18
        assert projector.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        problems = unexpected_problems(projector) + unexpected_problems(editor)
        projector.context.close()
        editor.context.close()
    assert problems == []


def test_the_map_replays_period_by_period(browser, server: str) -> None:  # noqa: ANN001
    page = open_page(browser, server)
    try:
        sign_in(page)
        page.goto(server + AREA + "/map")
        expect(page.locator("#map-view .chart.map.drawn")).to_be_visible()
        slider = page.locator("input.period-slider")
        expect(slider).to_be_visible()
        title = page.locator("#map-h")
        first = page.locator("#map-period option").first.inner_text()
        slider.fill("0")
        expect(title).to_contain_text(first)
        expect(page.locator("#map-view .chart.map.drawn")).to_be_visible()
        assert "period=" in page.url
        assert page.locator("#map-view svg.main-svg").count() >= 1
        assert page.locator(".modebar-btn").count() == 2  # PNG and SVG downloads
    finally:
        problems = unexpected_problems(page)
        page.context.close()
    assert problems == []


def test_a_resync_event_reloads_the_live_parts_of_the_page(browser, server: str) -> None:  # noqa: ANN001
    """The server says `resync` when a stream fell behind or its worker's link to the database
    had a gap: the page reloads what it shows at once, without waiting for a reconnection."""
    page = open_page(browser, server, {"width": 1280, "height": 720})
    # This stream sends `ready` then `resync`, then ends; the browser would reconnect a minute
    # later, so a reload seen before that came from the `resync` event.
    stream = "retry: 60000\nevent: ready\ndata: {}\n\nevent: resync\ndata: {}\n\n"
    try:
        sign_in(page)
        page.route(
            "**/areas/*/events",
            lambda route: route.fulfill(
                status=200, headers={"Content-Type": "text/event-stream"}, body=stream
            ),
        )
        with page.expect_request(lambda r: "part=map" in r.url, timeout=10_000) as reload:
            page.goto(server + AREA + "/present")
        assert reload.value.headers.get("hx-request") == "true"
        expect(page.locator("#present-map .chart.map.drawn")).to_be_visible()
    finally:
        # the SSE extension logs the planted stream's end as an error event
        problems = [p for p in unexpected_problems(page) if p != "console: [object Event]"]
        page.context.close()
    assert problems == []
