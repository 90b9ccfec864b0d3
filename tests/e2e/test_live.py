"""A department handler's open inbox hears of a new order and of an urge without reloading: the bell's
count rises, a toast flashes (and a chime sounds unless muted), and the new order appears in the list."""
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, login, zh

pytestmark = pytest.mark.e2e


def test_a_handlers_inbox_hears_a_new_order_and_an_urge_live(pages, api, new_ticket, world):
    number = new_ticket()
    handler = pages.new(width=375, height=812, mobile=True)
    login(handler, "handler")
    assert handler.url.endswith("/m"), handler.url
    expect(handler.locator("body")).to_have_attribute("data-live-connected", "1")   # the stream is open
    expect(handler.locator("#m-inbox")).not_to_contain_text(number)
    handler.evaluate("() => { window.stillTheSamePage = true; }")
    bell = handler.locator("#bell summary [data-bell-count]")
    expect(bell).to_have_count(0)

    # the centre dispatches the order to the handler's department (the integration API, another client)
    assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    expect(bell).to_have_text("1")
    toast = handler.locator("#live-toasts .toast").last
    expect(toast).to_contain_text(number)
    expect(handler.locator("#m-inbox")).to_contain_text(number)          # the list fetched itself again
    expect(handler.locator("body")).to_have_attribute("data-live-chimed", "1")
    check(handler, "new-order-live")

    # the handler mutes the chime; a reviewer urges the order from its page in another browser
    handler.get_by_role("button", name=zh("Mute alerts")).click()
    expect(handler.get_by_role("button", name=zh("Mute alerts"))).to_have_attribute("aria-pressed", "true")
    reviewer = pages.new()
    login(reviewer, "reviewer")
    reviewer.goto(f"/tickets/{number}")
    reviewer.locator("#action-urge summary").click()
    reviewer.locator("#action-urge textarea").fill("请今天内处理，市民多次来电。")
    with reviewer.expect_navigation():
        reviewer.locator("#action-urge button[type=submit]").click()

    expect(bell).to_have_text("2")
    expect(handler.locator("#live-toasts .toast").last).to_contain_text("催办")
    expect(handler.locator("body")).to_have_attribute("data-live-chimed", "1")  # muted: no second chime
    assert handler.evaluate("() => window.stillTheSamePage === true"), "the page was reloaded"

    # the bell lists the notices and leads to the order
    handler.locator("#bell summary").click()
    expect(handler.locator("#bell-panel")).to_contain_text(number)
    check(handler, "urged-live-bell-open")
    with handler.expect_navigation():
        handler.locator("#bell-panel a", has_text=number).first.click()
    assert handler.url.endswith(f"/m/tickets/{number}"), handler.url
    # the mute is remembered on the next page
    expect(handler.get_by_role("button", name=zh("Mute alerts"))).to_have_attribute("aria-pressed", "true")
