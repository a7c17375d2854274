"""The embedded default sink: one local workbook per event, `instance/<slug>.xlsx` (openpyxl)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from registrations.event import Event
from sheets.rows import HEADERS
from sheets.sink import SinkError

_EXCEL_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def excel_title(title: str) -> str:
    """A worksheet title Excel accepts: no `[]:*?/\\`, at most 31 characters."""
    return _EXCEL_TITLE_FORBIDDEN.sub("-", title)[:31]


def set_text(cell: Cell, value: str) -> None:
    """Store `value` as a text cell: openpyxl would otherwise make `=…` a formula."""
    cell.value = value
    cell.data_type = "s"
    cell.number_format = "@"


def save_atomically(workbook: Workbook, path: Path) -> None:
    """Write to a temporary file and rename, so a crash never leaves half a workbook."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".xlsx")
        os.close(fd)
        try:
            workbook.save(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise SinkError(
            f"{path}: cannot save the workbook ({exc.strerror or exc})",
            permanent=False,
            code="workbook",
        ) from exc


def load_or_create(path: Path) -> Workbook:
    if not path.exists():
        workbook = Workbook()
        if workbook.active is not None:
            workbook.remove(workbook.active)
        return workbook
    try:
        return load_workbook(path)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise SinkError(
            f"{path}: cannot open the workbook ({exc.__class__.__name__}); move the broken file "
            "away and the next sync writes a new one from the store",
            permanent=True,
            code="workbook",
        ) from exc


class LocalSheet:
    """A worksheet in a local workbook; each change is saved at once."""

    def __init__(self, workbook: Workbook, worksheet: Worksheet, path: Path) -> None:
        self._workbook = workbook
        self._worksheet = worksheet
        self._path = path

    def header(self) -> list[str]:
        first = next(self._worksheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        cells = ["" if value is None else str(value) for value in first]
        while cells and cells[-1] == "":
            cells.pop()
        return cells

    def add_headers(self, names: list[str], at_column: int) -> None:
        for offset, name in enumerate(names):
            cell = self._worksheet.cell(row=1, column=at_column + offset + 1)
            set_text(cell, name)
            cell.font = Font(bold=True)
        save_atomically(self._workbook, self._path)

    def column(self, index: int) -> list[str]:
        values = self._worksheet.iter_rows(
            min_row=2, min_col=index + 1, max_col=index + 1, values_only=True
        )
        return ["" if row[0] is None else str(row[0]) for row in values]

    def append_rows(self, rows: list[list[str]]) -> None:
        next_row = self._last_table_row() + 1
        for offset, row in enumerate(rows):
            for column, value in enumerate(row, start=1):
                set_text(self._worksheet.cell(row=next_row + offset, column=column), value)
        save_atomically(self._workbook, self._path)

    def _last_table_row(self) -> int:
        """The last row with any value (staff may have sorted or typed rows by hand)."""
        for row in range(self._worksheet.max_row, 0, -1):
            if any(cell.value not in (None, "") for cell in self._worksheet[row]):
                return row
        return 0


SUMMARY_TITLE = "Podsumowanie"


class LocalWorkbookSink:
    """Rows for each event go to `<folder>/<slug>.xlsx`, a worksheet named like the Google one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, event: Event) -> Path:
        return self.folder / f"{event.slug}.xlsx"

    def target(self, event: Event) -> str:
        return f"xlsx:{self.path(event)}"

    def find(self, event: Event) -> LocalSheet | None:
        path = self.path(event)
        if not path.exists():
            return None
        workbook = load_or_create(path)
        title = excel_title(event.worksheet_title)
        if title not in workbook.sheetnames:
            return None
        return LocalSheet(workbook, workbook[title], path)

    def create(self, event: Event) -> LocalSheet:
        path = self.path(event)
        workbook = load_or_create(path)
        worksheet = workbook.create_sheet(excel_title(event.worksheet_title), 0)
        worksheet.freeze_panes = "A2"
        sheet = LocalSheet(workbook, worksheet, path)
        sheet.add_headers(HEADERS, 0)  # saves the workbook
        return sheet

    def write_summary(self, event: Event, table: list[list[str]]) -> None:
        path = self.path(event)
        workbook = load_or_create(path)
        if SUMMARY_TITLE in workbook.sheetnames:
            workbook.remove(workbook[SUMMARY_TITLE])
        worksheet = workbook.create_sheet(SUMMARY_TITLE, 1)
        for r, row in enumerate(table, start=1):
            for c, value in enumerate(row, start=1):
                set_text(worksheet.cell(row=r, column=c), value)
        worksheet.column_dimensions["A"].width = 45
        worksheet.column_dimensions["B"].width = 60
        save_atomically(workbook, path)

    def protect(self, event: Event) -> None:
        # Excel has no warning-only protection: a sheet protected without a password is the
        # nearest thing (Review → Unprotect Sheet, no password asked).
        path = self.path(event)
        workbook = load_or_create(path)
        title = excel_title(event.worksheet_title)
        if title in workbook.sheetnames and not workbook[title].protection.sheet:
            workbook[title].protection.sheet = True
            save_atomically(workbook, path)
