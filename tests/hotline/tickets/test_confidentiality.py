"""Acceptance point 5: a department user cannot read, list, search or export another
department's orders, nor a reporter's identity, through any endpoint.

Endpoint by endpoint, with one order dispatched to 城市管理局 (cgj), one to 市场监督管理局
(scj) and one report (举报, confidential by type) dispatched to cgj. Each "cannot see"
assertion is paired with a control showing a centre user *does* see the same thing
through the same call, so a filter that simply never matches cannot make a test pass.
"""
from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from dataclasses import dataclass

import pytest

from tests.conftest import ApiClient
from workflows.states import Action

CENTRE_USERS = ["call_taker", "expert", "supervisor", "reviewer", "manager", "admin"]
DEPARTMENT_USERS = ["handler", "cgj_admin", "handler_b", "district_admin", "district_handler",
                    "street_handler", "street_admin", "community_handler", "other_street_handler"]

CGJ_CITIZEN = {"name": "张三", "phone": "13812345678"}
SCJ_CITIZEN = {"name": "李四", "phone": "13900001111"}
REPORTER = {"name": "王五", "phone": "13722225678"}
REPORTER_MASKED = "137****5678"
MISSING = "20990101999999"  # a well-formed number that no order has


def tiny_png() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


PNG = tiny_png()


@dataclass
class Orders:
    cgj: str
    scj: str
    report: str
    dept: dict  # key -> id


def dispatch(api, number: str, dept_id: int) -> None:
    resp = api("call_taker").action(number, "dispatch", {"department": dept_id})
    assert resp.status_code == 200, resp.get_json()


@pytest.fixture
def orders(api, world, new_ticket) -> Orders:
    dept = {key: d.id for key, d in world.depts.items()}
    cgj = new_ticket(citizen=CGJ_CITIZEN)
    scj = new_ticket(subject="超市出售过期牛奶", content="某超市货架上的牛奶已过期三天。", category="0401",
                     citizen=SCJ_CITIZEN, address="西城区和平路8号", lat=39.91, lon=116.40)
    report = new_ticket(type="report", subject="举报违章搭建", content="小区楼顶有人私搭乱建。",
                        citizen=REPORTER, address="东城区幸福路99号", lat=39.93, lon=116.42)
    dispatch(api, cgj, dept["cgj"])
    dispatch(api, scj, dept["scj"])
    dispatch(api, report, dept["cgj"])
    return Orders(cgj=cgj, scj=scj, report=report, dept=dept)


def numbers(resp) -> set[str]:
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["total"] == len(body["items"])
    return {item["number"] for item in body["items"]}


def export_rows(resp) -> dict[str, dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    return {row["number"]: row for row in csv.DictReader(io.StringIO(text))}


def text_of(resp) -> str:
    """The response as readable text (JSON re-encoded without \\u escapes)."""
    if resp.is_json:
        return json.dumps(resp.get_json(), ensure_ascii=False)
    return resp.get_data(as_text=True)


def assert_not_found_like_missing(resp, number: str, missing_resp) -> None:
    """404 with exactly the body a never-existing number gets (modulo the number itself)."""
    assert resp.status_code == 404, resp.get_data(as_text=True)
    assert missing_resp.status_code == 404
    hidden = text_of(resp).replace(number, "<n>")
    missing = text_of(missing_resp).replace(MISSING, "<n>")
    assert hidden == missing


def get_events(api, user: str, number: str) -> list[dict]:
    resp = api(user).get(f"/tickets/{number}/events")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


# -- centre roles --------------------------------------------------------------------------

def test_centre_roles_see_every_order_and_identity(api, orders):
    for user in CENTRE_USERS:
        client = api(user)
        assert numbers(client.get("/tickets?per_page=200")) == {orders.cgj, orders.scj, orders.report}, user
        for number in (orders.cgj, orders.scj, orders.report):
            assert client.get(f"/tickets/{number}").status_code == 200, user
            assert client.get(f"/tickets/{number}/events").status_code == 200, user
        report = client.get(f"/tickets/{orders.report}").get_json()
        assert report["citizen"]["name"] == REPORTER["name"], user
        assert report["citizen"]["phone"] == REPORTER["phone"], user
        rows = export_rows(client.get("/tickets/export.csv"))
        assert set(rows) == {orders.cgj, orders.scj, orders.report}, user
        assert rows[orders.report]["citizen_phone"] == REPORTER["phone"], user


# -- list and export -----------------------------------------------------------------------

def test_department_lists_and_exports_only_its_own_orders(api, orders):
    for user, own, foreign in (("handler", {orders.cgj, orders.report}, {orders.scj}),
                               ("cgj_admin", {orders.cgj, orders.report}, {orders.scj}),
                               ("handler_b", {orders.scj}, {orders.cgj, orders.report})):
        assert numbers(api(user).get("/tickets?per_page=200")) == own
        assert set(export_rows(api(user).get("/tickets/export.csv"))) == own
    for user in ("district_admin", "district_handler", "street_handler", "community_handler",
                 "other_street_handler"):
        assert numbers(api(user).get("/tickets")) == set()
        assert export_rows(api(user).get("/tickets/export.csv")) == {}


def _searches(orders: Orders, target: str) -> list[dict]:
    """Filters that pick out `target` for someone allowed to see it."""
    facts = {
        orders.scj: ("scj", "过期牛奶", SCJ_CITIZEN["phone"], "complaint", "0401"),
        orders.cgj: ("cgj", "占道经营", CGJ_CITIZEN["phone"], "complaint", "1001"),
        orders.report: ("cgj", "违章搭建", REPORTER["phone"], "report", None),
    }[target]
    dept_key, words, phone, type_, category = facts
    out = [
        {"department": orders.dept[dept_key]},
        {"q": target},
        {"q": words},
        {"phone": phone},
        {"status": "awaiting_sign"},
        {"type": type_},
        {"department": orders.dept[dept_key], "status": "awaiting_sign", "q": words},
    ]
    if category:
        out.append({"category": category})
    return out


def test_filters_never_reach_another_departments_order(api, orders, clock):
    for overdue in (False, True):
        if overdue:
            clock.advance(days=40)  # past every reply deadline
        for viewer, target in (("handler", "scj"), ("handler_b", "cgj"), ("handler_b", "report")):
            _search_as(api, orders, viewer, target, overdue)


def _search_as(api, orders: Orders, viewer: str, target: str, overdue: bool) -> None:
    number = getattr(orders, target)
    searches = _searches(orders, number)
    if overdue:
        searches = [dict(s, overdue="true") for s in searches] + [{"overdue": "true"}]
    for args in searches:
        # control: the filter does find the order for the centre
        assert number in numbers(api("reviewer").get("/tickets", query_string=args)), args
        assert number in export_rows(api("reviewer").get("/tickets/export.csv", query_string=args)), args
        # the other department gets nothing of it, in the list or the export
        listed = api(viewer).get("/tickets", query_string={**args, "per_page": 200})
        if "phone" in args:
            # searching by a full number is refused to staff who only see masked numbers
            assert listed.status_code == 403, args
            assert api(viewer).get("/tickets/export.csv", query_string=args).status_code == 403
            continue
        assert number not in numbers(listed), args
        exported = export_rows(api(viewer).get("/tickets/export.csv", query_string=args))
        assert number not in exported, args
        assert target != "report" or REPORTER["name"] not in text_of(listed)


def test_own_filters_still_work_for_departments(api, orders, clock):
    """The same filters do find the department's own orders (so the tests above are meaningful)."""
    assert numbers(api("handler_b").get("/tickets", query_string={"q": "过期牛奶"})) == {orders.scj}
    refused = api("handler_b").get("/tickets", query_string={"phone": SCJ_CITIZEN["phone"]})
    assert refused.status_code == 403 and "phone" in refused.get_json()["error"]["message"]
    assert numbers(api("handler_b").get("/tickets", query_string={"department": orders.dept["scj"]})) == {orders.scj}
    assert numbers(api("handler").get("/tickets", query_string={"q": orders.cgj})) == {orders.cgj}
    clock.advance(days=40)
    assert numbers(api("handler").get("/tickets", query_string={"overdue": "true"})) == {orders.cgj, orders.report}
    assert set(export_rows(api("handler").get("/tickets/export.csv", query_string={"overdue": "true"}))) == {
        orders.cgj, orders.report}


# -- one order: detail, events, actions ---------------------------------------------------

def test_detail_and_events_of_another_departments_order_look_missing(api, orders):
    for viewer, target in (("handler", "scj"), ("handler_b", "cgj"), ("handler_b", "report"),
                           ("district_admin", "cgj"), ("community_handler", "report")):
        number = getattr(orders, target)
        client = api(viewer)
        assert_not_found_like_missing(client.get(f"/tickets/{number}"), number, client.get(f"/tickets/{MISSING}"))
        assert_not_found_like_missing(client.get(f"/tickets/{number}/events"), number,
                                      client.get(f"/tickets/{MISSING}/events"))
        assert api("reviewer").get(f"/tickets/{number}").status_code == 200  # it does exist


ACTION_BODIES = {
    "answer": {"reply": "已答复"}, "dispatch": {"department": None}, "sign": {}, "return": {"reason": "不是我们的"},
    "review-return": {"approve": True}, "sub-dispatch": {"department": None, "note": "转"},
    "request-extension": {"days": 3, "reason": "需要时间"}, "review-extension": {"approve": True},
    "reply": {"content": "已处理", "contacted_citizen": True}, "review-reply": {"approve": True},
    "progress": {"text": "正在处理", "public": True},
    "visit": {"satisfaction": "satisfied", "resolved": True}, "reopen": {"reason": "不满意"},
    "urge": {"note": "快"}, "supervise": {"note": "督"}, "merge": {"into": None}, "cancel": {"reason": "撤"},
    "comment": {"content": "看看", "internal": False}, "grant-identity": {"department": None, "reason": "需要"},
    "register": {},
}


def test_every_action_on_another_departments_order_is_404(api, orders):
    assert set(ACTION_BODIES) == {a.value for a in Action}  # a new action must be added here
    before = {n: get_events(api, "reviewer", n) for n in (orders.cgj, orders.scj, orders.report)}
    for viewer, number, own_dept, own_number in (("handler_b", orders.cgj, "scj", orders.scj),
                                                 ("handler_b", orders.report, "scj", orders.scj),
                                                 ("handler", orders.scj, "cgj", orders.cgj)):
        client = api(viewer)
        for action, body in ACTION_BODIES.items():
            body = {k: (orders.dept[own_dept] if k == "department" else own_number if k == "into" else v)
                    for k, v in body.items()}
            resp = client.action(number, action, body)
            assert_not_found_like_missing(resp, number, client.action(MISSING, action, body))
    # nothing happened to any of them
    for number, events in before.items():
        assert get_events(api, "reviewer", number) == events
        assert api("reviewer").get(f"/tickets/{number}").get_json()["status"] == "awaiting_sign"
    # while on their own orders the same calls are not 404s
    assert api("handler_b").action(orders.scj, "sign").status_code == 200
    assert api("handler").action(orders.cgj, "comment", {"content": "收到"}).status_code == 200


# -- attachments ---------------------------------------------------------------------------

def download(client: ApiClient, number: str, attachment_id: int) -> tuple[int, bytes]:
    """(status, body) of a file download; the response (an open file) is closed."""
    resp = client.get(f"/tickets/{number}/attachments/{attachment_id}")
    try:
        return resp.status_code, resp.get_data()
    finally:
        resp.close()


def upload(client: ApiClient, number: str, name: str, confidential: bool = False):
    data = {"file": (io.BytesIO(PNG), name)}
    if confidential:
        data["confidential"] = "1"
    return client.post(f"/tickets/{number}/attachments", data=data, content_type="multipart/form-data")


def test_attachments_of_another_department_cannot_be_read_or_added(api, orders):
    resp = upload(api("reviewer"), orders.cgj, "现场照片.png")
    assert resp.status_code == 201, resp.get_json()
    photo = resp.get_json()["id"]
    assert resp.get_json()["content_type"] == "image/png"

    # the owning department downloads it
    assert download(api("handler"), orders.cgj, photo) == (200, PNG)

    b = api("handler_b")
    missing = b.get(f"/tickets/{MISSING}/attachments/{photo}")
    assert_not_found_like_missing(b.get(f"/tickets/{orders.cgj}/attachments/{photo}"), orders.cgj, missing)
    # nor through its own order's number
    status, data = download(b, orders.scj, photo)
    assert status == 404 and data != PNG
    # nor can it add files to the other department's order
    assert_not_found_like_missing(upload(b, orders.cgj, "x.png"), orders.cgj, upload(b, MISSING, "x.png"))
    files = api("reviewer").get(f"/tickets/{orders.cgj}").get_json()["attachments"]
    assert [f["filename"] for f in files] == ["现场照片.png"]


def test_confidential_attachment_of_a_report_follows_the_identity_grant(api, orders):
    secret = upload(api("reviewer"), orders.report, "举报人王五身份证.png", confidential=True)
    assert secret.status_code == 201, secret.get_json()
    secret_id = secret.get_json()["id"]
    scene = upload(api("reviewer"), orders.report, "楼顶照片.png").get_json()["id"]

    handler = api("handler")
    detail = handler.get(f"/tickets/{orders.report}").get_json()
    assert [a["id"] for a in detail["attachments"]] == [scene]
    assert download(handler, orders.report, scene) == (200, PNG)
    assert download(handler, orders.report, secret_id)[0] == 404
    # the file's name (which here names the reporter) is not in the trail either
    assert "王五" not in text_of(handler.get(f"/tickets/{orders.report}/events"))
    assert "王五" in text_of(api("reviewer").get(f"/tickets/{orders.report}/events"))

    grant = api("reviewer").action(orders.report, "grant-identity",
                                   {"department": orders.dept["cgj"], "reason": "需核实举报人"})
    assert grant.status_code == 200, grant.get_json()
    assert download(handler, orders.report, secret_id) == (200, PNG)
    assert {a["id"] for a in handler.get(f"/tickets/{orders.report}").get_json()["attachments"]} == {
        scene, secret_id}
    # scj still sees neither the order nor the file
    b = api("handler_b")
    assert_not_found_like_missing(b.get(f"/tickets/{orders.report}/attachments/{secret_id}"), orders.report,
                                  b.get(f"/tickets/{MISSING}/attachments/{secret_id}"))


# -- centre-only endpoints -----------------------------------------------------------------

def test_citizen_lookup_and_reports_are_forbidden_to_department_staff(api, orders):
    for user in DEPARTMENT_USERS:
        client = api(user)
        for phone in (REPORTER["phone"], SCJ_CITIZEN["phone"], CGJ_CITIZEN["phone"]):
            resp = client.get("/citizens", query_string={"phone": phone})
            assert resp.status_code == 403, user
            assert resp.get_json()["error"]["code"] == "forbidden"
            assert phone not in text_of(resp) and REPORTER["name"] not in text_of(resp)
        resp = client.get("/reports/departments")
        assert resp.status_code == 403, user
        assert "items" not in resp.get_json()


def test_citizen_lookup_and_reports_work_for_the_centre(api, orders):
    resp = api("call_taker").get("/citizens", query_string={"phone": REPORTER["phone"]})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["citizen"]["name"] == REPORTER["name"]
    assert [t["number"] for t in body["tickets"]] == [orders.report]
    assert api("manager").get("/reports/departments").status_code == 200


# -- the reporter's identity ---------------------------------------------------------------

HIDDEN = {"name": None, "phone": None, "is_hidden": True}


def _identity_as_seen(api, user: str, number: str) -> dict:
    """The citizen block as `user` sees it in detail, list and export (which must agree)."""
    client = api(user)
    detail = client.get(f"/tickets/{number}").get_json()["citizen"]
    listed = {i["number"]: i["citizen"] for i in client.get("/tickets?per_page=200").get_json()["items"]}[number]
    row = export_rows(client.get("/tickets/export.csv"))[number]
    assert listed == detail
    assert (row["citizen_name"] or None, row["citizen_phone"] or None) == (detail["name"], detail["phone"])
    return detail


def test_reporter_identity_is_hidden_until_the_centre_grants_it(api, orders):
    handler = api("handler")
    for user in ("handler", "cgj_admin"):
        assert _identity_as_seen(api, user, orders.report) == HIDDEN
    # nothing anywhere in what cgj can read names the reporter
    for path in (f"/tickets/{orders.report}", f"/tickets/{orders.report}/events", "/tickets?per_page=200",
                 "/tickets/export.csv"):
        text = text_of(handler.get(path))
        assert REPORTER["name"] not in text and REPORTER["phone"] not in text and REPORTER_MASKED not in text, path
    # the reporter's number finds nothing for cgj (it does for the centre)
    assert handler.get("/tickets", query_string={"phone": REPORTER["phone"]}).status_code == 403
    assert handler.get("/tickets/export.csv", query_string={"phone": REPORTER["phone"]}).status_code == 403
    assert numbers(api("reviewer").get("/tickets", query_string={"phone": REPORTER["phone"]})) == {orders.report}

    # the centre may only grant to a department that has the order
    refused = api("reviewer").action(orders.report, "grant-identity",
                                     {"department": orders.dept["scj"], "reason": "核实"})
    assert refused.status_code == 422
    # a department cannot grant itself
    assert handler.action(orders.report, "grant-identity",
                          {"department": orders.dept["cgj"], "reason": "我要看"}).status_code == 403
    assert _identity_as_seen(api, "handler", orders.report) == HIDDEN

    grant = api("reviewer").action(orders.report, "grant-identity",
                                   {"department": orders.dept["cgj"], "reason": "需与举报人核实现场"})
    assert grant.status_code == 200, grant.get_json()
    granted = {"name": REPORTER["name"], "phone": REPORTER_MASKED, "is_vip": False, "is_hidden": False}
    for user in ("handler", "cgj_admin"):
        assert _identity_as_seen(api, user, orders.report) == granted
    # the grant itself is an internal step: the centre sees it in the trail, the department does not
    assert "grant-identity" in [e["action"] for e in get_events(api, "reviewer", orders.report)]
    cgj_events = get_events(api, "handler", orders.report)
    assert "grant-identity" not in [e["action"] for e in cgj_events]
    assert "需与举报人核实现场" not in json.dumps(cgj_events, ensure_ascii=False)

    # scj still cannot see the order at all
    b = api("handler_b")
    assert_not_found_like_missing(b.get(f"/tickets/{orders.report}"), orders.report, b.get(f"/tickets/{MISSING}"))
    assert b.get("/tickets", query_string={"phone": REPORTER["phone"]}).status_code == 403
    assert REPORTER["name"] not in text_of(b.get("/tickets/export.csv"))
    # the centre sees everything, before and after
    for user in CENTRE_USERS:
        assert api(user).get(f"/tickets/{orders.report}").get_json()["citizen"] == {
            "name": REPORTER["name"], "phone": REPORTER["phone"], "is_vip": False, "is_hidden": False}


def test_a_grant_is_for_one_department_only(app, api, world, orders, new_ticket):
    """A report led by cgj with scj assisting: scj sees the order but not whom cgj was granted."""
    number = new_ticket(type="report", subject="举报无证经营", content="某店无证经营。", citizen=REPORTER)
    resp = api("call_taker").action(number, "dispatch", {"department": orders.dept["cgj"],
                                                          "assist": [orders.dept["scj"]]})
    assert resp.status_code == 200, resp.get_json()
    assert api("reviewer").action(number, "grant-identity", {"department": orders.dept["cgj"],
                                                             "reason": "核实"}).status_code == 200
    assert _identity_as_seen(api, "handler", number)["name"] == REPORTER["name"]
    assert _identity_as_seen(api, "handler_b", number) == HIDDEN
    for path in (f"/tickets/{number}", f"/tickets/{number}/events", "/tickets/export.csv"):
        assert REPORTER["name"] not in text_of(api("handler_b").get(path)), path
    hidden = open311(app, f"requests/{number}.json", world.tokens["handler_b"]).get_json()[0]
    assert hidden["description"] is None
    assert open311(app, f"requests/{number}.json", world.tokens["handler"]).get_json()[0]["description"] == \
        "举报无证经营"


def test_marked_confidential_order_hides_identity_like_a_report(api, orders, new_ticket):
    number = new_ticket(is_confidential=True, citizen={"name": "赵六", "phone": "13655554444"})
    dispatch(api, number, orders.dept["cgj"])
    assert _identity_as_seen(api, "handler", number) == HIDDEN
    assert api("handler").get("/tickets", query_string={"phone": "13655554444"}).status_code == 403
    assert api("reviewer").get(f"/tickets/{number}").get_json()["citizen"]["phone"] == "13655554444"


def test_phones_of_ordinary_orders_are_masked_for_department_staff(api, app, orders):
    from hotline.auth.operations import create_user, issue_token
    from hotline.extensions import db

    shown = {"name": CGJ_CITIZEN["name"], "phone": "138****5678", "is_vip": False, "is_hidden": False}
    assert _identity_as_seen(api, "handler", orders.cgj) == shown
    assert CGJ_CITIZEN["phone"] not in text_of(api("handler").get(f"/tickets/{orders.cgj}"))
    assert _identity_as_seen(api, "reviewer", orders.cgj)["phone"] == CGJ_CITIZEN["phone"]

    trusted = create_user("cgj_trusted", "department_handler", "password-123",
                          department_id=orders.dept["cgj"], can_view_phones=True)
    token = issue_token(trusted)
    db.session.commit()
    client = ApiClient(app.test_client(), token)
    assert client.get(f"/tickets/{orders.cgj}").get_json()["citizen"]["phone"] == CGJ_CITIZEN["phone"]
    # may see phones, but still not a reporter's, and still not another department's orders
    assert client.get(f"/tickets/{orders.report}").get_json()["citizen"] == HIDDEN
    assert client.get(f"/tickets/{orders.scj}").status_code == 404
    # and may search by phone: their own ordinary order is found, a reporter and other departments are not
    found = client.get("/tickets", query_string={"phone": CGJ_CITIZEN["phone"]}).get_json()
    assert [i["number"] for i in found["items"]] == [orders.cgj]
    assert client.get("/tickets", query_string={"phone": REPORTER["phone"]}).get_json()["items"] == []
    assert client.get("/tickets", query_string={"phone": SCJ_CITIZEN["phone"]}).get_json()["items"] == []


# -- sub-units -----------------------------------------------------------------------------

def test_sub_units_see_their_own_subtree_only(api, orders):
    d = orders.dept
    district_only = _new_dispatched(api, d["dc"], "区级工单")
    sub = _new_dispatched(api, d["dc"], "区转街道工单")
    assert api("district_admin").action(sub, "sign").status_code == 200
    resp = api("district_admin").action(sub, "sub-dispatch", {"department": d["dc_s1"], "note": "请街道处理"})
    assert resp.status_code == 200, resp.get_json()
    street = _new_dispatched(api, d["dc_s1"], "街道直派工单")
    community = _new_dispatched(api, d["dc_s1_c1"], "社区直派工单")
    sibling = _new_dispatched(api, d["dc_s2"], "和平街道工单")
    everything = {district_only, sub, street, community, sibling, orders.cgj, orders.scj, orders.report}

    expected = {
        "district_admin": {district_only, sub, street, community, sibling},
        "district_handler": {district_only, sub, street, community, sibling},
        "street_handler": {sub, street, community},
        "street_admin": {sub, street, community},
        "other_street_handler": {sibling},
        "community_handler": {community},
        "handler": {orders.cgj, orders.report},
    }
    for user, visible in expected.items():
        client = api(user)
        assert numbers(client.get("/tickets?per_page=200")) == visible, user
        assert set(export_rows(client.get("/tickets/export.csv"))) == visible, user
        for number in everything:
            detail = client.get(f"/tickets/{number}")
            if number in visible:
                assert detail.status_code == 200, (user, number)
            else:
                assert_not_found_like_missing(detail, number, client.get(f"/tickets/{MISSING}"))
                assert client.get(f"/tickets/{number}/events").status_code == 404
        # filtering by a department outside the subtree yields nothing new
        for key in ("dc", "dc_s1", "dc_s2", "dc_s1_c1"):
            assert numbers(client.get("/tickets", query_string={"department": d[key], "per_page": 200})) <= visible
    # a street cannot act on its district's or its sibling's orders
    assert api("street_handler").action(district_only, "sign").status_code == 404
    assert api("street_handler").action(sibling, "sign").status_code == 404
    assert api("community_handler").action(street, "sign").status_code == 404


def _new_dispatched(api, dept_id: int, subject: str) -> str:
    resp = api("call_taker").post("/tickets", json={
        "type": "help", "channel": "phone", "subject": subject, "content": subject + "，请处理。",
        "citizen": {"name": "钱七", "phone": "13511112222"}})
    assert resp.status_code == 201, resp.get_json()
    number = resp.get_json()["number"]
    dispatch(api, number, dept_id)
    return number


# -- Open311 -------------------------------------------------------------------------------

def open311(app, path: str, user_token: str | None = None, **args):
    if user_token is not None:
        args["api_key"] = user_token
    return app.test_client().get(f"/open311/v2/{path}", query_string=args)


def test_open311_reads_need_an_api_key(app, world, orders):
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}", f"requests/{orders.cgj}.{fmt}", f"requests/{orders.report}.{fmt}"):
            for key in (None, "", "not-a-token"):
                resp = open311(app, path, key)
                assert resp.status_code == 403, (path, key)
                body = resp.get_data(as_text=True)
                assert orders.cgj not in body and orders.report not in body and "占道经营" not in body
        # with a key they work (control)
        assert open311(app, f"requests.{fmt}", world.tokens["reviewer"]).status_code == 200
        assert orders.cgj in open311(app, f"requests/{orders.cgj}.{fmt}", world.tokens["reviewer"]).get_data(
            as_text=True)


def test_open311_applies_department_visibility(app, world, orders):
    tokens = world.tokens
    listed = {r["service_request_id"] for r in open311(app, "requests.json", tokens["handler_b"]).get_json()}
    assert listed == {orders.scj}
    listed = {r["service_request_id"] for r in open311(app, "requests.json", tokens["handler"]).get_json()}
    assert listed == {orders.cgj, orders.report}
    centre = {r["service_request_id"] for r in open311(app, "requests.json", tokens["reviewer"]).get_json()}
    assert {orders.cgj, orders.scj, orders.report} <= centre

    # asking by id does not get round it
    ids = f"{orders.cgj},{orders.report},{orders.scj}"
    asked = open311(app, "requests.json", tokens["handler_b"], service_request_id=ids).get_json()
    assert [r["service_request_id"] for r in asked] == [orders.scj]
    xml = open311(app, "requests.xml", tokens["handler_b"], service_request_id=ids).get_data(as_text=True)
    assert orders.scj in xml and orders.cgj not in xml and orders.report not in xml
    assert open311(app, "requests.json", tokens["handler_b"], service_code="1001").get_json() == []

    # nor does the single-request call, which looks exactly like a missing number
    for number in (orders.cgj, orders.report):
        for fmt in ("json", "xml"):
            hidden = open311(app, f"requests/{number}.{fmt}", tokens["handler_b"])
            missing = open311(app, f"requests/{MISSING}.{fmt}", tokens["handler_b"])
            assert hidden.status_code == missing.status_code == 404
            assert hidden.get_data(as_text=True).replace(number, "<n>") == \
                missing.get_data(as_text=True).replace(MISSING, "<n>")
    assert open311(app, f"requests/{orders.scj}.json", tokens["handler_b"]).get_json()[0]["description"] == \
        "超市出售过期牛奶"


def test_open311_hides_a_report_from_those_who_may_not_see_its_reporter(app, api, world, orders):
    def row(user: str, fmt: str = "json"):
        resp = open311(app, f"requests/{orders.report}.{fmt}", world.tokens[user])
        assert resp.status_code == 200
        return resp.get_json()[0] if fmt == "json" else resp.get_data(as_text=True)

    hidden = row("handler")
    assert (hidden["description"], hidden["address"], hidden["lat"], hidden["long"]) == (None, None, None, None)
    listed = {r["service_request_id"]: r for r in open311(app, "requests.json", world.tokens["handler"]).get_json()}
    assert listed[orders.report]["description"] is None and listed[orders.report]["address"] is None
    assert listed[orders.cgj]["description"] == "幸福路占道经营"  # ordinary orders are not blanked
    xml = row("handler", "xml")
    assert "违章搭建" not in xml and "幸福路99号" not in xml and REPORTER["phone"] not in xml

    centre = row("reviewer")
    assert centre["description"] == "举报违章搭建" and centre["address"] == "东城区幸福路99号"
    assert centre["lat"] == pytest.approx(39.93)

    grant = api("reviewer").action(orders.report, "grant-identity",
                                   {"department": orders.dept["cgj"], "reason": "需核实"})
    assert grant.status_code == 200
    granted = row("handler")
    assert granted["description"] == "举报违章搭建" and granted["address"] == "东城区幸福路99号"
    # scj still cannot see it, granted or not
    assert open311(app, f"requests/{orders.report}.json", world.tokens["handler_b"]).status_code == 404
    # and no Open311 reply carries the reporter's name or number to anyone
    for user in ("handler", "reviewer"):
        text = json.dumps(open311(app, "requests.json", world.tokens[user]).get_json(), ensure_ascii=False)
        assert REPORTER["name"] not in text and REPORTER["phone"] not in text


def test_a_department_whose_return_was_approved_loses_sight_of_the_order(api, world, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    assert api("handler").action(number, "return", {"reason": "不属于本单位职责"}).status_code == 200
    assert api("handler").get(f"/tickets/{number}").status_code == 200  # still theirs while under review
    resp = api("reviewer").action(number, "review-return", {"approve": True, "department": world.dept("scj").id})
    assert resp.status_code == 200
    api("handler_b").action(number, "sign")
    api("handler_b").action(number, "reply", {"content": "已处理，涉事商户已整改。"})
    assert api("handler").get(f"/tickets/{number}").status_code == 404
    assert number not in {t["number"] for t in api("handler").get("/tickets").get_json()["items"]}
    assert api("handler_b").get(f"/tickets/{number}").status_code == 200


def test_departments_keep_sight_of_orders_cancelled_while_with_them(api, world, new_ticket):
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    api("reviewer").action(number, "cancel", {"reason": "市民撤回诉求"})
    body = api("handler").get(f"/tickets/{number}")
    assert body.status_code == 200 and body.get_json()["status"] == "cancelled"


def test_a_returned_department_does_not_regain_sight_when_the_order_is_cancelled(api, world, new_ticket, clock):
    number = new_ticket(type="report", citizen={"name": "钱七", "phone": "13700001111"})
    api("call_taker").action(number, "dispatch", {"department": world.dept("scj").id})
    api("handler_b").action(number, "return", {"reason": "不属于本单位"})
    clock.advance(hours=1)
    api("reviewer").action(number, "review-return", {"approve": True, "department": world.dept("cgj").id})
    clock.advance(hours=1)
    api("reviewer").action(number, "cancel", {"reason": "举报人撤回"})
    assert api("handler_b").get(f"/tickets/{number}").status_code == 404
    assert api("handler").get(f"/tickets/{number}").status_code == 200  # cgj had it when it was cancelled


def test_a_file_marked_confidential_is_hidden_from_departments_on_any_order(api, world, new_ticket):
    import io

    from tests.hotline.api.test_api_misc import tiny_png
    number = new_ticket()  # an ordinary complaint
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    upload = api("reviewer").post(f"/tickets/{number}/attachments", content_type="multipart/form-data",
                                  data={"file": (io.BytesIO(tiny_png()), "来电人证件.png"), "confidential": "1"})
    assert upload.status_code == 201
    file_id = upload.get_json()["id"]
    assert api("handler").get(f"/tickets/{number}").get_json()["attachments"] == []
    assert api("handler").get(f"/tickets/{number}/attachments/{file_id}").status_code == 404
    assert "来电人证件" not in api("handler").get(f"/tickets/{number}/events").get_data(as_text=True)
    seen = api("reviewer").get(f"/tickets/{number}/attachments/{file_id}")
    assert seen.status_code == 200
    seen.close()


def test_only_the_centre_marks_files_confidential_and_grants_only_on_confidential_orders(api, world, new_ticket):
    import io

    from tests.hotline.api.test_api_misc import tiny_png
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    resp = api("handler").post(f"/tickets/{number}/attachments", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(tiny_png()), "x.png"), "confidential": "1"})
    assert resp.status_code == 403
    grant = api("reviewer").action(number, "grant-identity", {"department": world.dept("cgj").id, "reason": "核实"})
    assert grant.status_code == 409
