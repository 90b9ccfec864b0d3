"""Knowledge search, similar orders and the department suggestion on PostgreSQL: server time p50/p99.

Builds the bench database with api_bench.py's builder (the demo city, 1,000,000 generated orders), then
gives the orders varied words: ticket_texts is filled from a pool of 3,000 caller-style texts
(tests/workflows/suggest_corpus.py, cut by the same jieba tokens()) over 40 streets × 300 numbers, open or
not as the order is; and loads 10,000 published articles (text_articles.py: the demo city's 220, then
variants of them). Timed in-process through the API (request into Flask to response): GET /api/v1/knowledge
with the fifty callers' questions of the search-quality test and caller-style texts, GET
/api/v1/tickets/{n}/similar for recent open orders, POST /api/v1/suggestions/department with a model
trained on the synthetic history. Also registers a construction site's complaint and a repeat of it in
other words, and checks that the repeat finds it among the 1,000,000 orders.
Goals (p99): search < 50 ms, similar < 100 ms, suggestion < 20 ms.

--build-only builds and times nothing; --reuse keeps a database that already holds the data (migrating
it to the head), so only the timed part runs under `flock /tmp/hotline-bench.lock`.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_bench  # noqa: E402  (the shared data builder)
import psycopg  # noqa: E402

SITE = {"type": "complaint", "subject": "建设路工地夜间施工噪音扰民", "channel": "phone",
        "content": "建设路和平小区旁边的工地每天晚上十一点以后还在打桩施工，噪音很大，居民睡不着觉。",
        "address": "东城区建设路18号"}
REPEAT = {"type": "complaint", "subject": "投诉半夜打桩", "channel": "phone",
          "content": "和平小区边上那个工地半夜还在打桩，吵得孩子没法睡觉，夜间施工谁批准的？",
          "address": "东城区建设路 18号 附近"}


def stats(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50": statistics.median(times), "p99": times[int(0.99 * (len(times) - 1))], "max": times[-1]}


#: Caller-style texts (tests/workflows/suggest_corpus.py) the orders' words are drawn from, and their seed.
POOL, POOL_SEED = 3000, 11


def pool_index(ticket_id: int) -> int:
    """Which of the pool's texts an order's words come from (fill_texts)."""
    return (ticket_id * 7919) % POOL


def fill_texts(url: str) -> None:
    from hotline.knowledge.text import index_text
    from tests.workflows.suggest_corpus import generate
    from workflows.similarity import address_key
    pool = [(index_text(text), address_key(address)) for text, _c, address, _d in generate(POOL, seed=POOL_SEED)]
    started = time.perf_counter()
    with psycopg.connect(api_bench.plain(url)) as conn:
        conn.execute("CREATE TEMP TABLE pool (n int PRIMARY KEY, tokens text, address_key text)")
        with conn.cursor().copy("COPY pool (n, tokens, address_key) FROM STDIN") as copy:
            for n, (tokens, key) in enumerate(pool):
                copy.write_row((n, tokens, key))
        conn.execute("DELETE FROM ticket_texts")
        conn.execute("INSERT INTO ticket_texts (ticket_id, created_at, tokens, address_key) "
                     "SELECT t.id, t.created_at, p.tokens, p.address_key FROM tickets t "
                     f"JOIN pool p ON p.n = (t.id::bigint * 7919) % {POOL}")   # pool_index
        if conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'ticket_texts' "
                        "AND column_name = 'is_open'").fetchone():
            conn.execute("UPDATE ticket_texts x SET is_open = false FROM tickets t WHERE t.id = x.ticket_id "
                         "AND t.status IN ('closed', 'merged', 'cancelled')")
        conn.commit()
    with psycopg.connect(api_bench.plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ticket_texts")
    api_bench.log(f"  order words filled ({time.perf_counter() - started:.0f} s)")


def build(url: str, size: int, articles: int) -> None:
    """The bench database from nothing: the demo city, `size` orders with varied words, `articles` articles."""
    api_bench.log("preparing the bench database")
    ctx = api_bench.prepare_schema(url)
    api_bench.grow(url, ctx, 0, size)
    fill_texts(url)
    load_articles(url, articles)


def load_articles(url: str, articles: int) -> None:
    import text_articles
    os.environ["DATABASE_URL"] = url
    from hotline import create_app
    from hotline.extensions import db
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        text_articles.load(articles, log=api_bench.log)
        db.engine.dispose()
    with psycopg.connect(api_bench.plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE knowledge_articles")


def present(url: str) -> tuple[int, int, int]:
    """Orders, indexed order texts and articles in the bench database (zeros when it has no schema)."""
    with psycopg.connect(api_bench.plain(url)) as conn:
        try:
            return tuple(conn.execute("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_texts), "
                                      "(SELECT count(*) FROM knowledge_articles)").fetchone())
        except psycopg.errors.UndefinedTable:
            return 0, 0, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the bench database when it already holds the orders and articles (migrated to head)")
    parser.add_argument("--build-only", action="store_true", help="build the data, time nothing")
    args = parser.parse_args()
    url = api_bench.pg_url()
    orders, texts, articles = present(url)
    if args.reuse and orders >= args.size and texts >= orders:
        api_bench.log(f"reusing the bench database: {orders:,} orders, {articles:,} articles")
        api_bench.migrate(url)
        if articles < args.articles:
            load_articles(url, args.articles)
    elif args.reuse and orders:
        # building starts from nothing: a kept database of another size is not wiped on a --reuse
        sys.exit(f"--reuse: the bench database holds {orders:,} orders and {texts:,} order texts, not "
                 f"{args.size:,}; pass --size {orders} to time it, or leave out --reuse to build it anew")
    else:
        build(url, args.size, args.articles)
    if args.build_only:
        return
    measure(url, args)


def tokens_for(app) -> dict:
    from hotline.auth.models import User
    from hotline.auth.operations import issue_token
    from hotline.extensions import db
    import sqlalchemy as sa
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        out = {name: issue_token(users[name]) for name in ("calltaker",)}
        db.session.commit()
    return out


def measure(url: str, args) -> None:
    os.environ["DATABASE_URL"] = url
    from hotline import create_app
    from hotline.extensions import db
    from hotline.knowledge.text import tokens
    from hotline.similar.models import SuggestionModel
    from tests.hotline.knowledge.queries import QUERIES
    from tests.workflows.suggest_corpus import generate
    from workflows import suggest as nb
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "RATELIMIT_ENABLED": False})
    with app.app_context():
        model = nb.NaiveBayes.train([nb.Sample(tokens(t), c, a, d) for t, c, a, d in generate(3000, seed=1)])
        db.session.add(SuggestionModel(samples=3000, parameters=model.to_json(), evaluation="{}"))
        db.session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {tokens_for(app)['calltaker']}"}
    site = client.post("/api/v1/tickets", json=SITE, headers=auth).get_json()["number"]
    repeat = client.post("/api/v1/tickets", json=REPEAT, headers=auth).get_json()["number"]
    found = client.get(f"/api/v1/tickets/{repeat}/similar", headers=auth).get_json()["items"]
    hit = next((i for i in found if i["ticket"]["number"] == site), None)
    print(f"\nrepeat complaint about the planted site found among {args.size:,} orders: "
          f"{'yes' if hit else 'NO'} {hit['reasons'] if hit else ''}")
    with psycopg.connect(api_bench.plain(url)) as conn:
        recent_open = [r[0] for r in conn.execute(
            "SELECT number FROM tickets WHERE status NOT IN ('closed','merged','cancelled') "
            "AND created_at > now() - interval '30 days' ORDER BY random() LIMIT %s", (args.samples + 20,))]
        articles = conn.execute("SELECT count(*) FROM knowledge_articles WHERE state = 'published'").fetchone()[0]
    questions = [q for q, _keys in QUERIES] + [text for text, _c, _a, _d in generate(args.samples, seed=5)]
    search = []
    for i in range(args.samples + 20):
        started = time.perf_counter()
        resp = client.get("/api/v1/knowledge", query_string={"q": questions[i % len(questions)]}, headers=auth)
        if i >= 20:
            search.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.get_json()
    similar = []
    for i, number in enumerate(recent_open):
        started = time.perf_counter()
        resp = client.get(f"/api/v1/tickets/{number}/similar", headers=auth)
        if i >= 20:
            similar.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.get_json()
    rng = random.Random(3)
    cases = generate(args.samples + 20, seed=99)
    suggest = []
    for i, (text, _c, address, _d) in enumerate(cases):
        body = {"text": text, "address": address, "category": rng.choice(["0201", None])}
        started = time.perf_counter()
        resp = client.post("/api/v1/suggestions/department", json=body, headers=auth)
        if i >= 20:
            suggest.append((time.perf_counter() - started) * 1000)
        assert resp.status_code in (200, 422), resp.get_json()
    print(f"\n== {args.size:,} orders and {articles:,} published articles on PostgreSQL, {args.samples} requests "
          f"each, server time in ms ==")
    print(f"{'request':34} {'p50':>7} {'p99':>7} {'max':>7}   goal p99")
    for name, times, goal in (("knowledge search (GET /knowledge)", search, 50),
                              ("similar orders (GET .../similar)", similar, 100),
                              ("department suggestion (POST)", suggest, 20)):
        r = stats(times)
        print(f"{name:34} {r['p50']:7.1f} {r['p99']:7.1f} {r['max']:7.1f}   < {goal} ms "
              f"{'met' if r['p99'] < goal else 'NOT met'}")


if __name__ == "__main__":
    main()
