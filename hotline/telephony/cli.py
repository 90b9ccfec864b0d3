"""`hotline telephony ...`: run a telephony worker, install the default set-up, purge recordings."""
from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("telephony", help="The telephony worker: SIP calls, IVR, queues, recording.")
def telephony_group() -> None:
    pass


def _port_range(value: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in value.split("-", 1))
    except ValueError:
        raise click.BadParameter("use LOW-HIGH, e.g. 20000-20999") from None
    if not (1024 <= low < high <= 65535):
        raise click.BadParameter("ports must be 1024..65535 with LOW < HIGH")
    return low, high


@telephony_group.command("run")
@click.option("--name", envvar="TELEPHONY_WORKER_NAME", help="Worker name, unique per process "
              "(default: host-port).")
@click.option("--proxy", envvar="SIP_PROXY", default="127.0.0.1:5060", show_default=True,
              help="The SIP proxy (kamailio) HOST:PORT the worker registers with.")
@click.option("--username", envvar="SIP_USERNAME", default="hotline", show_default=True,
              help="The SIP user every worker registers as (the proxy shares calls among them).")
@click.option("--password", envvar="SIP_PASSWORD", required=True, help="The proxy's shared secret.")
@click.option("--local-ip", envvar="SIP_LOCAL_IP", default="127.0.0.1", show_default=True,
              help="Address this worker listens on for SIP and RTP.")
@click.option("--sip-port", envvar="SIP_PORT", type=int, default=5070, show_default=True)
@click.option("--rtp-ports", envvar="RTP_PORTS", default="20000-20999", show_default=True,
              help="UDP port range for this worker's audio.")
@click.option("--trunk-prefix", envvar="SIP_TRUNK_PREFIX", default="9", show_default=True,
              help="Prefix that sends a number to the trunk (outbound calls to citizens).")
@click.option("--stats-file", envvar="TELEPHONY_STATS_FILE", type=click.Path(dir_okay=False),
              help="Append each call leg's media figures (packets, gaps, answer delay) as JSON lines.")
@click.option("--drain", type=float, default=300, show_default=True,
              help="On SIGTERM, seconds to let calls in progress finish before hanging up.")
@with_appcontext
def run_command(name, proxy, username, password, local_ip, sip_port, rtp_ports, trunk_prefix, stats_file,
                drain) -> None:
    """Register with the SIP proxy and answer calls until SIGTERM (then drain and stop)."""
    from hotline.telephony.backend import AppBackend
    from integrations.telephony.phone import Phone
    from integrations.telephony.worker import Settings, Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, _, port = proxy.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("use HOST:PORT", param_hint="--proxy")
    name = name or f"{socket.gethostname()}-{sip_port}"
    app = current_app._get_current_object()
    backend = AppBackend(app)
    backend.starting(name)
    worker = Worker(backend, Settings(name=name, trunk_prefix=trunk_prefix, stats_path=stats_file,
                                      spool_dir=str(Path(app.instance_path) / "telephony-spool" / name)))
    phone = Phone(server=host, port=int(port), username=username, password=password, local_ip=local_ip,
                  sip_port=sip_port, rtp_ports=_port_range(rtp_ports), on_incoming=worker.on_incoming)
    worker.attach(phone)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        phone.start()
    except Exception as err:  # registration refused, proxy unreachable, port taken
        click.secho(f"telephony worker {name}: cannot start: {err}", fg="red", err=True)
        sys.exit(1)
    backend.heartbeat(name, 0)
    # everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise stall every call on the worker for a few hundred ms
    gc.freeze()
    worker.start_loops()
    click.echo(f"telephony worker {name} registered as {username} at {proxy}; SIP {local_ip}:{sip_port}, "
               f"RTP {rtp_ports}; pid {os.getpid()}", err=True)
    stop.wait()
    worker.stopping.set()  # new calls are refused (503): the proxy sends them to another worker
    deadline = time.monotonic() + drain
    while worker.active_calls and time.monotonic() < deadline:
        time.sleep(0.5)
    worker.stop()
    phone.stop()
    click.echo(f"telephony worker {name} stopped", err=True)


@telephony_group.command("defaults")
@with_appcontext
def defaults_command() -> None:
    """Add the default prompts, queues and the 12345 IVR flow where missing."""
    from hotline.extensions import db
    from hotline.telephony.operations.configuration import install_defaults
    install_defaults()
    db.session.commit()
    click.echo("default prompts, queues and IVR flow are in place")


@telephony_group.command("purge-recordings")
@with_appcontext
def purge_command() -> None:
    """Delete recordings older than RECORDING_RETENTION_DAYS."""
    from hotline.extensions import db
    from hotline.telephony.operations.recordings import purge_recordings
    count = purge_recordings()
    db.session.commit()
    click.echo(f"purged {count} recordings")
