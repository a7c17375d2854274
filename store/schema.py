"""The schema's lifecycle: Alembic revisions in store/migrations/versions, run under a lock.

- `prepare` runs at start-up (`create_app`, the worker commands): an empty database is created
  at the latest revision; a database at the latest revision is used as it is; anything else is
  refused with a `SchemaError` that names `flask --app app db upgrade`. No process but that
  command changes an existing schema.
- `upgrade` is `flask --app app db upgrade`: any database to the latest revision, including one
  created by the release before the migrations (its tables, no alembic_version), which is
  recognised as revision 0001 (stamped) and then upgraded.

Both also add the state row of each event file (data, not schema), and both run in one
transaction that first takes the migration lock: an advisory lock on PostgreSQL, the write lock
(`BEGIN IMMEDIATE`) on SQLite. Processes that start together (gunicorn -w 4 on a new database)
take turns: the first creates or upgrades, the others wait and find the database at head. A
failed migration rolls back whole, its version row with it (both databases have transactional
DDL).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, insert, inspect, select, text

from registrations.models import EventState
from store.db import Store, unbounded

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_COMMAND = "flask --app app db upgrade"
FIRST_REVISION = "0001"
# What `Base.metadata.create_all` made before there were migrations: revision 0001.
FIRST_RELEASE_TABLES = frozenset({"registrations", "event_state", "sync_status", "leases"})
# pg_advisory_xact_lock key of the migration lock: "owesmig" in ASCII.
LOCK_KEY = 0x6F7765736D6967


class SchemaError(Exception):
    """The database's schema is not the one this release needs; the message says what to do."""


@dataclass(frozen=True)
class Status:
    """Where a database stands against the migrations of this release."""

    revision: str | None  # the alembic_version row; None without one
    head: str  # the latest revision of this release
    tables: frozenset[str]
    known: bool  # whether this release has the revision

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.tables & FIRST_RELEASE_TABLES

    @property
    def before_migrations(self) -> bool:
        """Tables of the release before the migrations, which had no alembic_version."""
        return self.revision is None and not self.empty

    @property
    def current(self) -> bool:
        return self.revision == self.head

    def describe(self) -> str:
        if self.empty:
            return "none (empty database)"
        if self.before_migrations:
            return "none (tables of the release before migrations; recognised as 0001)"
        if not self.known:
            return f"{self.revision} (unknown to this release; head is {self.head})"
        return (
            f"{self.revision} (head)" if self.current else f"{self.revision} (head is {self.head})"
        )

    def problem(self) -> str:
        """One line for an operator: why the service will not start on this database."""
        if self.before_migrations:
            return (
                "the database has the tables of the release before migrations and no revision; "
                f"run `{UPGRADE_COMMAND}` (it keeps every row)"
            )
        if not self.known:
            return (
                f"the database is at revision {self.revision}, which this release does not have "
                f"(its latest is {self.head}): it was upgraded by a newer release; deploy that one"
            )
        return (
            f"the database is at revision {self.revision} but this release needs {self.head}; "
            f"run `{UPGRADE_COMMAND}`"
        )


def prepare(store: Store, event_slugs: Iterable[str]) -> str | None:
    """Start-up: create an empty database at head, else require head; add missing event rows.

    Returns the revision when it created the schema. Raises SchemaError when the database is
    behind, was created before the migrations, or is at a revision this release lacks.
    """
    scripts = _scripts()
    head = _head(scripts)
    with _locked(store) as connection:
        status = _status(connection, scripts, head)
        if status.empty:
            _run(connection, "upgrade", head)
        elif not status.current:
            raise SchemaError(status.problem())
        _add_event_rows(connection, event_slugs)
    return head if status.empty else None


def upgrade(
    store: Store,
    event_slugs: Iterable[str],
    echo: Callable[[str], Any],
    target: str = "head",
) -> Status:
    """`db upgrade`: bring any database to `target` (head), saying what it did."""
    scripts = _scripts()
    head = _head(scripts)
    with _locked(store) as connection:
        status = _status(connection, scripts, head)
        if status.revision is not None and not status.known:
            raise SchemaError(status.problem())
        if status.empty:
            echo("Empty database: creating the schema.")
        elif status.before_migrations:
            if missing := FIRST_RELEASE_TABLES - status.tables:
                raise SchemaError(
                    "the database has some tables of the release before migrations but not "
                    f"{', '.join(sorted(missing))}: it is not one that release made; "
                    "restore a backup or start from an empty database"
                )
            _run(connection, "stamp", FIRST_REVISION)
            echo(
                "Tables of the release before migrations, no revision: recognised as revision "
                f"{FIRST_REVISION} (stamped)."
            )
        applied = _run(connection, "upgrade", target)
        for step in applied:
            echo(f"Applied {step.up_revision_id}: {_title(scripts, step.up_revision_id or '')}")
        after = _status(connection, scripts, head)
        if after.revision == status.revision:
            echo(f"Already at revision {after.describe()}: nothing to upgrade.")
        else:
            echo(f"Now at revision {after.describe()}.")
        if after.current and (added := _add_event_rows(connection, event_slugs)):
            echo(f"Added the state rows of {added} event(s).")
    return after


def current(store: Store) -> Status:
    """`db current`: where the database stands (read only, no lock)."""
    scripts = _scripts()
    with store.engine.connect() as connection:
        return _status(connection, scripts, _head(scripts))


def new_revision(
    message: str,
    *,
    autogenerate: bool = True,
    migrations: Path | None = None,
    metadata: MetaData | None = None,
) -> Path | None:
    """`db revision`: write the next numbered revision; None when the models did not change.

    Autogenerate compares the models with a scratch SQLite database migrated to head, so the
    result does not depend on the state of any real database.
    """
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Store(f"sqlite:///{Path(scratch_dir) / 'scratch.sqlite3'}")
        try:
            with _locked(scratch) as connection:
                _run(connection, "upgrade", "head", migrations=migrations, metadata=metadata)
                config = _config(connection, migrations=migrations, metadata=metadata)
                scripts = ScriptDirectory.from_config(config)
                written = command.revision(
                    config,
                    message=message,
                    autogenerate=autogenerate,
                    rev_id=_next_revision_id(scripts),
                    process_revision_directives=_skip_if_unchanged if autogenerate else None,
                )
        finally:
            scratch.dispose()
    if written is None or isinstance(written, list):  # nothing written (or a multi-head split)
        return None
    path = Path(written.path)
    _format(path)
    return path


def _skip_if_unchanged(context: MigrationContext, revision: Any, directives: list[Any]) -> None:
    script = directives[0]
    if isinstance(script, MigrationScript) and all(
        ops.is_empty() for ops in script.upgrade_ops_list
    ):
        directives[:] = []


def _format(path: Path) -> None:
    """Ruff as the code-quality tests want it, where the developer tools are installed."""
    if find_spec("ruff") is None:
        return
    for args in (["format", "--quiet"], ["check", "--fix", "--quiet"]):
        subprocess.run([sys.executable, "-m", "ruff", *args, str(path)], check=False)


def _scripts(migrations: Path | None = None) -> ScriptDirectory:
    return ScriptDirectory(str(migrations or MIGRATIONS))


def _head(scripts: ScriptDirectory) -> str:
    heads = scripts.get_heads()
    if len(heads) != 1:
        raise SchemaError(
            f"store/migrations/versions has {len(heads)} latest revisions "
            f"({', '.join(sorted(heads)) or 'none'}); each revision must follow exactly one "
            "other: renumber yours and set its down_revision to the other's"
        )
    return heads[0]


def _title(scripts: ScriptDirectory, revision: str) -> str:
    script = scripts.get_revision(revision)
    return (script.doc or "").strip() if script is not None else ""


def _next_revision_id(scripts: ScriptDirectory) -> str:
    numbers = [int(s.revision) for s in scripts.walk_revisions() if s.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


@contextmanager
def _locked(store: Store) -> Iterator[Connection]:
    """One transaction holding the migration lock; it commits on success."""
    store.use_wal()
    # SQLite: the store's engine begins every transaction with BEGIN IMMEDIATE, the one write
    # lock of the file; a second process waits for it (busy timeout) and then sees the result.
    with store.engine.begin() as connection, unbounded(connection):
        # No time limit: a migration may rewrite a big table, and a process that starts while
        # another migrates waits for its lock until it is done.
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield connection


def _status(connection: Connection, scripts: ScriptDirectory, head: str) -> Status:
    tables = frozenset(inspect(connection).get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = MigrationContext.configure(connection).get_current_revision()
    known = revision is None or revision in {s.revision for s in scripts.walk_revisions()}
    return Status(revision=revision, head=head, tables=tables, known=known)


def _config(
    connection: Connection, *, migrations: Path | None = None, metadata: MetaData | None = None
) -> Config:
    """Alembic's configuration, made here: the URL is the app's, through its connection."""
    config = Config()
    config.set_main_option("script_location", str(migrations or MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    if metadata is not None:
        config.attributes["target_metadata"] = metadata
    return config


def _run(
    connection: Connection,
    action: str,
    revision: str,
    *,
    migrations: Path | None = None,
    metadata: MetaData | None = None,
) -> list[MigrationInfo]:
    """`command.upgrade` or `command.stamp` on the locked connection; the steps it applied."""
    applied: list[MigrationInfo] = []

    def record(*, step: MigrationInfo, **_: Any) -> None:
        applied.append(step)

    config = _config(connection, migrations=migrations, metadata=metadata)
    config.attributes["on_version_apply"] = record
    if action == "upgrade":
        command.upgrade(config, revision)
    elif action == "stamp":
        command.stamp(config, revision)
    else:
        raise ValueError(action)
    return applied


def _add_event_rows(connection: Connection, event_slugs: Iterable[str]) -> int:
    """One state row per event file (the seat-allocation lock); data, so also at start-up."""
    known = set(connection.scalars(select(EventState.slug)))
    new = [{"slug": slug} for slug in dict.fromkeys(event_slugs) if slug not in known]
    if new:
        connection.execute(insert(EventState), new)
    return len(new)
