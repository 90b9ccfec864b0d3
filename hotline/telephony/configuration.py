"""The administrators' telephony set-up: IVR flows, prompts and queues (operations: flush, never commit).

Kept apart from `operations` (the calls side) only for size; the same rules hold: every write
is checked here, a bad flow is never saved, and each change is logged.
"""
from __future__ import annotations

import json
import logging
import re

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _

from hotline.auth.models import User
from hotline.core.base import utcnow
from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.core.fields import Fields
from hotline.extensions import db
from hotline.telephony import permissions
from hotline.telephony.models import CallQueue, IvrFlow, Prompt, QueueMember
from integrations.telephony import prompts as audio
from workflows import ivr
from workflows.acd import Strategy

log = logging.getLogger("hotline.telephony")

CODE = re.compile(r"[a-z0-9_]{1,40}")
NUMBER = re.compile(r"[0-9]{3,20}")
#: Queue settings an administrator may choose, with their bounds (seconds).
QUEUE_BOUNDS = {"ring_seconds": (5, 120), "max_wait_seconds": (30, 3600), "wrap_up_seconds": (0, 600),
                "announce_seconds": (10, 600), "service_level_seconds": (5, 600)}
LEVELS = (1, 9)
TEXT_MAX = 2000


def _require_admin(actor: User) -> None:
    if not permissions.can_manage_telephony(actor):
        raise Forbidden(_("Only administrators change the telephony set-up."))


def _locale() -> str:
    return str(get_locale() or "zh")


class InvalidFlow(Invalid):
    """A flow refused with every problem found (its fields', and its definition's one by one)."""

    def __init__(self, problems: list[str], fields: dict[str, str]):
        if problems:
            fields = {**fields, "definition": _("%(n)d problems found.", n=len(problems))}
        super().__init__(_("The flow was not saved: fix the problems listed under it."), fields=fields)
        self.problems = problems


def prompt_codes() -> set[str]:
    return set(db.session.scalars(sa.select(Prompt.code)))


def queue_codes() -> set[str]:
    return set(db.session.scalars(sa.select(CallQueue.code).where(CallQueue.is_active)))


def flow_problems(text: str) -> list[str]:
    """Every problem of a flow's JSON text against the prompts and active queues there are."""
    try:
        definition = json.loads(text)
    except ValueError as err:
        return [ivr.Problem("bad_json", detail=str(err)).message(_locale())]
    problems = ivr.validate(definition, prompts=prompt_codes(), queues=queue_codes())
    return [p.message(_locale()) for p in problems]


def save_flow(actor: User, flow: IvrFlow | None, data: dict) -> IvrFlow:
    """Create a flow for a number, or replace a flow's definition (version bumped); never a bad one.

    `data["version"]`, when given, is the version the administrator edited: if someone saved
    another meanwhile, nothing is overwritten.
    """
    _require_admin(actor)
    f = Fields(data)
    edited = f.integer("version", low=1)
    if flow is not None and edited is not None and edited != flow.version:
        raise Conflict(_("Someone saved version %(version)d of this flow while you were editing; copy your "
                         "changes, reload the page and make them again.", version=flow.version), code="stale")
    name = f.text("name", required=True, max_len=80)
    number = f.text("number", required=flow is None, max_len=20) if flow is None else flow.number
    if flow is None and number is not None:
        if not NUMBER.fullmatch(number):
            f.error("number", _("A service number is 3 to 20 digits, e.g. 12345."))
        elif db.session.scalar(sa.select(IvrFlow.id).where(IvrFlow.number == number)) is not None:
            f.error("number", _("Number %(number)s already has a flow; edit that one.", number=number))
    text = data.get("definition") if isinstance(data.get("definition"), str) else ""
    if not text.strip():
        f.error("definition", _("This field is required."))
    if len(text) > 200_000:
        f.error("definition", _("At most %(n)d characters (got %(got)d).", n=200_000, got=len(text)))
    problems = flow_problems(text) if "definition" not in f.errors else []
    if problems or f.errors:
        raise InvalidFlow(problems, f.errors)
    now = utcnow()
    if flow is None:
        flow = IvrFlow(number=number, name=name, definition=text, version=1, updated_at=now, updated_by_id=actor.id)
        db.session.add(flow)
    else:
        flow.name, flow.definition, flow.version = name, text, flow.version + 1
        flow.updated_at, flow.updated_by_id = now, actor.id
    db.session.flush()
    log.info("IVR flow %s saved by %s as version %s", flow.number, actor.username, flow.version)
    return flow


def save_prompt(actor: User, prompt: Prompt | None, data: dict, upload: tuple[bytes, str] | None = None) -> Prompt:
    """Add or change a prompt: text spoken in a voice, or uploaded audio converted to 8 kHz WAV."""
    _require_admin(actor)
    f = Fields(data)
    code = f.text("code", required=prompt is None, max_len=40) if prompt is None else prompt.code
    if prompt is None and code is not None:
        if not CODE.fullmatch(code):
            f.error("code", _("Use lower-case letters, digits and _ (at most 40)."))
        elif db.session.scalar(sa.select(Prompt.id).where(Prompt.code == code)) is not None:
            f.error("code", _("The code %(code)s is taken.", code=code))
    name = f.text("name", required=True, max_len=80)
    text = f.text("text", max_len=TEXT_MAX)
    voice = f.text("voice", max_len=10) or "cmn"
    if voice not in audio.VOICES:
        f.error("voice", _("Must be one of: %(values)s.", values=", ".join(audio.VOICES)))
    wav = None if (prompt is None or data.get("remove_audio") in ("1", "on", "true")) else prompt.audio
    if upload is not None and upload[0]:
        try:
            wav = audio.convert_upload(upload[0], upload[1] or "upload.wav")
        except audio.PromptError as err:
            f.error("audio", _("This file could not be converted to telephone audio (%(why)s). Upload a WAV, "
                               "MP3, OGG or FLAC recording of at most 10 minutes.", why=str(err)))
    if wav is None and text is None and "audio" not in f.errors:
        f.error("text", _("Give the text to speak, or upload a recording."))
    f.done()
    if prompt is None:
        prompt = Prompt(code=code)
        db.session.add(prompt)
    prompt.name, prompt.text, prompt.voice, prompt.audio = name, text, voice, wav
    prompt.sha256 = audio.audio_key(wav) if wav else audio.text_key(text, voice)
    prompt.updated_at = utcnow()
    db.session.flush()
    log.info("prompt %s saved by %s (%s)", prompt.code, actor.username, "audio" if wav else f"tts {voice}")
    return prompt


def _queue_settings(f: Fields, queue: CallQueue) -> None:
    name = f.text("name", required=True, max_len=80)
    strategy = f.choice("strategy", Strategy, required=True)
    numbers = {key: f.integer(key, required=True, low=low, high=high) for key, (low, high) in QUEUE_BOUNDS.items()}
    hold = f.text("hold_prompt", max_len=40)
    if hold is not None and hold not in prompt_codes():
        f.error("hold_prompt", _("No prompt has the code %(code)s.", code=hold))
    active = f.boolean("is_active", default=False)
    f.done()
    queue.name, queue.strategy, queue.hold_prompt, queue.is_active = name, strategy, hold, bool(active)
    for key, value in numbers.items():
        setattr(queue, key, value)


def create_queue(actor: User, data: dict) -> CallQueue:
    """A new queue with the default settings; flows send callers to it by its code."""
    _require_admin(actor)
    f = Fields(data)
    code = f.text("code", required=True, max_len=40)
    if code is not None and not CODE.fullmatch(code):
        f.error("code", _("Use lower-case letters, digits and _ (at most 40)."))
    elif code is not None and db.session.scalar(sa.select(CallQueue.id).where(CallQueue.code == code)) is not None:
        f.error("code", _("The code %(code)s is taken.", code=code))
    name = f.text("name", required=True, max_len=80)
    f.done()
    queue = CallQueue(code=code, name=name, strategy=Strategy.LONGEST_IDLE, is_active=True)
    db.session.add(queue)
    db.session.flush()
    log.info("queue %s created by %s", code, actor.username)
    return queue


def update_queue(actor: User, queue: CallQueue, data: dict) -> CallQueue:
    """Change a queue's settings within their bounds."""
    _require_admin(actor)
    _queue_settings(Fields(data), queue)
    db.session.flush()
    log.info("queue %s settings changed by %s", queue.code, actor.username)
    return queue


def set_queue_member(actor: User, queue: CallQueue, data: dict) -> QueueMember:
    """Add an agent to a queue at a skill level (1 answers first), or change their level."""
    _require_admin(actor)
    f = Fields(data)
    user_id = f.integer("user", required=True, low=1)
    level = f.integer("level", required=True, low=LEVELS[0], high=LEVELS[1])
    user = db.session.get(User, user_id) if user_id else None
    if user_id and (user is None or not user.is_active or not user.extension):
        f.error("user", _("Choose an active user with an extension."))
    f.done()
    member = db.session.scalar(sa.select(QueueMember).where(QueueMember.queue_id == queue.id,
                                                           QueueMember.user_id == user.id))
    if member is None:
        member = QueueMember(queue_id=queue.id, user_id=user.id, level=level)
        db.session.add(member)
    member.level = level
    db.session.flush()
    log.info("queue %s: %s at level %s (by %s)", queue.code, user.username, level, actor.username)
    return member


def remove_queue_member(actor: User, member: QueueMember) -> None:
    _require_admin(actor)
    log.info("queue member %s removed from queue %s by %s", member.user_id, member.queue_id, actor.username)
    db.session.delete(member)
    db.session.flush()
