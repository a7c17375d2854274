"""Operator commands: `flask --app app sheets check` and `flask --app app sheets sync`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from config.organisation import placeholder_warning
from config.services import Services, services
from registrations.event import Event
from registrations.models import Registration
from sheets.factory import make_syncer
from sheets.rows import missing_headers, renamed_headers
from sheets.sink import SinkError, key_fingerprint
from sheets.syncer import Syncer
from store.commands import needs_current_schema

sheets_cli = AppGroup("sheets", help="The spreadsheet the registrations are synced to.")


@sheets_cli.command("check")
@click.option("--create", is_flag=True, help="Create missing worksheets and header cells.")
@needs_current_schema
def check_command(create: bool) -> None:
    """Verify the whole chain to the spreadsheet and say what to fix."""
    svc = services()
    click.echo(f"Sink: {type(svc.sink).__name__}")
    # A warning, not a problem: the sheet works, but participants read the placeholders.
    if unfilled := placeholder_warning(svc.organisation, svc.settings.organisation_file):
        click.secho(f"! warning: {unfilled}", fg="yellow", err=True)
    if create and not svc.worker.wait_for_lease(60):
        raise click.ClickException("another process keeps the spreadsheet lease; try again")
    # --create repairs through the syncer: a recreated worksheet is refilled from the store.
    repair = (
        make_syncer(svc, current_app.logger, still_leader=svc.worker.renew_lease)
        if create
        else None
    )
    problems = 0
    try:
        for event in svc.events.values():
            try:
                problems += _check_event(svc, event, repair)
            except SinkError as exc:
                where = svc.sink.describe(event)
                problem = _shown(svc, event, exc)
                click.secho(f"✗ {event.slug} → {where}: {problem}", fg="red", err=True)
                problems += 1
    finally:
        if create:
            svc.worker.release_lease()
    if problems:
        raise click.ClickException(f"{problems} problem(s) found; fix them and run again")
    click.secho("Everything is in order.", fg="green")


def _shown(svc: Services, event: Event, exc: SinkError) -> str:
    """The problem as the operator at the terminal reads it: with the spreadsheet key they set
    (the log has only its fingerprint)."""
    key = event.sheets.spreadsheet_id or getattr(svc.sink, "spreadsheet_id", None)
    return str(exc).replace(key_fingerprint(key), key) if key else str(exc)


def _check_event(svc: Services, event: Event, repair: Syncer | None) -> int:
    """0 when the event's worksheet and header are in order; with a syncer, repair them first."""
    target = svc.sink.describe(event)  # no spreadsheet key: output may end up in a log
    if repair is not None and _has_registrations(svc, event):
        report = repair.sync_event(event, raise_errors=True, check_sheet=True)
        for done in report.repairs if report else []:
            click.echo(f"+ {event.slug} → {target}: {done}")
        if report and (report.appended or report.updated or report.decided):
            click.echo(
                f"+ {event.slug} → {target}: {report.appended} row(s) appended, "
                f"{report.updated} updated in place, {report.decided} decision(s) applied"
            )
    sheet = svc.sink.find(event)
    if sheet is None:
        if not _has_registrations(svc, event):
            click.echo(
                f"✓ {event.slug} → {target}: no registrations yet; the worksheet is "
                "created with the first one"
            )
            return 0
        return _problem(
            f"{event.slug} → {target}: worksheet {event.worksheet_title!r} is missing; the "
            "worker recreates and refills it within a minute, or run "
            "`flask --app app sheets check --create` now"
        )
    table = sheet.read()
    header = table[0] if table else []
    if header and not header[0].strip():
        return _problem(f"{event.slug} → {target}: header cell A1 is empty; name that column")
    if renamed := renamed_headers(header):  # an earlier release's name: not a problem
        header = list(header)
        for column, name in renamed:
            click.echo(
                f"! {event.slug} → {target}: header {header[column]!r} is renamed {name!r} in "
                "place at the next write"
            )
            header[column] = name
    if missing := missing_headers(header):
        return _problem(
            f"{event.slug} → {target}: header row lacks {', '.join(missing)}; the next sync "
            "adds them at its end, or run with --create"
        )
    click.echo(f"✓ {event.slug} → {target}: worksheet and header in order")
    return 0


def _has_registrations(svc: Services, event: Event) -> bool:
    with svc.store.transaction() as session:
        query = select(Registration.id).where(Registration.event_slug == event.slug).limit(1)
        return session.scalar(query) is not None


def _problem(message: str) -> int:
    click.secho(f"✗ {message}", fg="red", err=True)
    return 1


@sheets_cli.command("sync")
@click.option("--loop", is_flag=True, help="Keep syncing every SYNC_INTERVAL_SECONDS (a service).")
@needs_current_schema
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
