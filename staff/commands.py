"""Operator commands: `flask --app app close-off` and `flask --app app export`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from config.services import services
from registrations.models import Registration
from staff import exports
from staff.closeoff import CloseOffFailed, Outcome, make_closeoff
from store.commands import needs_current_schema


@click.command("close-off")
@with_appcontext
@click.option("--event", "slug", help="Only this event (default: every event that is due).")
@click.option(
    "--force",
    is_flag=True,
    help="Close off before the deadline: the form closes for participants at once, for good.",
)
@click.option("--wait", default=120.0, show_default=True, help="Seconds to wait for the worker.")
@needs_current_schema
def close_off_command(slug: str | None, force: bool, wait: float) -> None:
    """Sync the last rows, write the summary, protect the sheet and e-mail staff.

    Quick no-op when nothing is due; safe to run from cron every minute and from several
    hosts at once. A close-off that cannot finish exits 1 and resumes on the next run.
    """
    svc = services()
    if slug is not None and slug not in svc.events:
        raise click.BadParameter(
            f"no event {slug!r}; known: {', '.join(svc.events)}", param_hint="--event"
        )
    closeoff = make_closeoff(svc, current_app.logger)
    if slug is None:
        events = closeoff.due(list(svc.events.values()))
        if not events:
            click.echo("Nothing is due.")
            return
    else:
        events = [svc.events[slug]]
    if not svc.worker.wait_for_lease(wait):
        raise click.ClickException(
            "another process keeps the spreadsheet lease; is a sync stuck? try again later"
        )
    try:
        for event in events:
            try:
                outcome = closeoff.run(event, force=force)
            except CloseOffFailed as exc:
                raise click.ClickException(f"{exc}; it resumes on the next run") from exc
            if outcome is Outcome.NOT_DUE:
                raise click.ClickException(
                    f"{event.slug}: registration is open until the end of "
                    f"{event.registration_deadline} ({event.timezone}); use --force to close "
                    "it off early"
                )
            done = "closed off" if outcome is Outcome.DONE else "already closed off"
            click.echo(f"{event.slug}: {done}.")
    finally:
        svc.worker.release_lease()


@click.command("export")
@with_appcontext
@click.option("--event", "slug", required=True, help="The event's slug.")
@click.option(
    "--list",
    "kind",
    required=True,
    type=click.Choice(sorted(exports.LISTS)),
    help="participants: everyone; insurance: PESEL or birth date; catering: portions per meal "
    "and diet; rooming: who stays the night.",
)
@click.option(
    "--format", "fmt", default="xlsx", show_default=True, type=click.Choice(["xlsx", "csv"])
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (CSV goes to standard output when omitted).",
)
@needs_current_schema
def export_command(slug: str, kind: str, fmt: str, output: Path | None) -> None:
    """Write a list staff need: participants, insurance, catering or rooming."""
    svc = services()
    event = svc.events.get(slug)
    if event is None:
        raise click.BadParameter(
            f"no event {slug!r}; known: {', '.join(svc.events)}", param_hint="--event"
        )
    with svc.store.transaction() as session:
        query = select(Registration).where(Registration.event_slug == slug)
        registrations = list(session.scalars(query.order_by(Registration.seq)))
    table = exports.LISTS[kind](event, registrations)
    if fmt == "csv":
        data = exports.to_csv(table)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        output.write_bytes(data)
    else:
        output = output or Path(f"{slug}-{kind}.xlsx")
        exports.write_xlsx(table, exports.TITLES[kind], output)
    click.echo(f"{exports.TITLES[kind]}: {len(table) - 1} row(s) written to {output}", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(close_off_command)
    app.cli.add_command(export_command)
