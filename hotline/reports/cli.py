"""`hotline reports`: the reports from the command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("reports", help="Reports: bulletins (通报).")
def reports_group() -> None:
    pass


@reports_group.command("bulletin")
@click.option("--week", help="An ISO week, like 2026-W24.")
@click.option("--month", help="A month, like 2026-06.")
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf"]), required=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The file to write.")
@with_appcontext
def bulletin_command(week: str | None, month: str | None, fmt: str, output: str) -> None:
    """Write the bulletin of a week or month as DOCX or PDF (a week or month still running: so far)."""
    from hotline.core.base import utcnow
    from hotline.reports import bulletin_files, bulletins
    from hotline.sla import service as sla
    if bool(week) == bool(month):
        click.secho("give one of --week YYYY-Www or --month YYYY-MM", fg="red", err=True)
        sys.exit(2)
    kind, value = ("week", week) if week else ("month", month)
    now = utcnow()
    try:
        period = bulletins.period_for(kind, value, sla.local_date(now))
    except ValueError:
        click.secho(f"--{kind} {value!r} names no past or current {kind} (like "
                    f"{'2026-W24' if kind == 'week' else '2026-06'})", fg="red", err=True)
        sys.exit(2)
    _data, files = bulletin_files.render(period, now, (fmt,))
    Path(output).write_bytes(files[fmt])
    click.echo(f"wrote the bulletin of {period.label()} ({period.start} to {period.end}) to {output} "
               f"({len(files[fmt]):,} bytes)")
