"""Call statistics, agents' performance, the call list and the forecast, from the known Monday of
calldata.py: every figure checked against the table there, counted by hand."""
import csv
import html as htmlmod
import io
import re

import openpyxl
import pytest

from tests.hotline.auth.test_login import logged_in as _client
from tests.hotline.reports import calldata

DAY = "kind=custom&from=2026-06-08&to=2026-06-08"


@pytest.fixture
def monday(world, clock):
    data = calldata.build(world)
    clock.set(calldata.NOW)
    return data



def _text(resp):
    return htmlmod.unescape(resp.get_data(as_text=True))


def _row(page: str, table_id: str, label: str) -> dict:
    """The cells of the row whose header is `label` in the table `table_id`, by data-col."""
    table = page[page.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    start = table.index(f'<th scope="row">{label}</th>')
    row = table[start:table.index("</tr>", start)]
    return dict(re.findall(r'data-col="([a-z_]+)">([^<]*)<', row))


def test_the_centres_figures_of_the_day(app, monday):
    page = _text(_client(app, "manager").get(f"/reports/calls?{DAY}"))
    cards = dict(re.findall(r'data-figure="([a-z_]+)"><span class="name">[^<]*</span><strong>([^<]*)</strong>',
                            page))
    assert cards == {
        "offered": "7", "answered": "4", "abandoned": "2", "short_abandoned": "1", "overflow": "1",
        "answer_rate": "57.1%",         # 4 / 7
        "abandon_rate": "16.7%",        # (2 − 1) / (7 − 1)
        "service_level": "50.0%",       # calls 1, 5, 8 within 20 s, of 4 + 2 + 1 − 1
        "asa": "0:19",                  # (10 + 30 + 20 + 15) / 4 = 18.75 s
        "longest_wait": "5:00",         # the caller sent to voicemail
        "abandon_wait": "0:26",         # (3 + 50) / 2 = 26.5 s, rounded half to even
        "talk": "1:38",                 # (100 + 200 + 60 + 30) / 4 = 97.5 s
        "acw": "0:18",                  # (20 + 40 + 0 + 10) / 4 = 17.5 s
        "aht": "1:55",                  # 460 / 4 = 115 s
    }
    assert "话务统计" in page and "服务水平" in page and "呼损率" in page


def test_per_queue_half_hour_and_agent(app, monday):
    page = _text(_client(app, "manager").get(f"/reports/calls?{DAY}"))
    q1 = _row(page, "t-queues", "综合咨询")
    assert (q1["offered"], q1["answered"], q1["abandoned"], q1["short_abandoned"]) == ("4", "2", "2", "1")
    assert q1["service_level"] == "33.3%" and q1["asa"] == "0:20" and q1["aht"] == "3:00"
    q2 = _row(page, "t-queues", "投诉举报")
    assert (q2["offered"], q2["answered"], q2["overflow"], q2["service_level"]) == ("3", "2", "1", "66.7%")
    assert q2["aht"] == "0:50"            # (60 + 0 + 30 + 10) / 2
    nine = _row(page, "t-intervals", "09:00–09:30")
    assert (nine["offered"], nine["answered"], nine["abandoned"]) == ("3", "2", "1")
    assert nine["idle_agents"] == "1.5" and nine["logged_in"] == "2.0"   # A ready; B 15 min ACW, 15 min ready
    assert _row(page, "t-intervals", "23:30–24:00")["answered"] == "1"    # call 8, answered after midnight
    assert _row(page, "t-intervals", "00:00–00:30")["idle_agents"] == "1.0"  # B, ready since Sunday
    a = _row(page, "t-agents", "call_taker")
    assert (a["answered"], a["missed"], a["talk"], a["acw"], a["aht"]) == ("2", "1", "1:20", "0:10", "1:30")
    b = _row(page, "t-agents", "expert")
    assert (b["answered"], b["missed"], b["aht"]) == ("2", "0", "2:20")


def test_agents_performance(app, monday, api, new_ticket, clock):
    calldata.orders(api, new_ticket, clock)
    page = _text(_client(app, "supervisor").get(f"/reports/agents?{DAY}"))
    a = _row(page, "t-performance", "call_taker")
    assert (a["answered"], a["missed"], a["outbound"]) == ("2", "1", "1")
    assert a["logged_in"] == "3:30:00" and a["ready"] == "3:00:00" and a["not_ready"] == "0:30:00"
    assert a["registered"] == "3" and a["direct"] == "2" and a["repeats"] == "1" and a["repeat_rate"] == "50.0%"
    b = _row(page, "t-performance", "expert")
    assert b["ready"] == "1:15:00" and b["after_call_work"] == "0:15:00" and b["logged_in"] == "1:45:00"
    assert "示忙：用餐" in page and "示忙：小休" in page
    total = _row(page, "t-performance", "全体坐席")
    assert total["answered"] == "4" and total["ready"] == "4:15:00"


def test_the_call_list_grouped_by_agent_and_its_export(app, monday):
    client = _client(app, "manager")
    page = _text(client.get(f"/reports/cdr?{DAY}&group=agent"))
    summary = page[page.index('id="t-summary"'):page.index("</table>", page.index('id="t-summary"'))]
    row = summary[summary.index('<th scope="row">call_taker</th>'):]
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[:4] == ["3", "3", "0", "4:40"]  # 100 + 60 + 120 s
    assert "13812345678" in page
    masked = _text(client.get(f"/reports/cdr?{DAY}&group=day&masked=1"))
    assert "13812345678" not in masked and "138****5678" in masked and "2026-06-08" in masked
    resp = client.get(f"/reports/cdr.csv?{DAY}")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["开始时间", "方向", "市民号码", "队列", "坐席", "等待（秒）", "通话时长（秒）", "时长（秒）",
                       "结果", "工单"]
    assert len(rows) == 1 + 8
    first = rows[1]
    assert first[:6] == ["2026-06-08 08:59:30", "呼入", "13812345678", "综合咨询", "call_taker", "10"]
    assert first[6] == "100" and first[8] == "已接通"
    click = [r for r in rows if r[1] == "外呼"][0]
    assert click[2] == "13900001111" and click[6] == "120"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/cdr.xlsx?{DAY}&masked=1").data))
    sheet = book.active
    assert sheet.cell(row=3, column=3).value == "市民号码" and sheet.cell(row=4, column=3).value == "138****5678"


def test_the_exports_of_the_statistics_have_chinese_headers(app, monday):
    client = _client(app, "manager")
    for url in (f"/reports/calls/queues.csv?{DAY}", f"/reports/calls/intervals.csv?{DAY}",
                f"/reports/calls/agents.csv?{DAY}", f"/reports/agents.csv?{DAY}", "/reports/forecast.csv"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        header = next(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
        assert not any(re.search("[A-Za-z]{3,}", h) for h in header), (url, header)
    queues = list(csv.reader(io.StringIO(client.get(f"/reports/calls/queues.csv?{DAY}")
                                         .get_data(as_text=True).lstrip("\ufeff"))))
    assert queues[0][:3] == ["队列", "呼入量", "接通量"] and queues[-1][:3] == ["合计", "7", "4"]


def test_the_forecast_from_two_mondays(app, monday):
    page = _text(_client(app, "manager").get("/reports/forecast?weekday=0&weeks=2"))
    assert "2026-06-08 – 2026-06-15" in page
    nine = _row(page, "t-forecast", "09:00–09:30")
    # 3 calls on the 8th, none on the 15th: 1.5 expected; handle time (120 + 240) / 2 = 180 s; 0.15 erlangs
    assert nine["calls"] == "1.5" and nine["aht"] == "3:00" and nine["agents"] == "1"
    assert nine["logged_in"] == "1.0"      # two agents on the 8th, nobody on the 15th
    assert "排班预测" in page


@pytest.mark.parametrize("url", ["/reports/calls", "/reports/agents", "/reports/cdr", "/reports/forecast",
                                 "/reports/cdr.xlsx", "/reports/calls/queues.csv", "/reports/agents.xlsx"])
def test_handlers_and_call_takers_are_refused(app, world, url):
    for user in ("handler", "call_taker"):
        assert _client(app, user).get(url).status_code == 403


@pytest.mark.parametrize("user", ["manager", "supervisor", "reviewer"])
def test_the_readers_of_the_workspace_open_every_page(app, world, user):
    client = _client(app, user)
    for url in ("/reports/calls", "/reports/agents", "/reports/cdr", "/reports/forecast"):
        resp = client.get(url)
        assert resp.status_code == 200, url
    assert 'href="/reports/calls"' in client.get("/reports/").get_data(as_text=True)


def test_a_bad_period_or_forecast_input_is_named(app, world):
    client = _client(app, "manager")
    assert client.get("/reports/calls?kind=custom&from=2026-06-09&to=2026-06-01").status_code == 422
    resp = client.get("/reports/forecast?weeks=99")
    assert resp.status_code == 422 and "e-weeks" in resp.get_data(as_text=True)


def test_every_change_of_an_agents_state_is_logged(app, world, clock):
    """The agents' time in each state is counted from a log that every change of state writes."""
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.auth.models import User
    from hotline.telephony.models import AgentStateChange
    from hotline.telephony.operations import agents
    from workflows.acd import AgentState

    db.session.execute(sa.update(User).where(User.id == world.users["call_taker"].id).values(extension="8001"))
    user = db.session.get(User, world.users["call_taker"].id)
    clock.set(calldata.at(8, 8, 30))
    agents.set_agent_state(user, "ready")
    clock.set(calldata.at(8, 10, 30))
    agents.set_agent_state(user, "not_ready", "meal")
    clock.set(calldata.at(8, 11))
    agents.set_agent_state(user, "offline")
    db.session.commit()
    log = db.session.execute(sa.select(AgentStateChange.state, AgentStateChange.reason, AgentStateChange.at)
                             .where(AgentStateChange.user_id == user.id).order_by(AgentStateChange.at)).all()
    assert [(s, r) for s, r, _a in log] == [(AgentState.READY, None), (AgentState.NOT_READY, "meal"),
                                           (AgentState.OFFLINE, None)]
    assert log[1][2] == calldata.at(8, 10, 30)
    clock.set(calldata.NOW)
    page = _text(_client(app, "manager").get(f"/reports/agents?{DAY}"))
    row = _row(page, "t-performance", "call_taker")
    assert row["ready"] == "2:00:00" and row["not_ready"] == "0:30:00" and row["logged_in"] == "2:30:00"


def test_the_wallboard_shows_the_days_figures_of_the_report(app, monday, clock):
    """At the end of the known Monday the wallboard's today figures of each queue are those of the
    call statistics for that day (one definition of short abandons and the service level)."""
    from hotline.core.base import utcnow
    from hotline.telephony import queries as telephony
    clock.set(calldata.at(8, 23, 59, 59))
    page = _text(_client(app, "manager").get(f"/reports/calls?{DAY}"))
    with app.app_context():
        board = {q["queue"].name: q for q in telephony.queue_figures(utcnow())}
    q1, q2 = _row(page, "t-queues", "综合咨询"), _row(page, "t-queues", "投诉举报")
    assert board["综合咨询"]["service_level"] == 33.3 and q1["service_level"] == "33.3%"  # a short abandon left out
    assert board["投诉举报"]["service_level"] == 66.7 and q2["service_level"] == "66.7%"
    for queue, row in (("综合咨询", q1), ("投诉举报", q2)):
        for figure in ("offered", "answered", "abandoned", "short_abandoned", "overflow"):
            assert str(board[queue][figure]) == row[figure], (queue, figure)
        assert f'{board[queue]["answer_rate"]:.1f}%' == row["answer_rate"]
