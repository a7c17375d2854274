"""The domain's tables: registrations, each event's state row (also the seat-allocation lock),
the versions of the events staff made in the staff pages, and the history of staff actions.

`Base` carries the metadata of the whole store; the store's own bookkeeping tables (sync status,
leases, the mail outbox, staff sign-ins and sessions) are declared on it in `store.models`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    column,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.sql import ColumnElement, FromClause

from registrations.driver import DriverStatement


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Constraint names as PostgreSQL itself chooses them, so that databases created before the
# migrations (by create_all, with the server's default names such as registrations_id_key) and
# databases created by the migrations have the same names, and every new constraint gets a name
# a later migration can drop. SQLite keeps unnamed constraints of old databases unnamed: see
# store/migrations/README.md for batch_alter_table(naming_convention=...).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Registration(Base):
    """One participant's accepted registration for one event."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One person per address and name (colleagues may share an address: see
        # `registrations.identity`).
        UniqueConstraint(
            "event_slug", "email_key", "name_key", name="uq_registration_event_email_name"
        ),
        Index("ix_registration_event_sync", "event_slug", "synced_to"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(16), unique=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))

    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    enterprise_key: Mapped[str] = mapped_column(String(200), index=True)
    # The enterprise's NIP (10 digits), only where the event asks for it (`ask_nip`).
    nip: Mapped[str | None] = mapped_column(String(10))
    powiat: Mapped[str] = mapped_column(String(4))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # Indexed alone too: a batch of new registrations looks its addresses up by it (`read_taken`).
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    # First and last name as they identify a person at a shared address (`identity.name_key`).
    name_key: Mapped[str] = mapped_column(String(254), server_default="")
    phone: Mapped[str] = mapped_column(String(30))
    pesel: Mapped[str | None] = mapped_column(String(11))
    birth_date: Mapped[date | None] = mapped_column(Date)
    accommodation: Mapped[bool] = mapped_column(Boolean)
    diet: Mapped[str] = mapped_column(String(16))
    diet_other: Mapped[str | None] = mapped_column(String(200))
    special_needs: Mapped[str | None] = mapped_column(Text)
    consent_personal_data: Mapped[bool] = mapped_column(Boolean)
    consent_image: Mapped[bool] = mapped_column(Boolean)
    consent_version: Mapped[str] = mapped_column(String(64))
    consent_given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # `kobieta` or `mężczyzna`, asked (optionally) only by events with `ask_gender`: the
    # rooming list's. Erased with the person.
    gender: Mapped[str | None] = mapped_column(String(16))

    # Each change a participant or staff could see in the sheet bumps the version; a row
    # written at an older version is rewritten in place.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The private link: a nonce the token is derived from, and a hash to find it by (the
    # token itself is never stored; see `registrations.tokens`).
    token_nonce: Mapped[str | None] = mapped_column(String(32))
    token_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The SEQUENCE of the last calendar entry (.ics) the person was sent for the event: a seat
    # confirmed sends the entry, a cancellation cancels it, each with the next number (RFC 5545);
    # None while none was sent.
    calendar_sequence: Mapped[int | None] = mapped_column(Integer)
    # The last decision staff typed in the sheet that was handled (normalised), so the same
    # cell read again is not applied twice; and why it was not carried out, when it was not
    # ("raced": the participant changed the registration after staff could have seen it).
    staff_decision: Mapped[str | None] = mapped_column(String(16))
    staff_decision_skipped: Mapped[str | None] = mapped_column(String(32))

    synced_to: Mapped[str | None] = mapped_column(String(300))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_version: Mapped[int | None] = mapped_column(Integer)

    # Erasure (RODO art. 17): when the personal data were removed and why (`request`: the
    # person asked, `retention`: the event's retention period passed); the row keeps only its
    # ID, event, status and powiat. Its sheet row is deleted by the next sync round that reaches
    # the sheet: `sheet_erased_at` stays empty until then.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_by: Mapped[str | None] = mapped_column(String(16))
    sheet_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The version of the event (made in the staff pages) in force when it was registered; None
    # for an event file's.
    event_version: Mapped[int | None] = mapped_column(Integer)
    # Before the event: its reminders, the answer and a seat offered (`Participation`, issue 19),
    # read with the row (the sheet's `Potwierdzenie udziału` column needs it).
    participation: Mapped[Participation | None] = relationship(
        "Participation",
        primaryjoin="foreign(Participation.registration_id) == Registration.id",
        uselist=False,
        lazy="selectin",
        viewonly=True,
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def touch(self, now: datetime) -> None:
        """Record that the registration changed: its sheet row is rewritten at the next sync."""
        self.version = (self.version or 1) + 1
        self.updated_at = now


def table_of(model: type[Base]) -> Table:
    """A mapped class's table (for a Core statement)."""
    return cast(Table, model.__table__)


B = TypeVar("B", bound="Base")


def new_object(model: type[B], values: Mapping[str, Any]) -> B:
    """A new row's object holding `values`, made without the ORM's instrumented constructor,
    for a row `insert_rows` writes: the constructor's bookkeeping (an event per attribute, for
    a flush that never comes) was the largest part of building a registration, in every
    request (bench/RESULTS.md). Its attributes read and change as usual; should it be added to
    a session after all, the flush inserts it with them."""
    made = model.__mapper__.class_manager.new_instance()
    vars(made).update(values)
    return cast(B, made)


def new_row_values(row: Base) -> dict[str, Any]:
    """A new row's column values for `insert_rows` (an autoincremented key is the database's).

    The object stays as it was (not in any session, its key not read back).
    """
    values = vars(row)  # what was set: an attribute read through the ORM costs 10 times more
    return {key: values.get(key) for key in _inserted_keys(row.__table__)}


@cache
def _inserted_keys(table: FromClause) -> tuple[str, ...]:
    return tuple(
        column.key
        for column in table.columns
        if not (column.primary_key and column.autoincrement is True)
    )


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """New rows of `model`, nothing read back (every row has the same keys).

    A batch of registrations is written with the event's lock held, so its CPU counts for
    everyone waiting. On PostgreSQL the rows go as one JSON parameter that
    `json_populate_recordset` unpacks into the table's own column types: psycopg's executemany
    converted every value of every row in Python, one statement per row, and a batch of 8
    registrations with their answers and e-mails took 1.5 ms more CPU that way
    (bench/RESULTS.md); the statement is sent by psycopg itself (`registrations.driver`), the
    columns' bind processing (`UTCDateTime`) applied here and their defaults there. Elsewhere
    an executemany through SQLAlchemy. Neither reads a key back, so both can ride with the
    commit (`Store.commit_with`).
    """
    if not rows:
        return
    table = table_of(model)
    keys = tuple(rows[0])
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(table).inline(), rows)
        return
    decorated = _decorated(table, keys)  # the column types' own bind processing, not psycopg's
    if decorated:
        rows = [
            {**row, **{key: kind.process_bind_param(row[key], dialect) for key, kind in decorated}}
            for row in rows
        ]
    document = json.dumps(rows, default=_json_scalar, separators=(",", ":"))
    _recordset_insert(table, keys).execute(session, {"rows": document})


@cache
def _decorated(table: Table, keys: tuple[str, ...]) -> tuple[tuple[str, TypeDecorator[Any]], ...]:
    return tuple(
        (key, type_) for key in keys if isinstance(type_ := table.c[key].type, TypeDecorator)
    )


def _json_scalar(value: object) -> str:
    """What JSON has no type for, as PostgreSQL reads it into the column: ISO 8601, bytea's hex."""
    if isinstance(value, date):  # and datetime, aware: UTCDateTime refuses a naive one
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    raise TypeError(f"insert_rows cannot send a {type(value).__name__} as JSON")


@cache
def _recordset_insert(table: Table, keys: tuple[str, ...]) -> DriverStatement:
    """`INSERT INTO t (keys…) SELECT keys… FROM json_populate_recordset(NULL::t, :rows)`; the
    other columns get their defaults. Sent by the driver itself (`registrations.driver`)."""
    record_type: ColumnElement[Any] = literal_column(f"NULL::{table.name}")
    document = bindparam("rows", type_=Text()).cast(JSON)
    records = func.json_populate_recordset(record_type, document).table_valued(
        *(column(key) for key in keys)
    )
    return DriverStatement(insert(table).from_select(list(keys), select(*records.c)).inline())


class StatusChange(Base):
    """Every status change with who caused it: the staff digest and the decision record."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_change_event", "event_slug", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(String(16), index=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(16))  # participant, staff, system (promotion)
    decision: Mapped[str | None] = mapped_column(String(16))  # the value staff typed
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkRequest(Base):
    """Someone asked for the private link again (the lost-link page), queued as typed: the page
    answers at once, with the same work for any address; the mail sender looks it up and sends
    the link to a registered one, then deletes the request (`Registrations.send_requested_links`).
    """

    __tablename__ = "link_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    email_key: Mapped[str] = mapped_column(String(320))  # as `Registration.email_key` would be
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventState(Base):
    """Per-event facts the store owns; its row is also the lock that serialises seat allocation."""

    __tablename__ = "event_state"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    closing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary_written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    protected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # unused since 0002
    mail_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_off_error: Mapped[str | None] = mapped_column(Text)
    summary_fingerprint: Mapped[str | None] = mapped_column(String(64))
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_cursor: Mapped[int | None] = mapped_column(Integer)
    # Retention: when the event's registrations were erased, and the summary's numbers as they
    # were just before (JSON rows), which the summary worksheet keeps showing.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kept_summary: Mapped[str | None] = mapped_column(Text)
    # An event made in the staff pages: its version in force (a row of `event_versions`) and
    # when it was published (None: a draft). Both None for an event file's row.
    event_version: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sheet work a save left for the worker: the worksheets' titles (and the sync target) before
    # `short_title` changed, until both are renamed; when staff reopened registration, until the
    # close-off's protection is removed.
    renamed_from: Mapped[str | None] = mapped_column(String(100))
    summary_renamed_from: Mapped[str | None] = mapped_column(String(100))
    renamed_target_from: Mapped[str | None] = mapped_column(String(300))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every change of the event's own questions (`registrations.question_editing`):
    # registering reads the questions again under the lock only when it moved.
    questions_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A save that brought the retention purge near (confirmed by staff): no purge before this.
    purge_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The event's confirmed and waitlisted registrations, kept by the database's own triggers on
    # `registrations` (revision 0013) whatever writes them: a batch of new registrations reads
    # them with the lock instead of counting the event's rows while everyone waits for it.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def draft(self) -> bool:
        """An event made in the staff pages and not published: nobody registers for it."""
        return self.event_version is not None and self.published_at is None


class EventVersion(Base):
    """Each save of an event made in the staff pages: its whole description, as an event file
    has it (JSON of the `Event` model, without the slug), who saved it and when."""

    __tablename__ = "event_versions"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(254))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffAction(Base):
    """One entry of the staff's history: who did what, when, to which event and registrations.

    Never a value, a reason or any other free text (those stay with the registration and are
    erased with it): `registration_ids` and `fields` are comma-separated IDs and field names,
    `detail` a code (a list's name, a decision).
    """

    __tablename__ = "staff_actions"
    __table_args__ = (Index("ix_staff_action_event", "event_slug", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    event_slug: Mapped[str | None] = mapped_column(String(64))
    registration_ids: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(String(64))


class PendingDecision(Base):
    """A staff decision waiting out its grace time (`DECISION_GRACE_MINUTES`) before it is
    carried out: typed in the sheet (first seen by the read at `first_seen_at`) or given on the
    registration's staff page. One per registration; a different value replaces it (the wait
    starts again); clearing the cell, `Cofnij` or the participant's own cancellation end it.
    Stored, so a restart neither restarts nor skips the wait.
    """

    __tablename__ = "pending_decisions"

    registration_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_slug: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))  # `sheet` or `page`
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The sheet's read before the one that first saw it: a participant's change after it races.
    typed_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(254))  # `sheet`, or the staff member's address
    # A page decision's reason (a sheet decision's is read from its row when carried out):
    # free text, erased with the person.
    reason: Mapped[str | None] = mapped_column(Text)


class Participation(Base):
    """Before the event: the reminders sent to a registration, its answer and a seat offered.

    One row per registration, written under the event's lock (`registrations.participation`):
    a reminder's moment set here is the proof it was queued, so it goes once per person across
    restarts and workers. An offer (`offer_state` `pending` until its e-mail is handed to SMTP,
    then `open` until `offer_expires_at`) holds a seat. Erased with the person.
    """

    __tablename__ = "participation"
    __table_args__ = (Index("ix_participation_offers", "event_slug", "offer_state"),)

    registration_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    first_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(8))  # `tak` or `nie`
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_state: Mapped[str | None] = mapped_column(String(16))
    offer_made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ParticipationEvent(Base):
    """Per event, what the reminders and offers told the contact: the list of those who did not
    answer (once, the day before), and how many free seats could not be offered (so the contact
    is e-mailed when another one is freed, not at every round)."""

    __tablename__ = "participation_events"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    unanswered_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seats_not_offered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
