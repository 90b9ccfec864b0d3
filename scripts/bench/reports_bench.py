"""Benchmark of the managers' reports on PostgreSQL at 100,000 and 1,000,000 orders.

Builds a year of orders with a realistic spread (categories, departments and their sub-units,
channels, types, call takers), their lead assignments with due and reply times (some late, some
returned or urged), return visits, reopen events and calls with their queue log, all with SQL
generate_series. For each size it times, as a manager reads them:
- the monthly department table (measures.table by department for last month),
- the whole monthly bulletin (content, charts, DOCX and PDF),
- the dashboard page /reports/ through the Flask test client, logged in as the manager,
and, as the in-run baseline, the login page (the floor of one page through the stack).
Each is the median of several runs after a warm-up. Goals at 1,000,000: table under 1 s,
bulletin under 10 s, dashboard under 300 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from api_bench import log, migrate, pg_url, plain, prepare_schema  # noqa: E402

GOALS = {"table": 1000, "bulletin": 10000, "dashboard": 300}

ORDERS = """
INSERT INTO citizens (id, phone, name, is_vip, created_at)
SELECT i, '139' || lpad(i::text, 8, '0'), '市民' || i, false, now() - interval '400 days'
FROM generate_series(%(c_from)s::int, %(c_to)s::int) AS i;

INSERT INTO tickets (id, number, status, type, channel, urgency, subject, content, answer, citizen_id, category_id,
                     address, is_confidential, created_at, updated_at, created_by_id, lead_department_id,
                     sla_started_at, due_at, reopen_count, urge_count, supervision_level)
SELECT i, 'R' || lpad(i::text, 12, '0'),
       CASE WHEN i %% 365 > 10 THEN (CASE WHEN i %% 100 < 96 THEN 'closed' ELSE 'in_progress' END)
            ELSE (ARRAY['closed','in_progress','awaiting_sign','awaiting_visit','replied'])[1 + i %% 5] END,
       (ARRAY['consultation','consultation','help','complaint','complaint','complaint','report','suggestion',
              'praise','repair'])[1 + (i / 7) %% 10],
       (ARRAY['phone','phone','phone','phone','phone','phone','web','sms','api','walk_in'])[1 + (i / 3) %% 10],
       'general', '幸福路占道经营 ' || i, '市民反映：幸福路口每天早上有摊贩占道经营，影响通行，请尽快处理。',
       CASE WHEN i %% 4 = 0 THEN '已当场解答。' END,
       1 + (i::bigint * 7919) %% greatest(1, %(t_to)s / 5),
       (%(categories)s::int[])[1 + (i::bigint * 31) %% %(n_categories)s],
       '东城区幸福路' || (i %% 300) || '号', i %% 50 = 3,
       now() - (i %% 365) * interval '1 day' - (i %% 86400) * interval '1 second',
       now() - (i %% 365) * interval '1 day',
       (%(takers)s::int[])[1 + i %% %(n_takers)s],
       CASE WHEN i %% 4 <> 0 THEN (%(depts)s::int[])[1 + (i::bigint * 13) %% %(n_depts)s] END,
       now() - (i %% 365) * interval '1 day',
       now() - (i %% 365) * interval '1 day' + interval '5 days',
       (i %% 97 = 0)::int, (i %% 23 = 0)::int, 0
FROM generate_series(%(t_from)s::int, %(t_to)s::int) AS i;

INSERT INTO assignments (ticket_id, department_id, ticket_created_at, ticket_status, role, status, dispatched_at, sign_due_at, signed_at,
                         reply_due_at, replied_at, return_due_at, extended_days, urge_count, contacted_citizen,
                         return_reason)
SELECT t.id, t.lead_department_id, t.created_at, t.status, 'lead',
       CASE WHEN t.status IN ('closed','awaiting_visit') THEN 'done' WHEN t.status = 'replied' THEN 'replied'
            WHEN t.status = 'in_progress' THEN 'in_progress' ELSE 'awaiting_sign' END,
       t.sla_started_at, t.sla_started_at + interval '1 day',
       CASE WHEN t.status <> 'awaiting_sign' THEN t.sla_started_at + (t.id %% 30) * interval '1 hour' END,
       t.due_at,
       CASE WHEN t.status IN ('closed','awaiting_visit','replied')
            THEN t.sla_started_at + (1 + t.id %% 7) * interval '1 day' END,
       t.sla_started_at + interval '2 days', 0, (t.id %% 23 = 0)::int, t.id %% 10 <> 1,
       CASE WHEN t.id %% 71 = 0 THEN '不属于本单位职责' END
FROM tickets t WHERE t.id BETWEEN %(t_from)s AND %(t_to)s AND t.lead_department_id IS NOT NULL;

INSERT INTO return_visits (ticket_id, satisfaction, is_resolved, visited_at, department_id)
SELECT t.id, (ARRAY['satisfied','satisfied','satisfied','basically_satisfied','dissatisfied',
                    'unreachable'])[1 + t.id %% 6],
       t.id %% 9 <> 0, t.sla_started_at + interval '8 days', t.lead_department_id
FROM tickets t WHERE t.id BETWEEN %(t_from)s AND %(t_to)s AND t.status = 'closed'
     AND t.lead_department_id IS NOT NULL AND t.id %% 3 = 0;

INSERT INTO ticket_events (ticket_id, at, action, to_status, is_internal, data)
SELECT t.id, t.created_at, 'register', 'registered', false, NULL::json FROM tickets t
WHERE t.id BETWEEN %(t_from)s AND %(t_to)s
UNION ALL
SELECT t.id, t.sla_started_at, 'dispatch', 'awaiting_sign', false, NULL::json FROM tickets t
WHERE t.id BETWEEN %(t_from)s AND %(t_to)s AND t.lead_department_id IS NOT NULL
UNION ALL
SELECT t.id, t.sla_started_at + interval '10 days', 'reopen', 'awaiting_sign', false,
       json_build_object('previous_department', t.lead_department_id) FROM tickets t
WHERE t.id BETWEEN %(t_from)s AND %(t_to)s AND t.reopen_count > 0;

INSERT INTO calls (id, sip_call_id, leg, caller, callee, worker, agent_user_id, queue_id, ticket_id, started_at,
                   answered_at, ended_at, disposition, priority)
SELECT 10000000 + t.id, 'bench-' || t.id, 'inbound', '139' || lpad(t.citizen_id::text, 8, '0'), '12345', 'w1',
       CASE WHEN t.id %% 20 <> 0 THEN t.created_by_id END, %(queue)s, t.id,
       t.created_at - interval '5 minutes',
       CASE WHEN t.id %% 20 <> 0 THEN t.created_at - interval '5 minutes' + (t.id %% 40) * interval '1 second' END,
       t.created_at, CASE WHEN t.id %% 20 <> 0 THEN 'answered' ELSE 'abandoned' END, 'normal'
FROM tickets t WHERE t.id BETWEEN %(t_from)s AND %(t_to)s AND t.channel = 'phone';

INSERT INTO queue_log (call_id, queue_id, event, at, agent_user_id, wait_seconds, talk_seconds, acw_seconds)
SELECT c.id, c.queue_id, 'entered', c.started_at, NULL::int, NULL::float, NULL::float, NULL::float FROM calls c
WHERE c.id BETWEEN 10000000 + %(t_from)s AND 10000000 + %(t_to)s
UNION ALL
SELECT c.id, c.queue_id, CASE WHEN c.answered_at IS NULL THEN 'abandoned' ELSE 'answered' END,
       coalesce(c.answered_at, c.started_at + interval '30 seconds'), c.agent_user_id,
       CASE WHEN c.answered_at IS NULL THEN 1 + c.id %% 60 ELSE c.id %% 40 END, NULL, NULL FROM calls c
WHERE c.id BETWEEN 10000000 + %(t_from)s AND 10000000 + %(t_to)s
UNION ALL
SELECT c.id, c.queue_id, 'completed', c.ended_at, c.agent_user_id, NULL, 240, NULL FROM calls c
WHERE c.id BETWEEN 10000000 + %(t_from)s AND 10000000 + %(t_to)s AND c.answered_at IS NOT NULL
"""


def grow(url: str, have: int, size: int) -> None:
    started = time.perf_counter()
    with psycopg.connect(plain(url)) as conn:
        categories = [r[0] for r in conn.execute("SELECT id FROM categories ORDER BY id")]
        depts = [r[0] for r in conn.execute("SELECT id FROM departments WHERE parent_id IS NOT NULL ORDER BY id")]
        takers = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id")]
        queue = conn.execute("SELECT min(id) FROM call_queues").fetchone()[0]
        citizens = max(1, size // 5)
        for lo in range(have + 1, size + 1, 100_000):
            hi = min(size, lo + 99_999)
            params = {"c_from": (lo - 1) // 5 + 1, "c_to": hi // 5, "citizens": citizens, "t_from": lo, "t_to": hi,
                      "categories": categories, "n_categories": len(categories), "depts": depts,
                      "n_depts": len(depts), "takers": takers, "n_takers": len(takers), "queue": queue}
            for statement in ORDERS.split(";\n\n"):
                conn.execute(statement, params)
            conn.commit()
            log(f"  {hi:,}/{size:,} orders ({time.perf_counter() - started:.0f} s)")
        for table in ("tickets", "citizens", "assignments", "ticket_events", "return_visits", "calls", "queue_log"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def existing_orders(url: str) -> int | None:
    """Orders in a bench database built before, or None when it has no schema yet."""
    with psycopg.connect(plain(url)) as conn:
        if conn.execute("SELECT to_regclass('public.tickets')").fetchone()[0] is None:
            return None
        return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]


def timed(fn, runs: int) -> float:
    fn()                                   # warm-up
    took = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took)


def measure(app, runs: int) -> dict:
    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.reports import bulletin_files, bulletins, measures
    from hotline.seed.demo import DEMO_PASSWORD
    from hotline.sla import service as sla

    now = utcnow()
    today = sla.local_date(now)
    last_month = (today.replace(day=1) - timedelta(days=1))
    period = bulletins.period_for("month", last_month.strftime("%Y-%m"), today)
    out = {}
    with app.test_request_context():
        out["table"] = timed(lambda: measures.table(period.start, period.end, "department", now=now), runs)
        sizes = {}

        def bulletin():
            _data, files = bulletin_files.render(period, now)
            sizes.update({k: len(v) for k, v in files.items()})
        out["bulletin"] = timed(bulletin, max(1, runs // 2))
        out["bulletin_bytes"] = sizes
        db.session.remove()
    client = app.test_client()
    resp = client.post("/login", data={"username": "manager", "password": DEMO_PASSWORD})
    assert resp.status_code == 302, resp.status_code

    def page(path, who=client):
        def get():
            r = who.get(path)
            assert r.status_code == 200, (path, r.status_code)
        return get
    out["dashboard"] = timed(page("/reports/"), runs * 2)
    out["baseline"] = timed(page("/login", app.test_client()), runs * 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="orders, ascending")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (after a warm-up)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the orders already in the bench database when there are no more than the first "
                             "size (migrate to head and grow from there) instead of rebuilding it")
    parser.add_argument("--build-only", action="store_true",
                        help="build the data for the last size and time nothing (then time with --reuse)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.build_only:
        sizes = sizes[-1:]
    url = pg_url()
    have = existing_orders(url) if args.reuse else None
    if have is not None and have <= sizes[0]:
        log(f"reusing the bench database ({have:,} orders), migrating it to head")
        migrate(url)
    else:
        log("preparing the bench database (migrations, demo city)")
        prepare_schema(url)
        have = 0
    os.environ["DATABASE_URL"] = url
    from hotline import create_app
    app = create_app({"WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "MESSAGING_WAKE_AFTER_COMMIT": False})
    rows = []
    for size in sizes:
        if have < size:
            log(f"growing to {size:,} orders (a year of them)")
            grow(url, have, size)
            have = size
        if args.build_only:
            log(f"built {size:,} orders; time them with --reuse")
            return
        result = measure(app, args.runs)
        rows.append((size, result))
        log(f"  table {result['table']:.0f} ms, bulletin {result['bulletin']:.0f} ms "
            f"({', '.join(f'{k} {v // 1024} KB' for k, v in result['bulletin_bytes'].items())}), "
            f"dashboard {result['dashboard']:.0f} ms, baseline page {result['baseline']:.1f} ms")
    log("\n== managers' reports, PostgreSQL (medians) ==")
    log(f"{'orders':>10} {'dept table':>11} {'bulletin':>10} {'dashboard':>10} {'baseline':>9}")
    for size, r in rows:
        log(f"{size:>10,} {r['table']:>9.0f}ms {r['bulletin']:>8.0f}ms {r['dashboard']:>8.0f}ms "
            f"{r['baseline']:>7.1f}ms")
    size, last = rows[-1]
    for name, goal in GOALS.items():
        log(f"goal at {size:,}: {name} under {goal} ms: {'met' if last[name] < goal else 'NOT met'} "
            f"({last[name]:.0f} ms)")


if __name__ == "__main__":
    main()
