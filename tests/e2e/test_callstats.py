"""A manager reads a Monday's calls: the call statistics with their charts, the agents' performance,
the call list grouped by agent and printed, the CDR to Excel, and the staffing forecast."""
import io

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, login, screenshot
from tests.e2e.test_reports import CANVAS_JS
from tests.hotline.reports import calldata

pytestmark = pytest.mark.e2e

DAY = "kind=custom&from=2026-06-08&to=2026-06-08"


def test_manager_reads_a_days_calls(pages, world, clock):
    calldata.build(world)
    clock.set(calldata.NOW)
    page = pages.new(width=1366, height=900)
    login(page, "manager")
    page.get_by_role("link", name="统计考核").click()
    page.locator("nav.report-tabs").get_by_role("link", name="话务统计").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("话务统计")
    page.goto(f"/reports/calls?{DAY}")
    expect(page.locator("html[data-charts=ready]")).to_have_count(1)
    canvases = page.evaluate(CANVAS_JS)
    assert len(canvases) == 2 and all(c["drawn"] > 2000 for c in canvases), canvases
    expect(page.locator('[data-figure="service_level"] strong')).to_have_text("50.0%")
    check(page, "call-statistics")

    page.goto(f"/reports/agents?{DAY}")
    expect(page.locator('tr[data-agent="call_taker"] td[data-col="repeat_rate"]')).to_be_visible()
    check(page, "agents-performance")

    page.goto(f"/reports/cdr?{DAY}&group=agent")
    expect(page.locator("section.call-group")).to_have_count(3)
    check(page, "call-list")
    with page.expect_download() as download:
        page.locator("form.list-options").get_by_role("link", name="导出 Excel").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert [c.value for c in sheet[3]][:3] == ["开始时间", "方向", "市民号码"]
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("form.list-options")).to_be_hidden()
    expect(page.locator(".print-subtitle")).to_be_visible()
    expect(page.locator(".call-list > p.print-only.muted")).to_contain_text("manager")
    screenshot(page, "call-list-print")
    page.emulate_media(media="screen")

    page.goto("/reports/forecast?weekday=0&weeks=2")
    expect(page.locator("html[data-charts=ready]")).to_have_count(1)
    assert page.evaluate(CANVAS_JS)[0]["drawn"] > 2000
    check(page, "staffing-forecast")
