"""The centre meets a repeat complaint: the order's page shows its look-alikes as soon as it is
shown (the section is filled after the page) and merges the repeat into the first order."""
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, login, zh
from tests.hotline.similar.test_similar import FIRST, REPEAT
from workflows.states import TicketStatus

pytestmark = pytest.mark.e2e


def test_the_similar_orders_fill_in_after_the_page_and_merge_the_repeat(page, new_ticket):
    first = new_ticket(**FIRST)
    repeat = new_ticket(**REPEAT)
    login(page, "supervisor")
    page.goto(f"/tickets/{repeat}")
    section = page.locator("section").filter(has=page.get_by_role("heading", name=zh("Similar orders")))
    expect(section).to_contain_text(first)
    expect(section).to_contain_text(zh("Same address"))
    check(page, "order-similar")
    with page.expect_navigation():
        section.get_by_role("button", name=zh("Merge this order into %(number)s") % {"number": first}).click()
    expect(page.locator("main")).to_contain_text(TicketStatus.MERGED.title_for("zh"))
