"""Seats and the waiting list, decided one at a time per event under `lock_event`.

Registering, changing, cancelling, staff decisions and promotion all take the same lock first,
so counting seats and acting on the count happen as one step and an event is never oversold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, FromClause

from registrations.driver import DriverStatement
from registrations.event import Event
from registrations.models import EventState, Participation, Registration, table_of
from registrations.participation import HOLDING, free_seats
from registrations.status import Status


class StaleEvent(Exception):
    """The event's description changed (a save in the staff pages) since the caller read it, or
    it is no longer published: the caller reads it again and retries (see `in_force`)."""


class LockedState(Protocol):
    """What the event's state row says, read under its lock (an `EventState` says it too)."""

    @property
    def closing_started_at(self) -> datetime | None: ...
    @property
    def closed_off_at(self) -> datetime | None: ...
    @property
    def event_version(self) -> int | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def questions_version(self) -> int: ...
    @property
    def confirmed_count(self) -> int: ...
    @property
    def waitlisted_count(self) -> int: ...


@dataclass(frozen=True)
class IntakeLock:
    """The state row's columns a batch of new registrations reads (`lock_for_intake`)."""

    closing_started_at: datetime | None
    closed_off_at: datetime | None
    event_version: int | None
    published_at: datetime | None
    questions_version: int
    confirmed_count: int
    waitlisted_count: int


def in_force(event: Event, state: LockedState) -> bool:
    """Whether `event` is the version in force, as the event's state row (read under its lock)
    says: an event file's is always; one made in the staff pages while it is published."""
    if state.event_version != event.version:
        return False
    return event.version is None or state.published_at is not None


def lock_event(session: Session, event: Event, *, check: bool = True) -> EventState:
    """Take the event's row lock for the rest of the transaction.

    PostgreSQL locks the event's state row (`SELECT … FOR UPDATE`); SQLite has already
    serialised the whole transaction with `BEGIN IMMEDIATE` (see `store.db`). The row says which
    version of the event is in force: with `check`, a caller holding another one (read before a
    save) gets StaleEvent, so every rule is applied as saved. The read costs nothing more.
    """
    query = select(EventState).where(EventState.slug == event.slug).with_for_update()
    state = session.scalars(query).one_or_none()
    if state is None:  # an event file added since the store was prepared
        state = EventState(slug=event.slug)
        session.add(state)
        session.flush()
    if check and not in_force(event, state):
        raise StaleEvent(event.slug)
    return state


def lock_for_intake(session: Session, event: Event) -> LockedState:
    """`lock_event` for a batch of new registrations: the lock and the columns the batch reads
    (the seats taken among them), not the whole row loaded as an object. That loading is CPU
    spent after the lock is granted, which everyone submitting to the event waits for."""
    rows = _intake_lock_query().rows(session, {"slug": event.slug})
    if not rows:  # an event file added since the store was prepared: its row is made
        return lock_event(session, event, check=False)
    return IntakeLock(*rows[0])


@cache
def _intake_lock_query() -> DriverStatement:
    return DriverStatement(
        select(
            EventState.closing_started_at,
            EventState.closed_off_at,
            EventState.event_version,
            EventState.published_at,
            EventState.questions_version,
            EventState.confirmed_count,
            EventState.waitlisted_count,
        )
        .where(EventState.slug == bindparam("slug"))
        .with_for_update()
    )


def count(
    session: Session,
    event: Event,
    *,
    status: Status | None = None,
    enterprise: str | None = None,
    active_only: bool = False,
    excluding: str | None = None,
) -> int:
    """Registrations of the event, narrowed by status, enterprise key or activity."""
    query = select(func.count()).select_from(Registration)
    query = query.where(Registration.event_slug == event.slug)
    if status is not None:
        query = query.where(Registration.status == status.value)
    if active_only:
        query = query.where(Registration.status.in_([s.value for s in Status if s.active]))
    if enterprise is not None:
        query = query.where(Registration.enterprise_key == enterprise)
    if excluding is not None:
        query = query.where(Registration.id != excluding)
    return session.scalar(query) or 0


@dataclass
class Taken:
    """What a batch of new registrations is allocated against, read under the event's lock."""

    statuses: dict[tuple[str, str], Status]  # (e-mail key, name key) -> status, of those known
    confirmed: int
    waitlisted: int
    per_enterprise: dict[str, int]  # enterprise key -> active registrations (those asked for)
    per_email: dict[str, int] = field(default_factory=dict)  # e-mail key -> active registrations
    holding: int = 0  # offers that hold a seat (issue 19), counted as `free_seats` counts them

    def free_seats(self, event: Event) -> int:
        """Seats neither confirmed nor held by an offer (`participation.free_seats`, from the
        counts read in the same statement)."""
        return max(event.capacity - self.confirmed - self.holding, 0)


def read_taken(
    session: Session, event: Event, new: Sequence[Registration], lock: LockedState
) -> Taken:
    """The batch's people already registered (by address and name), the active registrations
    of its addresses, the offers holding a seat and the enterprises' counts; the seats taken
    come with the lock (`EventState.confirmed_count`, kept by the database's triggers).

    One statement, built once: the lock is held while it runs, and every round trip and every
    millisecond of the holder is a wait for everyone else submitting to the event.
    """
    active = lock.confirmed_count + lock.waitlisted_count
    # Nobody can reach the per-enterprise limit while the event has fewer active registrations,
    # this batch's included, than the limit: then they are not counted.
    limit = event.max_per_enterprise
    enterprises = {r.enterprise_key for r in new} if limit is not None else set()
    counted = sorted(enterprises) if limit is not None and active + len(new) > limit else []
    parameters = {
        "slug": event.slug,
        "emails": sorted({r.email_key for r in new}),
        "enterprises": counted,
    }
    taken = Taken({}, lock.confirmed_count, lock.waitlisted_count, dict.fromkeys(enterprises, 0))
    query = _taken_query(session.get_bind().dialect.name == "postgresql", bool(counted))
    for kind, key, status, n in query.rows(session, parameters):
        if kind == "email":
            email_key, _, name = key.partition(_KEY_SEPARATOR)
            taken.statuses[email_key, name] = Status(status)
            if Status(status).active:
                taken.per_email[email_key] = taken.per_email.get(email_key, 0) + 1
        elif kind == "enterprise":
            taken.per_enterprise[key] = n
        else:
            taken.holding = n
    return taken


_KEY_SEPARATOR = "\n"  # neither an address nor a name key holds it


@cache
def _taken_query(postgres: bool, per_enterprise: bool) -> DriverStatement:
    """(kind, key, status, n) rows: `email` rows of the addresses asked for (key: the e-mail
    key and the name key), one `offers` row counting the offers that hold a seat, and
    `enterprise` counts of active registrations of those asked for.

    On PostgreSQL the addresses and enterprises are arrays, and each address is one probe of
    the index on the e-mail key, whatever PostgreSQL knows of the table: without statistics (a
    new database) it took the event's rows for one or two and read all of them, by any index
    led by the event, for a list of addresses (`IN`, `= ANY`) and for each address alike. The
    probe names only the address, and `OFFSET 0` keeps the event's condition out of it.
    """
    of_event = Registration.event_slug == bindparam("slug")
    table = table_of(Registration)
    source: FromClause
    asking: list[ColumnElement[bool]]
    if postgres:
        asked = (
            func.unnest(bindparam("emails", type_=ARRAY(String)))
            .table_valued("email_key")
            .render_derived(name="asked")
        )
        probe = (
            select(table.c.event_slug, table.c.email_key, table.c.name_key, table.c.status)
            .where(table.c.email_key == asked.c.email_key)
            .offset(0)
            .lateral("known")
        )
        known, source = probe.c, asked.join(probe, true())
        asking = [probe.c.event_slug == bindparam("slug")]
    else:
        known, source = table.c, table
        asking = [of_event, _among(table.c.email_key, "emails", postgres)]
    by_address = (
        select(
            literal_column("'email'", String).label("kind"),
            (known.email_key + _KEY_SEPARATOR + known.name_key).label("key"),
            known.status.label("status"),
            literal_column("1", Integer).label("n"),
        )
        .select_from(source)
        .where(*asking)
    )
    offers = select(
        literal_column("'offers'", String),
        literal_column("''", String),
        literal_column("''", String),
        func.count(),
    ).where(Participation.event_slug == bindparam("slug"), Participation.offer_state.in_(HOLDING))
    if not per_enterprise:
        return DriverStatement(union_all(by_address, offers))
    enterprises = (
        select(
            literal_column("'enterprise'", String),
            Registration.enterprise_key,
            Registration.enterprise_key,
            func.count(),
        )
        .where(
            of_event,
            _among(Registration.enterprise_key, "enterprises", postgres),
            Registration.status.in_([s.value for s in Status if s.active]),
        )
        .group_by(Registration.enterprise_key)
    )
    return DriverStatement(union_all(by_address, offers, enterprises))


def _among(column: Any, name: str, postgres: bool) -> Any:
    """`column` is one of the list `name`: an array on PostgreSQL (one text for any length),
    a list written out by SQLAlchemy elsewhere."""
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


def seats_left(session: Session, event: Event) -> int:
    """Seats still free: neither confirmed nor held by an open offer (issue 19)."""
    return free_seats(session, event)


def waiting_list(session: Session, event: Event) -> list[Registration]:
    """Waitlisted registrations in order of arrival: the first is promoted first."""
    query = (
        select(Registration)
        .where(
            Registration.event_slug == event.slug,
            Registration.status == Status.WAITLISTED.value,
        )
        .order_by(Registration.seq)
    )
    return list(session.scalars(query))


def waiting_position(session: Session, registration: Registration) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if registration.status != Status.WAITLISTED:
        return None
    # Its place by arrival order as stored (found by ID: a row inserted in a batch is not read
    # back, so the object may not know its `seq`).
    arrived = select(Registration.seq).where(Registration.id == registration.id)
    ahead = select(func.count()).select_from(Registration)
    ahead = ahead.where(
        Registration.event_slug == registration.event_slug,
        Registration.status == Status.WAITLISTED.value,
        Registration.seq < arrived.scalar_subquery(),
    )
    return (session.scalar(ahead) or 0) + 1


def promote_waiting(session: Session, event: Event, now: datetime) -> list[Registration]:
    """Confirm waitlisted registrations in order while seats are free; the caller holds the lock.

    Nobody is promoted once the event has started. Staff may have confirmed people above
    capacity: then there are no free seats and nobody moves (nobody moves back either).
    """
    if now >= event.starts_at:
        return []
    free = seats_left(session, event)
    promoted = waiting_list(session, event)[:free] if free > 0 else []
    for registration in promoted:
        registration.status = Status.CONFIRMED
    return promoted
