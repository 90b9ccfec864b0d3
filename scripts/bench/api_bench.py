"""Benchmark of the integration API on PostgreSQL at 100,000 and 1,000,000 orders.

Builds a bench database, serves the real app with gunicorn on 127.0.0.1, and drives it
with 16 concurrent keep-alive clients. For each size it prints throughput and p50/p99
latency (client-side, and server time from the Server-Timing header) of:
register an order, a department's open overdue orders, a citizen's history by phone,
one order's detail; and the same for GET /health as the in-run baseline (the floor of
one request through the stack). Finally it compares 1M against 100k.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CLIENTS = 16
PORT = 5099


def log(message: str) -> None:
    print(message, flush=True)


def pg_url() -> str:
    url = os.environ.get("HOTLINE_BENCH_POSTGRES_URL")
    if not url:
        sys.exit("HOTLINE_BENCH_POSTGRES_URL is unset: run scripts/bench/api, which starts PostgreSQL")
    return url


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def migrate(url: str) -> None:
    """Bring a reused bench database to the code's newest migration (the run measures this code), and
    refresh the planner's statistics."""
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.extensions import db

    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def prepare_schema(url: str) -> dict:
    """Empty bench database, migrations, the demo city without orders, a token per role."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.auth.operations import issue_token
    from hotline.extensions import db
    from hotline.seed.demo import seed_demo

    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        seed_demo(orders=0, echo=lambda _m: None)
        from hotline.auth.models import User
        import sqlalchemy as sa
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        tokens = {name: issue_token(users[name]) for name in ("calltaker", "reviewer", "handler")}
        dept_ids = [d for d in db.session.scalars(sa.text(
            "SELECT id FROM departments WHERE level IN ('city','district') AND parent_id IS NOT NULL"))]
        handler_dept = users["handler"].department_id
        db.session.commit()
        db.engine.dispose()
    return {"tokens": tokens, "dept_ids": dept_ids, "handler_dept": handler_dept}


CITIZENS = """
INSERT INTO citizens (id, phone, name, is_vip, created_at)
SELECT i, '139' || lpad(i::text, 8, '0'), '市民' || i, false, now() - interval '200 days'
FROM generate_series(%(c_from)s::int, %(c_to)s::int) AS i;
"""

ORDERS = """
INSERT INTO tickets (id, number, status, type, channel, urgency, subject, content, citizen_id, category_id,
                     address, is_confidential, created_at, updated_at, status_changed_at, lead_department_id,
                     sla_started_at, due_at, reopen_count, urge_count, supervision_level)
SELECT i,
       'B' || lpad(i::text, 12, '0'),
       -- like a real line: orders older than ten days are nearly all closed, 1%% still overdue
       CASE WHEN i %% 180 > 10 THEN
                 CASE WHEN (i * 7) %% 100 < 97 THEN 'closed' WHEN (i * 7) %% 100 = 97 THEN 'in_progress'
                      WHEN (i * 7) %% 100 = 98 THEN 'awaiting_visit' ELSE 'replied' END
            ELSE (ARRAY['closed','closed','closed','closed','in_progress','in_progress','awaiting_sign',
                        'awaiting_visit','replied','in_progress'])[1 + i %% 10] END,
       (ARRAY['complaint','help','consultation','report','suggestion'])[1 + i %% 5],
       'phone', 'general',
       '幸福路占道经营 ' || i, '市民反映：幸福路口每天早上有摊贩占道经营，影响通行，请尽快处理。',
       1 + (i::bigint * 7919) %% %(citizens)s,
       (%(categories)s::int[])[1 + i %% %(n_categories)s],
       '东城区幸福路' || (i %% 300) || '号', i %% 5 = 3,
       now() - (i %% 180) * interval '1 day' - (i %% 86400) * interval '1 second',
       now() - (i %% 180) * interval '1 day',
       now() - (i %% 180) * interval '1 day',  -- in its status since its last change, as the write path keeps it
       -- scrambled, so that every department gets open orders too (i %% n_depts would tie it to i %% 180)
       (%(depts)s::int[])[1 + (i::bigint * 2654435761 %% 1000003) %% %(n_depts)s],
       now() - (i %% 180) * interval '1 day',
       now() - (i %% 180) * interval '1 day' + interval '7 days',
       0, 0, 0
FROM generate_series(%(t_from)s::int, %(t_to)s::int) AS i;

INSERT INTO assignments (ticket_id, department_id, ticket_created_at, ticket_status, role, status, dispatched_at, sign_due_at, signed_at,
                         reply_due_at, replied_at, return_due_at, extended_days, urge_count)
SELECT t.id, t.lead_department_id, t.created_at, t.status, 'lead',
       CASE t.status WHEN 'closed' THEN 'done' WHEN 'awaiting_visit' THEN 'done' WHEN 'replied' THEN 'replied'
                     WHEN 'in_progress' THEN 'in_progress' ELSE 'awaiting_sign' END,
       t.sla_started_at, t.sla_started_at + interval '1 day',
       CASE WHEN t.status = 'awaiting_sign' THEN NULL ELSE t.sla_started_at + interval '2 hours' END,
       t.due_at,
       CASE WHEN t.status IN ('closed','awaiting_visit','replied') THEN t.sla_started_at + interval '3 days' END,
       t.sla_started_at + interval '2 days', 0, 0
FROM tickets t WHERE t.id BETWEEN %(t_from)s AND %(t_to)s;

INSERT INTO ticket_events (ticket_id, at, action, to_status, is_internal)
SELECT t.id, t.created_at, 'register', 'registered', false FROM tickets t WHERE t.id BETWEEN %(t_from)s AND %(t_to)s
UNION ALL
SELECT t.id, t.sla_started_at, 'dispatch', 'awaiting_sign', false FROM tickets t
WHERE t.id BETWEEN %(t_from)s AND %(t_to)s;
"""


def grow(url: str, ctx: dict, have: int, size: int) -> None:
    """Add size-have generated orders with their citizens (one per five orders), assignments and events.

    Generated ids continue after whatever the API registered meanwhile; ctx["generated"] keeps the
    ranges, so the detail scenario asks only for orders that exist.
    """
    started = time.perf_counter()
    citizens = max(1, size // 5)
    with psycopg.connect(plain(url)) as conn:
        conn.execute(CITIZENS, {"c_from": have // 5 + 1, "c_to": citizens})
        categories = [r[0] for r in conn.execute("SELECT id FROM categories ORDER BY id")]
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM tickets").fetchone()[0]
        last = first + (size - have) - 1
        ctx.setdefault("generated", []).append((first, last))
        for lo in range(first, last + 1, 100_000):
            hi = min(last, lo + 99_999)
            params = {"citizens": citizens, "t_from": lo, "t_to": hi, "depts": ctx["dept_ids"],
                      "n_depts": len(ctx["dept_ids"]), "categories": categories, "n_categories": len(categories)}
            for statement in ORDERS.split(";\n\n"):
                conn.execute(statement, params)
            conn.commit()
            log(f"  generated orders {have + hi - first + 1:,}/{size:,} ({time.perf_counter() - started:.0f} s)")
        for table in ("tickets", "citizens", "assignments", "ticket_events"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


class Server:
    def __init__(self, url: str):
        env = {**os.environ, "DATABASE_URL": url, "HOTLINE_ENV": "development", "SECRET_KEY": "bench"}
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", "4", "-k", "gthread", "--threads", "4",
             "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status in (200, 503):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit("gunicorn did not start within 60 s")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def run_load(name: str, make_request, seconds: float) -> dict:
    """CLIENTS threads, each with a keep-alive connection, for `seconds`."""
    client_ms: list[float] = []
    server_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    barrier = threading.Barrier(CLIENTS)

    def worker(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        barrier.wait()
        mine_c, mine_s = [], []
        while time.perf_counter() < stop_at:
            method, path, body, headers, expect = make_request(rng)
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if resp.status != expect:
                with lock:
                    errors.append(f"{resp.status} {payload[:200]!r}")
                continue
            mine_c.append(elapsed)
            timing = resp.getheader("Server-Timing", "")
            if "dur=" in timing:
                mine_s.append(float(timing.split("dur=")[1]))
        with lock:
            client_ms.extend(mine_c)
            server_ms.extend(mine_s)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        log(f"  {name}: {len(errors)} failed requests, first: {errors[0]}")

    def pct(values, p):
        if not values:
            return float("nan")
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

    return {"name": name, "requests": len(client_ms), "errors": len(errors), "rps": len(client_ms) / wall,
            "p50": pct(client_ms, 50), "p99": pct(client_ms, 99),
            "srv_p50": pct(server_ms, 50), "srv_p99": pct(server_ms, 99),
            "mean": statistics.fmean(client_ms) if client_ms else float("nan")}


def scenarios(ctx: dict, size: int) -> list[tuple[str, callable]]:
    auth = lambda who: {"Authorization": f"Bearer {ctx['tokens'][who]}", "Content-Type": "application/json"}  # noqa
    citizens = max(1, size // 5)

    def register(rng):
        body = json.dumps({"type": "complaint", "channel": "phone", "subject": "噪声扰民",
                           "content": "夜间施工噪声扰民，请尽快处理。", "category": "0201",
                           "citizen": {"name": "王先生", "phone": f"139{rng.randint(1, citizens):08d}"}})
        return "POST", "/api/v1/tickets", body, auth("calltaker"), 201

    def overdue(rng):
        dept = rng.choice(ctx["dept_ids"])
        return "GET", f"/api/v1/tickets?department={dept}&overdue=true&sort=due_at&per_page=50", None, auth("reviewer"), 200

    def history(rng):
        return "GET", f"/api/v1/citizens?phone=139{rng.randint(1, citizens):08d}", None, auth("calltaker"), 200

    def detail(rng):
        lo, hi = rng.choice(ctx["generated"])
        return "GET", f"/api/v1/tickets/B{rng.randint(lo, hi):012d}", None, auth("reviewer"), 200

    def health(rng):
        return "GET", "/api/v1/me", None, auth("reviewer"), 200

    return [("baseline: GET /me", health), ("register an order", register),
            ("department's open overdue orders", overdue), ("citizen's history by phone", history),
            ("one order's detail", detail)]


def print_table(size: int, rows: list[dict]) -> None:
    log(f"\n== {size:,} orders on PostgreSQL, {CLIENTS} concurrent clients ==")
    log(f"{'call':36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'srv p50':>8} {'srv p99':>8} {'errors':>7}")
    for r in rows:
        log(f"{r['name']:36} {r['rps']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f} {r['srv_p50']:8.1f} "
            f"{r['srv_p99']:8.1f} {r['errors']:7d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="order counts, ascending")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each measurement")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = pg_url()
    log("preparing the bench database (migrations, demo city, tokens)")
    ctx = prepare_schema(url)
    results: dict[int, list[dict]] = {}
    have = 0
    for size in sizes:
        log(f"growing to {size:,} orders")
        grow(url, ctx, have, size)
        have = size
        server = Server(url)
        try:
            rows = []
            for name, make in scenarios(ctx, size):
                run_load(name, make, 2)  # warm-up: caches, connection pools
                rows.append(run_load(name, make, args.seconds))
                log(f"  measured {name}")
        finally:
            server.stop()
        results[size] = rows
        print_table(size, rows)
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        log(f"\n== growth {small:,} -> {big:,} orders (p99 client side; server p50) ==")
        base = results[big][0]["p99"] / results[small][0]["p99"]
        for a, b in zip(results[small], results[big]):
            ratio = b["p99"] / a["p99"] if a["p99"] else float("nan")
            srv = b["srv_p50"] / a["srv_p50"] if a["srv_p50"] else float("nan")
            log(f"{a['name']:36} {a['p99']:8.1f} -> {b['p99']:8.1f} ms  x{ratio:.2f}"
                f"  (x{ratio / base:.2f} of the baseline's growth; server p50 x{srv:.2f})")
        worst = max(r["p99"] for r in results[big])
        log(f"\ngoal: every call's p99 under 50 ms at {big:,} orders: "
            f"{'met' if worst < 50 else 'NOT met'} (worst p99 {worst:.1f} ms)")
    if args.json:
        Path(args.json).write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
