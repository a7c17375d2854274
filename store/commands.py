"""`flask --app app db …`: the database schema, and the start-up check of every other command.

Flask's CLI builds the app before it knows which command runs, and `db upgrade` must work on
a database the service refuses; so `create_app` leaves the check to the command when it is
built for one (see app.py), and every command that uses the store is `@needs_current_schema`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from catalogue.catalogue import CatalogueError
from config.services import Services, services
from config.settings import ConfigurationError
from store import schema
from store.db import failure_kind

P = ParamSpec("P")
R = TypeVar("R")

db_cli = AppGroup("db", help="The database schema: Alembic migrations in store/migrations.")


def prepare_or_refuse(svc: Services, logger: logging.Logger) -> None:
    """Create an empty database at the latest revision; refuse one that is behind.

    ConfigurationError: the process exits with the one-line message, no traceback.
    """
    try:
        created = schema.prepare(svc.store, svc.catalogue.files)
        svc.catalogue.check()  # an event file whose slug is in the store: named, start refused
    except (schema.SchemaError, CatalogueError) as exc:
        raise ConfigurationError(str(exc)) from None
    if created is not None:
        logger.info("created the database schema at revision %s", created)


def needs_current_schema(command: Callable[P, R]) -> Callable[P, R]:
    """The command refuses to run on a database that `db upgrade` has to bring up to date."""

    @functools.wraps(command)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            prepare_or_refuse(services(), current_app.logger)
        except SQLAlchemyError as exc:  # down or hung: one line, no traceback
            raise click.ClickException(
                f"the database is not available ({failure_kind(exc)}); nothing was done"
            ) from None
        return command(*args, **kwargs)

    checked.needs_current_schema = True  # type: ignore[attr-defined]
    return checked


def _database() -> str:
    return services().store.engine.url.render_as_string(hide_password=True)


def _upgrade() -> None:
    svc = services()
    click.echo(f"Database: {_database()}")
    try:
        schema.upgrade(svc.store, svc.catalogue.files, click.echo)
    except schema.SchemaError as exc:
        raise click.ClickException(str(exc)) from None


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Bring the database to the latest revision: an empty one, one at an older revision, or
    one created by the release before migrations (recognised as revision 0001)."""
    _upgrade()


@db_cli.command("current")
def current_command() -> None:
    """Print the database's revision and whether it is the latest."""
    click.echo(f"Database: {_database()}")
    status = schema.current(services().store)
    click.echo(f"Revision: {status.describe()}")
    if not status.current and not status.empty:
        click.echo(f"The service refuses to start: {status.problem()}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--empty", is_flag=True, help="No autogenerate: an empty revision to write by hand.")
def revision_command(message: str, empty: bool) -> None:
    """Write the next revision from the models' changes (store/migrations/versions).

    Compares the models with a scratch SQLite database at the latest revision; review the
    file it writes before you commit it.
    """
    path = schema.new_revision(message, autogenerate=not empty)
    if path is None:
        click.echo("The models and the migrations agree: no revision written.")
        return
    click.echo(f"Wrote {path}: review it, run the tests, commit it.")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Alias of `db upgrade` (scripts written before the migrations)."""
    _upgrade()


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(init_db_command)
