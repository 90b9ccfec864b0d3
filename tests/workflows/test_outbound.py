"""Tests for workflows.outbound: which placed calls are tried again, and when."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from workflows.outbound import RETRIED_KINDS, RETRIED_RESULTS, RETRY_AFTER, retry_at

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("kind", sorted(RETRIED_KINDS))
@pytest.mark.parametrize("result", sorted(RETRIED_RESULTS))
def test_a_failed_call_is_tried_again_after_a_while(kind, result):
    assert retry_at(kind, result, ok=False, attempts=1, max_attempts=3, now=NOW) == NOW + RETRY_AFTER


def test_a_call_that_got_through_is_done():
    assert retry_at("survey", "answered", ok=True, attempts=1, max_attempts=3, now=NOW) is None
    assert retry_at("survey", "no_answer", ok=True, attempts=1, max_attempts=3, now=NOW) is None


def test_the_agents_own_call_is_never_placed_again():
    assert retry_at("click_to_dial", "busy", ok=False, attempts=1, max_attempts=3, now=NOW) is None


@pytest.mark.parametrize("result", ["rejected", "bad_number", None, ""])
def test_other_results_are_final(result):
    assert retry_at("callback", result, ok=False, attempts=1, max_attempts=3, now=NOW) is None


def test_the_attempts_run_out():
    assert retry_at("notification", "busy", ok=False, attempts=2, max_attempts=3, now=NOW) == NOW + RETRY_AFTER
    assert retry_at("notification", "busy", ok=False, attempts=3, max_attempts=3, now=NOW) is None
    assert retry_at("notification", "busy", ok=False, attempts=4, max_attempts=3, now=NOW) is None


def test_enum_members_are_accepted_by_their_value():
    from enum import Enum

    class Kind(str, Enum):
        SURVEY = "survey"

        def __str__(self):
            return self.value

    assert retry_at(Kind.SURVEY, "busy", ok=False, attempts=1, max_attempts=3, now=NOW) == NOW + RETRY_AFTER
