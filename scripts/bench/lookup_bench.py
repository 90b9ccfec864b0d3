"""Caller-number lookup at the intake desk: server time at 100,000 and 1,000,000 orders.

Builds the same PostgreSQL bench database as api_bench.py, logs a call taker in, and asks
the desk's caller panel (GET /desk/caller?phone=...) for random known callers, timing the
application in-process (server time: from the request entering Flask to the response).
The baseline of the same run is an unknown number (no history to load). Goal: under
100 ms at 1,000,000 orders.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_bench  # noqa: E402  (the shared data builder)


def measure(client, phones, samples: int) -> dict:
    times = []
    for phone in phones[:samples]:
        started = time.perf_counter()
        resp = client.get(f"/desk/caller?phone={phone}")
        times.append((time.perf_counter() - started) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"lookup of {phone} answered {resp.status_code}")
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(0.99 * (len(times) - 1))],
            "max": times[-1], "mean": statistics.fmean(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    url = api_bench.pg_url()
    print("preparing the bench database", flush=True)
    ctx = api_bench.prepare_schema(url)
    os.environ["DATABASE_URL"] = url
    from hotline import create_app
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "RATELIMIT_ENABLED": False})
    have = 0
    results = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"growing to {size:,} orders", flush=True)
        api_bench.grow(url, ctx, have, size)
        have = size
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        login = client.post("/login", data={"username": "calltaker", "password": "hotline12345", "csrf_token": token})
        assert login.status_code == 302, "the demo call taker could not log in"
        rng = random.Random(size)
        known = [f"139{rng.randint(1, size // 5):08d}" for _ in range(args.samples + 20)]
        unknown = [f"137{rng.randint(1, 99999999):08d}" for _ in range(args.samples + 20)]
        measure(client, known[-20:], 20)  # warm-up
        results[size] = {"baseline: unknown number": measure(client, unknown, args.samples),
                         "known caller with history": measure(client, known, args.samples)}
        print(f"\n== caller lookup, {size:,} orders, {args.samples} lookups, server time in ms ==")
        print(f"{'lookup':28} {'p50':>7} {'p99':>7} {'max':>7}")
        for name, r in results[size].items():
            print(f"{name:28} {r['p50']:7.1f} {r['p99']:7.1f} {r['max']:7.1f}")
    sizes = sorted(results)
    if len(sizes) > 1:
        small, big = results[sizes[0]], results[sizes[-1]]
        print(f"\n== growth {sizes[0]:,} -> {sizes[-1]:,} (p99) ==")
        for name in small:
            print(f"{name:28} {small[name]['p99']:7.1f} -> {big[name]['p99']:7.1f}  x{big[name]['p99'] / small[name]['p99']:.2f}")
    worst = results[sizes[-1]]["known caller with history"]["p99"]
    print(f"\ngoal: caller lookup under 100 ms server time at {sizes[-1]:,} orders: "
          f"{'met' if worst < 100 else 'NOT met'} (p99 {worst:.1f} ms)")


if __name__ == "__main__":
    main()
