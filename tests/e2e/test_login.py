"""The login page in a real browser: both languages, the audit, the keyboard, a call taker getting in."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, field, login, zh

pytestmark = pytest.mark.e2e


def test_login_page_in_chinese_passes_the_audit(page):
    page.goto("/login")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    expect(page.get_by_role("heading", name=zh("Log in"))).to_be_visible()
    check(page, "login-zh")


def test_login_page_in_english_passes_the_audit(page):
    page.goto("/login?lang=en")
    assert page.get_by_role("heading", name="Log in").is_visible()
    check(page, "login-en")
    # the choice sticks: the next page is English too
    page.goto("/login")
    assert page.get_by_role("button", name="Log in").is_visible()


def test_logging_in_from_the_keyboard_alone(page):
    page.goto("/login")
    # the user name field has the focus; Tab leads to the password and then the button
    assert page.evaluate("() => document.activeElement.id") == "username"
    page.keyboard.type("call_taker")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "password"
    page.keyboard.type("password-123")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.tagName") == "BUTTON"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url
    check(page, "call-taker-landing")


def test_wrong_password_is_explained_next_to_the_form(page):
    page.goto("/login")
    field(page, "User name").fill("call_taker")
    field(page, "Password").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("alert")).to_contain_text(zh("The user name or password is wrong."))
    expect(field(page, "User name")).to_have_value("call_taker")  # only the password to type again
    check(page, "login-wrong-password")


def test_call_taker_logs_in_and_reaches_the_desk(page):
    login(page, "call_taker")
    # a call taker's first workspace is the intake desk once it exists, else the welcome page
    assert re.search(r"/desk|/$", page.url), page.url
    check(page, "call-taker-after-login")
