"""The bulletin's charts as PNG images, drawn server-side with Pillow.

Why Pillow: WeasyPrint already depends on it (no new dependency), it draws Chinese text with the
same CJK font the PDF embeds, and a bulletin needs only plain horizontal bars: matplotlib would add
tens of megabytes and a second font configuration for that. The same PNGs go into the DOCX and the PDF.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw, ImageFont

#: Where a CJK font is looked for when BULLETIN_FONT is not set (Debian's fonts-wqy-microhei,
#: fonts-noto-cjk, fonts-wqy-zenhei).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
SCALE = 2                      # drawn at twice the size shown, for print
#: 560 px across 15 cm: a 13 px label prints at about 10 pt
WIDTH = 560 * SCALE
BAR = 20 * SCALE
GAP = 8 * SCALE
RED = (192, 0, 0)
BLUE = (47, 84, 150)
GREY = (120, 120, 120)


class FontMissing(RuntimeError):
    """No CJK font: the bulletin would print boxes instead of Chinese."""


def font_path() -> str:
    configured = current_app.config.get("BULLETIN_FONT")
    for path in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if path and Path(path).exists():
            return path
    raise FontMissing("no CJK font found: install fonts-wqy-microhei (apt-get install fonts-wqy-microhei) "
                      "or set BULLETIN_FONT to a .ttf/.ttc file with Chinese glyphs")


@lru_cache(maxsize=16)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size * SCALE)


def bar_chart(title: str, rows: list[tuple[str, float]], *, percent: bool = False, line: float | None = None,
              line_label: str = "", marked: frozenset = frozenset()) -> bytes:
    """Horizontal bars, one per (label, value), the value written at the bar's end; `line` draws a
    dashed red mark (the assessment floor) and labels in `marked` are drawn in red."""
    path = font_path()
    title_font, font, small = _font(path, 15), _font(path, 13), _font(path, 11)
    rows = rows or [("—", 0)]
    top = 34 * SCALE
    height = top + len(rows) * (BAR + GAP) + 30 * SCALE
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((WIDTH // 2, 8 * SCALE), title, font=title_font, fill="black", anchor="mt")
    label_width = min(max(draw.textlength(label, font=font) for label, _v in rows) + 12 * SCALE, WIDTH * 0.38)
    left, right = int(label_width), WIDTH - 60 * SCALE
    peak = 1.0 if percent else max(max(v or 0 for _l, v in rows), 1)
    span = right - left
    for i, (label, value) in enumerate(rows):
        y = top + i * (BAR + GAP)
        colour = RED if label in marked else "black"
        text = _fit(draw, label, font, left - 10 * SCALE)
        draw.text((left - 8 * SCALE, y + BAR // 2), text, font=font, fill=colour, anchor="rm")
        length = int(span * (value or 0) / peak)
        draw.rectangle((left, y, left + max(length, 1), y + BAR), fill=RED if label in marked else BLUE)
        shown = "—" if value is None else (f"{value * 100:.1f}%" if percent else f"{value:g}")
        draw.text((left + length + 6 * SCALE, y + BAR // 2), shown, font=font, fill="black", anchor="lm")
    bottom = top + len(rows) * (BAR + GAP) - GAP
    draw.line((left, top - 4 * SCALE, left, bottom + 4 * SCALE), fill=GREY, width=SCALE)
    if line is not None:
        x = left + int(span * line / peak)
        for y in range(top - 6 * SCALE, bottom + 6 * SCALE, 8 * SCALE):
            draw.line((x, y, x, y + 4 * SCALE), fill=RED, width=SCALE)
        draw.text((x, bottom + 8 * SCALE), line_label, font=small, fill=RED, anchor="mt")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(150 * SCALE, 150 * SCALE), optimize=True)
    return buffer.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def charts(bulletin: dict) -> dict[str, bytes]:
    """The bulletin's charts by name: split, type, channel, categories and the departments' completion
    (titles in the current locale)."""
    from flask_babel import gettext as _

    from hotline.reports.bulletins import percent
    out = {
        "split": bar_chart(_("Answered directly and dispatched"), [(r["label"], r["value"]) for r in bulletin["split"]]),
        "type": bar_chart(_("Intake by type"), [(r["label"], r["value"]) for r in bulletin["by_type"]]),
        "channel": bar_chart(_("Intake by channel"), [(r["label"], r["value"]) for r in bulletin["by_channel"]]),
        "categories": bar_chart(_("Top categories"), [(r["label"], r["value"]) for r in bulletin["top_categories"]]),
    }
    measured = [d for d in bulletin["departments"] if d["on_time_completion_rate"] is not None]
    out["departments"] = bar_chart(
        _("On-time completion rate by unit"), [(d["label"], d["on_time_completion_rate"]) for d in measured],
        percent=True, line=bulletin["floor"],
        line_label=_("Assessment line %(floor)s", floor=percent(bulletin["floor"])),
        marked=frozenset(d["label"] for d in measured if "on_time_completion_rate" in d["below"]))
    return out
