"""`hotline knowledge`: refill the search columns, try a search from the shell."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("knowledge", help="The knowledge base: search index and searches.")
def knowledge_group() -> None:
    pass


@knowledge_group.command("reindex")
@with_appcontext
def reindex() -> None:
    """Cut every article into words again (after jieba or hotline/knowledge/words.py changed)."""
    from hotline.core.transactions import writes
    from hotline.knowledge import operations
    click.echo(f"{writes(operations.reindex)()} articles re-indexed")


@knowledge_group.command("search")
@click.argument("question")
@with_appcontext
def search(question: str) -> None:
    """Print the five best articles for QUESTION, as a call taker would see them."""
    from hotline.core.errors import OperationError
    from hotline.knowledge import operations, queries
    try:
        results = queries.search(question, today=operations.today(), per_page=5)
    except OperationError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"words: {' '.join(results.words)}" + (f"; synonyms: {' '.join(results.added)}" if results.added else ""))
    for hit in results.hits:
        click.echo(f"{hit.score:7.2f}  #{hit.article.id}  {hit.article.title}")
