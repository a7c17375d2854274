"""Behaviour both sinks share: readable rows, header mapping, no formulas, never twice."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app import create_app
from config.settings import Settings
from registrations.models import Registration
from sheets.factory import make_syncer
from sheets.rows import HEADERS, ID_HEADER
from sheets.syncer import Syncer
from tests.conftest import KLASTER, FakeClock, own_events, valid_payload
from tests.sheet_harness import GoogleStaff, StaffSheet, WorkbookStaff

URL = f"/api/events/{KLASTER}/registrations"
HOSTILE: dict[str, Any] = {
    "first_name": '=IMPORTXML("http://x","//a")',
    "last_name": "@SUM(A1)",
    "enterprise_name": "-1 Spółdzielnia",
    "role": "+48 533 316 283",
    "special_needs": "\tukryte",
}


class Setup:
    def __init__(self, app: Flask, staff: StaffSheet) -> None:
        self.app = app
        self.staff = staff
        self.client = app.test_client()
        self.event = app.extensions["owes"].events[KLASTER]
        self.syncer: Syncer = make_syncer(app.extensions["owes"], logging.getLogger("test"))

    def register(self, n: int = 1, start: int = 0, **overrides: Any) -> list[str]:
        ids = []
        for i in range(start, start + n):
            payload = valid_payload(email=f"osoba{i}@example.pl", **overrides)
            response = self.client.post(URL, json=payload)
            assert response.status_code == 201, response.get_json()
            ids.append(response.get_json()["id"])
        return ids

    def sync(self) -> bool:
        return self.syncer.sync_event(self.event) is not None

    def grid(self) -> list[list[str]]:
        return self.staff.grid(self.event)

    def column(self, header: str) -> list[str]:
        grid = self.grid()
        index = grid[0].index(header)
        return [row[index] if index < len(row) else "" for row in grid[1:]]


@pytest.fixture(params=["workbook", "google"])
def setup(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Setup]:
    instance = tmp_path / "instance"
    staff: Any
    if request.param == "workbook":
        settings = Settings(
            instance_path=instance,
            events_dir=own_events(tmp_path / "events"),
            run_worker=False,
            secret_key="t",  # type: ignore[arg-type]
        )
        staff = WorkbookStaff(instance)
    else:
        emulator = request.getfixturevalue("sheets_emulator")
        spreadsheet_id = emulator.create_spreadsheet("Zgłoszenia OWES")
        settings = Settings(
            instance_path=instance,
            events_dir=own_events(tmp_path / "events"),
            run_worker=False,
            secret_key="t",  # type: ignore[arg-type]
            sheets_emulator_host=emulator.host_port,
            sheets_spreadsheet_id=spreadsheet_id,
            sheets_backoff_max_seconds=0.01,
        )
        staff = GoogleStaff(emulator, spreadsheet_id)
    app = create_app(settings, clock=clock)
    yield Setup(app, staff)
    services = app.extensions["owes"]
    getattr(services.sink, "close", lambda: None)()
    getattr(staff, "close", lambda: None)()
    services.store.dispose()


def test_each_registration_becomes_one_readable_row_under_polish_headers(setup: Setup) -> None:
    [reg_id] = setup.register(pesel="02270803624", phone="533316283")

    assert setup.sync()

    header, row = setup.grid()
    assert header == HEADERS
    values = dict(zip(header, row, strict=False))
    assert values[ID_HEADER] == reg_id
    assert values["Data zgłoszenia"] == "2018-08-20 14:00"  # 12:00 UTC in Warsaw (CEST)
    assert values["Status"] == "potwierdzone"
    assert values["Powiat"] == "powiat zielonogórski"
    assert values["Telefon"] == "+48 533 316 283"
    assert values["PESEL"] == "02270803624"
    assert values["Nocleg"] == "tak"
    assert values["Dieta"] == "wegetariańska"
    assert values["Zgoda na przetwarzanie danych"] == "tak"
    assert values["Zgoda na wizerunek"] == "nie"


def test_hostile_values_are_stored_as_inert_text(setup: Setup) -> None:
    setup.register(**HOSTILE)

    setup.sync()

    header, row = setup.grid()
    values = dict(zip(header, row, strict=False))
    assert values["Imię"] == '\'=IMPORTXML("http://x","//a")'
    assert values["Nazwisko"] == "'@SUM(A1)"
    assert values["Przedsiębiorstwo społeczne"] == "'-1 Spółdzielnia"
    assert values["Funkcja w przedsiębiorstwie"] == "'+48 533 316 283"
    assert values["Szczególne potrzeby"] == "ukryte"  # whitespace is trimmed on intake
    assert not setup.staff.has_formulas(setup.event)


def test_syncing_again_adds_nothing(setup: Setup) -> None:
    setup.register(3)
    setup.sync()

    setup.sync()
    setup.sync()

    assert len(setup.grid()) == 4


def test_a_lost_success_record_does_not_duplicate_rows(setup: Setup) -> None:
    """The append reached the sheet, then the process died before recording it."""
    ids = setup.register(3)
    setup.sync()
    with setup.app.extensions["owes"].store.transaction() as session:
        session.execute(update(Registration).values(synced_to=None, synced_at=None))

    [new_id] = setup.register(1, start=10)
    setup.sync()

    assert sorted(setup.column(ID_HEADER)) == sorted([*ids, new_id])


def test_rows_follow_staff_reordered_columns(setup: Setup) -> None:
    setup.register(1)
    setup.sync()
    email_at = HEADERS.index("E-mail")
    setup.staff.move_column(setup.event, email_at, 0)  # staff want e-mail first
    setup.staff.move_column(setup.event, HEADERS.index(ID_HEADER) + 1, len(HEADERS) - 1)

    [new_id] = setup.register(1, start=5)
    setup.sync()

    grid = setup.grid()
    assert grid[0][0] == "E-mail"
    assert grid[0][-1] == ID_HEADER
    assert grid[2][0] == "osoba5@example.pl"
    assert grid[2][-1] == new_id
    assert dict(zip(grid[0], grid[2], strict=False))["Nazwisko"] == "Nowak"


def test_staff_columns_and_notes_are_kept_and_never_overwritten(setup: Setup) -> None:
    setup.register(1)
    setup.sync()
    setup.staff.insert_column(setup.event, 3, "Uwagi")
    setup.staff.set_cell(setup.event, 1, 3, "zadzwonić")
    setup.staff.insert_column(setup.event, 0, "Status płatności")

    setup.register(2, start=1)
    setup.sync()

    grid = setup.grid()
    assert grid[0][0] == "Status płatności" and grid[0][4] == "Uwagi"
    assert grid[1][4] == "zadzwonić"
    for row in grid[2:]:
        values = dict(zip(grid[0], row, strict=False))
        assert values.get("Uwagi", "") == "" and values.get("Status płatności", "") == ""
        assert values["Imię"] == "Anna"
    assert len(grid) == 4


def test_a_header_staff_removed_is_added_at_the_end_instead_of_dropping_data(
    setup: Setup,
) -> None:
    setup.register(1)
    setup.sync()
    setup.staff.clear_cell(setup.event, 0, HEADERS.index("Telefon"))

    setup.register(1, start=1)
    setup.sync()

    grid = setup.grid()
    assert grid[0][-1] == "Telefon"
    assert grid[2][-1] == "+48 533 316 283"


def test_rows_typed_in_by_staff_stay_and_new_rows_go_below_them(setup: Setup) -> None:
    setup.register(1)
    setup.sync()
    setup.staff.set_cell(setup.event, 2, 0, "ręcznie")
    setup.staff.set_cell(setup.event, 2, 3, "Zofia")

    [new_id] = setup.register(1, start=1)
    setup.sync()

    grid = setup.grid()
    assert grid[2][0] == "ręcznie" and grid[2][3] == "Zofia"
    assert grid[3][0] == new_id


def test_a_deleted_worksheet_is_recreated_with_its_header_and_refilled(setup: Setup) -> None:
    ids = setup.register(2)
    setup.sync()
    setup.staff.delete_worksheet(setup.event)

    [new_id] = setup.register(1, start=7)
    assert setup.sync()

    grid = setup.grid()
    assert grid[0] == HEADERS
    assert sorted(setup.column(ID_HEADER)) == sorted([*ids, new_id])


def test_sheets_check_on_the_local_workbook_reads_and_creates_nothing(
    app: Flask, client: FlaskClient
) -> None:
    svc = app.extensions["owes"]
    client.post(URL, json=valid_payload())

    result = app.test_cli_runner().invoke(args=["sheets", "check"])

    assert result.exit_code == 1
    assert "worksheet 'Zgłoszenia – Klaster PS 2018' is missing" in result.output
    assert not (svc.instance_path / f"{KLASTER}.xlsx").exists()
    created = app.test_cli_runner().invoke(args=["sheets", "check", "--create"])
    assert created.exit_code == 0, created.output
    assert len(WorkbookStaff(svc.instance_path).grid(svc.events[KLASTER])) == 2  # header + row


def test_a_broken_workbook_is_reported_and_rows_wait(app: Flask, client: FlaskClient) -> None:
    svc = app.extensions["owes"]
    (svc.instance_path / f"{KLASTER}.xlsx").write_bytes(b"not a zip file")
    client.post(URL, json=valid_payload())

    assert not make_syncer(svc, logging.getLogger("t")).sync_event(svc.events[KLASTER])

    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert health["sync"]["last_error"]["code"] == "workbook"
    assert health["sync"]["pending"] == 1
