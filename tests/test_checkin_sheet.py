"""Presence in the staff's sheet, in Google (the emulator, real gspread) and the workbook: a
column per day, `tak` typed by staff arrives and is not overwritten by a rewrite of its row,
`nie` clears, anything else is reported in `Uwagi systemu`; the columns stay unprotected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from checkin.models import Presence
from checkin.presence import record_presence
from checkin.sheet import header_of
from registrations.models import Registration
from sheets.rows import NOTES_HEADER
from tests.conftest import FakeClock, Mailbox
from tests.test_sheet_lifecycle import Office, close, make_office


@pytest.fixture(params=["workbook", "google"])
def office(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> Iterator[Office]:
    emulator = request.getfixturevalue("sheets_emulator") if request.param == "google" else None
    made = make_office(request.param, tmp_path, clock, smtp_server, emulator)
    yield made
    close(made)


def local(office: Office, day: date, hour: int, minute: int) -> str:
    """A moment of the event's day in its time zone, as the clock takes it."""
    return datetime.combine(day, time(hour, minute), tzinfo=office.event.tz).isoformat()


def presence(office: Office) -> dict[str, tuple[str, str | None]]:
    with office.svc.store.reading() as session:
        return {
            p.registration_id: (p.day.isoformat(), p.recorded_by)
            for p in session.scalars(select(Presence))
        }


def test_presence_columns_follow_the_store_and_read_back_tak_and_nie(
    office: Office, clock: FakeClock
) -> None:
    ids = [body["id"] for body in office.register(3)]
    office.round()
    assert not [h for h in office.grid()[0] if h.startswith("Obecność")]  # not before the day
    day_one, day_two = office.event.days
    clock.set(local(office, day_one, 7, 0))
    office.round()
    first, second = header_of(day_one), header_of(day_two)
    assert [h for h in office.grid()[0] if h.startswith("Obecność")] == [first, second]
    assert office.row(ids[0])[first] == ""

    # Recorded on a phone at 08:42 (the event's time): the sheet shows the time.
    clock.set(local(office, day_one, 8, 42))
    with office.svc.store.transaction() as session:
        anna = session.scalar(select(Registration).where(Registration.id == ids[0]))
        assert anna is not None
        record_presence(
            session, office.event, anna, day_one, now=clock(), by="x@y.pl", source="skan"
        )
    office.round()
    assert office.row(ids[0])[first] == "08:42"

    # Staff type `tak` in a row the service is about to rewrite (the participant changed it).
    office.type_in(ids[1], first, "tak")
    with office.svc.store.transaction() as session:
        row = session.scalar(select(Registration).where(Registration.id == ids[1]))
        assert row is not None
        row.phone = "+48 600 100 200"
        row.touch(clock())
    office.round()
    assert presence(office)[ids[1]] == (day_one.isoformat(), "arkusz")
    assert office.row(ids[1])[first] == "08:42"
    assert office.row(ids[1])["Telefon"] == "+48 600 100 200"

    # `nie` clears; an unknown value is reported and left as typed.
    office.type_in(ids[0], first, "nie")
    office.type_in(ids[2], second, "może")
    office.round()
    office.round()
    assert ids[0] not in presence(office)
    assert office.row(ids[0])[first] == ""
    assert office.row(ids[2])[second] == "może"
    assert "nieznana wartość „może”" in office.row(ids[2])[NOTES_HEADER]
    assert ids[2] not in presence(office)


def test_presence_columns_stay_out_of_the_protection(office: Office, clock: FakeClock) -> None:
    office.register(2)
    clock.set(local(office, office.event.days[0], 7, 0))
    office.round()
    office.svc.sink.protect(office.event)
    header = office.grid()[0]
    column = header.index(header_of(office.event.days[0]))
    status = header.index("Status")
    if office.kind == "workbook":
        path = office.svc.instance_path / f"{office.event.slug}.xlsx"
        sheet = load_workbook(path)[office.event.worksheet_title]
        assert sheet.protection.sheet
        assert sheet.cell(row=2, column=column + 1).protection.locked is False
        assert sheet.cell(row=2, column=status + 1).protection.locked is True
        return
    staff: Any = office.staff
    dump = staff.server.dump(staff.spreadsheet_id)
    [sheet] = [s for s in dump["sheets"] if s["title"] == office.event.worksheet_title]
    ranges = [p["range"] for p in sheet["protectedRanges"]]
    assert ranges
    covered = {c for r in ranges for c in range(r["startColumnIndex"], r["endColumnIndex"])}
    assert status in covered and column not in covered
