"""The knowledge base at the desk: articles suggested as the problem is typed, one opened beside the
form, the call answered with it and the article linked to the order."""
from __future__ import annotations

import re

import sqlalchemy as sa

from hotline.extensions import db
from hotline.knowledge.models import Article, ArticleUse
from tests.hotline.desk.test_desk import CALL, _csrf, _finished, _total, login  # noqa: F401

JZZ = {"title": "居住证到期签注续期", "source_office": "市公安局人口管理支队 12345转3",
       "body": "<p>居住证有效期为一年，每年需要签注一次。</p><p>持居住证和身份证到派出所办理签注。</p>"}


def _publish(api, body=None) -> int:
    created = api("cgj_admin").post("/knowledge", json=body or JZZ)
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200
    return article_id


ASK = {**CALL, "type": "consultation", "subject": "居住证过期", "content": "我的居住证过期了，怎么签注？"}


def test_typing_the_problem_suggests_articles_and_opens_one_beside_the_form(login, api):
    article_id = _publish(api)
    client = login("call_taker")
    page = client.get("/desk").get_data(as_text=True)
    assert 'id="desk-knowledge"' in page and 'hx-get="/desk/knowledge"' in page
    html = client.get("/desk/knowledge", query_string={"subject": "居住证过期", "content": "怎么签注"}).get_data(as_text=True)
    assert JZZ["title"] in html and "<mark>居住证</mark>" in html and "市公安局人口管理支队 12345转3" in html
    assert f'hx-get="/desk/knowledge/{article_id}"' in html
    opened = client.get(f"/desk/knowledge/{article_id}").get_data(as_text=True)
    assert "持居住证和身份证到派出所办理签注" in opened and "市公安局人口管理支队 12345转3" in opened
    assert f'formaction="/desk?article={article_id}"' in opened and 'form="intake"' in opened
    # nothing typed, one character, or nothing found: a clear word, not an error
    assert "输入来电人反映的问题" in client.get("/desk/knowledge").get_data(as_text=True)
    assert client.get("/desk/knowledge", query_string={"subject": "居"}).status_code == 200
    assert "暂无可供答复的知识" in client.get("/desk/knowledge", query_string={"subject": "火星移民"}).get_data(as_text=True)
    long = client.get("/desk/knowledge", query_string={"content": "居住证" * 1000})
    assert long.status_code == 200
    # only the desk's roles; an article a caller may not be answered from is not opened
    assert login("handler").get("/desk/knowledge?subject=居住证").status_code == 403
    assert client.get("/desk/knowledge/999999").status_code == 404


def test_answering_with_an_article_closes_the_call_and_links_the_article(login, api, world):
    article_id = _publish(api)
    client = login("call_taker")
    before = _total(api)
    token = _csrf(client.get("/desk").get_data(as_text=True))
    resp = client.post(f"/desk?article={article_id}", data={"csrf_token": token, "channel": "phone",
                                                           "finish": "answer", **ASK})
    number = _finished(client, resp)
    assert _total(api) == before + 1
    order = api("reviewer").get(f"/tickets/{number}").get_json()
    assert order["status"] == "awaiting_visit"
    answer = next(e for e in api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
                  if e["action"] == "answer")
    assert "持居住证和身份证到派出所办理签注" in (answer.get("data") or {}).get("reply", str(answer))
    use = db.session.scalar(sa.select(ArticleUse).where(ArticleUse.article_id == article_id))
    ticket_id = db.session.execute(sa.text("select id from tickets where number = :n"), {"n": number}).scalar()
    assert use is not None and use.ticket_id == ticket_id
    assert db.session.get(Article, article_id).use_count == 1
    detail = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert re.search(r'依据知识：<a href="/knowledge/%d">%s</a>' % (article_id, JZZ["title"]), detail)


def test_an_answer_written_by_the_call_taker_is_kept_and_dispatching_with_an_article_is_refused(login, api):
    article_id = _publish(api)
    client = login("call_taker")
    token = _csrf(client.get("/desk").get_data(as_text=True))
    resp = client.post(f"/desk?article={article_id}", data={"csrf_token": token, "finish": "answer",
                                                           "reply": "已告知市民到派出所签注。", **ASK})
    number = _finished(client, resp)
    events = api("reviewer").get(f"/tickets/{number}/events").get_json()["items"]
    assert "已告知市民到派出所签注。" in str(next(e for e in events if e["action"] == "answer"))
    before = _total(api)
    refused = client.post(f"/desk?article={article_id}", data={"csrf_token": token, "finish": "dispatch",
                                                              "department": "1", **ASK})
    assert refused.status_code == 422 and _total(api) == before


def test_a_withdrawn_article_answers_no_call(login, api, world):
    from hotline.auth.models import User
    from hotline.knowledge import operations
    article_id = _publish(api)
    operations.withdraw_article(db.session.get(Article, article_id), db.session.get(User, world.users["admin"].id))
    db.session.commit()
    client = login("call_taker")
    before = _total(api)
    token = _csrf(client.get("/desk").get_data(as_text=True))
    resp = client.post(f"/desk?article={article_id}", data={"csrf_token": token, "finish": "answer", **ASK})
    assert resp.status_code == 404 and _total(api) == before
    assert client.get(f"/desk/knowledge/{article_id}").status_code == 404


def test_a_form_to_fix_keeps_the_article_it_was_answered_with(login, api):
    article_id = _publish(api)
    client = login("call_taker")
    token = _csrf(client.get("/desk").get_data(as_text=True))
    resp = client.post(f"/desk?article={article_id}", data={"csrf_token": token, "finish": "answer",
                                                           **{**ASK, "type": ""}})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    # the suggestions for what was typed, and the opened article with its button, are still there
    assert f'hx-get="/desk/knowledge/{article_id}"' in html and f'formaction="/desk?article={article_id}"' in html
