"""Each role starts on its own queue and stays in the flow of its main job: a reviewer works
through "my to-do", a call taker takes call after call at the desk, a handler signs for an order
on a phone and replies from the same page, the board fits 1366 px however long its lists are.

Clicks from logging in to the first step of each role's main job, form filling aside (before ->
now): reviewer 3 -> 2 (open the order, unfold the form, submit -> the row's step, submit); manager
1 -> 0 (to the reports); call taker 1 -> 1, and 1 -> 0 back to the desk after each call; handler
2 -> 2 to sign for an order, then 2 -> 1 to send its reply (open it again from the inbox, submit)."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll, check, field, login, zh
from workflows.states import Action

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
LONG = "关于幸福路与和平街交叉口东北角长期占道经营、夜间噪音扰民及垃圾乱堆乱放问题的反映"


def _dispatch(api, world, number, dept="cgj"):
    resp = api("call_taker").action(number, "dispatch", {"department": world.depts[dept].id})
    assert resp.status_code == 200, resp.get_json()


def test_reviewer_lands_on_the_to_do_and_works_through_it(pages, api, world, new_ticket, clock):
    replied = new_ticket(subject="和平街夜市占道")
    _dispatch(api, world, replied)
    api("handler").action(replied, "sign")
    api("handler").action(replied, "reply", {"content": "已清理占道摊点。", "contacted_citizen": True})
    clock.advance(hours=1)
    returned = new_ticket(subject=LONG)
    _dispatch(api, world, returned, "scj")
    api("handler_b").action(returned, "return", {"reason": "不属于市场监管职责"})

    page = pages.new(**DESKTOP)
    login(page, "reviewer")
    assert page.url.endswith("/todo"), f"a reviewer should land on the to-do, not {page.url}"
    rows = page.locator("table.todo-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(replied)                      # the longest-waiting first
    expect(rows.nth(1)).to_contain_text(zh("Return to review"))
    # one line a row: the long subject is cut, whole in its tooltip
    heights = page.eval_on_selector_all("table.todo-table tbody tr", "rs => rs.map(r => r.offsetHeight)")
    assert max(heights) < 90, heights
    check(page, "todo")

    # the row's one step: the order with that form open, the others folded
    with page.expect_navigation():
        rows.first.get_by_role("link", name=Action.REVIEW_REPLY.title_for("zh")).click()
    form = page.locator("details#action-review-reply")
    expect(form).to_have_attribute("open", "")
    expect(page.locator("details.action[open]")).to_have_count(1)
    expect(form.get_by_label(zh("Approve the reply"))).to_be_in_viewport()
    form.get_by_label(zh("Approve the reply")).check()
    check(page, "review-form-open")
    with page.expect_navigation():
        form.get_by_role("button", name=Action.REVIEW_REPLY.title_for("zh")).click()

    # back on the to-do: the message links the order, which now waits for its return visit
    assert page.url.endswith("/todo"), page.url
    status = page.get_by_role("status").first
    expect(status.get_by_role("link", name=replied)).to_be_visible()
    expect(page.locator("table.todo-table tbody tr").filter(has_text=replied)).to_contain_text(
        Action.VISIT.title_for("zh"))
    check(page, "todo-after-review")


def test_manager_lands_on_the_reports(pages, world):
    page = pages.new(**DESKTOP)
    login(page, "manager")
    assert "/reports" in page.url, page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Statistics and assessment"))


def test_the_board_fits_and_folds_its_lists(pages, api, world, new_ticket, clock):
    for i in range(13):
        number = new_ticket(subject=f"{LONG}（{i + 1}）")
        _dispatch(api, world, number, ("cgj", "scj", "dc_s1")[i % 3])
    clock.advance(days=12)                                           # all of them overdue
    returned = new_ticket(subject=LONG)
    _dispatch(api, world, returned, "scj")
    api("handler_b").action(returned, "return", {"reason": "不属于市场监管职责"})

    page = pages.new(**DESKTOP)
    login(page, "supervisor")
    page.goto("/board/")
    red = page.locator("#q-red")
    expect(red.locator("tbody tr")).to_have_count(10)
    # no cell wraps a character a line: every row is one line of text (plus a badge line at most)
    for section in ("#q-red", "#q-returned"):
        heights = page.eval_on_selector_all(f"{section} tbody tr", "rs => rs.map(r => r.offsetHeight)")
        assert heights and max(heights) < 90, (section, heights)
        narrow = page.eval_on_selector_all(f"{section} tbody td", "tds => tds.map(td => td.offsetWidth)")
        assert min(narrow) >= 36, (section, narrow)
    title = red.locator("tbody tr").first.locator(".cut").first
    expect(title).to_have_attribute("title", re.compile(re.escape(LONG)))
    assert page.evaluate("() => document.documentElement.scrollHeight") < 4000
    assert_no_horizontal_scroll(page)
    check(page, "board")

    with page.expect_navigation():
        red.get_by_role("link", name=zh("View all (%(n)s)") % {"n": 13}).click()
    expect(page.locator("tbody tr")).to_have_count(13)
    check(page, "board-overdue-all")


def test_call_taker_is_ready_for_the_next_call_after_dispatching(pages, world):
    page = pages.new(**DESKTOP)
    login(page, "call_taker")
    assert page.url.endswith("/desk"), page.url
    field(page, "Caller's phone").fill("13900002222")
    field(page, "Type").select_option("complaint")
    field(page, "Category").fill("1001")
    expect(field(page, "Lead department")).to_have_value(str(world.depts["cgj"].id))
    field(page, "Subject").fill("幸福路井盖缺失")
    field(page, "What the caller says").fill("幸福路88号门口井盖丢失，夜里有人踩空。")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Register and dispatch")).click()

    assert page.url.endswith("/desk"), f"after dispatching the desk should be fresh, not {page.url}"
    link = page.get_by_role("status").first.get_by_role("link")
    number = link.inner_text()
    assert re.fullmatch(r"\d{14}", number), number
    expect(field(page, "Caller's phone")).to_have_value("")         # an empty form for the next call
    expect(field(page, "Subject")).to_have_value("")
    expect(field(page, "Caller's phone")).to_be_focused()
    check(page, "desk-after-dispatch")
    with page.expect_navigation():
        link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)


def test_handler_signs_and_replies_from_the_same_page(pages, api, world, new_ticket):
    numbers = []
    for subject, kind in ((LONG, "complaint"), ("路灯不亮", "consultation")) + tuple(
            (f"井盖缺失{i}", "suggestion") for i in range(6)):
        numbers.append(new_ticket(subject=subject, type=kind))
        _dispatch(api, world, numbers[-1])
    page = pages.new(**PHONE, mobile=True)
    login(page, "handler")
    assert page.url.endswith("/m"), page.url
    to_sign = page.locator("section", has=page.locator("#to-sign"))
    expect(to_sign.locator(".m-card")).to_have_count(5)             # folded ...
    check(page, "inbox-folded")
    assert_no_horizontal_scroll(page)

    with page.expect_navigation():
        to_sign.get_by_role("link", name=zh("View all (%(n)s)") % {"n": 8}).click()   # ... the whole group
    expect(page.locator(".m-card")).to_have_count(8)
    check(page, "inbox-to-sign-all")
    assert_no_horizontal_scroll(page)

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(numbers[0])).click()
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Sign for this order")).click()
    # still on the order, at the reply form, the deadline counted in working days
    assert page.url.endswith(f"/m/tickets/{numbers[0]}#act-reply"), page.url
    expect(page.get_by_role("status").first).to_contain_text(numbers[0])
    expect(page.locator(".m-left-big")).to_contain_text("个工作日")
    reply = field(page, "What was done and the result")
    expect(reply).to_be_in_viewport()
    check(page, "signed-stays-on-order")
    assert_no_horizontal_scroll(page)
    reply.fill("已于当日更换井盖并设置警示标志。")
    page.get_by_label(zh("I contacted the citizen")).check()
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Send the reply")).click()
    expect(page.get_by_role("status").first).to_contain_text(numbers[0])
    check(page, "replied")
