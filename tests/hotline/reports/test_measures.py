"""Every measure of the known fortnight (dataset.py) against the figures counted by hand."""
from datetime import date

import sqlalchemy as sa

from hotline.extensions import db
from hotline.reports import measures
from hotline.tickets.models import Ticket
from tests.hotline.reports.dataset import NOW

W24 = (date(2026, 6, 8), date(2026, 6, 14))
W23 = (date(2026, 6, 1), date(2026, 6, 7))


def _rows(table):
    return {r["label"]: r for r in table}


def test_centre_totals_of_the_week(dataset):
    t = measures.totals(*W24, now=NOW)
    # registered in the week: C, D, E, F (G came 30 minutes after it; A and B the week before)
    assert (t["intake"], t["direct"], t["dispatched_orders"], t["direct_rate"]) == (4, 1, 2, 0.25)
    # dispatched in the week: C to dc, C again to scj on reopening, D to dc_s2, D to cgj
    assert (t["dispatched"], t["signed_on_time"], t["on_time_sign_rate"]) == (4, 1, 0.25)
    assert (t["returns"], t["return_rate"], t["urges"]) == (1, 0.25, 1)
    # due in the week: A (replied on time) and B (never signed: overdue), both dispatched the week before
    assert (t["due"], t["replied_on_time"], t["overdue"], t["on_time_completion_rate"]) == (2, 1, 1, 0.5)
    # visited in the week: C dissatisfied, E satisfied
    assert (t["visits"], t["rated"], t["satisfied"], t["satisfaction_rate"], t["resolution_rate"]) == (2, 2, 1, 0.5, 0.5)
    assert t["reopened"] == 1 and t["reopen_rate"] == 0.5
    assert t["contacted"] == 1 and t["response_rate"] == 0.25  # D's reply to cgj, in time


def test_the_week_before_counts_what_started_then(dataset):
    t = measures.totals(*W23, now=NOW)
    assert (t["intake"], t["dispatched"], t["signed_on_time"]) == (2, 2, 1)
    assert t["urges"] == 1  # B was urged on 10 June, but B's part was dispatched on 2 June
    assert t["due"] == 0 and t["on_time_completion_rate"] is None  # nothing to measure is not 0 %
    assert (t["visits"], t["satisfaction_rate"]) == (1, 1.0)


def test_departments_with_their_sub_units_rolled_up(dataset, world):
    rows = _rows(measures.table(*W24, "department", parent_id=world.dept("city").id, now=NOW))
    dc = rows["东城区"]  # dc itself (C), the street dc_s1 (B), the street dc_s2 (D's return)
    assert (dc["dispatched"], dc["signed_on_time"], dc["returns"], dc["urges"]) == (2, 0, 1, 1)
    assert (dc["due"], dc["replied_on_time"], dc["overdue"], dc["on_time_completion_rate"]) == (1, 0, 1, 0.0)
    assert (dc["visits"], dc["satisfaction_rate"], dc["reopened"]) == (1, 0.0, 1)
    cgj = rows["城市管理局"]  # D after the return; A due this week
    assert (cgj["dispatched"], cgj["on_time_sign_rate"], cgj["due"], cgj["on_time_completion_rate"]) == (1, 1.0, 1, 1.0)
    assert cgj["satisfaction_rate"] is None and cgj["reopened"] == 0
    scj = rows["市场监督管理局"]  # C's reopening, not signed yet
    assert (scj["dispatched"], scj["on_time_sign_rate"], scj["reopened"]) == (1, 0.0, 0)
    inside = _rows(measures.table(*W24, "department", parent_id=world.dept("dc").id, now=NOW))
    itself = inside["东城区（本级）"]  # what was given to the district directly
    assert (itself["dispatched"], itself["reopened"]) == (1, 1)
    assert (inside["幸福路街道"]["due"], inside["幸福路街道"]["overdue"]) == (1, 1)
    assert (inside["和平街道"]["dispatched"], inside["和平街道"]["returns"]) == (1, 1)
    # the parts add up to the whole
    for name in ("dispatched", "returns", "due", "overdue", "visits", "reopened", "urges"):
        assert sum(r[name] for r in inside.values()) == dc[name]


def test_the_api_report_keeps_each_department_on_its_own(dataset, api, world):
    items = api("manager").get("/reports/departments?from=2026-06-08&to=2026-06-14").get_json()["items"]
    rows = {r["department"]["id"]: r for r in items}
    assert rows[world.dept("dc_s1").id]["overdue"] == 1 and rows[world.dept("dc").id]["dispatched"] == 1
    assert rows[world.dept("dc").id]["reopened"] == 1 and rows[world.dept("cgj").id]["on_time_completion_rate"] == 1.0


def test_slices_of_the_intake(dataset, world):
    channel = _rows(measures.table(*W24, "channel", families=("intake",), now=NOW))
    assert (channel["电话"]["intake"], channel["网站"]["intake"], channel["短信"]["intake"]) == (3, 1, 0)
    kinds = _rows(measures.table(*W24, "type", families=("intake",), now=NOW))
    assert (kinds["投诉"]["intake"], kinds["咨询"]["intake"], kinds["求助"]["intake"]) == (2, 1, 1)
    assert kinds["咨询"]["direct"] == 1
    hours = {r["key"]: r["intake"] for r in measures.table(*W24, "hour", families=("intake",), now=NOW)}
    assert {h: n for h, n in hours.items() if n} == {9: 1, 10: 1, 14: 1, 23: 1}  # local hours
    categories = _rows(measures.table(*W24, "category", families=("intake", "due"), now=NOW))
    assert categories["10 城市管理"]["intake"] == 3 and categories["04 市场监管"]["intake"] == 1
    assert categories["10 城市管理"]["due"] == 2  # A and B, sub-category 1001 rolled up into 10
    takers = _rows(measures.table(*W24, "call_taker", families=("intake",), now=NOW))
    assert takers["call_taker"]["intake"] == 4
    districts = _rows(measures.table(*W24, "district", now=NOW))
    assert list(districts) == ["东城区"] and districts["东城区"]["overdue"] == 1


def test_the_daily_trend_places_each_order_on_its_local_day(dataset):
    points = {p["label"]: p for p in measures.trend(*W24, now=NOW)}
    assert [points[d]["intake"] for d in ("06-08", "06-09", "06-10", "06-11", "06-12", "06-13", "06-14")] \
        == [1, 0, 1, 1, 0, 0, 1]
    assert (points["06-08"]["due"], points["06-08"]["on_time_completion_rate"]) == (1, 1.0)
    assert (points["06-09"]["due"], points["06-09"]["on_time_completion_rate"]) == (1, 0.0)
    weekly = measures.trend(date(2026, 6, 1), date(2026, 6, 14), "week", now=NOW)
    assert [(p["label"], p["intake"], p["due"]) for p in weekly] == [("2026-W23", 2, 0), ("2026-W24", 4, 2)]


def _numbers(drill):
    where = measures.orders_where(drill, NOW)
    return set(db.session.scalars(sa.select(Ticket.number).where(where)))


def test_each_figure_finds_exactly_the_orders_it_counts(dataset, world):
    o = dataset
    week = dict(start=W24[0], end=W24[1])
    D = measures.Drill  # noqa: N806
    assert _numbers(D("intake", **week)) == {o["C"], o["D"], o["E"], o["F"]}
    assert _numbers(D("intake", **week, hour=23)) == {o["F"]}
    assert _numbers(D("direct", **week)) == {o["E"]}
    assert _numbers(D("overdue", **week)) == {o["B"]}
    assert _numbers(D("overdue", **week, unit=world.dept("dc").id)) == {o["B"]}
    assert _numbers(D("overdue", **week, unit=world.dept("dc").id, exact=True)) == set()
    assert _numbers(D("not_on_time", **week)) == {o["B"]}
    assert _numbers(D("returns", **week, unit=world.dept("dc").id)) == {o["D"]}
    assert _numbers(D("sign_late", **week, unit=world.dept("dc").id)) == {o["C"], o["D"]}
    assert _numbers(D("urged", **week)) == {o["C"]}
    assert _numbers(D("reopened", **week, unit=world.dept("dc").id)) == {o["C"]}
    assert _numbers(D("not_satisfied", **week)) == {o["C"]}
    assert _numbers(D("due", start=W23[0], end=W23[1])) == set()
    assert _numbers(D("intake", **week, uncategorised=True)) == set()
