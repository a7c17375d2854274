"""Presence in the staff's sheet: a service column per day of the event, `Obecność 27.08`,
holding the time of the presence (`HH:MM`) or nothing; read back, so `tak` typed by staff is a
presence recorded by `arkusz` and `nie` clears one (each applied once: the row is then rewritten
with the store's value). Any other value, or a value on a row whose ID is not a registration of
the event, is reported in `Uwagi systemu`, and the cell is left as typed.

The columns are the service's to write but stay out of its protection (Google's warning-only
protection after the close-off, the workbook's locked cells): staff type in them on the day.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from checkin.models import Presence
from checkin.presence import (
    SHEET,
    NotConfirmed,
    presence_by_registration,
    record_presence,
    undo_presence,
)
from registrations.event import Event
from registrations.models import Registration
from registrations.powiaty import fold
from registrations.window import Transactions

PREFIX = "Obecność"
_HEADER = re.compile(r"^obecność (\d{2})\.(\d{2})$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
YES, NO = "tak", "nie"
QUOTED_LENGTH = 40

logger = logging.getLogger(__name__)


def header_of(day: date) -> str:
    return f"{PREFIX} {day:%d.%m}"


def presence_headers(event: Event) -> list[str]:
    """The event's presence columns, one per day."""
    return [header_of(day) for day in event.days]


def is_presence_key(key: str) -> bool:
    """Whether a header (as `sheets.rows` compares them: spacing and case folded) is a day's
    presence column."""
    return _HEADER.match(key) is not None


def _key(header: str) -> str:
    return " ".join(header.split()).casefold()


def presence_columns(header: Sequence[str], event: Event) -> dict[int, date]:
    """Column → day, for the event's presence columns in staff's header row."""
    days = {_key(header_of(day)): day for day in event.days}
    found: dict[int, date] = {}
    for index, name in enumerate(header):
        day = days.get(_key(name))
        if day is not None and day not in found.values():
            found[index] = day
    return found


def missing_presence_headers(
    header: Sequence[str], event: Event, store: Transactions, now: datetime
) -> list[str]:
    """The presence columns the header lacks: from the event's first day on (or once someone
    was recorded present), so the sheet of registrations is not cluttered before."""
    present = {_key(name) for name in header}
    missing = [name for name in presence_headers(event) if _key(name) not in present]
    if not missing or now >= event.starts_at:
        return missing
    with store.reading() as session:
        recorded = session.scalar(
            select(Presence.id).where(Presence.event_slug == event.slug).limit(1)
        )
    return missing if recorded is not None else []


def unknown_value(header: str, value: str) -> str:
    shown = value.strip()
    if len(shown) > QUOTED_LENGTH:
        shown = shown[:QUOTED_LENGTH].rstrip() + "…"
    return f"{header}: nieznana wartość „{shown}” – należy wpisać „tak” albo „nie”."


UNKNOWN_ID = "Nieznany numer zgłoszenia – obecności nie odnotowano."
NOT_CONFIRMED = "{header}: obecność odnotowuje się tylko osobom z potwierdzonym miejscem."


@dataclass
class PresenceRead:
    """What the sheet's presence cells asked for: how many were applied, the notes of rows
    (0-based, header = 0) with a problem, and cells to leave as staff typed them."""

    applied: int = 0
    notes: dict[int, str] = field(default_factory=dict)
    keep: dict[str, set[str]] = field(default_factory=dict)  # registration → headers


def apply_presence_cells(
    store: Transactions,
    event: Event,
    table: Sequence[Sequence[str]],
    known: Collection[str],
    now: datetime,
) -> PresenceRead:
    """Apply `tak` / `nie` typed in the presence columns (before any row is rewritten)."""
    result = PresenceRead()
    if not table:
        return result
    header = table[0]
    columns = presence_columns(header, event)
    id_column = _index(header, "ID zgłoszenia")
    if not columns or id_column is None:
        return result
    wanted: list[tuple[int, str, date, str]] = []  # row, registration, day, typed
    for row_index, row in enumerate(table[1:], start=1):
        registration_id = _cell(row, id_column).strip()
        for column, day in columns.items():
            typed = _cell(row, column)
            value = fold(typed)
            if not value or _TIME.match(typed.strip()):
                continue
            name = header[column].strip()
            if value not in (YES, NO):
                result.notes[row_index] = unknown_value(name, typed)
                result.keep.setdefault(registration_id, set()).add(name)
                continue
            if registration_id not in known:
                result.notes[row_index] = UNKNOWN_ID
                continue
            wanted.append((row_index, registration_id, day, value))
    if not wanted:
        return result
    with store.transaction() as session:
        rows = {
            r.id: r
            for r in session.scalars(
                select(Registration).where(
                    Registration.event_slug == event.slug,
                    Registration.id.in_({w[1] for w in wanted}),
                    Registration.erased_at.is_(None),
                )
            )
        }
        present = presence_by_registration(session, event.slug, rows.keys())
        for row_index, registration_id, day, value in wanted:
            registration = rows.get(registration_id)
            if registration is None:
                continue
            has = day in present.get(registration_id, {})
            if value == YES and not has:
                try:
                    record_presence(
                        session, event, registration, day, now=now, by=SHEET, source=SHEET
                    )
                except NotConfirmed:
                    result.notes[row_index] = NOT_CONFIRMED.format(header=header_of(day))
                    result.keep.setdefault(registration_id, set()).add(header_of(day))
                    continue
                result.applied += 1
            elif value == NO and has:
                undo_presence(session, event, registration, day, now=now, by=SHEET)
                result.applied += 1
            else:  # already so: the row is rewritten with the store's value
                registration.touch(now)
    return result


def add_presence_cells(
    store: Transactions,
    event: Event,
    expected: dict[str, dict[str, str]],
    keep: Mapping[str, set[str]],
) -> None:
    """The presence cells of the rows about to be written: `HH:MM` or empty, in place."""
    if not expected:
        return
    with store.reading() as session:
        found = presence_by_registration(session, event.slug, expected.keys())
    for registration_id, values in expected.items():
        days = found.get(registration_id, {})
        kept = {_key(name) for name in keep.get(registration_id, set())}
        for day in event.days:
            name = header_of(day)
            if _key(name) in kept:
                continue
            presence = days.get(day)
            at = presence.recorded_at if presence is not None else None
            values[name] = event.local(at).strftime("%H:%M") if at is not None else ""


def _cell(row: Sequence[str], column: int) -> str:
    return row[column] if column < len(row) else ""


def _index(header: Sequence[str], name: str) -> int | None:
    wanted = _key(name)
    return next((i for i, cell in enumerate(header) if _key(cell) == wanted), None)
