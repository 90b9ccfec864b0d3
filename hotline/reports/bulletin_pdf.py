"""A bulletin as PDF: templates/reports/bulletin_pdf.html printed by WeasyPrint, the CJK font embedded.

The same content and charts as the DOCX (bulletin_docx.py); WeasyPrint embeds (subsets) every
font it uses, so the PDF reads the same on a machine without Chinese fonts.
"""
from __future__ import annotations

import base64
from pathlib import Path

from flask import render_template
from flask_babel import force_locale

from hotline.reports import bulletins as b
from hotline.reports import labels
from hotline.reports.bulletin_charts import font_path

ASSESSED = ("on_time_sign_rate", "on_time_completion_rate", "satisfaction_rate")


def html(bulletin: dict, charts: dict[str, bytes], *, locale: str = "zh") -> str:
    """The bulletin's HTML, as WeasyPrint prints it."""
    with force_locale(locale):
        return render_template(
            "reports/bulletin_pdf.html", b=bulletin, font_url=Path(font_path()).as_uri(),
            charts={name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in charts.items()},
            sections={key: str(title) for key, title in b.SECTIONS}, numbered=b.numbered, sub_numbered=b.sub_numbered,
            percent=b.percent, value_text=b.value_text, change_text=b.change_text, hotspot_p=b.hotspot_p,
            hotspot_method=b.hotspot_method, titles={k: str(v) for k, v in labels.TITLES.items()},
            slice_titles={k: str(v) for k, v in labels.SLICE_TITLES.items()}, assessed=ASSESSED,
            issued=b.local_date_text(bulletin["generated_at"]), dict=dict)


def render(bulletin: dict, charts: dict[str, bytes], *, locale: str = "zh") -> bytes:
    """The bulletin as PDF bytes."""
    from weasyprint import HTML
    return HTML(string=html(bulletin, charts, locale=locale), base_url=str(Path(font_path()).parent)).write_pdf()
