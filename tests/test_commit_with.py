"""`Store.commit_with` (a transaction's last writes sent with its commit) and `insert_rows` (many
new rows in one statement), on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from config.services import services
from config.settings import Settings
from registrations.driver import DriverStatement
from registrations.models import insert_rows, new_object, new_row_values, table_of
from store.db import Store, failure_kind
from store.models import OutboxMessage
from tests.conftest import settings_on

NOW = datetime(2018, 8, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    return settings_on(tmp_path, events_dir, database_url)


@pytest.fixture
def store(app: Flask) -> Store:
    return services(app).store


def message(message_id: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "kind": "test",
        "created_at": NOW,
        "attempts": 0,
        "next_attempt_at": NOW,
        "priority": 0,
    }


def stored_ids(store: Store) -> list[str]:
    with store.reading() as session:
        query = select(OutboxMessage.message_id).where(OutboxMessage.kind == "test")
        return sorted(session.scalars(query))


def test_the_blocks_writes_and_what_it_added_to_the_session_are_committed(store: Store) -> None:
    with store.transaction() as session:
        session.add(OutboxMessage(**message("<added-before>")))
        with store.commit_with(session):
            rows = [message("<a>"), message("<b>")]
            session.add(OutboxMessage(**message("<added-inside>")))
            # A statement after an object was added: not an autoflush inside the pipeline.
            session.execute(insert(table_of(OutboxMessage)).inline(), rows)

    assert stored_ids(store) == ["<a>", "<added-before>", "<added-inside>", "<b>"]


def test_a_write_the_database_refuses_fails_the_block_with_sqlalchemys_error_and_stores_nothing(
    store: Store,
) -> None:
    with pytest.raises(IntegrityError), store.transaction() as session:
        with store.commit_with(session):
            table = table_of(OutboxMessage)
            session.execute(insert(table).inline(), [message("<a>"), message("<b>")])
            session.execute(insert(table).inline(), [message("<a>")])  # the same Message-ID

    assert stored_ids(store) == []
    with store.transaction() as session:  # the connection went back to the pool usable
        with store.commit_with(session):
            session.execute(insert(table_of(OutboxMessage)).inline(), [message("<c>")])
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_many_narrow_rows_are_inserted_whole_with_their_types_and_defaults(store: Store) -> None:
    later = datetime(2018, 8, 21, 9, 30, tzinfo=UTC)
    rows = [  # on PostgreSQL: one INSERT of one JSON document
        {**message(f"<{n:02d}>"), "next_attempt_at": later, "attempts": n} for n in range(12)
    ]
    for row in rows:
        del row["priority"]  # the column's default applies
    with store.transaction() as session, store.commit_with(session):
        insert_rows(session, OutboxMessage, rows)

    with store.reading() as session:
        query = select(
            OutboxMessage.message_id,
            OutboxMessage.attempts,
            OutboxMessage.next_attempt_at,
            OutboxMessage.priority,
        ).order_by(OutboxMessage.message_id)
        stored = [tuple(row) for row in session.execute(query)]
    assert stored == [(f"<{n:02d}>", n, later, 0) for n in range(12)]


def test_rows_keep_every_character_byte_and_microsecond_as_given(store: Store) -> None:
    tricky = 'Łódź „cudzysłów” \\ "x" \u2028 \U0001f600 \t koniec'  # escapes JSON must carry
    sent_at = datetime(2018, 8, 21, 9, 30, 15, 123456, tzinfo=UTC)
    rows = [
        {**message("<tricky>"), "detail": tricky, "body": b"\x00\xffMIME", "sent_at": sent_at},
        {**message("<plain>"), "detail": None, "body": None, "sent_at": None},
    ]
    with store.transaction() as session, store.commit_with(session):
        insert_rows(session, OutboxMessage, rows)

    with store.reading() as session:
        columns = (OutboxMessage.detail, OutboxMessage.body, OutboxMessage.sent_at)
        query = select(OutboxMessage.message_id, *columns).order_by(OutboxMessage.message_id)
        stored = [tuple(row) for row in session.execute(query)]
    assert stored == [
        ("<plain>", None, None, None),
        ("<tricky>", tricky, b"\x00\xffMIME", sent_at),
    ]


def test_a_row_the_database_refuses_in_insert_rows_is_sqlalchemys_error_without_its_values(
    store: Store,
) -> None:
    """`insert_rows` goes through the driver itself on PostgreSQL (`registrations.driver`): a
    refusal is still SQLAlchemy's IntegrityError, which the intake retries on, and the line a
    failure is logged by carries no value of the rows."""
    with pytest.raises(IntegrityError) as refused, store.transaction() as session:
        with store.commit_with(session):
            insert_rows(session, OutboxMessage, [message("<tajny@example.pl>")] * 2)

    assert "tajny@example.pl" not in failure_kind(refused.value)
    assert stored_ids(store) == []


@pytest.fixture
def probe(store: Store) -> Iterator[Table]:
    """A table of the test's own, with defaults given in Python."""
    table = Table(
        "driver_probe",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("label", String(20), default="bez nazwy"),
        Column("weight", Integer, default=lambda: 7),
    )
    table.create(store.engine)
    yield table
    table.drop(store.engine)


def test_a_driver_statement_fills_in_defaults_and_reads_rows_on_both_databases(
    store: Store, probe: Table
) -> None:
    insert_some = DriverStatement(
        insert(probe).values(id=bindparam("id"), weight=bindparam("weight")).inline()
    )  # `label` left out: its default
    read_some = DriverStatement(
        select(probe.c.id, probe.c.label, probe.c.weight)
        .where(probe.c.id.in_([1, 2]), probe.c.weight != bindparam("not_weight"))
        .order_by(probe.c.id)
    )
    with store.transaction() as session:
        for n in (1, 2, 3):
            insert_some.execute(session, {"id": n, "weight": 10 * n})
        assert read_some.rows(session, {"not_weight": 20}) == [(1, "bez nazwy", 10)]
        assert read_some.rows(session, {"not_weight": 0}) == [
            (1, "bez nazwy", 10),
            (2, "bez nazwy", 20),
        ]


def test_a_default_computed_in_python_is_refused_by_the_driver_not_sent_wrong(
    store: Store, probe: Table
) -> None:
    """On PostgreSQL it would be computed once for every row: refused. On SQLite the session
    runs the statement, and SQLAlchemy computes it."""
    computed = DriverStatement(insert(probe).values(id=bindparam("id")).inline())  # `weight`
    with store.transaction() as session:
        if store.engine.dialect.name == "postgresql":
            with pytest.raises(TypeError, match="weight"):
                computed.execute(session, {"id": 1})
        else:
            computed.execute(session, {"id": 1})
            assert session.scalar(select(probe.c.weight)) == 7


def test_an_object_made_without_the_orms_constructor_reads_changes_and_stores_as_usual(
    store: Store,
) -> None:
    made = new_object(OutboxMessage, message("<bez-konstruktora>"))
    made.attempts = 2  # through the ORM's attribute, as any change

    assert (made.message_id, made.attempts, made.kind) == ("<bez-konstruktora>", 2, "test")
    assert new_row_values(made)["attempts"] == 2
    with store.transaction() as session:
        session.add(made)  # should it reach a session after all: inserted with its values
    with store.reading() as session:
        stored = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "test")).one()
        assert (stored.message_id, stored.attempts) == ("<bez-konstruktora>", 2)
