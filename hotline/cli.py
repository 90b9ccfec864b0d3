"""The `hotline` command: run, db, seed, users, calendar, worker, telephony."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from hotline.core.errors import OperationError


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _explain(err: OperationError) -> str:
    lines = [err.message] + [f"  {field}: {text}" for field, text in err.fields.items()]
    return "\n".join(lines)


@click.group("users", help="Create users and API tokens.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.argument("name")
@click.option("--role", required=True, help="call_taker, expert, supervisor, centre_reviewer, "
                                             "department_handler, department_admin, manager or admin")
@click.option("--department", type=int, help="Department id (required for department staff).")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--display-name", help="Name shown in the interface.")
@with_appcontext
def users_create(name: str, role: str, department: int | None, password: str, display_name: str | None) -> None:
    from hotline.auth.operations import create_user
    from hotline.extensions import db
    try:
        user = create_user(name, role, password, department_id=department, display_name=display_name)
        db.session.commit()
    except OperationError as err:
        db.session.rollback()
        _fail(_explain(err))
    click.echo(f"created user {user.username} (id {user.id}, role {user.role.value})")


@users_group.command("token")
@click.argument("name")
@with_appcontext
def users_token(name: str) -> None:
    """Print a new API token for user NAME."""
    from hotline.auth.models import User
    from hotline.auth.operations import issue_token
    from hotline.extensions import db
    user = db.session.scalar(sa.select(User).where(User.username == name))
    if user is None:
        _fail(f"no user called {name!r}")
    token = issue_token(user)
    db.session.commit()
    click.echo(token)


@click.group("calendar", help="The working-day calendar.")
def calendar_group() -> None:
    pass


@calendar_group.command("import")
@click.argument("year", type=int)
@click.option("--provisional", is_flag=True,
              help="Monday to Friday only, for a year whose official holidays are not yet published; "
                   "correct it under Administration once they are.")
@with_appcontext
def calendar_import(year: int, provisional: bool) -> None:
    from hotline.extensions import db
    from hotline.sla import operations
    from workflows.deadlines import CalendarMissing
    try:
        count = operations.import_year(year, provisional=provisional)
        db.session.commit()
    except CalendarMissing as err:
        db.session.rollback()
        _fail(f"{err}\nThe chinesecalendar package does not know {year} yet. Upgrade it "
              f"(pip install -U chinesecalendar) once the State Council has published the holidays, or import "
              f"a provisional calendar with --provisional and correct the holidays by hand.")
    kind = "provisional (Mon–Fri)" if provisional else "official"
    click.echo(f"imported {count} days of {year}, {kind}")


@calendar_group.command("set")
@click.argument("day")
@click.option("--workday/--holiday", required=True, help="Whether DAY is a working day.")
@click.option("--note", help="Holiday or make-up day name.")
@with_appcontext
def calendar_set(day: str, workday: bool, note: str | None) -> None:
    """Mark one DAY (YYYY-MM-DD) as a working day or a holiday."""
    from datetime import date

    from hotline.extensions import db
    from hotline.sla import operations
    from workflows.deadlines import CalendarMissing
    try:
        when = date.fromisoformat(day)
    except ValueError:
        _fail(f"{day!r} is not a date like 2026-11-22")
    try:
        operations.set_day(when, workday, note)
        db.session.commit()
    except CalendarMissing as err:
        db.session.rollback()
        _fail(str(err))
    click.echo(f"{when.isoformat()} is now a {'working day' if workday else 'holiday'}")


@click.command("seed", help="Load the demo city: departments, categories, users, policies, orders.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has departments.")
@click.option("--orders", default=3000, show_default=True, help="How many demo orders.")
@with_appcontext
def seed_command(if_empty: bool, orders: int) -> None:
    from hotline.seed.demo import seed_demo
    seed_demo(orders=orders, if_empty=if_empty, echo=click.echo)


@click.group("files", help="The stored files (attachments of orders and articles).")
def files_group() -> None:
    pass


@files_group.command("prune", help="Remove stored files no order or article names any more, and uploads a "
                                   "crash left behind (files younger than --grace-hours are left).")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
@click.option("--grace-hours", default=1.0, show_default=True, type=click.FloatRange(min=0))
@with_appcontext
def files_prune_command(dry_run: bool, grace_hours: float) -> None:
    from hotline.core.files import human_size
    from hotline.maintenance import prune_files
    result = prune_files(grace_seconds=grace_hours * 3600, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {result.removed} file(s) no row names ({human_size(result.removed_bytes)}) and "
               f"{result.abandoned} abandoned upload(s); {result.kept} file(s) kept")


@click.command("worker", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               help="Run a Celery worker (extra arguments go to Celery).")
@click.pass_context
@with_appcontext
def worker_command(ctx: click.Context) -> None:
    from flask import current_app
    celery_app = current_app.extensions["celery"]
    celery_app.worker_main(["worker", "--loglevel=INFO", *ctx.args])


def register_commands(app: Flask) -> None:
    from hotline.celery import celery_init_app
    from hotline.escalation.cli import sla_group
    from hotline.knowledge.cli import knowledge_group
    from hotline.reports.cli import reports_group
    from hotline.similar.cli import similar_group, suggest_group
    from hotline.sms.cli import sms_group
    from hotline.telephony.cli import telephony_group
    from hotline.tickets.cli import tickets_group
    celery_init_app(app)
    from hotline.messaging.tasks import install_wake
    install_wake(app)
    for command in (users_group, calendar_group, seed_command, worker_command, telephony_group, sla_group,
                    sms_group, knowledge_group, reports_group, similar_group, suggest_group, files_group,
                    tickets_group):
        app.cli.add_command(command)


def main() -> None:
    from hotline import create_app
    cli = FlaskGroup(create_app=create_app, add_version_option=False,
                     help="The government service hotline platform.")
    cli.main(prog_name="hotline")
