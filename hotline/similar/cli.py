"""`hotline suggest`: train the department suggestion; `hotline similar reindex`: refill orders' words."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext


@click.group("suggest", help="The department suggestion learned from history.")
def suggest_group() -> None:
    pass


@suggest_group.command("train")
@with_appcontext
def train() -> None:
    """Learn from the handled orders; print the held-out accuracy against the category default."""
    from hotline.core.transactions import writes
    from hotline.similar import operations
    model = writes(operations.train)()
    click.echo(f"{model.samples} orders; held out: {json.loads(model.evaluation)}")


@click.group("similar", help="Similar orders (merge candidates).")
def similar_group() -> None:
    pass


@similar_group.command("reindex")
@with_appcontext
def reindex() -> None:
    """Cut every order's text into words again (after a bulk load, or after jieba's words changed)."""
    from hotline.core.transactions import writes
    from hotline.similar import operations
    click.echo(f"{writes(operations.reindex)()} orders re-indexed")


@similar_group.command("count-words")
@with_appcontext
def count_words() -> None:
    """Count how many open orders hold each word now (Celery beat does it every 10 minutes)."""
    from hotline.core.transactions import writes
    from hotline.similar import operations
    row = writes(operations.store_word_counts)()
    click.echo(f"{row.open_orders} open orders; {len(json.loads(row.counts))} words counted")
