"""Acting on an order from the phone page: every step through the same operations as the API."""
import io

from tests.hotline.api.test_api_misc import tiny_png
from tests.hotline.inbox.conftest import post_action, section


def _order(api, number, who="reviewer"):
    return api(who).get(f"/tickets/{number}").get_json()


def test_detail_shows_the_order_with_the_phone_masked_and_the_steps_allowed(browser, dispatched):
    number = dispatched("cgj")
    html = browser("handler").get(f"/m/tickets/{number}").get_data(as_text=True)
    assert "幸福路口每天早上有摊贩占道经营" in html and "东城区幸福路12号" in html
    assert "13812345678" not in html and "138****5678" in html
    assert "Sign for this order" in html and "Return the order" in html
    assert "Send the reply" not in html  # not before signing
    assert 'capture="environment"' not in html
    assert "待签收" in browser("handler").get(f"/m/tickets/{number}?lang=zh").get_data(as_text=True)


def test_confidential_reporter_is_hidden(browser, dispatched):
    number = dispatched("cgj", type="report", citizen={"name": "李四", "phone": "13900001111"})
    html = browser("handler").get(f"/m/tickets/{number}").get_data(as_text=True)
    assert "李四" not in html and "1111" not in html and "Confidential" in html


def test_another_departments_order_is_not_found(browser, dispatched):
    number = dispatched("scj")
    client = browser("handler")
    assert client.get(f"/m/tickets/{number}").status_code == 404
    assert client.get("/m/tickets/20260615999999").status_code == 404


def test_signing_from_the_page_moves_the_assignment_to_in_progress(browser, dispatched, api):
    number = dispatched("cgj")
    client = browser("handler")
    resp = post_action(client, number, "sign")
    # the handler stays on the order, at the reply form: replying is what comes next
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/m/tickets/{number}#act-reply")
    assert _order(api, number)["assignments"][0]["status"] == "in_progress"
    assert "signed for" in client.get(resp.headers["Location"]).get_data(as_text=True)  # the flash
    html = client.get("/m").get_data(as_text=True)
    assert number in section(html, "to-handle") and number not in section(html, "to-sign")
    detail = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert 'capture="environment"' in detail and "Ask for an extension" in detail


def test_reply_with_a_photo_stores_both_together(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    resp = post_action(client, number, "reply", {
        "content": "已现场劝离摊贩，并安排巡查。", "contacted_citizen": "true",
        "photos": [(io.BytesIO(tiny_png()), "现场.png"), (io.BytesIO(b""), "")]},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    order = _order(api, number)
    assert order["status"] == "replied"
    assert order["replies"][0]["content"] == "已现场劝离摊贩，并安排巡查。"
    assert order["replies"][0]["contacted_citizen"] is True
    assert [(a["filename"], a["content_type"]) for a in order["attachments"]] == [("现场.png", "image/png")]
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert "现场.png" in html


def test_a_bad_photo_undoes_the_reply_and_says_so_next_to_the_photos(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    resp = post_action(browser("handler"), number, "reply", {
        "content": "已处理", "photos": [(io.BytesIO(b"MZ\x90\x00 not an image"), "photo.png")]},
        content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="e-reply-photos"' in html and "photo.png" in html
    assert 'value="已处理"' in html or ">已处理</textarea>" in html  # what was typed is kept
    order = _order(api, number)
    assert order["status"] == "in_progress" and order["replies"] == [] and order["attachments"] == []


def test_return_without_a_reason_shows_the_error_by_the_reason_and_changes_nothing(browser, dispatched, api):
    number = dispatched("cgj")
    resp = post_action(browser("handler"), number, "return", {"reason": "  "})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    field = html[html.index('id="return-reason"'):]
    assert 'id="e-return-reason"' in field[:600] and "required" in field[:600]
    assert 'aria-invalid="true"' in html[html.index('<textarea id="return-reason"'):][:200]
    assert '<details class="card m-more" id="act-return" open>' in html
    order = _order(api, number)
    assert order["status"] == "awaiting_sign" and order["assignments"][0]["status"] == "awaiting_sign"


def test_return_with_a_reason_goes_to_the_centre(browser, dispatched, api):
    number = dispatched("cgj")
    assert post_action(browser("handler"), number, "return", {"reason": "属市场监管职责"}).status_code == 302
    assert _order(api, number)["status"] == "returned"


def test_extension_request_appears_as_pending(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    resp = post_action(client, number, "request-extension", {"days": "3", "reason": "需协调多个部门"})
    assert resp.status_code == 302
    assert _order(api, number)["extension_requests"][0]["status"] == "pending"
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert "Extension of 3 working days" in html and "Pending" in html
    assert "Ask for an extension" not in html and "waiting for the centre" in html
    bad = post_action(client, number, "request-extension", {"days": "x", "reason": "再延"})
    assert bad.status_code in (409, 422)


def test_extension_with_too_many_days_is_shown_next_to_days(browser, dispatched):
    number = dispatched("cgj", signed_by="handler")
    resp = post_action(browser("handler"), number, "request-extension", {"days": "30", "reason": "太忙"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="e-request-extension-days"' in html and "at most 10" in html


def test_department_admin_sub_dispatches_to_its_own_sub_unit_only(browser, dispatched, api, world):
    number = dispatched("dc", signed_by="district_admin")
    client = browser("district_admin")
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    options = html.split('id="sub-dispatch-department"')[1].split("</select>")[0]
    assert "幸福路街道" in options and "幸福里社区" in options and "城市管理局" not in options
    refused = post_action(client, number, "sub-dispatch", {"department": str(world.dept("scj").id)})
    assert refused.status_code == 422
    refused_html = refused.get_data(as_text=True)
    error_at = refused_html.index('id="e-sub-dispatch-department"')
    assert "own sub-units" in refused_html[error_at:error_at + 200]
    assert len(_order(api, number)["assignments"]) == 1
    ok = post_action(client, number, "sub-dispatch", {"department": str(world.dept("dc_s1").id), "note": "请核实"})
    assert ok.status_code == 302
    assignments = _order(api, number)["assignments"]
    assert [a["department"]["id"] for a in assignments] == [world.dept("dc").id, world.dept("dc_s1").id]
    # the street sees it to sign; a handler may not sub-dispatch
    assert number in section(browser("street_handler").get("/m").get_data(as_text=True), "to-sign")
    assert "Send to a sub-unit" not in browser("district_handler").get(f"/m/tickets/{number}").get_data(as_text=True)


def test_what_the_centre_sent_back_is_shown(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    post_action(client, number, "reply", {"content": "已处理"}, content_type="multipart/form-data")
    resp = api("reviewer").action(number, "review-reply", {"approve": False, "note": "请补充现场照片"})
    assert resp.status_code == 200, resp.get_json()
    api("reviewer").action(number, "urge", {"note": "请尽快办理"})
    inbox = client.get("/m").get_data(as_text=True)
    assert number in section(inbox, "sent-back") and "Reply rejected by the centre" in inbox
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert "Reply rejected" in html and "请补充现场照片" in html
    assert "Urged" in html and "请尽快办理" in html


def test_a_refused_return_is_shown(browser, dispatched, api):
    number = dispatched("cgj")
    client = browser("handler")
    post_action(client, number, "return", {"reason": "不是我们的"})
    resp = api("reviewer").action(number, "review-return", {"approve": False, "note": "属于你局职责"})
    assert resp.status_code == 200, resp.get_json()
    assert number in section(client.get("/m").get_data(as_text=True), "sent-back")
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert "Return refused" in html and "属于你局职责" in html and "不是我们的" in html


def test_a_form_without_the_csrf_token_is_refused(browser, dispatched, api):
    number = dispatched("cgj")
    resp = browser("handler").post(f"/m/tickets/{number}/act/sign", data={})
    assert resp.status_code == 400
    assert _order(api, number)["assignments"][0]["status"] == "awaiting_sign"


def test_unknown_action_and_wrong_state(browser, dispatched):
    number = dispatched("cgj")
    client = browser("handler")
    assert post_action(client, number, "review-reply", {"approve": "true"}).status_code == 404
    resp = post_action(client, number, "reply", {"content": "未签收就回复"}, content_type="multipart/form-data")
    assert resp.status_code == 409 and 'role="alert"' in resp.get_data(as_text=True)


def test_photos_over_the_upload_limit_are_explained_next_to_the_photos(browser, dispatched, api, app, monkeypatch):
    number = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    photo = (io.BytesIO(b"\x89PNG" + b"0" * 4096), "big.png")
    resp = post_action(client, number, "reply", {"content": "已处理", "photos": [photo]},
                       content_type="multipart/form-data")
    assert resp.status_code == 413
    assert 'id="e-reply-photos"' in resp.get_data(as_text=True)
    assert _order(api, number)["replies"] == []
