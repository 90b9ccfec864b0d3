"""Date fields in a browser that prefers English: the page's own Chinese calendar and a Chinese
example, not the browser's English date control; and the desk says when the phone line is down."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, login, zh

pytestmark = pytest.mark.e2e


def test_a_date_filter_reads_chinese_in_an_english_browser(pages, new_ticket):
    new_ticket()
    page = pages.new(width=1366, height=800, locale="en-US")
    login(page, "reviewer", next_path="/tickets")
    page.goto("/tickets")
    start = page.locator("#f-flt-created_from")
    expect(start).to_have_attribute("type", "text")  # not the browser's (English) date control
    expect(start).to_have_attribute("placeholder", "例如 2026-06-15")
    assert page.locator('input[type="date"], input[type="datetime-local"]').count() == 0
    start.locator("xpath=..").get_by_role("button", name="选择日期").click()
    calendar = start.locator("xpath=..").locator(".date-picker-panel")
    expect(calendar).to_be_visible()
    expect(calendar).to_contain_text(re.compile(r"\d{4}年\d{1,2}月"))
    expect(calendar).to_contain_text("一二三四五六日")
    expect(calendar.get_by_role("button", name="今天")).to_be_visible()
    check(page, "calendar-open-in-chinese")
    calendar.locator(".date-picker-day").nth(14).click()
    expect(calendar).to_be_hidden()
    expect(start).to_have_value(re.compile(r"^\d{4}-\d{2}-15$"))
    # a date typed wrongly is refused by the server, in Chinese
    start.fill("6月15日")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Apply filters")).first.click()
    expect(page.locator(".field-error").first).to_be_visible()
    check(page, "mistyped-date-refused")
    page.goto("/telephony/calls")
    expect(page.locator("#f-date_from")).to_have_attribute("placeholder", "例如 2026-06-15")
    check(page, "call-records-date-filter")


def test_the_desk_says_the_line_is_down(pages):
    page = pages.new(width=1366, height=800, locale="en-US")
    login(page, "call_taker", next_path="/desk")
    page.goto("/desk")
    expect(page.locator(".alert.line-down")).to_contain_text(zh(
        "Line down: no telephone system is running. Calls can neither come in nor go out; tell the system administrator."))
    check(page, "desk-line-down")
