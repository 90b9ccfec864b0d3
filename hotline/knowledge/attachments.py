"""Files of knowledge articles: the checks before operations link them (how many, what, which).

The files themselves are checked and kept by hotline.core.files, as for orders; the rows are
written by hotline.knowledge.operations.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from hotline.core import files
from hotline.core.errors import Invalid
from hotline.core.fields import MAX_INT
from hotline.knowledge.models import Article, KnowledgeAttachment

#: Files one article may carry.
MAX_FILES = 20


def chosen(uploads) -> list:
    """The uploads that carry a file (a form's empty file field sends one without a name)."""
    return [u for u in uploads or () if u is not None and u.filename]


def receive(article: Article | None, uploads, removing: int = 0) -> list[files.Received]:
    """Every upload checked (count, size, type) and waiting in a temporary file. Invalid on the field
    `files`, naming each refused file, if any is refused: then none is kept."""
    uploads = chosen(uploads)
    have = (len(article.attachments) if article is not None else 0) - removing
    if have + len(uploads) > MAX_FILES:
        raise Invalid(_("Too many files: an article carries at most %(n)d.", n=MAX_FILES), fields={
            "files": _("At most %(n)d files: it has %(have)d and %(more)d more were chosen.", n=MAX_FILES,
                       have=have, more=len(uploads))})
    received, problems = [], []
    for upload in uploads:
        try:
            received.append(files.receive(upload.filename, upload.stream, field="files"))
        except Invalid as err:
            problems.append(_("%(name)s: %(problem)s", name=files.safe_name(upload.filename), problem=err.message))
    if problems:
        discard(received)
        raise Invalid(_("Some files were not accepted; nothing was saved."), fields={"files": " ".join(problems)})
    return received


def discard(received: list[files.Received]) -> None:
    for item in received:
        item.discard()


def to_remove(article: Article, ids) -> list[KnowledgeAttachment]:
    """The article's attachments with these ids; Invalid if one is not the article's."""
    wanted = set()
    for raw in ids or ():
        value = str(raw).strip()
        if not value.isdigit() or not 0 < int(value) <= MAX_INT:
            raise Invalid(_("Some fields need fixing."), fields={"remove": _("No such file on this article.")})
        wanted.add(int(value))
    rows = [a for a in article.attachments if a.id in wanted]
    if len(rows) != len(wanted):
        raise Invalid(_("Some fields need fixing."), fields={"remove": _("No such file on this article.")})
    return rows


def record_language():
    """Notes kept in the article's history are written once, in the platform's language (as an SMS is)."""
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh"))
