"""The event's confirmed and waitlisted registrations counted on its state row, kept there by
triggers on `registrations`, so that a batch of new registrations reads them with the event's
lock instead of counting the event's rows under it (bench/RESULTS.md); and an index on the
e-mail key alone, by which the batch looks its addresses up.

The triggers count every write, whoever makes it (the service, a migration, an operator's SQL).
A later revision that rebuilds `registrations` on SQLite (Alembic's batch mode copies the table)
drops them with the old table and must create them again (`create_seat_count_triggers`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL: new registrations are added up per statement (a batch of 8 is one UPDATE of the
# state row, not 8); a change of status, rare and one row at a time, per row. A state row
# missing for an event is made (an event file's, before its first lock).
POSTGRES_FUNCTIONS = (
    """
    CREATE FUNCTION registrations_seat_counts_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO event_state (slug)
            SELECT DISTINCT event_slug FROM new_rows ON CONFLICT (slug) DO NOTHING;
        UPDATE event_state SET
            confirmed_count = confirmed_count + added.confirmed,
            waitlisted_count = waitlisted_count + added.waitlisted
        FROM (
            SELECT event_slug,
                   count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
                   count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted
            FROM new_rows GROUP BY event_slug
        ) AS added
        WHERE event_state.slug = added.event_slug
          AND (added.confirmed <> 0 OR added.waitlisted <> 0);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION registrations_seat_counts_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE event_state SET
                confirmed_count = confirmed_count - (OLD.status = 'confirmed')::int,
                waitlisted_count = waitlisted_count - (OLD.status = 'waitlisted')::int
            WHERE slug = OLD.event_slug;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO event_state (slug) VALUES (NEW.event_slug) ON CONFLICT (slug) DO NOTHING;
            UPDATE event_state SET
                confirmed_count = confirmed_count + (NEW.status = 'confirmed')::int,
                waitlisted_count = waitlisted_count + (NEW.status = 'waitlisted')::int
            WHERE slug = NEW.event_slug;
        END IF;
        RETURN NULL;
    END
    $$
    """,
)
POSTGRES_TRIGGERS = (
    """
    CREATE TRIGGER registrations_seat_counts_insert AFTER INSERT ON registrations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registrations_seat_counts_inserted()
    """,
    """
    CREATE TRIGGER registrations_seat_counts_update AFTER UPDATE OF status, event_slug
    ON registrations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.event_slug IS DISTINCT FROM NEW.event_slug)
    EXECUTE FUNCTION registrations_seat_counts_changed()
    """,
    """
    CREATE TRIGGER registrations_seat_counts_delete AFTER DELETE ON registrations
    FOR EACH ROW EXECUTE FUNCTION registrations_seat_counts_changed()
    """,
)
# SQLite has row-level triggers only; an UPDATE counts only when the status or event changed.
SQLITE_STATE_ROW = """
    INSERT INTO event_state (slug) SELECT NEW.event_slug
        WHERE NOT EXISTS (SELECT 1 FROM event_state WHERE slug = NEW.event_slug);"""


def sqlite_count(row: str, sign: str) -> str:
    """A SQLite trigger's statement: the seat of `row` (NEW or OLD) added (+) or taken (-)."""
    return f"""
    UPDATE event_state SET
        confirmed_count = confirmed_count {sign} ({row}.status = 'confirmed'),
        waitlisted_count = waitlisted_count {sign} ({row}.status = 'waitlisted')
    WHERE slug = {row}.event_slug;"""


SQLITE_TRIGGERS = (
    "CREATE TRIGGER registrations_seat_counts_insert AFTER INSERT ON registrations BEGIN"
    f"{SQLITE_STATE_ROW}{sqlite_count('NEW', '+')}\nEND",
    "CREATE TRIGGER registrations_seat_counts_update AFTER UPDATE OF status, event_slug"
    " ON registrations"
    " WHEN OLD.status IS NOT NEW.status OR OLD.event_slug IS NOT NEW.event_slug BEGIN"
    f"{sqlite_count('OLD', '-')}{SQLITE_STATE_ROW}{sqlite_count('NEW', '+')}\nEND",
    "CREATE TRIGGER registrations_seat_counts_delete AFTER DELETE ON registrations BEGIN"
    f"{sqlite_count('OLD', '-')}\nEND",
)
TRIGGERS = (
    "registrations_seat_counts_insert",
    "registrations_seat_counts_update",
    "registrations_seat_counts_delete",
)
# The counts of the rows already there, and a state row for any event that has none.
BACKFILL = (
    """
    INSERT INTO event_state (slug)
    SELECT DISTINCT event_slug FROM registrations
    WHERE event_slug NOT IN (SELECT slug FROM event_state)
    """,
    """
    UPDATE event_state SET
        confirmed_count = (
            SELECT count(*) FROM registrations
            WHERE registrations.event_slug = event_state.slug AND status = 'confirmed'
        ),
        waitlisted_count = (
            SELECT count(*) FROM registrations
            WHERE registrations.event_slug = event_state.slug AND status = 'waitlisted'
        )
    """,
)


def create_seat_count_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_FUNCTIONS + POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("event_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("waitlisted_count", sa.Integer(), server_default="0", nullable=False)
        )
    for statement in BACKFILL:
        op.execute(statement)
    create_seat_count_triggers()
    # Not in batch mode: on SQLite it could copy the table, and the triggers with it would go.
    op.create_index(op.f("ix_registrations_email_key"), "registrations", ["email_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_registrations_email_key"), table_name="registrations")
    for name in TRIGGERS:
        op.execute(
            f"DROP TRIGGER {name} ON registrations"
            if op.get_bind().dialect.name == "postgresql"
            else f"DROP TRIGGER {name}"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION registrations_seat_counts_inserted()")
        op.execute("DROP FUNCTION registrations_seat_counts_changed()")
    with op.batch_alter_table("event_state", schema=None) as batch_op:
        batch_op.drop_column("waitlisted_count")
        batch_op.drop_column("confirmed_count")
