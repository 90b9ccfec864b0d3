"""The centre closes the loop on an order's page: a reviewer approves the department's reply
and records the return visit."""
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, field, login, zh
from workflows.states import Action, TicketStatus

pytestmark = pytest.mark.e2e

REPLY = "已于当日清理占道摊点，并安排城管队员早高峰值守。"


def replied_order(api, new_ticket, world) -> str:
    """An order the city management bureau has signed for and replied to (through the API)."""
    number = new_ticket()
    for user, action, body in (
            ("call_taker", "dispatch", {"department": world.depts["cgj"].id}),
            ("handler", "sign", {}),
            ("handler", "reply", {"content": REPLY, "contacted_citizen": True})):
        resp = api(user).action(number, action, body)
        assert resp.status_code == 200, (action, resp.get_json())
    return number


def action_form(page, action: Action):
    """The order page's form for `action` (a disclosure titled with the action's name), opened if the
    page did not open it already (it opens the most likely next step)."""
    title = action.title_for("zh")
    panel = page.locator("details").filter(has=page.locator("summary", has_text=title))
    expect(panel).to_have_count(1)
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel, title


def status_shown(page, status: TicketStatus):
    expect(page.locator("main")).to_contain_text(status.title_for("zh"))


def test_reviewer_approves_the_reply_and_records_the_return_visit(page, api, new_ticket, world):
    number = replied_order(api, new_ticket, world)
    other = new_ticket(subject="和平街噪音扰民")  # still at the centre: filtered out below
    login(page, "reviewer")

    # find the reply waiting for review in the list of work orders
    page.goto("/tickets")
    expect(page.locator("main")).to_contain_text(other)
    page.get_by_label(TicketStatus.REPLIED.title_for("zh"), exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Apply filters")).click()
    expect(page.locator("main")).not_to_contain_text(other)
    check(page, "list-replied")
    with page.expect_navigation():
        page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("main")).to_contain_text(REPLY)  # the reply to judge is on the page
    status_shown(page, TicketStatus.REPLIED)
    check(page, "order-replied")

    panel, title = action_form(page, Action.REVIEW_REPLY)
    panel.get_by_label(zh("Approve the reply")).check()
    check(page, "review-reply-form")
    with page.expect_navigation():
        panel.get_by_role("button", name=title).click()
    expect(page.get_by_role("status").first).to_contain_text(title)
    status_shown(page, TicketStatus.AWAITING_VISIT)
    check(page, "reply-approved")

    panel, title = action_form(page, Action.VISIT)
    field(panel, "Citizen's satisfaction").select_option("satisfied")
    panel.get_by_label(zh("Solved"), exact=True).check()
    field(panel, "Notes from the call").fill("市民表示摊点已清理，满意。")
    check(page, "visit-form")
    with page.expect_navigation():
        panel.get_by_role("button", name=title).click()
    expect(page.get_by_role("status").first).to_contain_text(title)
    status_shown(page, TicketStatus.CLOSED)
    expect(page.locator("main")).to_contain_text("市民表示摊点已清理")
    check(page, "order-closed")
