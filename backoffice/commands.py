"""`flask --app app staff link --email ADDRESS`: the way in before mail works."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from backoffice.access import backoffice
from config.services import services
from registrations.history import COMMAND, Action, record
from store.commands import needs_current_schema

staff_cli = AppGroup("staff", help="The staff pages (/obsluga/).")


@staff_cli.command("link")
@click.option("--email", required=True, help="An address on the staff lists.")
@needs_current_schema
def link_command(email: str) -> None:
    """Print a one-time sign-in link for a listed address (valid STAFF_LINK_MINUTES).

    Nothing is e-mailed: the link is for the person at the terminal, e.g. the first sign-in
    before the mail server is set up. An address on neither staff list exits 1.
    """
    svc = services()
    office = backoffice()
    if office.lists.role(email) is None:
        raise click.ClickException(
            "this address is on neither staff list (STAFF_EMAILS, CHECKIN_EMAILS, or "
            "staff_emails/checkin_emails in the organisation file)"
        )
    now = svc.now()
    with svc.store.transaction() as session:
        _, token = office.links.issue(session, email, None, now)
        record(session, actor=COMMAND, action=Action.SIGN_IN_LINK_PRINTED, at=now)
    minutes = svc.settings.staff_link_minutes
    click.echo(office.links.url(token))
    click.echo(f"Valid for {minutes} minute(s), once: open it and press „Zaloguj się”.", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(staff_cli)
