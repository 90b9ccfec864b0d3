"""Hotspots found and told to the supervisors; bulletins generated from the page (a task with a progress
bar), kept and downloaded; and written by `hotline reports bulletin`."""
import io

import pytest
import sqlalchemy as sa
from docx import Document

from hotline.extensions import db
from hotline.messaging.models import Message
from hotline.reports import hotspots, tasks
from hotline.reports.models import Bulletin
from tests.hotline.auth.test_login import _csrf, logged_in as _client
from tests.hotline.reports.dataset import NOW, at
from workflows import measures as wm

W24 = wm.Period("week", NOW.date().replace(day=8), NOW.date().replace(day=14))



@pytest.fixture(autouse=True)
def bulletin_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BULLETIN_DIR", str(tmp_path / "bulletins"))


@pytest.fixture
def food_scare(api, world, dataset, new_ticket, clock):
    """Five more food-safety orders (0401) on Fri 12 June, all sent to the street 和平街道 (dc_s2)."""
    for minute in range(5):
        clock.set(at(12, 9, minute))
        number = new_ticket(category="0401", subject="餐馆食品变质")
        assert api("call_taker").action(number, "dispatch", {"department": world.dept("dc_s2").id}).status_code == 200
    clock.set(NOW)


def test_what_jumps_against_its_own_history_is_a_hotspot(app, food_scare):
    found = hotspots.find(W24, NOW)
    # history: 1-7 June (the first order was registered on 1 June), nothing of 0401 nor of 和平街道, one order (B)
    # in 东城区: expected 0.5, 0.5 and 1.0 in a week
    assert [(h["label"], h["count"], h["expected"]) for h in found] == [
        ("0401 食品安全", 6, 0.5), ("东城区 和平街道", 5, 0.5), ("东城区", 5, 1.0)]
    # P(X >= 6 | 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125 + 0.020833 + 0.002604 + 0.000260); P(X >= 5 | 0.5); P(X >= 5 | 1)
    assert [round(h["p_value"], 7) for h in found] == [pytest.approx(1.42e-5, abs=2e-7),
                                                       pytest.approx(1.721e-4, abs=2e-7),
                                                       pytest.approx(3.66e-3, abs=2e-6)]
    page = _client(app, "manager").get("/reports/?kind=week&week=2026-W24").get_data(as_text=True)
    table = page[page.index('id="h-hotspots"'):page.index('id="h-ranking"')]
    assert "0401 食品安全" in table and "东城区 和平街道" in table and "2026-06-01 – 2026-06-07" in table
    assert "measure=intake" in table and "category=0401" in table


def test_the_supervisors_hear_of_each_hotspot_once_a_week(app, world, food_scare):
    assert tasks.alert_hotspots(now=at(14, 23, 45)) == 3
    assert tasks.alert_hotspots(now=at(14, 23, 50)) == 0  # the same week's hotspots: told already
    rows = db.session.scalars(sa.select(Message).where(Message.template == "hotspot").order_by(Message.id)).all()
    assert {m.recipient_user_id for m in rows} == {world.users["supervisor"].id}
    assert rows[0].subject == "热点预警：0401 食品安全"
    assert "2026-06-08 至 2026-06-14 受理工单 6 件" in rows[0].body and "预计 0.5 件" in rows[0].body


@pytest.mark.parametrize("user", ["handler", "call_taker", "admin"])
def test_only_readers_of_the_reports_see_bulletins(app, world, user):
    client = _client(app, user)
    assert client.get("/reports/bulletins/").status_code == 403
    assert client.get("/reports/bulletins/1/status").status_code == 403
    assert client.get("/reports/bulletins/1/pdf").status_code == 403


def test_generate_follow_the_progress_and_download(app, world, dataset, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue", queued.append)
    client = _client(app, "supervisor")
    page = client.get("/reports/bulletins/").get_data(as_text=True)
    assert "立即生成通报" in page and "暂无通报" in page
    resp = client.post("/reports/bulletins/", data={"csrf_token": _csrf(page), "kind": "week", "week": "2026-W24"})
    assert resp.status_code == 303 and len(queued) == 1
    bulletin_id = queued[0]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'data-status-url="/reports/bulletins/{bulletin_id}/status"' in page and "<progress" in page
    status = client.get(f"/reports/bulletins/{bulletin_id}/status").get_json()
    assert status["state"] == "queued" and status["progress"] == 0 and status["downloads"] == []
    assert client.get(f"/reports/bulletins/{bulletin_id}/docx").status_code == 404  # not yet

    seen = []
    render = tasks.bulletin_files.render

    def watching(period, now, formats=("docx", "pdf"), progress=None, **kw):
        def step(name):
            progress(name)
            # what another connection (the page's poll) reads once the step is committed
            with db.engine.connect() as other:
                seen.append(other.execute(sa.select(Bulletin.progress).where(Bulletin.id == bulletin_id)).scalar())
        return render(period, now, formats, progress=step, **kw)
    monkeypatch.setattr(tasks.bulletin_files, "render", watching)
    assert tasks.generate(bulletin_id, now=NOW)
    assert seen == sorted(seen) and len(set(seen)) >= 8 and seen[-1] == 85

    status = client.get(f"/reports/bulletins/{bulletin_id}/status").get_json()
    assert status["state"] == "done" and status["progress"] == 100 and status["state_title"] == "已生成"
    assert [d["format"] for d in status["downloads"]] == ["docx", "pdf"]
    docx = client.get(status["downloads"][0]["url"])
    assert docx.status_code == 200 and "attachment" in docx.headers["Content-Disposition"]
    assert "2026-W24.docx" in docx.headers["Content-Disposition"]
    assert Document(io.BytesIO(docx.data)).paragraphs[0].text == "XX市12345政务服务便民热线"
    docx.close()
    pdf = client.get(status["downloads"][1]["url"])
    assert pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    pdf.close()
    page = client.get("/reports/bulletins/").get_data(as_text=True)
    assert "周报 2026-W24" in page and "下载 DOCX" in page and "<progress" not in page
    # the managers are told, with where to find it
    notice = db.session.scalar(sa.select(Message).where(Message.template == "bulletin_ready"))
    assert notice.recipient_user_id == world.users["manager"].id
    assert notice.subject == "周报-2026-W24已生成" and f"/reports/bulletins/#bulletin-{bulletin_id}" in notice.body


def test_a_future_or_malformed_period_is_refused(app, world, monkeypatch):
    monkeypatch.setattr(tasks, "enqueue", lambda i: pytest.fail("nothing should be queued"))
    client = _client(app, "manager")
    token = _csrf(client.get("/reports/bulletins/").get_data(as_text=True))
    for form in ({"kind": "week", "week": "2099-W01"}, {"kind": "month", "month": "june"}, {"kind": "year"}):
        resp = client.post("/reports/bulletins/", data={"csrf_token": token, **form})
        assert resp.status_code == 422 and "请选择已过去或当前的周或月" in resp.get_data(as_text=True)


def test_the_schedule_makes_the_bulletin_of_the_week_just_ended_once(app, world, dataset):
    first = tasks.scheduled("week", now=at(15, 6))
    assert first is not None and tasks.scheduled("week", now=at(15, 6, 1)) is None
    bulletin = db.session.get(Bulletin, first)
    assert (bulletin.period, bulletin.state.value, bulletin.requested_by_id) == ("2026-W24", "done", None)
    assert tasks.last_complete("month", NOW.date()).label() == "2026-05"


def test_the_command_writes_the_bulletin(app, dataset, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "w24.docx"
    result = runner.invoke(args=["reports", "bulletin", "--week", "2026-W24", "--format", "docx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "2026-06-08 to 2026-06-14" in result.output
    doc = Document(str(out))
    assert any(p.text == "一、总体情况" for p in doc.paragraphs)
    pdf = tmp_path / "may.pdf"
    assert runner.invoke(args=["reports", "bulletin", "--month", "2026-06", "--format", "pdf", "--output",
                               str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(args=["reports", "bulletin", "--week", "2026-W60", "--format", "pdf", "--output", str(pdf)])
    assert bad.exit_code == 2 and "names no past or current week" in bad.output
