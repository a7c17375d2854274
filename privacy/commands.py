"""Operator commands: `flask --app app erase` (RODO art. 17) and `flask --app app retention`."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from config.services import Services, services
from privacy.erasure import Eraser, EventErasure, SheetOutcome
from privacy.retention import Retention
from registrations.erasure import ErasedBy
from registrations.event import Event
from registrations.history import COMMAND, Action, record_alone
from registrations.models import Registration
from registrations.operations import StoreUnavailable
from registrations.validators import normalise_email
from store.commands import needs_current_schema

WAIT_HELP = "Seconds to wait for the worker's spreadsheet lease."
# What a compacted database still holds, by SQLAlchemy dialect: said after every erasure.
COMPACTED = {
    "sqlite": [
        "database: compacted (VACUUM with secure_delete, its WAL emptied): no copy of the data "
        "left in its files; copies of them in backups stay until those are deleted",
    ],
    "postgresql": [
        "database: registrations, outbox, status_changes and link_requests rewritten with "
        "VACUUM FULL (indexes "
        "and TOAST too): no copy of the data left in those tables' files. PostgreSQL still "
        "keeps it, beyond the service's reach:",
        "- in its write-ahead log (pg_wal) until later writes overwrite those segments: after "
        "about max_wal_size of later changes (1 GB by default), weeks on a quiet server",
        "- in WAL archives (archive_mode) and base backups, until they are deleted",
        "- on replicas, in their files and WAL, as on this server before the erasure",
        "- in disk blocks the rewrite freed, until the file system reuses them",
    ],
}


@click.command("erase")
@with_appcontext
@click.option("--id", "registration_id", help="The registration ID, e.g. R-7K3F-9Q2M.")
@click.option("--email", help="The person's e-mail address: their registration for each event.")
@click.option("--event", "slug", help="Only this event (with --email; default: every event).")
@click.option("--wait", default=30.0, show_default=True, help=WAIT_HELP)
@needs_current_schema
def erase_command(
    registration_id: str | None, email: str | None, slug: str | None, wait: float
) -> None:
    """Erase a person's data everywhere (RODO art. 17): store, e-mails, exports, sheet.

    The registration is cancelled (its seat goes to the waiting list) and keeps only its ID,
    event, status and powiat. Its sheet row is deleted now, or by the worker at a later round
    when the sheet does not answer. E-mails are only removed, never sent: one to a person
    promoted to the freed seat waits in the outbox for the service's mail sender. Running it
    again changes nothing.
    """
    svc = services()
    if (registration_id is None) == (email is None):
        raise click.UsageError("give exactly one of --id and --email")
    if slug is not None and slug not in svc.events:
        raise click.BadParameter(
            f"no event {slug!r}; known: {', '.join(svc.events)}", param_hint="--event"
        )
    targets = _targets(svc, registration_id, email, slug)
    if not targets:
        who = (
            f"registration {registration_id!r}"
            if registration_id
            else "registration with this address"
        )
        where = f" for {slug}" if slug else ""
        click.echo(f"No {who}{where} holds personal data (never registered, or erased before).")
    eraser = Eraser(svc, current_app.logger)
    command = "erase --id" if registration_id else "erase --email"
    for event_slug, ids in targets.items():
        event = svc.events[event_slug]
        try:
            result = eraser.erase(event, ids, by=ErasedBy.REQUEST, command=command)
            _record(svc, event, result)
        except StoreUnavailable as exc:
            raise click.ClickException(f"the database is not available: {exc}") from None
        _echo_erasure(result, svc.instance_path, svc.store.engine.dialect.name)
    _complete_sheet(eraser, _with_sheet_work(svc, [svc.events[s] for s in targets]), wait)


@click.command("retention")
@with_appcontext
@click.option("--wait", default=30.0, show_default=True, help=WAIT_HELP)
@needs_current_schema
def retention_command(wait: float) -> None:
    """List when each event's registrations are erased (`retention_days` in its file) and
    erase those that are due. Quick no-op when nothing is due; safe to run from cron."""
    svc = services()
    retention = Retention(svc, current_app.logger, command="retention")
    due = []
    for plan in retention.plan(list(svc.events.values())):
        slug = plan.event.slug
        if plan.purge_on is None:
            click.echo(f"{slug}: kept (no retention_days in its event file).")
        elif plan.due:
            click.echo(
                f"{slug}: due since {plan.purge_on}: erasing {plan.remaining} registration(s)."
            )
            due.append(plan.event)
        elif plan.purged_at is not None:
            when = plan.event.local(plan.purged_at).date()
            click.echo(f"{slug}: erased on {when} (retention_days ended {plan.purge_on}).")
        else:
            click.echo(f"{slug}: {plan.remaining} registration(s) to erase on {plan.purge_on}.")
    for event in due:
        result = retention.purge(event)
        _record(svc, event, result)
        _echo_erasure(result, svc.instance_path, svc.store.engine.dialect.name)
    if not due:
        click.echo("Nothing is due.")
    _complete_sheet(retention.eraser, _with_sheet_work(svc, list(svc.events.values())), wait)


def _targets(
    svc: Services, registration_id: str | None, email: str | None, slug: str | None
) -> dict[str, list[str]]:
    """The registrations to erase, by event; an erased one again only by its ID."""
    query = select(Registration.id, Registration.event_slug)
    if registration_id is not None:
        query = query.where(Registration.id == registration_id.strip().upper())
    else:
        assert email is not None
        try:
            key = normalise_email(email.strip()).casefold()
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--email") from None
        query = query.where(Registration.email_key == key)
    if slug is not None:
        query = query.where(Registration.event_slug == slug)
    with svc.store.transaction() as session:
        found = list(session.execute(query.order_by(Registration.seq)))
    targets: dict[str, list[str]] = defaultdict(list)
    for found_id, event_slug in found:
        if event_slug not in svc.events:
            raise click.ClickException(f"{found_id}: its event {event_slug!r} has no file")
        targets[event_slug].append(found_id)
    shared = {slug: ids for slug, ids in targets.items() if len(ids) > 1}
    if email is not None and shared:  # colleagues sharing one address: say whom, erase nobody
        listed = "; ".join(f"{slug}: {', '.join(ids)}" for slug, ids in shared.items())
        raise click.ClickException(
            "the address matches several people in one event, so nothing was erased; "
            f"erase the person by ID (--id): {listed}"
        )
    return dict(targets)


def _record(svc: Services, event: Event, result: EventErasure) -> None:
    """The erasure in the staff's history: the IDs only (they stay in the store anyway)."""
    erased = [o.registration_id for o in result.outcomes if not o.already]
    if erased:
        record_alone(
            svc.store,
            actor=COMMAND,
            action=Action.ERASED,
            at=svc.now(),
            event_slug=event.slug,
            registration_ids=erased,
        )


def _with_sheet_work(svc: Services, events: list[Event]) -> list[Event]:
    """The events whose sheet still holds a row of an erased registration."""
    with svc.store.transaction() as session:
        query = select(Registration.event_slug).where(
            Registration.erased_at.is_not(None), Registration.sheet_erased_at.is_(None)
        )
        pending = set(session.scalars(query.distinct()))
    return [event for event in events if event.slug in pending]


def _echo_erasure(result: EventErasure, instance: Path, dialect: str) -> None:
    slug = result.event.slug
    for outcome in result.outcomes:
        if outcome.already:
            click.echo(f"{outcome.registration_id} ({slug}): erased before; nothing to remove.")
            continue
        status = (
            f"{outcome.old_status.value} → {outcome.new_status.value}"
            if outcome.old_status is not outcome.new_status
            else f"{outcome.new_status.value}, kept"
        )
        click.echo(
            f"{outcome.registration_id} ({slug}): personal data removed from the store "
            f"(kept: ID, event, status {status}, powiat)."
        )
    if not result.compacted:
        click.echo("  database: busy, not compacted; run the command again to compact it")
    if not result.erased:
        return
    click.echo(
        f"  outbox: {result.outbox_rows} message(s) removed, "
        f"{result.staff_messages} staff e-mail(s) still to send rewritten without the person"
    )
    click.echo(
        f"  {_shown(instance / 'mail', instance)}: {len(result.mail_files)} .eml file(s) removed"
    )
    click.echo(
        f"  {_shown(instance / 'exports', instance)}: {len(result.export_files)} export file(s) "
        f"of {slug} removed"
    )
    if result.compacted:
        for line in COMPACTED.get(dialect, ["database: compacted"]):
            click.echo(f"  {line}")


def _complete_sheet(eraser: Eraser, events: list[Event], wait: float) -> None:
    for outcome in eraser.complete_sheet(events, wait) if events else []:
        _echo_sheet(outcome)


def _echo_sheet(outcome: SheetOutcome) -> None:
    if outcome.deleted is not None:
        click.echo(f"  worksheet {outcome.worksheet!r}: {outcome.deleted} row(s) deleted")
        return
    click.echo(
        f"  worksheet {outcome.worksheet!r}: not reached ({outcome.problem}); the worker "
        "deletes the row(s) at a later round and never writes them again meanwhile"
    )


def _shown(path: Path, instance: Path) -> str:
    return f"instance/{path.relative_to(instance)}"


def init_app(app: Flask) -> None:
    app.cli.add_command(erase_command)
    app.cli.add_command(retention_command)
