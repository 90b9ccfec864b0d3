"""Tests for workflows.ivr: validating IVR flows and walking them as a caller would."""
from __future__ import annotations

import copy
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.telephony.operations.configuration import FLOW as DEFAULT_FLOW
from hotline.telephony.operations.configuration import PROMPTS as DEFAULT_PROMPTS
from hotline.telephony.operations.configuration import QUEUES as DEFAULT_QUEUES
from workflows import ivr
from workflows.ivr import (
    MAX_STEPS,
    MESSAGES,
    Collect,
    Enqueue,
    Hangup,
    InvalidFlow,
    Lookup,
    Play,
    Problem,
    Session,
    Voicemail,
    load,
    validate,
)

TZ = ZoneInfo("Asia/Shanghai")

FAST = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

PROMPTS = {
    "welcome", "main_menu", "consult_menu", "invalid_choice", "enter_order", "please_hold",
    "closed", "leave_message", "goodbye", "housing_hold",
}
QUEUES = {"general", "housing"}

#: A flow with a two-level menu, office hours, order lookup, queues, voicemail and a goodbye.
FLOW = {
    "name": "test flow",
    "start": "hours",
    "nodes": {
        "hours": {"type": "hours", "open": "08:00", "close": "20:00", "days": "working",
                  "then": "welcome", "otherwise": "closed"},
        "welcome": {"type": "play", "prompts": ["welcome"], "next": "main"},
        "main": {"type": "menu", "prompts": ["main_menu"],
                 "options": {"1": "consult", "2": "progress", "0": "agent", "9": "bye"},
                 "timeout": 5, "retries": 2, "invalid": ["invalid_choice"], "fail": "agent"},
        "consult": {"type": "menu", "prompts": ["consult_menu"],
                    "options": {"1": "housing", "2": "agent", "*": "main"}, "timeout": 7, "retries": 1},
        "progress": {"type": "input", "prompts": ["enter_order"], "min_digits": 14, "max_digits": 14,
                     "timeout": 10, "retries": 2, "invalid": ["invalid_choice"], "next": "lookup",
                     "fail": "main"},
        "lookup": {"type": "lookup", "next": "main"},
        "agent": {"type": "queue", "queue": "general", "prompts": ["please_hold"]},
        "housing": {"type": "queue", "queue": "housing"},
        "closed": {"type": "play", "prompts": ["closed"], "next": "vm"},
        "vm": {"type": "voicemail", "prompts": ["leave_message"], "max_seconds": 90},
        "bye": {"type": "hangup", "prompts": ["goodbye"]},
    },
}

MONDAY_10 = datetime(2026, 6, 15, 10, 0, tzinfo=TZ)
ORDER = "20260615000123"
MAIN_MENU = Play(("main_menu",), Collect(1, 1, 5, terminator=""))
CONSULT_MENU = Play(("consult_menu",), Collect(1, 1, 7, terminator=""))
ENTER_ORDER = Play(("enter_order",), Collect(14, 14, 10, terminator="#"))


def flow(**changes) -> dict:
    """A deep copy of FLOW; `changes` maps node ids to replacement nodes (None removes one)."""
    out = copy.deepcopy(FLOW)
    for node_id, node in changes.items():
        if node is None:
            del out["nodes"][node_id]
        else:
            out["nodes"][node_id] = node
    return out


def changed(node_id: str, **fields) -> dict:
    """FLOW with some fields of one node changed (a value of None removes the field)."""
    out = copy.deepcopy(FLOW)
    node = out["nodes"][node_id]
    for name, value in fields.items():
        if value is None:
            node.pop(name, None)
        else:
            node[name] = value
    return out


def renamed(old: str, new) -> dict:
    """FLOW with a node renamed and every reference to it updated."""
    text = json.dumps(FLOW).replace(f'"{old}"', json.dumps(new))
    return json.loads(text)


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def session(definition: dict = FLOW, *, now: datetime = MONDAY_10, is_working_day=weekdays,
            prompts=PROMPTS, queues=QUEUES) -> Session:
    return Session(load(definition, prompts=prompts, queues=queues), now=lambda: now,
                   is_working_day=is_working_day)


def problems_of(definition, prompts=PROMPTS, queues=QUEUES) -> list[Problem]:
    return validate(definition, prompts=prompts, queues=queues)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def test_valid_flow_has_no_problems_and_loads():
    assert problems_of(FLOW) == []
    assert problems_of(json.dumps(FLOW, ensure_ascii=False)) == []  # as stored in IvrFlow.definition
    loaded = load(FLOW, prompts=PROMPTS, queues=QUEUES)
    assert loaded.start == "hours" and set(loaded.nodes) == set(FLOW["nodes"])


def test_default_12345_flow_validates_against_its_own_prompts_and_queues():
    assert validate(DEFAULT_FLOW, prompts=set(DEFAULT_PROMPTS), queues=set(DEFAULT_QUEUES)) == []
    text = json.dumps(DEFAULT_FLOW, ensure_ascii=False, indent=2)  # what install_defaults stores
    assert validate(text, prompts=set(DEFAULT_PROMPTS), queues=set(DEFAULT_QUEUES)) == []
    # the codes really are checked: without the enterprise queue the flow is refused
    assert validate(DEFAULT_FLOW, prompts=set(DEFAULT_PROMPTS), queues={"general"}) == [
        Problem("unknown_queue", "enterprise", "enterprise")
    ]


def test_default_12345_flow_walk():
    s = session(DEFAULT_FLOW, prompts=set(DEFAULT_PROMPTS), queues=set(DEFAULT_QUEUES))
    assert s.start() == Play(("welcome", "policy_notice"))
    assert s.done() == Play(("main_menu",), Collect(1, 1, 6, terminator=""))
    assert s.digits("2") == Play(("enter_order",), Collect(14, 14, 10))
    assert s.digits(ORDER + "#") == Lookup(ORDER)
    assert s.done().prompts == ("main_menu",)
    assert s.digits("3") == Enqueue("enterprise", ("please_hold",))
    assert s.path == ["welcome", "main", "progress", "lookup", "main", "enterprise"]


def test_docstring_example_flow_validates():
    doc = ivr.__doc__
    example = json.loads(doc[doc.index("::") + 2:doc.index("`validate`")])
    prompts = {"welcome", "policy_notice", "main_menu", "consult_menu", "invalid_choice", "enter_order",
               "please_hold", "closed", "leave_message", "goodbye"}
    assert validate(example, prompts=prompts, queues={"general"}) == []


#: (expected code, the broken flow, the node the problem names). Each flow has exactly one mistake.
MISTAKES = [
    ("not_object", ["start", "nodes"], ""),
    ("bad_json", '{"start": "hours", "nodes": {', ""),
    ("no_nodes", {"start": "hours", "nodes": {}}, ""),
    ("no_start", {k: v for k, v in FLOW.items() if k != "start"}, ""),
    ("unknown_start", {**FLOW, "start": "hello"}, ""),
    ("bad_id", renamed("bye", "Bye"), "Bye"),
    ("bad_id", renamed("bye", "good bye"), "good bye"),
    ("bad_id", renamed("bye", "bye\n"), "bye\n"),
    ("bad_id", renamed("bye", "b" * 41), "b" * 41),
    ("bad_type", changed("welcome", type="speak"), "welcome"),
    ("bad_type", changed("welcome", type=["play"]), "welcome"),
    ("bad_type", flow(welcome="play"), "welcome"),
    ("missing", changed("welcome", next=None), "welcome"),
    ("missing", changed("welcome", type=None), "welcome"),
    ("missing", changed("agent", queue=None), "agent"),
    ("unexpected", changed("welcome", colour="red"), "welcome"),
    ("unexpected", changed("lookup", prompts=["welcome"]), "lookup"),
    ("unknown_target", changed("welcome", next="mian"), "welcome"),
    ("unknown_target", changed("main", options={"1": "consult", "2": "progress", "0": "agent", "9": "byebye"}),
     "main"),
    ("unknown_target", changed("progress", fail="menu"), "progress"),
    ("unknown_target", changed("hours", otherwise=["closed"]), "hours"),
    ("unknown_prompt", changed("welcome", prompts=["welcome", "wellcome"]), "welcome"),
    ("unknown_prompt", changed("main", invalid=["oops"]), "main"),
    ("unknown_prompt", changed("agent", prompts=["hold_music"]), "agent"),
    ("unknown_queue", changed("agent", queue="generel"), "agent"),
    ("bad_prompts", changed("welcome", prompts="welcome"), "welcome"),
    ("bad_prompts", changed("main", invalid=[1]), "main"),
    ("empty_prompts", changed("welcome", prompts=[]), "welcome"),
    ("empty_prompts", changed("vm", prompts=[]), "vm"),
    ("bad_options", changed("consult", options={}), "consult"),
    ("bad_options", changed("consult", options=["housing"]), "consult"),
    ("bad_key", changed("consult", options={"1": "housing", "10": "agent"}), "consult"),
    ("bad_key", changed("consult", options={"1": "housing", "a": "agent"}), "consult"),
    ("bad_number", changed("main", timeout=0), "main"),
    ("bad_number", changed("main", timeout=61), "main"),
    ("bad_number", changed("main", retries=6), "main"),
    ("bad_number", changed("main", retries=True), "main"),
    ("bad_number", changed("progress", min_digits="14"), "progress"),
    ("bad_number", changed("progress", max_digits=33), "progress"),
    ("bad_number", changed("progress", timeout=2.5), "progress"),
    ("bad_number", changed("vm", max_seconds=4), "vm"),
    ("bad_digits", changed("progress", min_digits=14, max_digits=12), "progress"),
    ("bad_digits", changed("progress", min_digits=21, max_digits=None), "progress"),  # default max is 20
    ("bad_time", changed("hours", open="8:00"), "hours"),
    ("bad_time", changed("hours", close="24:00"), "hours"),
    ("bad_time", changed("hours", open="08:00\n"), "hours"),
    ("bad_time", changed("hours", close=2000), "hours"),
    ("bad_hours", changed("hours", open="20:00", close="08:00"), "hours"),
    ("bad_hours", changed("hours", open="08:00", close="08:00"), "hours"),
    ("bad_days", changed("hours", days="weekdays"), "hours"),
    ("bad_days", changed("hours", days=["all"]), "hours"),
    ("unreachable", flow(orphan={"type": "hangup"}), "orphan"),
    ("unreachable", changed("closed", next="bye"), "vm"),
    ("silent_loop", flow(check={"type": "hours", "open": "09:00", "close": "17:00", "then": "closed",
                                "otherwise": "hours"},
                         hours={**FLOW["nodes"]["hours"], "otherwise": "check"}), None),
    ("silent_loop", flow(lookup={"type": "lookup", "next": "again"},
                         again={"type": "play", "prompts": ["welcome"], "next": "lookup"}), None),
    ("bad_value", changed("agent", queue=["general"]), "agent"),
]


@pytest.mark.parametrize("code,definition,node", MISTAKES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
def test_each_mistake_gives_exactly_its_problem(code, definition, node):
    problems = problems_of(definition)
    assert [p.code for p in problems] == [code], problems
    problem = problems[0]
    if node is not None:
        assert problem.node == node
    zh, en = problem.message("zh"), problem.message("en")
    assert zh != en and zh == problem.message(None) == problem.message("zh_Hans_CN")
    assert en == problem.message("en_GB")
    assert "{" not in zh and "{" not in en
    if problem.node:
        assert f"“{problem.node}”" in zh and f"“{problem.node}”" in en
    if problem.detail and "{detail}" in MESSAGES[code][1]:
        assert problem.detail in zh and problem.detail in en
    with pytest.raises(InvalidFlow) as info:
        load(definition, prompts=PROMPTS, queues=QUEUES)
    assert info.value.problems == problems
    assert en in str(info.value)


def test_every_problem_code_is_covered_by_a_mistake():
    assert {code for code, _, _ in MISTAKES} == set(MESSAGES)


def test_silent_loop_names_a_node_of_the_loop():
    definition = flow(lookup={"type": "lookup", "next": "again"},
                      again={"type": "play", "prompts": ["welcome"], "next": "lookup"})
    [problem] = problems_of(definition)
    assert problem.node in {"lookup", "again"}
    assert "never waits for a key" in problem.message("en") and "无限循环" in problem.message("zh")


def test_unknown_flow_field_is_named_without_an_empty_node():
    [problem] = problems_of({**FLOW, "version": 2})
    assert problem == Problem("unexpected", "", "version")
    assert problem.message("en") == "The flow has an unknown field “version”"
    assert "“”" not in problem.message("zh") and "version" in problem.message("zh")


def test_all_problems_are_reported_together():
    definition = changed("welcome", prompts=["nope"], next="nowhere")
    definition["nodes"]["agent"]["queue"] = "nobody"
    codes = sorted(p.code for p in problems_of(definition))
    assert codes == ["unknown_prompt", "unknown_queue", "unknown_target"]


def test_loops_that_wait_for_a_key_are_fine():
    # menu -> play -> menu, a menu leading to itself, a menu failing into itself,
    # input -> lookup -> menu -> input
    definition = flow(repeat={"type": "play", "prompts": ["welcome"], "next": "main"})
    definition["nodes"]["main"]["options"].update({"7": "repeat", "8": "main"})
    definition["nodes"]["consult"]["fail"] = "consult"
    assert problems_of(definition) == []


def test_optional_prompts_may_be_empty():
    definition = changed("bye", prompts=[])
    definition["nodes"]["agent"]["prompts"] = []
    definition["nodes"]["main"]["invalid"] = []
    assert problems_of(definition) == []


def test_a_long_chain_of_nodes_validates():
    nodes = {f"n{i}": {"type": "play", "prompts": ["welcome"], "next": f"n{i + 1}"} for i in range(3000)}
    nodes["n3000"] = {"type": "hangup"}
    assert problems_of({"start": "n0", "nodes": nodes}) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70) | st.sampled_from(
        ["", "08:00", "20:00", "all", "working", "main", "welcome", "general", "play", "menu", "1", "#"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["1", "2", "*", "x"]), inner,
                                                                  max_size=3),
    max_leaves=6,
)
FIELDS = ["type", "prompts", "next", "options", "timeout", "retries", "invalid", "fail", "min_digits",
          "max_digits", "open", "close", "days", "then", "otherwise", "queue", "max_seconds", "colour"]
NODE = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(sorted(ivr.NODE_TYPES))},
                          optional={f: JSON for f in FIELDS if f != "type"}),
    JSON,
)


@FAST
@given(st.fixed_dictionaries(
    {"nodes": st.dictionaries(st.sampled_from(["main", "welcome", "agent", "Bad", "x\n"]), NODE, max_size=4)},
    optional={"start": JSON, "extra": JSON},
) | JSON)
def test_validate_never_raises_on_any_json(definition):
    problems = problems_of(definition, prompts={"welcome", "main_menu"}, queues={"general"})
    for problem in problems:
        assert problem.code in MESSAGES
        assert problem.message("zh") and problem.message("en")
    if not problems:  # whatever validates also runs
        s = session(definition, prompts={"welcome", "main_menu"}, queues={"general"})
        s.start()
        for _ in range(MAX_STEPS + 2):
            s.timeout()
        assert s.ended is not None


# --------------------------------------------------------------------------
# Walking a flow
# --------------------------------------------------------------------------


def test_two_level_menu_with_digits():
    s = session()
    assert s.start() == Play(("welcome",))
    assert s.done() == MAIN_MENU
    assert s.digits("1") == CONSULT_MENU
    assert s.digits("*") == MAIN_MENU  # back
    assert s.digits("1") == CONSULT_MENU
    assert s.digits("1") == Enqueue("housing", ())
    assert s.path == ["hours", "welcome", "main", "consult", "main", "consult", "housing"]


def test_menu_choices_lead_to_their_nodes():
    assert _after_main("0") == Enqueue("general", ("please_hold",))
    assert _after_main("9") == Hangup(("goodbye",))
    assert _after_main("2") == ENTER_ORDER


def _after_main(keyed: str):
    s = session()
    s.start()
    s.done()
    return s.digits(keyed)


def test_a_key_during_a_play_moves_on():
    s = session()
    s.start()
    assert s.digits("1") == MAIN_MENU


def test_invalid_key_plays_the_invalid_prompt_then_the_menu_again():
    s = session()
    s.start()
    s.done()
    assert s.digits("5") == Play(("invalid_choice", "main_menu"), MAIN_MENU.collect)
    assert s.digits("") == Play(("invalid_choice", "main_menu"), MAIN_MENU.collect)
    assert s.digits("2") == ENTER_ORDER
    assert s.path[-2:] == ["main", "progress"]


def test_timeouts_repeat_the_menu_then_fail():
    s = session()
    s.start()
    s.done()
    assert s.timeout() == MAIN_MENU  # no invalid prompt on silence
    assert s.timeout() == MAIN_MENU
    assert s.timeout() == Enqueue("general", ("please_hold",))  # retries: 2, then fail -> agent
    assert s.path == ["hours", "welcome", "main", "agent"]


def test_invalid_keys_and_timeouts_share_the_retries():
    s = session()
    s.start()
    s.done()
    s.digits("7")
    s.timeout()
    assert s.digits("8") == Enqueue("general", ("please_hold",))


def test_retries_start_again_in_a_new_menu_visit():
    s = session()
    s.start()
    s.done()
    s.timeout()
    s.timeout()
    s.digits("1")  # consult
    assert s.digits("*") == MAIN_MENU
    assert s.timeout() == MAIN_MENU
    assert s.timeout() == MAIN_MENU


def test_menu_without_fail_hangs_up_after_its_retries():
    s = session()
    s.start()
    s.done()
    s.digits("1")
    assert s.timeout() == CONSULT_MENU  # retries: 1
    assert s.timeout() == Hangup()
    # the call is over: later events say so again and walk nowhere
    path = list(s.path)
    assert s.digits("1") == Hangup() and s.timeout() == Hangup() and s.done() == Hangup()
    assert s.path == path


def test_order_number_with_hash_is_looked_up():
    s = session()
    s.start()
    s.done()
    assert s.digits("2") == ENTER_ORDER
    assert s.digits(ORDER + "#") == Lookup(ORDER)
    assert s.done() == MAIN_MENU  # lookup spoken, back to the menu
    assert s.path == ["hours", "welcome", "main", "progress", "lookup", "main"]


def test_order_number_without_hash_is_accepted_too():
    s = session()
    s.start()
    s.done()
    s.digits("2")
    assert s.digits(ORDER) == Lookup(ORDER)


@pytest.mark.parametrize("keyed", [ORDER[:13] + "#", ORDER + "5#", "", "#", ORDER[:13] + "*#",
                                   "١٢٣٤٥٦٧٨٩٠١٢٣٤", "²" * 14])
def test_wrong_order_number_is_retried(keyed):
    s = session()
    s.start()
    s.done()
    s.digits("2")
    assert s.digits(keyed) == Play(("invalid_choice", "enter_order"), ENTER_ORDER.collect)
    assert s.digits(ORDER + "#") == Lookup(ORDER)


def test_input_fails_back_to_the_menu_after_its_retries():
    s = session()
    s.start()
    s.done()
    s.digits("2")
    assert s.digits("123#").prompts == ("invalid_choice", "enter_order")
    assert s.timeout() == ENTER_ORDER
    assert s.digits("1" * 15) == MAIN_MENU  # retries: 2, then fail -> main
    assert s.path[-2:] == ["progress", "main"]


def test_lookup_uses_the_last_number_keyed():
    s = session()
    s.start()
    s.done()
    s.digits("2")
    s.digits(ORDER + "#")
    s.done()
    s.digits("2")
    assert s.digits("1" * 14 + "#") == Lookup("1" * 14)


def test_events_after_queueing_repeat_the_queue_instruction():
    s = session()
    s.start()
    s.done()
    enqueue = s.digits("0")
    assert enqueue == Enqueue("general", ("please_hold",))
    path = list(s.path)
    assert s.done() == enqueue and s.digits("1") == enqueue and s.timeout() == enqueue
    assert s.path == path and s.ended == enqueue


def test_hangup_without_prompts_then_done():
    s = session({"start": "bye", "nodes": {"bye": {"type": "hangup"}}})
    assert s.start() == Hangup(())
    assert s.done() == Hangup(())


@pytest.mark.parametrize("hour,minute,is_open", [
    (7, 59, False), (8, 0, True), (12, 30, True), (19, 59, True), (20, 0, False), (23, 0, False), (0, 0, False),
])
def test_hours_by_time(hour, minute, is_open):
    s = session(now=MONDAY_10.replace(hour=hour, minute=minute))
    if is_open:
        assert s.start() == Play(("welcome",))
        assert s.path == ["hours", "welcome"]
    else:
        assert s.start() == Play(("closed",))
        assert s.done() == Voicemail(("leave_message",), 90)
        assert s.path == ["hours", "closed", "vm"]


class FakeCalendar:
    """A working-day calendar answering from a set of days off and make-up working days."""

    def __init__(self, off=(), working=()):
        self.off, self.working, self.asked = set(off), set(working), []

    def __call__(self, day: date) -> bool:
        self.asked.append(day)
        return day in self.working or (day.weekday() < 5 and day not in self.off)


def test_hours_on_working_days_follow_the_calendar():
    national_day = date(2025, 10, 1)  # a Wednesday off
    make_up_sunday = date(2025, 9, 28)  # a Sunday worked
    calendar = FakeCalendar(off={national_day}, working={make_up_sunday})

    def first(day: date) -> Play:
        when = datetime.combine(day, MONDAY_10.timetz())
        return session(now=when, is_working_day=calendar).start()

    assert first(date(2025, 9, 29)) == Play(("welcome",))  # Monday
    assert first(national_day) == Play(("closed",))
    assert first(make_up_sunday) == Play(("welcome",))
    assert first(date(2025, 9, 27)) == Play(("closed",))  # ordinary Saturday
    assert calendar.asked == [date(2025, 9, 29), national_day, make_up_sunday, date(2025, 9, 27)]


def test_hours_on_all_days_do_not_ask_the_calendar():
    calendar = FakeCalendar()
    definition = changed("hours", days="all")
    saturday = datetime(2025, 9, 27, 10, 0, tzinfo=TZ)
    assert session(definition, now=saturday, is_working_day=calendar).start() == Play(("welcome",))
    assert session(changed("hours", days=None), now=saturday, is_working_day=calendar).start() == Play(("welcome",))
    assert calendar.asked == []


def test_hours_nodes_in_a_row():
    definition = flow(lunch={"type": "hours", "open": "12:00", "close": "13:30", "then": "closed",
                             "otherwise": "welcome"})
    definition["nodes"]["hours"]["then"] = "lunch"
    s = session(definition, now=MONDAY_10.replace(hour=12, minute=45))
    assert s.start() == Play(("closed",))
    assert s.path == ["hours", "lunch", "closed"]
    assert session(definition).start() == Play(("welcome",))


def test_defaults_apply_to_optional_fields():
    definition = {"start": "ask", "nodes": {
        "ask": {"type": "input", "prompts": ["enter_order"], "next": "lookup"},
        "lookup": {"type": "lookup", "next": "vm"},
        "vm": {"type": "voicemail", "prompts": ["leave_message"]},
    }}
    s = session(definition)
    assert s.start() == Play(("enter_order",), Collect(1, 20, 5, "#"))
    assert s.timeout() == s.timeout() == Play(("enter_order",), Collect(1, 20, 5, "#"))
    assert s.timeout() == Hangup()  # retries default to 2; no fail
    s = session(definition)
    s.start()
    assert s.digits("42#") == Lookup("42")
    assert s.done() == Voicemail(("leave_message",), 120)


def test_max_steps_stops_a_caller_going_round_a_menu_loop():
    definition = {"start": "menu", "nodes": {
        "menu": {"type": "menu", "prompts": ["main_menu"], "options": {"1": "again", "0": "agent"}},
        "again": {"type": "play", "prompts": ["welcome"], "next": "menu"},
        "agent": {"type": "queue", "queue": "general"},
    }}
    s = session(definition)
    s.start()
    results = []
    for _ in range(MAX_STEPS):
        results += [s.digits("1"), s.done()]
    first = results.index(Hangup())
    assert first > MAX_STEPS - 10
    assert all(isinstance(r, Play) for r in results[:first]) and set(results[first:]) == {Hangup()}
    assert len(s.path) == MAX_STEPS
    assert s.digits("0") == Hangup()  # over, even with a key that would queue


def test_max_steps_stops_a_menu_failing_into_itself():
    definition = {"start": "menu", "nodes": {
        "menu": {"type": "menu", "prompts": ["main_menu"], "options": {"1": "bye"}, "retries": 0, "fail": "menu"},
        "bye": {"type": "hangup"},
    }}
    s = session(definition)
    s.start()
    results = [s.timeout() for _ in range(MAX_STEPS + 1)]
    assert results[-1] == Hangup() and s.ended == Hangup()
    assert all(isinstance(r, Play) for r in results[:MAX_STEPS - 1])


# --------------------------------------------------------------------------
# Properties: any valid flow, any caller
# --------------------------------------------------------------------------

KEYS = "0123456789*#"
SILENT = ("play", "lookup", "hours")
ASKING = ("menu", "input")
TERMINALS = ("queue", "voicemail", "hangup")


@st.composite
def valid_flows(draw) -> dict:
    """Flows valid by construction: nodes that do not wait only lead forward, so every loop
    passes a menu or an input; the last nodes end the call; unreachable nodes are dropped."""
    inner = draw(st.integers(1, 8))
    ends = draw(st.integers(1, 3))
    ids = [f"n{i}" for i in range(inner + ends)]
    prompt = st.lists(st.sampled_from(sorted(PROMPTS)), min_size=1, max_size=2)
    nodes: dict[str, dict] = {}
    for i, node_id in enumerate(ids):
        later = st.sampled_from(ids[i + 1:]) if i + 1 < len(ids) else None
        anywhere = st.sampled_from(ids)
        if i >= inner:
            kind = draw(st.sampled_from(TERMINALS))
            node = {"queue": {"type": "queue", "queue": draw(st.sampled_from(sorted(QUEUES)))},
                    "voicemail": {"type": "voicemail", "prompts": draw(prompt)},
                    "hangup": {"type": "hangup"}}[kind]
        else:
            kind = draw(st.sampled_from(SILENT + ASKING))
            if kind == "play":
                node = {"type": "play", "prompts": draw(prompt), "next": draw(later)}
            elif kind == "lookup":
                node = {"type": "lookup", "next": draw(later)}
            elif kind == "hours":
                opens, closes = sorted(draw(st.lists(st.integers(0, 23 * 60 + 59), min_size=2, max_size=2,
                                                     unique=True)))
                node = {"type": "hours", "open": f"{opens // 60:02}:{opens % 60:02}",
                        "close": f"{closes // 60:02}:{closes % 60:02}",
                        "days": draw(st.sampled_from(["all", "working"])),
                        "then": draw(later), "otherwise": draw(later)}
            elif kind == "menu":
                node = {"type": "menu", "prompts": draw(prompt),
                        "options": draw(st.dictionaries(st.sampled_from(KEYS), anywhere, min_size=1, max_size=4))}
            else:
                low = draw(st.integers(1, 16))
                node = {"type": "input", "prompts": draw(prompt), "next": draw(anywhere),
                        "min_digits": low, "max_digits": draw(st.integers(low, 16))}
            if kind in ASKING:
                node["retries"] = draw(st.integers(0, 5))
                if draw(st.booleans()):
                    node["fail"] = draw(anywhere)
                if draw(st.booleans()):
                    node["invalid"] = draw(prompt)
        nodes[node_id] = node
    seen, stack = set(), ["n0"]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(ivr.successors(nodes[current]))
    return {"start": "n0", "nodes": {k: v for k, v in nodes.items() if k in seen}}


EVENT = st.one_of(st.just("done"), st.just("timeout"), st.text(alphabet=KEYS, max_size=18))
NOW = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(TZ))


def _send(s: Session, event: str):
    if event == "done":
        return s.done()
    if event == "timeout":
        return s.timeout()
    return s.digits(event)


def _consistent(s: Session, instruction, nodes: dict) -> None:
    """The instruction fits the node the caller is at; a finished call stays finished."""
    assert set(s.path) <= set(nodes) and len(s.path) <= MAX_STEPS
    if s.ended is not None:
        assert instruction == s.ended and isinstance(instruction, (Enqueue, Voicemail, Hangup))
        return
    kind = nodes[s.node_id]["type"]
    if kind in ASKING:
        assert isinstance(instruction, Play) and instruction.collect is not None  # keeps asking
    elif kind == "play":
        assert instruction == Play(tuple(nodes[s.node_id]["prompts"]))
    else:
        assert kind == "lookup" and isinstance(instruction, Lookup)


@FAST
@given(valid_flows(), st.lists(EVENT, max_size=60), NOW, st.booleans())
def test_any_caller_on_any_valid_flow(definition, events, now, working):
    assert problems_of(definition) == []
    s = session(definition, now=now, is_working_day=lambda day: working)
    instruction = s.start()
    _consistent(s, instruction, definition["nodes"])
    for event in events:
        instruction = _send(s, event)
        _consistent(s, instruction, definition["nodes"])
    # a caller who stops pressing keys always reaches the end
    for _ in range(MAX_STEPS + 1):
        instruction = s.timeout()
    assert s.ended is not None and instruction == s.ended


@FAST
@given(valid_flows(), st.lists(EVENT, max_size=30))
def test_path_follows_the_flow(definition, events):
    s = session(definition, is_working_day=lambda day: True)
    s.start()
    for event in events:
        _send(s, event)
    nodes = definition["nodes"]
    assert s.path[0] == definition["start"]
    for here, there in zip(s.path, s.path[1:]):
        assert there in ivr.successors(nodes[here])
