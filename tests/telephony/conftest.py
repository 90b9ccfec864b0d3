"""Fixtures for real SIP calls through the test kamailio (see sip_services.py).

- `sip_proxy` (session): the running proxy, after `scripts/services start kamailio` (which
  starts it when down and restarts it when its configuration changed). If it cannot be
  started the tests fail and say which service and why: they are never skipped.
- `baresip_agent` (factory): auto-answering softphones registered as extensions, with a
  WAV file (or a generated tone) as microphone and everything they hear recorded.
- `sipp_uas` (factory): SIPp processes that answer or refuse INVITEs, optionally
  registered under an AOR (e.g. the telephony workers' "hotline").
- `sip_client`: a small SIP UAC on 127.0.0.1 for REGISTER/INVITE with exact replies.

Everything a test starts is stopped, and its registrations removed, when the test ends.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.telephony.sip_services import (
    BaresipAgent,
    BaresipError,
    ServiceUnavailable,
    SipClient,
    SipProxy,
    SippUas,
    prepare_source,
    write_tone_wav,
)


@pytest.fixture(scope="session")
def sip_proxy() -> SipProxy:
    """The test proxy (kamailio on 127.0.0.1, UDP): address, port, secret, service number,
    trunk address, control socket and log."""
    from tests.telephony.sip_services import ensure_proxy

    try:
        return ensure_proxy()
    except ServiceUnavailable as exc:
        problem = str(exc)
    pytest.fail(f"The SIP proxy is not available: {problem}", pytrace=False)


@pytest.fixture
def sip_client(sip_proxy):
    """A SIP client on its own 127.0.0.1 UDP port (a trusted address of the proxy)."""
    with SipClient(sip_proxy) as client:
        yield client


@pytest.fixture
def baresip_agent(sip_proxy, tmp_path_factory):
    """Starts baresip agents; all are stopped at teardown.

        agent = baresip_agent("8001", tone=440)             # microphone: a 440 Hz tone
        agent = baresip_agent("8002", source=Path("x.wav"))  # microphone: a WAV file
        agent.dial("8001"); agent.wait_established(); ...; agent.hangup()
        agent.last_recording().heard                       # WAV of what it heard

    Signature: baresip_agent(extension, *, tone=None, source=None, min_seconds=60,
    password=None, answermode="auto", register_timeout=10.0) -> BaresipAgent.
    The microphone is repeated to last `min_seconds`; without tone or source it is
    silence. Returns once the proxy's location table shows the registration.
    """
    agents: list[BaresipAgent] = []

    def start(extension: str, *, tone: float | None = None, source: Path | str | None = None,
              min_seconds: float = 60.0, password: str | None = None, answermode: str = "auto",
              register_timeout: float = 10.0) -> BaresipAgent:
        if tone is not None and source is not None:
            raise ValueError("give either tone or source, not both")
        directory = tmp_path_factory.mktemp(f"baresip-{extension}-")
        if source is None:
            source = write_tone_wav(directory / "tone.wav", tone or 0.0, 1.0)
        microphone = prepare_source(source, directory / "microphone.wav", min_seconds)
        agent = BaresipAgent(sip_proxy, extension, directory, microphone, password=password,
                             answermode=answermode)
        agents.append(agent)
        try:
            return agent.start(register_timeout=register_timeout)
        except (BaresipError, ServiceUnavailable) as exc:
            problem = str(exc)
        pytest.fail(f"baresip agent {extension} could not start: {problem}", pytrace=False)

    yield start
    for agent in reversed(agents):
        agent.stop()


@pytest.fixture
def sipp_uas(sip_proxy, tmp_path):
    """Starts SIPp UAS processes; all are stopped (and unregistered) at teardown.

        worker = sipp_uas(register_as="hotline")           # answers 200, registered
        busy = sipp_uas(status=503, register_as="hotline")  # refuses every INVITE
        trunk = sipp_uas(port=sip_proxy.trunk_port)        # the fake PSTN trunk

    Signature: sipp_uas(*, status=200, port=None, name=None, register_as=None)
    -> SippUas. Replies carry X-Uas (its name) and X-Called (the Request-URI's user).
    """
    started: list[tuple[SippUas, str | None]] = []
    client = SipClient(sip_proxy)

    def start(*, status: int = 200, port: int | None = None, name: str | None = None,
              register_as: str | None = None) -> SippUas:
        uas = SippUas(tmp_path / "sipp", port, status=status, name=name)
        started.append((uas, None))
        try:
            uas.start()
        except ServiceUnavailable as exc:
            problem = str(exc)
        else:
            problem = None
        if problem:
            pytest.fail(problem, pytrace=False)
        if register_as:
            result = client.register(register_as, contact=uas.contact, expires=60)
            assert result.status == 200, f"registering {uas.contact} as {register_as} failed: {result.final}"
            started[-1] = (uas, register_as)
        return uas

    yield start
    try:
        for uas, aor in reversed(started):
            if aor:
                try:
                    client.register(aor, contact=uas.contact, expires=0)
                except AssertionError:
                    try:
                        sip_proxy.kamcmd("ul.rm_contact", "location", f"s:{aor}", f"s:{uas.contact}")
                    except ServiceUnavailable:
                        pass
            uas.stop()
    finally:
        client.close()


@pytest.fixture
def centre(app, world, tmp_path):
    """The test call centre on the test database (see centre.py)."""
    from tests.telephony.centre import set_up_centre
    return set_up_centre(app, world, tmp_path)


@pytest.fixture
def worker(app, centre, sip_proxy):
    """A telephony worker in this process, registered at the proxy; stopped at teardown."""
    from tests.telephony.centre import start_worker
    hotline, phone = start_worker(app, sip_proxy)
    yield hotline
    hotline.stop()
    phone.stop()
    sip_proxy.remove_aor(sip_proxy.service_aor)
