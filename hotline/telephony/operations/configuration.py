"""The telephony set-up: IVR flows, prompts, queues and their members, and the defaults a new
installation starts with. Every write is checked here, a bad flow is never saved, each change is logged.
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


# -- the defaults: administrators change all of it in /admin; install_defaults only fills what is missing

SERVICE_NUMBER = "12345"

#: code -> (name, spoken text); Mandarin, spoken by espeak-ng until audio is uploaded.
PROMPTS: dict[str, tuple[str, str]] = {
    "welcome": ("欢迎语", "您好，欢迎致电12345政务服务便民热线。"),
    "policy_notice": ("政策提示", "温馨提示：本次通话将被录音。"),
    "main_menu": ("主菜单", "咨询投诉请按1，查询工单办理进度请按2，企业服务请按3，人工服务请按0。"),
    "consult_menu": ("咨询菜单", "住房和城建请按1，市场监管请按2，其他问题请按0转人工。"),
    "invalid_choice": ("按键无效", "您的输入有误。"),
    "enter_order": ("输入工单号", "请输入十四位工单编号，以井号键结束。"),
    "please_hold": ("请稍候", "正在为您转接人工服务，请稍候。"),
    "queue_hold": ("排队等待", "坐席正忙，请您耐心等待。"),
    "closed": ("非工作时间", "现在是非工作时间。"),
    "leave_message": ("留言提示", "请在提示音后留言，说完后挂机即可，我们会尽快回复您。"),
    "goodbye": ("结束语", "感谢您的来电，再见。"),
    "survey": ("回访调查", "您好，这里是12345热线回访。对办理结果满意请按1，基本满意请按2，不满意请按3。"),
    "survey_thanks": ("回访致谢", "感谢您的评价，再见。"),
}

#: code -> (name, strategy)
QUEUES: dict[str, tuple[str, Strategy]] = {
    "general": ("综合服务", Strategy.LONGEST_IDLE),
    "enterprise": ("企业服务", Strategy.LONGEST_IDLE),
}

FLOW: dict = {
    "start": "welcome",
    "nodes": {
        "welcome": {"type": "play", "prompts": ["welcome", "policy_notice"], "next": "main"},
        "main": {"type": "menu", "prompts": ["main_menu"],
                 "options": {"1": "consult", "2": "progress", "3": "enterprise", "0": "agent"},
                 "timeout": 6, "retries": 2, "invalid": ["invalid_choice"], "fail": "agent"},
        "consult": {"type": "menu", "prompts": ["consult_menu"],
                    "options": {"1": "agent", "2": "agent", "0": "agent"},
                    "timeout": 6, "retries": 1, "invalid": ["invalid_choice"], "fail": "agent"},
        "progress": {"type": "input", "prompts": ["enter_order"], "min_digits": 14, "max_digits": 14,
                     "timeout": 10, "retries": 2, "invalid": ["invalid_choice"], "next": "lookup", "fail": "main"},
        "lookup": {"type": "lookup", "next": "main"},
        "agent": {"type": "queue", "queue": "general", "prompts": ["please_hold"]},
        "enterprise": {"type": "queue", "queue": "enterprise", "prompts": ["please_hold"]},
    },
}


def install_defaults() -> None:
    """Add the default prompts, queues and 12345 flow where they are missing."""
    have = set(db.session.scalars(sa.select(Prompt.code)))
    for code, (name, text) in PROMPTS.items():
        if code not in have:
            db.session.add(Prompt(code=code, name=name, text=text, voice="cmn", sha256=audio.text_key(text, "cmn")))
    have = set(db.session.scalars(sa.select(CallQueue.code)))
    for code, (name, strategy) in QUEUES.items():
        if code not in have:
            db.session.add(CallQueue(code=code, name=name, strategy=strategy, hold_prompt="queue_hold"))
    if db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == SERVICE_NUMBER)) is None:
        db.session.add(IvrFlow(number=SERVICE_NUMBER, name="12345 主流程",
                               definition=json.dumps(FLOW, ensure_ascii=False, indent=2)))
    db.session.flush()
