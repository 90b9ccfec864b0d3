"""What a citizen's text message is: an answer to a return-visit survey, a note on an order it
names, or something new. Pure: the text in, the reading out; the operation decides with the
database what it adds to (hotline/sms/operations.py).
"""
from __future__ import annotations

import re
import unicodedata

from workflows.vocabulary import Satisfaction

#: The survey's answers: the digit asked for, and the words people type instead.
ANSWERS = {"1": Satisfaction.SATISFIED, "2": Satisfaction.BASICALLY_SATISFIED, "3": Satisfaction.DISSATISFIED}
_WORDS = {"满意": "1", "非常满意": "1", "基本满意": "2", "一般": "2", "不满意": "3", "很不满意": "3",
          "非常不满意": "3"}
#: What may surround the answer: spaces and punctuation ("1。", "【1】", "回复1").
_NOISE = re.compile(r"[\s\.,;:!?'\"()\[\]【】。，；：！？、“”‘’（）《》…-]+")
_REPLY_PREFIX = re.compile(r"^(回复|答复|选)")
#: An order number: the day (yyyymmdd) and a six-digit sequence.
ORDER_NUMBER = re.compile(r"(?<!\d)(20\d{12})(?!\d)")


def normalized(text: str) -> str:
    """Full-width digits and letters as plain ones (１ -> 1), surrounding space removed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def survey_answer(text: str) -> str | None:
    """"1", "2" or "3" when the whole message is an answer to the survey, else None.

    "1", "１", "1。", "回复2", "不满意" are answers; "1号楼漏水" is not (a new message that
    happens to start with a digit).
    """
    bare = _REPLY_PREFIX.sub("", _NOISE.sub("", normalized(text)))
    if bare in ANSWERS:
        return bare
    return _WORDS.get(bare)


def mentioned_number(text: str) -> str | None:
    """The first order number the message names, if any."""
    found = ORDER_NUMBER.search(normalized(text))
    return found.group(1) if found else None


def subject_of(text: str, length: int = 40) -> str:
    """An order's subject from the message: its first line, shortened with an ellipsis."""
    line = normalized(text).splitlines()[0].strip() if normalized(text) else ""
    return line if len(line) <= length else line[:length - 1] + "…"
