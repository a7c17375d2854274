"""`flask --app app registration …`: what staff correct for a participant by hand."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from config.services import services
from jobs.worker import StoreAway
from mail.outbox import backlog
from registrations.operations import AlreadyRegistered, Invalid, NotFound, StoreUnavailable
from store.commands import needs_current_schema

registration_cli = AppGroup("registration", help="Corrections staff make to one registration.")


@registration_cli.command("set-email")
@click.option(
    "--id", "registration_id", required=True, help="The registration ID, e.g. R-7K3F-9Q2M."
)
@click.option("--email", required=True, help="The participant's correct e-mail address.")
@needs_current_schema
def set_email_command(registration_id: str, email: str) -> None:
    """Correct a participant's e-mail address; their private link is sent to the new one.

    The old link stops working (it may have reached a stranger at the mistyped address).
    """
    svc = services()
    try:
        found = svc.registrations.by_id(registration_id)
        event = svc.events.get(found.event_slug)
        if event is None:
            raise click.ClickException(f"{found.id}: its event {found.event_slug!r} has no file")
        changed = svc.registrations.set_email(event, found.id, email, now=svc.now())
    except NotFound:
        raise click.ClickException(f"no registration {registration_id!r}") from None
    except Invalid as invalid:
        raise click.BadParameter(invalid.errors["email"], param_hint="--email") from None
    except AlreadyRegistered:
        raise click.ClickException(
            f"{found.event_slug} already has a registration of this name at this address"
        ) from None
    except StoreUnavailable as exc:
        raise click.ClickException(f"the database is not available: {exc}") from None
    try:
        svc.mail_worker.run_once()  # the e-mail goes out now, not when a web worker wakes
    except StoreAway as away:
        raise click.ClickException(
            f"{changed.id}: e-mail address changed; the link waits in the outbox: the database "
            f"is not available ({away.kind})"
        ) from None
    with svc.store.transaction() as session:
        waiting = backlog(session).waiting
    sent = "sent to it" if not waiting else "queued for it (sent once the mail server answers)"
    click.echo(f"{changed.id}: e-mail address changed; the private link was {sent}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(registration_cli)
