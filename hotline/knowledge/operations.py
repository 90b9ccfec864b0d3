"""Every write of the knowledge base: articles written, reviewed, withdrawn, used; synonyms kept.

Nothing commits here. Each edit keeps the text it left as a version row; the search columns
(title_tokens, body_tokens) are refilled from the text by the same function that cuts queries.
Files attached to an article are checked and kept by hotline.core.files; adding or removing one
is an edit like any other (a version saying so, and the same review rule).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.core import files
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, Invalid, NotFound
from hotline.core.fields import MAX_INT, Fields
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.knowledge import attachments, permissions, text
from hotline.knowledge.models import (Article, ArticleState, ArticleUse, ArticleVersion, KnowledgeAttachment,
                                      Synonym)
from hotline.messaging import operations as messaging
from hotline.messaging.models import MessageChannel
from hotline.sla.service import local_tz
from workflows.states import Role

#: Bumped by every write here: the search's document statistics of this process are then renewed.
generation = 0
MAX_BODY = 50000
MAX_SYNONYM_WORDS = 12


def _changed() -> None:
    global generation
    generation += 1


def today() -> date:
    return utcnow().astimezone(local_tz()).date()


def _date(f: Fields, name: str) -> date | None:
    value = f.data.get(name)
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        parsed = date.fromisoformat(value)
        if not 1990 <= parsed.year <= 2200:
            raise ValueError
        return parsed
    except ValueError:
        f.error(name, _("Must be a date like 2026-11-22."))
        return None


def _clean_body(f: Fields) -> str | None:
    raw = f.text("body", required=True, max_len=MAX_BODY)
    if raw is None:
        return None
    body = text.clean_html(raw) if "<" in raw else text.paragraphs_html(raw)
    if not text.plain_text(body).strip():
        f.error("body", _("The answer has no text left once unsafe markup is removed."))
        return None
    return body


def _read(actor: User, data: dict, article: Article | None) -> dict:
    """The fields of an article from a form or JSON, every problem named at once."""
    f = Fields(data)
    values = {"title": f.text("title", required=True, max_len=200), "body": _clean_body(f),
              "source_document": f.text("source_document", max_len=200),
              "source_office": f.text("source_office", max_len=120),
              "valid_from": _date(f, "valid_from"), "valid_until": _date(f, "valid_until"),
              "is_public": bool(f.boolean("is_public", default=False)),
              "note": f.text("note", max_len=200)}
    if values["valid_from"] and values["valid_until"] and values["valid_until"] < values["valid_from"]:
        f.error("valid_until", _("The end of validity comes before its start."))
    category = data.get("category")
    values["category_id"] = None
    if category not in (None, ""):
        found = db.session.scalar(sa.select(Category).where(Category.code == str(category)[:20]))
        if found is None:
            f.error("category", _("No such category."))
        else:
            values["category_id"] = found.id
    owner_id = f.integer("owner_department", low=1, high=MAX_INT)
    if owner_id is None:
        owner = article.owner_department if article is not None else actor.department
        if owner is None:
            f.error("owner_department", _("Choose the department that keeps this answer true."))
    else:
        owner = db.session.get(Department, owner_id)
        if owner is None:
            f.error("owner_department", _("No such department."))
    if owner is not None and not f.errors.get("owner_department") and not permissions.may_own(actor, owner):
        f.error("owner_department", _("You may write articles only for your own department."))
    f.done()
    values["owner_department_id"] = owner.id
    return values


def _fill_tokens(article: Article) -> None:
    category = db.session.get(Category, article.category_id) if article.category_id else None
    article.title_tokens = text.index_text(article.title)
    extra = " ".join(x for x in (article.source_office, category.name if category else None) if x)
    article.body_tokens = text.index_text(text.plain_text(article.body) + "\n" + extra)


def _version(article: Article, actor: User | None, note: str | None) -> None:
    db.session.add(ArticleVersion(article_id=article.id, number=article.version, title=article.title,
                                  body=article.body, edited_by_id=actor.id if actor else None,
                                  edited_at=article.updated_at, note=note))


def _note(*parts: str | None) -> str | None:
    """The version's note: the editor's words, then what happened to files (cut to the column's 200)."""
    note = "; ".join(p for p in parts if p)
    return (note[:199] + "…" if len(note) > 200 else note) or None


def _revise(article: Article, actor: User, note: str | None) -> None:
    """A new version. A published article changed by someone who may not review it goes back to
    review (and answers no one meanwhile); a reviewer's change stays published."""
    now = utcnow()
    article.version += 1
    article.updated_at, article.updated_by_id = now, actor.id
    if article.state is ArticleState.PUBLISHED:
        if permissions.can_review(actor, article):
            article.reviewed_by_id, article.reviewed_at = actor.id, now
        else:
            article.state, article.submitted_at = ArticleState.IN_REVIEW, now
    elif article.state is ArticleState.ARCHIVED:
        article.state = ArticleState.DRAFT
    _version(article, actor, note)


# -- files ---------------------------------------------------------------------------------------

def _attach(article: Article, actor: User, received: list[files.Received]) -> list[str]:
    """Keep the checked files and link them to the article; the notes for its history."""
    notes = []
    for item in received:
        item.keep()
        article.attachments.append(KnowledgeAttachment(
            filename=item.name, content_type=item.content_type, size=item.size, sha256=item.sha256,
            uploaded_by_id=actor.id, uploaded_at=utcnow()))
        with attachments.record_language():
            notes.append(_("Added attachment %(name)s", name=item.name))
    return notes


def _detach(article: Article, rows: list[KnowledgeAttachment]) -> list[str]:
    """Unlink files from the article (the stored files stay: another article or order may share one)."""
    notes = []
    for row in rows:
        article.attachments.remove(row)
        db.session.delete(row)
        with attachments.record_language():
            notes.append(_("Removed attachment %(name)s", name=row.filename))
    return notes


def _read_with_files(actor: User, data: dict, article: Article | None, uploads, removing: int):
    """The article's fields and its new files, every problem of both named at once."""
    values, received, text_error = None, [], None
    try:
        values = _read(actor, data, article)
    except Invalid as err:
        text_error = err
    try:
        received = attachments.receive(article, uploads, removing)
    except Invalid as err:
        if text_error is None:
            raise
        text_error.fields.update(err.fields)
    if text_error is not None:
        if received:
            attachments.discard(received)
            text_error.fields["files"] = _("Choose the files again: files are not kept when the form comes back.")
        raise text_error
    return values, received


def create_article(actor: User, data: dict, *, state: ArticleState = ArticleState.DRAFT, uploads=()) -> Article:
    """A new article, a draft until reviewed (the demo seed creates published ones)."""
    if not permissions.can_write_knowledge(actor):
        raise Forbidden(_("Only administrators and department staff write knowledge articles."))
    values, received = _read_with_files(actor, data, None, uploads, 0)
    note = values.pop("note")
    now = utcnow()
    article = Article(**values, state=state, created_by_id=actor.id, updated_by_id=actor.id, created_at=now,
                      updated_at=now, use_count=0, version=1)
    if state is ArticleState.PUBLISHED:
        article.reviewed_by_id, article.reviewed_at = actor.id, now
    _fill_tokens(article)
    db.session.add(article)
    db.session.flush()
    _version(article, actor, _note(note, *_attach(article, actor, received)))
    db.session.flush()
    _changed()
    return article


def update_article(article: Article, actor: User, data: dict, *, uploads=(), remove=()) -> Article:
    """A new version of the text (with files added and `remove`d, ids of its attachments). A published
    article edited by someone who may not review it goes back to review; a reviewer's edit stays published."""
    if not permissions.can_edit(actor, article):
        raise Forbidden(_("Only administrators and the owning department edit this article."))
    removing = attachments.to_remove(article, remove)
    values, received = _read_with_files(actor, data, article, uploads, len(removing))
    note = values.pop("note")
    for name, value in values.items():
        setattr(article, name, value)
    _fill_tokens(article)
    _revise(article, actor, _note(note, *_detach(article, removing), *_attach(article, actor, received)))
    db.session.flush()
    _changed()
    return article


def add_attachments(article: Article, actor: User, uploads) -> list[KnowledgeAttachment]:
    """Files added to an article (all or none), as a new version."""
    if not permissions.can_edit(actor, article):
        raise Forbidden(_("Only administrators and the owning department edit this article."))
    if not attachments.chosen(uploads):
        raise Invalid(_("Some fields need fixing."), fields={"files": _("Choose a file to upload.")})
    received = attachments.receive(article, uploads)
    _revise(article, actor, _note(*_attach(article, actor, received)))
    db.session.flush()
    _changed()
    return article.attachments[-len(received):]


def remove_attachment(article: Article, actor: User, attachment: KnowledgeAttachment) -> None:
    """A file taken off an article, as a new version."""
    if not permissions.can_edit(actor, article):
        raise Forbidden(_("Only administrators and the owning department edit this article."))
    if attachment.article_id != article.id:
        raise NotFound(_("No such file on this article."))
    _revise(article, actor, _note(*_detach(article, [attachment])))
    db.session.flush()
    _changed()


def submit_article(article: Article, actor: User) -> Article:
    """An editor asks for review."""
    if not permissions.can_edit(actor, article):
        raise Forbidden(_("Only administrators and the owning department edit this article."))
    if article.state is not ArticleState.DRAFT:
        raise Conflict(_("Only a draft can be submitted for review."), code="not_draft")
    article.state, article.submitted_at, article.review_note = ArticleState.IN_REVIEW, utcnow(), None
    db.session.flush()
    _changed()
    return article


def publish_article(article: Article, actor: User, note: str | None = None) -> Article:
    """The reviewer approves: the article answers callers (and citizens, if public) from now on."""
    if not permissions.can_review(actor, article):
        raise Forbidden(_("Only administrators and the owning department's administrator publish articles."))
    if article.state not in (ArticleState.DRAFT, ArticleState.IN_REVIEW):
        raise Conflict(_("Only a draft or an article awaiting review can be published."), code="not_in_review")
    if article.valid_until is not None and article.valid_until < today():
        raise Conflict(_("Its validity has ended: give it a new end date before publishing."), code="expired")
    now = utcnow()
    article.state, article.reviewed_by_id, article.reviewed_at = ArticleState.PUBLISHED, actor.id, now
    article.review_note = (note or "").strip()[:500] or None
    article.updated_at = now
    db.session.flush()
    _changed()
    return article


def send_back_article(article: Article, actor: User, note: str | None) -> Article:
    """The reviewer returns the article to its editors with what to fix."""
    if not permissions.can_review(actor, article):
        raise Forbidden(_("Only administrators and the owning department's administrator review articles."))
    if article.state is not ArticleState.IN_REVIEW:
        raise Conflict(_("Only an article awaiting review can be sent back."), code="not_in_review")
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Some fields need fixing."), fields={"note": _("Say what needs fixing.")})
    article.state, article.review_note, article.updated_at = ArticleState.DRAFT, note[:500], utcnow()
    db.session.flush()
    _changed()
    return article


def withdraw_article(article: Article, actor: User) -> Article:
    """Take an article out of use (kept, with its versions; editing it makes it a draft again)."""
    if not permissions.can_review(actor, article):
        raise Forbidden(_("Only administrators and the owning department's administrator withdraw articles."))
    if article.state is ArticleState.ARCHIVED:
        raise Conflict(_("The article is already withdrawn."), code="archived")
    article.state, article.updated_at = ArticleState.ARCHIVED, utcnow()
    db.session.flush()
    _changed()
    return article


def record_use(article: Article, actor: User, *, ticket_id: int | None = None) -> ArticleUse:
    """The article answered a caller: counted for the ranking and the hot list."""
    if not permissions.can_read_knowledge(actor) or not permissions.answers_callers(article, today()):
        raise Conflict(_("Only a published article in force can answer a caller."), code="not_in_force")
    use = ArticleUse(article_id=article.id, user_id=actor.id, ticket_id=ticket_id, used_at=utcnow())
    db.session.add(use)
    db.session.execute(sa.update(Article).where(Article.id == article.id)
                       .values(use_count=Article.use_count + 1))
    db.session.flush()
    db.session.refresh(article, ["use_count"])
    return use


def get_article(article_id: int) -> Article:
    article = db.session.get(Article, article_id) if 0 < article_id <= MAX_INT else None
    if article is None:
        raise NotFound(_("There is no such article."))
    return article


# -- synonyms ------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,，、;；/|=]+")


def add_synonyms(actor: User, words: str | None) -> Synonym:
    """A group of words meaning the same (居住证 暂住证); searches for one find the others."""
    if not permissions.can_manage_synonyms(actor):
        raise Forbidden(_("Only administrators keep the synonyms."))
    group = []
    for word in _SEPARATORS.split(text.normalize(words or "")):
        if word and word not in group:
            group.append(word)
    problem = None
    if len(group) < 2:
        problem = _("Give at least two words that mean the same, separated by spaces or commas.")
    elif len(group) > MAX_SYNONYM_WORDS or any(len(w) > 20 for w in group) or len(" ".join(group)) > 300:
        problem = _("At most %(n)d words of at most 20 characters each.", n=MAX_SYNONYM_WORDS)
    elif not all(text.tokens(w, keep_stopwords=True) for w in group):
        problem = _("Each word needs letters or digits.")
    if problem:
        raise Invalid(_("Some fields need fixing."), fields={"words": problem})
    synonym = Synonym(words=" ".join(group), created_by_id=actor.id, created_at=utcnow())
    db.session.add(synonym)
    db.session.flush()
    _changed()
    return synonym


def delete_synonyms(synonym: Synonym, actor: User) -> None:
    if not permissions.can_manage_synonyms(actor):
        raise Forbidden(_("Only administrators keep the synonyms."))
    db.session.delete(synonym)
    db.session.flush()
    _changed()


def reindex() -> int:
    """Refill every article's search columns (after the word lists or jieba changed)."""
    articles = db.session.scalars(sa.select(Article)).all()
    for article in articles:
        _fill_tokens(article)
    db.session.flush()
    _changed()
    return len(articles)


# -- validity ending -------------------------------------------------------------------------------

def notify_expiring(day: date, notice_days: int) -> int:
    """An in-app notice to the owner department's administrators of each published article whose
    validity ends within `notice_days` days of `day` (or has ended): once per article and validity
    end (a renewed article that nears its new end is notified again). Returns the notices queued."""
    articles = db.session.scalars(sa.select(Article).where(
        Article.state == ArticleState.PUBLISHED, Article.valid_until.is_not(None),
        Article.valid_until <= day + timedelta(days=notice_days)).order_by(Article.id)).all()
    if not articles:
        return 0
    departments = {a.owner_department_id for a in articles}
    admins: dict[int, list[User]] = {}
    for user in db.session.scalars(sa.select(User).where(User.role == Role.DEPARTMENT_ADMIN, User.is_active.is_(True),
                                                         User.department_id.in_(departments)).order_by(User.id)):
        admins.setdefault(user.department_id, []).append(user)
    rows = [messaging.message_values(
                intent=f"knowledge-expiry:{a.id}:{a.valid_until.isoformat()}:u{user.id}:inapp",
                channel=MessageChannel.INAPP, template="knowledge_expiry", recipient=user,
                params={"title": a.title, "until": a.valid_until.isoformat(), "link": f"/knowledge/{a.id}"})
            for a in articles for user in admins.get(a.owner_department_id, [])]
    return messaging.queue_messages(rows)
