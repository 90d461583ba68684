"""A workshop: a facilitator opens a session, a guest joins from a 375 px phone without an
account, their contribution reaches the board without a reload, and the facilitator accepts it
into the plan in place."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, follow, full_loads, open_page, shoot
from tests.browser.test_phone import _phone_problems

LIVE = 20_000  # the event stream brings it at once; without one the board polls every 15 s


def _open(page: Page, title: str) -> str:
    page.goto(page.base_url + "/areas/krabi/workshops")
    page.locator("input[name=title]").fill(title)
    follow(page, page.locator("form.form button.primary"))
    return page.locator(".join-code").inner_text().split()[-1]


def test_a_guest_on_a_phone_posts_to_the_board_and_the_facilitator_accepts_it(
    admin_page: Page, browser: object, server: str
) -> None:
    board = admin_page
    code = _open(board, "World Café รอบที่ 1")
    expect(board.locator(".join-qr svg")).to_be_visible()
    guest = open_page(browser, server, PHONE)
    try:
        guest.goto(f"{server}/join")
        guest.locator("#join-code").fill(f"{code[:4].lower()} {code[5:].lower()}")
        follow(guest, guest.locator("form.guest-form button.primary"))
        guest.locator("input[name=display_name]").fill("ครูสมศรี")
        follow(guest, guest.locator("form.guest-form button.primary"))
        # only the chosen kind's fields: a problem's cause, a resource's dimension
        cause, dimensions = guest.locator(".for-problem"), guest.locator(".for-resource")
        expect(cause).to_be_hidden()
        expect(dimensions).to_be_hidden()
        guest.locator("input[name=kind][value=problem]").check()
        expect(cause).to_be_visible()
        expect(dimensions).to_be_hidden()
        guest.locator("input[name=kind][value=resource]").check()
        expect(cause).to_be_hidden()
        expect(dimensions).to_be_visible()
        guest.locator("input[name=kind][value=kpi_idea]").check()
        expect(dimensions).to_be_hidden()
        guest.locator("textarea[name=text]").fill("ร้อยละครูที่ใช้สื่อท้องถิ่น <b>ทุกภาค</b>")
        guest.locator("form.contribute button[type=submit]").click()
        expect(guest.locator(".mine-item")).to_have_count(1)
        expect(guest.locator(".notice")).to_be_visible()
        assert _phone_problems(guest) == []
        shoot(guest, "phone-workshop-guest")
        assert guest.problems == []
    finally:
        guest.context.close()
    card = board.locator(".column-kpi_idea .contribution")
    expect(card).to_contain_text("<b>ทุกภาค</b>", timeout=LIVE)  # escaped, shown as typed
    loads = full_loads(board)
    card.locator("button.primary").click()
    expect(card.locator(".badge.draft")).to_be_visible()
    expect(card.locator(".accepted a")).to_contain_text("KPI")
    assert loads == []
    shoot(board, "workshop-board")


def test_the_join_pages_fit_a_phone(phone: Page) -> None:
    phone.goto(phone.base_url + "/join")
    assert _phone_problems(phone) == []
    phone.goto(phone.base_url + "/join/ABCDEFGH")  # an unknown code: the form and a message
    expect(phone.locator("#join-code-error")).to_be_visible()
    assert _phone_problems(phone) == []


# whole-board reloads (GET, swapped and settled) counted in window.boardReloads
RELOADS_COUNTED = """() => {
  window.boardReloads = 0;
  document.body.addEventListener("htmx:afterSettle", (e) => {
    const config = e.detail.requestConfig;
    if (config && config.verb === "get" && e.detail.target && e.detail.target.id === "board") {
      window.boardReloads += 1;
    }
  });
}"""
RESYNC = "() => htmx.trigger('#board', 'resync')"  # as after a dropped connection


def test_a_vote_from_a_phone_shows_live_on_the_board(
    admin_page: Page, browser: object, server: str
) -> None:
    board = admin_page
    code = _open(board, "เวทีโหวต")
    guest = open_page(browser, server, PHONE)
    try:
        guest.goto(f"{server}/join/{code.replace('-', '')}")
        guest.locator("input[name=display_name]").fill("โต๊ะ 3")
        follow(guest, guest.locator("form.guest-form button.primary"))
        for text in ("ค่ายภาษา", "ห้องสมุดเคลื่อนที่"):
            guest.locator("input[name=kind][value=action_idea]").check()
            guest.locator("textarea[name=text]").fill(text)
            guest.locator("form.contribute button[type=submit]").click()
            expect(guest.locator(".notice")).to_be_visible()
        board.reload()
        board.locator(".vote-start summary").click()
        board.locator("select[name=scope]").select_option("kind:action_idea")
        board.locator("input[name=dots]").fill("2")
        follow(board, board.locator(".vote-start button.primary"))
        expect(board.locator("#vote")).to_contain_text("เปิดโหวตอยู่")
        # the page's poller (every 20 s, or at once as the phone comes back to the page) brings
        # the vote's section in out of band
        guest.evaluate("() => htmx.trigger('#guest-poll', 'poll')")
        item = guest.locator(".vote-item", has_text="ห้องสมุดเคลื่อนที่")
        item.locator("button.primary").focus()  # from the keyboard (or a screen reader)
        guest.keyboard.press("Enter")
        expect(guest.locator(".dots-left")).to_contain_text("เหลือ 1 จุด")
        # the line was swapped, and the focus is back on the button pressed, not lost
        expect(item.locator("button.primary")).to_be_focused()
        # that dot swapped only its line and the count in (out of band): the dot shows, it can
        # be taken back, and the other items' buttons stay as they were
        expect(item.locator(".my-dots")).to_have_text("●")
        expect(item.get_by_role("button", name=re.compile("ถอนจุด"))).to_be_visible()
        expect(guest.locator(".vote-item button.primary").first).to_be_enabled()
        expect(guest.locator("#guest-vote-slot")).to_have_count(1)
        shoot(guest, "phone-workshop-vote-one-dot")
        item = guest.locator(".vote-item", has_text="ห้องสมุดเคลื่อนที่")
        item.locator("button.primary").click()
        expect(guest.locator(".dots-left")).to_contain_text("เหลือ 0 จุด")
        expect(guest.locator(".vote-item button.primary").first).to_be_disabled()
        assert _phone_problems(guest) == []
        shoot(guest, "phone-workshop-vote")
        expect(board.locator("#vote .vote-results")).to_contain_text("ห้องสมุดเคลื่อนที่", timeout=LIVE)
        expect(board.locator(".column-action_idea .vote-dots").first).to_be_visible()
        shoot(board, "workshop-board-vote")
        # Closed, the vote leaves "Open a vote…" for the next one, also once the board has
        # reloaded itself (htmx's hx-preserve lost it there)
        board.evaluate(RELOADS_COUNTED)
        board.locator("form.vote-close button").click()
        expect(board.locator(".vote-start summary")).to_be_visible()
        board.evaluate(RESYNC)
        board.wait_for_function("() => window.boardReloads >= 1")
        expect(board.locator(".vote-start summary")).to_be_visible()
        # opened and half filled in, it stays so while the board reloads again
        board.locator(".vote-start summary").click()
        board.locator("input[name=dots]").fill("4")
        board.evaluate(RESYNC)
        board.wait_for_function("() => window.boardReloads >= 2")
        expect(board.locator(".vote-start input[name=dots]")).to_be_visible()
        expect(board.locator(".vote-start input[name=dots]")).to_have_value("4")
        assert guest.problems == []
    finally:
        guest.context.close()
