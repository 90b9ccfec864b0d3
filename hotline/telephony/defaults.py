"""The telephony set-up a new installation starts with: prompts, queues and the 12345 flow.

Administrators change all of it in /admin; `install_defaults` only fills what is missing.
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from hotline.extensions import db
from hotline.telephony.models import CallQueue, IvrFlow, Prompt
from integrations.telephony.prompts import text_key
from workflows.acd import Strategy

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
            db.session.add(Prompt(code=code, name=name, text=text, voice="cmn", sha256=text_key(text, "cmn")))
    have = set(db.session.scalars(sa.select(CallQueue.code)))
    for code, (name, strategy) in QUEUES.items():
        if code not in have:
            db.session.add(CallQueue(code=code, name=name, strategy=strategy, hold_prompt="queue_hold"))
    if db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == SERVICE_NUMBER)) is None:
        db.session.add(IvrFlow(number=SERVICE_NUMBER, name="12345 主流程",
                               definition=json.dumps(FLOW, ensure_ascii=False, indent=2)))
    db.session.flush()
