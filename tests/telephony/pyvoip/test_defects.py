"""Regression tests of the pyVoIP 1.6.8 defects recorded in shared/design/TELEPHONY.md.

Each test plays a SIPp scenario against the phone under test (a subprocess) twice, at
the same time: with every fix of integrations/telephony/sip/fixes.py, where the call
must go right, and with that test's own fix left out, where the defect must show.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.telephony.pyvoip.harness import Exchange, exchange
from tests.telephony.sipp import RtpPacket, SipMessage, rms, scenario, tone_share

pytestmark = pytest.mark.telephony

TONE_RMS = 8000 / math.sqrt(2)  # the phone under test plays a 1 kHz sine of amplitude 8000
INBOUND = {"phone": "{phone}", "rtp_port": "{rtp_port}", "codecs": "0 8 101"}

Run = Callable[[tuple[str, ...], Path], Exchange]


def with_and_without(fix: str, run: Run, directory: Path) -> tuple[Exchange, Exchange]:
    """``run`` with every fix and without ``fix``, side by side."""
    with ThreadPoolExecutor(2) as pool:
        fixed = pool.submit(run, (), directory / "fixed")
        broken = pool.submit(run, (fix,), directory / f"without-{fix}")
        return fixed.result(), broken.result()


def uri(name_addr: str) -> str:
    return name_addr[name_addr.index("<") + 1:name_addr.index(">")] if "<" in name_addr else name_addr


def tag(name_addr: str) -> str:
    return name_addr.split(";tag=")[1].split(";")[0] if ";tag=" in name_addr else ""


def only(messages: list[SipMessage], what: str, run: Exchange) -> SipMessage:
    assert len(messages) == 1, f"expected one {what}\n{run.describe()}"
    return messages[0]


def sending_runs(packets: list[RtpPacket], gap: float = 0.4) -> list[list[RtpPacket]]:
    """Packets split where nothing arrived for more than ``gap`` seconds."""
    runs: list[list[RtpPacket]] = []
    for packet in packets:
        if runs and packet.arrived - runs[-1][-1].arrived <= gap:
            runs[-1].append(packet)
        else:
            runs.append([packet])
    return runs


def rate(run: list[RtpPacket]) -> float:
    return (len(run) - 1) / (run[-1].arrived - run[0].arrived)


# ------------------------------------------------------------------------------ 1
def test_pcma_negotiated_is_sent_as_alaw(tmp_path: Path) -> None:
    def run(without: tuple[str, ...], directory: Path) -> Exchange:
        return exchange(directory, scenario("inbound_call.xml", headers=""), ["answer"], without=without,
                        variables={**INBOUND, "codecs": "8 101"}, timeout=8)

    fixed, broken = with_and_without("pcma_encoding", run, tmp_path)

    assert fixed.sipp.returncode == 0, fixed.describe()
    assert fixed.phone.one("answered")["codec"] == "PCMA", fixed.describe()
    sink = fixed.sinks[0]
    assert len(sink.packets) > 80 and {p.payload_type for p in sink.packets} == {8}, fixed.describe()
    heard = sink.audio(decode_as=8)
    assert tone_share(heard, 1000) > 0.99 and abs(rms(heard) - TONE_RMS) < 0.05 * TONE_RMS, (
        f"A-law decoding of the phone's packets is not its 1 kHz tone (rms {rms(heard):.0f})")

    sink = broken.sinks[0]
    assert len(sink.packets) > 80 and {p.payload_type for p in sink.packets} == {8}, broken.describe()
    as_alaw, as_ulaw = sink.audio(decode_as=8), sink.audio(decode_as=0)
    assert abs(rms(as_alaw) - TONE_RMS) > 0.5 * TONE_RMS, "without the fix the PCMA packets were A-law"
    assert tone_share(as_ulaw, 1000) > 0.99 and abs(rms(as_ulaw) - TONE_RMS) < 0.05 * TONE_RMS, (
        "without the fix the PCMA packets should carry µ-law")


# ------------------------------------------------------------------------------ 2, 3
@pytest.fixture(scope="module")
def outbound_calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Exchange]:
    """The phone calls 8001; SIPp answers (Contact and Record-Route of its own); the
    phone hangs up after a second.  Run with every fix, without the ACK fix, without
    the BYE fix."""
    directory = tmp_path_factory.mktemp("outbound")

    def run(without: tuple[str, ...]) -> Exchange:
        return exchange(directory / ("-".join(without) or "fixed"), "outbound_answer.xml",
                        ["--hangup-after", "1", "dial", "8001", "--caller-id", "12345"], without=without,
                        variables={"rtp_port": "{rtp_port}"}, calls=2, timeout=8)

    with ThreadPoolExecutor(3) as pool:
        runs = {name: pool.submit(run, without) for name, without in
                (("fixed", ()), ("ack_for_2xx", ("ack_for_2xx",)), ("bye_new_branch", ("bye_new_branch",)))}
        return {name: future.result() for name, future in runs.items()}


def _dialogue(run: Exchange) -> tuple[SipMessage, SipMessage, SipMessage, SipMessage]:
    """The phone's INVITE, SIPp's 200 OK, the phone's ACK and BYE."""
    result = run.sipp
    return (only(result.find("received", method="INVITE"), "INVITE", run),
            only(result.find("sent", method="INVITE", status=200), "200 OK to the INVITE", run),
            only(result.find("received", method="ACK"), "ACK", run),
            only(result.find("received", method="BYE"), "BYE", run))


def test_outgoing_call_offers_pcmu_pcma_and_telephone_event(outbound_calls: dict[str, Exchange]) -> None:
    run = outbound_calls["fixed"]
    invite = _dialogue(run)[0]
    assert "m=audio" in invite.body and invite.body.split("m=audio ")[1].split("\n")[0].split()[2:] == \
        ["0", "8", "101"], invite.text
    for line in ("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"):
        assert line in invite.body, invite.text
    assert invite.header("P-Asserted-Identity") == "<sip:12345@127.0.0.1>"
    assert run.sinks[0].packets and {p.payload_type for p in run.sinks[0].packets} == {0}


def test_ack_of_200_ok_belongs_to_the_dialog(outbound_calls: dict[str, Exchange]) -> None:
    run = outbound_calls["fixed"]
    assert run.sipp.returncode == 0, run.describe()
    invite, ok, ack, _ = _dialogue(run)
    assert ack.request_uri == uri(ok.header("Contact")), "the ACK goes to the remote target (Contact)"
    assert tag(ack.header("To")) == tag(ok.header("To")) != "", "the ACK carries the 200's To-tag"
    assert ack.header("CSeq") == f"{invite.header('CSeq').split()[0]} ACK"
    assert ack.branch.startswith("z9hG4bK") and ack.branch != invite.branch, "the ACK of a 2xx is a new transaction"
    assert ack.headers("Route") == [ok.header("Record-Route")], "the ACK follows the route set"
    assert run.phone.one("ended")["reason"] == "local_hangup"

    broken = outbound_calls["ack_for_2xx"]
    invite, ok, ack, _ = _dialogue(broken)
    assert ack.request_uri != uri(ok.header("Contact")) and ack.request_uri == uri(invite.header("To"))
    assert tag(ack.header("To")) != tag(ok.header("To")), "pyVoIP's ACK invents a To-tag"
    assert ack.branch == invite.branch and not ack.headers("Route"), broken.describe()


def test_bye_is_a_new_transaction_of_the_dialog(outbound_calls: dict[str, Exchange]) -> None:
    run = outbound_calls["fixed"]
    invite, ok, ack, bye = _dialogue(run)
    assert bye.branch.startswith("z9hG4bK") and bye.branch not in (invite.branch, ack.branch)
    assert bye.request_uri == uri(ok.header("Contact"))
    assert bye.headers("Route") == [ok.header("Record-Route")]
    assert int(bye.header("CSeq").split()[0]) > int(invite.header("CSeq").split()[0])
    assert tag(bye.header("From")) == tag(invite.header("From")) and tag(bye.header("To")) == tag(ok.header("To"))

    broken = outbound_calls["bye_new_branch"]
    invite, _, _, bye = _dialogue(broken)
    assert bye.branch == invite.branch, f"without the fix the BYE reuses the INVITE's branch\n{broken.describe()}"


# ------------------------------------------------------------------------------ 4
def test_cancelled_call_is_not_answered(tmp_path: Path) -> None:
    def run(without: tuple[str, ...], directory: Path) -> Exchange:
        return exchange(directory, "inbound_cancel.xml", ["--max-seconds", "2.2", "answer", "--answer-delay", "1"],
                        without=without, variables={"phone": "{phone}", "rtp_port": "{rtp_port}"}, timeout=5)

    fixed, broken = with_and_without("cancel", run, tmp_path)

    assert fixed.sipp.returncode == 0, fixed.describe()  # 200 for the CANCEL, 487 for the INVITE
    assert fixed.phone.one("answer_failed")["error"] == "CallGone", fixed.describe()
    assert fixed.phone.one("ended")["reason"] == "cancelled"
    assert not fixed.sipp.find("received", method="INVITE", status=200)
    assert not fixed.sinks[0].packets

    assert broken.phone.get("answered"), f"without the fix the abandoned call is answered\n{broken.describe()}"
    assert broken.sipp.find("received", method="INVITE", status=200), broken.describe()
    assert not broken.sipp.find("received", method="INVITE", status=487)
    assert broken.sipp.returncode != 0


# ------------------------------------------------------------------------------ 5
def test_reinvite_moves_the_one_sender(tmp_path: Path) -> None:
    def run(without: tuple[str, ...], directory: Path) -> Exchange:
        return exchange(directory, "inbound_reinvite.xml", ["answer"], without=without, sinks=2, timeout=12,
                        variables={"phone": "{phone}", "rtp_port": "{rtp_port}", "rtp_port2": "{rtp_port2}"})

    fixed, broken = with_and_without("reinvite", run, tmp_path)

    assert fixed.sipp.returncode == 0, fixed.describe()  # three re-INVITEs answered, hold answered recvonly
    first, moved = fixed.sinks
    assert moved.packets, f"nothing reached the port of the re-INVITE\n{fixed.describe()}"
    moved_at = moved.packets[0].arrived
    assert first.packets and not [p for p in first.packets if p.arrived > moved_at + 0.1], \
        "media kept going to the old address"
    runs = sending_runs(moved.packets)
    assert len(runs) == 2, f"expected sending, hold (silence), sending again: {[len(r) for r in runs]}"
    assert runs[1][0].arrived - runs[0][-1].arrived > 0.7, "the phone kept sending while on hold"
    for period in (sending_runs(first.packets)[-1], *runs):
        assert 45 <= rate(period) <= 55, f"{rate(period):.1f} packets/s: one sender sends 50"
    assert len({p.ssrc for p in first.packets + moved.packets}) == 1, "one RTP stream throughout"
    versions = [line.split()[2] for m in fixed.sipp.find("received", method="INVITE", status=200)
                for line in m.body.splitlines() if line.startswith("o=")]
    assert versions == sorted(versions, key=int) and len(set(versions)) == 4, versions

    assert not broken.sinks[1].packets, "without the fix the re-INVITE's address should not be used"
    answered = [m for m in broken.sipp.find("received", method="INVITE", status=200) if "2 INVITE" in m.header("CSeq")]
    assert not answered, f"without the fix the re-INVITE fails\n{broken.describe()}"


# ------------------------------------------------------------------------------ 6
@pytest.mark.parametrize("status, reason", [(486, "busy"), (404, "not_found"), (603, "rejected"),
                                            (480, "unavailable")])
def test_final_refusal_ends_an_outgoing_call(tmp_path: Path, status: int, reason: str) -> None:
    def run(without: tuple[str, ...], directory: Path) -> Exchange:
        return exchange(directory, scenario("outbound_reject.xml", status=status),
                        ["--max-seconds", "5", "dial", "8001", "--dial-timeout", "2"], without=without, calls=2,
                        timeout=7)

    if status != 486:  # the defect itself is shown once, with 486
        fixed, broken = run((), tmp_path), None
    else:
        fixed, broken = with_and_without("final_response", run, tmp_path)

    assert fixed.sipp.returncode == 0, fixed.describe()  # the refusal was ACKed
    ended = fixed.phone.one("ended")
    assert (ended["reason"], ended["sip_status"]) == (reason, status), fixed.describe()
    assert ended["t"] - fixed.phone.one("dialling")["t"] < 1.0
    invite = only(fixed.sipp.find("received", method="INVITE"), "INVITE", fixed)
    ack = only(fixed.sipp.find("received", method="ACK"), "ACK", fixed)
    refusal = only(fixed.sipp.find("sent", method="INVITE", status=status), "refusal", fixed)
    assert ack.branch == invite.branch and ack.request_uri == invite.request_uri
    assert tag(ack.header("To")) == tag(refusal.header("To"))

    if broken is not None:
        ended = broken.phone.one("ended")
        assert (ended["reason"], ended["sip_status"]) == ("no_answer", None), broken.describe()
        assert ended["t"] - broken.phone.one("dialling")["t"] >= 1.9, "the call should have stayed dialling"
        assert not broken.sipp.find("received", method="ACK") and broken.sipp.returncode != 0


# ------------------------------------------------------------------------------ 7
def test_empty_header_does_not_drop_the_invite(tmp_path: Path) -> None:
    def run(without: tuple[str, ...], directory: Path) -> Exchange:
        return exchange(directory, scenario("inbound_call.xml", headers="\nSupported:"),
                        ["--max-seconds", "2.5", "answer"], without=without, variables=INBOUND, timeout=4)

    fixed, broken = with_and_without("empty_header", run, tmp_path)

    assert fixed.sipp.returncode == 0, fixed.describe()
    assert fixed.phone.one("answered"), fixed.describe()

    assert not broken.phone.get("incoming"), broken.describe()
    assert not broken.sipp.find("received", method="INVITE"), "without the fix the INVITE gets no answer at all"
    assert broken.sipp.returncode != 0


# ------------------------------------------------------------------------------ answer delay
def test_incoming_call_is_offered_at_once(tmp_path: Path) -> None:
    def run(without: tuple[str, ...], directory: Path) -> Exchange:
        return exchange(directory, scenario("inbound_call.xml", headers=""), ["answer"], without=without,
                        variables=INBOUND, timeout=8)

    fixed, broken = with_and_without("immediate_incoming", run, tmp_path)

    assert fixed.sipp.returncode == 0, fixed.describe()
    # the defect is a fixed one-second wait; the goal for the delay (< 200 ms) is measured by
    # scripts/bench/calls, this only shows the wait is gone, with room for a busy machine
    assert fixed.phone.one("answered")["answer_delay_ms"] < 500, fixed.describe()
    assert broken.phone.one("answered")["answer_delay_ms"] >= 1000, broken.describe()
