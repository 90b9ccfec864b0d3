"""The knowledge base (知识库): articles the desk answers from, their versions, synonyms and uses."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.departments.models import Department
from hotline.extensions import db
from workflows.enums import TitledEnum


class ArticleState(TitledEnum):
    DRAFT = "draft", "草稿", "Draft"
    IN_REVIEW = "in_review", "待审核", "Awaiting review"
    PUBLISHED = "published", "已发布", "Published"
    ARCHIVED = "archived", "已下线", "Withdrawn"


class Article(db.Model):
    """One answer: a policy, a procedure, an office's phone and hours.

    The search indexes (SQLite FTS5 `knowledge_fts`, PostgreSQL's `search_vector`, both made by
    migration 0014) read `title_tokens` and `body_tokens`, which operations fill from the text.
    """

    __tablename__ = "knowledge_articles"
    __table_args__ = (Index("ix_knowledge_articles_state_valid_until", "state", "valid_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Rich text, cleaned to safe HTML when saved (hotline.knowledge.text.clean_html).
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    #: The department that keeps the article true; its staff edit it.
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    #: The document the answer rests on (文件名称及文号), and the office that issued it.
    source_document: Mapped[str | None] = mapped_column(String(200))
    source_office: Mapped[str | None] = mapped_column(String(120))
    #: Local dates; outside them the article answers no one (and its owner is told it needs care).
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    state: Mapped[ArticleState] = mapped_column(enum_column(ArticleState, "knowledge_article_state"),
                                                default=ArticleState.DRAFT)
    #: Shown to citizens on the portal once published.
    is_public: Mapped[bool] = mapped_column(default=False)
    #: How many times the article answered a caller (rises in the ranking a little).
    use_count: Mapped[int] = mapped_column(default=0)
    #: The number of the newest row in knowledge_article_versions.
    version: Mapped[int] = mapped_column(default=1)
    #: The words of the title and of the body's text, space-joined (hotline.knowledge.text.tokens).
    title_tokens: Mapped[str] = mapped_column(Text, default="")
    body_tokens: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    #: Who approved the published text, and when.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    #: The reviewer's word when sending an article back to its editors.
    review_note: Mapped[str | None] = mapped_column(String(500))

    category: Mapped[Category | None] = relationship()
    owner_department: Mapped[Department] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    #: Oldest first; the rows go with the article (the stored files stay, shared by content).
    attachments: Mapped[list[KnowledgeAttachment]] = relationship(
        back_populates="article", order_by="KnowledgeAttachment.id", cascade="all, delete-orphan",
        passive_deletes=True)

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_until is None
                                                                         or day <= self.valid_until)


class ArticleVersion(db.Model):
    """The text of an article as one edit left it: nothing is lost when an answer changes."""

    __tablename__ = "knowledge_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_knowledge_article_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What changed and why, in the editor's words.
    note: Mapped[str | None] = mapped_column(String(200))

    edited_by: Mapped[User | None] = relationship()


class KnowledgeAttachment(db.Model):
    """A file that belongs to an article (a form, the policy document, a map), kept by hotline.core.files."""

    __tablename__ = "knowledge_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    #: What the content really is (sniffed from its first bytes, not taken from the upload).
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    #: The key of the stored file under ATTACHMENT_DIR.
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class Synonym(db.Model):
    """Words callers use for the same thing (居住证 暂住证): a query with one finds the others."""

    __tablename__ = "knowledge_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The words of the group, space-separated, the preferred one first.
    words: Mapped[str] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def word_list(self) -> list[str]:
        return self.words.split()


class ArticleUse(db.Model):
    """An article answered a caller (from the desk, or marked on its page): the hot list counts these."""

    __tablename__ = "knowledge_uses"
    __table_args__ = (Index("ix_knowledge_uses_used_at_article_id", "used_at", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The order the article answered, when there was one.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
