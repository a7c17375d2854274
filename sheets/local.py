"""The embedded default sink: one local workbook per event, `instance/<slug>.xlsx` (openpyxl).

Staff may keep working in the file (type decisions, add columns, sort) and save it whenever
they like, from a copy opened a minute ago too. So every change of ours is made on the workbook
as it is on disk, and the file is replaced only if it is still the one that change was made on:
when staff saved meanwhile, the change is made again on their copy (`sheets.workbook_file`).
Each save of ours stamps the file with a generation number, also kept beside it. A copy staff
saved from an older generation lacks what the service wrote since: the syncer then has every
row written again from the store before the copy counts as current (`claim_older_copy`); until
then no save of ours stamps it current. A file that cannot be read is read again while it
changes (staff are half-way through saving it) and called broken only when the same bytes fail
in two rounds.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

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
from sheets import layout, workbook_file
from sheets.rows import (
    DECISION_HEADER,
    HEADERS,
    ID_HEADER,
    STATUS_HEADER,
    header_index,
    service_columns,
)
from sheets.sink import CellRun, SinkError, SummaryTable, Table, row_spans
from sheets.workbook_file import Contents, Note

T = TypeVar("T")
_EXCEL_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
GENERATION = "owes-rejestracja-generacja"
LAST_ROW = 1048576  # Excel's last row: rules and drop-downs cover rows appended later too
PIXELS_PER_CHARACTER = 7  # a column's width in Excel is counted in characters of about 7 px
SETTLE_SECONDS = 0.2  # an unreadable file that changes within this is being saved
SETTLE_PATIENCE_SECONDS = 5.0  # … one still changing after this is read at the next attempt
EDIT_ATTEMPTS = 5  # staff saving again and again while the service writes: the round retries
SUMMARY_TITLE = "Podsumowanie"


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
    """Write the whole workbook and rename it over `path`: never half a file (staff tools in the
    tests save this way, as Excel does)."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    current = workbook_file.read(path)
    if not workbook_file.replace_if_unchanged(path, buffer.getvalue(), current.digest):
        raise SinkError(f"{path} changed while being saved", permanent=False, code="workbook")


def _new_workbook() -> Workbook:
    workbook = Workbook()
    if workbook.active is not None:
        workbook.remove(workbook.active)
    return workbook


def _text(value: object) -> str:
    """A cell as text, the way staff see it (a date staff typed reads as a date)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


@dataclass
class _Loaded:
    """A workbook parsed from the file as it was (`digest`; None: there was no file)."""

    workbook: Workbook
    digest: str | None


class LocalSheet:
    """A worksheet in a local workbook. Each call works on the file as it is on disk."""

    def __init__(self, sink: LocalWorkbookSink, title: str, path: Path) -> None:
        self._sink = sink
        self._title = title
        self._path = path

    def _worksheet(self, workbook: Workbook) -> Worksheet:
        if self._title not in workbook.sheetnames:  # staff removed it since: opened anew
            raise SinkError(f"worksheet {self._title!r} is gone from {self._path}", permanent=False)
        worksheet: Worksheet = workbook[self._title]
        return worksheet

    def _edit(self, change: Callable[[Worksheet], T]) -> T:
        return self._sink.edit(self._path, lambda workbook: change(self._worksheet(workbook)))

    def claim_older_copy(self, requeue: Callable[[], object]) -> bool:
        """An older copy staff saved over the file (its generation is behind the note): every
        row is queued again by `requeue`, and only then is the copy stamped current."""
        return self._sink.claim_older_copy(self._path, requeue)

    def read(self) -> Table:
        worksheet = self._worksheet(self._sink.load(self._path).workbook)
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
        return self._edit(lambda worksheet: _add_headers(worksheet, names, at_column))

    def write(self, runs: list[CellRun]) -> None:
        if not runs:
            return

        def write(worksheet: Worksheet) -> None:
            for run in runs:
                for offset, value in enumerate(run.values):
                    cell = worksheet.cell(row=run.row + 1, column=run.column + offset + 1)
                    set_text(cell, value)

        self._edit(write)

    def append_rows(self, rows: Table) -> None:
        def append(worksheet: Worksheet) -> None:
            next_row = _last_table_row(worksheet) + 1
            for offset, row in enumerate(rows):
                for column, value in enumerate(row, start=1):
                    set_text(worksheet.cell(row=next_row + offset, column=column), value)

        self._edit(append)

    def delete_rows(self, rows: list[int]) -> None:
        if not rows:
            return

        def delete(worksheet: Worksheet) -> None:
            for start, end in row_spans(rows):
                worksheet.delete_rows(start + 1, end - start)

        self._edit(delete)

    def keep_dropdown(self, column: int) -> None:
        """The workbook's drop-down already runs to Excel's last row; one lost is put back."""
        letter = get_column_letter(column + 1)

        def has_dropdown(worksheet: Worksheet) -> bool:
            validations = worksheet.data_validations.dataValidation
            return any(f"{letter}2:" in str(v.sqref) for v in validations)

        if has_dropdown(self._worksheet(self._sink.load(self._path).workbook)):
            return
        self._edit(
            lambda worksheet: (
                None if has_dropdown(worksheet) else add_decision_dropdown(worksheet, column)
            )
        )


def _add_headers(worksheet: Worksheet, names: list[str], at_column: int) -> list[str]:
    done = [f"header cells {', '.join(names)}"]
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
    cells, their widths and the drop-down come with `_add_headers`)."""
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


class LocalWorkbookSink:
    """Rows for each event go to `<folder>/<slug>.xlsx`, a worksheet named like the Google one.

    One instance serves the worker and the requests of a process (`rows_missing` for /healthz):
    its parsed workbooks and edits are guarded by one lock.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.RLock()
        self._parsed: dict[Path, tuple[str, Workbook]] = {}  # kept for one round
        self._ids: dict[Path, tuple[str, frozenset[str]]] = {}  # the IDs /healthz last counted
        self._rounds: dict[Path, int] = {}
        self._unreadable: dict[Path, tuple[str | None, int]] = {}  # bytes → round first failed

    def path(self, event: Event) -> Path:
        return self.folder / f"{event.slug}.xlsx"

    def target(self, event: Event) -> str:
        return f"xlsx:{self.path(event)}"

    def describe(self, event: Event) -> str:
        return f"worksheet {excel_title(event.worksheet_title)!r} of {self.path(event)}"

    def spreadsheet_url(self, event: Event) -> str | None:
        return None  # a file on the server: staff reach it through the staff pages

    def begin_round(self, event: Event) -> bool:
        """A round begins; True when staff saved the file since the service last saw it whole
        (or deleted it), so the round looks at it even with nothing to write."""
        path = self.path(event)
        with self._lock:
            self._rounds[path] = self._rounds.get(path, 0) + 1
            self._parsed.pop(path, None)  # a parsed workbook is not kept in memory between rounds
        try:
            now = workbook_file.read(path).digest
        except OSError:
            return True  # the round's read says what is wrong
        return now != workbook_file.read_note(path).seen

    def find(self, event: Event) -> LocalSheet | None:
        path = self.path(event)
        loaded = self.load(path)
        title = excel_title(event.worksheet_title)
        if loaded.digest is None or title not in loaded.workbook.sheetnames:
            return None
        return LocalSheet(self, title, path)

    def create(self, event: Event) -> LocalSheet:
        path = self.path(event)
        title = excel_title(event.worksheet_title)

        def lay_out(workbook: Workbook) -> None:
            if title in workbook.sheetnames:
                return
            worksheet = workbook.create_sheet(title, 0)
            _lay_out(worksheet)
            _add_headers(worksheet, HEADERS, 0)  # the drop-down too

        self.edit(path, lay_out)
        return LocalSheet(self, title, path)

    def write_summary(self, event: Event, table: SummaryTable) -> None:
        self.edit(self.path(event), lambda workbook: _write_summary(workbook, table))

    def close_off(self, event: Event, table: SummaryTable) -> None:
        title = excel_title(event.worksheet_title)

        def close(workbook: Workbook) -> None:
            _write_summary(workbook, table)
            _protect(workbook, title)

        self.edit(self.path(event), close)

    def protect(self, event: Event) -> None:
        title = excel_title(event.worksheet_title)
        path = self.path(event)
        workbook = self.load(path).workbook
        if title not in workbook.sheetnames or workbook[title].protection.sheet:
            return
        self.edit(path, lambda workbook: _protect(workbook, title))

    def rename(self, event: Event, worksheet_from: str, summary_from: str | None) -> None:
        # The summary worksheet is `Podsumowanie` in every event's own workbook: never renamed.
        path = self.path(event)
        if not path.exists():
            return
        old, new = excel_title(worksheet_from), excel_title(event.worksheet_title)

        def rename(workbook: Workbook) -> None:
            if old != new and old in workbook.sheetnames and new not in workbook.sheetnames:
                workbook[old].title = new

        self.edit(path, rename)

    def unprotect(self, event: Event) -> None:
        path = self.path(event)
        if not path.exists():
            return
        title = excel_title(event.worksheet_title)

        def unprotect(workbook: Workbook) -> None:
            if title in workbook.sheetnames:
                workbook[title].protection.sheet = False

        self.edit(path, unprotect)

    def rows_missing(self, event: Event, expected: Collection[str]) -> int | None:
        """How many of `expected` (registrations whose rows the store says are in the sheet)
        the workbook lacks now, read as it is on disk; all of them when it cannot be read."""
        if not expected:
            return 0
        path = self.path(event)
        title = excel_title(event.worksheet_title)
        try:
            contents = workbook_file.read(path)
            with self._lock:
                known = self._ids.get(path)
            if contents.digest is None:
                return len(expected)
            if known is None or known[0] != contents.digest:
                contents, ids = self._read_ids(path, contents, title)
                if contents.digest is None:
                    return len(expected)
                with self._lock:
                    self._ids[path] = (contents.digest, ids)
                known = (contents.digest, ids)
        except (OSError, SinkError):
            return len(expected)
        return len(set(expected) - known[1])

    # -- reading and replacing the file -----------------------------------------------------

    def load(self, path: Path) -> _Loaded:
        """The workbook as it is on disk (a new, empty one when there is no file)."""
        with self._lock:
            try:
                contents = workbook_file.read(path)
            except OSError as exc:
                raise _cannot(path, "read", exc) from exc
            if contents.digest is None:
                return _Loaded(_new_workbook(), None)
            parsed = self._parsed.get(path)
            if parsed is not None and parsed[0] == contents.digest:
                return _Loaded(parsed[1], contents.digest)
            workbook, contents = self._parse(path, contents, load_workbook)
            if workbook is None or contents.digest is None:
                return _Loaded(_new_workbook(), None)
            self._parsed[path] = (contents.digest, workbook)
            return _Loaded(workbook, contents.digest)

    def _read_ids(
        self, path: Path, contents: Contents, title: str
    ) -> tuple[Contents, frozenset[str]]:
        def ids(data: io.BytesIO) -> frozenset[str]:
            workbook = load_workbook(data, read_only=True)
            try:
                if title not in workbook.sheetnames:
                    return frozenset()
                rows = workbook[title].iter_rows(values_only=True)
                header = [_text(value) for value in next(rows, ())]
                column = header_index(header, ID_HEADER)
                if column is None:
                    return frozenset()
                return frozenset(
                    _text(row[column]).strip() for row in rows if column < len(row) and row[column]
                )
            finally:
                workbook.close()

        found, contents = self._parse(path, contents, ids, judge=False)
        return contents, found or frozenset()

    def _parse(
        self,
        path: Path,
        contents: Contents,
        parse: Callable[[io.BytesIO], T],
        *,
        judge: bool = True,
    ) -> tuple[T | None, Contents]:
        """`parse` of the file; read again while it fails and the file keeps changing (staff are
        half-way through saving it); None when it was deleted meanwhile. `judge`: a failure is
        reported as `_unreadable_error` says, else as a file that cannot be read now."""
        deadline = time.monotonic() + SETTLE_PATIENCE_SECONDS
        while True:
            assert contents.data is not None
            try:
                parsed = parse(io.BytesIO(contents.data))
            except Exception as exc:  # a zip, XML or openpyxl error: half a file, or a broken one
                failure = exc
            else:
                if judge:
                    self._unreadable.pop(path, None)
                return parsed, contents
            newer = workbook_file.changed_since(path, contents.digest, SETTLE_SECONDS)
            if newer is None or time.monotonic() > deadline:  # still being saved: next attempt
                if judge:
                    raise self._unreadable_error(path, contents.digest, failure)
                raise _cannot(path, "read", failure)
            if newer.data is None:  # deleted meanwhile
                return None, newer
            contents = newer

    def edit(self, path: Path, change: Callable[[Workbook], T]) -> T:
        """`change` made on the workbook as it is on disk, and saved over it unless staff saved
        meanwhile: then made again on their copy. The save is stamped with the next generation,
        unless the workbook is an older copy nobody claimed (`claim_older_copy`)."""
        with self._lock:
            for _ in range(EDIT_ATTEMPTS):
                loaded = self.load(path)
                note = workbook_file.read_note(path)
                stamped = generation_of(loaded.workbook)
                current = loaded.digest is None or stamped >= note.generation
                try:
                    result = change(loaded.workbook)
                    data = _serialise(
                        loaded.workbook, max(stamped, note.generation) + 1 if current else stamped
                    )
                except BaseException:
                    self._parsed.pop(path, None)  # it holds a change that was not saved
                    raise
                if self._replace(path, data, loaded, note if current else None):
                    return result
            raise SinkError(
                f"{path}: saved again and again by someone else while the service wrote it; "
                "trying again",
                permanent=False,
                code="workbook",
            )

    def claim_older_copy(self, path: Path, requeue: Callable[[], object]) -> bool:
        """Whether the file is an older copy (stamped behind the note); if so, `requeue` every
        row, and then stamp that copy current (unless staff saved yet another one meanwhile)."""
        with self._lock:
            loaded = self.load(path)
            note = workbook_file.read_note(path)
            if generation_of(loaded.workbook) >= note.generation:
                if loaded.digest != note.seen and loaded.digest is not None:
                    workbook_file.write_note(path, Note(note.generation, loaded.digest))
                return False
        requeue()
        with self._lock:
            again = self.load(path)
            if again.digest == loaded.digest:
                data = _serialise(again.workbook, note.generation + 1)
                self._replace(path, data, again, note)
        return True

    def _replace(self, path: Path, data: bytes, loaded: _Loaded, note: Note | None) -> bool:
        """`data` over the file `loaded` was read from; `note` (the save is current): the note
        gets the next generation. False when staff saved meanwhile (nothing written)."""
        try:
            replaced = workbook_file.replace_if_unchanged(path, data, loaded.digest)
        except OSError as exc:
            self._parsed.pop(path, None)
            raise _cannot(path, "save", exc) from exc
        if not replaced:
            self._parsed.pop(path, None)
            return False
        saved = workbook_file.digest(data)
        self._parsed[path] = (saved, loaded.workbook)
        if note is not None:
            try:
                workbook_file.write_note(path, Note(note.generation + 1, saved))
            except OSError as exc:
                raise _cannot(path, "save the note beside", exc) from exc
        return True

    def _unreadable_error(self, path: Path, digest: str | None, exc: Exception) -> SinkError:
        """Unreadable bytes are broken when the same bytes were unreadable in an earlier round;
        before that the file may be in the middle of a save: tried again."""
        this_round = self._rounds.get(path, 0)
        seen = self._unreadable.get(path)
        if seen is not None and seen[0] == digest and seen[1] < this_round:
            return SinkError(
                f"{path}: cannot open the workbook ({exc.__class__.__name__}); move the broken "
                "file away and the next sync writes a new one from the store",
                permanent=True,
                code="workbook",
            )
        if seen is None or seen[0] != digest:
            self._unreadable[path] = (digest, this_round)
        return SinkError(
            f"{path}: cannot read the workbook now ({exc.__class__.__name__}); it may be being "
            "saved: reading it again",
            permanent=False,
            code="workbook",
        )


def generation_of(workbook: Workbook) -> int:
    for prop in workbook.custom_doc_props.props:
        if prop.name == GENERATION and isinstance(prop.value, int):
            return prop.value
    return 0


def _serialise(workbook: Workbook, generation: int) -> bytes:
    """The workbook as the bytes of an .xlsx file, stamped with `generation`."""
    properties = workbook.custom_doc_props
    for prop in list(properties.props):
        if prop.name == GENERATION:
            properties.props.remove(prop)
    properties.append(IntProperty(name=GENERATION, value=generation))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cannot(path: Path, what: str, exc: BaseException) -> SinkError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
    return SinkError(
        f"{path}: cannot {what} the workbook ({reason})", permanent=False, code="workbook"
    )


def _write_summary(workbook: Workbook, table: SummaryTable) -> None:
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


def _protect(workbook: Workbook, title: str) -> None:
    # Excel has no warning-only protection: a sheet protected without a password is the
    # nearest thing (Review → Unprotect Sheet, no password asked). As in Google, only the
    # service's columns are locked, in the rows there are: staff's own columns, the decision
    # column and new rows below stay editable, and filtering stays possible.
    if title not in workbook.sheetnames or workbook[title].protection.sheet:
        return
    lock_service_columns(workbook[title])
