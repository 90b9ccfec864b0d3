"""The knowledge base as its users meet it: write, review, search, read; bad input; the portal."""
from __future__ import annotations

from datetime import timedelta

from hotline.extensions import db
from hotline.knowledge.models import Article
from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (the logged-in page client)

JZZ = {"title": "居住证到期签注续期", "is_public": True,
       "body": "<p>居住证有效期为一年，每年需要签注一次。</p><p>持居住证和身份证到派出所办理签注。</p>"}
EVIL = ('<p onclick="steal()">燃气报警器安装<script>alert("x")</script></p>'
        '<img src=x onerror="alert(1)"><a href="javascript:alert(2)">点我</a><style>p{}</style>')


def _publish(api, body=None, *, editor="cgj_admin"):
    created = api(editor).post("/knowledge", json=body or JZZ)
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    published = api(editor).post(f"/knowledge/{article_id}/publish", json={})
    assert published.status_code == 200, published.get_json()
    return article_id


def _found(api, who, q):
    resp = api(who).get("/knowledge", query_string={"q": q})
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.get_json()["items"]]


def test_a_department_writes_an_answer_its_administrator_publishes_and_call_takers_find(api, world):
    created = api("handler").post("/knowledge", json=JZZ)
    assert created.status_code == 201
    article = created.get_json()
    assert article["state"] == "draft" and article["owner_department"]["id"] == world.dept("cgj").id
    # a draft answers no one, and the handler may not publish it
    assert _found(api, "call_taker", "暂住证过期了咋办") == []
    assert api("handler").post(f"/knowledge/{article['id']}/publish").status_code == 403
    assert api("handler_b").put(f"/knowledge/{article['id']}", json=JZZ).status_code == 404
    published = api("cgj_admin").post(f"/knowledge/{article['id']}/publish", json={"note": "已核对"})
    assert published.status_code == 200 and published.get_json()["reviewed_by"] == "cgj_admin"
    # found by other words: 居住证 is written, 暂住证 asked, once an administrator says they are the same
    assert _found(api, "call_taker", "暂住证过期了咋办") == []
    assert api("admin").get("/me").status_code == 200
    from hotline.knowledge import operations
    from hotline.auth.models import User
    admin = db.session.get(User, world.users["admin"].id)
    operations.add_synonyms(admin, "居住证，暂住证")
    db.session.commit()
    resp = api("call_taker").get("/knowledge", query_string={"q": "我那个暂住证过期了咋办"})
    body = resp.get_json()
    assert [i["id"] for i in body["items"]] == [article["id"]] and body["synonyms_added"] == ["居住证"]
    assert "<mark>居住证</mark>" in body["items"][0]["snippet"]


def test_only_editors_write_and_each_edit_is_a_version(api, world):
    assert api("call_taker").post("/knowledge", json=JZZ).status_code == 403
    assert api("handler").post("/knowledge", json={**JZZ, "owner_department": world.dept("scj").id}).status_code == 422
    article_id = _publish(api)
    edited = api("handler").put(f"/knowledge/{article_id}", json={**JZZ, "title": "居住证签注", "note": "改标题"})
    assert edited.status_code == 200
    # a handler's edit of a published answer waits for review, and answers no one meanwhile
    assert edited.get_json()["state"] == "in_review" and edited.get_json()["version"] == 2
    assert _found(api, "expert", "居住证签注") == []
    from hotline.knowledge.models import ArticleVersion
    import sqlalchemy as sa
    versions = db.session.scalars(sa.select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                                  .order_by(ArticleVersion.number)).all()
    assert [(v.number, v.title, v.note) for v in versions] == [(1, JZZ["title"], None), (2, "居住证签注", "改标题")]


def test_queries_too_short_or_too_long_are_refused_clearly_and_an_empty_one_lists_articles(api, world):
    _publish(api)
    empty = api("call_taker").get("/knowledge", query_string={"q": ""})
    assert empty.status_code == 200 and empty.get_json()["total"] == 1
    short = api("call_taker").get("/knowledge", query_string={"q": "证"})
    assert short.status_code == 422 and "q" in short.get_json()["error"]["fields"]
    long = "我想问一下居住证" * 250
    assert len(long) == 2000
    assert api("call_taker").get("/knowledge", query_string={"q": long}).get_json()["total"] == 1
    too_long = api("call_taker").get("/knowledge", query_string={"q": long + "吗"})
    assert too_long.status_code == 422 and "2000" in too_long.get_json()["error"]["message"]
    nothing = api("call_taker").get("/knowledge", query_string={"q": "？？？的了吗"})
    assert nothing.status_code == 200 and nothing.get_json()["items"] == [] and nothing.get_json()["words"] == []


def test_html_and_script_in_an_article_are_removed_and_never_rendered(api, world, browser):
    created = api("cgj_admin").post("/knowledge", json={"title": "<b>燃气</b>报警器", "body": EVIL})
    body = created.get_json()["body"]
    assert "script" not in body and "onclick" not in body and "onerror" not in body and "javascript" not in body
    assert "燃气报警器安装" in body
    page = browser("cgj_admin").get(f"/knowledge/{created.get_json()['id']}").get_data(as_text=True)
    assert "<script>alert" not in page and "onerror=" not in page and "&lt;b&gt;燃气&lt;/b&gt;报警器" in page
    # nothing but its words: refused
    blank = api("cgj_admin").post("/knowledge", json={"title": "空", "body": "<script>alert(1)</script>"})
    assert blank.status_code == 422 and "body" in blank.get_json()["error"]["fields"]


def test_an_article_whose_validity_ended_is_hidden_and_flagged_to_its_owner(api, world, clock, browser):
    today = clock.now.date()
    article_id = _publish(api, {**JZZ, "valid_until": (today + timedelta(days=2)).isoformat()})
    assert _found(api, "call_taker", "居住证签注") == [article_id]
    clock.advance(days=5)
    assert _found(api, "call_taker", "居住证签注") == []
    assert api("call_taker").get(f"/knowledge/{article_id}").status_code == 404
    owner_page = browser("cgj_admin").get("/knowledge?tab=care").get_data(as_text=True)
    assert JZZ["title"] in owner_page
    article = browser("cgj_admin").get(f"/knowledge/{article_id}").get_data(as_text=True)
    assert "Its validity ended" in article
    assert api("handler").post("/knowledge", json=JZZ).status_code == 201


def test_the_portal_and_anonymous_api_show_published_public_articles_only(app, api, world):
    public_id = _publish(api)
    internal_id = _publish(api, {**JZZ, "title": "居住证签注内部口径", "is_public": False})
    assert set(_found(api, "call_taker", "居住证签注")) == {public_id, internal_id}
    assert _found(api, None, "居住证签注") == [public_id]
    assert api(None).get(f"/knowledge/{internal_id}").status_code == 404
    client = app.test_client()
    page = client.get("/portal/answers?q=居住证签注", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/portal/answers/{public_id}" in page and f"/portal/answers/{internal_id}" not in page
    assert client.get(f"/portal/answers/{internal_id}").status_code == 404
    assert client.get(f"/portal/answers/{public_id}").status_code == 200


def test_staff_search_answer_with_and_review_on_the_pages(api, world, browser):
    article_id = _publish(api)
    taker = browser("call_taker")
    page = taker.get("/knowledge?q=居住证签注").get_data(as_text=True)
    assert f"/knowledge/{article_id}" in page and "<mark>" in page
    assert taker.get("/knowledge?q=证").status_code == 422
    taker.get(f"/knowledge/{article_id}")
    assert taker.post(f"/knowledge/{article_id}/use").status_code == 302
    assert db.session.get(Article, article_id).use_count == 1
    assert taker.get("/knowledge/new").status_code == 403
    # a handler drafts on the page, submits; the department's administrator sends it back, then publishes
    handler = browser("handler")
    handler.get("/knowledge/new")
    resp = handler.post("/knowledge/new", {"title": "占道经营怎么投诉", "body": "拨打12345反映。\n城管到场处理。",
                                           "owner_department": str(world.dept("cgj").id)})
    assert resp.status_code == 302
    new_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    handler.get(f"/knowledge/{new_id}")
    handler.post(f"/knowledge/{new_id}/submit")
    admin = browser("cgj_admin")
    admin.get(f"/knowledge/{new_id}")
    admin.post(f"/knowledge/{new_id}/send-back", {"note": "请补充投诉电话"})
    assert "请补充投诉电话" in handler.get(f"/knowledge/{new_id}").get_data(as_text=True)
    handler.post(f"/knowledge/{new_id}/submit")
    admin.post(f"/knowledge/{new_id}/publish", {"note": ""})
    assert _found(api, "call_taker", "路边占道经营") == [new_id]


def test_administrators_keep_the_synonyms_on_their_page(api, world, browser):
    _publish(api)
    assert browser("call_taker").get("/knowledge/synonyms").status_code == 403
    admin = browser("admin")
    admin.get("/knowledge/synonyms")
    assert admin.post("/knowledge/synonyms", {"words": "居住证"}).status_code == 422
    assert admin.post("/knowledge/synonyms", {"words": "居住证 暂住证"}).status_code == 302
    assert len(_found(api, "call_taker", "暂住证")) == 1


def test_the_postings_rank_as_bm25_reckons_over_the_articles_words():
    from hotline.knowledge import text
    documents = [("社保 卡", "社保 卡 丢失 挂失 补办"), ("公积金", "公积金 提取 租房 社保"), ("暖气", "暖气 不热 供暖 供暖")]
    stats = text.CorpusStats(documents, [5, 2, 9])
    query = {"社保": 1.0, "供暖": 0.8, "挂失": 1.0, "没有的词": 1.0}
    ranked = stats.rank(query)
    assert set(ranked) == {5, 2, 9}
    for article_id, (title, body) in zip([5, 2, 9], documents):
        assert abs(ranked[article_id] - text.bm25(query, title, body, stats)) < 1e-9
