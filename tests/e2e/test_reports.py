"""A manager reads the week in the statistics and assessment workspace: charts drawn, the
ranking with its marks, a drill-down to the orders behind a figure, an export, the print view."""
import io

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, login, screenshot
from tests.hotline.reports.dataset import build

pytestmark = pytest.mark.e2e

#: For each chart: its canvas's size and how many of its pixels are drawn (not transparent).
CANVAS_JS = """() => [...document.querySelectorAll('.chart canvas')].map(c => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) drawn++; }
  return {width: c.width, height: c.height, drawn};
})"""


def test_manager_reads_the_week_and_drills_down(pages, api, world, new_ticket, clock):
    orders = build(api, world, new_ticket, clock)
    page = pages.new(width=1366, height=900)
    login(page, "manager")
    page.get_by_role("link", name="统计考核").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计考核")
    page.goto("/reports/?kind=week&week=2026-W24")
    expect(page.locator("html[data-charts=ready]")).to_have_count(1)
    canvases = page.evaluate(CANVAS_JS)
    assert len(canvases) == 5, canvases
    assert all(c["width"] > 200 and c["height"] > 200 and c["drawn"] > 2000 for c in canvases), canvases
    ranking = page.locator("table.ranking-table")
    row = ranking.locator("tr", has=page.locator("th", has_text="东城区"))
    expect(row.locator("td.low")).to_have_count(3)  # the three rates under 90 %
    check(page, "reports-week")

    # the ranking to Excel
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").first.click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert [c.value for c in sheet[3]][:3] == ["排名", "部门", "派单量"]

    # the district's overdue figure opens the one order behind it
    overdue_column = 11  # rank, name, then the ten figures: 超期件数 is the last
    with page.expect_navigation():
        row.locator(f"td:nth-child({overdue_column + 1}) a").click()
    expect(page.locator("main")).to_contain_text("指标明细工单：超期件数")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    expect(page.locator("table.tickets")).to_contain_text(orders["B"])
    check(page, "drill-down-overdue")

    # printed: no menu or forms, the charts still drawn
    page.goto("/reports/?kind=week&week=2026-W24")
    expect(page.locator("html[data-charts=ready]")).to_have_count(1)
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".period-picker")).to_be_hidden()
    assert all(c["drawn"] > 2000 for c in page.evaluate(CANVAS_JS))
    screenshot(page, "reports-print")
