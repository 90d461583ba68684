"""The plan editor by keyboard alone: Tab, Enter, Space, Escape and typing; no mouse.

After every htmx swap the keyboard focus must land on the swapped content, never on <body>.
"""

from playwright.sync_api import Page, expect

from tests.browser.conftest import full_loads, sign_in


def _active(page: Page) -> str:
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return e ? `${e.tagName.toLowerCase()}#${e.id}.${e.className}` : 'nothing'; }"""
    )


def _is_focused(page: Page, selector: str) -> bool:
    return page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector
    )


def _focus_lands(page: Page, selector: str) -> None:
    page.wait_for_function(
        "s => document.activeElement && document.activeElement.matches(s)", arg=selector
    )


def _tab_to(page: Page, selector: str, back: bool = False, limit: int = 150) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `selector`; fail if it never gets there."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if _is_focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}; focus is on {_active(page)}")


def test_the_editor_works_by_keyboard_alone(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/sukhothai/plan")
    loads = full_loads(page)
    kb = page.keyboard

    # start the plan: the title field has the focus; Tab to the button, Enter
    assert _is_focused(page, "input[name=title]"), _active(page)
    _tab_to(page, "form button.primary")
    kb.press("Enter")
    expect(page.locator("#section-doe")).to_be_visible()
    _focus_lands(page, "#main")

    # add two DOE statements; each save puts the focus on the new row
    for text in ("เด็กสุโขทัยอ่านคล่อง", "เด็กสุโขทัยรักท้องถิ่น"):
        _tab_to(page, "#section-doe button.add")
        kb.press("Enter")
        _focus_lands(page, "#section-doe .new-form textarea[name=text]")
        kb.type(text)
        _tab_to(page, "#section-doe .new-form label.check input")
        kb.press("Space")
        _tab_to(page, "#section-doe .new-form button.primary")
        kb.press("Enter")
        _focus_lands(page, "#section-doe li.element")
        expect(page.locator("#section-doe li.element:focus")).to_contain_text(text)
    rows = page.locator("#section-doe li.element")
    expect(rows).to_have_count(2)

    # move the second up: it becomes first, and the focus moves to its ↓ (↑ is now disabled)
    _tab_to(page, "#section-doe li.element:nth-child(2) button[hx-vals*=up]")
    kb.press("Enter")
    expect(rows.first).to_contain_text("รักท้องถิ่น")
    _focus_lands(page, "#section-doe li.element:first-child button[hx-vals*=down]")

    # edit it: the form takes the focus; Escape after typing goes to Cancel, a second Escape
    # leaves without saving and puts the focus back on the row
    _tab_to(page, "#section-doe li.element:first-child button[hx-get$=edit]", back=True)
    kb.press("Enter")
    _focus_lands(page, "#section-doe li.editing textarea[name=text]")
    kb.press("Control+A")
    kb.type("ข้อความที่จะทิ้ง")
    kb.press("Escape")
    _focus_lands(page, "#section-doe li.editing [data-cancel]")
    expect(page.locator("#section-doe li.editing textarea")).to_have_value("ข้อความที่จะทิ้ง")
    kb.press("Escape")
    _focus_lands(page, "#section-doe li.element:first-child")
    expect(rows.first).to_contain_text("เด็กสุโขทัยรักท้องถิ่น")

    # edit and save
    _tab_to(page, "#section-doe li.element:first-child button[hx-get$=edit]")
    kb.press("Enter")
    _focus_lands(page, "#section-doe li.editing textarea[name=text]")
    kb.press("Control+A")
    kb.type("เด็กสุโขทัยรักและภูมิใจในท้องถิ่น")
    _tab_to(page, "#section-doe li.editing button.primary")
    kb.press("Enter")
    _focus_lands(page, "#section-doe li.element:first-child")
    expect(rows.first).to_contain_text("ภูมิใจในท้องถิ่น")

    # delete: the question takes the focus on its Delete button; Escape backs out,
    # Enter deletes and the focus goes to the section
    _tab_to(page, "#section-doe li.element:nth-child(2) button.danger")
    kb.press("Enter")
    _focus_lands(page, "#section-doe .confirming button.danger")
    kb.press("Escape")
    _focus_lands(page, "#section-doe li.element:nth-child(2)")
    _tab_to(page, "#section-doe li.element:nth-child(2) button.danger")
    kb.press("Enter")
    _focus_lands(page, "#section-doe .confirming button.danger")
    kb.press("Enter")
    _focus_lands(page, "#section-doe")
    expect(rows).to_have_count(1)

    # a new form left with Escape before typing: gone, focus back on its Add button
    _tab_to(page, "#section-doe button.add")
    kb.press("Enter")
    _focus_lands(page, "#section-doe .new-form textarea[name=text]")
    kb.press("Escape")
    expect(page.locator("#section-doe .new-form")).to_have_count(0)
    _focus_lands(page, "#section-doe button.add")

    # the same for a KRA, whose form opens with its code suggested and its theme unchosen
    _tab_to(page, "#section-kras button.add")
    kb.press("Enter")
    _focus_lands(page, "#section-kras .new-form input[name=title]")
    kb.press("Escape")
    expect(page.locator("#section-kras .new-form")).to_have_count(0)
    _focus_lands(page, "#section-kras button.add")

    # the vision, then the plan's title and years
    _tab_to(page, "#plan-vision button", back=True)
    kb.press("Enter")
    _focus_lands(page, "form#plan-vision textarea[name=vision]")
    kb.type("สุโขทัยเมืองแห่งการเรียนรู้")
    _tab_to(page, "form#plan-vision button.primary")
    kb.press("Enter")
    _focus_lands(page, "#plan-vision")
    expect(page.locator("blockquote.vision")).to_have_text("สุโขทัยเมืองแห่งการเรียนรู้")

    _tab_to(page, "#plan-meta button", back=True)
    kb.press("Enter")
    _focus_lands(page, "form#plan-meta input[name=title]")
    kb.press("End")
    kb.type(" (ฉบับปรับปรุง)")
    _tab_to(page, "form#plan-meta button.primary")
    kb.press("Enter")
    _focus_lands(page, "#plan-meta")
    expect(page.locator("#plan-meta h1")).to_contain_text("(ฉบับปรับปรุง)")

    assert loads == [], loads
