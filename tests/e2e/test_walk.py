"""Every role's main pages as a new user sees them, in a browser that prefers English: the call
taker's desk, the handler's phone workspace, the reviewer's to-do and board, the supervisor's
wallboard, the manager's reports and each of their tabs, and the portal on a phone. Each page
loads, passes the audit, shows no English and no sideways scrolling; screenshots for a look."""
import pytest

from tests.e2e.helpers import assert_no_horizontal_scroll, check, login

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 375, "height": 812, "mobile": True}


def _visit(page, path: str, name: str) -> None:
    response = page.goto(path)
    assert response.status < 400, f"{path}: {response.status}"
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN", path
    assert_no_horizontal_scroll(page)
    check(page, name)


def test_each_role_walks_its_main_pages(pages, api, world, new_ticket, signed):
    waiting = new_ticket(title="幸福路窨井盖缺失")
    assert api("call_taker").action(waiting, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    mine = signed(title="东风路夜间施工噪音")

    page = pages.new(**DESKTOP, locale="en-US")
    login(page, "call_taker")
    _visit(page, "/desk", "call-taker-desk")

    page = pages.new(**PHONE, locale="en-US")
    login(page, "handler")
    _visit(page, "/m", "handler-inbox")
    _visit(page, f"/m/tickets/{mine}", "handler-order")

    page = pages.new(**DESKTOP, locale="en-US")
    login(page, "reviewer")
    _visit(page, "/todo", "reviewer-todo")
    _visit(page, "/board", "reviewer-board")

    page = pages.new(**DESKTOP, locale="en-US")
    login(page, "supervisor")
    _visit(page, "/telephony/wallboard", "supervisor-wallboard")

    page = pages.new(**DESKTOP, locale="en-US")
    login(page, "manager")
    _visit(page, "/reports/", "manager-reports")
    tabs = page.eval_on_selector_all(".report-tabs a[href], nav.tabs a[href]",
                                     "links => links.map(a => new URL(a.href).pathname + new URL(a.href).search)")
    for path in dict.fromkeys(tabs):
        if path.rstrip("/") != "/reports":
            _visit(page, path, "manager" + path.replace("/", "-"))

    page = pages.new(**PHONE, locale="en-US")
    _visit(page, "/portal", "portal")
    _visit(page, "/portal/track", "portal-track")
