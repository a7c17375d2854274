"""The embedded default sink: one local workbook per event, `instance/<slug>.xlsx` (openpyxl).

Staff may keep working in the file (type decisions, add columns, sort): every change of ours is
made on the workbook as it is on disk and saved atomically. Each save of ours stamps the file
with a generation number, also kept beside it; a file whose stamp is behind was saved over by an
older copy, and the syncer then rewrites the service's columns of every row from the store.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.packaging.custom import IntProperty
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from registrations.decisions import CHOICES
from registrations.event import Event
from registrations.validators import printable
from sheets import layout
from sheets.rows import DECISION_HEADER, HEADERS, STATUS_HEADER, service_columns
from sheets.sink import CellRun, SinkError, SummaryTable, Table, row_spans

_EXCEL_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
GENERATION = "owes-rejestracja-generacja"
LAST_ROW = 1048576  # Excel's last row: rules and drop-downs cover rows appended later too
PIXELS_PER_CHARACTER = 7  # a column's width in Excel is counted in characters of about 7 px


def excel_title(title: str) -> str:
    """A worksheet title Excel accepts: no `[]:*?/\\`, at most 31 characters."""
    return _EXCEL_TITLE_FORBIDDEN.sub("-", title)[:31]


def set_text(cell: Cell, value: str) -> None:
    """Store `value` as a text cell: openpyxl would otherwise make `=…` a formula.

    Characters the form refuses are left out (U+FFFF stored earlier would make XML that no
    reader can open again).
    """
    cell.value = printable(value, "\t\n\r")
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
        with path.open("rb") as file:  # closed even when openpyxl fails half-way
            return load_workbook(file)
    except Exception as exc:  # a zip, XML or openpyxl error: any of them means broken
        raise SinkError(
            f"{path}: cannot open the workbook ({exc.__class__.__name__}); move the broken file "
            "away and the next sync writes a new one from the store",
            permanent=True,
            code="workbook",
        ) from exc


def _text(value: object) -> str:
    """A cell as text, the way staff see it (a date staff typed reads as a date)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


class LocalSheet:
    """A worksheet in a local workbook. Each call loads the file as it is on disk and saves at
    once, so what staff saved a moment ago is never written over with an older copy of ours."""

    def __init__(self, sink: LocalWorkbookSink, title: str, path: Path) -> None:
        self._sink = sink
        self._title = title
        self._path = path
        self._loaded: tuple[tuple[int, int], Workbook] | None = None

    def _load(self) -> tuple[Workbook, Worksheet]:
        # Parsed again only when the file changed on disk since we last loaded or saved it.
        seen = _fingerprint(self._path)
        if self._loaded is not None and self._loaded[0] == seen:
            workbook = self._loaded[1]
        else:
            workbook = load_or_create(self._path)
            self._loaded = (seen, workbook)
        if self._title not in workbook.sheetnames:  # staff removed it since: opened anew
            raise SinkError(f"worksheet {self._title!r} is gone from {self._path}", permanent=False)
        worksheet: Worksheet = workbook[self._title]
        return workbook, worksheet

    @contextmanager
    def _editing(self) -> Iterator[Worksheet]:
        workbook, worksheet = self._load()
        try:
            yield worksheet
            self._sink.save(workbook, self._path)
        except BaseException:
            self._loaded = None  # the copy in memory holds unsaved changes: never reuse it
            raise
        self._loaded = (_fingerprint(self._path), workbook)

    def is_older_copy(self) -> bool:
        """Whether staff saved an older copy over the file since our last save."""
        workbook, _ = self._load()
        return self._sink.generation_of(workbook) < self._sink.last_generation(self._path)

    def read(self) -> Table:
        _, worksheet = self._load()
        rows = [[_text(value) for value in row] for row in worksheet.iter_rows(values_only=True)]
        for row in rows:
            while row and row[-1] == "":
                row.pop()
        while rows and not rows[-1]:
            rows.pop()
        return rows

    def read_columns(self, header: list[str], columns: list[int]) -> Table | None:
        return None  # the workbook is loaded whole whichever cells are wanted

    def add_headers(self, names: list[str], at_column: int) -> list[str]:
        done = [f"header cells {', '.join(names)}"]
        with self._editing() as worksheet:
            for offset, name in enumerate(names):
                cell = worksheet.cell(row=1, column=at_column + offset + 1)
                set_text(cell, name)
                cell.font = Font(bold=True)
                letter = get_column_letter(at_column + offset + 1)
                if letter not in worksheet.column_dimensions:  # a width staff set stays
                    width = layout.column_pixels(name) / PIXELS_PER_CHARACTER
                    worksheet.column_dimensions[letter].width = width
            if _widen_filter(worksheet, at_column, len(names)):
                done.append("the filter over the new columns")
            if DECISION_HEADER in names:
                column = at_column + names.index(DECISION_HEADER)
                add_decision_dropdown(worksheet, column)
                done.append(f"the drop-down of decisions in column {get_column_letter(column + 1)}")
        return done

    def write(self, runs: list[CellRun]) -> None:
        if not runs:
            return
        with self._editing() as worksheet:
            for run in runs:
                for offset, value in enumerate(run.values):
                    cell = worksheet.cell(row=run.row + 1, column=run.column + offset + 1)
                    set_text(cell, value)

    def append_rows(self, rows: Table) -> None:
        with self._editing() as worksheet:
            next_row = _last_table_row(worksheet) + 1
            for offset, row in enumerate(rows):
                for column, value in enumerate(row, start=1):
                    set_text(worksheet.cell(row=next_row + offset, column=column), value)

    def delete_rows(self, rows: list[int]) -> None:
        if not rows:
            return
        with self._editing() as worksheet:
            for start, end in row_spans(rows):
                worksheet.delete_rows(start + 1, end - start)

    def keep_dropdown(self, column: int) -> None:
        """The workbook's drop-down already runs to Excel's last row; one lost is put back."""
        letter = get_column_letter(column + 1)
        _, worksheet = self._load()
        if any(f"{letter}2:" in str(v.sqref) for v in worksheet.data_validations.dataValidation):
            return
        with self._editing() as worksheet:
            add_decision_dropdown(worksheet, column)


def _fingerprint(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _last_table_row(worksheet: Worksheet) -> int:
    """The last row with any value (staff may have sorted or typed rows by hand)."""
    for row in range(worksheet.max_row, 0, -1):
        if any(cell.value not in (None, "") for cell in worksheet[row]):
            return row
    return 0


def add_decision_dropdown(worksheet: Worksheet, column: int) -> None:
    """A drop-down of decisions that warns about other values but lets them through."""
    letter = get_column_letter(column + 1)
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(CHOICES) + '"',
        allow_blank=True,
        errorStyle="warning",
        showErrorMessage=True,
        errorTitle="Nieznana decyzja",
        error="Do wyboru z listy: " + ", ".join(CHOICES) + ".",
        promptTitle=DECISION_HEADER,
        prompt=layout.DECISION_HELP,
        showInputMessage=True,
    )
    validation.add(f"{letter}2:{letter}{LAST_ROW}")
    worksheet.add_data_validation(validation)


def _filter_range(columns: int) -> str:
    """The autofilter over whole columns `A … columns`, header first: every row, later ones too."""
    return f"A1:{get_column_letter(columns)}{LAST_ROW}"


def _widen_filter(worksheet: Worksheet, at_column: int, count: int) -> bool:
    """Stretch the service's autofilter over columns just added after it; staff's own filter
    (another range), or none (removed), is left alone."""
    if at_column == 0 or worksheet.auto_filter.ref != _filter_range(at_column):
        return False
    worksheet.auto_filter.ref = _filter_range(at_column + count)
    return True


def _lay_out(worksheet: Worksheet) -> None:
    """What a new worksheet gets: frozen header, a filter on it, status colours (the header
    cells, their widths and the drop-down come with `add_headers`)."""
    worksheet.freeze_panes = "A2"
    worksheet.auto_filter.ref = _filter_range(len(HEADERS))
    status = HEADERS.index(STATUS_HEADER)
    cells = f"A2:{get_column_letter(max(26, len(HEADERS)))}{LAST_ROW}"
    grey = _hex(layout.GREY_BACKGROUND)
    worksheet.conditional_formatting.add(
        cells,
        FormulaRule(
            formula=[layout.status_formula(status, layout.GREYED_OUT).lstrip("=")],
            fill=PatternFill(start_color=grey, end_color=grey, fill_type="solid"),
            font=Font(color=_hex(layout.GREY_TEXT)),
        ),
    )
    marked = _hex(layout.WAITLIST_BACKGROUND)
    worksheet.conditional_formatting.add(
        cells,
        FormulaRule(
            formula=[layout.status_formula(status, layout.MARKED).lstrip("=")],
            fill=PatternFill(start_color=marked, end_color=marked, fill_type="solid"),
        ),
    )


def _hex(color: dict[str, float]) -> str:
    return "".join(f"{round(color[part] * 255):02X}" for part in ("red", "green", "blue"))


UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
LAST_COLUMN = 16384  # Excel's last column (XFD)


def lock_service_columns(worksheet: Worksheet) -> None:
    """Protect the worksheet so only the service's cells are locked: every column is unlocked
    by default (a new row, a new column), and the cells of the service's columns in the rows
    there are now are locked. Filtering and column widths stay allowed; sorting (which moves
    locked cells) needs the protection off."""
    header = [_text(cell.value) for cell in worksheet[1]]
    locked = set(service_columns(header))
    width = max(worksheet.max_column, len(header))
    for column in range(1, width + 1):
        worksheet.column_dimensions[get_column_letter(column)].protection = UNLOCKED
    beyond = worksheet.column_dimensions[get_column_letter(width + 1)]
    beyond.min, beyond.max = width + 1, LAST_COLUMN  # one <col> for every column after them
    beyond.protection = UNLOCKED
    for row in worksheet.iter_rows(min_row=1, max_row=worksheet.max_row, max_col=width):
        for cell in row:
            cell.protection = LOCKED if cell.column - 1 in locked else UNLOCKED
    protection = worksheet.protection
    protection.sheet = True
    protection.autoFilter = False  # allowed: staff filter as before
    protection.formatColumns = False  # allowed: widths
    protection.selectLockedCells = False
    protection.selectUnlockedCells = False


SUMMARY_TITLE = "Podsumowanie"


class LocalWorkbookSink:
    """Rows for each event go to `<folder>/<slug>.xlsx`, a worksheet named like the Google one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, event: Event) -> Path:
        return self.folder / f"{event.slug}.xlsx"

    def target(self, event: Event) -> str:
        return f"xlsx:{self.path(event)}"

    def describe(self, event: Event) -> str:
        return f"worksheet {excel_title(event.worksheet_title)!r} of {self.path(event)}"

    def spreadsheet_url(self, event: Event) -> str | None:
        return None  # a file on the server: staff reach it through the staff pages

    def find(self, event: Event) -> LocalSheet | None:
        path = self.path(event)
        if not path.exists():
            return None
        workbook = load_or_create(path)
        title = excel_title(event.worksheet_title)
        if title not in workbook.sheetnames:
            return None
        return LocalSheet(self, title, path)

    def create(self, event: Event) -> LocalSheet:
        path = self.path(event)
        workbook = load_or_create(path)
        title = excel_title(event.worksheet_title)
        worksheet = workbook.create_sheet(title, 0)
        _lay_out(worksheet)
        self.save(workbook, path)
        sheet = LocalSheet(self, title, path)
        sheet.add_headers(HEADERS, 0)  # the drop-down too
        return sheet

    def write_summary(self, event: Event, table: SummaryTable) -> None:
        path = self.path(event)
        workbook = load_or_create(path)
        if SUMMARY_TITLE in workbook.sheetnames:
            workbook.remove(workbook[SUMMARY_TITLE])
        worksheet = workbook.create_sheet(SUMMARY_TITLE, 1)
        for r, row in enumerate(table, start=1):
            for c, value in enumerate(row, start=1):
                cell = worksheet.cell(row=r, column=c)
                if isinstance(value, int):
                    cell.value = value  # a number staff can sum
                else:
                    set_text(cell, value)
        worksheet.column_dimensions["A"].width = 45
        worksheet.column_dimensions["B"].width = 60
        self.save(workbook, path)

    def close_off(self, event: Event, table: SummaryTable) -> None:
        self.write_summary(event, table)
        self.protect(event)

    def protect(self, event: Event) -> None:
        # Excel has no warning-only protection: a sheet protected without a password is the
        # nearest thing (Review → Unprotect Sheet, no password asked). As in Google, only the
        # service's columns are locked, in the rows there are: staff's own columns, the
        # decision column and new rows below stay editable, and filtering stays possible.
        path = self.path(event)
        workbook = load_or_create(path)
        title = excel_title(event.worksheet_title)
        if title not in workbook.sheetnames or workbook[title].protection.sheet:
            return
        lock_service_columns(workbook[title])
        self.save(workbook, path)

    def rename(self, event: Event, worksheet_from: str, summary_from: str | None) -> None:
        # The summary worksheet is `Podsumowanie` in every event's own workbook: never renamed.
        path = self.path(event)
        if not path.exists():
            return
        workbook = load_or_create(path)
        old, new = excel_title(worksheet_from), excel_title(event.worksheet_title)
        if old == new or old not in workbook.sheetnames or new in workbook.sheetnames:
            return
        workbook[old].title = new
        self.save(workbook, path)

    def unprotect(self, event: Event) -> None:
        path = self.path(event)
        if not path.exists():
            return
        workbook = load_or_create(path)
        title = excel_title(event.worksheet_title)
        if title not in workbook.sheetnames or not workbook[title].protection.sheet:
            return
        workbook[title].protection.sheet = False
        self.save(workbook, path)

    # -- older copies ------------------------------------------------------------------

    def save(self, workbook: Workbook, path: Path) -> None:
        """Save with the next generation stamped in the file and noted beside it."""
        generation = max(self.generation_of(workbook), self.last_generation(path)) + 1
        properties = workbook.custom_doc_props
        for prop in list(properties.props):
            if prop.name == GENERATION:
                properties.props.remove(prop)
        properties.append(IntProperty(name=GENERATION, value=generation))
        save_atomically(workbook, path)
        note = _generation_note(path)
        note.write_text(str(generation), encoding="utf-8")

    @staticmethod
    def generation_of(workbook: Workbook) -> int:
        for prop in workbook.custom_doc_props.props:
            if prop.name == GENERATION and isinstance(prop.value, int):
                return prop.value
        return 0

    @staticmethod
    def last_generation(path: Path) -> int:
        try:
            return int(_generation_note(path).read_text(encoding="utf-8").strip() or 0)
        except (OSError, ValueError):
            return 0


def _generation_note(path: Path) -> Path:
    return path.with_name(f".{path.name}.generacja")
