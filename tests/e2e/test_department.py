"""A department handler on a phone (375x812): signs for an order, asks for more time, and
replies with a photo taken on the spot. No step may scroll sideways."""
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll, check, field, login, tiny_png, zh

pytestmark = pytest.mark.e2e

PHONE_SIZE = {"width": 375, "height": 812}


def dispatched_order(api, new_ticket, world) -> str:
    number = new_ticket()
    resp = api("call_taker").action(number, "dispatch", {"department": world.depts["cgj"].id})
    assert resp.status_code == 200, resp.get_json()
    return number


def phone_step(page, name: str) -> None:
    check(page, name)
    assert_no_horizontal_scroll(page)


def open_order(page, number: str) -> None:
    """From the inbox, tap the order's card."""
    if not page.url.endswith("/m"):
        page.goto("/m")
    with page.expect_navigation():
        page.get_by_role("link", name=number).click()
    assert page.url.endswith(f"/m/tickets/{number}"), page.url


def test_handler_signs_asks_for_time_and_replies_with_a_photo(pages, api, new_ticket, world):
    number = dispatched_order(api, new_ticket, world)
    page = pages.new(**PHONE_SIZE, mobile=True)
    login(page, "handler")
    assert page.url.endswith("/m"), f"a handler should land on the department inbox, not {page.url}"
    expect(page.locator("main")).to_contain_text(number)
    phone_step(page, "inbox-to-sign")

    # sign for it
    open_order(page, number)
    phone_step(page, "order-to-sign")
    sign = page.get_by_role("button", name=zh("Sign for this order"))
    box = sign.bounding_box()
    assert box["height"] >= 44, f"the sign button is a small touch target ({box['height']:.0f}px high)"
    with page.expect_navigation():
        sign.click()
    expect(page.get_by_role("status").first).to_contain_text(number)
    phone_step(page, "signed")

    # ask for two more working days
    open_order(page, number)
    page.get_by_text(zh("Ask for an extension"), exact=True).click()
    field(page, "Extra working days").fill("2")
    field(page, "Why more time is needed").fill("需要协调供电部门停电后施工。")
    phone_step(page, "extension-form")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Request the extension")).click()
    expect(page.get_by_role("status").first).to_contain_text(number)
    phone_step(page, "extension-requested")

    # reply with a photo of the repaired spot
    open_order(page, number)
    field(page, "What was done and the result").fill("已于当日更换井盖并设置警示标志，已电话告知市民。")
    page.get_by_label(zh("I contacted the citizen")).check()
    field(page, "Photos").set_input_files({"name": "repaired.png", "mimeType": "image/png", "buffer": tiny_png()})
    phone_step(page, "reply-form")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Send the reply")).click()
    expect(page.get_by_role("status").first).to_contain_text(number)
    phone_step(page, "replied")

    # the order now shows the reply waiting for review, the extension request and the photo
    page.goto(f"/m/tickets/{number}")
    main = page.locator("main")
    expect(main).to_contain_text("已于当日更换井盖")
    expect(main).to_contain_text("需要协调供电部门")
    expect(page.get_by_role("link", name="repaired.png")).to_be_visible()
    phone_step(page, "order-after-reply")
