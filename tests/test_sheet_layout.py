"""The sheet and the workbook as staff get them: column widths that fit, a filter over whole
columns, one name for `Szczególne potrzeby` (renamed in place), and after the close-off only the
service's columns locked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from sheets import layout
from sheets.factory import make_syncer
from sheets.local import excel_title
from sheets.rows import DECISION_HEADER, HEADERS, ID_HEADER, NOTES_HEADER
from tests.conftest import KLASTER, FakeClock, valid_payload
from tests.sheet_harness import TITLE, URL, Google, GoogleStaff, WorkbookStaff

NEEDS = "Szczególne potrzeby"
OLD_NEEDS = "Potrzeby szczególne"


@pytest.fixture
def google(sheets_emulator: Any, tmp_path: Path, clock: FakeClock) -> Iterator[Google]:
    setup = Google(sheets_emulator, tmp_path, clock)
    yield setup
    setup.close()


def register(client: FlaskClient, email: str, **overrides: Any) -> str:
    response = client.post(URL, json=valid_payload(email=email, **overrides))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def sync(app: Flask) -> None:
    svc = app.extensions["owes"]
    make_syncer(svc, logging.getLogger("test")).sync_event(svc.events[KLASTER])


def workbook_of(app: Flask) -> Any:
    svc = app.extensions["owes"]
    return load_workbook(svc.instance_path / f"{KLASTER}.xlsx")


def test_every_column_is_as_wide_as_its_header_and_typical_content() -> None:
    for name in HEADERS:
        pixels = layout.column_pixels(name)
        assert pixels >= len(name) * layout.HEADER_PIXELS or pixels == layout.MAX_PIXELS, name
        typical = layout.TYPICAL_CONTENT.get(name, "")
        assert pixels >= min(len(typical) * layout.TEXT_PIXELS, layout.MAX_PIXELS), name
    assert layout.column_pixels(NOTES_HEADER) == 300


def test_a_new_google_worksheet_gets_widths_and_a_filter_over_whole_columns(
    google: Google,
) -> None:
    google.register(2)
    google.syncer.sync_event(google.event)

    info = google.emulator.sheet_info(google.spreadsheet_id, TITLE)
    widths = {name: info.column_widths[i] for i, name in enumerate(HEADERS)}
    assert widths == {name: layout.column_pixels(name) for name in HEADERS}
    grid = info.basic_filter["range"]
    assert (grid["startRowIndex"], grid["startColumnIndex"], grid["endColumnIndex"]) == (
        0,
        0,
        len(HEADERS),
    )
    assert grid["endRowIndex"] == info.row_count  # to the grid's end: every row, later ones too


def test_a_column_the_service_adds_gets_its_width_and_the_filter_but_staff_filter_stays(
    google: Google,
) -> None:
    google.register(1)
    google.syncer.sync_event(google.event)
    staff = GoogleStaff(google.emulator, google.spreadsheet_id)
    try:
        # An earlier release's sheet without the notes column: the service adds it at the end.
        grid = google.emulator.values(google.spreadsheet_id, TITLE)
        notes = grid[0].index(NOTES_HEADER)
        staff.set_cell(google.event, 0, notes, "Moje uwagi")  # staff's own column now
        staff.set_filter(google.event, grid[0].index("Status"), ["rezygnacja"])
        google.register(1, start=5)
        google.syncer.sync_event(google.event)
    finally:
        staff.close()

    header = google.emulator.values(google.spreadsheet_id, TITLE)[0]
    info = google.emulator.sheet_info(google.spreadsheet_id, TITLE)
    assert header[-1] == NOTES_HEADER and "Moje uwagi" in header
    assert info.column_widths[len(header) - 1] == layout.column_pixels(NOTES_HEADER)
    assert info.column_widths[header.index("Moje uwagi")] == layout.column_pixels(NOTES_HEADER)
    # Staff set their own filter (whole grid, a criterion): it is theirs, kept as it is.
    assert info.basic_filter["criteria"] == {
        str(header.index("Status")): {"hiddenValues": ["rezygnacja"]}
    }


def test_the_services_filter_is_widened_over_a_column_it_adds(google: Google) -> None:
    google.register(1)
    google.syncer.sync_event(google.event)
    sheet = google.services.sink.find(google.event)
    sheet.add_headers(["Nowa kolumna"], len(HEADERS))  # as for a header a new release brings

    info = google.emulator.sheet_info(google.spreadsheet_id, TITLE)
    assert info.basic_filter["range"]["endColumnIndex"] == len(HEADERS) + 1
    assert info.column_widths[len(HEADERS)] == layout.column_pixels("Nowa kolumna")


def test_a_new_workbook_gets_widths_and_an_autofilter_over_whole_columns(
    app: Flask, client: FlaskClient
) -> None:
    register(client, "a@example.pl")
    sync(app)

    sheet = workbook_of(app)[excel_title(TITLE)]
    assert sheet.auto_filter.ref == f"A1:{layout.column_letter(len(HEADERS) - 1)}1048576"
    id_column = layout.column_letter(HEADERS.index(ID_HEADER))
    assert sheet.column_dimensions[id_column].width == pytest.approx(
        layout.column_pixels(ID_HEADER) / 7
    )
    enterprise = layout.column_letter(HEADERS.index("Przedsiębiorstwo społeczne"))
    assert sheet.column_dimensions[enterprise].width > sheet.column_dimensions[id_column].width


@pytest.mark.parametrize("where", ["workbook", "google"])
def test_the_old_special_needs_header_is_renamed_in_place_with_its_data(
    where: str, app: Flask, client: FlaskClient, google: Google
) -> None:
    if where == "google":
        target, client = google.app, google.client
        staff: Any = GoogleStaff(google.emulator, google.spreadsheet_id)
    else:
        target = app
        staff = WorkbookStaff(app.extensions["owes"].instance_path)
    event = target.extensions["owes"].events[KLASTER]
    first = register(client, "a@example.pl", special_needs="asystent")
    sync(target)
    column = staff.grid(event)[0].index(NEEDS)
    staff.set_cell(event, 0, column, OLD_NEEDS)  # the header an earlier release wrote
    staff.insert_column(event, column, "Moje uwagi")  # staff's column before it: it moves
    second = register(client, "b@example.pl", special_needs="pętla indukcyjna")

    sync(target)

    grid = staff.grid(event)
    header = grid[0]
    if where == "google":
        staff.close()
    assert header.count(NEEDS) == 1 and OLD_NEEDS not in header
    assert header.index(NEEDS) == column + 1  # in place: the column did not move
    ids = header.index(ID_HEADER)
    needs = {row[ids]: row[header.index(NEEDS)] for row in grid[1:]}
    assert needs == {first: "asystent", second: "pętla indukcyjna"}


def test_after_the_close_off_the_workbook_locks_only_the_services_columns(
    app: Flask, client: FlaskClient, runner: Any, clock: FakeClock
) -> None:
    register(client, "a@example.pl")
    register(client, "b@example.pl")
    sync(app)
    staff = WorkbookStaff(app.extensions["owes"].instance_path)
    event = app.extensions["owes"].events[KLASTER]
    staff.insert_column(event, 1, "Status płatności")  # staff's own, among the service's
    clock.set("2018-08-23T08:00:00+02:00")
    result = runner.invoke(args=["close-off", "--event", KLASTER])
    assert result.exit_code == 0, result.output

    sheet = workbook_of(app)[excel_title(TITLE)]
    header = [cell.value for cell in sheet[1]]
    assert sheet.protection.sheet  # Review → Unprotect Sheet, no password asked
    assert sheet.protection.password is None
    assert sheet.protection.autoFilter is False  # filtering stays possible
    for row in (1, 2, 3):
        locked = {
            header[c]: sheet.cell(row=row, column=c + 1).protection.locked
            for c in range(len(header))
        }
        assert locked["Status płatności"] is False and locked[DECISION_HEADER] is False
        assert (
            locked[ID_HEADER] is True
            and locked["Nazwisko"] is True
            and locked[NOTES_HEADER] is True
        )
    # A new row and a new column are nobody's yet: editable.
    assert sheet.column_dimensions["A"].protection.locked is False
    after = layout.column_letter(len(header))
    assert sheet.column_dimensions[after].protection.locked is False
    assert sheet.column_dimensions[after].max == 16384


def test_google_warns_only_over_the_services_columns(google: Google, clock: FakeClock) -> None:
    google.register(2)
    google.syncer.sync_event(google.event)
    staff = GoogleStaff(google.emulator, google.spreadsheet_id)
    try:
        staff.insert_column(google.event, 1, "Status płatności")
    finally:
        staff.close()
    clock.set("2018-08-23T08:00:00+02:00")
    result = google.app.test_cli_runner().invoke(args=["close-off", "--event", KLASTER])
    assert result.exit_code == 0, result.output

    header = google.emulator.values(google.spreadsheet_id, TITLE)[0]
    protections = google.emulator.sheet_info(google.spreadsheet_id, TITLE).protected_ranges
    covered = {
        c
        for p in protections
        for c in range(p["range"]["startColumnIndex"], p["range"]["endColumnIndex"])
    }
    assert all(p["warningOnly"] for p in protections)
    assert header.index("Status płatności") not in covered
    assert header.index(DECISION_HEADER) not in covered
    assert {
        header.index(ID_HEADER),
        header.index("Nazwisko"),
        header.index(NOTES_HEADER),
    } <= covered
    assert all(
        "startRowIndex" not in p["range"] or p["range"]["startRowIndex"] == 0 for p in protections
    )


def test_sheets_check_counts_the_old_header_as_present_and_says_it_is_renamed(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    register(client, "a@example.pl", special_needs="asystent")
    sync(app)
    staff = WorkbookStaff(app.extensions["owes"].instance_path)
    event = app.extensions["owes"].events[KLASTER]
    staff.set_cell(event, 0, staff.grid(event)[0].index(NEEDS), OLD_NEEDS)

    result = runner.invoke(args=["sheets", "check"])

    assert result.exit_code == 0, result.output
    assert f"header '{OLD_NEEDS}' is renamed '{NEEDS}' in place at the next write" in result.output
