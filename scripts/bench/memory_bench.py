"""Memory of a web worker under a long day's load: RSS per gunicorn worker, sampled as 100,000
requests go through the hot pages and API calls, beside the same count through a bare Flask
app's 50-row template (the baseline, in the same run).

The application is served as in production and in scripts/bench/pages (gunicorn, 2 sync
workers) on PostgreSQL; wrk (-t2 -c16) drives the calls of scripts/bench/pages in turn (the
work-order lists as a department and as the centre, an order's page, the inbox, the board,
the to-do, the desk's caller lookup, and the API's register, list, detail and history) until
the count is reached. Each worker's resident memory (VmRSS) is read from /proc after every
round. A worker is flat when what it holds after the last round is within 5 % (or 8 MB) of
what it held after the first ~10 % of the requests (imports, caches and pools warmed up).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages_bench  # noqa: E402
from api_bench import ROOT, grow, log, pg_url, prepare_schema  # noqa: E402

# other benches may use pages_bench's own ports at the same time
pages_bench.PORT, pages_bench.CEILING_PORT = 5094, 5093
FLAT_SHARE, FLAT_MB = 0.05, 8.0


def workers(master: subprocess.Popen) -> list[int]:
    """gunicorn's worker processes: the master's children."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss_mb(pid: int) -> float:
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(found.group(1)) / 1024 if found else float("nan")


def served(port: int, path: str, extra: list[str], seconds: int) -> tuple[int, int]:
    """Drive one call for `seconds`; (requests completed, non-2xx/3xx answers)."""
    out = subprocess.run(["wrk", "-t2", f"-c{pages_bench.CONNECTIONS}", f"-d{seconds}s", *extra,
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (int(done.group(1)) if done else 0), (int(bad.group(1)) if bad else 0)


def drive(name: str, master: subprocess.Popen, calls: list[tuple[str, int, str, list[str]]], total: int,
          seconds: int) -> list[tuple[int, list[float]]]:
    """Run the calls in turn until `total` requests; the workers' RSS after each round."""
    pids = workers(master)
    samples = [(0, [rss_mb(pid) for pid in pids])]
    count, bad = 0, {}
    while count < total:
        for call, port, path, extra in calls:
            done, failed = served(port, path, extra, seconds)
            count += done
            if failed:
                bad[call] = bad.get(call, 0) + failed
        if workers(master) != pids:
            sys.exit(f"{name}: a gunicorn worker was replaced during the run (crashed or timed out)")
        samples.append((count, [rss_mb(pid) for pid in pids]))
        log(f"  {name}: {count:,} requests, RSS " + " / ".join(f"{mb:.1f}" for mb in samples[-1][1]) + " MB")
    for call, failed in bad.items():
        log(f"  {name}: {call}: {failed:,} answers were not 2xx/3xx")
    return samples


def report(name: str, samples: list[tuple[int, list[float]]], total: int) -> bool:
    """Print the samples and whether each worker stayed flat after the warm-up."""
    warm = next((s for s in samples if s[0] >= total // 10), samples[-1])
    last = samples[-1]
    log(f"\n{name}")
    log(f"{'requests':>10}  " + "  ".join(f"{'worker ' + str(i + 1) + ' MB':>12}" for i in range(len(last[1]))))
    shown = [samples[0]] + [next(s for s in samples if s[0] >= total * tenth // 10 or s is last)
                            for tenth in range(1, 11)]
    for count, mbs in dict.fromkeys((s[0], tuple(s[1])) for s in shown):      # each tenth of the way once
        log(f"{count:>10,}  " + "  ".join(f"{mb:>12.1f}" for mb in mbs))
    flat = True
    for i, (before, after) in enumerate(zip(warm[1], last[1])):
        growth = after - before
        ok = growth <= max(FLAT_MB, before * FLAT_SHARE)
        flat &= ok
        log(f"worker {i + 1}: {before:.1f} MB after {warm[0]:,} requests -> {after:.1f} MB after {last[0]:,} "
            f"({growth:+.1f} MB, {growth / before:+.1%}): {'flat' if ok else 'GROWING'}")
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the database")
    parser.add_argument("--requests", type=int, default=100_000, help="requests through each server")
    parser.add_argument("--seconds", type=int, default=2, help="wrk's run per call and round")
    args = parser.parse_args()
    url = pg_url()
    log("preparing the bench database (migrations, demo city, tokens)")
    ctx = prepare_schema(url)
    log(f"growing to {args.orders:,} orders")
    grow(url, ctx, 0, args.orders)
    pages_bench.ensure_texts(url)
    pages_bench.count_words(url)
    env = {**os.environ, "DATABASE_URL": url, "HOTLINE_ENV": "development", "SECRET_KEY": "bench"}
    app = pages_bench.gunicorn("wsgi:app", pages_bench.PORT, env, "/api/v1/health")
    ceiling = pages_bench.gunicorn("pages_ceiling:app", pages_bench.CEILING_PORT,
                                   {**env, "PYTHONPATH": str(ROOT / "scripts/bench")}, "/hello")
    try:
        cookies = {who: pages_bench.session_cookie(who) for who in ("calltaker", "reviewer", "handler")}
        calls = pages_bench.targets(ctx, cookies, args.orders, Path(tempfile.mkdtemp(prefix="memory-bench-")),
                                    pages_bench.viewed_order(url, ctx))
        ours = [call for call in calls if call[1] == pages_bench.PORT]
        baseline = [call for call in calls if call[2] == "/rows"]
        log(f"driving {args.requests:,} requests through the application ({len(ours)} calls in turn)")
        app_samples = drive("application", app, ours, args.requests, args.seconds)
        log(f"driving {args.requests:,} requests through the bare Flask 50-row template")
        base_samples = drive("baseline", ceiling, baseline, args.requests, args.seconds)
    finally:
        pages_bench.stop(app)
        pages_bench.stop(ceiling)
    log(f"\n== RSS per gunicorn sync worker, {args.orders:,} orders on PostgreSQL, wrk -t2 "
        f"-c{pages_bench.CONNECTIONS} ==")
    flat = report("the application (hot pages and API calls in turn)", app_samples, args.requests)
    report("baseline: bare Flask app, compiled 50-row template", base_samples, args.requests)
    log(f"\nthe application's workers: {'flat' if flat else 'NOT flat'} over {args.requests:,} requests")
    sys.exit(0 if flat else 1)


if __name__ == "__main__":
    main()
