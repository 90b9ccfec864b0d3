"""A table as a download: CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese) or XLSX.

Headers and values arrive already in the user's language; a rate is a Percent, written as a
number with a percent format in XLSX and as "92.3%" in CSV.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter


class Percent(float):
    """A share from 0 to 1, shown as a percentage."""


def _safe(value):
    """A spreadsheet must not run text as a formula (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Percent):
        return f"{value * 100:.1f}%"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, headers: list[str], rows) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_safe(_text(v)) for v in row])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _disposition(filename)})


def xlsx_response(filename: str, title: str, headers: list[str], rows, *, caption: str | None = None) -> Response:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    widths = [max(6, len(h) * 2 + 2) for h in headers]
    start = 1
    if caption:
        sheet.cell(row=1, column=1, value=caption).font = Font(bold=True, size=13)
        start = 3
    for col, header in enumerate(headers, 1):
        cell = sheet.cell(row=start, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF1F5")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(rows, start + 1):
        for col, value in enumerate(row, 1):
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            cell = sheet.cell(row=r, column=col, value=_safe(value) if isinstance(value, str) else value)
            if isinstance(value, Percent):
                cell.number_format = "0.0%"
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if col <= len(widths):
                widths[col - 1] = min(60, max(widths[col - 1], len(_text(value)) * 2 if isinstance(value, str)
                                              else 12))
    for col, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _disposition(filename)})
