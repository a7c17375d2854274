"""Presence per registration and day: recorded once (a unique row), with who and when; undone by
staff; read for the check-in page, the sheet, the lists and the certificates.

Recording or undoing touches the registration, so its sheet row (the `Obecność …` columns) is
rewritten by the next sync round.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from checkin.models import Presence
from checkin.store import insert_once
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import Registration
from registrations.status import Status
from registrations.window import Transactions
from store import Store

ABSENT = "nieobecność"  # a confirmed participant without presence on a day that ended

# How a presence was recorded (the `source` column).
SCAN = "skan"
BUTTON = "przycisk"
LIST = "lista"
SHEET = "arkusz"


@dataclass(frozen=True)
class Recorded:
    """The presence of a registration on a day, and whether this call recorded it."""

    presence: Presence
    now: bool


class NotConfirmed(Exception):
    """Only a confirmed participant is recorded present."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.value)
        self.status = status


def today_of(event: Event, now: datetime) -> date:
    """Today in the event's time zone."""
    return event.local(now).date()


def day_ends_at(event: Event, day: date) -> datetime:
    """Midnight after `day` in the event's time zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=event.tz)


def record_presence(
    session: Session,
    event: Event,
    registration: Registration,
    day: date,
    *,
    now: datetime,
    by: str,
    source: str,
) -> Recorded:
    """Record `registration` present on `day` unless it already is; two at once record one."""
    status = Status(registration.status)
    if status is not Status.CONFIRMED:
        raise NotConfirmed(status)
    values = {
        "registration_id": registration.id,
        "event_slug": event.slug,
        "day": day,
        "recorded_at": now,
        "recorded_by": by,
        "source": source,
    }
    inserted = insert_once(session, Presence, values, ["registration_id", "day"])
    found = session.scalar(
        select(Presence).where(Presence.registration_id == registration.id, Presence.day == day)
    )
    assert found is not None
    if inserted:
        registration.touch(now)
        record(
            session,
            actor=by,
            action=Action.PRESENCE_RECORDED,
            at=now,
            event_slug=event.slug,
            registration_ids=[registration.id],
            detail=day.isoformat(),
        )
    return Recorded(found, inserted)


def undo_presence(
    session: Session, event: Event, registration: Registration, day: date, *, now: datetime, by: str
) -> bool:
    """Staff undo a presence (a wrong scan, `nie` typed in the sheet); whether there was one."""
    result = session.execute(
        delete(Presence).where(Presence.registration_id == registration.id, Presence.day == day)
    )
    if not getattr(result, "rowcount", 0):
        return False
    registration.touch(now)
    record(
        session,
        actor=by,
        action=Action.PRESENCE_UNDONE,
        at=now,
        event_slug=event.slug,
        registration_ids=[registration.id],
        detail=day.isoformat(),
    )
    return True


def presence_of(session: Session, registration_id: str, day: date) -> Presence | None:
    return session.scalar(
        select(Presence).where(Presence.registration_id == registration_id, Presence.day == day)
    )


def presence_by_registration(
    session: Session, slug: str, ids: Iterable[str] | None = None
) -> dict[str, dict[date, Presence]]:
    """Every presence of the event's registrations (or of `ids`), by registration and day."""
    query = select(Presence).where(Presence.event_slug == slug)
    if ids is not None:
        query = query.where(Presence.registration_id.in_(list(ids)))
    found: dict[str, dict[date, Presence]] = defaultdict(dict)
    for row in session.scalars(query):
        found[row.registration_id][row.day] = row
    return dict(found)


def load_presence(store: Store, slug: str) -> dict[str, dict[date, Presence]]:
    with store.reading() as session:
        found = presence_by_registration(session, slug)
        session.expunge_all()
    return found


def confirmed(session: Session, slug: str) -> list[Registration]:
    """The event's confirmed participants (those expected every day), in Polish order."""
    from staff.collation import polish_key

    rows = session.scalars(
        select(Registration).where(
            Registration.event_slug == slug,
            Registration.status == Status.CONFIRMED.value,
            Registration.erased_at.is_(None),
        )
    ).all()
    return sorted(rows, key=lambda r: (polish_key(r.last_name), polish_key(r.first_name)))


def forget_times(session: Session, registration_ids: list[str]) -> None:
    """An erasure: the days present stay with the ID (the counts), nothing else."""
    from sqlalchemy import update

    session.execute(
        update(Presence)
        .where(Presence.registration_id.in_(registration_ids))
        .values(recorded_at=None, recorded_by=None, source=None)
    )


def ended_days(event: Event, now: datetime) -> list[date]:
    """The days of the event that have ended by `now`."""
    return [day for day in event.days if now >= day_ends_at(event, day)]


def absentees(session: Session, event: Event, day: date) -> list[Registration]:
    """Confirmed participants with no presence on `day`, in Polish alphabetical order."""
    people = confirmed(session, event.slug)
    present = presence_by_registration(session, event.slug, [p.id for p in people])
    return [p for p in people if day not in present.get(p.id, {})]


def attendance_counts(session: Session, event: Event, now: datetime) -> list[tuple[date, int, int]]:
    """(day, present, absent) for each day that has ended."""
    counts = []
    for day in ended_days(event, now):
        present = session.scalar(
            select(func.count())
            .select_from(Presence)
            .where(Presence.event_slug == event.slug, Presence.day == day)
        )
        counts.append((day, int(present or 0), len(absentees(session, event, day))))
    return counts


def attendance_marks(
    store: Transactions, event: Event, now: datetime
) -> dict[int, dict[date, str]]:
    """What the marked attendance list says per person (`seq`) and day: `obecność 08:42`, or
    `nieobecność` on a day that has ended; nothing on a day still to come."""
    ended = set(ended_days(event, now))
    with store.reading() as session:
        people = confirmed(session, event.slug)
        present = presence_by_registration(session, event.slug, [p.id for p in people])
        marks: dict[int, dict[date, str]] = {}
        for person in people:
            days = present.get(person.id, {})
            marks[person.seq] = {}
            for day in event.days:
                found = days.get(day)
                if found is not None:
                    at = found.recorded_at
                    time_of = f" {event.local(at):%H:%M}" if at is not None else ""
                    marks[person.seq][day] = f"obecność{time_of}"
                elif day in ended:
                    marks[person.seq][day] = ABSENT
    return marks
