"""A national workshop: an organiser creates it with the eleven areas, a guest joins one station
online from a 390 px phone, and the national projector (1920×1080) counts the guest and shows the
contribution without a reload; closing the event closes every station."""

from playwright.sync_api import expect

from tests.browser.conftest import follow, full_loads, open_page, shoot, sign_in
from tests.browser.test_phone import _phone_problems

LIVE = 20_000
PROJECTOR = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
PHONE_390 = {"width": 390, "height": 844}


def test_a_phone_at_one_station_shows_live_on_the_national_projector(
    browser: object, server: str
) -> None:
    organiser = open_page(browser, server, LAPTOP)
    projector = open_page(browser, server, PROJECTOR)
    guest = open_page(browser, server, PHONE_390)
    try:
        sign_in(organiser)
        organiser.goto(server + "/")
        follow(organiser, organiser.locator("main a[href='/workshops']"))
        expect(organiser.locator("input[name=area_ids]:checked")).to_have_count(11)
        organiser.locator("input[name=title]").fill("เวทีขับเคลื่อน 11 พื้นที่นวัตกรรมการศึกษา")
        organiser.locator("input[name=station_title]").fill("สถานี: ผลลัพธ์และสภาพปัญหา")
        follow(organiser, organiser.locator("form.form button.primary"))
        expect(organiser.locator(".event-stations tbody tr")).to_have_count(11)
        shoot(organiser, "event-organiser-1366", full_page=True)
        krabi = organiser.locator(".event-stations tr", has_text="กระบี่")
        code = krabi.locator(".join-code-inline").inner_text().replace("-", "")

        sign_in(projector)
        projector.goto(organiser.url + "/present")
        expect(projector.locator(".station-tile")).to_have_count(11)
        expect(projector.locator("html[data-live-state=on]")).to_have_count(1, timeout=LIVE)
        loads = full_loads(projector)
        tile = projector.locator(".station-tile", has_text="กระบี่")
        expect(tile.locator(".tile-figures strong")).to_have_text(["0", "0"])

        guest.goto(f"{server}/join/{code}")
        expect(guest.locator("input[name=attends][value=onsite]")).to_be_checked()
        guest.locator("input[name=display_name]").fill("ครูสมศรี")
        guest.locator("input[name=attends][value=online]").check()
        shoot(guest, "event-phone-join-390", full_page=True)
        assert _phone_problems(guest) == []
        follow(guest, guest.locator("form.guest-form button.primary"))
        guest.locator("input[name=kind][value=problem]").check()
        guest.locator("textarea[name=text]").fill("นักเรียนชั้น ป.1 อ่านไม่คล่อง")
        guest.locator("form.contribute button[type=submit]").click()
        expect(guest.locator(".mine-item")).to_have_count(1)

        expect(tile.locator(".tile-figures strong")).to_have_text(["1", "1"], timeout=LIVE)
        expect(tile.locator(".tile-detail")).to_contain_text("ออนไลน์ 1")
        highlights = projector.locator("#event-highlights")
        expect(highlights).to_contain_text("นักเรียนชั้น ป.1 อ่านไม่คล่อง", timeout=LIVE)
        assert loads == []  # the parts reloaded in place
        follow(projector, projector.locator(".event-steps a[href$='step=problem']"))
        expect(projector.locator(".event-card")).to_contain_text(["นักเรียนชั้น ป.1 อ่านไม่คล่อง"])
        shoot(projector, "event-projector-1920")
        projector.set_viewport_size(LAPTOP)
        shoot(projector, "event-projector-1366")
        assert projector.problems == [] and guest.problems == []

        organiser.reload()
        attendance = organiser.locator("details.attendance", has_text="กระบี่")
        expect(attendance).to_contain_text("ออนไลน์ 1 คน")
        organiser.locator("details.close-session summary").click()
        follow(organiser, organiser.locator("button.danger"))
        expect(organiser.locator(".session-state.open")).to_have_count(0)
    finally:
        for page in (organiser, projector, guest):
            page.context.close()
