"""The event's confirmed and waitlisted registrations are counted on its state row by the
database's triggers (revision 0013), on SQLite and on PostgreSQL: whatever writes the rows, the
counts are those of the rows, and a batch of new registrations is allocated against them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import CompoundSelect, func, select, text

from config.settings import Settings
from registrations.allocation import _taken_query
from registrations.models import EventState, Registration
from store import Store
from tests.conftest import settings_on, valid_payload, write_open_event

URL = "/api/events/male/registrations"
TOKEN_URL = re.compile(r".*/zgloszenie/([^/?#]+)")


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    return write_open_event(tmp_path / "events", "male").parent  # 3 seats


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    return settings_on(tmp_path, events_dir, database_url)


def store_of(app: Flask) -> Store:
    found: Store = app.extensions["owes"].store
    return found


def counted(store: Store, slug: str) -> tuple[int, int] | None:
    """(confirmed, waitlisted) as the state row says; None without a row."""
    with store.transaction() as session:
        row = session.execute(
            select(EventState.confirmed_count, EventState.waitlisted_count).where(
                EventState.slug == slug
            )
        ).one_or_none()
    return None if row is None else (row[0], row[1])


def actual(store: Store, slug: str) -> tuple[int, int]:
    """(confirmed, waitlisted) counted in the registrations."""
    with store.transaction() as session:
        by_status = dict(
            session.execute(
                select(Registration.status, func.count())
                .where(Registration.event_slug == slug)
                .group_by(Registration.status)
            ).all()
        )
    return by_status.get("confirmed", 0), by_status.get("waitlisted", 0)


def register(client: FlaskClient, i: int) -> dict[str, Any]:
    payload = valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Firma {i}")
    response = client.post(URL, json=payload)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def token_of(body: dict[str, Any]) -> str:
    match = TOKEN_URL.fullmatch(body["manage_url"])
    assert match, body["manage_url"]
    return match.group(1)


def copied_columns(*given: str) -> str:
    """The columns an `INSERT … SELECT` copies from a registration: all but its keys (`seq`,
    `id`, the link's lookup) and those `given` anew."""
    left_out = {"seq", "id", "token_lookup", *given}
    return ", ".join(c.name for c in Registration.__table__.columns if c.name not in left_out)


def test_the_counts_follow_registrations_cancellations_and_promotions(
    app: Flask, client: FlaskClient
) -> None:
    store = store_of(app)
    bodies = [register(client, i) for i in range(5)]
    assert [b["status"] for b in bodies] == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert counted(store, "male") == actual(store, "male") == (3, 2)

    cancelled = client.delete(f"/api/registrations/{token_of(bodies[0])}")  # the first waiting
    assert cancelled.get_json()["status"] == "cancelled"  # … is promoted
    assert counted(store, "male") == actual(store, "male") == (3, 1)

    client.delete(f"/api/registrations/{token_of(bodies[4])}")  # a waitlisted one leaves
    assert counted(store, "male") == actual(store, "male") == (3, 0)

    sixth = register(client, 6)  # a seat is free again only when someone leaves: none did
    assert sixth["status"] == "waitlisted"
    assert counted(store, "male") == actual(store, "male") == (3, 1)


def test_the_counts_follow_rows_written_by_anyone(app: Flask, client: FlaskClient) -> None:
    """An operator's SQL, a later migration or a test: every insert, status change, move to
    another event and delete is counted; a change of anything else is not; an event without a
    state row gets one."""
    store = store_of(app)
    register(client, 0)
    copied = copied_columns("event_slug", "email_key", "status")
    with store.transaction() as session:  # three rows of a new event, in one statement
        session.execute(
            text(
                f"INSERT INTO registrations (id, token_lookup, event_slug, email_key, status, "
                f"{copied}) SELECT 'K' || n.i, NULL, 'inne', n.i || email_key, n.s, {copied} "
                "FROM registrations, (SELECT '1' AS i, 'confirmed' AS s UNION ALL "
                "SELECT '2', 'waitlisted' UNION ALL SELECT '3', 'cancelled') AS n"
            )
        )
    assert counted(store, "inne") == actual(store, "inne") == (1, 1)

    with store.transaction() as session:
        session.execute(text("UPDATE registrations SET status = 'confirmed' WHERE id = 'K2'"))
        session.execute(text("UPDATE registrations SET phone = '+48 600 000 000'"))
    assert counted(store, "inne") == actual(store, "inne") == (2, 0)

    with store.transaction() as session:
        session.execute(text("UPDATE registrations SET event_slug = 'male' WHERE id = 'K1'"))
        session.execute(text("UPDATE registrations SET status = 'rejected' WHERE id = 'K3'"))
    assert counted(store, "inne") == actual(store, "inne") == (1, 0)
    assert counted(store, "male") == actual(store, "male") == (2, 0)

    with store.transaction() as session:
        session.execute(text("DELETE FROM registrations WHERE id IN ('K1', 'K2')"))
    assert counted(store, "inne") == actual(store, "inne") == (0, 0)
    assert counted(store, "male") == actual(store, "male") == (1, 0)


def test_a_batch_is_allocated_against_the_counts(app: Flask, client: FlaskClient) -> None:
    """The counts are what a new registration is seated by: with one seat counted as taken
    behind the service's back, the third seat of three is not given."""
    store = store_of(app)
    register(client, 0)
    with store.transaction() as session:
        session.execute(
            text("UPDATE event_state SET confirmed_count = confirmed_count + 1 WHERE slug = 'male'")
        )

    assert register(client, 1)["status"] == "confirmed"
    assert register(client, 2)["status"] == "waitlisted"


def test_a_batch_reads_only_its_addresses_rows_not_the_events(
    app: Flask, client: FlaskClient
) -> None:
    """With the event's 300 registrations and no statistics of the table (a new PostgreSQL
    database), looking up a batch's addresses reads their rows through the unique index, not
    every registration of the event under the lock."""
    store = store_of(app)
    register(client, 0)
    copied = copied_columns("email_key")
    with store.transaction() as session:
        for n in range(1, 300):
            session.execute(
                text(
                    f"INSERT INTO registrations (id, token_lookup, email_key, {copied}) "
                    f"SELECT 'K{n}', NULL, 'k{n}' || email_key, {copied} FROM registrations "
                    "WHERE id NOT LIKE 'K%'"
                )
            )
    asked = ["k7osoba0@example.pl", "osoba0@example.pl", "nikt@example.pl"]
    query = _taken_query(store.engine.dialect.name == "postgresql", False)
    with store.transaction() as session:
        if store.engine.dialect.name == "postgresql":
            compiled = query._compiled_for(store.engine.dialect)
            raw = session.connection().connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            parameters = {**compiled.fixed, "slug": "male", "emails": asked}
            explained = raw.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.text}", parameters)
            tree = explained.fetchall()[0][0][0]["Plan"]
            read = rows_read_from(tree, "registrations")
            assert read <= len(asked)  # at most a row per address (the plan rounds per loop)
        else:
            statement = query.statement
            assert isinstance(statement, CompoundSelect)
            literal = statement.params(slug="male", emails=asked).compile(
                dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}
            )
            plan = session.execute(text(f"EXPLAIN QUERY PLAN {literal}")).all()
            steps = " / ".join(row[-1] for row in plan)
            # The unique constraint's index, by both its leading columns.
            assert re.search(
                r"SEARCH registrations USING INDEX \S+ \(event_slug=\? AND email_key=\?", steps
            )
        found = query.rows(session, {"slug": "male", "emails": asked})
        addresses = sorted(key.partition("\n")[0] for kind, key, *_ in found if kind == "email")
        assert addresses == ["k7osoba0@example.pl", "osoba0@example.pl"]


def rows_read_from(node: dict[str, Any], table: str) -> int:
    """Rows the plan's scans of `table` read (those a filter removed included)."""
    own = 0
    if node.get("Relation Name") == table:
        own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return own + sum(rows_read_from(child, table) for child in node.get("Plans", []))
