"""A World Café round from start to end: a facilitator sets up three tables, a projector shows
the session, three phones join by code; the facilitator starts a round, each phone is sent to
its table with a countdown and posts an idea, the host posts the table's summary; a vote opens,
the phones vote and the projector shows the dots live; the facilitator ends the round and a
phone's late post is refused with nothing sent."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, follow, open_page, shoot, sign_in, unexpected_problems
from tests.browser.test_phone import _phone_problems

PHONE_390 = {"width": 390, "height": 844}  # the screenshots' phone
PROJECTOR = {"width": 1920, "height": 1080}
LIVE = 20_000  # the event stream brings it at once; without one the board polls every 15 s
GUESTS = ("ครูหนึ่ง", "ครูสอง", "ครูสาม")
QUESTIONS = ("ทำอย่างไรให้เด็กอ่านออก", "ชุมชนช่วยอะไรได้บ้าง", "ครูต้องการอะไร")
IDEAS = ("อ่านกับยายทุกเย็น", "ห้องสมุดเคลื่อนที่ในวัด", "ครูพี่เลี้ยงการอ่าน")


def _join(phone: Page, code: str, name: str) -> None:
    phone.goto(f"{phone.base_url}/join/{code.replace('-', '')}")
    phone.locator("input[name=display_name]").fill(name)
    follow(phone, phone.locator("form.guest-form button.primary"))
    expect(phone.locator(".guest-who")).to_contain_text(name)


def test_a_full_world_cafe_round_with_a_vote(
    admin_page: Page, browser: object, server: str
) -> None:
    board = admin_page
    board.goto(board.base_url + "/areas/krabi/workshops")
    board.locator("input[name=title]").fill("World Café: การอ่านของเด็กกระบี่")
    follow(board, board.locator("form.form button.primary"))
    code = board.locator(".join-code").inner_text().split()[-1]
    projector = open_page(browser, server, PROJECTOR)
    phones = [open_page(browser, server, PHONE) for _ in GUESTS]
    try:
        sign_in(projector)
        projector.goto(server + "/areas/krabi/present")
        projector.locator("#present-tab-workshop").click()
        shown = projector.locator("#present-workshop")
        expect(shown.locator(".join-code")).to_contain_text(code)
        for phone, name in zip(phones, GUESTS, strict=True):
            _join(phone, code, name)

        # three tables, the first hosted by ครูหนึ่ง, who stays there
        board.reload()
        setup = board.locator(".cafe-tables-form")
        for n, question in enumerate(QUESTIONS, start=1):
            setup.locator(f"input[name=question_{n}]").fill(question)
        setup.locator("select[name=host_participant_id_1]").select_option(label=GUESTS[0])
        follow(board, setup.locator("button.primary"))
        expect(board.locator(".cafe-table")).to_have_count(3)
        board.locator("input[name=minutes]").fill("10")
        follow(board, board.locator(".cafe-start button.primary"))
        expect(board.locator("#cafe .countdown")).to_be_visible()
        expect(shown.locator(".countdown")).to_be_visible(timeout=LIVE)  # the projector, live
        shoot(board, "workshop-board-cafe", full_page=True)

        tables = []
        for n, phone in enumerate(phones):
            # the page's poller (every 20 s, or at once as the phone comes back to the page)
            # brings the round's section in out of band
            phone.evaluate("() => htmx.trigger('#guest-poll', 'poll')")
            heading = phone.locator(".go-to-table")
            if n == 0:
                expect(heading).to_have_text("คุณเป็นเจ้าภาพโต๊ะ 1 อยู่ประจำโต๊ะนี้")
            else:
                expect(heading).to_contain_text("ไปที่โต๊ะ")
            tables.append(heading.inner_text())
            time_left = phone.locator("#guest-round .countdown-time")
            expect(time_left).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))  # the script counts
            phone.locator("input[name=kind][value=action_idea]").check()
            phone.locator("form.contribute textarea[name=text]").fill(IDEAS[n])
            phone.locator("form.contribute button[type=submit]").click()
            expect(phone.locator(".notice")).to_be_visible()
        assert len(set(tables)) == 3  # host at 1, the two others spread over 2 and 3
        assert _phone_problems(phones[1]) == []
        phones[1].set_viewport_size(PHONE_390)
        shoot(phones[1], "phone-390-cafe-round", full_page=True)

        host = phones[0]
        host.locator(".cafe-summary-form textarea").fill("โต๊ะ 1: อ่านทุกวันกับครอบครัว")
        host.locator(".cafe-summary-form button.primary").click()
        expect(host.locator(".cafe-summary-form button.primary")).to_have_text("ส่งสรุปใหม่แทนฉบับเดิม")
        expect(shown.locator(".cafe-summary")).to_contain_text("อ่านทุกวัน", timeout=LIVE)

        board.locator(".vote-start summary").click()
        board.locator("select[name=scope]").select_option("kind:action_idea")
        board.locator("input[name=dots]").fill("1")
        follow(board, board.locator(".vote-start button.primary"))
        for phone in phones:
            phone.reload()
            item = phone.locator(".vote-item", has_text=IDEAS[1])
            item.locator("button.primary").click()
            expect(phone.locator(".dots-left")).to_contain_text("เหลือ 0 จุด")
        results = shown.locator("#vote .vote-results")
        expect(results).to_contain_text(IDEAS[1], timeout=LIVE)
        expect(shown.locator("#vote .vote-facts")).to_contain_text("3", timeout=LIVE)
        expect(shown.locator(".countdown-time")).to_have_text(re.compile(r"^\d+:\d\d$"))
        shoot(projector, "projector-1920-cafe-vote")

        board.locator("#cafe button[id^=round-end-]").click()
        expect(board.locator("#cafe .cafe-state")).to_contain_text("รอบที่ 1 จบเมื่อ")
        expect(shown.locator(".countdown")).to_have_count(0, timeout=LIVE)

        late = phones[2]  # its form still carries the round that just ended
        late.locator("input[name=kind][value=action_idea]").check()
        late.locator("form.contribute textarea[name=text]").fill("ส่งช้าไปหน่อย")
        late.locator("form.contribute button[type=submit]").click()
        expect(late.locator("#guest-panel .alert")).to_contain_text("รอบนี้จบแล้ว")
        expect(late.locator(".mine-item")).to_have_count(1)
        expect(late.locator("form.contribute textarea[name=text]")).to_have_value("ส่งช้าไปหน่อย")
        late.set_viewport_size(PHONE_390)
        shoot(late, "phone-390-cafe-late", full_page=True)
        for page in (projector, *phones):
            assert unexpected_problems(page) == []
    finally:
        for page in (projector, *phones):
            page.context.close()
