"""IVR flows as data: validation and a step-by-step interpreter.

A flow is a JSON object an administrator edits::

    {"start": "hours",
     "nodes": {
       "hours":   {"type": "hours", "open": "08:00", "close": "20:00", "days": "all",
                   "then": "welcome", "otherwise": "closed"},
       "welcome": {"type": "play", "prompts": ["welcome", "policy_notice"], "next": "main"},
       "main":    {"type": "menu", "prompts": ["main_menu"], "options": {"1": "consult", "2": "progress",
                   "0": "agent"}, "timeout": 5, "retries": 2, "invalid": ["invalid_choice"], "fail": "agent"},
       "consult": {"type": "menu", "prompts": ["consult_menu"], "options": {"0": "agent", "*": "main"},
                   "retries": 1, "fail": "bye"},
       "progress": {"type": "input", "prompts": ["enter_order"], "min_digits": 14, "max_digits": 14,
                    "timeout": 10, "retries": 2, "next": "lookup", "fail": "main"},
       "lookup":  {"type": "lookup", "next": "main"},
       "agent":   {"type": "queue", "queue": "general", "prompts": ["please_hold"]},
       "closed":  {"type": "play", "prompts": ["closed"], "next": "vm"},
       "vm":      {"type": "voicemail", "prompts": ["leave_message"], "max_seconds": 120},
       "bye":     {"type": "hangup", "prompts": ["goodbye"]}}}

`validate` and `load` take the object or its JSON text (as stored in IvrFlow.definition).
`validate` refuses a bad flow with every problem found (the flow is then never loaded);
`Session` walks a valid flow, returning one instruction at a time for the worker to carry
out (play and collect digits, look up an order, queue, voicemail, hang up).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Callable

# \Z, not $: "$" also matches before a final newline, which "main\n" or "08:00\n" would pass.
NODE_ID = re.compile(r"[a-z0-9_]{1,40}\Z")
DIGITS = set("0123456789*#")
DECIMAL = set("0123456789")
TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]\Z")

#: Node types, and for each: required fields, optional fields, fields naming other nodes.
NODE_TYPES: dict[str, tuple[frozenset[str], frozenset[str], tuple[str, ...]]] = {
    "play": (frozenset({"prompts", "next"}), frozenset(), ("next",)),
    "menu": (frozenset({"prompts", "options"}), frozenset({"timeout", "retries", "invalid", "fail"}), ("fail",)),
    "input": (frozenset({"prompts", "next"}),
              frozenset({"min_digits", "max_digits", "timeout", "retries", "invalid", "fail"}), ("next", "fail")),
    "lookup": (frozenset({"next"}), frozenset(), ("next",)),
    "hours": (frozenset({"open", "close", "then", "otherwise"}), frozenset({"days"}), ("then", "otherwise")),
    "queue": (frozenset({"queue"}), frozenset({"prompts"}), ()),
    "voicemail": (frozenset({"prompts"}), frozenset({"max_seconds"}), ()),
    "hangup": (frozenset(), frozenset({"prompts"}), ()),
}
#: Nodes that wait for the caller: a loop must pass through one of them.
WAITING = frozenset({"menu", "input"})
#: Nodes that end the IVR part of the call.
TERMINAL = frozenset({"queue", "voicemail", "hangup"})

BOUNDS = {"timeout": (1, 60), "retries": (0, 5), "min_digits": (1, 32), "max_digits": (1, 32),
          "max_seconds": (5, 600)}
DEFAULTS = {"timeout": 5, "retries": 2, "min_digits": 1, "max_digits": 20, "max_seconds": 120}

#: Safety net at run time: a caller never walks more steps than this (validation already
#: refuses loops that do not wait for the caller).
MAX_STEPS = 200

MESSAGES = {
    "not_object": ("流程必须是 JSON 对象", "The flow must be a JSON object"),
    "bad_json": ("不是有效的 JSON：{detail}", "Not valid JSON: {detail}"),
    "no_nodes": ("流程没有任何节点（nodes）", "The flow has no nodes"),
    "no_start": ("缺少起始节点（start）", "The flow has no start node"),
    "bad_id": ("节点名“{node}”无效：只能用小写字母、数字和下划线", "Node name “{node}” is invalid: use a-z, 0-9 and _"),
    "unknown_start": ("起始节点“{detail}”不存在", "The start node “{detail}” does not exist"),
    "bad_type": ("节点“{node}”的类型“{detail}”无效", "Node “{node}” has an unknown type “{detail}”"),
    "missing": ("节点“{node}”缺少字段“{detail}”", "Node “{node}” lacks the field “{detail}”"),
    "unexpected": ("节点“{node}”有无法识别的字段“{detail}”", "Node “{node}” has an unknown field “{detail}”"),
    "unknown_target": ("节点“{node}”指向不存在的节点“{detail}”", "Node “{node}” leads to a missing node “{detail}”"),
    "unknown_prompt": ("节点“{node}”使用了不存在的提示音“{detail}”", "Node “{node}” uses a missing prompt “{detail}”"),
    "unknown_queue": ("节点“{node}”使用了不存在的队列“{detail}”", "Node “{node}” uses a missing queue “{detail}”"),
    "bad_prompts": ("节点“{node}”的提示音（prompts）必须是提示音代码列表", "Node “{node}”: prompts must be a list of prompt codes"),
    "empty_prompts": ("节点“{node}”至少需要一段提示音", "Node “{node}” needs at least one prompt"),
    "bad_options": ("节点“{node}”的按键选项必须是“按键: 节点”且至少一项", "Node “{node}”: options must map keys to nodes, at least one"),
    "bad_key": ("节点“{node}”的按键“{detail}”无效：只能是 0-9、* 或 #", "Node “{node}”: key “{detail}” must be 0-9, * or #"),
    "bad_number": ("节点“{node}”的“{detail}”必须是整数，范围见说明", "Node “{node}”: “{detail}” must be a whole number within its range"),
    "bad_digits": ("节点“{node}”的最少位数大于最多位数", "Node “{node}”: min_digits is larger than max_digits"),
    "bad_time": ("节点“{node}”的时间“{detail}”必须是 HH:MM", "Node “{node}”: time “{detail}” must be HH:MM"),
    "bad_hours": ("节点“{node}”的开始时间必须早于结束时间", "Node “{node}”: opening must be before closing"),
    "bad_days": ("节点“{node}”的 days 只能是 all 或 working", "Node “{node}”: days must be “all” or “working”"),
    "unreachable": ("节点“{node}”从起始节点无法到达", "Node “{node}” cannot be reached from the start"),
    "silent_loop": ("节点“{node}”处有不等待按键的循环，来电会无限循环", "Node “{node}” is in a loop that never waits for a key"),
    "bad_value": ("节点“{node}”的“{detail}”格式不对", "Node “{node}”: “{detail}” has the wrong form"),
}
#: Wording for problems of the flow itself rather than of a node (Problem.node is empty).
FLOW_MESSAGES = {
    "unexpected": ("流程有无法识别的字段“{detail}”", "The flow has an unknown field “{detail}”"),
}


@dataclass(frozen=True)
class Problem:
    code: str
    node: str = ""
    detail: str = ""

    def message(self, locale: str | None = "zh") -> str:
        zh, en = (FLOW_MESSAGES.get(self.code) if not self.node else None) or MESSAGES[self.code]
        template = en if locale and str(locale).startswith("en") else zh
        return template.format(node=self.node, detail=self.detail)


class InvalidFlow(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message("en") for p in problems))
        self.problems = problems


def validate(flow: Any, *, prompts: set[str], queues: set[str]) -> list[Problem]:
    """Every problem of a flow definition (object or JSON text); empty when it can be loaded."""
    flow, problems = _parse(flow)
    if problems:
        return problems
    if not isinstance(flow, dict):
        return [Problem("not_object")]
    nodes = flow.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        return [Problem("no_nodes")]
    problems: list[Problem] = []
    start = flow.get("start")
    if not isinstance(start, str) or not start:
        problems.append(Problem("no_start"))
    elif start not in nodes:
        problems.append(Problem("unknown_start", detail=start))
    for extra in sorted(set(flow) - {"start", "nodes", "name", "description"}):
        problems.append(Problem("unexpected", "", str(extra)))
    for node_id, node in nodes.items():
        if not isinstance(node_id, str) or not NODE_ID.match(node_id):
            problems.append(Problem("bad_id", str(node_id)))
            continue
        problems.extend(_check_node(node_id, node, nodes, prompts, queues))
    if not problems:
        problems.extend(_check_graph(start, nodes))
    return problems


def load(flow: Any, *, prompts: set[str], queues: set[str]) -> "Flow":
    """A `Flow` ready to run, or `InvalidFlow` listing every problem."""
    flow, problems = _parse(flow)
    problems = problems or validate(flow, prompts=prompts, queues=queues)
    if problems:
        raise InvalidFlow(problems)
    return Flow(start=flow["start"], nodes=flow["nodes"])


def _parse(flow: Any) -> tuple[Any, list[Problem]]:
    if isinstance(flow, (str, bytes, bytearray)):
        try:
            return json.loads(flow), []
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            return None, [Problem("bad_json", detail=str(exc))]
    return flow, []


def _check_node(node_id: str, node: Any, nodes: dict, prompts: set[str], queues: set[str]) -> list[Problem]:
    if isinstance(node, dict) and "type" not in node:
        return [Problem("missing", node_id, "type")]
    if not isinstance(node, dict) or not isinstance(node["type"], str) or node["type"] not in NODE_TYPES:
        kind = node["type"] if isinstance(node, dict) else type(node).__name__
        return [Problem("bad_type", node_id, str(kind))]
    kind = node["type"]
    required, optional, targets = NODE_TYPES[kind]
    out = [Problem("missing", node_id, f) for f in sorted(required - set(node))]
    out += [Problem("unexpected", node_id, f) for f in sorted(set(node) - required - optional - {"type"})]
    if out:
        return out
    for name in targets:
        if name in node and not (isinstance(node[name], str) and node[name] in nodes):
            out.append(Problem("unknown_target", node_id, str(node[name])))
    for name in ("prompts", "invalid"):
        if name in node:
            # prompts may be an empty list only where they are optional (queue, hangup)
            out += _check_prompts(node_id, node[name], prompts, required=(name in required))
    for name, (low, high) in BOUNDS.items():
        value = node.get(name)
        if name in node and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
            out.append(Problem("bad_number", node_id, name))
    if kind == "menu":
        out += _check_options(node_id, node["options"], nodes)
    elif kind == "input" and not out and node.get("min_digits", 1) > node.get("max_digits", DEFAULTS["max_digits"]):
        out.append(Problem("bad_digits", node_id))
    elif kind == "hours":
        out += _check_hours(node_id, node)
    elif kind == "queue" and not isinstance(node["queue"], str):
        out.append(Problem("bad_value", node_id, "queue"))
    elif kind == "queue" and node["queue"] not in queues:
        out.append(Problem("unknown_queue", node_id, node["queue"]))
    return out


def _check_prompts(node_id: str, value: Any, prompts: set[str], *, required: bool) -> list[Problem]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        return [Problem("bad_prompts", node_id)]
    if required and not value:
        return [Problem("empty_prompts", node_id)]
    return [Problem("unknown_prompt", node_id, p) for p in value if p not in prompts]


def _check_options(node_id: str, options: Any, nodes: dict) -> list[Problem]:
    if not isinstance(options, dict) or not options:
        return [Problem("bad_options", node_id)]
    out = []
    for key, target in options.items():
        if not (isinstance(key, str) and len(key) == 1 and key in DIGITS):
            out.append(Problem("bad_key", node_id, str(key)))
        if not (isinstance(target, str) and target in nodes):
            out.append(Problem("unknown_target", node_id, str(target)))
    return out


def _check_hours(node_id: str, node: dict) -> list[Problem]:
    out = [Problem("bad_time", node_id, str(node[f])) for f in ("open", "close")
           if not (isinstance(node[f], str) and TIME.match(node[f]))]
    if not out and node["open"] >= node["close"]:
        out.append(Problem("bad_hours", node_id))
    if node.get("days", "all") not in ("all", "working"):
        out.append(Problem("bad_days", node_id))
    return out


def successors(node: dict) -> list[str]:
    """The nodes a node can lead to."""
    _, _, targets = NODE_TYPES[node["type"]]
    out = [node[t] for t in targets if t in node]
    if node["type"] == "menu":
        out += list(node["options"].values())
    return out


def _check_graph(start: str, nodes: dict) -> list[Problem]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(successors(nodes[current]))
    out = [Problem("unreachable", n) for n in nodes if n not in seen]
    # a cycle among nodes that never wait for a key would spin forever
    # (depth-first search with an explicit stack: a long chain of nodes must not hit the
    # recursion limit)
    silent = {n for n, node in nodes.items() if node["type"] not in WAITING}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(silent):
        if root in state:
            continue
        state[root] = 1
        path = [(root, iter(successors(nodes[root])))]
        while path:
            current, pending = path[-1]
            nxt = next((n for n in pending if n in silent and state.get(n) != 2), None)
            if nxt is None:
                state[current] = 2
                path.pop()
            elif state.get(nxt) == 1:
                out.append(Problem("silent_loop", nxt))
                return out
            else:
                state[nxt] = 1
                path.append((nxt, iter(successors(nodes[nxt]))))
    return out


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Collect:
    """Digits to collect while (and after) the prompts play."""

    min_digits: int
    max_digits: int
    timeout: int
    terminator: str = "#"


@dataclass(frozen=True)
class Play:
    prompts: tuple[str, ...]
    collect: Collect | None = None


@dataclass(frozen=True)
class Lookup:
    """Tell the caller the progress of the order whose number they keyed."""

    number: str


@dataclass(frozen=True)
class Enqueue:
    queue: str
    prompts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Voicemail:
    prompts: tuple[str, ...]
    max_seconds: int


@dataclass(frozen=True)
class Hangup:
    prompts: tuple[str, ...] = ()


Instruction = Play | Lookup | Enqueue | Voicemail | Hangup


@dataclass(frozen=True)
class Flow:
    start: str
    nodes: dict[str, dict]


@dataclass
class Session:
    """One caller's walk through a flow.

    `is_working_day(date)` answers from the working-day calendar; `now()` is local time.
    Call `start()`, then after each instruction report what happened: `digits(...)`,
    `timeout()` (no or too few digits) or `done()` (prompts finished, lookup spoken).
    """

    flow: Flow
    now: Callable[[], datetime]
    is_working_day: Callable[[date], bool]
    path: list[str] = field(default_factory=list)
    node_id: str = ""
    attempts: int = 0
    digits_keyed: str = ""
    steps: int = 0
    #: The terminal instruction (Enqueue, Voicemail or Hangup) once the IVR part is over;
    #: every later event returns it again.
    ended: Instruction | None = None

    def start(self) -> Instruction:
        return self._enter(self.flow.start)

    def done(self) -> Instruction:
        if self.ended is not None:
            return self.ended
        node = self._node
        if node["type"] in ("play", "lookup"):
            return self._enter(node["next"])
        return self._ask()

    def digits(self, keyed: str) -> Instruction:
        if self.ended is not None:
            return self.ended
        node = self._node
        if node["type"] == "menu":
            target = node["options"].get(keyed[:1])
            return self._enter(target) if target else self._retry(invalid=True)
        if node["type"] == "input":
            value = keyed.rstrip("#")
            low, high = node.get("min_digits", DEFAULTS["min_digits"]), node.get("max_digits", DEFAULTS["max_digits"])
            # str.isdigit() would also take "١٢٣" or "²"; only keypad digits are an order number
            if low <= len(value) <= high and set(value) <= DECIMAL:
                self.digits_keyed = value
                return self._enter(node["next"])
            return self._retry(invalid=True)
        return self.done()

    def timeout(self) -> Instruction:
        if self.ended is not None:
            return self.ended
        if self._node["type"] in WAITING:
            return self._retry(invalid=False)
        return self.done()

    @property
    def _node(self) -> dict:
        return self.flow.nodes[self.node_id]

    def _end(self, instruction: Instruction) -> Instruction:
        self.ended = instruction
        return instruction

    def _enter(self, node_id: str) -> Instruction:
        self.steps += 1
        if self.steps > MAX_STEPS:
            return self._end(Hangup())
        self.node_id, self.attempts = node_id, 0
        self.path.append(node_id)
        node = self._node
        kind = node["type"]
        if kind == "hours":
            return self._enter(node["then"] if self._open(node) else node["otherwise"])
        if kind == "play":
            return Play(tuple(node["prompts"]))
        if kind == "lookup":
            return Lookup(self.digits_keyed)
        if kind == "queue":
            return self._end(Enqueue(node["queue"], tuple(node.get("prompts", ()))))
        if kind == "voicemail":
            return self._end(Voicemail(tuple(node["prompts"]), node.get("max_seconds", DEFAULTS["max_seconds"])))
        if kind == "hangup":
            return self._end(Hangup(tuple(node.get("prompts", ()))))
        return self._ask()

    def _ask(self, prefix: tuple[str, ...] = ()) -> Play:
        node = self._node
        if node["type"] == "menu":
            collect = Collect(1, 1, node.get("timeout", DEFAULTS["timeout"]), terminator="")
        else:
            collect = Collect(node.get("min_digits", DEFAULTS["min_digits"]),
                              node.get("max_digits", DEFAULTS["max_digits"]),
                              node.get("timeout", DEFAULTS["timeout"]))
        return Play(prefix + tuple(node["prompts"]), collect)

    def _retry(self, *, invalid: bool) -> Instruction:
        node = self._node
        self.attempts += 1
        if self.attempts > node.get("retries", DEFAULTS["retries"]):
            return self._enter(node["fail"]) if "fail" in node else self._end(Hangup())
        self.steps += 1
        if self.steps > MAX_STEPS:
            return self._end(Hangup())
        return self._ask(tuple(node.get("invalid", ())) if invalid else ())

    def _open(self, node: dict) -> bool:
        now = self.now()
        if node.get("days", "all") == "working" and not self.is_working_day(now.date()):
            return False
        opens, closes = (time.fromisoformat(node[f]) for f in ("open", "close"))
        return opens <= now.time().replace(tzinfo=None) < closes
