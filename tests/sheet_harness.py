"""Read a sink's spreadsheet back and act on it as staff would, for the local and Google sinks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import gspread
from flask import Flask
from openpyxl import load_workbook

from app import create_app
from config.settings import Settings
from registrations.event import Event
from sheets.factory import make_syncer
from sheets.local import excel_title, save_atomically, set_text
from sheets.rows import ID_HEADER
from sheets.syncer import Syncer
from sheets.transport import emulator_session
from tests.conftest import KLASTER, FakeClock, own_events, valid_payload

URL = f"/api/events/{KLASTER}/registrations"
TITLE = "Zgłoszenia – Klaster PS 2018"


class StaffSheet(Protocol):
    def grid(self, event: Event) -> list[list[str]]: ...
    def has_formulas(self, event: Event) -> bool: ...
    def move_column(self, event: Event, source: int, destination: int) -> None: ...
    def insert_column(self, event: Event, index: int, header: str) -> None: ...
    def set_cell(self, event: Event, row: int, column: int, value: str) -> None: ...
    def clear_cell(self, event: Event, row: int, column: int) -> None: ...
    def delete_worksheet(self, event: Event) -> None: ...
    def sort_rows(self, event: Event, column: int, descending: bool = False) -> None: ...
    def delete_row(self, event: Event, row: int) -> None: ...


def _trim(rows: list[list[Any]]) -> list[list[str]]:
    grid = [["" if v is None else str(v) for v in row] for row in rows]
    for row in grid:
        while row and row[-1] == "":
            row.pop()
    while grid and not grid[-1]:
        grid.pop()
    return grid


class WorkbookStaff:
    """Staff editing `instance/<slug>.xlsx` (openpyxl stands in for Excel or LibreOffice)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _open(self, event: Event) -> tuple[Any, Any, Path]:
        path = self.folder / f"{event.slug}.xlsx"
        workbook = load_workbook(path)
        return workbook, workbook[excel_title(event.worksheet_title)], path

    def grid(self, event: Event) -> list[list[str]]:
        _, sheet, _ = self._open(event)
        return _trim([list(row) for row in sheet.iter_rows(values_only=True)])

    def has_formulas(self, event: Event) -> bool:
        _, sheet, _ = self._open(event)
        return any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)

    def cell_types(self, event: Event) -> set[str]:
        _, sheet, _ = self._open(event)
        return {cell.data_type for row in sheet.iter_rows() for cell in row if cell.value}

    def move_column(self, event: Event, source: int, destination: int) -> None:
        workbook, sheet, path = self._open(event)
        grid = [list(row) for row in sheet.iter_rows(values_only=True)]
        width = max(len(row) for row in grid)
        for row in grid:
            row.extend([None] * (width - len(row)))
            row.insert(destination, row.pop(source))
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                sheet.cell(row=r, column=c).value = value
        save_atomically(workbook, path)

    def insert_column(self, event: Event, index: int, header: str) -> None:
        workbook, sheet, path = self._open(event)
        sheet.insert_cols(index + 1)
        set_text(sheet.cell(row=1, column=index + 1), header)
        save_atomically(workbook, path)

    def set_cell(self, event: Event, row: int, column: int, value: str) -> None:
        workbook, sheet, path = self._open(event)
        set_text(sheet.cell(row=row + 1, column=column + 1), value)
        save_atomically(workbook, path)

    def clear_cell(self, event: Event, row: int, column: int) -> None:
        workbook, sheet, path = self._open(event)
        sheet.cell(row=row + 1, column=column + 1).value = None
        save_atomically(workbook, path)

    def delete_worksheet(self, event: Event) -> None:
        workbook, sheet, path = self._open(event)
        workbook.remove(sheet)
        workbook.create_sheet("Arkusz1")
        save_atomically(workbook, path)

    def sort_rows(self, event: Event, column: int, descending: bool = False) -> None:
        """Data → Sort on rows 2..n, as Excel does it: whole rows move, cells keep their type."""
        workbook, sheet, path = self._open(event)
        rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
        rows = [row for row in rows if any(v not in (None, "") for v in row)]
        rows.sort(key=lambda row: str(row[column] or ""), reverse=descending)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                sheet.cell(row=r, column=c).value = value
        save_atomically(workbook, path)

    def delete_row(self, event: Event, row: int) -> None:
        workbook, sheet, path = self._open(event)
        sheet.delete_rows(row + 1)
        save_atomically(workbook, path)

    def snapshot(self, event: Event) -> bytes:
        """The file as it is now, to save back later (staff keeping an old copy open)."""
        return (self.folder / f"{event.slug}.xlsx").read_bytes()

    def save_over(self, event: Event, copy: bytes) -> None:
        (self.folder / f"{event.slug}.xlsx").write_bytes(copy)


class GoogleStaff:
    """Staff in the Google Sheets UI, as its requests reach the API (here: the emulator)."""

    def __init__(self, server: Any, spreadsheet_id: str) -> None:
        self.server = server
        self.spreadsheet_id = spreadsheet_id
        self.session = emulator_session(server.host_port)
        self.client = gspread.Client(auth=None, session=self.session)  # type: ignore[arg-type]

    def close(self) -> None:
        self.session.close()

    def _worksheet(self, event: Event) -> gspread.Worksheet:
        return self.client.open_by_key(self.spreadsheet_id).worksheet(event.worksheet_title)

    def grid(self, event: Event) -> list[list[str]]:
        return _trim(self.server.values(self.spreadsheet_id, event.worksheet_title))

    def has_formulas(self, event: Event) -> bool:
        rows = self.server.formulas(self.spreadsheet_id, event.worksheet_title)
        return any(cell for row in rows for cell in row)

    def typed_values(self, event: Event) -> list[list[Any]]:
        return list(self.server.effective_values(self.spreadsheet_id, event.worksheet_title))

    def _batch(self, request: dict[str, Any]) -> None:
        self.client.open_by_key(self.spreadsheet_id).batch_update({"requests": [request]})

    def move_column(self, event: Event, source: int, destination: int) -> None:
        sheet_id = self._worksheet(event).id
        # The API's destinationIndex counts positions before the move (UI drag semantics).
        target = destination + 1 if destination > source else destination
        self._batch(
            {
                "moveDimension": {
                    "source": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": source,
                        "endIndex": source + 1,
                    },
                    "destinationIndex": target,
                }
            }
        )

    def insert_column(self, event: Event, index: int, header: str) -> None:
        worksheet = self._worksheet(event)
        self._batch(
            {
                "insertDimension": {
                    "range": {
                        "sheetId": worksheet.id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1,
                    },
                    "inheritFromBefore": index > 0,
                }
            }
        )
        worksheet.update_cell(1, index + 1, header)

    def set_cell(self, event: Event, row: int, column: int, value: str) -> None:
        self._worksheet(event).update_cell(row + 1, column + 1, value)

    def clear_cell(self, event: Event, row: int, column: int) -> None:
        self._worksheet(event).update_cell(row + 1, column + 1, "")

    def delete_worksheet(self, event: Event) -> None:
        spreadsheet = self.client.open_by_key(self.spreadsheet_id)
        spreadsheet.del_worksheet(spreadsheet.worksheet(event.worksheet_title))

    def sort_rows(self, event: Event, column: int, descending: bool = False) -> None:
        """Data → Sort range (rows 2..n), as the Sheets UI sends it."""
        worksheet = self._worksheet(event)
        self._batch(
            {
                "sortRange": {
                    "range": {"sheetId": worksheet.id, "startRowIndex": 1},
                    "sortSpecs": [
                        {
                            "dimensionIndex": column,
                            "sortOrder": "DESCENDING" if descending else "ASCENDING",
                        }
                    ],
                }
            }
        )

    def delete_row(self, event: Event, row: int) -> None:
        self._worksheet(event).delete_rows(row + 1)

    def set_filter(self, event: Event, column: int, hidden: list[str]) -> None:
        """Data → Create a filter, hiding rows whose `column` holds one of `hidden`."""
        worksheet = self._worksheet(event)
        self._batch(
            {
                "setBasicFilter": {
                    "filter": {
                        "range": {"sheetId": worksheet.id},
                        "criteria": {str(column): {"hiddenValues": hidden}},
                    }
                }
            }
        )


class Google:
    """An app whose sink is the emulator's spreadsheet, and ways to look at that sheet."""

    def __init__(self, emulator: Any, tmp_path: Path, clock: FakeClock, **extra: Any) -> None:
        self.emulator = emulator
        self.clock = clock
        self.spreadsheet_id = extra.pop("spreadsheet_id", None) or emulator.create_spreadsheet(
            "Zgłoszenia OWES"
        )
        options: dict[str, Any] = {
            "sheets_backoff_max_seconds": 0.05,
            "sheets_in_flight_settle_seconds": 0.0,
            **extra,
        }
        self.settings = Settings(
            instance_path=tmp_path / "instance",
            events_dir=own_events(tmp_path / "events"),
            run_worker=False,
            secret_key="t",  # type: ignore[arg-type]
            sheets_emulator_host=emulator.host_port,
            sheets_spreadsheet_id=self.spreadsheet_id,
            **options,
        )
        self.app: Flask = create_app(self.settings, clock=clock)
        self.client = self.app.test_client()
        self.services = self.app.extensions["owes"]
        self.event = self.services.events[KLASTER]
        self.syncer: Syncer = make_syncer(self.services, logging.getLogger("test.sync"))

    def register(self, n: int, start: int = 0) -> list[str]:
        ids = []
        for i in range(start, start + n):
            response = self.client.post(URL, json=valid_payload(email=f"u{i}@example.pl"))
            assert response.status_code == 201
            ids.append(response.get_json()["id"])
        return ids

    def sheet_ids(self) -> list[str]:
        grid = self.emulator.values(self.spreadsheet_id, TITLE)
        column = grid[0].index(ID_HEADER)
        return [row[column] for row in grid[1:] if row[column]]

    def appends(self) -> int:
        return sum(":append" in r.path for r in self.emulator.requests_log)

    def close(self) -> None:
        self.services.sink.close()
        self.services.store.dispose()
