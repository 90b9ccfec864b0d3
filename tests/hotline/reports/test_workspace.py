"""The statistics and assessment workspace: who may read it, its figures, drill-downs and exports."""
import csv
import html as htmlmod
import io
import re

import openpyxl
import pytest

from tests.hotline.auth.test_login import logged_in as _client

WEEK = "/reports/?kind=week&week=2026-W24"



def _text(resp):
    return htmlmod.unescape(resp.get_data(as_text=True))


def _links(page: str) -> list[str]:
    return [htmlmod.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


def _numbers_listed(client, url) -> set[str]:
    page = client.get(url).get_data(as_text=True)
    return set(re.findall(r'href="/tickets/(\d{14})"', page))


@pytest.mark.parametrize("user", ["manager", "supervisor", "reviewer"])
def test_managers_supervisors_and_reviewers_read_it_from_the_menu(app, world, user):
    client = _client(app, user)
    home = client.get("/tickets").get_data(as_text=True)
    assert 'href="/reports/"' in home and "统计考核" in home
    assert client.get("/reports/").status_code == 200


@pytest.mark.parametrize("user", ["handler", "district_admin", "call_taker", "admin"])
def test_everyone_else_is_refused(app, world, user):
    client = _client(app, user)
    assert 'href="/reports/"' not in client.get("/tickets").get_data(as_text=True)
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/ranking.xlsx").status_code == 403


def test_the_page_shows_the_weeks_figures_in_chinese(app, dataset):
    page = _text(_client(app, "manager").get(WEEK))
    assert "2026-06-08 – 2026-06-14" in page and "对比 2026-06-01 至 2026-06-07" in page
    totals = page[page.index('id="h-totals"'):page.index('id="h-intake"')]
    intake = totals[totals.index("受理量"):totals.index("直接答复")]
    assert "<strong>4</strong>" in intake and "▲ 100.0%" in intake and "上期：2" in intake
    completion = totals[totals.index("按时办结率"):totals.index("满意率")]
    assert "<strong>50.0%</strong>" in completion and "低于考核线" in completion
    ranking = page[page.index('id="h-ranking"'):]
    row = ranking[ranking.index("<th scope=\"row\">东城区"):]
    row = row[:row.index("</tr>")]
    cells = re.findall(r'<td class="num( low)?"><a href="[^"]+">(?:<span aria-hidden="true">⚠ </span>'
                       r'<span class="visually-hidden">[^<]+</span>)?([^<]+)</a>', row)
    # 派单量 签收及时率 应办结 按时办结率 回访量 满意率 退单量 重办件数 催办次数 超期件数; rates under 90 % marked
    assert [(bool(low), v) for low, v in cells] == [
        (False, "2"), (True, "0.0%"), (False, "1"), (True, "0.0%"), (False, "1"), (True, "0.0%"),
        (False, "1"), (False, "1"), (False, "1"), (False, "1")]
    assert "下级单位" in row  # the district's streets have their own ranking
    for chart in ("split", "channel", "type", "hour", "trend"):
        assert f'data-source="{chart}"' in page
    assert "/static/vendor/echarts.min.js" in page and "cdn" not in page.lower()


def test_a_figure_drills_down_to_exactly_its_orders(app, dataset):
    client = _client(app, "manager")
    page = client.get(WEEK).get_data(as_text=True)
    links = _links(page)
    overdue = next(u for u in links if "measure=overdue" in u and "unit=" in u and "exact" not in u
                   and f"unit={_dc_id(page)}" in u)
    assert _numbers_listed(client, overdue) == {dataset["B"]}
    listed = _text(client.get(overdue))
    assert "指标明细工单：超期件数 · 2026-06-08 – 2026-06-14 · 东城区（含下级单位）" in listed
    intake = next(u for u in links if "measure=intake" in u and "from=2026-06-08" in u and "to=2026-06-14" in u
                  and "&" not in u.split("to=2026-06-14")[1])
    assert _numbers_listed(client, intake) == {dataset[k] for k in "CDEF"}
    direct = next(u for u in links if "measure=direct" in u)
    assert _numbers_listed(client, direct) == {dataset["E"]}
    web = next(u for u in links if "measure=intake" in u and "channel=web" in u)
    assert _numbers_listed(client, web) == {dataset["F"]}
    late_night = next(u for u in links if "measure=intake" in u and "hour=23" in u)
    assert _numbers_listed(client, late_night) == {dataset["F"]}
    # the district's own ranking: its streets, and itself for what was given to it directly
    inner = _text(client.get(WEEK + f"&slice=department&parent={_dc_id(page)}"))
    assert "东城区（本级）" in inner and "幸福路街道" in inner and "和平街道" in inner


def _dc_id(page: str) -> str:
    return re.search(r'<th scope="row">东城区 <a class="no-print sub" href="[^"]*parent=(\d+)', page).group(1)


def test_the_list_refuses_a_drill_down_it_cannot_read(app, dataset):
    client = _client(app, "manager")
    resp = client.get("/tickets?measure=nonsense&from=2026-06-08&to=2026-06-14")
    assert resp.status_code == 422
    assert client.get("/tickets?measure=overdue&from=2026-06-14&to=2026-06-08").status_code == 422


def test_the_ranking_exports_to_excel_and_csv_in_chinese(app, dataset):
    client = _client(app, "manager")
    resp = client.get("/reports/ranking.xlsx?kind=week&week=2026-W24")
    assert resp.status_code == 200 and "spreadsheetml" in resp.content_type
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "部门考核排名（2026-06-08 至 2026-06-14）"
    header = rows[2]
    assert header[:4] == ["排名", "部门", "派单量", "签收及时率"] and header[-1] == "低于考核线（90%）"
    dc = next(r for r in rows[3:] if r[1] == "东城区")
    assert dc[2] == 2 and dc[3] == 0 and dc[-1] == "签收及时率、按时办结率、满意率"
    assert sheet.cell(row=4, column=4).number_format == "0.0%"
    cgj = next(r for r in rows[3:] if r[1] == "城市管理局")
    assert cgj[header.index("按时办结率")] == 1 and not cgj[-1]
    text = client.get("/reports/ranking.csv?kind=week&week=2026-W24").data.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0][:4] == ["排名", "部门", "派单量", "签收及时率"]
    dc = next(r for r in table[1:] if r[1] == "东城区")
    assert dc[3] == "0.0%" and dc[-1] == "签收及时率、按时办结率、满意率"


def test_the_ranking_by_channel_counts_what_came_in(app, dataset):
    page = _text(_client(app, "manager").get(WEEK + "&slice=channel"))
    ranking = page[page.index('id="h-ranking"'):]
    assert "按来源渠道排名" in ranking
    row = ranking[ranking.index('<th scope="row">网站'):]
    assert re.search(r'measure=intake[^"]*channel=web[^"]*">1</a>', row[:row.index("</tr>")])


def test_the_drill_down_list_exports_with_chinese_headers_and_values(app, dataset, world):
    client = _client(app, "manager")
    url = f"/tickets/export.xlsx?measure=overdue&from=2026-06-08&to=2026-06-14&unit={world.dept('dc').id}"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url).data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0].startswith("指标明细工单：超期件数")
    assert rows[2][:4] == ["工单编号", "状态", "诉求类型", "来源渠道"]
    assert [r[0] for r in rows[3:]] == [dataset["B"]]
    assert rows[3][1:5] == ["待签收", "投诉", "电话", "一般"] and rows[3][7] == "幸福路街道"
    text = client.get(url.replace(".xlsx", ".csv")).data.decode("utf-8")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][0] == "工单编号" and [r[0] for r in table[1:]] == [dataset["B"]]
    assert table[1][12] == "已超期"


def test_a_bad_period_is_named(app, world):
    resp = _client(app, "manager").get("/reports/?kind=month&month=2026-13")
    assert resp.status_code == 422 and "aria-invalid" in resp.get_data(as_text=True)


def test_the_floor_is_configurable(app, dataset):
    client = _client(app, "manager")
    app.config["REPORT_RATE_FLOOR"] = 0.0
    try:
        page = _text(client.get(WEEK))
    finally:
        app.config["REPORT_RATE_FLOOR"] = 0.9
    ranking = page[page.index('id="h-ranking"'):]
    assert "⚠ </span>" not in ranking and "低于 0.0% 的指标" in ranking
    assert "⚠ </span>" in _text(client.get(WEEK))


def test_a_report_reads_with_parallel_workers_and_a_list_page_without(app, world, new_ticket):
    """On PostgreSQL the application's connections plan without parallel workers (a page of a list stops after
    its rows, and workers ran ahead on shares of their own), and every report page's transaction asks for
    DATABASE_REPORT_WORKERS of them, once; SQLite has neither, and sends nothing for it."""
    import sqlalchemy as sa

    from hotline.extensions import db
    from tests.hotline.test_query_counts import counting

    new_ticket()
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        with db.engine.connect() as conn:
            assert conn.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "0"
    manager, reviewer = _client(app, "manager"), _client(app, "reviewer")

    def settings_sent(client, path):
        with app.app_context(), counting() as seen:
            assert client.get(path).status_code == 200
        return [s for s in seen if "set_config" in s]

    for path in ("/reports/", "/reports/ledger", "/reports/calls"):
        sent = settings_sent(manager, path)
        assert len(sent) == (1 if postgres else 0), (path, sent)
    assert settings_sent(reviewer, "/tickets") == [] and settings_sent(reviewer, "/board/") == []
    if postgres:  # what a report's transaction asks for holds inside it, and ends with it
        with app.test_request_context():
            from hotline.reports import measures
            measures.report_reads()
            assert db.session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "2"
            db.session.rollback()
            assert db.session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "0"
