"""The outbox's one record: a message, from queued to delivered or failed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.extensions import db
from workflows.enums import TitledEnum


class MessageChannel(TitledEnum):
    INAPP = "inapp", "站内通知", "In-app notice"
    SMS = "sms", "短信", "SMS"
    VOICE = "voice", "语音电话", "Voice call"
    EMAIL = "email", "电子邮件", "E-mail"
    FAX = "fax", "传真", "Fax"


class MessageState(TitledEnum):
    QUEUED = "queued", "待发送", "Queued"
    SENDING = "sending", "发送中", "Sending"
    SENT = "sent", "已发送", "Sent"
    DELIVERED = "delivered", "已送达", "Delivered"
    FAILED = "failed", "发送失败", "Failed"


class Message(db.Model):
    """One notice to one recipient on one channel; sent at most once per intent."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_messages_recipient_unread", "recipient_user_id", "channel", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What caused it, once: the same intent queued twice is one message (idempotency key).
    intent_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[MessageChannel] = mapped_column(enum_column(MessageChannel, "message_channel"))
    #: Which text it is (messaging/texts.py), kept for reports and for rendering again.
    template: Mapped[str] = mapped_column(String(64))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The phone number, e-mail address ... as it was when queued; empty for in-app notices.
    address: Mapped[str] = mapped_column(String(200), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    #: The text as the recipient reads it, rendered in their language when queued.
    body: Mapped[str] = mapped_column(Text)
    is_urgent: Mapped[bool] = mapped_column(default=False)
    state: Mapped[MessageState] = mapped_column(enum_column(MessageState, "message_state"),
                                                default=MessageState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When a worker may (next) try to send it; None once it is no longer queued.
    next_attempt_at: Mapped[datetime | None]
    #: A worker that claimed it owns it until then; a claim that outlives it was interrupted.
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The gateway's id of the message, to match its delivery report.
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    #: In-app notices: when the recipient opened it.
    read_at: Mapped[datetime | None]

    recipient: Mapped[User | None] = relationship(lazy="joined")
    parts: Mapped[list[MessagePart]] = relationship(back_populates="message", order_by="MessagePart.number",
                                                    cascade="all, delete-orphan", passive_deletes=True)


class PartState(TitledEnum):
    SENT = "sent", "已发送", "Sent"
    DELIVERED = "delivered", "已送达", "Delivered"
    FAILED = "failed", "发送失败", "Failed"


class MessagePart(db.Model):
    """One part of a long SMS sent concatenated: the gateway reports on each part by its own id.

    The message is delivered once every part is, failed as soon as one part fails. The parts of
    the latest send only: a send again replaces them.
    """

    __tablename__ = "message_parts"
    __table_args__ = (UniqueConstraint("message_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    #: 1, 2 ... in the order the phone joins them.
    number: Mapped[int]
    #: The gateway's id of this part (SMPP: the SMS centre's message id, prefixed as Message.provider_id);
    #: None until its first report names it (Kannel does not tell the parts' ids when it takes a message).
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    state: Mapped[PartState] = mapped_column(enum_column(PartState, "message_part_state"), default=PartState.SENT)
    #: What the gateway said when this part failed.
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship(back_populates="parts")
