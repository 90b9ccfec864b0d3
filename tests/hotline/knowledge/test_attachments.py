"""Files of knowledge articles as their users meet them: attached on the form or through the API,
downloaded by those who may read the article (and by citizens for public answers), refused clearly."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import sqlalchemy as sa

from hotline.extensions import db
from hotline.knowledge.models import Article, ArticleState, ArticleVersion, KnowledgeAttachment
from tests.hotline.knowledge.test_knowledge import JZZ, _publish
from tests.hotline.tickets_pages.conftest import browser  # noqa: F401  (the logged-in page client)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00 this program cannot be run in DOS mode"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def _zh(page):
    """The page client speaking Chinese (the platform's default language)."""
    page.get("/knowledge?lang=zh")
    return page


def _form(page, article_id: int, *, files=(), remove=(), **fields):
    """Save the article's edit form with these files (name, bytes) added."""
    page.get(f"/knowledge/{article_id}/edit")
    data = {"title": JZZ["title"], "body": JZZ["body"], "is_public": "on", "note": "", **fields,
            "csrf_token": page.token}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    data["remove"] = [str(r) for r in remove]
    return page.client.post(f"/knowledge/{article_id}/edit", data=data, content_type="multipart/form-data")


def _rows(article_id: int) -> list[SimpleNamespace]:
    """The article's attachment rows as plain values (each request ends its own session)."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(KnowledgeAttachment).where(KnowledgeAttachment.article_id == article_id)
                              .order_by(KnowledgeAttachment.id)).all()
    return [SimpleNamespace(id=r.id, filename=r.filename, content_type=r.content_type, size=r.size) for r in rows]


def _article(article_id: int) -> Article:
    db.session.expire_all()
    return db.session.get(Article, article_id)


def _notes(article_id: int) -> list[str | None]:
    return list(db.session.scalars(sa.select(ArticleVersion.note).where(ArticleVersion.article_id == article_id)
                                   .order_by(ArticleVersion.number)))


def _upload(api, who, article_id, *files):
    return api(who).post(f"/knowledge/{article_id}/attachments", content_type="multipart/form-data",
                         data={"files": [(io.BytesIO(content), name) for name, content in files]})


def test_a_department_attaches_files_on_the_form_and_call_takers_download_them(api, world, browser):
    article_id = _publish(api)
    handler = browser("handler")
    resp = _form(handler, article_id, files=[("居住证签注办事指南.pdf", PDF), ("窗口位置.png", PNG)], note="补充材料")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    rows = _rows(article_id)
    assert [(r.filename, r.content_type, r.size) for r in rows] == [
        ("居住证签注办事指南.pdf", "application/pdf", len(PDF)), ("窗口位置.png", "image/png", len(PNG))]
    # a handler's change to a published answer waits for review, the history says what happened (in Chinese)
    assert _article(article_id).state is ArticleState.IN_REVIEW
    assert _notes(article_id)[-1] == "补充材料; 已添加附件 居住证签注办事指南.pdf; 已添加附件 窗口位置.png"
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200

    reader = browser("call_taker")
    html = reader.get(f"/knowledge/{article_id}").get_data(as_text=True)
    link = re.search(rf'href="(/knowledge/{article_id}/files/{rows[0].id})"', html).group(1)
    assert "居住证签注办事指南.pdf" in html and f"{len(PDF)} B" in html
    download = reader.client.get(link)
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote("居住证签注办事指南.pdf") in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    download.close()
    # the desk's side panel lists them too
    desk = reader.get(f"/desk/knowledge/{article_id}").get_data(as_text=True)
    assert f"/knowledge/{article_id}/files/{rows[1].id}" in desk and "窗口位置.png" in desk

    # removing one is an edit too; the stored files of other rows are untouched
    resp = _form(handler, article_id, remove=[rows[1].id])
    assert resp.status_code == 302
    assert [r.filename for r in _rows(article_id)] == ["居住证签注办事指南.pdf"]
    assert _notes(article_id)[-1] == "已删除附件 窗口位置.png"
    assert _article(article_id).state is ArticleState.IN_REVIEW
    assert handler.client.get(f"/knowledge/{article_id}/files/{rows[1].id}").status_code == 404


def test_files_of_a_draft_are_for_its_editors_and_other_departments_may_not_change_them(api, world, browser):
    created = api("handler").post("/knowledge", json=JZZ).get_json()
    article_id = created["id"]
    stored = _upload(api, "handler", article_id, ("草稿附件.pdf", PDF))
    assert stored.status_code == 201, stored.get_json()
    file_id = stored.get_json()["items"][0]["id"]
    url = f"/knowledge/{article_id}/files/{file_id}"
    # the draft and its files: its department and the administrators, nobody else
    for who, status in (("handler", 200), ("cgj_admin", 200), ("admin", 200), ("call_taker", 404),
                        ("expert", 404), ("handler_b", 404)):
        resp = browser(who).client.get(url)
        assert resp.status_code == status, who
        resp.close()
    assert api("handler_b").get(f"/knowledge/{article_id}/attachments").status_code == 404
    assert api("handler_b").get(f"/knowledge/{article_id}/attachments/{file_id}").status_code == 404
    assert api(None).get(f"/knowledge/{article_id}/attachments").status_code == 404
    # published: everyone on the staff reads it, but another department still may not change its files
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200
    other = browser("handler_b")
    resp = other.client.get(url)
    assert resp.status_code == 200 and resp.data == PDF
    resp.close()
    assert _upload(api, "handler_b", article_id, ("外单位.pdf", PDF)).status_code == 403
    assert api("handler_b").client.delete(f"/api/v1/knowledge/{article_id}/attachments/{file_id}", headers={
        "Authorization": f"Bearer {world.tokens['handler_b']}"}).status_code == 403
    assert api("call_taker").get(f"/knowledge/{article_id}/attachments").status_code == 200
    assert _form(other, article_id, files=[("外单位.pdf", PDF)]).status_code == 403
    assert [r.filename for r in _rows(article_id)] == ["草稿附件.pdf"]
    # a file id of another article is not this article's
    second = _publish(api, {**JZZ, "title": "另一篇"})
    assert browser("call_taker").client.get(f"/knowledge/{second}/files/{file_id}").status_code == 404


def test_citizens_fetch_files_of_published_public_answers_in_force_only(app, api, world, clock):
    client = app.test_client()
    draft = api("cgj_admin").post("/knowledge", json=JZZ).get_json()["id"]
    internal = _publish(api, {**JZZ, "title": "内部口径", "is_public": False})
    public = _publish(api, {**JZZ, "title": "公开答复",
                            "valid_until": (clock.now + timedelta(days=30)).date().isoformat()})
    ids = {}
    for article_id in (draft, internal, public):
        resp = _upload(api, "cgj_admin", article_id, ("申请表.pdf", PDF))
        assert resp.status_code == 201, resp.get_json()
        ids[article_id] = resp.get_json()["items"][0]["id"]
    assert _article(public).state is ArticleState.PUBLISHED  # a reviewer's change stays published
    for article_id in (draft, internal):
        resp = client.get(f"/portal/answers/{article_id}/files/{ids[article_id]}")
        assert resp.status_code == 404, article_id
    page = client.get(f"/portal/answers/{public}").get_data(as_text=True)
    assert f"/portal/answers/{public}/files/{ids[public]}" in page and "申请表.pdf" in page
    resp = client.get(f"/portal/answers/{public}/files/{ids[public]}")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    resp.close()
    # another article's file is not reachable through a public one
    assert client.get(f"/portal/answers/{public}/files/{ids[internal]}").status_code == 404
    # once its validity has ended the answer and its files are gone from the portal
    clock.advance(days=31)
    assert client.get(f"/portal/answers/{public}/files/{ids[public]}").status_code == 404


def test_portal_downloads_are_rate_limited(app, api, world):
    public = _publish(api)
    file_id = _upload(api, "cgj_admin", public, ("申请表.pdf", PDF)).get_json()["items"][0]["id"]
    app.config["KNOWLEDGE_PUBLIC_RATE_LIMIT"] = "2 per minute"
    try:
        client = app.test_client()
        statuses = []
        for _ in range(3):
            resp = client.get(f"/portal/answers/{public}/files/{file_id}")
            statuses.append(resp.status_code)
            resp.close()
    finally:
        app.config.pop("KNOWLEDGE_PUBLIC_RATE_LIMIT")
    assert statuses == [200, 200, 429]


def test_bad_uploads_are_refused_in_chinese_and_the_form_keeps_what_was_typed(app, api, world, browser, monkeypatch):
    article_id = _publish(api)
    page = _zh(browser("cgj_admin"))
    typed = {"title": "居住证签注（新）", "note": "改了标题"}
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        big = _form(page, article_id, files=[("大文件.pdf", PDF + b"\0" * 2048)], **typed)
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = limit
    exe = _form(page, article_id, files=[("说明.pdf", PDF), ("setup.exe", EXE)], **typed)
    html = _form(page, article_id, files=[("page.html", HTML)], **typed)
    for resp, problem in ((big, "大文件.pdf：文件超过 0 MB。"), (exe, "setup.exe：不接受此类文件"),
                          (html, "page.html：不接受此类文件")):
        text = resp.get_data(as_text=True)
        assert resp.status_code == 422
        assert "有文件未被接受，本次未保存任何内容。" in text and problem in text
        assert 'value="居住证签注（新）"' in text and 'value="改了标题"' in text
    from hotline.knowledge import attachments
    monkeypatch.setattr(attachments, "MAX_FILES", 2)
    assert _form(page, article_id, files=[("一.pdf", PDF), ("二.pdf", PDF)]).status_code == 302
    many = _form(page, article_id, files=[("三.pdf", PDF)], **typed)
    text = many.get_data(as_text=True)
    assert many.status_code == 422 and "最多 2 个附件：已有 2 个，又选择了 1 个。" in text
    assert 'value="居住证签注（新）"' in text
    # removing one makes room in the same save
    first = _rows(article_id)[0]
    assert _form(page, article_id, files=[("三.pdf", PDF)], remove=[first.id]).status_code == 302
    assert [r.filename for r in _rows(article_id)] == ["二.pdf", "三.pdf"]
    # text errors and good files: the files are to be chosen again, nothing is kept
    kept = _rows(article_id)
    empty_title = _form(page, article_id, files=[("四.pdf", PDF)], remove=[kept[0].id], title="")
    text = empty_title.get_data(as_text=True)
    assert empty_title.status_code == 422 and "请重新选择文件" in text
    assert f'value="{kept[0].id}" checked' in text  # the files marked for removal stay marked
    assert [r.filename for r in _rows(article_id)] == ["二.pdf", "三.pdf"]
    assert _article(article_id).title == JZZ["title"]


def test_the_form_takes_several_files_at_once_and_too_much_together_is_explained(app, api, world, browser,
                                                                               monkeypatch):
    from hotline.knowledge import blueprint
    article_id = _publish(api)
    page = _zh(browser("cgj_admin"))
    saved = {name: app.config[name] for name in ("ATTACHMENT_MAX_BYTES", "MAX_CONTENT_LENGTH")}
    app.config.update(ATTACHMENT_MAX_BYTES=1024, MAX_CONTENT_LENGTH=4096)
    monkeypatch.setattr(blueprint, "_batch_limit", lambda: 16 * 1024)  # small bodies: the test client keeps them
    try:
        # four files of 1000 bytes: more than one upload may be, less than a save of several may
        several = _form(page, article_id, files=[(f"表{i}.pdf", PDF + b"\0" * (1000 - len(PDF))) for i in range(4)])
        too_much = _form(page, article_id, files=[("巨大.pdf", PDF + b"\0" * (20 * 1024))])
    finally:
        app.config.update(saved)
    assert several.status_code == 302, several.get_data(as_text=True)
    assert len(_rows(article_id)) == 4
    assert too_much.status_code == 413 and "文件合计过大" in too_much.get_data(as_text=True)


def test_the_api_adds_lists_downloads_and_removes_files_as_versions(api, world):
    article_id = _publish(api)
    version = _article(article_id).version
    added = _upload(api, "handler", article_id, ("政策原文.pdf", PDF), ("示意图.png", PNG))
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert [i["filename"] for i in body["items"]] == ["政策原文.pdf", "示意图.png"]
    assert body["article"]["state"] == "in_review" and body["article"]["version"] == version + 1
    listed = api("expert").get(f"/knowledge/{article_id}/attachments")
    assert listed.status_code == 404  # in review: not for readers yet
    listed = api("handler").get(f"/knowledge/{article_id}/attachments").get_json()["items"]
    assert [(i["filename"], i["size"], i["content_type"]) for i in listed] == [
        ("政策原文.pdf", len(PDF), "application/pdf"), ("示意图.png", len(PNG), "image/png")]
    download = api("handler").get(listed[0]["url"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.data == PDF
    assert quote("政策原文.pdf") in download.headers["Content-Disposition"]
    download.close()
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200
    full = api("call_taker").get(f"/knowledge/{article_id}").get_json()
    assert [a["filename"] for a in full["attachments"]] == ["政策原文.pdf", "示意图.png"]
    # without a token: the public answer's files, like its text
    assert api(None).get(f"/knowledge/{article_id}/attachments").status_code == 200
    # the reviewer removes one: still published, one version more
    client, token = api("cgj_admin").client, world.tokens["cgj_admin"]
    gone = client.delete(f"/api/v1/knowledge/{article_id}/attachments/{listed[1]['id']}",
                         headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 200 and gone.get_json()["state"] == "published"
    assert gone.get_json()["version"] == version + 2
    again = client.delete(f"/api/v1/knowledge/{article_id}/attachments/{listed[1]['id']}",
                          headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 404
    assert _notes(article_id)[-2:] == ["已添加附件 政策原文.pdf; 已添加附件 示意图.png", "已删除附件 示意图.png"]
    # bad uploads: clear errors, nothing stored
    assert _upload(api, "cgj_admin", article_id).status_code == 422
    bad = _upload(api, "cgj_admin", article_id, ("ok.pdf", PDF), ("run.exe", EXE))
    assert bad.status_code == 422 and "run.exe" in bad.get_json()["error"]["fields"]["files"]
    assert [r.filename for r in _rows(article_id)] == ["政策原文.pdf"]


def test_openapi_describes_the_file_calls(api):
    paths = api("reviewer").get("/openapi.json").get_json()["paths"]
    assert set(paths["/knowledge/{article_id}/attachments"]) == {"get", "post"}
    assert set(paths["/knowledge/{article_id}/attachments/{file_id}"]) == {"get", "delete"}


def test_order_downloads_are_safe_attachments_too(api, new_ticket):
    number = new_ticket()
    stored = api("call_taker").post(f"/tickets/{number}/attachments", content_type="multipart/form-data",
                                    data={"file": (io.BytesIO(PDF), "现场说明.pdf")})
    assert stored.status_code == 201
    resp = api("reviewer").get(f"/tickets/{number}/attachments/{stored.get_json()['id']}")
    assert resp.data == PDF and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert quote("现场说明.pdf") in resp.headers["Content-Disposition"]
    resp.close()


def test_files_no_row_names_any_more_are_pruned_and_those_still_named_or_new_are_kept(app, api, world, new_ticket,
                                                                                        tmp_path, monkeypatch):
    import os
    import time
    store = tmp_path / "store"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(store))

    def prune(*args):
        result = app.test_cli_runner().invoke(args=["files", "prune", *args])
        assert result.exit_code == 0, result.output
        return result.output

    def kept():
        return sorted(p.name for p in store.rglob("*") if p.is_file())

    def age_everything(hours: float):
        then = time.time() - hours * 3600
        for path in store.rglob("*"):
            os.utime(path, (then, then))

    # the same PDF on an order and on an article; a PNG on the article only
    number = new_ticket()
    order_file = api("call_taker").post(f"/tickets/{number}/attachments", content_type="multipart/form-data",
                                        data={"file": (io.BytesIO(PDF), "现场说明.pdf")})
    assert order_file.status_code == 201
    article_id = _publish(api)
    assert _upload(api, "handler", article_id, ("政策原文.pdf", PDF), ("示意图.png", PNG)).status_code == 201
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200
    client, token = api("cgj_admin").client, world.tokens["cgj_admin"]
    for row in _rows(article_id):     # the article drops both files
        assert client.delete(f"/api/v1/knowledge/{article_id}/attachments/{row.id}",
                             headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert len(kept()) == 2
    crashed = store / ".upload-crashed"
    crashed.write_bytes(b"half an upload")
    age_everything(0)
    # a just-kept file may belong to a row about to commit: left alone within the grace hour
    assert "removed 0 file(s)" in prune() and len(kept()) == 3
    age_everything(2)
    assert "would remove 1 file(s)" in prune("--dry-run") and len(kept()) == 3
    output = prune()
    assert "removed 1 file(s)" in output and "1 abandoned upload(s)" in output
    assert not crashed.exists()
    # the PNG is gone; the PDF stays, the order still names it, and the order's download still works
    assert len(kept()) == 1
    download = api("reviewer").get(f"/tickets/{number}/attachments/{order_file.get_json()['id']}")
    assert download.status_code == 200 and download.data == PDF
    download.close()
