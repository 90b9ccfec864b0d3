"""The interface language in a real browser: Chinese for a browser that prefers English, English
once the user chooses it from the user menu (and again the next time they log in), and the
portal's switch for citizens who are not logged in; file pickers worded by the page."""
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, choose_language, login, tiny_png, zh

pytestmark = pytest.mark.e2e


def _lang(page) -> str:
    return page.evaluate("() => document.documentElement.lang")


def test_a_user_chooses_english_and_it_is_remembered(pages):
    page = pages.new(width=1366, height=800, locale="en-US")
    login(page, "reviewer")
    assert _lang(page) == "zh-CN"
    page.locator("details.user-menu > summary").click()
    menu = page.locator("details.user-menu")
    expect(menu.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    check(page, "user-menu-open-zh")
    choose_language(page, "English")
    assert _lang(page) == "en"
    check(page, "after-choosing-english")
    # another browser, the next day: still English
    again = pages.new(width=1366, height=800, locale="zh-CN")
    login(again, "reviewer")
    assert _lang(again) == "en"
    choose_language(again, "中文")
    assert _lang(again) == "zh-CN"
    expect(again.get_by_role("link", name=zh("Work orders")).first).to_be_visible()


def test_a_citizen_switches_the_portal_on_a_phone(pages):
    page = pages.new(width=375, height=812, locale="en-US", mobile=True)
    page.goto("/portal")
    assert _lang(page) == "zh-CN"
    # the photo picker is worded by the page, not by the (English) browser
    picker = page.locator(".file-picker")
    expect(picker).to_contain_text(zh("Choose files"))
    expect(picker).to_contain_text(zh("No file chosen"))
    page.locator('input[type="file"]').set_input_files(
        [{"name": "路灯.png", "mimeType": "image/png", "buffer": tiny_png()}])
    expect(picker).to_contain_text("路灯.png")
    check(page, "portal-zh-for-an-english-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert _lang(page) == "en" and page.url.endswith("/portal")
    page.goto("/portal/track")
    assert _lang(page) == "en"
    check(page, "portal-track-in-english")
    with page.expect_navigation():
        page.get_by_role("button", name="中文").click()
    assert _lang(page) == "zh-CN"
