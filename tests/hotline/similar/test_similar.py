"""Similar orders (并单候选) and the department suggestion, as the centre and scripts meet them."""
from __future__ import annotations

import pytest

from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (the logged-in page client)

FIRST = {"type": "complaint", "subject": "建设路工地夜间施工噪音扰民", "category": "1001",
         "content": "建设路和平小区旁边的工地每天晚上十一点以后还在打桩施工，噪音很大，居民睡不着觉。",
         "address": "东城区建设路18号", "citizen": {"name": "李四", "phone": "13900001111"}}
# the same site, called in by someone else in other words, the address written a little differently
REPEAT = {"type": "complaint", "subject": "投诉半夜打桩", "category": "1001",
          "content": "和平小区边上那个工地半夜还在打桩，吵得孩子没法睡觉，夜间施工谁批准的？",
          "address": "东城区建设路 18号 附近", "citizen": {"name": "王五", "phone": "13900002222"}}
OTHER = {"type": "complaint", "subject": "幸福路占道经营", "category": "1001",
         "content": "幸福路口每天早上有摊贩占道经营，影响通行。", "address": "东城区幸福路12号",
         "citizen": {"name": "张三", "phone": "13812345678"}}


def _similar(api, who, number):
    resp = api(who).get(f"/tickets/{number}/similar")
    assert resp.status_code == 200, resp.get_json()
    return {item["ticket"]["number"]: item for item in resp.get_json()["items"]}


def test_a_repeat_complaint_about_the_same_site_worded_differently_is_found(api, new_ticket):
    first, other = new_ticket(**FIRST), new_ticket(**OTHER)
    repeat = new_ticket(**REPEAT)
    found = _similar(api, "call_taker", repeat)
    assert list(found) == [first]
    assert set(found[first]["reasons"]) == {"text", "address"} and 0 < found[first]["score"] <= 1
    assert other not in found and repeat not in found
    # seen from the first order too
    assert repeat in _similar(api, "supervisor", first)


def test_the_same_caller_is_a_reason_and_closed_orders_are_not_candidates(api, new_ticket):
    first = new_ticket(**OTHER)
    again = new_ticket(**{**FIRST, "citizen": OTHER["citizen"]})
    found = _similar(api, "call_taker", again)
    assert found[first]["reasons"] == {"caller": 1.0}
    merged = api("supervisor").action(again, "merge", {"into": first})
    assert merged.status_code == 200, merged.get_json()
    assert again not in _similar(api, "call_taker", first)


def test_the_word_index_holds_open_orders_only_and_leaves_out_common_words(api, new_ticket, app, monkeypatch):
    import sqlalchemy as sa

    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.similar import queries
    from hotline.similar.models import TicketText
    from hotline.tickets.models import Ticket

    first, other = new_ticket(**FIRST), new_ticket(**OTHER)
    with app.app_context():
        words = queries.tokens(REPEAT["subject"] + " " + REPEAT["content"])
        since = utcnow().replace(year=utcnow().year - 1)
        ids = {n: db.session.scalar(sa.select(Ticket.id).where(Ticket.number == n)) for n in (first, other)}

        def found(query):
            return [] if query is None else list(db.session.scalars(query))

        assert ids[first] in found(queries._by_text(words, since))
        # words most open orders have are not asked of the index: the two orders' shared words still find it
        shared = set(queries.tokens(FIRST["subject"] + " " + FIRST["content"]))
        monkeypatch.setattr(queries, "common_words", lambda: frozenset(w for w in words if w not in shared))
        assert ids[first] in found(queries._by_text(words, since))
        monkeypatch.setattr(queries, "common_words", lambda: frozenset(words))
        assert queries._by_text(words, since) is not None  # all common: two of them are asked still
        monkeypatch.undo()
        # the database tells which words are common (PostgreSQL: ts_stat; SQLite: fts5vocab over open rows)
        monkeypatch.setattr(queries, "COMMON_FROM", 1)
        queries.forget_common_words()
        monkeypatch.setattr(queries, "COMMON_SHARE", 0.5)
        common = queries.common_words()
        queries.forget_common_words()
        rows = [set(r.split()) for r in db.session.scalars(sa.select(TicketText.tokens).where(TicketText.is_open))]
        counted = {w: sum(w in r for r in rows) for r in rows for w in r}
        assert common == {w for w, n in counted.items() if n > int(len(rows) * 0.5)} and common
    merged = api("supervisor").action(first, "merge", {"into": other})
    assert merged.status_code == 200, merged.get_json()
    with app.app_context():
        is_open = dict(db.session.execute(sa.select(TicketText.ticket_id, TicketText.is_open)
                                          .where(TicketText.ticket_id.in_(ids.values()))).all())
        assert is_open == {ids[first]: False, ids[other]: True}
        assert ids[first] not in found(queries._by_text(words, since))


def test_a_new_orders_words_go_into_the_index_at_once(app, new_ticket):
    """GIN's pending list (fastupdate) is read whole by every search until VACUUM merges it: the open orders'
    word index is built without it (migration 0034), so similar orders do not slow down between vacuums."""
    import sqlalchemy as sa

    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.similar import queries
    from hotline.tickets.models import Ticket

    number = new_ticket(**FIRST)
    with app.app_context():
        ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.number == number))
        words = queries.tokens(REPEAT["subject"] + " " + REPEAT["content"])
        assert ticket_id in db.session.scalars(queries._by_text(words, utcnow().replace(year=utcnow().year - 1)))
        if db.engine.dialect.name == "postgresql":
            options = db.session.execute(sa.text("SELECT reloptions FROM pg_class "
                                                 "WHERE relname = 'ix_ticket_texts_open_search_vector'")).scalar()
            assert options == ["fastupdate=off"]


def test_only_the_newest_matches_are_ranked(app, new_ticket, monkeypatch, clock):
    """Thousands of open orders of one complaint are not all ranked: the newest RANKED of them are."""
    import sqlalchemy as sa

    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.similar import queries
    from hotline.tickets.models import Ticket

    older = new_ticket(**FIRST)
    clock.advance(seconds=60)
    newer = new_ticket(**{**FIRST, "citizen": OTHER["citizen"]})
    words = queries.tokens(REPEAT["subject"] + " " + REPEAT["content"])
    since = utcnow().replace(year=utcnow().year - 1)
    with app.app_context():
        ids = dict(db.session.execute(sa.select(Ticket.number, Ticket.id).where(Ticket.number.in_([older, newer]))).all())
        assert sorted(db.session.scalars(queries._by_text(words, since))) == sorted(ids.values())
        monkeypatch.setattr(queries, "RANKED", 1)
        assert list(db.session.scalars(queries._by_text(words, since))) == [ids[newer]]


@pytest.mark.parametrize("shared", ["address", "citizen"])
def test_closed_orders_at_the_address_or_of_the_caller_do_not_take_an_open_ones_place(api, new_ticket, monkeypatch,
                                                                                     shared):
    """Each way of being alike hands over open orders only, the newest first: an order merged away (closed)
    before the open one at a busy address, or of a frequent caller, must not fill the places."""
    from hotline.similar import queries

    topics = [("路灯不亮", "小区门前路灯坏了好几天"), ("垃圾未清运", "垃圾桶满了没人清运"),
              ("井盖缺失", "人行道上的井盖不见了很危险")]
    def alike_only_by(i: int) -> dict:  # the shared address or caller, the other one each order's own
        return {"address": "东城区和平路9号" if shared == "address" else f"东城区光明路{i + 1}号",
                "citizen": {"name": "赵六", "phone": "13900003333" if shared == "citizen" else f"1390000444{i}"}}

    closed, kept, viewed = (new_ticket(**{**OTHER, "subject": subject, "content": content, **alike_only_by(i)})
                            for i, (subject, content) in enumerate(topics))
    merged = api("supervisor").action(closed, "merge", {"into": kept})
    assert merged.status_code == 200, merged.get_json()
    monkeypatch.setattr(queries, "CANDIDATES", 1)
    found = _similar(api, "call_taker", viewed)
    assert list(found) == [kept]
    assert set(found[kept]["reasons"]) == {"address" if shared == "address" else "caller"}


def test_the_texts_most_alike_are_handed_over_first(app, new_ticket, monkeypatch):
    """With more texts sharing the asked words than CANDIDATES, the one sharing most of the order's words is
    handed over (ranked as they are judged), not those that merely repeat two of its words most often."""
    import sqlalchemy as sa

    from hotline.core.base import utcnow
    from hotline.extensions import db
    from hotline.similar import queries
    from hotline.tickets.models import Ticket

    # the same complaint in other words: two of the words FIRST asks the index for (夜间, 噪音), and seven more
    near = new_ticket(**{**OTHER, "subject": "工地打桩施工扰民", "content": "旁边工地夜间打桩施工噪音，居民意见很大"})
    # three orders about something else that repeat those two words over and over
    for street in ("幸福路", "光明路", "胜利路"):
        new_ticket(**{**OTHER, "subject": f"{street}夜间噪音", "address": f"东城区{street}1号",
                      "content": "夜间噪音" * 12 + f"，{street}摊贩占道经营。"})
    words = queries.tokens(FIRST["subject"] + " " + FIRST["content"])
    since = utcnow().replace(year=utcnow().year - 1)
    monkeypatch.setattr(queries, "CANDIDATES", 1)
    with app.app_context():
        near_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.number == near))
        found = list(db.session.scalars(queries._by_text(words, since)))
        assert len(found) == 4 and found[0] == near_id


def test_the_worker_counts_the_open_orders_words_and_pages_read_its_count(app, new_ticket, clock, monkeypatch):
    import json

    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.similar import queries
    from hotline.similar.models import WordCounts
    from hotline.similar.tasks import count_words_task

    new_ticket(**FIRST), new_ticket(**OTHER)
    monkeypatch.setattr(queries, "COMMON_FROM", 1)
    monkeypatch.setattr(queries, "COMMON_SHARE", 0.5)       # of two open orders: the words both hold
    both = set(queries.tokens(FIRST["subject"] + " " + FIRST["content"])) & set(
        queries.tokens(OTHER["subject"] + " " + OTHER["content"]))
    with app.app_context():
        assert count_words_task() == 2
        stored = db.session.scalars(sa.select(WordCounts)).all()
        assert len(stored) == 1 and stored[0].open_orders == 2
        counts = json.loads(stored[0].counts)
        assert {w for w, n in counts.items() if n == 2} == {w for w in both if len(w) >= 2} != set()
        queries.forget_common_words()
        assert queries.common_words() == {w for w in both if len(w) >= 2}
    # a third order: pages keep reading the worker's count, not the orders
    third = {**REPEAT, "subject": "路灯不亮", "content": "小区门前路灯坏了"}
    new_ticket(**third)
    texts = [set(queries.tokens(o["subject"] + " " + o["content"])) for o in (FIRST, OTHER, third)]
    in_two = {w for w in set().union(*texts) if sum(w in t for t in texts) >= 2}
    assert in_two != both
    with app.app_context():
        queries.forget_common_words()
        assert queries._word_counts()[0] == 2 and queries.common_words() == {w for w in both if len(w) >= 2}
        # no worker counted for half an hour: the page counts for itself (three open orders: those two hold)
        clock.advance(seconds=queries.COUNTS_STALE + 1)
        queries.forget_common_words()
        assert queries._word_counts()[0] == 3 and queries.common_words() == in_two
        # the worker's next count replaces the old one
        assert count_words_task() == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WordCounts)) == 1
        queries.forget_common_words()
    # which the worker does every ten minutes
    entry = app.extensions["celery"].conf.beat_schedule["count-words"]
    assert entry["task"] == "similar.count_words" and entry["task"] in app.extensions["celery"].tasks
    assert entry["schedule"] == queries.COUNTS_SECONDS


def test_departments_are_not_shown_merge_candidates(api, signed, browser):  # noqa: F811
    number = signed(**FIRST)
    assert api("handler").get(f"/tickets/{number}/similar").status_code == 403
    assert api("handler_b").get(f"/tickets/{number}/similar").status_code == 404
    # nor on the order's page: no placeholder for them, and the section itself refused
    page = browser("handler").get(f"/tickets/{number}")
    assert page.status_code == 200 and "/panels/similar" not in page.get_data(as_text=True)
    assert browser("handler").get(f"/tickets/{number}/panels/similar").status_code == 403
    assert browser("handler_b").get(f"/tickets/{number}/panels/similar").status_code == 404
    assert browser("supervisor").get(f"/tickets/{number}/panels/nothing").status_code == 404


def test_the_order_page_shows_candidates_with_why_and_a_merge_button(browser, new_ticket):  # noqa: F811
    first = new_ticket(**FIRST)
    repeat = new_ticket(**REPEAT)
    client = browser("supervisor")
    page = client.get(f"/tickets/{repeat}")
    html = page.get_data(as_text=True)
    # the page does not wait for the search: it holds a placeholder that its script fills at once
    assert page.status_code == 200 and first not in html
    assert f'hx-get="/tickets/{repeat}/panels/similar" hx-trigger="load"' in html
    section = client.get(f"/tickets/{repeat}/panels/similar", headers={"HX-Request": "true"})
    fragment = section.get_data(as_text=True)
    assert section.status_code == 200 and "<html" not in fragment
    assert "HX-Request" in section.headers.get("Vary", "")  # a cache keeps the fragment apart from the page
    assert first in fragment and "Similar content" in fragment and "Same address" in fragment
    assert f'name="into" value="{first}"' in fragment and 'name="csrf_token"' in fragment
    # without a script the placeholder's link opens the same section as a page of its own
    alone = client.get(f"/tickets/{repeat}/panels/similar").get_data(as_text=True)
    assert "<html" in alone and f'name="into" value="{first}"' in alone and f"/tickets/{repeat}" in alone


def test_the_suggestion_falls_back_to_the_category_default_without_a_model(api, world):
    resp = api("call_taker").post("/suggestions/department", json={"text": "工地夜间施工噪音", "category": "1001",
                                                                     "address": "东城区建设路18号"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["fallback_to_category_default"] is True
    assert body["items"][0]["department"]["id"] == world.dept("cgj").id
    assert api("call_taker").post("/suggestions/department", json={}).status_code == 422
    assert api("handler").post("/suggestions/department", json={"text": "噪音"}).status_code == 403


def test_administrators_see_the_models_accuracy(browser):  # noqa: F811
    assert browser("call_taker").get("/similar/model").status_code == 403
    page = browser("admin").get("/similar/model")
    assert page.status_code == 200 and "No model has been trained yet" in page.get_data(as_text=True)


def test_training_learns_from_answered_orders_and_administrators_see_its_accuracy(api, signed, app, browser):  # noqa: F811
    for i in range(6):
        number = signed(**{**FIRST, "subject": f"建设路工地夜间施工噪音 {i}"})
        assert api("handler").action(number, "reply", {"content": "已责令停工", "contacted_citizen": True}).status_code == 200
    signed(**OTHER)  # dispatched but not answered: not learned from
    result = app.test_cli_runner().invoke(args=["suggest", "train"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("6 orders")
    page = browser("admin").get("/similar/model").get_data(as_text=True)
    assert "Trained" in page and "6" in page
