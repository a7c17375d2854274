"""What the syncer needs of a spreadsheet; the local workbook and Google Sheets both provide it."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from registrations.event import Event

Table = list[list[str]]
SummaryTable = list[list[str | int]]  # numbers stay numbers, so staff can sum them


def row_spans(rows: list[int]) -> list[tuple[int, int]]:
    """Rows to delete as half-open spans, last first, so each deletion leaves the next in place."""
    spans: list[tuple[int, int]] = []
    for row in sorted(set(rows), reverse=True):
        if spans and spans[-1][0] == row + 1:
            spans[-1] = (row, spans[-1][1])
        else:
            spans.append((row, row + 1))
    return spans


@dataclass(frozen=True)
class CellRun:
    """Adjacent cells of one row to overwrite: `row` and `column` are 0-based (row 0: header)."""

    row: int
    column: int
    values: list[str]


class RegistrationSheet(Protocol):
    """One event's registrations worksheet: a header row, then one row per registration."""

    def read(self) -> Table:
        """Every row as staff have it now, header first, each cell as text (one read)."""
        ...

    def read_columns(self, header: list[str], columns: list[int]) -> Table | None:
        """The header row and, below it, only the cells of `columns` (0-based, the others
        empty), in one read: some 2 MiB for 10 000 rows where `read` takes 20.

        `header` is the header row as last read; None when it is not the header now (a column
        moved: the whole sheet must be read), or when this sheet has no cheaper way than `read`.
        """
        ...

    def claim_older_copy(self, requeue: Callable[[], object]) -> bool:
        """Whether staff saved an older copy over it (a local workbook; Google keeps one live
        sheet). If so, `requeue` is called first (every row is then written again from the
        store), and only then does the copy count as current."""
        ...

    def add_headers(self, names: list[str], at_column: int) -> list[str]:
        """Write `names` into the header row from column `at_column` (0-based) on.

        The decision column gets its drop-down. Returns what was done, in words, for operators.
        """
        ...

    def write(self, runs: list[CellRun]) -> None:
        """Overwrite the given cells as plain text, all in one call."""
        ...

    def append_rows(self, rows: Table) -> None:
        """Insert `rows` after the table that starts at A1, as plain text."""
        ...

    def keep_dropdown(self, column: int) -> None:
        """The decision drop-down covers column `column` on every row, appended ones too."""
        ...

    def delete_rows(self, rows: list[int]) -> None:
        """Delete whole rows (0-based, row 0 is the header), all in one call; the rows below
        move up, staff's columns with them."""
        ...


class Sink(Protocol):
    """Where rows go."""

    def target(self, event: Event) -> str:
        """Names the destination; registrations synced elsewhere are pending for a new one."""
        ...

    def describe(self, event: Event) -> str:
        """Where the event's rows go, as the log names it: never a spreadsheet key."""
        ...

    def spreadsheet_url(self, event: Event) -> str | None:
        """Where staff open the event's spreadsheet in a browser (staff e-mails link to it);
        None when it is no web page (the local workbook)."""
        ...

    def begin_round(self, event: Event) -> bool:
        """A sync round for the event begins; True when the sheet changed in a way only a look
        at it tells (staff saved the local workbook since the service last saw it), so the
        round looks even with nothing to write. Never raises."""
        ...

    def rows_missing(self, event: Event, expected: Collection[str]) -> int | None:
        """How many of `expected` (IDs the store has written to the sheet) are not in it now;
        None when telling would cost a call to Google (/healthz makes none)."""
        ...

    def find(self, event: Event) -> RegistrationSheet | None:
        """The event's worksheet, or None when there is none (never creates anything)."""
        ...

    def create(self, event: Event) -> RegistrationSheet:
        """A new worksheet laid out for work: header, frozen and bold; formats; the drop-down."""
        ...

    def write_summary(self, event: Event, table: SummaryTable) -> None:
        """Replace the event's summary worksheet with `table` (text and numbers)."""
        ...

    def protect(self, event: Event) -> None:
        """Make later edits of the registrations worksheet ask staff to confirm (idempotent).

        The decision column stays free: staff keep deciding after the close-off.
        """
        ...

    def close_off(self, event: Event, table: SummaryTable) -> None:
        """`write_summary` and `protect` together, in as few calls to the sheet as it allows."""
        ...

    def rename(self, event: Event, worksheet_from: str, summary_from: str | None) -> None:
        """Give the event's worksheets (registrations, summary) their titles now, in place, from
        the titles they had; one already renamed, or missing, is left as it is (idempotent)."""
        ...

    def unprotect(self, event: Event) -> None:
        """Remove the close-off's protection (registration reopened); idempotent."""
        ...


class SinkError(Exception):
    """The spreadsheet cannot take rows now.

    `permanent` problems need a person (not shared, wrong ID, bad credentials); the message says
    what to fix and contains no secrets. Others are worth retrying; `in_flight` ones (a write
    whose answer was lost) may still be applied by Google after the client gave up. `code`
    names the kind of problem for /healthz, which shows no spreadsheet keys or paths.
    """

    def __init__(
        self, message: str, *, permanent: bool, code: str = "unavailable", in_flight: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.in_flight = in_flight  # the request may still be applied: let it land first


# What /healthz says for each `SinkError.code`: the kind of problem, never its particulars.
ERROR_HINTS = {
    "credentials": "Google credentials missing or invalid (see `flask sheets check`).",
    "no_access": "The spreadsheet is not shared with the service account.",
    "not_found": "The spreadsheet does not exist (check SHEETS_SPREADSHEET_ID).",
    "header": "The worksheet's header row needs attention (see the log).",
    "workbook": "The local workbook cannot be read or written (see the log).",
    "unavailable": "Google Sheets did not answer; retrying.",
    "unreachable": "Google cannot be reached: the server needs outbound HTTPS (see the log).",
    "refused": "Google refused a request (see the log).",
    "unexpected": "The spreadsheet sync failed unexpectedly (see the log).",
}


def key_fingerprint(key: str) -> str:
    """A spreadsheet key as the log names it: anyone with a link-shared sheet's key can open it,
    so only the first 8 hex digits of its SHA-256 are written, enough to tell two apart."""
    return "#" + hashlib.sha256(key.encode()).hexdigest()[:8]


def unexpected(exc: BaseException) -> SinkError:
    """A failure no sink foresaw, as a SinkError: its type and where it was raised, never its
    message (which may quote a cell, and so a participant's data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return SinkError(
        f"unexpected {exc.__class__.__name__}{where}",
        permanent=True,
        code="unexpected",
    )
