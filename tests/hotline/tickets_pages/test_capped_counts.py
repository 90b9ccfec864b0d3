"""Lists count what they match only up to a cap: past it they say "more than", and page on without a last page."""
import sqlalchemy as sa

from hotline.core import counts, recent
from hotline.extensions import db
from hotline.tickets.models import Ticket


def test_capped_count_is_exact_up_to_the_cap_and_at_least_the_cap_beyond(app, new_ticket):
    for _ in range(4):
        new_ticket()
    query = sa.select(Ticket)
    assert counts.capped_count(query, cap=4) == 4 and not counts.is_capped(counts.capped_count(query, cap=4))
    capped = counts.capped_count(query, cap=3)
    assert counts.is_capped(capped) and capped == 3 and str(capped) == "3+"
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 4


def test_the_list_says_more_than_the_cap_and_pages_without_a_last_page(browser, new_ticket, monkeypatch):
    from hotline.tickets import forms
    monkeypatch.setattr(counts, "CAP", 3)
    monkeypatch.setattr(forms, "PER_PAGE", 2)
    numbers = [new_ticket(subject=f"占道经营 {i}") for i in range(5)]
    reviewer = browser("reviewer")
    first = reviewer.get("/tickets").get_data(as_text=True)
    assert "More than 3 orders found" in first and "Page 1 of" not in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert numbers[4] in first and numbers[3] in first and numbers[2] not in first
    last = reviewer.get("/tickets?page=3").get_data(as_text=True)
    assert numbers[0] in last and 'rel="next"' not in last and 'rel="prev"' in last
    # a list the first page holds whole is not counted and says exactly how many
    short = reviewer.get(f"/tickets?q={numbers[0]}").get_data(as_text=True)
    assert "1 order found" in short


def test_a_count_is_remembered_for_a_few_seconds_for_the_same_statement_only(app, world, new_ticket, monkeypatch):
    """Paging through a list counts once: the same count statement with the same values is answered from
    memory for LIST_COUNT_SECONDS; another filter, another viewer's conditions or an older answer count anew."""
    from hotline.tickets.models import TicketStatus
    clock = [1000.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: clock[0])
    monkeypatch.setitem(app.config, "LIST_COUNT_SECONDS", 5)
    counts._remembered.clear()
    for _ in range(3):
        new_ticket()
    registered = sa.select(Ticket).where(Ticket.status == TicketStatus.REGISTERED)
    assert counts.capped_count(registered, cap=10) == 3
    new_ticket()
    assert counts.capped_count(registered, cap=10) == 3                      # remembered
    assert counts.capped_count(sa.select(Ticket).where(Ticket.status == TicketStatus.REGISTERED,
                                                       Ticket.id > 0), cap=10) == 4   # another statement
    assert counts.capped_count(sa.select(Ticket).where(Ticket.status == TicketStatus.CLOSED), cap=10) == 0
    clock[0] += 5
    assert counts.capped_count(registered, cap=10) == 4                      # older than the seconds: counted
    monkeypatch.setitem(app.config, "LIST_COUNT_SECONDS", 0)
    new_ticket()
    assert counts.capped_count(registered, cap=10) == 5                      # 0: never remembered


def test_counts_that_depend_on_the_time_are_taken_a_few_seconds_back(app, monkeypatch):
    """The board's overdue and due-soon counts ask the same statement for LIST_COUNT_SECONDS, so the
    reviewers refreshing it within those seconds share one count."""
    from datetime import datetime, timezone
    now = datetime(2026, 12, 6, 4, 40, 27, 500000, tzinfo=timezone.utc)
    with app.app_context():
        monkeypatch.setitem(app.config, "LIST_COUNT_SECONDS", 10)
        assert counts.counting_instant(now) == datetime(2026, 12, 6, 4, 40, 20, tzinfo=timezone.utc)
        monkeypatch.setitem(app.config, "LIST_COUNT_SECONDS", 0)
        assert counts.counting_instant(now) == now
