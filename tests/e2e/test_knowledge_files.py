"""A department attaches the policy document to its answer on the article form; a refused file is
named in Chinese and what was typed stays; a call taker downloads the file from the article page."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import check, field, login, tiny_png, zh

pytestmark = pytest.mark.e2e

ARTICLE = {"title": "居住证到期签注续期", "is_public": True,
           "body": "<p>居住证有效期为一年，每年需要签注一次。</p><p>持居住证和身份证到派出所办理签注。</p>"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def test_an_editor_attaches_a_file_and_a_call_taker_downloads_it(page, pages, api):
    created = api("cgj_admin").post("/knowledge", json=ARTICLE)
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    assert api("cgj_admin").post(f"/knowledge/{article_id}/publish", json={}).status_code == 200

    login(page, "cgj_admin")
    page.goto(f"/knowledge/{article_id}/edit")
    # a program is refused by name; the new title typed is still there to save again
    field(page, "Title").fill("居住证签注（含申请表）")
    field(page, "Add files").set_input_files([
        {"name": "申请表.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00 program"}])
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Save")).click()
    expect(page.get_by_role("alert")).to_contain_text(zh("Some files were not accepted; nothing was saved."))
    expect(page.locator("#e-files")).to_contain_text("setup.exe")
    expect(field(page, "Title")).to_have_value("居住证签注（含申请表）")
    # the refusal lists the accepted file types by their names; the body's hint names HTML
    check(page, "knowledge-file-refused", extra_allowed={"TIFF", "XLSX", "HTML"})

    field(page, "Add files").set_input_files([
        {"name": "申请表.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "窗口位置.png", "mimeType": "image/png", "buffer": tiny_png()}])
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Save")).click()
    main = page.locator("main")
    expect(main.get_by_role("link", name="申请表.pdf")).to_be_visible()
    expect(main.get_by_role("link", name="窗口位置.png")).to_be_visible()
    expect(main).to_contain_text(zh("Added attachment %(name)s") % {"name": "申请表.pdf"})  # the versions
    check(page, "knowledge-files-attached")
    page.goto(f"/knowledge/{article_id}/edit")
    check(page, "knowledge-edit-with-files", extra_allowed={"HTML"})

    reader = pages.new()
    login(reader, "call_taker")
    reader.goto(f"/knowledge/{article_id}")
    with reader.expect_download() as info:
        reader.get_by_role("link", name="申请表.pdf").click()
    download = info.value
    assert download.suggested_filename == "申请表.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == PDF
    assert re.search(r"\d+ B", reader.locator("main").inner_text())
