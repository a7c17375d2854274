"""Migrations: a database of the release before them keeps every row through `db upgrade`;
the migrations make exactly the models; a database that is behind is refused until upgraded.

"Today's schema" comes from a frozen copy of its DDL (tests/first_release_schema.py), never from
the models, which change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from pprint import pformat
from typing import Any

import click
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy import Column, MetaData, String, Table, create_engine, inspect, select, text

from app import create_app
from config.settings import DEFAULT_EVENTS_DIR, ConfigurationError, Settings
from registrations.enterprise import enterprise_key
from registrations.identity import name_key
from registrations.models import NAMING_CONVENTION, Base, EventState, Registration
from store import Store, schema
from store.models import Lease, SyncStatus
from tests.conftest import flask_process, reset_postgres
from tests.first_release_schema import DDL

EVENTS = sorted(path.stem for path in DEFAULT_EVENTS_DIR.glob("*.toml"))


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


# Rows as the release before migrations wrote them, with what the models must read back.
ROWS: dict[str, list[dict[str, Any]]] = {
    "registrations": [
        {
            "seq": 1,
            "id": "K7X2P9QM",
            "event_slug": "klaster-2018",
            "received_at": at("2018-08-20T12:15:30.123456+02:00"),
            "status": "confirmed",
            "source": "form",
            "first_name": "Żaneta",
            "last_name": "Gęślą-Źdźbło",
            "enterprise_name": "Spółdzielnia Socjalna „Łużyce”",
            "enterprise_key": "spółdzielnia socjalna łużyce",
            "powiat": "0811",
            "role": "prezeska zarządu",
            "email": "Zaneta.Gesla@example.pl",
            "email_key": "zaneta.gesla@example.pl",
            "phone": "+48 533 316 283",
            "pesel": "02270803624",
            "birth_date": None,
            "accommodation": True,
            "diet": "vegetarian",
            "diet_other": None,
            "special_needs": "Wózek; pokój na parterze, blisko łazienki",
            "consent_personal_data": True,
            "consent_image": False,
            "consent_version": "2018-07",
            "consent_given_at": at("2018-08-20T12:15:30.123456+02:00"),
            "synced_to": "local:klaster-2018.xlsx#Zgłoszenia – Klaster",
            "synced_at": at("2018-08-20T12:15:35+02:00"),
        },
        {
            "seq": 2,
            "id": "Q4W8E2RT",
            "event_slug": "klaster-2018",
            "received_at": at("2018-08-21T23:59:59.999999+02:00"),
            "status": "waitlisted",
            "source": "api",
            "first_name": "Łucja",
            "last_name": "Ćwikła",
            "enterprise_name": "Fundacja „Źródło” w Żarach",
            "enterprise_key": "fundacja źródło w żarach",
            "powiat": "0811",
            "role": None,
            "email": "lucja@example.pl",
            "email_key": "lucja@example.pl",
            "phone": "+48 68 123 45 67",
            "pesel": None,
            "birth_date": date(1985, 3, 14),
            "accommodation": False,
            "diet": "other",
            "diet_other": "bez laktozy, żadnych orzechów",
            "special_needs": None,
            "consent_personal_data": True,
            "consent_image": True,
            "consent_version": "2018-07",
            "consent_given_at": at("2018-08-21T23:59:59.999999+02:00"),
            "synced_to": None,
            "synced_at": None,
        },
    ],
    "event_state": [
        {
            "slug": "klaster-2018",
            "closing_started_at": at("2018-08-23T00:00:04+02:00"),
            "closed_off_at": at("2018-08-23T00:00:09.5+02:00"),
            "summary_written_at": at("2018-08-23T00:00:06+02:00"),
            "protected_at": at("2018-08-23T00:00:07+02:00"),
            "mail_claimed_at": at("2018-08-23T00:00:08+02:00"),
            "mail_sent_at": at("2018-08-23T00:00:09+02:00"),
            "close_off_error": None,
        },
    ],
    "sync_status": [
        {
            "target": "google:1AbCdEf/Zgłoszenia – Klaster",
            "last_success_at": at("2018-08-20T12:15:35+02:00"),
            "last_error": "Arkusz „Zgłoszenia – Klaster” jest niedostępny",
            "last_error_code": "no_access",
            "last_error_at": at("2018-08-21T08:00:00+02:00"),
        },
    ],
    "leases": [
        {
            "name": "sheets-sync",
            "holder": "serwer-łódź:4242",
            "expires_at": at("2018-08-23T00:01:00+02:00"),
        },
    ],
}
MODELS: dict[str, type[Base]] = {
    "registrations": Registration,
    "event_state": EventState,
    "sync_status": SyncStatus,
    "leases": Lease,
}


def as_stored(dialect: str, value: Any) -> Any:
    """A value as the release before migrations stored it (SQLite: text, naive UTC, 0/1)."""
    if dialect != "sqlite":
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def build_first_release_database(url: str, rows: bool = True) -> None:
    """A database as the release before migrations left it: its tables, its rows, WAL."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in DDL[engine.dialect.name]:
                connection.exec_driver_sql(statement)
            for table, records in ROWS.items() if rows else ():
                columns = list(records[0])
                insert = text(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join(':' + c for c in columns)})"
                )
                connection.execute(
                    insert,
                    [{k: as_stored(engine.dialect.name, v) for k, v in r.items()} for r in records],
                )
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        engine.dispose()


def recomputed(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """The keys revision 0010 computes anew from a registration's values: its name key and its
    enterprise key (legal forms however spelled)."""
    if table != "registrations":
        return {}
    return {
        "name_key": name_key(record["first_name"], record["last_name"]),
        "enterprise_key": enterprise_key(record["enterprise_name"]),
    }


def assert_every_row_reads_back(url: str) -> None:
    store = Store(url)
    try:
        with store.transaction() as session:
            for table, records in ROWS.items():
                model = MODELS[table]
                key = next(iter(records[0]))
                found = {getattr(row, key): row for row in session.scalars(select(model))}
                for record in records:
                    row = found[record[key]]
                    expected = {**record, **recomputed(table, record)}
                    assert {c: getattr(row, c) for c in expected} == expected, table
    finally:
        store.dispose()


def assert_seats_counted(url: str) -> None:
    """Revision 0013 counted the seats of the rows already there on their events' state rows."""
    expected: dict[str, list[int]] = {}
    for record in ROWS["registrations"]:
        counts = expected.setdefault(record["event_slug"], [0, 0])
        if record["status"] in ("confirmed", "waitlisted"):
            counts[record["status"] == "waitlisted"] += 1
    store = Store(url)
    try:
        with store.transaction() as session:
            found = {
                slug: [confirmed, waitlisted]
                for slug, confirmed, waitlisted in session.execute(
                    select(EventState.slug, EventState.confirmed_count, EventState.waitlisted_count)
                )
            }
    finally:
        store.dispose()
    assert {slug: found[slug] for slug in expected} == expected


def assert_rows_untouched(url: str) -> None:
    """Every row as it was written, read with the tables as they are (not through the models,
    which describe a later schema)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for table, records in ROWS.items():
                columns = list(records[0])
                reflected = Table(table, MetaData(), autoload_with=connection)
                found = {
                    row[0]: dict(zip(columns, row, strict=True))
                    for row in connection.execute(select(*(reflected.c[name] for name in columns)))
                }
                for record in records:
                    assert {c: _plain(found[record[columns[0]]][c]) for c in record} == {
                        c: _plain(v) for c, v in record.items()
                    }, table
    finally:
        engine.dispose()


def _plain(value: Any) -> Any:
    """Values as a bare SELECT returns them on either backend (dates may come back as text)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ")[:19]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        return value.replace("T", " ")[:19]
    return value


def upgrade(url: str, target: str = "head") -> schema.Status:
    store = Store(url)
    try:
        return schema.upgrade(store, EVENTS, lambda line: None, target=target)
    finally:
        store.dispose()


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance",
        database_url=url,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )


@pytest.fixture
def second_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database beside `database_url` (PostgreSQL: the same one, emptied)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.sqlite3'}"
    else:
        yield database_url


def head() -> str:
    return ScriptDirectory(str(schema.MIGRATIONS)).get_current_head() or ""


def test_db_upgrade_keeps_every_row_of_a_database_of_the_release_before_migrations(
    database_url: str, tmp_path: Path
) -> None:
    build_first_release_database(database_url)

    process = flask_process(
        "db",
        "upgrade",
        env={"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance")},
    )
    output = process.communicate(timeout=60)[0].decode()

    assert process.returncode == 0, output
    assert "recognised as revision 0001 (stamped)" in output
    assert f"Now at revision {head()} (head)." in output
    assert "Added the state rows of 1 event(s)." in output  # przyklad-otwarte; klaster had one
    assert_every_row_reads_back(database_url)
    assert_seats_counted(database_url)
    app = create_app(settings_for(database_url, tmp_path))  # the service starts on it again
    app.extensions["owes"].store.dispose()


def schema_snapshot(url: str) -> dict[str, Any]:
    """Tables, columns, keys and indexes as the database reports them."""
    engine = create_engine(url)
    snapshot: dict[str, Any] = {}
    try:
        with engine.connect() as connection:
            found = inspect(connection)
            for table in sorted(set(found.get_table_names()) - {"alembic_version"}):
                key = found.get_pk_constraint(table)
                snapshot[table] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in found.get_columns(table)
                    ],
                    "primary key": (key["name"], key["constrained_columns"]),
                    "unique": sorted(
                        (u["column_names"], u["name"]) for u in found.get_unique_constraints(table)
                    ),
                    "indexes": sorted(
                        (i["name"] or "", i["column_names"], i["unique"])
                        for i in found.get_indexes(table)
                    ),
                }
    finally:
        engine.dispose()
    return snapshot


def without_constraint_names(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        table: {
            **facts,
            "primary key": facts["primary key"][1],
            "unique": [columns for columns, _ in facts["unique"]],
        }
        for table, facts in snapshot.items()
    }


def test_revision_0001_is_exactly_the_schema_of_the_release_before_migrations(
    database_url: str, second_database_url: str
) -> None:
    build_first_release_database(database_url, rows=False)
    first_release = schema_snapshot(database_url)
    if second_database_url == database_url:
        reset_postgres()

    upgrade(second_database_url, target="0001")
    migrated = schema_snapshot(second_database_url)

    assert set(first_release) == schema.FIRST_RELEASE_TABLES
    if database_url.startswith("sqlite"):
        # SQLite kept the release's primary keys and UNIQUE (id) unnamed; 0001 names them
        # as the naming convention (and PostgreSQL) do.
        assert without_constraint_names(migrated) == without_constraint_names(first_release)
        assert migrated["registrations"]["unique"] == [
            (["event_slug", "email_key"], "uq_registration_event_email"),
            (["id"], "registrations_id_key"),
        ]
    else:
        assert migrated == first_release


def test_an_empty_database_migrated_to_head_is_exactly_the_models(database_url: str) -> None:
    upgrade(database_url)

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert not differences, (
        "The models and the migrations differ: a column, table, index or constraint was "
        "changed in registrations/models.py or store/models.py without a migration. Run "
        "`flask --app app db revision -m '<what changed>'`, review the file it writes in "
        "store/migrations/versions/ and commit it (see store/migrations/README.md).\n"
        f"Differences (what a migration would have to do):\n{pformat(differences)}"
    )


def test_the_revisions_are_numbered_one_after_the_other() -> None:
    scripts = ScriptDirectory(str(schema.MIGRATIONS))

    assert len(scripts.get_heads()) == 1, (
        f"several latest revisions {scripts.get_heads()}: two revisions follow the same one "
        "(two branches each added one?); renumber yours and set its down_revision to the other"
    )
    chain = list(reversed(list(scripts.walk_revisions())))
    assert [s.revision for s in chain] == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert [s.down_revision for s in chain] == [None] + [s.revision for s in chain[:-1]]
    for script in chain:
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path


def migrations_with(tmp_path: Path, revision: str | None = None) -> Path:
    """A copy of store/migrations, with one more revision (source text) when given."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    if revision is not None:
        number = f"{len(list((copy / 'versions').glob('*.py'))) + 1:04d}"
        (copy / "versions" / f"{number}_test.py").write_text(
            revision.replace("NUMBER", number).replace("PREVIOUS", f"{int(number) - 1:04d}")
        )
    return copy


LEASE_NOTE = """
import sqlalchemy as sa
from alembic import op

revision = "NUMBER"
down_revision = "PREVIOUS"


def upgrade():
    with op.batch_alter_table("leases") as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(100), nullable=True))


def downgrade():
    with op.batch_alter_table("leases") as batch_op:
        batch_op.drop_column("note")
"""


def flask_cli(settings: Settings, apps: list[Flask]) -> Callable[..., Result]:
    """`flask --app app ARGS` in this process: Flask's CLI builds the app, then runs ARGS."""

    def build() -> Flask:
        apps.append(create_app(settings))
        return apps[-1]

    cli = FlaskGroup(create_app=build, load_dotenv=False)
    return lambda *args: CliRunner().invoke(cli, list(args))


def test_a_database_behind_is_refused_at_start_up_until_db_upgrade(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", migrations_with(tmp_path, LEASE_NOTE))
    upgrade(database_url, target="0001")
    latest = head()
    settings = settings_for(database_url, tmp_path)
    apps: list[Flask] = []
    flask = flask_cli(settings, apps)
    expected = (
        f"the database is at revision 0001 but this release needs {latest}; "
        "run `flask --app app db upgrade`"
    )

    try:
        with pytest.raises(ConfigurationError) as refused:
            create_app(settings)
        close_off = flask("close-off")
        export = flask("export", "--event", "klaster-2018", "--list", "catering", "--format", "csv")
        sync = flask("sheets", "sync")
        current = flask("db", "current")
        upgraded = flask("db", "upgrade")
        started = create_app(settings)
        apps.append(started)
        after = flask("close-off")
    finally:
        for app in apps:
            app.extensions["owes"].store.dispose()

    assert str(refused.value) == expected
    for result in (close_off, export, sync):
        assert (result.exit_code, result.output) == (1, expected + "\n")
    assert f"Revision: 0001 (head is {latest})" in current.output
    assert upgraded.exit_code == 0, upgraded.output
    assert f"Applied {latest}: " in upgraded.output
    assert f"Now at revision {latest} (head)." in upgraded.output
    assert (after.exit_code, after.output) == (0, "Nothing is due.\n")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            columns = [c["name"] for c in inspect(connection).get_columns("leases")]
            states = connection.scalars(text("SELECT slug FROM event_state ORDER BY slug"))
            assert (columns[-1], list(states)) == ("note", EVENTS)
    finally:
        engine.dispose()


def test_a_database_of_the_release_before_migrations_is_refused_too(
    database_url: str, tmp_path: Path
) -> None:
    build_first_release_database(database_url)

    with pytest.raises(ConfigurationError) as refused:
        create_app(settings_for(database_url, tmp_path))

    assert "run `flask --app app db upgrade`" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert_rows_untouched(database_url)


def test_a_database_at_a_revision_this_release_lacks_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()

    with pytest.raises(ConfigurationError, match="revision 9999, which this release does not"):
        create_app(settings_for(database_url, tmp_path))


def test_an_empty_database_is_created_at_head_by_the_app(database_url: str, tmp_path: Path) -> None:
    app = create_app(settings_for(database_url, tmp_path))
    try:
        status = schema.current(app.extensions["owes"].store)
        with app.extensions["owes"].store.transaction() as session:
            states = sorted(session.scalars(select(EventState.slug)))
    finally:
        app.extensions["owes"].store.dispose()

    assert (status.revision, status.current) == (head(), True)
    assert states == EVENTS


def test_two_latest_revisions_stop_start_up_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = migrations_with(tmp_path, LEASE_NOTE)
    [written] = (migrations / "versions").glob("*_test.py")
    number = written.name[:4]
    second = written.read_text().replace(f'"{number}"', f'"{number}b"', 1)
    (migrations / "versions" / f"{number}_other_branch.py").write_text(second)
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)

    with pytest.raises(ConfigurationError, match=f"has 2 latest revisions .{number}, {number}b.; "):
        create_app(settings_for(f"sqlite:///{tmp_path / 'store.sqlite3'}", tmp_path))


def test_every_command_that_uses_the_store_checks_the_schema_first(app: Flask) -> None:
    def leaves(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from leaves(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", command

    unchecked = [
        name
        for name, command in leaves(app.cli)
        if not name.startswith(("db ", "init-db"))
        and not getattr(command.callback, "needs_current_schema", False)
    ]

    assert not unchecked, (
        f"{unchecked}: Flask's CLI builds the app for them without checking the schema; "
        "decorate them with @needs_current_schema (store/commands.py)"
    )


def models_with_a_note_column() -> MetaData:
    """The models as the other engineer's next change might leave them."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["registrations"].append_column(Column("staff_note", String(500)))
    return metadata


def test_db_revision_writes_a_migration_that_upgrades_old_and_new_databases(
    database_url: str, second_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = migrations_with(tmp_path)
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    metadata = models_with_a_note_column()
    number = f"{len(list((migrations / 'versions').glob('*.py'))) + 1:04d}"

    path = schema.new_revision("registrations: staff note", metadata=metadata)
    build_first_release_database(database_url)
    old = upgrade(database_url)
    columns = [c[0] for c in schema_snapshot(database_url)["registrations"]["columns"]]
    assert_every_row_reads_back(database_url)
    if second_database_url == database_url:
        reset_postgres()
    new = upgrade(second_database_url)
    engine = create_engine(second_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert path is not None and path.name == f"{number}_registrations_staff_note.py"
    source = path.read_text()
    assert 'with op.batch_alter_table("registrations"' in source, source
    assert "staff_note" in source and "import registrations" not in source
    assert (old.revision, old.current, new.revision, new.current) == (number, True, number, True)
    assert columns[-1] == "staff_note"
    assert differences == []


def test_db_revision_writes_nothing_when_the_models_did_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = migrations_with(tmp_path)
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    before = sorted(p.name for p in (migrations / "versions").iterdir())

    assert schema.new_revision("nothing") is None
    assert sorted(p.name for p in (migrations / "versions").iterdir()) == before


DROP_UNIQUE_ID = """
from alembic import op

revision = "NUMBER"
down_revision = "PREVIOUS"
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def upgrade():
    with op.batch_alter_table("registrations", naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.drop_constraint("registrations_id_key", type_="unique")


def downgrade():
    pass
"""


def test_a_later_revision_finds_the_unnamed_constraints_of_old_databases_by_name(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What store/migrations/README.md tells: on SQLite the release before migrations left
    # UNIQUE (id) unnamed; batch_alter_table with the naming convention finds it by name.
    monkeypatch.setattr(schema, "MIGRATIONS", migrations_with(tmp_path, DROP_UNIQUE_ID))
    build_first_release_database(database_url)

    upgrade(database_url)

    unique = schema_snapshot(database_url)["registrations"]["unique"]
    assert (
        ["event_slug", "email_key", "name_key"],
        "uq_registration_event_email_name",
    ) in unique
    assert not any(columns == ["id"] for columns, _ in unique)
    assert_every_row_reads_back(database_url)
