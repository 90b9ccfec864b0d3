"""The media engine over real loopback UDP: pacing, G.711, digits, bridging, recording,
supervisor monitoring, bounded memory, and nothing left behind after many calls."""
from __future__ import annotations

import hashlib
import os
import struct
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.telephony import media
from integrations.telephony.media import MediaEngine, Stream
from tests.telephony.sipp import RtpSink, rms, samples, tone, tone_share, voiced

pytestmark = pytest.mark.telephony

PORTS = (41000, 42998)


@pytest.fixture
def engine() -> Iterator[MediaEngine]:
    engine = MediaEngine()
    yield engine
    engine.close()


def connect(stream: Stream, peer: RtpSink, payload_type: int = media.PCMU) -> Stream:
    """Let ``stream`` and the raw socket ``peer`` talk to each other."""
    stream.set_remote(("127.0.0.1", peer.port))
    stream.set_codec(payload_type)
    stream.start_sending()
    assert peer.wait_for(2, 2.0), "the stream sends nothing"
    return stream


def talk(peer: RtpSink, hz: float, seconds: float, payload_type: int = media.PCMU) -> threading.Thread:
    thread = threading.Thread(target=peer.send_audio, args=(tone(hz, seconds), payload_type), daemon=True)
    thread.start()
    return thread


def heard(peer: RtpSink, since: float) -> bytes:
    return peer.audio([p for p in peer.packets if p.arrived >= since])


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def measure_pacing(engine: MediaEngine, seconds: float) -> tuple[float, float, float, str]:
    """Run 50 two-way calls (100 streams) for ``seconds``; the worst p99 and p99.9 send
    gap of any stream (ms), the process's CPU share and a report line."""
    streams = [engine.open_stream("127.0.0.1", PORTS) for _ in range(100)]
    for first, second in zip(streams[::2], streams[1::2]):
        first.set_remote(("127.0.0.1", second.port))
        second.set_remote(("127.0.0.1", first.port))
        second.set_codec(media.PCMA)
    prompt = tone(1000, 1.0)
    for stream in streams:
        stream.play(prompt, loop=True)
        stream.start_sending()
    time.sleep(0.5)
    before = [s.stats() for s in streams]
    cpu, started = time.process_time(), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    cpu_share = (time.process_time() - cpu) / elapsed
    stats = [s.stats() for s in streams]
    rates = [((after.packets_sent - first.packets_sent) / elapsed, (after.packets_received - first.packets_received)
              / elapsed) for first, after in zip(before, stats)]
    for stream in streams:
        stream.close()
    assert all(45 < sent < 55 for sent, _ in rates), f"every stream sends 50 packets/s: {sorted(rates)[:3]}"
    assert all(45 < heard < 55 for _, heard in rates), f"every stream hears 50 packets/s: {sorted(rates)[:3]}"
    p99, p999 = max(s.gap_p99_ms for s in stats), max(s.gap_p999_ms for s in stats)
    return p99, p999, cpu_share, (
        f"100 streams, {seconds:g} s: worst stream's p99 send gap {p99:.1f} ms, p99.9 {p999:.1f} ms, max "
        f"{max(s.gap_max_ms for s in stats):.1f} ms; process CPU {cpu_share:.1%} of a core "
        f"({cpu_share / 100:.3%} per stream); {engine.stats()}")


def test_100_streams_each_send_and_hear_50_packets_a_second(engine: MediaEngine, record_property) -> None:
    """Audio at the right speed on every stream at 100 streams: 50 packets a second out and
    in, never double (a second sender) nor starved.  The gaps between packets are reported
    here; the goal for them (p99.9 under 30 ms) is measured by scripts/bench/calls, not
    asserted in a test that shares the machine with the rest of the suite."""
    seconds = 4.0
    _, _, _, report = measure_pacing(engine, seconds)
    print(report)
    record_property("pacing", report)
    assert engine.streams == 0


def test_g711_both_laws_both_ways(engine: MediaEngine) -> None:
    with RtpSink() as alaw_peer, RtpSink() as ulaw_peer:
        alaw = connect(engine.open_stream("127.0.0.1", PORTS), alaw_peer, media.PCMA)
        ulaw = connect(engine.open_stream("127.0.0.1", PORTS), ulaw_peer, media.PCMU)
        for stream in (alaw, ulaw):
            stream.play(tone(1000, 1.0))
        captures = [alaw.start_capture(5), ulaw.start_capture(5)]
        senders = [talk(alaw_peer, 440, 1.0, media.PCMA), talk(ulaw_peer, 440, 1.0, media.PCMU)]
        for sender in senders:
            sender.join()
        time.sleep(0.1)
        for capture in captures:
            received = voiced(capture.stop())
            assert 0.8 < len(received) / 16000 < 1.1
            assert tone_share(received, 440) > 0.9 and abs(rms(received) - 5657) < 300, \
                f"{tone_share(received, 440):.3f} of the power at 440 Hz, RMS {rms(received):.0f}"
            assert capture.silence_seconds() > 0.05, "silence after the caller stopped talking"
        for peer, law in ((alaw_peer, media.PCMA), (ulaw_peer, media.PCMU)):
            assert {p.payload_type for p in peer.packets} == {law}
            sent = voiced(peer.audio())
            assert tone_share(sent, 1000) > 0.9 and abs(rms(sent) - 5657) < 300, \
                f"{tone_share(sent, 1000):.3f} of the power at 1000 Hz, RMS {rms(sent):.0f}"


def test_digits_one_per_key_press(engine: MediaEngine) -> None:
    with RtpSink() as peer:
        stream = connect(engine.open_stream("127.0.0.1", PORTS), peer)
        playback = stream.play(tone(500, 5.0))
        for digit in "5", "5", "#":
            peer.send_digit(digit)
        # a press whose start packets were lost: only its end packets arrive
        destination = peer.peer
        for _ in range(3):
            header = struct.pack("!BBHII", 0x80, 101, 9, 777777, peer.ssrc)
            peer._sock.sendto(header + struct.pack("!BBH", 7, 0x80 | 10, 800), destination)
        time.sleep(0.1)
        assert [stream.read_digit(1.0) for _ in range(4)] == ["5", "5", "#", "7"]
        assert stream.read_digit(0.2) is None
        assert not playback.done.is_set(), "digits are kept while a prompt plays"

        prompt = stream.play(tone(500, 5.0), interrupt_on_digit=True)
        peer.send_digit("1")
        assert prompt.done.wait(1.0), "a key press stops an interruptible prompt"
        assert stream.read_digit(1.0) == "1"
        peer.send_digit("2")
        time.sleep(0.1)
        stream.clear_digits()
        assert stream.read_digit(0.1) is None


def test_playback_queue(engine: MediaEngine) -> None:
    with RtpSink() as peer:
        stream = connect(engine.open_stream("127.0.0.1", PORTS), peer)
        first = stream.play(tone(500, 0.4))
        second = stream.play(tone(900, 0.4), queue=True)
        third = stream.play(tone(1300, 0.4), queue=True, interrupt_on_digit=True)
        assert first.done.wait(2) and not second.done.is_set()
        assert second.done.wait(1) and not third.done.is_set()
        time.sleep(0.1)
        peer.send_digit("4")
        assert third.done.wait(0.2), "a key press stops a queued interruptible prompt"
        time.sleep(0.1)
        sounds = [voiced(peer.audio([p])) for p in peer.packets]
        pitches = [hz for sound in sounds if sound
                   for hz in (500, 900, 1300) if tone_share(sound, hz) > 0.9]
        changes = [hz for i, hz in enumerate(pitches) if i == 0 or pitches[i - 1] != hz]
        assert changes == [500, 900, 1300], "the prompts play in order"
        assert len([hz for hz in pitches if hz in (500, 900)]) == 40, "back to back, 20 frames each"
        stream.play(tone(500, 1.0))
        waiting = stream.play(tone(900, 1.0), queue=True)
        stream.play(tone(1300, 1.0))
        assert waiting.done.is_set(), "playing without queue drops what waits"
        stream.stop_playback()


def test_bridge_carries_audio_both_ways_and_records_both_sides(engine: MediaEngine, tmp_path: Path) -> None:
    with RtpSink() as caller_peer, RtpSink() as agent_peer:
        caller = connect(engine.open_stream("127.0.0.1", PORTS), caller_peer, media.PCMA)
        agent = connect(engine.open_stream("127.0.0.1", PORTS), agent_peer, media.PCMU)
        path = tmp_path / "call.wav"
        bridge = engine.bridge(caller, agent, str(path))
        started = time.monotonic()
        senders = [talk(caller_peer, 440, 1.5, media.PCMA), talk(agent_peer, 1000, 1.5, media.PCMU)]
        for sender in senders:
            sender.join()
        info = bridge.stop()
        assert bridge.stop() is info, "stopping again returns the same recording"

        assert tone_share(voiced(heard(agent_peer, started + 0.3))[:8000], 440) > 0.9, "the agent hears the caller"
        assert tone_share(voiced(heard(caller_peer, started + 0.3))[:8000], 1000) > 0.9, "the caller hears the agent"

        assert info is not None and info.path == str(path)
        assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert info.bytes == path.stat().st_size
        assert 1.3 < info.seconds < 2.0
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
            frames = wav.readframes(wav.getnframes())
        assert abs(wav.getnframes() / 8000 - info.seconds) < 0.001
        values = samples(frames)
        left = struct.pack(f"<{len(values) // 2}h", *values[0::2])
        right = struct.pack(f"<{len(values) // 2}h", *values[1::2])
        left, right = voiced(left)[:8000], voiced(right)[:8000]
        assert tone_share(left, 440) > 0.95, "left channel: what the caller said"
        assert tone_share(right, 1000) > 0.95, "right channel: what the agent said"
        assert abs(rms(left) - 5657) < 300 and abs(rms(right) - 5657) < 300, "full G.711 quality"

        caller_peer.packets.clear()
        caller.play(tone(700, 1.0))
        time.sleep(0.5)
        assert tone_share(voiced(caller_peer.audio())[-4000:], 700) > 0.9, "after the bridge, playback again"


@pytest.mark.parametrize("mode, caller_hears, agent_hears", [
    ("listen", False, False), ("whisper", False, True), ("barge", True, True)])
def test_supervisor_modes(engine: MediaEngine, mode: str, caller_hears: bool, agent_hears: bool) -> None:
    with RtpSink() as caller_peer, RtpSink() as agent_peer, RtpSink() as supervisor_peer:
        caller = connect(engine.open_stream("127.0.0.1", PORTS), caller_peer)
        agent = connect(engine.open_stream("127.0.0.1", PORTS), agent_peer)
        supervisor = connect(engine.open_stream("127.0.0.1", PORTS), supervisor_peer)
        bridge = engine.bridge(caller, agent)
        bridge.monitor(supervisor, mode)
        started = time.monotonic()
        senders = [talk(caller_peer, 440, 1.2), talk(agent_peer, 1000, 1.2), talk(supervisor_peer, 1500, 1.2)]
        for sender in senders:
            sender.join()
        window = slice(0, 8000)
        supervisor_heard = voiced(heard(supervisor_peer, started + 0.2))[window]
        assert tone_share(supervisor_heard, 440) > 0.3 and tone_share(supervisor_heard, 1000) > 0.3, \
            "the supervisor hears both parties"
        for peer, hears in ((caller_peer, caller_hears), (agent_peer, agent_hears)):
            share = tone_share(voiced(heard(peer, started + 0.2))[window], 1500)
            assert (share > 0.3) if hears else (share < 0.01), f"{mode}: supervisor's share {share:.2f}"
        bridge.unmonitor(supervisor)
        bridge.stop()


def test_buffers_stay_bounded(engine: MediaEngine) -> None:
    with RtpSink() as peer:
        stream = connect(engine.open_stream("127.0.0.1", PORTS), peer)
        capture = stream.start_capture(0.5)
        audio = media.encode_pcmu(tone(440, 0.02))
        for seq in range(1000):  # 20 s of audio in a burst
            header = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 1234)
            peer._sock.sendto(header + audio, peer.peer)
        for seq in range(100):
            header = struct.pack("!BBHII", 0x80, 101, seq, 5000 + seq, 1234)
            peer._sock.sendto(header + struct.pack("!BBH", 1, 0x80, 160), peer.peer)
        time.sleep(0.7)
        assert len(stream._rx) <= media.RX_LIMIT
        assert capture.full.is_set() and len(capture.stop()) == 8000
        assert len(stream._digits) <= media.DIGIT_LIMIT


def test_a_failing_stream_is_closed_and_the_others_go_on(engine: MediaEngine, caplog) -> None:
    def broken(pcm: bytes) -> bytes:
        raise ValueError("an encoder bug")

    with RtpSink() as good_peer, RtpSink() as bad_peer:
        connect(engine.open_stream("127.0.0.1", PORTS), good_peer)
        bad = connect(engine.open_stream("127.0.0.1", PORTS), bad_peer)
        bad.set_codec(media.PCMU, broken)
        assert bad.closed.wait(1), "the failing stream is closed"
        sent = len(good_peer.packets)
        deadline = time.monotonic() + 5
        while len(good_peer.packets) < sent + 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(good_peer.packets) >= sent + 10, "the engine goes on for the others"
    assert "an encoder bug" in caplog.text


def test_nothing_left_after_200_calls(engine: MediaEngine, tmp_path: Path) -> None:
    warm = engine.open_stream("127.0.0.1", PORTS)  # the engine thread exists from here on
    warm.close()
    threads, fds = threading.active_count(), open_fds()
    for batch in range(10):
        legs = [engine.open_stream("127.0.0.1", PORTS) for _ in range(40)]
        for first, second in zip(legs[::2], legs[1::2]):
            first.set_remote(("127.0.0.1", second.port))
            second.set_remote(("127.0.0.1", first.port))
            first.start_sending()
            second.start_sending()
        bridges = [engine.bridge(a, b, str(tmp_path / f"{batch}-{i}.wav")) for i, (a, b) in
                   enumerate(zip(legs[::2], legs[1::2]))]
        time.sleep(0.1)
        for leg in legs:
            leg.close(wait=False)
        for bridge in bridges:
            assert bridge.stop() is not None
    assert engine.streams == 0 and not engine._bridges
    assert threading.active_count() == threads, "no thread per call"
    assert open_fds() == fds, "every socket and recording file closed"
