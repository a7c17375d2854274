"""`flask --app app init-db`: create or update the schema explicitly (the app also does it)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from config.services import services


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create missing tables and event rows in the configured database."""
    svc = services()
    svc.store.create_schema(svc.events)
    click.echo(f"Schema ready in {svc.store.engine.url.render_as_string(hide_password=True)}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
