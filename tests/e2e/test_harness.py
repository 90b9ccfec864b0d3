"""The checks themselves: the audit and the translation check catch what they are meant to."""
import pytest

from tests.e2e.helpers import audit, check_translated, english_runs

pytestmark = pytest.mark.e2e

BAD_PAGE = """<!doctype html><html lang="zh-CN"><head><title>测试</title></head><body><main>
<h1>登记</h1>
<input type="text" name="phone">
<p style="color:#bbb;background:#fff">浅灰色的说明文字</p>
<button></button>
<p>Register and dispatch · 派单</p>
<a href="?lang=en" lang="en">English</a>
</main></body></html>"""


@pytest.fixture
def bare_page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_the_audit_reports_missing_labels_low_contrast_and_empty_buttons(bare_page):
    bare_page.set_content(BAD_PAGE)
    with pytest.raises(AssertionError) as caught:
        audit(bare_page)
    report = str(caught.value)
    for rule in ("label", "color-contrast", "button-name"):
        assert f"] {rule}:" in report, report


def test_the_translation_check_reports_english_but_not_codes_or_marked_languages(bare_page):
    bare_page.set_content(BAD_PAGE)
    with pytest.raises(AssertionError) as caught:
        check_translated(bare_page)
    assert "'Register and dispatch'" in str(caught.value)
    assert "English" not in str(caught.value)  # marked lang="en": the language switch


def test_what_counts_as_untranslated():
    assert english_runs([
        "12345 政务服务便民热线", "工单 20260615000001", "/api/v1/tickets", "CGJ 城管", "photo.png",
        "API 文档", "共 3 条", "reviewer", "call_taker",
    ]) == []
    assert english_runs(["状态：Awaiting sign-for", "Log in", "3 orders found"]) == [
        "Awaiting sign-for", "Log in", "orders found"]
