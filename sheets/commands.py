"""Operator commands: `flask --app app sheets check` and `flask --app app sheets sync`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from config.services import Services, services
from sheets.factory import make_syncer
from sheets.rows import missing_headers
from sheets.sink import SinkError

sheets_cli = AppGroup("sheets", help="The spreadsheet the registrations are synced to.")


@sheets_cli.command("check")
@click.option("--create", is_flag=True, help="Create missing worksheets and header cells.")
def check_command(create: bool) -> None:
    """Verify the whole chain to the spreadsheet and say what to fix."""
    svc = services()
    problems = 0
    click.echo(f"Sink: {type(svc.sink).__name__}")
    for event in svc.events.values():
        target = svc.sink.target(event)
        try:
            problems += _check_event(svc, event.slug, create)
        except SinkError as exc:
            click.secho(f"✗ {event.slug} → {target}: {exc}", fg="red", err=True)
            problems += 1
    if problems:
        raise click.ClickException(f"{problems} problem(s) found; fix them and run again")
    click.secho("Everything is in order.", fg="green")


def _check_event(svc: Services, slug: str, create: bool) -> int:
    from sheets.google import GoogleSheetsSink

    event = svc.events[slug]
    sink = svc.sink
    if isinstance(sink, GoogleSheetsSink) and not create:
        spreadsheet = sink.open_spreadsheet(event)
        with sink.errors(f"spreadsheet {spreadsheet.id}"):
            titles = [ws.title for ws in spreadsheet.worksheets()]
        if event.worksheet_title not in titles:
            click.secho(
                f"✗ {slug}: worksheet {event.worksheet_title!r} is missing in spreadsheet "
                f"{spreadsheet.title!r}; run `flask --app app sheets check --create`",
                fg="red",
                err=True,
            )
            return 1
    opened = sink.open(event)
    header = opened.sheet.header()
    missing = missing_headers(header)
    if missing and create:
        opened.sheet.add_headers(missing, len(header))
        missing = []
    if missing:
        click.secho(
            f"✗ {slug}: header row lacks {', '.join(missing)}; they are added on the next sync "
            "or now with --create",
            fg="red",
            err=True,
        )
        return 1
    state = "created" if opened.created else "present"
    click.echo(f"✓ {slug} → {sink.target(event)}: worksheet {state}, header complete")
    return 0


@sheets_cli.command("sync")
@click.option("--loop", is_flag=True, help="Keep syncing every SYNC_INTERVAL_SECONDS (a service).")
def sync_command(loop: bool) -> None:
    """Append pending registrations to the spreadsheet now (cron, or a service with --loop)."""
    svc = services()
    worker = svc.worker
    if loop:
        click.echo(f"Syncing every {svc.settings.sync_interval_seconds:g} s; Ctrl+C stops.")
        try:
            worker.run_forever()
        except KeyboardInterrupt:
            worker.stop()
        return
    syncer = make_syncer(svc, current_app.logger, still_leader=worker.renew_lease)
    if not worker.renew_lease():
        click.echo("Another process holds the sync lease and is syncing; nothing to do.")
        return
    try:
        complete = syncer.sync(list(svc.events.values()))
    finally:
        worker.stop()
    if not complete:
        raise click.ClickException("some registrations could not be synced; see the log above")
    click.echo("All registrations are in the spreadsheet.")


def init_app(app: Flask) -> None:
    app.cli.add_command(sheets_cli)
