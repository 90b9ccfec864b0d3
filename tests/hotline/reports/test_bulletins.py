"""Bulletins (通报): their content against the known fortnight (dataset.py), the DOCX and the PDF."""
import io
import re
import shutil
import subprocess

import pytest
from docx import Document

from hotline.reports import bulletin_files, bulletins
from tests.hotline.reports.dataset import NOW
from workflows import measures as wm

W24 = wm.Period("week", NOW.date().replace(day=8), NOW.date().replace(day=14))


@pytest.fixture
def w24(app, dataset):
    return bulletins.build(W24, NOW)


def test_the_weeks_bulletin_has_the_hand_counted_figures(w24):
    assert w24["period"] == "2026-W24" and w24["number"] == "〔2026〕第24期" and w24["complete"]
    assert w24["title"] == "XX市12345政务服务便民热线周报"
    f = w24["figures"]
    # C, D, E, F registered in W24; A and B in W23
    assert f["intake"]["value"] == 4 and f["intake"]["change"] == {"previous": 2, "diff": 2, "relative": 1.0}
    assert (f["direct"]["value"], f["dispatched_orders"]["value"]) == (1, 2)
    assert [(r["label"], r["value"]) for r in w24["split"]] == [("直接答复", 1), ("派单件数", 2), ("尚未处理（待处理、已并单或已撤销）", 1)]
    assert [(r["label"], r["value"], r["share"]) for r in w24["by_type"]] == [
        ("投诉", 2, 0.5), ("咨询", 1, 0.25), ("求助", 1, 0.25)]
    assert [(r["label"], r["value"]) for r in w24["by_channel"]] == [("电话", 3), ("网站", 1)]
    assert [(r["label"], r["value"]) for r in w24["top_categories"]] == [("10 城市管理", 3), ("04 市场监管", 1)]
    # the district: C dispatched to it, signed late, due and not replied on time, visited dissatisfied
    dc = next(d for d in w24["departments"] if d["label"] == "东城区")
    assert (dc["dispatched"], dc["on_time_sign_rate"], dc["due"], dc["on_time_completion_rate"],
            dc["satisfaction_rate"], dc["returns"], dc["reopened"], dc["urges"], dc["overdue"]) == (
        2, 0.0, 1, 0.0, 0.0, 1, 1, 1, 1)
    assert set(dc["below"]) == {"on_time_sign_rate", "on_time_completion_rate", "satisfaction_rate"}
    named = {d["label"]: d["text"] for d in w24["below_floor"]}
    assert named["东城区"] == "签收及时率 0.0%；按时办结率 0.0%；满意率 0.0%"
    assert "城市管理局" not in named
    # the one citizen called about 1001 three times in the week (C, D, E)
    assert w24["repeats"]["groups"] == 1 and w24["repeats"]["orders"] == 3
    assert w24["repeats"]["rows"][0]["citizen"] == "张* 138****5678"
    assert w24["hotspots"] == []  # three 1001 orders against two the week before: no jump


def _run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=180, check=True, **kw)


@pytest.fixture
def files(app, dataset):
    _data, out = bulletin_files.render(W24, NOW)
    return out


def test_the_docx_has_the_documents_headings_tables_and_charts(files, tmp_path):
    doc = Document(io.BytesIO(files["docx"]))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name in ("Title", "Heading 1", "Heading 2")]
    assert headings[0] == ("Title", "2026年第24周12345热线运行情况通报")
    assert [t for s, t in headings if s == "Heading 1"] == [
        "一、总体情况", "二、诉求类型与受理渠道", "三、诉求类别与热点", "四、承办单位考核情况", "五、重复投诉",
        "附件：各承办单位考核明细"]
    assert ("Heading 2", "（二）热点诉求") in headings
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "XX市12345政务服务便民热线" and texts[1] == "〔2026〕第24期"
    assert any("本期热线共受理市民诉求 4 件，较上期增长100.0%" in t for t in texts)
    assert any(t.startswith("低于 90.0% 考核线的单位") and "东城区" in t for t in texts)
    assert all(t.style.name == "Table Grid" for t in doc.tables)
    annex = doc.tables[-1]
    assert annex.rows[0].cells[0].text == "单位" and "东城区" in [r.cells[0].text for r in annex.rows]
    assert len(doc.inline_shapes) == 5  # split, type, channel, categories, the units' completion
    assert doc.sections[-1].orientation == 1  # the annex is landscape
    assert "PAGE" in doc.sections[0].footer._element.xml  # the page number is a field
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice is missing: scripts/test installs libreoffice-writer-nogui")
    (tmp_path / "w24.docx").write_bytes(files["docx"])
    _run("soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(tmp_path / "w24.docx"))
    text = _run("pdftotext", str(tmp_path / "w24.pdf"), "-").stdout
    assert "总体情况" in text and "东城区" in text


def test_the_pdf_reads_as_chinese_with_every_font_embedded(files, tmp_path):
    pdf = tmp_path / "w24.pdf"
    pdf.write_bytes(files["pdf"])
    text = _run("pdftotext", "-layout", str(pdf), "-").stdout
    for words in ("XX市12345政务服务便民热线", "〔2026〕第24期", "一、总体情况", "四、承办单位考核情况",
                  "本期热线共受理市民诉求 4 件", "附件：各承办单位考核明细"):
        assert words in text, words
    assert re.search(r"—\s*1\s*—", text)  # the page number in the footer
    fonts = _run("pdffonts", str(pdf)).stdout.splitlines()[2:]
    assert fonts, "no fonts listed"
    # columns: name type encoding emb sub uni object ID
    assert all(line.split()[-5] == "yes" for line in fonts), fonts
