"""`hotline tickets reindex-search`: every order's letter pairs for the lists' keyword search, again."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("tickets", help="Work orders.")
def tickets_group() -> None:
    pass


@tickets_group.command("reindex-search")
@with_appcontext
def reindex_search() -> None:
    """Write every order's letter pairs for the keyword search again (after a bulk load without the ORM)."""
    from hotline.core.transactions import writes
    from hotline.tickets import search
    click.echo(f"{writes(search.reindex)()} orders re-indexed for the keyword search")
