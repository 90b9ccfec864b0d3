"""The test SIP proxy (integrations/telephony/kamailio/kamailio.cfg as scripts/services runs
it) and the test tools around it: registration with the shared secret, agent-to-agent
calls with audio both ways, the service number's round robin and failover over the
telephony workers, the trunk prefix, unknown extensions."""
from __future__ import annotations

import time

import pytest

from tests.telephony.sip_services import (
    SipClient,
    dominant_frequency,
    goertzel_power,
    parse_auth_params,
    write_tone_wav,
)

pytestmark = pytest.mark.telephony


def test_audio_helpers_find_the_tone(tmp_path):
    path = write_tone_wav(tmp_path / "t.wav", 440, 0.5)
    assert abs(dominant_frequency(path) - 440) < 3
    assert goertzel_power(path, 440) > 0.2  # amplitude 0.5 -> ~0.25
    assert goertzel_power(path, 1000) < 0.001


def test_register_is_challenged_without_qop_and_a_wrong_password_is_refused(sip_proxy, sip_client):
    sip_proxy.remove_aor("8901")
    refused = sip_client.register("8901", password="not-the-secret", expires=30)
    assert refused.challenge is not None and refused.challenge.status == 401
    challenge = refused.challenge.header("WWW-Authenticate")
    params = parse_auth_params(challenge)
    assert challenge.startswith("Digest ") and "qop" not in params, challenge
    assert params["realm"] == sip_proxy.realm
    assert refused.status in (401, 403), refused.final
    assert sip_proxy.contacts("8901") == []

    # any user name, the shared secret as password
    accepted = sip_client.register("8901", expires=30)
    assert accepted.challenge is not None and accepted.status == 200, accepted.final
    assert sip_proxy.contacts("8901") == [f"sip:8901@127.0.0.1:{sip_client.port}"]
    assert sip_client.register("8901", expires=0).status == 200
    assert sip_proxy.contacts("8901") == []


def test_invites_from_untrusted_addresses_are_challenged_without_qop(sip_proxy):
    # 127.0.0.2 is loopback too, but outside the trusted 127.0.0.1/32
    with SipClient(sip_proxy, bind_host="127.0.0.2") as outsider:
        call = outsider.invite("8001", timeout=5)
    assert call.status == 407, call.final
    params = parse_auth_params(call.header("Proxy-Authenticate"))
    assert "qop" not in params and params["realm"] == sip_proxy.realm


def test_unknown_extension_is_404(sip_client):
    call = sip_client.invite("8999", timeout=5)
    assert call.status == 404, call.final


def test_registered_extension_that_does_not_answer_is_480(sip_proxy, sip_client):
    # a phone that registered and then vanished: nothing listens on its contact's port
    gone = SipClient(sip_proxy)
    contact = f"sip:8998@127.0.0.1:{gone.port}"
    gone.close()
    assert sip_client.register("8998", contact=contact, expires=30).status == 200
    try:
        started = time.monotonic()
        call = sip_client.invite("8998", timeout=10)
        assert call.status == 480, call.final
        assert time.monotonic() - started < 6
    finally:
        sip_client.register("8998", contact=contact, expires=0)


def test_two_agents_call_each_other_through_the_proxy_and_hear_each_other(baresip_agent):
    alice = baresip_agent("8001", tone=440)
    bob = baresip_agent("8002", tone=1000)

    start = alice.dial("8002")
    alice.wait_established(timeout=10, start=start)
    bob.wait_established(timeout=10)
    assert "ESTABLISHED" in alice.list_calls()
    time.sleep(2.5)
    alice.hangup()
    alice.wait_closed(timeout=5, start=start)
    bob.wait_closed(timeout=5)

    alice_heard = alice.last_recording().heard
    bob_heard = bob.last_recording().heard
    # skip the first half second (jitter buffer, call setup)
    assert abs(dominant_frequency(alice_heard, start=0.5) - 1000) < 10
    assert abs(dominant_frequency(bob_heard, start=0.5) - 440) < 10
    assert goertzel_power(alice_heard, 1000, start=0.5) > 0.05
    assert goertzel_power(alice_heard, 440, start=0.5) < 0.005  # no echo of its own voice
    assert goertzel_power(bob_heard, 440, start=0.5) > 0.05
    assert goertzel_power(bob_heard, 1000, start=0.5) < 0.005


def _clear_workers(sip_proxy):
    # a shared proxy: forget workers an earlier test may have left registered
    sip_proxy.remove_aor(sip_proxy.service_aor)


def test_service_number_goes_round_robin_over_the_registered_workers(sip_proxy, sip_client, sipp_uas):
    _clear_workers(sip_proxy)
    first = sipp_uas(name="worker-a", register_as=sip_proxy.service_aor)
    second = sipp_uas(name="worker-b", register_as=sip_proxy.service_aor)
    assert sorted(sip_proxy.contacts(sip_proxy.service_aor)) == sorted([first.contact, second.contact])

    answered_by = []
    for _ in range(4):
        call = sip_client.invite(sip_proxy.service_number, timeout=5)
        assert call.status == 200, call.final
        assert call.bye_status == 200
        answered_by.append(call.header("X-Uas"))
    assert set(answered_by) == {"worker-a", "worker-b"}
    assert all(a != b for a, b in zip(answered_by, answered_by[1:])), answered_by

    # calling the workers' AOR by name is the service number too: one worker, not all
    call = sip_client.invite(sip_proxy.service_aor, timeout=5)
    assert call.status == 200 and call.header("X-Uas") != answered_by[-1]
    assert len(first.invites()) + len(second.invites()) == 5


def test_service_number_fails_over_to_the_next_worker(sip_proxy, sip_client, sipp_uas):
    _clear_workers(sip_proxy)
    sipp_uas(name="worker-ok", register_as=sip_proxy.service_aor)
    broken = sipp_uas(name="worker-503", status=503, register_as=sip_proxy.service_aor)

    for _ in range(2):  # one of the two calls tries the broken worker first
        call = sip_client.invite(sip_proxy.service_number, timeout=8)
        assert call.status == 200, call.final
        assert call.header("X-Uas") == "worker-ok"
    assert len(broken.invites()) == 1  # tried once, then skipped over
    assert "SIP/2.0 503 Service Unavailable" in broken.received()


def test_service_number_skips_a_worker_that_does_not_answer(sip_proxy, sip_client, sipp_uas):
    _clear_workers(sip_proxy)
    sipp_uas(name="worker-ok", register_as=sip_proxy.service_aor)
    # a registered worker that has died: nothing listens on its port
    silent = SipClient(sip_proxy)
    dead_contact = f"sip:{sip_proxy.service_aor}@127.0.0.1:{silent.port}"
    assert sip_client.register(sip_proxy.service_aor, contact=dead_contact, expires=30).status == 200
    silent.close()
    try:
        for _ in range(2):
            started = time.monotonic()
            call = sip_client.invite(sip_proxy.service_number, timeout=10)
            assert call.status == 200, call.final
            assert call.header("X-Uas") == "worker-ok"
            assert time.monotonic() - started < 6
    finally:
        sip_client.register(sip_proxy.service_aor, contact=dead_contact, expires=0)


def test_service_number_without_workers_is_480(sip_proxy, sip_client):
    _clear_workers(sip_proxy)
    call = sip_client.invite(sip_proxy.service_number, timeout=5)
    assert call.status == 480, call.final


def test_prefix_9_goes_to_the_trunk_without_the_9(sip_proxy, sip_client, sipp_uas):
    trunk = sipp_uas(name="pstn", port=sip_proxy.trunk_port)
    call = sip_client.invite("913800138000", from_user="8001", timeout=5)
    assert call.status == 200, call.final
    assert call.header("X-Uas") == "pstn"
    assert call.header("X-Called") == "13800138000"
    assert call.bye_status == 200
    assert trunk.invites() == [f"sip:13800138000@127.0.0.1:{sip_proxy.trunk_port}"]
