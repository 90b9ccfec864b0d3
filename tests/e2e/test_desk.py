"""A call taker takes a call at the intake desk: the caller is recognised, the order is
registered and dispatched in one step, from the keyboard."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, field, login, tab_through, zh

pytestmark = pytest.mark.e2e

PHONE = "13812345678"  # the caller of tests/conftest.py's SAMPLE_TICKET


def test_call_taker_registers_and_dispatches_an_order(page, world, new_ticket):
    earlier = new_ticket()  # the same caller rang last week about the street stalls
    login(page, "call_taker")
    assert page.url.endswith("/desk"), page.url
    check(page, "desk")

    # the keyboard goes through the form in the order it reads: the caller, then the case
    assert page.evaluate("() => document.activeElement.name") == "phone"  # ready for the number
    order = [f["name"] for f in tab_through(page, 9) if f["tag"] in ("input", "select", "textarea")]
    assert order[:8] == ["caller_name", "type", "channel", "urgency", "category", "subject", "content",
                         "address"], order
    field(page, "Caller's phone").focus()

    # typing the number shows at once who is calling and their open order
    field(page, "Caller's phone").press_sequentially(PHONE)
    caller = page.locator("#caller-panel")  # where "Go to the caller's earlier orders" leads
    expect(caller).to_contain_text(earlier)
    expect(caller).to_contain_text("张三")
    check(page, "caller-recognised")

    # a new matter all the same: the type, then the category, which suggests the department
    field(page, "Type").select_option("complaint")
    field(page, "Category").fill("1001")
    expect(field(page, "Lead department")).to_have_value(str(world.depts["cgj"].id))

    # Enter before the subject is there: the form says what is missing, next to the field
    field(page, "Address").fill("东城区幸福路88号")
    with page.expect_navigation():
        field(page, "Address").press("Enter")
    subject = field(page, "Subject")
    expect(subject).to_have_attribute("aria-invalid", "true")
    check(page, "desk-missing-subject")

    subject.fill("幸福路井盖缺失")
    field(page, "What the caller says").fill("幸福路88号门口井盖丢失，夜里有人踩空。")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Register and dispatch")).click()

    # a fresh desk for the next call; the message links the new order
    assert page.url.endswith("/desk"), f"after dispatching the call taker should be on a fresh desk, not {page.url}"
    status = page.get_by_role("status").first
    expect(status).to_contain_text("城市管理局")
    number = status.get_by_role("link").inner_text()
    assert re.fullmatch(r"\d{14}", number) and number != earlier, number
    check(page, "desk-after-dispatch")
    with page.expect_navigation():
        status.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("待签收")  # awaiting sign-for, in Chinese
    check(page, "order-dispatched")
