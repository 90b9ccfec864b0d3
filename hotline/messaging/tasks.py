"""Delivering the outbox: after each commit that queued something, and every 30 s for retries."""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime

import sqlalchemy as sa
from celery import shared_task
from flask import Flask, current_app

from hotline.extensions import db
from hotline.messaging import operations
from hotline.messaging.channels import channel_for
from integrations.messaging import DeliveryError

log = logging.getLogger(__name__)


@shared_task(name="messaging.deliver_due")
def deliver_due_task(limit: int = 200) -> int:
    """Send what is due; safe to run on several workers at once (claims decide who sends).

    A pass that found a full batch asks for another at once rather than leaving the rest to the
    next beat (a thousand notices of one sweep go out in seconds, not in five beats)."""
    sent = deliver_due(limit=limit)
    if sent >= limit and current_app.config["MESSAGING_WAKE_AFTER_COMMIT"]:
        waker.wake()
    return sent


def deliver_due(limit: int = 200, now: datetime | None = None) -> int:
    """One delivery pass as one worker runs it: each message claimed, sent and settled on its own."""
    operations.fail_interrupted(now)
    db.session.commit()
    sent = 0
    for message_id in operations.due_ids(now, limit):
        message = operations.claim(message_id, now)
        db.session.commit()               # ours before anything is sent
        if message is None:
            continue                      # another worker took it
        try:
            receipt = channel_for(message.channel).send(operations.outgoing(message))
        except DeliveryError as err:
            operations.record_failure(message, str(err), permanent=err.permanent, now=now)
        except Exception as err:  # a gateway's bug must not stop the others; logged, retried
            log.exception("sending message %s failed unexpectedly", message_id)
            operations.record_failure(message, f"{type(err).__name__}: {err}", permanent=False, now=now)
        else:
            operations.record_sent(message, receipt, now=now)
        db.session.commit()
        sent += 1
    return sent


class _Waker:
    """Asks a worker to deliver, from a thread of its own, so that no request waits for the broker.

    Wake-ups asked for while one is being published fold into one more; with the broker down a
    publish waits for its connection timeout in this thread, not in the request.
    """

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()       # a forked worker process starts its own thread
                self._thread = threading.Thread(target=self._run, name="outbox-waker", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                deliver_due_task.apply_async(retry=False, ignore_result=True)
            except Exception as err:  # noqa: BLE001  (the broker is down: the periodic pass will catch up)
                log.warning("could not wake the message workers (%s); the periodic pass will send", err)


waker = _Waker()


def install_wake(app: Flask) -> None:
    """After a commit that queued messages, ask a worker to deliver them now (not at the next beat).

    If the broker is down the request still succeeds at once: the messages wait in the outbox
    and the periodic pass sends them once the broker is back. Installed once per process.
    """
    if sa.event.contains(db.session, "after_commit", _wake):
        return
    sa.event.listen(db.session, "after_commit", _wake)
    sa.event.listen(db.session, "after_rollback", _forget)


def _wake(session) -> None:
    if session.info.pop(operations.WAKE, False) and current_app.config["MESSAGING_WAKE_AFTER_COMMIT"]:
        waker.wake()


def _forget(session) -> None:
    session.info.pop(operations.WAKE, None)
