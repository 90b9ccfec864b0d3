"""The outbox's retry rule (workflows/delivery.py), no database."""
from datetime import datetime, timedelta, timezone

import pytest

from workflows.delivery import MAX_ATTEMPTS, next_attempt

T = datetime(2026, 6, 15, 2, 0, tzinfo=timezone.utc)


def test_temporary_failures_are_retried_with_growing_pauses_then_given_up():
    pauses = [next_attempt(n, T) - T for n in range(1, MAX_ATTEMPTS)]
    assert pauses == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
                      timedelta(hours=1)]
    assert next_attempt(MAX_ATTEMPTS, T) is None


def test_a_permanent_failure_is_never_retried_and_nonsense_is_refused():
    assert next_attempt(1, T, permanent=True) is None
    assert next_attempt(2, T, max_attempts=2) is None
    with pytest.raises(ValueError):
        next_attempt(0, T)
