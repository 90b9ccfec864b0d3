"""Bulletins (通报): their content against the known fortnight (dataset.py), the DOCX and the PDF."""
import io
import shutil
import subprocess

import pytest
from docx import Document

from hotline.core.base import utcnow
from hotline.reports import bulletin_files, bulletins
from tests.hotline.reports.dataset import NOW
from workflows import measures as wm

W24 = wm.Period("week", NOW.date().replace(day=8), NOW.date().replace(day=14))


@pytest.fixture
def w24(app, dataset):
    return bulletins.build(W24, NOW)


def test_the_weeks_bulletin_has_the_hand_counted_figures(w24):
    assert w24["period"] == "2026-W24" and w24["number"] == "〔2026〕第24期" and w24["complete"]
    assert w24["title"] == "XX市12345政务服务便民热线周报"
    f = w24["figures"]
    # C, D, E, F registered in W24; A and B in W23
    assert f["intake"]["value"] == 4 and f["intake"]["change"] == {"previous": 2, "diff": 2, "relative": 1.0}
    assert (f["direct"]["value"], f["dispatched_orders"]["value"]) == (1, 2)
    assert [(r["label"], r["value"]) for r in w24["split"]] == [("直接答复", 1), ("派单件数", 2), ("尚未处理（待处理、已并单或已撤销）", 1)]
    assert [(r["label"], r["value"], r["share"]) for r in w24["by_type"]] == [
        ("投诉", 2, 0.5), ("咨询", 1, 0.25), ("求助", 1, 0.25)]
    assert [(r["label"], r["value"]) for r in w24["by_channel"]] == [("电话", 3), ("网站", 1)]
    assert [(r["label"], r["value"]) for r in w24["top_categories"]] == [("10 城市管理", 3), ("04 市场监管", 1)]
    # the district: C dispatched to it, signed late, due and not replied on time, visited dissatisfied
    dc = next(d for d in w24["departments"] if d["label"] == "东城区")
    assert (dc["dispatched"], dc["on_time_sign_rate"], dc["due"], dc["on_time_completion_rate"],
            dc["satisfaction_rate"], dc["returns"], dc["reopened"], dc["urges"], dc["overdue"]) == (
        2, 0.0, 1, 0.0, 0.0, 1, 1, 1, 1)
    assert set(dc["below"]) == {"on_time_sign_rate", "on_time_completion_rate", "satisfaction_rate"}
    named = {d["label"]: d["text"] for d in w24["below_floor"]}
    assert named["东城区"] == "签收及时率 0.0%；按时办结率 0.0%；满意率 0.0%"
    assert "城市管理局" not in named
    # the one citizen called about 1001 three times in the week (C, D, E)
    assert w24["repeats"]["groups"] == 1 and w24["repeats"]["orders"] == 3
    assert w24["repeats"]["rows"][0]["citizen"] == "张* 138****5678"
    assert w24["hotspots"] == []  # three 1001 orders against two the week before: no jump
