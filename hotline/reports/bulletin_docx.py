"""A bulletin as a Word document (python-docx): what government offices edit and forward.

Laid out after the national format of official documents (GB/T 9704): a red issuer's line and
issue number over a red rule, a centred title, headings 一、 and （一）, body text in 仿宋, page
numbers "— 1 —" in the footer. Real Word styles throughout (Title, Heading 1/2, Table Grid,
Caption), so the document's outline, navigation pane and restyling work in Word and WPS.
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from flask_babel import force_locale
from flask_babel import gettext as _

from hotline.reports import bulletins as b
from hotline.reports import labels

RED = RGBColor(0xC0, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)
#: The fonts Chinese offices' Windows and WPS installations have (the PDF embeds its own).
BODY_FONT, HEADING_FONT, SUBHEADING_FONT, TITLE_FONT = "仿宋", "黑体", "楷体", "宋体"


def _fonts(style_or_run, east_asian: str, size: float | None = None, bold: bool | None = None, colour=BLACK):
    font = style_or_run.font
    font.name = "Times New Roman"
    rpr = style_or_run.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), east_asian)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
        rfonts.attrib.pop(qn(theme), None)
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = colour


def _styles(doc) -> None:
    styles = doc.styles
    _fonts(styles["Normal"], BODY_FONT, 14)
    normal = styles["Normal"].paragraph_format
    normal.line_spacing = Pt(26)
    normal.space_after = Pt(0)
    _fonts(styles["Title"], TITLE_FONT, 20, bold=True)
    title = styles["Title"].paragraph_format
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.space_before, title.space_after = Pt(12), Pt(12)
    # the Title style's blue underline is not a government document's
    ppr = styles["Title"].element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    _fonts(styles["Heading 1"], HEADING_FONT, 15, bold=False)
    _fonts(styles["Heading 2"], SUBHEADING_FONT, 14, bold=True)
    for name in ("Heading 1", "Heading 2"):
        fmt = styles[name].paragraph_format
        fmt.space_before, fmt.space_after, fmt.first_line_indent = Pt(10), Pt(4), Cm(0.99)
        fmt.keep_with_next = True
    _fonts(styles["Caption"], HEADING_FONT, 10.5, bold=False)
    styles["Caption"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _page(section, landscape: bool = False) -> None:
    section.page_width, section.page_height = (Cm(29.7), Cm(21)) if landscape else (Cm(21), Cm(29.7))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if landscape:
        section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = \
            Cm(2.2), Cm(2.2), Cm(2.5), Cm(2.5)
    else:
        section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = \
            Cm(3.7), Cm(3.5), Cm(2.8), Cm(2.6)


def _page_number(section) -> None:
    """'— PAGE —' centred in the footer, the page number a field Word fills in."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    paragraph.add_run(" —")
    for r in paragraph.runs:
        _fonts(r, "宋体", 12)


def _rule(paragraph, colour: str = "C00000", size: int = 18) -> None:
    """A red line under the paragraph (the rule under an official document's red header)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "6"), ("color", colour)):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    ppr.append(borders)


def _shade(cell, fill: str = "E7E6E6") -> None:
    shading = OxmlElement("w:shd")
    for key, value in (("val", "clear"), ("color", "auto"), ("fill", fill)):
        shading.set(qn(f"w:{key}"), value)
    cell._tc.get_or_add_tcPr().append(shading)


def _table(doc, caption: str, headers: list[str], rows: list[list[str]], *, numeric_from: int = 1,
           red_rows: set[int] = frozenset(), size: float = 10.5, left: frozenset = frozenset()) -> None:
    doc.add_paragraph(caption, style="Caption")
    table = doc.add_table(rows=1, cols=len(headers), style="Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(headers):
        cell = table.rows[0].cells[i]
        cell.text = text
        _shade(cell)
    # the header row repeats on every page the table runs over
    trpr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)
    for index, values in enumerate(rows):
        cells = table.add_row().cells
        for i, text in enumerate(values):
            cells[i].text = str(text)
            if index in red_rows:
                for run in cells[i].paragraphs[0].runs:
                    run.font.color.rgb = RED
    for row_index, row in enumerate(table.rows):
        for i, cell in enumerate(row.cells):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.line_spacing = 1.0
            paragraph.paragraph_format.first_line_indent = Cm(0)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if i >= numeric_from and i not in left and row_index else \
                WD_ALIGN_PARAGRAPH.CENTER if not row_index else WD_ALIGN_PARAGRAPH.LEFT
            for run in paragraph.runs:
                run.font.size = Pt(size)
                run.font.bold = not row_index
    doc.add_paragraph()


def _text(doc, text: str) -> None:
    paragraph = doc.add_paragraph(text)
    paragraph.paragraph_format.first_line_indent = Cm(0.99)


def _chart(doc, png: bytes, width_cm: float = 15.0) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(width_cm))
    paragraph = doc.paragraphs[-1]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # the body's exact 26 pt line would clip the picture to one line's height
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.paragraph_format.space_after = Pt(6)


def render(bulletin: dict, charts: dict[str, bytes], *, locale: str = "zh") -> bytes:
    """The bulletin as DOCX bytes."""
    with force_locale(locale):
        return _render(bulletin, charts)


def _render(data: dict, charts: dict[str, bytes]) -> bytes:
    doc = Document()
    _styles(doc)
    section = doc.sections[0]
    _page(section)
    _page_number(section)
    core = doc.core_properties
    core.title, core.author, core.language = data["title"], data["issuer"], "zh-CN"

    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(head.add_run(data["issuer"]), TITLE_FONT, 24, bold=True, colour=RED)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(number.add_run(data["number"]), BODY_FONT, 14)
    _rule(number)
    doc.add_paragraph(data["heading"], style="Title")
    period = doc.add_paragraph()
    period.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(period.add_run(_("Period: %(period)s", period=data["period_text"])), SUBHEADING_FONT, 14)
    if not data["complete"]:
        note = doc.add_paragraph()
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fonts(note.add_run(_("(the period has not ended: figures so far)")), BODY_FONT, 12)

    titles = dict(b.SECTIONS)
    doc.add_heading(b.numbered(0, str(titles["overview"])), level=1)
    for sentence in data["summary"]:
        _text(doc, sentence)
    _table(doc, _("Table 1  The centre's figures"), [_("Measure"), _("This period"), _("Previous period"), _("Change on the previous period")],
           [[f["title"], b.value_text(f), b.value_text({**f, "value": f["change"]["previous"]}) if f["change"] else "—",
             b.change_text(f)] for f in data["totals"]])
    _chart(doc, charts["split"], 13)

    doc.add_heading(b.numbered(1, str(titles["mix"])), level=1)
    for i, (key, title) in enumerate((("by_type", _("By type")), ("by_channel", _("By channel")))):
        doc.add_heading(b.sub_numbered(i, title), level=2)
        _table(doc, _("Table %(n)s  Intake %(what)s", n=i + 2, what=title),
               [str(labels.SLICE_TITLES["type" if key == "by_type" else "channel"]), _("Orders"), _("Share"), _("Change on the previous period")],
               [[r["label"], r["value"], b.percent(r["share"]), b.change_text({**r, "rate": False})] for r in data[key]])
        _chart(doc, charts["type" if key == "by_type" else "channel"], 13)

    doc.add_heading(b.numbered(2, str(titles["hotspots"])), level=1)
    doc.add_heading(b.sub_numbered(0, _("Top categories")), level=2)
    _table(doc, _("Table 4  Top categories"), [_("Category"), _("Orders"), _("Share"), _("Change on the previous period")],
           [[r["label"], r["value"], b.percent(r["share"]), b.change_text({**r, "rate": False})]
            for r in data["top_categories"]])
    _chart(doc, charts["categories"])
    doc.add_heading(b.sub_numbered(1, _("Hotspots")), level=2)
    _text(doc, b.hotspot_method(data["hotspot_history"]))
    if data["hotspots"]:
        _table(doc, _("Table 5  Hotspots"), [_("Hotspot"), _("Orders"), _("Expected"), _("Times expected"), _("p-value")],
               [[h["label"], h["count"], f"{h['expected']:.1f}", f"{h['ratio']:.1f}", b.hotspot_p(h["p_value"])]
                for h in data["hotspots"]])
    else:
        _text(doc, _("No hotspot this period."))

    doc.add_heading(b.numbered(3, str(titles["departments"])), level=1)
    _text(doc, data["summary"][-1])
    for d in data["below_floor"]:
        _text(doc, _("%(unit)s: %(rates)s.", unit=d["label"], rates=d["text"]))
    _chart(doc, charts["departments"])
    assessed = ("on_time_sign_rate", "on_time_completion_rate", "satisfaction_rate")
    _table(doc, _("Table 6  The units' assessed rates (below the line in red)"),
           [_("Unit")] + [str(labels.TITLES[c]) for c in assessed],
           [[d["label"]] + [b.percent(d[c]) + (" ▼" if c in d["below"] else "") for c in assessed]
            for d in data["departments"]],
           red_rows={i for i, d in enumerate(data["departments"]) if d["below"]})

    doc.add_heading(b.numbered(4, str(titles["repeats"])), level=1)
    repeats = data["repeats"]
    _text(doc, _("%(citizens)s citizens called more than once about the same category (%(orders)s orders); "
                 "%(reopened)s orders were reopened after an unsatisfactory return visit.",
                 citizens=repeats["groups"], orders=repeats["orders"], reopened=data["reopened"]))
    if repeats["rows"]:
        _table(doc, _("Table 7  Repeat complaints"), [_("Citizen"), _("Category"), _("Orders"), _("Work orders")],
               [[r["citizen"], r["category"], r["count"], "\n".join(r["numbers"])] for r in repeats["rows"]],
               numeric_from=2, left=frozenset({3}))

    doc.add_paragraph()
    signature = doc.add_paragraph(data["issuer"])
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    issued = doc.add_paragraph(b.local_date_text(data["generated_at"]))
    issued.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    annex = doc.add_section()
    _page(annex, landscape=True)
    doc.add_heading(_("Annex: the units' figures"), level=1)
    columns = data["annex_columns"]
    _table(doc, _("Annex table  The units' figures, %(period)s", period=data["period_text"]),
           [_("Unit")] + [c["title"] for c in columns],
           [[d["label"]] + [b.percent(d[c["name"]]) if c["rate"] else d[c["name"]] for c in columns]
            for d in data["departments"]],
           red_rows={i for i, d in enumerate(data["departments"]) if d["below"]}, size=9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
