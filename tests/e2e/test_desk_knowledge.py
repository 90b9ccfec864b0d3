"""A call taker answers a call from the knowledge base: typing the caller's problem suggests
articles beside the form, one opens in a side panel, and the call is answered with it."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, field, login, zh

pytestmark = pytest.mark.e2e

ARTICLE = {"title": "居住证到期签注续期", "source_office": "市公安局人口管理支队",
           "body": "<p>居住证有效期为一年，每年需要签注一次。</p><p>持居住证和身份证到派出所办理签注。</p>"}


def test_call_taker_answers_a_call_with_a_knowledge_article(page, pages, api):
    created = api("cgj_admin").post("/knowledge", json=ARTICLE)
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200

    login(page, "call_taker")
    assert page.url.endswith("/desk"), page.url
    field(page, "Caller's phone").fill("13912340000")
    field(page, "Type").select_option("consultation")

    # the caller's problem, typed as they put it: the article that answers it appears beside the form
    field(page, "Subject").press_sequentially("暂住证过期")
    field(page, "What the caller says").press_sequentially("我的居住证过期了，去哪里签注？")
    panel = page.locator("#desk-knowledge")
    expect(panel.get_by_role("link", name=ARTICLE["title"])).to_be_visible()
    expect(panel.locator("mark").first).to_be_visible()  # the caller's words highlighted
    expect(panel).to_contain_text("市公安局人口管理支队")
    check(page, "desk-knowledge-suggested")

    # opened beside the form: the answer is read without leaving the desk
    panel.get_by_role("link", name=ARTICLE["title"]).click()
    expect(panel.locator("#kb-article")).to_contain_text("持居住证和身份证到派出所办理签注")
    assert page.url.endswith("/desk"), page.url
    check(page, "desk-knowledge-opened")

    with page.expect_navigation():
        panel.get_by_role("button", name=zh("Answer with this article")).click()

    # a fresh desk for the next call; the message links the order answered with the article
    assert page.url.endswith("/desk"), page.url
    status = page.get_by_role("status").first
    expect(status).to_contain_text(ARTICLE["title"])
    number = status.get_by_role("link").inner_text()
    assert re.fullmatch(r"\d{14}", number), number
    expect(field(page, "Subject")).to_have_value("")
    check(page, "desk-after-knowledge-answer")

    with page.expect_navigation():
        status.get_by_role("link").click()
    main = page.locator("main")
    expect(main).to_contain_text("待回访")  # answered directly: awaiting its return visit
    expect(main).to_contain_text("依据知识：" + ARTICLE["title"])
    expect(main).to_contain_text("持居住证和身份证到派出所办理签注")
    check(page, "order-answered-with-article")

    # the knowledge team sees the article among this week's most used
    team = pages.new()
    login(team, "cgj_admin")
    team.goto(re.sub(r"^(https?://[^/]+).*$", r"\1/knowledge?tab=hot", team.url))
    hot = team.locator("section.card", has=team.locator("#h-tab"))
    expect(hot.get_by_role("row").nth(1)).to_contain_text(ARTICLE["title"])
    expect(hot.get_by_role("row").nth(1)).to_contain_text("1")
    check(team, "knowledge-hot-this-week")
