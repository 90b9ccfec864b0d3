"""Benchmark of the hot pages and API calls on PostgreSQL at 100,000 and 1,000,000 orders.

Every target is served by gunicorn with 2 sync workers (--server changes it for all) and driven
by wrk (-t2 -c16): a bare Flask hello page and a compiled 50-row template (the ceiling, from a tiny separate
app, tests/../scripts/bench/pages_ceiling.py) interleaved with the project's hot paths:
the work-order list as a department's handler and as the centre (also sorted by deadline, filtered by a status,
overdue, and searched for a keyword no order holds), an order's page and its
similar orders (drawn after the page, as its script asks for them), the inbox on /m, the board,
the to-do, the desk's caller lookup, and the API's register, list, detail and history; and the product's
floor: its cheapest logged-in answers (a redirect and the API's /me) and its layout (the login page). Prints req/s,
p50, p99 and each call's ratio to the 50-row ceiling; with
--rounds N every target is measured N times, round after round (the ceiling with them), and the
median of each figure is printed with the spread of req/s. With --baseline NAME=VALUE a second copy of the
application runs with that setting changed (e.g. DATABASE_PREPARE=off) and every call of the application is
measured on both, one right after the other, the baseline's row under the call's, with the call's req/s as a
multiple of the baseline's: a before/after in one run, under the same load on the machine. With --baseline-commit
REV the baseline copy is the code of that commit (a git worktree, with this checkout's virtualenv and database
schema): a change measured against the code before it, in the same run.
Reuses api_bench's database preparation (prepare_schema, grow), and gives every order words as text_bench does
(ticket_texts from a pool of 3,000 caller-style texts): an order's page shows the open orders of the last 30
days with words in common, so the viewed order is a recent open one and its similar-orders section has work.
"""
from __future__ import annotations

import argparse
import atexit
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psycopg  # noqa: E402
from api_bench import ROOT, grow, log, migrate, pg_url, plain, prepare_schema  # noqa: E402
import text_bench  # noqa: E402  (the orders' words)
from hotline.seed.demo import DEMO_PASSWORD  # noqa: E402
from workflows import search  # noqa: E402

PORT, CEILING_PORT, BASELINE_PORT = 5098, 5097, 5096
CONNECTIONS = 16
#: How gunicorn serves both the application and the ceiling (--server changes it for both).
SERVER = "-w 2 -k sync"


def gunicorn(app: str, port: int, env: dict, probe: str, server: str = SERVER, tree: Path = ROOT) -> subprocess.Popen:
    """`app` served from the code in `tree` (gunicorn puts its working directory first on the import path)."""
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), *server.split(), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app], cwd=tree, env=env, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2)
            return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    sys.exit(f"gunicorn {app} did not start within 60 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def session_cookie(username: str) -> str:
    """Log in through the real form (CSRF token included); return the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{PORT}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": DEMO_PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    opener.open(f"http://127.0.0.1:{PORT}/login", urllib.parse.urlencode(form).encode())
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session" not in cookie:
        sys.exit(f"could not log in as {username}")
    return cookie


REGISTER_LUA = """
wrk.method = "POST"
wrk.body = [==[%s]==]
wrk.headers["Content-Type"] = "application/json"
"""


def ensure_texts(url: str) -> None:
    """Every order's words in ticket_texts (text_bench.fill_texts), unless a run already put them there; and
    its letter pairs (ensure_search)."""
    with psycopg.connect(plain(url)) as conn:
        orders, texts = conn.execute("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_texts)"
                                     ).fetchone()
    if texts < orders:
        log(f"  giving {orders:,} orders their words")
        text_bench.fill_texts(url)
    ensure_search(url)


def ensure_search(url: str) -> None:
    """Every order's letter pairs for the keyword search (`hotline tickets reindex-search`): the generated orders
    are loaded without the application, which writes them for the orders it registers."""
    with psycopg.connect(plain(url)) as conn:
        orders, kept = conn.execute("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_search)"
                                    ).fetchone()
    if kept < orders:
        log(f"  giving {orders:,} orders their letter pairs")
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/hotline"), "tickets", "reindex-search"], cwd=ROOT, check=True,
                       env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)
        with psycopg.connect(plain(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE ticket_search")
        log(f"  letter pairs kept ({time.perf_counter() - started:.0f} s)")


def count_words(url: str) -> None:
    """The open orders' word counts as the worker keeps them (`hotline similar count-words`): without a fresh
    count each server process would count for itself in its first similar-orders search."""
    subprocess.run([str(ROOT / ".venv/bin/hotline"), "similar", "count-words"], cwd=ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)


def viewed_order(url: str, ctx: dict) -> str:
    """The order whose page (and API detail) is measured: the newest generated order in progress, as a
    reviewer opens live work. Its text and address become the caller-style ones its words came from
    (text_bench's pool), so its similar-orders panel meets what a real order's does: the open orders of the
    last 30 days with its words or its address."""
    from tests.workflows.suggest_corpus import generate
    lo, hi = ctx["generated"][-1]
    with psycopg.connect(plain(url)) as conn:
        row = conn.execute("SELECT id, number FROM tickets WHERE id BETWEEN %s AND %s AND status = 'in_progress' "
                           "ORDER BY id DESC LIMIT 1", (lo, hi)).fetchone()
        if row is None:
            return f"B{(lo + hi) // 2:012d}"
        text, _category, address, _dept = generate(text_bench.POOL, seed=text_bench.POOL_SEED)[
            text_bench.pool_index(row[0])]
        conn.execute("UPDATE tickets SET subject = %s, content = %s, address = %s WHERE id = %s",
                     (text[:20], text, address, row[0]))
        conn.execute("UPDATE ticket_search SET grams = %s WHERE ticket_id = %s",   # as the application keeps them
                     (search.indexed_text(text[:20], text), row[0]))
    return row[1]


def targets(ctx: dict, cookies: dict, size: int, lua_dir: Path, number: str) -> list[tuple[str, int, str, list[str]]]:
    """(name, port, path, extra wrk args) for every measured call; `number` is the order viewed."""
    phone = f"139{max(1, size // 10):08d}"
    bearer = lambda who: ["-H", f"Authorization: Bearer {ctx['tokens'][who]}"]  # noqa: E731
    cookie = lambda who: ["-H", f"Cookie: {cookies[who]}"]  # noqa: E731
    register = lua_dir / "register.lua"
    week_ago = date.today() - timedelta(days=7)
    body = json.dumps({"type": "complaint", "channel": "phone", "subject": "噪声扰民",
                       "content": "夜间施工噪声扰民，请尽快处理。", "category": "0201",
                       "citizen": {"name": "王先生", "phone": f"137{max(1, size // 10):08d}"}}, ensure_ascii=False)
    # a Lua long string: JSON's \u escapes in a quoted Lua string do not load, and wrk then silently
    # sends its default GET (this target measured the unfiltered API list until it was written so);
    # another caller than the looked-up one, whose history would otherwise grow by thousands each run
    register.write_text(REGISTER_LUA % body, encoding="utf-8")
    return [
        ("ceiling: bare Flask hello", CEILING_PORT, "/hello", []),
        ("ceiling: compiled 50-row template", CEILING_PORT, "/rows", []),
        # the product's own floor: the cheapest answers a logged-in user or a token gets (session or token,
        # user, no query of the data and no layout); no page can be faster than these
        ("floor: logged-in redirect /", PORT, "/", cookie("reviewer")),
        ("floor: API /me", PORT, "/api/v1/me", bearer("reviewer")),
        ("floor: the layout (login page)", PORT, "/login", []),
        ("/tickets 50 rows, department handler", PORT, "/tickets?per_page=50", cookie("handler")),
        ("/tickets 50 rows, centre", PORT, "/tickets?per_page=50", cookie("reviewer")),
        # the same lists as a user sorts or filters them (a rare status reads far more rows unless walked)
        ("/tickets by deadline, centre", PORT, "/tickets?per_page=50&sort=due_at", cookie("reviewer")),
        ("/tickets by deadline, department handler", PORT, "/tickets?per_page=50&sort=due_at", cookie("handler")),
        ("/tickets replied, department handler", PORT, "/tickets?per_page=50&status=replied", cookie("handler")),
        # a category (asked by its ids, read from its own index) and a week of a department's (from its walk)
        ("/tickets of a category, centre", PORT, "/tickets?per_page=50&category=0201", cookie("reviewer")),
        ("/tickets of a week, department handler", PORT,
         f"/tickets?per_page=50&created_from={week_ago - timedelta(days=6)}&created_to={week_ago}", cookie("handler")),
        # the last week's orders, earliest deadline first: the deadline index's walk passes over the older orders
        ("/tickets since a date by deadline, centre", PORT, f"/tickets?per_page=50&created_from={week_ago}&sort=due_at",
         cookie("reviewer")),
        # overdue: the centre's from the orders in a department's hands, a department's from its own work in hand
        ("/tickets overdue, centre", PORT, "/tickets?per_page=50&overdue=1", cookie("reviewer")),
        ("/tickets overdue, department handler", PORT, "/tickets?per_page=50&overdue=1", cookie("handler")),
        # a keyword no order holds: without an index every order is read to say so
        ("/tickets keyword no order holds, centre", PORT, f"/tickets?per_page=50&q={urllib.parse.quote('窨井盖')}",
         cookie("reviewer")),
        ("an order's page", PORT, f"/tickets/{number}", cookie("reviewer")),
        ("its similar orders (after the page)", PORT, f"/tickets/{number}/panels/similar",
         cookie("reviewer") + ["-H", "HX-Request: true"]),
        ("inbox /m", PORT, "/m", cookie("handler")),
        ("board /board", PORT, "/board/", cookie("reviewer")),
        ("to-do /todo (centre reviewer)", PORT, "/todo", cookie("reviewer")),
        ("desk caller lookup", PORT, f"/desk/caller?phone={phone}", cookie("calltaker")),
        ("API register", PORT, "/api/v1/tickets", bearer("calltaker") + ["-s", str(register)]),
        ("API list (department overdue)", PORT,
         f"/api/v1/tickets?department={ctx['handler_dept']}&overdue=true&sort=due_at&per_page=50", bearer("reviewer")),
        ("API detail", PORT, f"/api/v1/tickets/{number}", bearer("reviewer")),
        ("API history by phone", PORT, f"/api/v1/citizens?phone={phone}", bearer("calltaker")),
    ]


def with_baseline(calls: list, label: str) -> list:
    """Every call of the application followed by the same call on the baseline copy (named `label`)."""
    out = []
    for name, port, path, extra in calls:
        out.append((name, port, path, extra))
        if port == PORT:
            out.append((f"  {label}", BASELINE_PORT, path, extra))
    return out


def measuring_order(calls: list, swap: bool) -> list[int]:
    """The calls' indices in the order to measure them: with `swap`, each baseline before its call (every other
    round), so that neither copy always runs second."""
    order = list(range(len(calls)))
    if swap:
        for i in range(len(calls) - 1):
            if calls[i + 1][1] == BASELINE_PORT and calls[i][1] == PORT:
                order[i], order[i + 1] = i + 1, i
    return order


def baseline_env(text: str) -> dict:
    """NAME=VALUE[,NAME=VALUE...] as the environment the baseline copy differs by."""
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if not pairs or any(len(p) != 2 or not p[0].strip() for p in pairs):
        sys.exit(f"--baseline wants NAME=VALUE[,NAME=VALUE], not {text!r}")
    return {k.strip(): v.strip() for k, v in pairs}


def checkout(rev: str) -> Path:
    """The code of commit `rev` in a temporary git worktree, removed when the bench ends."""
    tree = Path(tempfile.mkdtemp(prefix="pages-bench-base-")) / "tree"
    done = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"--baseline-commit {rev}: git could not check it out: {done.stderr.strip()}")
    atexit.register(forget_checkout, tree)
    return tree


def forget_checkout(tree: Path) -> None:
    """Remove the worktree and its temporary directory (a bench killed outright leaves them: `git worktree
    prune` after removing the directory)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
    shutil.rmtree(tree.parent, ignore_errors=True)


def chosen(calls: list, only: str) -> list:
    """The ceiling and the calls whose names contain one of the comma-separated words of `only` (all without)."""
    words = [w.strip() for w in only.split(",") if w.strip()]
    return [c for c in calls if not words or c[1] == CEILING_PORT or any(w in c[0] for w in words)]


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def median_row(measured: list[dict]) -> dict:
    """One target's figures over the rounds: the median of each, the errors summed, every round's req/s kept."""
    def median(key: str) -> float:
        values = sorted(m[key] for m in measured)
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return {"name": measured[0]["name"], "rps": median("rps"), "p50": median("p50"), "p99": median("p99"),
            "non2xx": sum(m["non2xx"] for m in measured),
            "socket": " ".join(m["socket"] for m in measured if m["socket"]), "rounds": [m["rps"] for m in measured]}


def wrk(port: int, path: str, extra: list[str], seconds: int) -> dict:
    run = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "--latency", *extra,
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
    if run.stderr.strip():  # e.g. a script wrk could not load: it would measure a plain GET instead
        sys.exit(f"wrk {path}: {run.stderr.strip()}")
    out = run.stdout

    def latency(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": latency("50"), "p99": latency("99"),
            "non2xx": int(bad.group(1)) if bad else 0, "socket": errors.group(1) if errors else ""}


def size_url(url: str, size: int) -> str:
    """The database holding `size` orders when --reuse keeps one database per size."""
    base, _, name = url.rpartition("/")
    name = f"{name}_{size}"
    with psycopg.connect(plain(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def saved_context(url: str, size: int) -> dict | None:
    """The context a previous run left in a database grown to exactly `size` orders."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('bench_context')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT ctx FROM bench_context WHERE size = %s", (size,)).fetchone()
    if row is None:
        return None
    ctx = row[0]
    ctx["generated"] = [tuple(r) for r in ctx["generated"]]
    return ctx


def save_context(url: str, size: int, ctx: dict) -> None:
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_context (size int PRIMARY KEY, ctx jsonb NOT NULL)")
        conn.execute("DELETE FROM bench_context")
        conn.execute("INSERT INTO bench_context VALUES (%s, %s)", (size, json.dumps(ctx)))


#: Single-column foreign keys of the bench schema: (table, column, referenced table, referenced column).
FOREIGN_KEYS = """
SELECT child.relname, child_col.attname, parent.relname, parent_col.attname
  FROM pg_constraint c
  JOIN pg_class child ON child.oid = c.conrelid
  JOIN pg_class parent ON parent.oid = c.confrelid
  JOIN pg_attribute child_col ON child_col.attrelid = c.conrelid AND child_col.attnum = c.conkey[1]
  JOIN pg_attribute parent_col ON parent_col.attrelid = c.confrelid AND parent_col.attnum = c.confkey[1]
 WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND child.relnamespace = to_regnamespace(current_schema())
"""


def forget_orders(url: str, after: int) -> int:
    """Delete the orders whose ids follow `after` (those the register target added) with every row that points
    at them, found through the schema's foreign keys: a database kept with --reuse then starts each run with
    the same orders (thousands of identical open orders a run would otherwise make the centre's newest page
    one caller's, and an order's similar-orders panel dearer run after run)."""
    with psycopg.connect(plain(url)) as conn:
        pointing: dict[str, list[tuple[str, str, str]]] = {}
        for child, column, parent, key in conn.execute(FOREIGN_KEYS):
            pointing.setdefault(parent, []).append((child, column, key))

        def remove(table: str, column: str, values: list) -> None:
            for child, child_column, key in pointing.get(table, []):
                keys = [r[0] for r in conn.execute(
                    f'SELECT "{key}" FROM "{table}" WHERE "{column}" = ANY(%s)', (values,))]
                if keys:
                    remove(child, child_column, keys)
            conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ANY(%s)', (values,))

        ids = [r[0] for r in conn.execute("SELECT id FROM tickets WHERE id > %s", (after,))]
        if ids:
            remove("tickets", "id", ids)
        conn.commit()
    return len(ids)


def build(url: str, size: int, reuse: bool) -> dict:
    """A database with `size` generated orders: kept from an earlier run with --reuse, else built anew."""
    if reuse:
        ctx = saved_context(url, size)
        if ctx is not None:
            log(f"reusing {size:,} orders in {url.rpartition('/')[2]}")
            migrate(url)
            ensure_texts(url)
            return ctx
    log("preparing the bench database (migrations, demo city, tokens)")
    ctx = prepare_schema(url)
    log(f"growing to {size:,} orders")
    grow(url, ctx, 0, size)
    ensure_texts(url)
    save_context(url, size, ctx)
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="order counts, ascending")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measurement")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--reuse", action="store_true",
                        help="one database per size (<database>_<size>), built once and kept for later runs")
    parser.add_argument("--build-only", action="store_true", help="build the data (with --reuse) and stop")
    parser.add_argument("--server", default=SERVER,
                        help="gunicorn's worker options for the application and the ceiling alike, e.g. the "
                             "README's production '-w 4 -k gthread --threads 4'")
    parser.add_argument("--only", default="",
                        help="measure only the calls whose names contain one of these comma-separated words "
                             "(the ceiling is always measured), e.g. 'floor,inbox'")
    parser.add_argument("--baseline", default="",
                        help="NAME=VALUE[,...]: also measure every call on a copy of the application run with "
                             "this environment (e.g. DATABASE_PREPARE=off), interleaved, as a before/after")
    parser.add_argument("--baseline-commit", default="",
                        help="REV: also measure every call on a copy of the application at that commit (e.g. "
                             "HEAD~1), interleaved, as a before/after of a change")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every target this many times, round after round, and print the medians")
    args = parser.parse_args()
    differs = baseline_env(args.baseline) if args.baseline else {}   # checked before any server starts
    tree = checkout(args.baseline_commit) if args.baseline_commit else None
    label = " ".join(filter(None, (args.baseline, f"at {args.baseline_commit}" if tree else "")))
    url = pg_url()
    lua_dir = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    results, have, ctx = {}, 0, None
    for size in [int(s) for s in args.sizes.split(",")]:
        if args.reuse:
            db_url = size_url(url, size)
            ctx = build(db_url, size, True)
        else:
            db_url = url
            if ctx is None:
                log("preparing the bench database (migrations, demo city, tokens)")
                ctx = prepare_schema(url)
            log(f"growing to {size:,} orders")
            grow(url, ctx, have, size)
            ensure_texts(url)
            have = size
        if args.build_only:
            continue
        count_words(db_url)
        env = {**os.environ, "DATABASE_URL": db_url, "HOTLINE_ENV": "development", "SECRET_KEY": "bench"}
        app = gunicorn("wsgi:app", PORT, env, "/api/v1/health", args.server)
        ceiling = gunicorn("pages_ceiling:app", CEILING_PORT,
                           {**env, "PYTHONPATH": str(ROOT / "scripts/bench")}, "/hello", args.server)
        base = gunicorn("wsgi:app", BASELINE_PORT, {**env, **differs}, "/api/v1/health",
                        args.server, tree or ROOT) if label else None
        try:
            cookies = {who: session_cookie(who) for who in ("calltaker", "reviewer", "handler")}
            calls = chosen(targets(ctx, cookies, size, lua_dir, viewed_order(db_url, ctx)), args.only)
            if base is not None:  # the same session cookies and tokens serve both copies (one database)
                calls = with_baseline(calls, label)
            for name, port, path, extra in calls:
                wrk(port, path, extra, 2)  # warm-up
            rounds: list[list[dict]] = []
            for n in range(args.rounds):
                # every round on the same orders: what the register target added (the warm-up's too) goes
                # first, or an order's similar-orders panel would meet thousands of identical open orders
                forget_orders(db_url, ctx["generated"][-1][1])
                measured: dict[int, dict] = {}
                for i in measuring_order(calls, swap=n % 2 == 1):
                    name, port, path, extra = calls[i]
                    measured[i] = {"name": name, **wrk(port, path, extra, args.seconds)}
                rounds.append([measured[i] for i in range(len(calls))])
                log(f"  measured round {n + 1} of {args.rounds}")
            rows = [median_row([r[i] for r in rounds]) for i in range(len(calls))]
        finally:
            stop(app)
            stop(ceiling)
            if base is not None:
                stop(base)
            gone = forget_orders(db_url, ctx["generated"][-1][1])
            log(f"  deleted the {gone:,} orders the register target added")
        results[size] = rows
        top = rows[1]["rps"] or float("nan")
        log(f"\n== {size:,} orders on PostgreSQL, gunicorn {args.server}, wrk -t2 -c{CONNECTIONS} ==")
        spread = args.rounds > 1
        log(f"{'call':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'/ceiling':>9} {'non-2xx':>8}"
            + (f"  {'req/s min-max':>15}" if spread else "") + (f" {'x base':>7}" if base is not None else ""))
        for i, r in enumerate(rows):
            versus = ""
            if base is not None and i + 1 < len(rows) and calls[i + 1][1] == BASELINE_PORT:
                versus = f" {r['rps'] / (rows[i + 1]['rps'] or float('nan')):7.2f}"
            log(f"{r['name']:40} {r['rps']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f} {r['rps'] / top:9.2f} "
                f"{r['non2xx']:8d}" + (f"  {min(r['rounds']):7.1f}-{max(r['rounds']):<7.1f}" if spread else "")
                + versus + f" {r['socket']}")
    if args.json:
        Path(args.json).write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
