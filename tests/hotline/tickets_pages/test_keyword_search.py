"""The lists' keyword search reads the orders holding the keyword's letter pairs (tickets.search, migration
0038) and decides on their text: it finds exactly what reading every order finds, for the centre and for a
department, through the API and the page; an order edited is found by its new words; orders loaded without
the application are found once `hotline tickets reindex-search` has run."""
import sqlalchemy as sa

from hotline.core import counts
from hotline.extensions import db
from hotline.tickets import permissions
from hotline.tickets.models import Ticket, TicketSearch

TEXTS = {
    "noise": ("和平小区夜间施工噪声扰民", "每晚十点后仍在打桩，噪声很大。"),
    "stall": ("幸福路占道经营", "幸福路口每天早上有摊贩占道经营，影响通行。"),
    "latin": ("Wi-Fi 信号 ABC-12 故障", "小区公共WiFi无法连接，设备编号abc-12。"),
    "milk": ("超市出售过期牛奶", "购买的牛奶已过期三天（批号 2026_0615%）。"),
    "lamp": ("路灯不亮", "建设路 88 号门前路灯连续三晚不亮。"),
}
KEYWORDS = ["噪声", "噪声扰民", "幸福路", "占道经营影响", "abc-12", "ABC", "wifi", "Wi-Fi", "路灯", "88 号", "88号",
            "路", "噪", "2026_0615%", "_0615", "%", "过期 牛奶", "打桩，噪声", "不存在的词", "z"]


def _by_reading_every_order(user, keyword) -> set[str]:
    """What the keyword matched before the index: the number, or the subject or content holding it."""
    pattern = f"%{keyword}%"
    query = sa.select(Ticket.number).where(sa.or_(Ticket.number == keyword, Ticket.subject.ilike(pattern),
                                                  Ticket.content.ilike(pattern)))
    visible = permissions.visible_filter(user)
    return set(db.session.scalars(query if visible is None else query.where(visible)))


def _found(api, who, keyword) -> set[str]:
    resp = api(who).get("/tickets", query_string={"q": keyword, "per_page": 100})
    assert resp.status_code == 200, resp.get_json()
    return {item["number"] for item in resp.get_json()["items"]}


def test_a_keyword_finds_what_reading_every_order_finds(api, world, new_ticket, browser):
    made = {key: new_ticket(subject=subject, content=content) for key, (subject, content) in TEXTS.items()}
    for key in ("noise", "lamp"):
        assert api("call_taker").action(made[key], "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    expected_hits = {"噪声": {"noise"}, "幸福路": {"stall"}, "abc-12": {"latin"}, "wifi": {"latin"},
                     "88 号": {"lamp"}, "2026_0615%": {"milk"}, "不存在的词": set()}
    for keyword, keys in expected_hits.items():
        assert _found(api, "reviewer", keyword) == {made[k] for k in keys}, keyword
    for who in ("reviewer", "handler"):
        user = world.users[who]
        for keyword in KEYWORDS + [made["milk"], made["lamp"]]:
            assert _found(api, who, keyword) == _by_reading_every_order(user, keyword), (who, keyword)
    assert _found(api, "handler", "噪声") == {made["noise"]} and _found(api, "handler", "幸福路") == set()
    # the page says the same
    html = browser("reviewer").get("/tickets", query_string={"q": "占道经营"}).get_data(as_text=True)
    assert made["stall"] in html and made["noise"] not in html


def test_an_order_edited_is_found_by_its_new_words_only(api, new_ticket):
    number = new_ticket(subject="路灯不亮", content="建设路路灯不亮。")
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    ticket.subject, ticket.content = "井盖缺失", "和平路井盖缺失，夜间危险。"
    db.session.commit()
    counts._remembered.clear()
    assert _found(api, "reviewer", "井盖缺失") == {number}
    assert _found(api, "reviewer", "路灯") == set()


def test_orders_loaded_without_the_application_are_found_after_reindexing(app, api, new_ticket):
    number = new_ticket(subject="窨井盖松动", content="人民路窨井盖松动，车辆经过有响声。")
    db.session.execute(sa.delete(TicketSearch))        # as a bulk load leaves them: no pairs kept
    db.session.commit()
    assert _found(api, "reviewer", "窨井盖") == set()
    result = app.test_cli_runner().invoke(args=["tickets", "reindex-search"])
    assert result.exit_code == 0 and "re-indexed" in result.output, result.output
    assert _found(api, "reviewer", "窨井盖") == {number}
    assert _found(api, "reviewer", "窨") == {number}      # one character: read from the orders themselves
