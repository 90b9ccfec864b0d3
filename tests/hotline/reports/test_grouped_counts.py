"""Counting several periods or slices in one query gives what counting each apart gives (the known
fortnight, dataset.py), and report reads run without JIT on PostgreSQL."""
from datetime import date

import sqlalchemy as sa

from hotline.extensions import db
from hotline.reports import measures
from tests.hotline.reports.dataset import NOW

W24 = (date(2026, 6, 8), date(2026, 6, 14))
W23 = (date(2026, 6, 1), date(2026, 6, 7))
MAY = (date(2026, 5, 25), date(2026, 5, 31))   # apart from W24: no rows, and not next to it
SLICES = (None, "department", "district", "category", "channel", "type", "call_taker", "hour", "day")


def test_grouped_counts_equal_each_period_counted_apart(dataset):
    for periods in ({"a": W24, "b": W23}, {"a": W24, "b": MAY}, {"a": W23, "b": W24, "c": MAY}):
        for dim in SLICES:
            grouped = measures.grouped_counts(periods, dim, now=NOW)
            for name, (start, end) in periods.items():
                # the hour and day of a row are those of the first period's offset (one zone here)
                assert grouped[name] == measures.raw_counts(start, end, dim, now=NOW), (periods, dim, name)


def test_grouped_counts_of_some_counts_only(dataset):
    grouped = measures.grouped_counts({"a": W24, "b": W23}, "department", ("intake", "dispatch"), now=NOW,
                                      only=("intake", "returns", "urges"))
    assert grouped["a"] == measures.raw_counts(*W24, "department", ("intake", "dispatch"), now=NOW,
                                               only=("intake", "returns", "urges"))
    assert set().union(*grouped["a"].values()) == {"intake", "returns", "urges"}


def test_totals_of_two_periods_are_their_totals(dataset):
    both = measures.totals_of({"current": W24, "previous": W23}, now=NOW)
    assert both == {"current": measures.totals(*W24, now=NOW), "previous": measures.totals(*W23, now=NOW)}
    assert (both["current"]["intake"], both["previous"]["intake"]) == (4, 2)


def test_intake_by_several_slices_at_once_equals_each_table(dataset):
    dims = ("channel", "type", "hour", "category", "call_taker", "department", "district")
    tables = measures.intake_tables(*W24, dims, now=NOW)
    for dim in dims:
        assert tables[dim] == measures.table(*W24, dim, families=("intake",), now=NOW, only=("intake",)), dim
    grouped = measures.intake_grouped({"week": W24, "before": W23}, ("category", "department"))
    for name, period in (("week", W24), ("before", W23)):
        for dim in ("category", "department"):
            raw = measures.raw_counts(*period, dim, ("intake",), NOW, only=("intake",))
            assert grouped[name][dim] == {k: v["intake"] for k, v in raw.items()}, (name, dim)


def test_report_reads_turn_jit_off_for_the_transaction_only(dataset):
    if db.session.get_bind().dialect.name != "postgresql":
        measures.report_reads()  # nothing to do on SQLite
        return
    db.session.commit()
    server = db.session.scalar(sa.text("SHOW jit"))
    measures.report_reads()
    measures.report_reads()  # once per transaction is enough; twice is harmless
    assert db.session.scalar(sa.text("SHOW jit")) == "off"
    db.session.commit()
    assert db.session.scalar(sa.text("SHOW jit")) == server
    measures.report_reads()
    assert db.session.scalar(sa.text("SHOW jit")) == "off"
    db.session.rollback()
