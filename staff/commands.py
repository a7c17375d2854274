"""Operator commands: `flask --app app close-off` and `flask --app app export`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from config.services import services
from jobs.worker import StoreAway
from registrations.history import COMMAND, Action, record_alone
from staff import export_files, exports, lists, question_lists
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
            except SQLAlchemyError as exc:  # the database went away mid-way
                raise click.ClickException(
                    f"close-off of {event.slug} not finished: the database failed "
                    f"({exc.__class__.__name__}); it resumes on the next run"
                ) from exc
            if outcome is Outcome.NOT_DUE:
                raise click.ClickException(
                    f"{event.slug}: registration is open until the end of "
                    f"{event.registration_deadline} ({event.timezone}); use --force to close "
                    "it off early"
                )
            if force and outcome is Outcome.DONE:
                record_alone(
                    svc.store,
                    actor=COMMAND,
                    action=Action.REGISTRATION_CLOSED,
                    at=svc.now(),
                    event_slug=event.slug,
                )
            done = "closed off" if outcome is Outcome.DONE else "already closed off"
            click.echo(f"{event.slug}: {done}.")
    finally:
        svc.worker.release_lease()
    try:
        svc.mail_worker.run_once()  # the staff e-mail goes out now, from cron too
    except StoreAway as away:
        raise click.ClickException(
            f"the staff e-mail waits in the outbox: the database is not available ({away.kind})"
        ) from None


LIST_HELP = (
    "participants: everyone; insurance: PESEL or birth date; catering: portions per meal and "
    "diet; rooming: who stays the night; attendance: a list to sign for each day; badges: name "
    "badges, 8 to an A4 sheet; choice (with --question): the people per choice of a question."
)
FORMAT_HELP = (
    "; ".join(f"{kind}: {', '.join(formats)}" for kind, formats in exports.FORMATS.items())
    + f"; choice: {', '.join(question_lists.CHOICE_FORMATS)}"
    + ". The first is the default."
)


@click.command("export")
@with_appcontext
@click.option("--event", "slug", required=True, help="The event's slug.")
@click.option(
    "--list",
    "kind",
    required=True,
    type=click.Choice([*exports.FORMATS, question_lists.CHOICE_LIST]),
    help=LIST_HELP,
)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "pdf"]), help=FORMAT_HELP)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="File to write, or - for standard output. Default: <event>-<list>.<format> in the "
    "instance folder's exports/.",
)
@click.option(
    "--question",
    help="With --list choice: the key of a wybor or wiele question (the people per choice, "
    "e.g. the bus list per pick-up point).",
)
@click.option(
    "--marked",
    is_flag=True,
    help="attendance: with the presence recorded on the day filled in (time, or nieobecność "
    "once the day has ended).",
)
@needs_current_schema
def export_command(
    slug: str,
    kind: str,
    fmt: str | None,
    output: Path | None,
    question: str | None,
    marked: bool = False,
) -> None:
    """Write a list staff need: a spreadsheet (XLSX, CSV) or a PDF to print."""
    svc = services()
    event = svc.events.get(slug)
    if event is None:
        raise click.BadParameter(
            f"no event {slug!r}; known: {', '.join(svc.events)}", param_hint="--event"
        )
    folder = svc.instance_path / export_files.EXPORTS
    if output not in (None, Path("-")) and _stray_in_instance(output, svc.instance_path, folder):
        raise click.BadParameter(
            f"{output} is in the instance folder but not in its exports/: an erasure deletes "
            f"the lists in {folder} and nothing else there, so write it there (or outside the "
            "instance folder, where it is yours to delete)",
            param_hint="--output",
        )
    formats = exports.FORMATS.get(kind, question_lists.CHOICE_FORMATS)
    fmt = fmt or formats[0]
    if fmt not in formats:
        raise click.BadParameter(
            f"the {kind} list comes as {' or '.join(formats)}, not {fmt}", param_hint="--format"
        )
    if kind == question_lists.CHOICE_LIST and not question:
        raise click.BadParameter("the choice list needs --question KEY", param_hint="--question")
    if marked and kind != "attendance":
        raise click.BadParameter("only the attendance list comes marked", param_hint="--marked")
    try:
        data, what = lists.build(
            svc.store,
            kind,
            fmt,
            event,
            svc.now(),
            organisation_logo=svc.organisation.logo_strip,
            question=question,
            marked=marked,
        )
    except question_lists.NotAChoiceQuestion as exc:
        raise click.BadParameter(str(exc), param_hint="--question") from None
    record_alone(
        svc.store,
        actor=COMMAND,
        action=Action.LIST_EXPORTED,
        at=svc.now(),
        event_slug=slug,
        detail=f"{kind}.{fmt}",
    )
    title = exports.TITLES.get(kind, question_lists.CHOICE_TITLE)
    if output == Path("-"):
        if fmt != "csv" and sys.stdout.isatty():
            raise click.UsageError(f"{fmt.upper()} is binary: redirect standard output to a file")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        click.echo(f"{title}: {what} written to standard output", err=True)
        return
    name = f"{kind}-{question}" if kind == question_lists.CHOICE_LIST else kind
    path = output or folder / f"{slug}-{name}.{fmt}"
    tracked = export_files.inside(folder, path)
    if output is None or (tracked and path.resolve().parent == folder.resolve()):
        folder.mkdir(parents=True, exist_ok=True)
    try:
        write_atomically(data, path)
        if tracked:
            export_files.note(path, slug)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    click.echo(f"{title}: {what} written to {path}")
    if tracked:
        note = f"deleted when a registration of {slug} is erased (export it again then)"
        click.echo(f"{path.name}: {note}", err=True)


def _stray_in_instance(path: Path, instance: Path, exports_folder: Path) -> bool:
    """Whether `path` is in the instance folder outside exports/, where an erasure would leave
    the person's data behind (however the path is spelt, through links too)."""
    return export_files.inside(instance, path) and not export_files.inside(exports_folder, path)


def write_atomically(data: bytes, path: Path) -> None:
    """Write to a temporary file beside `path` and rename: never half a list for staff to
    open or print, and an older list stays whole when writing fails."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def init_app(app: Flask) -> None:
    app.cli.add_command(close_off_command)
    app.cli.add_command(export_command)
