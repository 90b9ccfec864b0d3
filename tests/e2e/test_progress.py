"""A handler on a phone (375x812) records a progress note (过程回复) on an order they signed for and
stays on the order; the citizen, on their phone, reads the note on the portal."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll, check, field, login, zh
from tests.e2e.test_department import PHONE_SIZE, dispatched_order, open_order

pytestmark = pytest.mark.e2e

NOTE = "已联系执法中队，明天上午到现场核查并劝离摊贩。"


def phone_step(page, name: str) -> None:
    check(page, name)
    assert_no_horizontal_scroll(page)


def test_handler_records_progress_and_the_citizen_reads_it(pages, api, new_ticket, world):
    number = dispatched_order(api, new_ticket, world)
    assert api("handler").action(number, "sign").status_code == 200
    page = pages.new(**PHONE_SIZE, mobile=True)
    login(page, "handler")
    open_order(page, number)

    page.get_by_text(zh("Record progress"), exact=True).click()
    field(page, "Progress so far").fill(NOTE)
    public = page.get_by_label(zh("Show to the citizen (on the portal, and by text message if they agreed)"))
    expect(public).to_be_checked()
    phone_step(page, "progress-form")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Save the progress note")).click()
    # still on the order, told so, with the note listed as shown to the citizen
    assert re.search(rf"/m/tickets/{number}#progress$", page.url), page.url
    expect(page.get_by_role("status").first).to_contain_text(number)
    notes = page.get_by_role("region", name=re.compile(zh("Progress notes")))
    expect(notes).to_contain_text(NOTE)
    expect(notes).to_contain_text(zh("Shown to the citizen"))
    expect(page.get_by_role("button", name=zh("Send the reply"))).to_be_visible()   # the part goes on
    phone_step(page, "progress-recorded")

    # the citizen checks the progress on their phone
    citizen = pages.new(**PHONE_SIZE, mobile=True)
    citizen.goto(f"/portal/track?number={number}")
    field(citizen, "Phone number").fill("13812345678")
    with citizen.expect_navigation():
        citizen.get_by_role("button", name=zh("Check progress")).click()
    order = citizen.get_by_role("region", name=re.compile(number))
    progress = order.locator("ol.portal-progress")
    expect(progress).to_contain_text(NOTE)
    expect(progress).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(order).not_to_contain_text("handler")
    expect(order).to_contain_text(zh("Progress is texted to your mobile number."))
    phone_step(citizen, "portal-progress")
