"""Progress notes from the phone page: recorded through `perform`, and the handler stays on the order."""
from tests.hotline.inbox.conftest import csrf_token, post_action


def notes(api, number):
    return [e["data"] for e in api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
            if e["action"] == "progress"]


def test_the_form_appears_once_signed_for(browser, dispatched):
    number = dispatched("cgj")
    client = browser("handler")
    assert 'id="act-progress"' not in client.get(f"/m/tickets/{number}").get_data(as_text=True)
    post_action(client, number, "sign")
    html = client.get(f"/m/tickets/{number}").get_data(as_text=True)
    assert 'id="act-progress"' in html and "Record progress" in html
    assert 'id="progress-public" name="public" value="true" checked' in html       # public unless unticked


def test_a_note_is_recorded_and_the_handler_stays_on_the_order(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    resp = post_action(client, number, "progress", {"text": "已联系执法中队，明早到现场核查。", "public": "true"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/m/tickets/{number}#progress")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Progress on order {number} recorded." in page
    section = page[page.index('id="progress"'):page.index("</section>", page.index('id="progress"'))]
    assert "已联系执法中队，明早到现场核查。" in section and "Shown to the citizen" in section
    assert 'id="act-progress"' in page                                        # and may write the next one
    resp = post_action(client, number, "progress", {"text": "内部：需要借用清障车"})     # box unticked
    assert resp.status_code == 302
    assert notes(api, number) == [{"text": "已联系执法中队，明早到现场核查。", "public": True},
                                  {"text": "内部：需要借用清障车", "public": False}]
    assert api("reviewer").get(f"/tickets/{number}").get_json()["status"] == "in_progress"


def test_an_empty_or_long_note_is_explained_next_to_the_field(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    client = browser("handler")
    resp = post_action(client, number, "progress", {"text": "  ", "public": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="e-progress-text"' in html and "the note cannot be empty" in html
    assert 'id="act-progress" open' in html
    resp = post_action(client, number, "progress", {"text": "长" * 1200})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "At most 1000 characters (got 1200)." in html
    assert 'name="public" value="true">' in html.replace("\n", "")                # kept unticked as sent
    assert notes(api, number) == []


def test_another_department_cannot_post_a_note(browser, dispatched, api):
    number = dispatched("cgj", signed_by="handler")
    other = browser("handler_b")
    assert other.get(f"/m/tickets/{number}").status_code == 404
    own = dispatched("scj", signed_by="handler_b")
    token = csrf_token(other.get(f"/m/tickets/{own}").get_data(as_text=True))
    resp = other.post(f"/m/tickets/{number}/act/progress", data={"csrf_token": token, "text": "x"})
    assert resp.status_code == 404
    assert notes(api, number) == []
