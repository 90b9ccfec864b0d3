"""Nothing a client sends produces a 500 (API.md): odd numbers, dates, text, shapes."""
import pytest

HUGE = 2**63


@pytest.mark.parametrize("body", [
    {"department": HUGE}, {"department": 1e20}, {"department": -HUGE}, {"department": "12abc"},
    {"department": 1, "assist": [HUGE]}, {"department": 1, "assist": "x"}, {"department": 1, "assist": [1.5]},
    {"department": [1]}, {"department": True},
])
def test_dispatch_with_wild_numbers_is_a_422(api, new_ticket, body):
    number = new_ticket()
    resp = api("call_taker").action(number, "dispatch", body)
    assert resp.status_code == 422, resp.get_json()
    assert api("reviewer").get(f"/tickets/{number}").get_json()["status"] == "registered"


@pytest.mark.parametrize("query", [
    "department=99999999999999999999", "created_from=0001-01-01", "created_to=9999-12-31",
    "q=a%00b", "phone=%00", "page=99999999999999999999", "status=%ud800",
])
def test_list_filters_out_of_range_are_a_422(api, query):
    resp = api("reviewer").get(f"/tickets?{query}")
    assert resp.status_code in (403, 422), (query, resp.status_code)
    assert "error" in resp.get_json()


def test_text_that_cannot_be_stored_is_refused(api):
    for subject in ("a\u0000b", "\ud800"):
        resp = api("call_taker").post("/tickets", json={"type": "help", "subject": subject, "content": "x"})
        assert resp.status_code == 422 and "subject" in resp.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/tickets/a%00b", "/tickets/" + "9" * 300, "/tickets/%E4%B8%AD",
                                  "/tickets/1/attachments/99999999999999999999"])
def test_odd_order_numbers_are_not_found(api, path):
    resp = api("reviewer").get(path)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_reports_with_impossible_dates(api):
    assert api("manager").get("/reports/departments?to=9999-12-31").status_code == 422


@pytest.mark.parametrize("body", [[1, 2], {"api_key": 5}, {"description": 5}])
def test_open311_post_with_wrong_shapes(app, world, body):
    client = app.test_client()
    if isinstance(body, dict) and "api_key" not in body:
        body = {**body, "api_key": world.tokens["call_taker"]}
    resp = client.post("/open311/v2/requests.json", json=body)
    assert resp.status_code in (400, 403, 422), resp.get_data(as_text=True)


def test_export_does_not_let_a_spreadsheet_run_formulas(api, new_ticket):
    new_ticket(subject='=HYPERLINK("http://evil")')
    text = api("reviewer").get("/tickets/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
