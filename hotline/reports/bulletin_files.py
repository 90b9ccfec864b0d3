"""A bulletin's files: its content built once (bulletins.py), its charts drawn once, laid out as DOCX
and as PDF. Used by the generation task and by `hotline reports bulletin`."""
from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale

from hotline.reports import bulletin_charts, bulletin_docx, bulletin_pdf, bulletins
from workflows import measures as wm

FORMATS = ("docx", "pdf")


def render(period: wm.Period, now: datetime, formats=FORMATS, *, locale: str = "zh",
           progress=None) -> tuple[dict, dict[str, bytes]]:
    """(the bulletin's content, {format: bytes}); `progress(step)` is told each step (bulletins.STEPS)."""
    progress = progress or (lambda step: None)
    data = bulletins.build(period, now, locale=locale, progress=progress)
    progress("charts")
    with force_locale(locale):
        charts = bulletin_charts.charts(data)
    files = {}
    if "docx" in formats:
        progress("docx")
        files["docx"] = bulletin_docx.render(data, charts, locale=locale)
    if "pdf" in formats:
        progress("pdf")
        files["pdf"] = bulletin_pdf.render(data, charts, locale=locale)
    return data, files
