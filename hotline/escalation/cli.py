"""`hotline sla sweep`: one escalation pass now, or as if at another instant."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext


@click.group("sla", help="Deadlines in motion: reminders, urges and escalations.")
def sla_group() -> None:
    pass


@sla_group.command("sweep")
@click.option("--at", "at_text", metavar="ISO-TIME",
              help="Run as if it were this instant, e.g. 2026-10-14T09:00+08:00 (a time without a zone is local).")
@click.option("--allow-future", is_flag=True,
              help="Accept an instant after now: a drill on a copy of the database (the trail then holds "
                   "entries dated in the future).")
@with_appcontext
def sweep_command(at_text: str | None, allow_future: bool) -> None:
    """Record the reminders, urges and escalations owed now (each only once, however often it runs)."""
    from hotline.core.base import utcnow
    from hotline.escalation.tasks import SweepBusy, run_sweep
    from hotline.sla.service import local_tz
    at = None
    if at_text:
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            raise click.ClickException(f"{at_text!r} is not a time like 2026-10-14T09:00+08:00") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=local_tz())
        if at > utcnow() and not allow_future:
            raise click.ClickException(f"{at_text} is in the future: the order's legal trail would record steps "
                                       "that have not happened; use --allow-future only on a copy for drills")

    def progress(total):
        click.echo(f"  … {total.looked_at} assignments looked at", err=True)

    try:
        result = run_sweep(at, progress=progress)
    except SweepBusy as err:
        raise click.ClickException(f"{err}; try again in a minute") from None
    steps = ", ".join(f"{n} {step}" for step, n in result.recorded.items())
    click.echo(f"looked at {result.looked_at} assignments; recorded {steps}; queued {result.notices} notices")
