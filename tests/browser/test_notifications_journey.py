"""An administrator mentions Krabi's editor in a comment; after `phonlap remind` the editor finds
it among their notifications (beside "what's new"), opens it, and changes how they are told."""

import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, axe_problems, follow, shoot, sign_in


def test_a_mention_reaches_the_editors_notifications_and_settings_are_kept(
    browser: Browser, page: Page, browser_db: Path
) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/krabi/comments")
    page.locator("#comment-new-target").select_option(index=1)
    words = "@editor.krabi ช่วยเพิ่มค่าปีการศึกษา 2567 ก่อนประชุมคณะกรรมการ"
    page.locator("#comment-new-body").fill(words)
    follow(page, page.locator("#comment-new button[type=submit]"))
    expect(page.locator("li.thread", has_text="ก่อนประชุมคณะกรรมการ")).to_be_visible()

    env = {**os.environ, "PHONLAP_DATABASE_URL": f"sqlite:///{browser_db}"}
    env.pop("PHONLAP_SMTP_HOST", None)
    env.pop("PHONLAP_TEST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "app", "remind"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "mail: off" in done.stdout

    editor = browser.new_context(viewport=DESKTOP, locale="th-TH").new_page()
    editor.base_url = page.base_url
    sign_in(editor, "editor.krabi@example.go.th")
    editor.goto(editor.base_url + "/news")
    follow(editor, editor.get_by_role("link", name="การแจ้งเตือนของคุณ"))
    item = editor.locator("li.unread", has_text="กล่าวถึงคุณ (กระบี่)")
    expect(item).to_contain_text("ก่อนประชุมคณะกรรมการ")
    assert axe_problems(editor) == []
    shoot(editor, "notifications-desktop", full_page=True)
    follow(editor, item.locator("button"))
    assert "/areas/krabi/comments" in editor.url and "#thread-" in editor.url

    editor.goto(editor.base_url + "/account/notifications")
    expect(editor.locator("li.unread", has_text="กล่าวถึงคุณ")).to_have_count(0)
    expect(editor.locator("li", has_text="กล่าวถึงคุณ (กระบี่)")).to_have_count(1)
    editor.locator("#notify-overdue").select_option("off")
    editor.locator("#notify-language").select_option("en")
    follow(editor, editor.get_by_role("button", name="บันทึกการตั้งค่า"))
    expect(editor.get_by_role("status")).to_contain_text("บันทึกการตั้งค่าแล้ว")
    expect(editor.locator("#notify-overdue")).to_have_value("off")
    expect(editor.locator("#notify-language")).to_have_value("en")
    editor.context.close()
