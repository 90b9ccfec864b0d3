"""The work-order pages: the list and its filters, one order, and the actions a role may take."""
import io
import re

from hotline.tickets import forms


def _numbers(html: str) -> set[str]:
    return set(re.findall(r'href="/tickets/(\d{14})"', html))


def _replied(api, world, dispatched) -> str:
    number = dispatched("cgj")
    assert api("handler").action(number, "sign").status_code == 200
    resp = api("handler").action(number, "reply", {"content": "已清理摊贩", "contacted_citizen": True})
    assert resp.status_code == 200
    return number


def _status(api, number) -> str:
    return api("reviewer").get(f"/tickets/{number}").get_json()["status"]


def test_list_filters_sorting_and_pages_for_the_centre(browser, api, world, new_ticket, dispatched, monkeypatch):
    a = dispatched("cgj")
    b = dispatched("scj", subject="食品过期", category="0401", citizen={"name": "李四", "phone": "13900001111"})
    c = new_ticket(type="consultation", subject="办证咨询")
    page = browser("reviewer")
    html = page.get("/tickets").get_data(as_text=True)
    assert _numbers(html) == {a, b, c}
    assert "3 orders found" in html and "Export CSV" in html

    def listed(query):
        resp = page.get(f"/tickets?{query}")
        assert resp.status_code == 200
        return _numbers(resp.get_data(as_text=True))

    assert listed("type=consultation") == {c}
    assert listed("status=awaiting_sign") == {a, b}
    assert listed("status=registered&status=awaiting_sign") == {a, b, c}
    assert listed(f"department={world.dept('scj').id}") == {b}
    assert listed("q=食品") == {b}
    assert listed("phone=13900001111") == {b}
    assert listed("overdue=true") == set()
    assert listed("sla=red") == set()
    assert listed("created_from=2026-06-15&created_to=2026-06-15") == {a, b, c}
    assert listed("created_from=2026-06-16") == set()
    # sorting: oldest first puts the first registered order on top
    html = page.get("/tickets?sort=created_at").get_data(as_text=True)
    assert html.index(a) < html.index(c)
    html = page.get("/tickets?sort=-created_at").get_data(as_text=True)
    assert html.index(c) < html.index(a)
    # the export link carries the same filters (the page's export, headers and values in the user's language)
    html = page.get("/tickets?type=complaint&status=awaiting_sign").get_data(as_text=True)
    link = re.search(r'href="(/tickets/export.csv[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "type=complaint" in link and "status=awaiting_sign" in link
    csv = page.client.get(link).get_data(as_text=True)
    assert a in csv and b in csv and c not in csv
    # pages
    monkeypatch.setattr(forms, "PER_PAGE", 2)
    first = page.get("/tickets").get_data(as_text=True)
    assert len(_numbers(first)) == 2 and "Page 1 of 2" in first and "Next page" in first
    second = page.get("/tickets?page=2").get_data(as_text=True)
    assert _numbers(second) == {a} and "Previous page" in second


def test_a_bad_filter_is_named_next_to_its_field(browser, world):
    resp = browser("reviewer").get("/tickets?created_from=yesterday&sla=purple")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r'id="e-flt-created_from">Must be a date', html)
    assert re.search(r'id="e-flt-sla">Must be one of', html)
    assert 'role="alert"' in html


def test_department_sees_only_its_own_orders(browser, api, world, dispatched):
    mine = dispatched("cgj")
    theirs = dispatched("scj")
    page = browser("handler")
    html = page.get("/tickets").get_data(as_text=True)
    assert _numbers(html) == {mine}
    assert "138****5678" in html and "13812345678" not in html  # phones masked for department staff
    # searching by the number a department may not see is refused, next to the field
    resp = page.get("/tickets?phone=13812345678")
    assert resp.status_code == 403 and 'id="e-flt-phone"' in resp.get_data(as_text=True)
    assert page.get(f"/tickets/{theirs}").status_code == 404
    assert page.get(f"/tickets/{mine}").status_code == 200
    assert page.act(theirs, "sign").status_code == 404
    assert page.act(theirs, "comment", {"content": "hi", "internal": "true"}).status_code == 404
    assert _status(api, theirs) == "awaiting_sign"
    assert page.get("/tickets/no-such-order").status_code == 404


def test_reporter_of_a_report_is_hidden_from_the_department(browser, api, world, dispatched):
    number = dispatched("cgj", type="report", subject="举报违建")
    html = browser("handler").get(f"/tickets/{number}").get_data(as_text=True)
    assert "Hidden: the reporter" in html
    assert "张三" not in html and "5678" not in html
    listed = browser("handler").get("/tickets").get_data(as_text=True)
    assert "Hidden" in listed and "张三" not in listed and "5678" not in listed
    centre = browser("reviewer").get(f"/tickets/{number}").get_data(as_text=True)
    assert "张三" in centre and "13812345678" in centre
    assert "13812345678" in browser("reviewer").get("/tickets").get_data(as_text=True)
    # once the centre grants the department the reporter's identity, its list shows the name (the phone
    # masked, as every number for staff who may not see them whole)
    assert api("reviewer").action(number, "grant-identity", {"department": world.dept("cgj").id,
                                                             "reason": "需与举报人核实现场"}).status_code == 200
    listed = browser("handler").get("/tickets").get_data(as_text=True)
    assert "张三" in listed and "138****5678" in listed and "13812345678" not in listed


def test_the_forms_shown_match_role_and_state(browser, api, world, dispatched):
    number = dispatched("cgj")
    handler = browser("handler").get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-sign"' in handler and 'id="action-return"' in handler
    assert 'id="action-dispatch"' not in handler and 'id="action-reply"' not in handler
    number = _replied(api, world, dispatched)
    taker = browser("call_taker").get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-review-reply"' not in taker and "Review reply" not in taker
    assert 'id="action-comment"' in taker
    reviewer = browser("reviewer").get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-review-reply"' in reviewer and 'id="action-supervise"' in reviewer
    assert 'id="action-visit"' not in reviewer
    # the department's part is done: it sees the reply but has nothing more to sign or reply
    after = browser("handler").get(f"/tickets/{number}").get_data(as_text=True)
    assert "已清理摊贩" in after and 'id="action-reply"' not in after and 'id="action-sign"' not in after


def test_approving_a_reply_moves_the_order_to_the_return_visit(browser, api, world, dispatched):
    number = _replied(api, world, dispatched)
    page = browser("reviewer")
    resp = page.act(number, "review-reply", {"approve": "true", "note": "可以"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tickets/{number}")
    assert _status(api, number) == "awaiting_visit"
    html = page.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Done: Review reply." in html
    assert 'id="action-visit"' in html and 'id="action-review-reply"' not in html
    assert "Awaiting return visit" in html
    # and the visit closes it
    resp = page.act(number, "visit", {"satisfaction": "satisfied", "resolved": "true", "note": "满意"})
    assert resp.status_code == 302 and _status(api, number) == "closed"


def test_department_steps_from_the_page(browser, api, world, dispatched):
    number = dispatched("cgj")
    page = browser("handler")
    assert page.act(number, "sign").status_code == 302
    assert _status(api, number) == "in_progress"
    resp = page.act(number, "reply", {"content": "已处理", "contacted_citizen": "true"})
    assert resp.status_code == 302 and _status(api, number) == "replied"
    reply = api("reviewer").get(f"/tickets/{number}").get_json()["replies"][0]
    assert reply["contacted_citizen"] is True


def test_a_bad_action_shows_the_error_next_to_the_field(browser, api, world, new_ticket, dispatched):
    number = _replied(api, world, dispatched)
    page = browser("reviewer")
    resp = page.act(number, "review-reply", {"approve": "false"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r'id="e-review-reply-note">Say what is missing', html)
    assert re.search(r'<details class="action" id="action-review-reply" open>', html)
    assert _status(api, number) == "replied"
    # a role that may not: refused with its reason, nothing changes
    resp = browser("call_taker").act(number, "review-reply", {"approve": "true"})
    assert resp.status_code == 403 and "may not" in resp.get_data(as_text=True)
    assert _status(api, number) == "replied"
    # a step the state does not allow
    resp = page.act(number, "visit", {"satisfaction": "satisfied", "resolved": "true"})
    assert resp.status_code == 409
    # dispatch without a department: the select says so, and the note typed is kept
    fresh = new_ticket()
    resp = browser("call_taker").act(fresh, "dispatch", {"note": "请尽快"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="e-dispatch-department">This field is required.' in html
    assert "请尽快" in html
    assert browser("call_taker").act(fresh, "no-such-step").status_code == 404


def test_forms_without_the_csrf_token_are_refused(browser, api, world, dispatched):
    number = _replied(api, world, dispatched)
    page = browser("reviewer")
    resp = page.act(number, "review-reply", {"approve": "true"}, csrf=False)
    assert resp.status_code == 400
    assert "security token" in resp.get_data(as_text=True)
    assert _status(api, number) == "replied"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_upload_a_file_and_download_it(browser, api, world, dispatched):
    number = dispatched("cgj")
    page = browser("handler")
    page.get(f"/tickets/{number}")
    resp = page.client.post(f"/tickets/{number}/attachments", headers={"Accept-Language": "en"},
                            data={"csrf_token": page.token, "file": (io.BytesIO(PNG), "现场.png")},
                            content_type="multipart/form-data")
    assert resp.status_code == 302
    html = page.get(f"/tickets/{number}").get_data(as_text=True)
    link = re.search(rf'href="(/api/v1/tickets/{number}/attachments/\d+)"', html).group(1)
    assert "现场.png" in html
    download = page.client.get(link)
    assert download.data == PNG
    download.close()
    resp = page.client.post(f"/tickets/{number}/attachments", headers={"Accept-Language": "en"},
                            data={"csrf_token": page.token, "file": (io.BytesIO(b"MZ..."), "virus.exe")},
                            content_type="multipart/form-data")
    assert resp.status_code == 422
    assert 'id="e-upload-file">Type not accepted.' in resp.get_data(as_text=True)


def test_extension_and_sub_dispatch_from_the_pages(browser, api, world, dispatched):
    number = dispatched("dc")
    district = browser("district_admin")
    assert district.act(number, "sign").status_code == 302
    html = district.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-sub-dispatch"' in html and "幸福路街道" in html
    resp = district.act(number, "request-extension", {"days": "30", "reason": "需要协调"})
    assert resp.status_code == 422 and 'id="e-request-extension-days"' in resp.get_data(as_text=True)
    assert district.act(number, "request-extension", {"days": "3", "reason": "需要协调"}).status_code == 302
    resp = district.act(number, "sub-dispatch", {"department": world.dept("dc_s1").id, "note": "请处理"})
    assert resp.status_code == 302
    assert browser("street_handler").get(f"/tickets/{number}").status_code == 200
    reviewer = browser("reviewer")
    html = reviewer.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="action-review-extension"' in html and "需要协调" in html
    assert reviewer.act(number, "review-extension", {"approve": "true"}).status_code == 302
    detail = api("reviewer").get(f"/tickets/{number}").get_json()
    assert detail["extension_requests"][0]["status"] == "approved"
    assert 'id="action-review-extension"' not in reviewer.get(f"/tickets/{number}").get_data(as_text=True)


def test_pages_speak_chinese_by_default(app, world, dispatched):
    import re as _re
    number = dispatched("cgj")
    client = app.test_client()
    token = _re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "reviewer", "password": "password-123", "csrf_token": token})
    html = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "待签收" in html and "派单" in html  # status and timeline titles in Chinese
    assert client.get("/tickets").status_code == 200


def test_a_category_lists_its_own_orders_and_those_below_it(app, browser, api, world, dispatched, new_ticket):
    """The list's category filter: the category and every one under it, for the centre and within what a
    department may see; none for a category no order has or no category has. The list asks for the
    categories' ids (kept a few seconds per process), so one the administrator adds is listed at once."""
    from tests.hotline.admin.test_admin import admin_client, post

    food = dispatched("scj", subject="食品过期", category="0401")
    market = dispatched("scj", subject="市场无照经营", category="04")
    vendor = dispatched("cgj")                                     # 1001, under 10
    water = new_ticket(type="help", category="0901", subject="小区停水")
    page = browser("reviewer")

    def listed(query, who=page):
        resp = who.get(f"/tickets?{query}")
        assert resp.status_code == 200
        return _numbers(resp.get_data(as_text=True))

    assert listed("category=04") == {food, market}
    assert listed("category=0401") == {food}
    assert listed("category=10") == {vendor}
    assert listed("category=09") == {water}
    assert listed("category=0903") == set()                        # a category no order has
    assert listed("category=77") == set()                          # no such category
    assert listed("category=04&type=complaint") == {food, market}
    assert listed("category=04&type=help") == set()
    # the market bureau's handler sees its own of them; city management's handler none of the market's
    assert listed("category=04", browser("handler_b")) == {food, market}
    assert listed("category=04", browser("handler")) == set()
    assert listed("category=10", browser("handler")) == {vendor}
    # a category the administrator adds under 04: its orders are listed under it and under 04 at once
    admin = admin_client(app)
    assert post(admin, "/admin/categories", {"code": "0402", "name": "价格监管", "parent": str(world.categories["04"].id),
                                             "default_department": str(world.dept("scj").id)}).status_code == 302
    price = dispatched("scj", subject="商家乱收费", category="0402")
    assert listed("category=04") == {food, market, price}
    assert listed("category=0402") == {price}
    assert listed("category=0402", browser("handler_b")) == {price}
    # the API's list filters the same way, with its exact total
    body = api("reviewer").get("/tickets?category=04&per_page=2").get_json()
    assert body["total"] == 3 and len(body["items"]) == 2


def test_by_earliest_deadline_orders_without_a_deadline_come_last_on_every_backend(browser, api, world, dispatched,
                                                                                    new_ticket):
    """An order not yet dispatched has no deadline: earliest deadline first lists it after every order that has one
    (PostgreSQL's own place for NULL, and SQLite's opposite unless told), and latest deadline first is the same
    list backwards, on the page and through the API, whole and one order a page."""
    urgent = dispatched("scj", urgency="urgent", subject="燃气泄漏")   # the shortest deadline
    first = dispatched("cgj")
    second = dispatched("cgj", subject="占道经营")
    waiting = new_ticket(type="consultation", subject="办证咨询")      # registered, no deadline yet
    due = {n: api("reviewer").get(f"/tickets/{n}").get_json()["sla"]["due_at"] for n in (urgent, first, second)}
    assert due[urgent] < due[first] <= due[second]
    earliest = [urgent, first, second, waiting]

    def page_numbers(query: str) -> list[str]:
        resp = browser("reviewer").get(f"/tickets?{query}")
        assert resp.status_code == 200
        return list(dict.fromkeys(re.findall(r'href="/tickets/(\d{14})"', resp.get_data(as_text=True))))

    assert page_numbers("sort=due_at") == earliest
    assert page_numbers("sort=-due_at") == earliest[::-1]
    for sort, want in (("due_at", earliest), ("-due_at", earliest[::-1])):
        body = api("reviewer").get(f"/tickets?sort={sort}").get_json()
        assert [item["number"] for item in body["items"]] == want and body["total"] == 4
        one_by_one = [api("reviewer").get(f"/tickets?sort={sort}&per_page=1&page={n}").get_json()["items"]
                      for n in (1, 2, 3, 4)]
        assert [items[0]["number"] for items in one_by_one] == want
