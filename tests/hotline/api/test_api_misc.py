"""The API around the orders: OpenAPI, errors, pagination, trees, reports, health, attachments."""
import io
import re
import struct
import zlib

from openapi_spec_validator import validate



def tiny_png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_openapi_is_valid_and_describes_every_route(app, api):
    spec = api("reviewer").get("/openapi.json").get_json()
    validate(spec)
    described = {p for p in spec["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in ("api.openapi", "api.docs"):
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            if path == "/tickets/{number}/{action}":
                continue  # described action by action below
            assert path in described, f"{rule.rule} is missing from openapi.json"
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in spec["paths"][path], f"{method} {rule.rule} is missing"
    from workflows.states import Action
    for action in Action:
        if action != Action.REGISTER:
            assert f"/tickets/{{number}}/{action.value}" in described
    page = api("reviewer").get("/docs")
    assert page.status_code == 200 and "/api/v1/tickets" in page.get_data(as_text=True)


def test_errors_share_one_shape_in_the_callers_language(api):
    resp = api("call_taker").post("/tickets", json={"type": "rumour", "subject": ""},
                                  headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_fields"
    assert set(error["fields"]) >= {"type", "subject", "content"}
    assert error["fields"]["subject"] == "此项为必填项。"
    resp = api("call_taker").post("/tickets", json={"type": "rumour"})
    assert resp.get_json()["error"]["fields"]["content"] == "This field is required."
    bad = api("call_taker").client.post("/api/v1/tickets", data="{not json",
                                        headers={**api("call_taker")._headers(), "Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_json"
    assert api("call_taker").get("/nothing-here").status_code == 404
    assert api("call_taker").get("/nothing-here").get_json()["error"]["code"] == "not_found"


def test_a_list_says_of_each_order_what_its_own_page_says(api, world, new_ticket):
    """The list reads its orders as rows (tickets.queries.Listed), an order's detail loads it whole: each list
    item is the detail's same fields, for an order with and without a caller, category and department, a
    confidential report, as the centre and as the department (the reporter hidden, numbers masked)."""
    bare = new_ticket(type="consultation", channel="web", subject="咨询办事时间", citizen=None, category=None,
                      address=None)
    report = new_ticket(type="report", subject="举报违建", urgency="urgent")
    plain = new_ticket(citizen={"name": "李四", "phone": "13900001111"})
    for number in (report, plain):
        assert api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).status_code == 200
    assert api("reviewer").action(plain, "urge", {"note": "请尽快处理"}).status_code == 200
    for viewer, expected in (("reviewer", {bare, report, plain}), ("handler", {report, plain})):
        items = api(viewer).get("/tickets?per_page=50").get_json()["items"]
        assert {i["number"] for i in items} == expected
        for item in items:
            detail = api(viewer).get(f"/tickets/{item['number']}").get_json()
            assert item == {key: detail[key] for key in item}, item["number"]
        shown = {i["number"]: i for i in items}
        assert shown[plain]["urge_count"] == 1 and shown[plain]["lead_department"]["id"] == world.dept("cgj").id
        assert shown[report]["citizen"]["is_hidden"] is (viewer == "handler")
        if viewer == "reviewer":
            assert shown[bare]["citizen"] is None and shown[bare]["category"] is None
            assert shown[bare]["lead_department"] is None and shown[bare]["channel"] == "web"
        else:
            assert shown[plain]["citizen"]["phone"] == "139****1111"


def test_pagination(api, new_ticket):
    numbers = [new_ticket() for _ in range(5)]
    first = api("reviewer").get("/tickets?per_page=2&page=1&sort=number").get_json()
    assert first["total"] == 5 and first["per_page"] == 2 and first["page"] == 1
    assert [i["number"] for i in first["items"]] == numbers[:2]
    last = api("reviewer").get("/tickets?per_page=2&page=3&sort=number").get_json()
    assert [i["number"] for i in last["items"]] == numbers[4:]
    too_many = api("reviewer").get("/tickets?per_page=500")
    assert too_many.status_code == 422 and "per_page" in too_many.get_json()["error"]["fields"]


def test_filters(api, new_ticket, world):
    complaint = new_ticket()
    question = new_ticket(type="consultation", subject="社保缴纳咨询", citizen={"phone": "13900000001"})
    api("call_taker").action(complaint, "dispatch", {"department": world.dept("cgj").id})

    def numbers(query):
        resp = api("reviewer").get(f"/tickets?{query}")
        assert resp.status_code == 200, resp.get_json()
        return {i["number"] for i in resp.get_json()["items"]}

    assert numbers("type=consultation") == {question}
    assert numbers("status=awaiting_sign") == {complaint}
    assert numbers("status=registered,awaiting_sign") == {complaint, question}
    assert numbers(f"department={world.dept('cgj').id}") == {complaint}
    assert numbers("phone=139-0000-0001") == {question}
    assert numbers("q=社保") == {question}
    assert numbers(f"q={complaint}") == {complaint}
    assert numbers("created_from=2026-06-15&created_to=2026-06-15") == {complaint, question}
    assert numbers("created_to=2026-06-14") == set()
    assert api("reviewer").get("/tickets?status=bogus").status_code == 422


def test_citizen_history_newest_first(api, new_ticket):
    first = new_ticket()
    second = new_ticket(subject="再次来电")
    body = api("call_taker").get("/citizens?phone=13812345678").get_json()
    assert body["citizen"]["name"] == "张三"
    assert [t["number"] for t in body["tickets"]] == [second, first]
    empty = api("call_taker").get("/citizens?phone=13000000000").get_json()
    assert empty == {"citizen": None, "tickets": []}


def test_department_and_category_trees(api, world):
    tree = api("handler").get("/departments").get_json()["items"]
    assert tree[0]["name"] == "市政府"
    district = next(c for c in tree[0]["children"] if c["name"] == "东城区")
    assert {c["name"] for c in district["children"]} == {"幸福路街道", "和平街道"}
    categories = api("handler").get("/categories").get_json()["items"]
    utilities = next(c for c in categories if c["code"] == "09")
    assert {c["code"] for c in utilities["children"]} == {"0901", "0903"}


def test_department_report_counts_what_happened(api, new_ticket, world, clock):
    cgj = world.dept("cgj").id
    on_time = new_ticket()
    api("call_taker").action(on_time, "dispatch", {"department": cgj})
    api("handler").action(on_time, "sign")
    api("handler").action(on_time, "reply", {"content": "已处理", "contacted_citizen": True})
    api("reviewer").action(on_time, "review-reply", {"approve": True})
    api("reviewer").action(on_time, "visit", {"satisfaction": "satisfied", "resolved": True})
    late = new_ticket()
    api("call_taker").action(late, "dispatch", {"department": cgj})
    clock.advance(days=10)  # past the 5 working days of a complaint, never signed
    report = api("manager").get("/reports/departments?from=2026-06-01&to=2026-06-30").get_json()
    row = next(r for r in report["items"] if r["department"]["id"] == cgj)
    assert row["dispatched"] == 2
    assert row["signed_on_time"] == 1 and row["on_time_sign_rate"] == 0.5
    assert row["due"] == 2 and row["replied_on_time"] == 1 and row["overdue"] == 1
    assert row["response_rate"] == 0.5
    assert row["visits"] == 1 and row["satisfaction_rate"] == 1.0 and row["resolution_rate"] == 1.0
    bad = api("manager").get("/reports/departments?from=2026-07-01&to=2026-06-01")
    assert bad.status_code == 422


def test_health_reports_database_and_broker(api):
    resp = api(None).get("/health")
    body = resp.get_json()
    assert body["checks"]["database"]["state"] == "ok"
    assert "broker" in body["checks"]


def test_attachments_are_checked_by_content(api, new_ticket):
    number = new_ticket()
    ok = api("call_taker").post(f"/tickets/{number}/attachments",
                                data={"file": (io.BytesIO(tiny_png()), "现场照片.png")},
                                content_type="multipart/form-data")
    assert ok.status_code == 201, ok.get_json()
    stored = ok.get_json()
    assert stored["content_type"] == "image/png"
    download = api("reviewer").get(f"/tickets/{number}/attachments/{stored['id']}")
    assert download.status_code == 200 and download.data == tiny_png()
    download.close()
    disguised = api("call_taker").post(f"/tickets/{number}/attachments",
                                       data={"file": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.png")},
                                       content_type="multipart/form-data")
    assert disguised.status_code == 422
    assert "PNG" in disguised.get_json()["error"]["message"]
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assert [a["filename"] for a in detail["attachments"]] == ["现场照片.png"]
    events = [e["action"] for e in api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]]
    assert events == ["register", "attach"]


def test_open311_services_and_requests(app, api, new_ticket, world):
    client = app.test_client()
    key = world.tokens["call_taker"]
    services = client.get(f"/open311/v2/services.json?api_key={key}")
    assert services.status_code == 200
    by_code = {s["service_code"]: s for s in services.get_json()}
    assert by_code["1001"]["service_name"] == "占道经营"
    created = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "1001", "description": "路口占道经营", "phone": "13812345678",
        "address_string": "幸福路"})
    assert created.status_code == 201, created.get_data(as_text=True)
    number = created.get_json()[0]["service_request_id"]
    xml = client.get(f"/open311/v2/requests/{number}.xml?api_key={key}")
    assert xml.status_code == 200 and f"<service_request_id>{number}</service_request_id>" in xml.get_data(
        as_text=True)
    refused = client.post("/open311/v2/requests.json", data={"service_code": "1001", "description": "x"})
    assert refused.status_code == 403


def test_administrators_edit_the_calendar_and_policies(api, world, new_ticket):
    days = api("reviewer").get("/calendar?year=2025").get_json()
    assert days["is_known"] and days["source"] == "chinesecalendar"
    by_date = {d["date"]: d for d in days["items"]}
    assert by_date["2025-09-28"]["is_workday"] is True and by_date["2025-10-01"]["is_workday"] is False
    assert api("reviewer").put("/calendar/2026-06-16", json={"is_workday": False}).status_code == 403
    assert api("admin").put("/calendar/2026-06-16", json={"is_workday": False}).status_code == 200
    missing = api("admin").put("/calendar/2031-01-01", json={"is_workday": True})
    assert missing.status_code == 503 and "2031" in missing.get_json()["error"]["message"]
    policies = api("admin").get("/sla-policies").get_json()["items"]
    complaint = next(p for p in policies if p["step"] == "reply" and p["ticket_type"] == "complaint")
    assert api("reviewer").put(f"/sla-policies/{complaint['id']}", json={"amount": 2}).status_code == 403
    changed = api("admin").put(f"/sla-policies/{complaint['id']}", json={"amount": 2})
    assert changed.status_code == 200 and changed.get_json()["amount"] == 2
    number = new_ticket()
    lead = api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id}).get_json()
    # Monday 2026-06-15 10:00 + 2 working days, with Tuesday now a holiday: Thursday 10:00
    assert lead["assignments"][0]["reply_due_at"].startswith("2026-06-18T10:00")


def test_report_charges_reopens_to_the_department_that_answered_and_ignores_withdrawn_leads(api, new_ticket, world):
    cgj, scj = world.dept("cgj").id, world.dept("scj").id
    number = new_ticket()
    api("call_taker").action(number, "dispatch", {"department": cgj})
    api("handler").action(number, "sign")
    api("handler").action(number, "reply", {"content": "已处理"})
    api("reviewer").action(number, "review-reply", {"approve": True})
    api("reviewer").action(number, "visit", {"satisfaction": "dissatisfied", "resolved": False})
    api("reviewer").action(number, "reopen", {"reason": "市民不满意", "department": scj})
    cancelled = new_ticket()
    api("call_taker").action(cancelled, "dispatch", {"department": cgj})
    api("reviewer").action(cancelled, "cancel", {"reason": "重复"})
    rows = {r["department"]["id"]: r for r in
            api("manager").get("/reports/departments?from=2026-06-01&to=2026-07-31").get_json()["items"]}
    assert rows[cgj]["reopened"] == 1 and rows.get(scj, {}).get("reopened", 0) == 0
    assert rows[cgj]["due"] == 1  # the cancelled order is no longer due from cgj


def test_attachments_larger_than_the_limit_are_refused(app, api, new_ticket):
    number = new_ticket()
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        big = tiny_png() + b"\0" * 2048
        resp = api("call_taker").post(f"/tickets/{number}/attachments", content_type="multipart/form-data",
                                      data={"file": (io.BytesIO(big), "大图.png")})
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = limit
    assert resp.status_code == 422 and "file" in resp.get_json()["error"]["fields"]
    assert api("reviewer").get(f"/tickets/{number}").get_json()["attachments"] == []
