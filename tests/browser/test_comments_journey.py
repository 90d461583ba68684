"""A reviewer asks about a KPI; Krabi's committee sees the question on the overview, answers
and resolves it, the thread changing in place."""

import re
import secrets

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PASSWORD, follow, full_loads, sign_in


def _new_reviewer(page: Page) -> str:
    """Through the People page, as an administrator would."""
    email = f"reviewer.{secrets.token_hex(3)}@example.go.th"
    sign_in(page)
    page.goto(page.base_url + "/admin/users")
    form = page.locator("form.form", has=page.locator("input[name=display_name]"))
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=display_name]").fill("ศน.ทดสอบ สพฐ.")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("select[name=role]").select_option("reviewer")
    follow(page, form.locator("button.primary"))
    return email


def test_a_reviewers_question_on_a_kpi_is_seen_answered_and_resolved_by_the_committee(
    browser: Browser, page: Page
) -> None:
    email = _new_reviewer(page)
    reviewer = browser.new_context(viewport=DESKTOP, locale="th-TH").new_page()
    reviewer.base_url = page.base_url
    sign_in(reviewer, email)
    reviewer.goto(reviewer.base_url + "/areas/krabi/comments")
    target = reviewer.locator("#comment-new-target option", has_text=re.compile(r"\bKPI2\b"))
    reviewer.locator("#comment-new-target").select_option(target.get_attribute("value"))
    follow(reviewer, reviewer.locator("#comment-new button[type=submit]"))  # nothing typed
    expect(reviewer.locator("#comment-new-body-error")).to_be_visible()
    question = "จำนวนโรงเรียนนำร่อง 30 แห่งในปี 2568 นับจากทะเบียนฉบับใด"
    reviewer.locator("#comment-new-body").fill(question)
    follow(reviewer, reviewer.locator("#comment-new button[type=submit]"))
    thread = reviewer.locator("li.thread", has_text=question)
    expect(thread).to_be_visible()
    thread_id = thread.get_attribute("id")
    reviewer.context.close()

    editor = browser.new_context(viewport=DESKTOP, locale="th-TH").new_page()
    editor.base_url = page.base_url
    sign_in(editor, "editor.krabi@example.go.th")
    editor.goto(editor.base_url + "/areas/krabi")
    row = editor.locator("table.kpis tr", has_text=re.compile(r"\bKPI2\b")).first
    badge = row.locator("a.open-comments")
    expect(badge).to_contain_text("1")
    follow(editor, badge)
    thread = editor.locator(f"#{thread_id}")
    expect(thread).to_contain_text(question)
    expect(thread).to_contain_text("ศน.ทดสอบ สพฐ.")

    loads = full_loads(editor)
    thread.locator("textarea[name=body]").fill("นับจากทะเบียนสถานศึกษานำร่องของ ศธจ. ณ 30 ก.ย. 2568")
    thread.locator(".reply-form button").click()
    expect(thread.locator("article.reply")).to_contain_text("ทะเบียนสถานศึกษานำร่องของ ศธจ.")
    thread.locator(".resolve-form button").click()
    expect(thread).to_have_class(re.compile(r"\bresolved\b"))
    expect(thread.locator(".reply-form")).to_have_count(0)
    assert loads == []  # both answers swapped the thread in place

    editor.goto(editor.base_url + "/areas/krabi")
    row = editor.locator("table.kpis tr", has_text=re.compile(r"\bKPI2\b")).first
    expect(row).to_be_visible()
    expect(row.locator("a.open-comments")).to_have_count(0)
    editor.context.close()
