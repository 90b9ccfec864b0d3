"""The category ledger (分类台账): the orders of a period by category and type, with their state and
timeliness, a summary per category, printable and exported. Checked against the known fortnight
(dataset.py): in week 2026-W24 orders C, D, E and F were registered."""
import csv
import html as htmlmod
import io
import re

import openpyxl
import pytest

from tests.hotline.auth.test_login import logged_in as _client

W24 = "/reports/ledger?kind=week&week=2026-W24"



def _rows(page: str, table_class: str) -> list[list[str]]:
    table = page[page.index(f'class="list compact {table_class}"'):]
    table = table[:table.index("</table>")]
    body = table[table.index("<tbody>"):]
    return [[htmlmod.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_weeks_ledger_lists_each_order_with_its_state_and_timeliness(app, dataset):
    page = _client(app, "manager").get(W24).get_data(as_text=True)
    assert "分类台账" in page and "2026-06-08 – 2026-06-14" in page
    rows = {r[0]: r for r in _rows(page, "ledger")}
    assert set(rows) == {dataset[k] for k in "CDEF"}          # A, B before the week; G after it
    c, d, e, f = (rows[dataset[k]] for k in "CDEF")
    # C was reopened to scj on Sat 13 Jun: its new lead owes a reply by Mon 22 Jun, after "now" (Sat 20)
    assert c[2] == "占道经营" and c[5] == "市场监督管理局" and c[7] == "2026-06-22 23:59" and c[9] == "办理中（未超期）"
    # D came back from the street and went to cgj, which replied on Fri 12 Jun, before its deadline
    assert d[5] == "城市管理局" and d[8] == "2026-06-12 10:00" and d[9] == "按时办结"
    assert e[3] == "咨询" and e[9] == "直接答复" and e[10] == "满意"
    assert f[2] == "食品安全" and f[3] == "求助" and f[9] == "未派单"


def test_the_summary_counts_each_category_and_its_on_time_rate(app, dataset):
    page = _client(app, "manager").get(W24).get_data(as_text=True)
    summary = {r[0]: r[1:] for r in _rows(page, "ledger-summary")}
    # orders, finished, on time, late, overdue, within deadline, answered directly, not dispatched, rate
    assert summary["0401 食品安全"] == ["1", "0", "0", "0", "0", "0", "0", "1", "—"]
    # C within its deadline, D replied on time, E answered directly and closed after its visit
    assert summary["1001 占道经营"] == ["3", "1", "1", "0", "0", "1", "1", "0", "100.0%"]
    assert summary["合计"] == ["4", "1", "1", "0", "0", "1", "1", "1", "100.0%"]


def test_a_ledger_is_kept_for_one_type_and_one_category(app, dataset):
    client = _client(app, "manager")
    complaints = client.get(W24 + "&type=complaint").get_data(as_text=True)
    assert {r[0] for r in _rows(complaints, "ledger")} == {dataset["C"], dataset["D"]}
    food = client.get(W24 + "&category=04").get_data(as_text=True)       # 04 and everything below it
    assert {r[0] for r in _rows(food, "ledger")} == {dataset["F"]}
    bad = client.get(W24 + "&type=nonsense&category=99")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "请从列表中选择诉求类型" in text and "请从列表中选择诉求分类" in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_has_every_order_with_chinese_headers_and_values(app, dataset, fmt):
    resp = _client(app, "manager").get(f"/reports/ledger.{fmt}?kind=week&week=2026-W24&type=complaint")
    assert resp.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
        rows = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
        rows = rows[next(i for i, r in enumerate(rows) if r and r[0] == "工单编号"):]
    assert rows[0][:4] == ["工单编号", "受理时间", "诉求分类", "诉求类型"] and rows[0][10] == "时效"
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {dataset["C"], dataset["D"]}
    assert by_number[dataset["D"]][3] == "投诉" and by_number[dataset["D"]][10] == "按时办结"


@pytest.mark.parametrize("user", ["handler", "call_taker", "admin"])
def test_only_the_readers_of_the_reports_see_it(app, world, user):
    client = _client(app, user)
    assert client.get("/reports/ledger").status_code == 403
    assert client.get("/reports/ledger.xlsx").status_code == 403
