"""Telephony records: agents, queues, IVR flows and prompts, calls (CDR), queue log,
recordings, callbacks, outbound call requests and the workers themselves.

The rows here are also the ACD's shared state on the embedded default (SQLite): every
worker claims agents and waiting callers with conditional updates, so two workers never
offer one agent two calls.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.enums import enum_column
from hotline.extensions import db
from workflows.acd import AgentState, CallerPriority, Strategy
from workflows.enums import TitledEnum


class CallLeg(TitledEnum):
    INBOUND = "inbound", "呼入", "Inbound"
    AGENT = "agent", "坐席", "Agent leg"
    OUTBOUND = "outbound", "外呼", "Outbound"
    MONITOR = "monitor", "监听", "Monitor"


class CallDisposition(TitledEnum):
    """How a call leg ended, in call-centre terms."""

    ANSWERED = "answered", "已接通", "Answered"
    SELF_SERVICE = "self_service", "自助服务", "Self-service (IVR)"
    ABANDONED = "abandoned", "放弃", "Abandoned"
    VOICEMAIL = "voicemail", "留言", "Voicemail"
    NO_ANSWER = "no_answer", "无人接听", "No answer"
    BUSY = "busy", "忙", "Busy"
    FAILED = "failed", "失败", "Failed"


class QueueEvent(TitledEnum):
    ENTERED = "entered", "进入队列", "Entered"
    OFFERED = "offered", "分配坐席", "Offered"
    ANSWERED = "answered", "接通", "Answered"
    ABANDONED = "abandoned", "放弃", "Abandoned"
    OVERFLOW = "overflow", "溢出到留言", "Overflow to voicemail"
    COMPLETED = "completed", "通话结束", "Completed"
    ACW_ENDED = "acw_ended", "话后处理结束", "After-call work ended"


class CallbackReason(TitledEnum):
    ABANDONED = "abandoned", "排队放弃", "Abandoned in queue"
    MISSED = "missed", "未接来电", "Missed"
    VOICEMAIL = "voicemail", "留言", "Voicemail"


class CallbackStatus(TitledEnum):
    PENDING = "pending", "待回拨", "Pending"
    DIALLING = "dialling", "回拨中", "Dialling"
    DONE = "done", "已回拨", "Done"
    FAILED = "failed", "回拨失败", "Failed"


class OutboundKind(TitledEnum):
    CLICK_TO_DIAL = "click_to_dial", "点击外呼", "Click to dial"
    CALLBACK = "callback", "回拨", "Callback"
    SURVEY = "survey", "回访调查", "Return-visit survey"
    NOTIFICATION = "notification", "语音通知", "Notification"


class OutboundStatus(TitledEnum):
    QUEUED = "queued", "待呼叫", "Queued"
    DIALLING = "dialling", "呼叫中", "Dialling"
    DONE = "done", "完成", "Done"
    FAILED = "failed", "失败", "Failed"


class Agent(db.Model):
    """A user who takes calls: their extension's state, shared by every worker."""

    __tablename__ = "agents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[AgentState] = mapped_column(enum_column(AgentState, "agent_state"), default=AgentState.OFFLINE)
    #: Why "not ready" (break, meal, meeting ...).
    reason: Mapped[str | None] = mapped_column(String(80))
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the agent last became free to take a call: longest-idle orders by it.
    idle_since: Mapped[datetime] = mapped_column(default=utcnow)
    #: Calls answered on `calls_day` (local date, YYYYMMDD): fewest-calls orders by it.
    calls_today: Mapped[int] = mapped_column(default=0)
    calls_day: Mapped[str] = mapped_column(String(8), default="")
    #: The SIP call the agent is being offered or is on.
    current_call_id: Mapped[str | None] = mapped_column(String(128))
    #: After-call work ends by itself at this time.
    acw_until: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class AgentStateChange(db.Model):
    """An agent's state changed: the log the agents' time in each state is counted from
    (written by every change of `Agent.state`, never changed afterwards)."""

    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[AgentState] = mapped_column(enum_column(AgentState, "agent_state"))
    #: Why "not ready", as on the agent.
    reason: Mapped[str | None] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CallQueue(db.Model):
    __tablename__ = "call_queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    strategy: Mapped[Strategy] = mapped_column(enum_column(Strategy, "queue_strategy"), default=Strategy.LONGEST_IDLE)
    #: Seconds an agent's phone rings before the next agent is tried.
    ring_seconds: Mapped[int] = mapped_column(default=15)
    #: Seconds a caller waits before overflowing to voicemail.
    max_wait_seconds: Mapped[int] = mapped_column(default=300)
    #: Seconds of after-call work before the agent is ready again.
    wrap_up_seconds: Mapped[int] = mapped_column(default=30)
    #: The position is announced to waiting callers this often (seconds).
    announce_seconds: Mapped[int] = mapped_column(default=30)
    #: Prompt played while waiting (music or announcements).
    hold_prompt: Mapped[str | None] = mapped_column(String(40))
    #: Answered within this many seconds counts towards the service level.
    service_level_seconds: Mapped[int] = mapped_column(default=20)
    #: Round robin: the user offered the last call.
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list["QueueMember"]] = relationship(back_populates="queue", cascade="all, delete-orphan")


class QueueMember(db.Model):
    """An agent's skill: which queue they answer, and at which level (1 = primary)."""

    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id", name="queue_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("call_queues.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[int] = mapped_column(default=1)

    queue: Mapped[CallQueue] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class Prompt(db.Model):
    """A recorded or spoken announcement, kept as 8 kHz 16-bit mono WAV."""

    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    #: Text spoken by the local TTS when no audio was uploaded.
    text: Mapped[str | None] = mapped_column(Text)
    #: espeak-ng voice: "cmn" (Mandarin) or "en".
    voice: Mapped[str] = mapped_column(String(10), default="cmn")
    #: Uploaded audio, already converted to 8 kHz 16-bit mono WAV.
    audio: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: SHA-256 of what the prompt sounds like (audio, or voice + text): the cache key.
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IvrFlow(db.Model):
    """The menu tree callers of one service number walk; validated before it is saved."""

    __tablename__ = "ivr_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The dialled number the flow serves (e.g. 12345).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    #: The flow as JSON text (see workflows/ivr.py).
    definition: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Call(db.Model):
    """A call detail record: one row per call leg."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SIP Call-ID of this leg.
    sip_call_id: Mapped[str] = mapped_column(String(128), unique=True)
    leg: Mapped[CallLeg] = mapped_column(enum_column(CallLeg, "call_leg"))
    #: The caller's leg this one serves (agent and monitor legs).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    #: Numbers: digits of the From and To users.
    caller: Mapped[str] = mapped_column(String(40))
    callee: Mapped[str] = mapped_column(String(40))
    #: The worker that carried the leg.
    worker: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("call_queues.id"))
    #: The order the call is about: registered during it, or the one dialled from.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    disposition: Mapped[CallDisposition | None] = mapped_column(enum_column(CallDisposition, "call_disposition"))
    #: Who hung up or why it ended (remote_hangup, cancelled, busy ...), and a final SIP status.
    end_reason: Mapped[str | None] = mapped_column(String(40))
    sip_status: Mapped[int | None]
    #: IVR nodes the caller walked, joined by ">".
    ivr_path: Mapped[str | None] = mapped_column(String(400))
    priority: Mapped[CallerPriority] = mapped_column(enum_column(CallerPriority, "caller_priority"),
                                                     default=CallerPriority.NORMAL)

    agent: Mapped[User | None] = relationship(foreign_keys=[agent_user_id])
    queue: Mapped[CallQueue | None] = relationship()


class QueueEntry(db.Model):
    """A caller waiting in a queue right now (deleted when they leave it).

    Shared by the workers: the caller at the head of a queue is offered the next agent,
    whichever worker holds them.
    """

    __tablename__ = "queue_entries"
    __table_args__ = (Index("ix_queue_entries_order", "queue_id", "rank", "entered_at"),)

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("call_queues.id"))
    #: Higher ranks first (VIP 2, important 1, others 0), stored negated for an ascending index.
    rank: Mapped[int] = mapped_column(default=0)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    worker: Mapped[str] = mapped_column(String(64))
    #: The agent being offered this caller, if any.
    offered_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class QueueLogEntry(db.Model):
    """What happened to a caller in a queue: the raw material of call statistics."""

    __tablename__ = "queue_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("call_queues.id"), index=True)
    event: Mapped[QueueEvent] = mapped_column(enum_column(QueueEvent, "queue_event"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Seconds waited before this event (entered -> answered / abandoned / overflow).
    wait_seconds: Mapped[float | None]
    talk_seconds: Mapped[float | None]
    acw_seconds: Mapped[float | None]


class Recording(db.Model):
    """A bridged call's audio, both parties, checksummed; purged by the retention policy."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: File name under RECORDING_DIR: <date>/<sip call id>.wav
    path: Mapped[str] = mapped_column(String(255))
    seconds: Mapped[float]
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Set when an administrator or the retention policy removed the audio.
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    call: Mapped[Call] = relationship()


class Callback(db.Model):
    """A caller the centre owes a call: abandoned in the queue, missed, or left a message."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(40), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    reason: Mapped[CallbackReason] = mapped_column(enum_column(CallbackReason, "callback_reason"))
    status: Mapped[CallbackStatus] = mapped_column(enum_column(CallbackStatus, "callback_status"),
                                                   default=CallbackStatus.PENDING, index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("call_queues.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class OutboundRequest(db.Model):
    """A call the platform is asked to place; a worker claims it and dials."""

    __tablename__ = "outbound_requests"
    __table_args__ = (Index("ix_outbound_requests_status", "status", "not_before"),
                      # an order's page shows the latest call placed from it
                      Index("ix_outbound_requests_ticket", "ticket_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboundKind] = mapped_column(enum_column(OutboundKind, "outbound_kind"))
    status: Mapped[OutboundStatus] = mapped_column(enum_column(OutboundStatus, "outbound_status"),
                                                   default=OutboundStatus.QUEUED)
    phone: Mapped[str] = mapped_column(String(40))
    #: The agent whose phone rings first (click to dial, callbacks).
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    #: What a notification call says.
    message: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    #: Outcome: the digit pressed in a survey, or why it failed.
    result: Mapped[str | None] = mapped_column(String(80))
    finished_at: Mapped[datetime | None]
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))


class TelephonyWorker(db.Model):
    """A running `hotline telephony` process; its heartbeat tells the others it is alive."""

    __tablename__ = "telephony_workers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    active_calls: Mapped[int] = mapped_column(default=0)


class MonitorRequest(db.Model):
    """A supervisor asked to listen to, whisper into or barge into a live call."""

    __tablename__ = "monitor_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: listen, whisper or barge; changed while it runs.
    mode: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
