"""A supervisor reads every reports tab, the week's hotspots and the category ledger, then generates
the week's bulletin from the page: the progress bar moves, and the finished files download."""
import io

import pytest
from docx import Document
from playwright.sync_api import expect

from hotline.reports import tasks
from tests.e2e.helpers import check, login
from tests.hotline.reports.dataset import NOW, at, build

pytestmark = pytest.mark.e2e

TABS = ("工单与部门", "话务统计", "坐席考核", "通话清单", "排班预测", "分类台账", "通报")


@pytest.fixture
def week_with_hotspot(api, world, new_ticket, clock):
    """The known week of dataset.py and five food-safety orders on its Friday (a hotspot)."""
    orders = build(api, world, new_ticket, clock)
    for minute in range(5):
        clock.set(at(12, 9, minute))
        number = new_ticket(category="0401", subject="餐馆食品变质")
        assert api("call_taker").action(number, "dispatch", {"department": world.dept("dc_s2").id}).status_code == 200
    clock.set(NOW)
    return orders


def test_every_tab_the_hotspots_and_the_ledger(pages, week_with_hotspot):
    page = pages.new(width=1366, height=900)
    login(page, "manager")
    page.goto("/reports/")
    for number, name in enumerate(TABS, 1):
        page.locator("nav.report-tabs").get_by_role("link", name=name, exact=True).click()
        expect(page.locator("nav.report-tabs a[aria-current=page]")).to_have_text(name)
        check(page, f"tab-{number}")

    page.goto("/reports/?kind=week&week=2026-W24")
    hotspots = page.locator("section", has=page.locator("#h-hotspots"))
    expect(hotspots.locator("table")).to_contain_text("0401 食品安全")
    expect(hotspots.locator("table")).to_contain_text("东城区 和平街道")
    hotspots.scroll_into_view_if_needed()
    check(page, "hotspots")

    page.goto("/reports/ledger?kind=week&week=2026-W24")
    expect(page.get_by_role("heading", level=1)).to_have_text("分类台账")
    expect(page.locator("main")).to_contain_text("0401 食品安全")
    check(page, "category-ledger")


def test_generate_a_bulletin_watch_it_and_download_it(app, pages, api, world, new_ticket, clock, monkeypatch,
                                                      tmp_path):
    build(api, world, new_ticket, clock)
    monkeypatch.setitem(app.config, "BULLETIN_DIR", str(tmp_path / "bulletins"))
    queued = []
    monkeypatch.setattr(tasks, "enqueue", queued.append)  # the worker's part is played below
    page = pages.new(width=1366, height=900)
    login(page, "supervisor")
    page.goto("/reports/bulletins/")
    page.locator("#b-kind").select_option("week")
    page.locator("#b-week").select_option("2026-W24")
    page.locator("form").get_by_role("button", name="生成", exact=True).click()
    bar = page.locator("td.bulletin-state progress")
    expect(bar).to_be_visible()
    check(page, "bulletin-queued")
    assert len(queued) == 1

    assert tasks.generate(queued[0], now=NOW)
    expect(bar).to_have_count(0, timeout=15_000)          # the page's poll sees it done
    downloads = page.locator("td[data-downloads] a")
    expect(downloads).to_have_count(2)
    check(page, "bulletin-ready")
    with page.expect_download() as download:
        downloads.first.click()
    assert download.value.suggested_filename.endswith("2026-W24.docx")
    doc = Document(io.BytesIO(download.value.path().read_bytes()))
    assert doc.paragraphs[0].text == "XX市12345政务服务便民热线"
