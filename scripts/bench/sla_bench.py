"""Benchmark of the escalation sweep on PostgreSQL at 10,000 / 100,000 / 1,000,000 open orders.

For each size: the backlog is open orders already looked at (their next threshold is days away)
plus 100 whose reply became overdue since the last pass (each owes one step). It times the
sweep as Celery beat runs it (median of several passes, the 100 reset between passes), and,
as the in-run baseline, the same rules applied to every open assignment (what a sweep without
`next_check_at` would cost: django-helpdesk's escalation pass works this way). Goal: under
200 ms per pass, flat in the backlog. Then it makes 190,000 orders cross their escalation
threshold at once and times recording them all (goal: under 60 s).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from api_bench import log, pg_url, plain, prepare_schema  # noqa: E402

CROSSING = 100

OPEN_ORDERS = """
INSERT INTO tickets (id, number, status, type, channel, urgency, subject, content, is_confidential, created_at,
                     updated_at, lead_department_id, sla_started_at, due_at, reopen_count, urge_count,
                     supervision_level)
SELECT i, 'S' || lpad(i::text, 12, '0'), 'in_progress', 'complaint', 'phone', 'general',
       '幸福路占道经营 ' || i, '市民反映：幸福路口每天早上有摊贩占道经营。', false,
       now() - interval '1 day', now() - interval '1 day', (%(depts)s::int[])[1 + i %% %(n_depts)s],
       now() - interval '1 day', now() + interval '6 days', 0, 0, 0
FROM generate_series(%(t_from)s::int, %(t_to)s::int) AS i;

INSERT INTO assignments (ticket_id, department_id, ticket_created_at, ticket_status, role, status, dispatched_at, sign_due_at, signed_at,
                         reply_due_at, return_due_at, extended_days, urge_count, next_check_at)
SELECT t.id, t.lead_department_id, t.created_at, t.status, 'lead', 'in_progress', t.sla_started_at, t.sla_started_at + interval '1 day',
       t.sla_started_at + interval '1 hour', t.due_at, t.sla_started_at + interval '2 days', 0, 0,
       now() + interval '4 days'
FROM tickets t WHERE t.id BETWEEN %(t_from)s AND %(t_to)s
"""


def grow(url: str, ctx: dict, have: int, size: int) -> None:
    started = time.perf_counter()
    with psycopg.connect(plain(url)) as conn:
        for lo in range(have + 1, size + 1, 100_000):
            hi = min(size, lo + 99_999)
            params = {"t_from": lo, "t_to": hi, "depts": ctx["dept_ids"], "n_depts": len(ctx["dept_ids"])}
            for statement in OPEN_ORDERS.split(";\n\n"):
                conn.execute(statement, params)
            conn.commit()
            log(f"  {hi:,}/{size:,} open orders ({time.perf_counter() - started:.0f} s)")
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def make_cross(url: str, first: int, count: int, *, overdue: str) -> None:
    """`count` orders from id `first` become overdue by `overdue` and due for a look now."""
    with psycopg.connect(plain(url)) as conn:
        ids = (first, first + count - 1)
        conn.execute("DELETE FROM messages WHERE ticket_id BETWEEN %s AND %s", ids)
        conn.execute("DELETE FROM ticket_events WHERE ticket_id BETWEEN %s AND %s AND actor_id IS NULL", ids)
        conn.execute(f"UPDATE assignments SET reply_due_at = now() - interval '{overdue}', "
                     "dispatched_at = now() - interval '30 days', next_check_at = now() - interval '1 minute' "
                     "WHERE ticket_id BETWEEN %s AND %s", ids)
        conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="open orders, ascending")
    parser.add_argument("--passes", type=int, default=5, help="sweeps timed per size")
    parser.add_argument("--mass", type=int, default=190_000, help="orders escalated at once at the end")
    parser.add_argument("--scan-up-to", type=int, default=100_000,
                        help="largest backlog at which the every-assignment baseline is also run (it is slow)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = pg_url()
    log("preparing the bench database (migrations, demo city)")
    ctx = prepare_schema(url)

    os.environ["DATABASE_URL"] = url
    import sqlalchemy as sa

    from hotline import create_app
    from hotline.escalation import operations
    from hotline.escalation.tasks import run_sweep
    from hotline.extensions import db
    from hotline.tickets.models import Assignment
    app = create_app({"MESSAGING_WAKE_AFTER_COMMIT": False})

    rows = []
    have = 0
    for size in sizes:
        log(f"growing to {size:,} open orders")
        grow(url, ctx, have, size)
        have = size
        swept, scanned = [], []
        with app.app_context():
            for n in range(args.passes + 1):
                make_cross(url, 1 + n * CROSSING, CROSSING, overdue="3 days")
                t0 = time.perf_counter()
                result = run_sweep()
                took = (time.perf_counter() - t0) * 1000
                # each owes one step (a reminder, an urge or, past a holiday, an escalation)
                assert sum(result.recorded.values()) == CROSSING, result.recorded
                if n:                                    # the first pass warms caches
                    swept.append(took)
            for _n in range(1 if size <= args.scan_up_to else 0):   # the baseline: every open assignment
                db.session.execute(sa.update(Assignment).where(Assignment.status.in_(["in_progress", "awaiting_sign"]))
                                   .values(next_check_at=sa.func.now() - sa.text("interval '1 second'")))
                db.session.commit()
                t0 = time.perf_counter()
                run_sweep(batch=5000)
                scanned.append((time.perf_counter() - t0) * 1000)
            db.session.remove()
        scan = statistics.median(scanned) if scanned else None
        rows.append((size, statistics.median(swept), max(swept), scan, size))
        log(f"  sweep with {CROSSING} crossing: median {rows[-1][1]:.0f} ms (worst {rows[-1][2]:.0f} ms); "
            f"every open assignment: {f'{scan:.0f} ms' if scan else 'not run (--scan-up-to)'}")

    log("\n== escalation sweep, PostgreSQL ==")
    log(f"{'open orders':>12} {'sweep p50':>10} {'worst':>8} {'scan all':>10} {'scan/sweep':>11}")
    for size, p50, worst, scan, _looked in rows:
        scan_text = f"{scan:>8.0f}ms {scan / p50:>10.0f}x" if scan else f"{'—':>10} {'—':>11}"
        log(f"{size:>12,} {p50:>8.0f}ms {worst:>6.0f}ms {scan_text}")
    flat = rows[-1][1] / rows[0][1]
    log(f"goal: each pass under 200 ms, flat: {'met' if max(r[2] for r in rows) < 200 else 'NOT met'} "
        f"(x{flat:.2f} from {rows[0][0]:,} to {rows[-1][0]:,} open orders)")

    mass = min(args.mass, have)
    log(f"\n{mass:,} orders cross their escalation threshold at once")
    make_cross(url, 1, mass, overdue="10 days")
    with app.app_context():
        t0 = time.perf_counter()
        result = run_sweep(progress=lambda total: log(f"  … {total.looked_at:,} looked at "
                                                      f"({time.perf_counter() - t0:.0f} s)")
                           if total.looked_at % 50_000 < operations.BATCH else None)
        took = time.perf_counter() - t0
    log(f"recorded {result.recorded['escalate']:,} escalations and queued {result.notices:,} notices in {took:.1f} s "
        f"(goal under 60 s: {'met' if took < 60 else 'NOT met'}; django-helpdesk's escalation pass at 1M tickets "
        f"took 1,875 s on this machine)")


if __name__ == "__main__":
    main()
