"""Housekeeping across features: stored files no row names any more."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from celery import shared_task

import hotline.models  # noqa: F401  (every table in the metadata: no owner of a file is missed)
from hotline.core import files
from hotline.extensions import db

log = logging.getLogger(__name__)


def files_in_use() -> set[str]:
    """The SHA-256 of every file a row names: any table with a `sha256` column (orders' and articles'
    attachments, and whatever feature keeps files next), so a new owner cannot be forgotten here."""
    columns = [table.c.sha256 for table in db.metadata.tables.values() if "sha256" in table.c]
    if not columns:
        raise RuntimeError("no table names stored files: the models are not loaded; nothing is pruned")
    return set(db.session.scalars(sa.union(*(sa.select(column) for column in columns))))


def prune_files(*, grace_seconds: float = 3600, dry_run: bool = False) -> files.Pruned:
    result = files.prune(files_in_use(), grace_seconds=grace_seconds, dry_run=dry_run)
    log.info("files pruned%s: %d unnamed (%d bytes), %d abandoned uploads; %d kept",
             " (dry run)" if dry_run else "", result.removed, result.removed_bytes, result.abandoned, result.kept)
    return result


@shared_task(name="maintenance.prune_files")
def prune_files_task() -> int:
    return prune_files().removed
