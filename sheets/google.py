"""The Google Sheets sink: gspread over a service account, or over the local emulator."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gspread
import requests
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.oauth2.service_account import Credentials
from gspread.http_client import ParamsType
from gspread.utils import absolute_range_name, rowcol_to_a1
from urllib3.exceptions import NewConnectionError

from config.settings import Settings
from registrations.event import Event
from registrations.validators import printable
from sheets import layout
from sheets.rows import DECISION_HEADER, service_columns
from sheets.sink import CellRun, SinkError, SummaryTable, Table, key_fingerprint, row_spans
from sheets.transport import emulator_session

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
RAW: ParamsType = {"valueInputOption": "RAW"}
PROTECTION_DESCRIPTION = "Zapisy zamknięte – zmiany tylko po namyśle"
_TRANSIENT_STATUSES = {HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.REQUEST_TIMEOUT}
TOKEN_HOST = "oauth2.googleapis.com"
SHEETS_HOST = "sheets.googleapis.com"


def load_credentials(path: Path) -> Credentials:
    """The service account key named by GOOGLE_APPLICATION_CREDENTIALS; never echoes its content."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return Credentials.from_service_account_info(info, scopes=SCOPES)  # type: ignore[no-untyped-call,no-any-return]
    except FileNotFoundError:
        problem = "does not exist"
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot be read ({exc.__class__.__name__})"
    except (ValueError, KeyError, TypeError):
        problem = "is not a Google service-account key (JSON with client_email and private_key)"
    raise SinkError(
        f"GOOGLE_APPLICATION_CREDENTIALS={path} {problem}: download a key for the service "
        "account from Google Cloud console and point the variable at it",
        permanent=True,
        code="credentials",
    )


def _no_access(what: str, account: str | None) -> SinkError:
    who = f" ({account})" if account else ""
    return SinkError(
        f"no access to {what}: share the spreadsheet with the service account{who} as Editor",
        permanent=True,
        code="no_access",
    )


def _never_sent(exc: Exception) -> bool:
    """A failure before the request left: Google cannot have applied it."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)


def _translate(exc: Exception, what: str, account: str | None, *, write: bool) -> SinkError:
    """Library failures become SinkError, with what to fix for the permanent ones.

    A failed write is `in_flight` unless Google's answer says it was not applied (429) or it
    never left this machine: a 5xx, a timeout or a dropped connection may hide an applied write.
    """
    if isinstance(exc, gspread.exceptions.APIError):
        code = exc.response.status_code
        if code in _TRANSIENT_STATUSES or code >= 500:
            in_flight = write and code != HTTPStatus.TOO_MANY_REQUESTS
            return SinkError(
                f"Google answered {code} to {what}", permanent=False, in_flight=in_flight
            )
        if code == HTTPStatus.FORBIDDEN:
            return _no_access(what, account)
        if code == HTTPStatus.NOT_FOUND:
            return _not_found(what)
        if code == HTTPStatus.BAD_REQUEST and "Unable to parse range" in str(exc):
            # The worksheet vanished between two calls: opening it again recreates it.
            return SinkError(f"worksheet gone during {what}", permanent=False)
        return SinkError(f"Google refused {what} ({code})", permanent=True, code="refused")
    if isinstance(exc, PermissionError):  # gspread's answer to a 403 on open_by_key
        return _no_access(what, account)
    if isinstance(exc, gspread.exceptions.SpreadsheetNotFound):
        return _not_found(what)
    if isinstance(exc, RefreshError):
        return SinkError(
            "Google refused the service-account credentials: create a new key",
            permanent=True,
            code="credentials",
        )
    in_flight = write and not _never_sent(exc)
    if isinstance(exc, TransportError):  # raised while fetching an access token
        return SinkError(
            f"{what} failed: cannot reach Google's token endpoint ({TOKEN_HOST}) to sign in "
            f"with the service account; the server needs outbound HTTPS (port 443) to "
            f"{TOKEN_HOST} and {SHEETS_HOST}",
            permanent=False,
            code="unreachable",
        )
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        host = urlsplit(getattr(exc.request, "url", "") or "").netloc or SHEETS_HOST
        return SinkError(
            f"{what} failed: cannot reach the Google Sheets API ({host}); the server needs "
            f"outbound HTTPS (port 443) to {SHEETS_HOST} and {TOKEN_HOST} (or check "
            "SHEETS_EMULATOR_HOST)",
            permanent=False,
            in_flight=in_flight,
            code="unreachable",
        )
    problem = exc.__class__.__name__
    return SinkError(f"{what} failed: {problem}", permanent=False, in_flight=in_flight)


def _not_found(what: str) -> SinkError:
    return SinkError(
        f"{what} does not exist: check SHEETS_SPREADSHEET_ID (or sheets.spreadsheet_id in the "
        "event file)",
        permanent=True,
        code="not_found",
    )


_LIBRARY_ERRORS = (
    gspread.exceptions.GSpreadException,
    requests.RequestException,
    GoogleAuthError,
    TransportError,
    PermissionError,
)


class GoogleSheet:
    """One worksheet, addressed by title in every call (staff may move it around)."""

    def __init__(
        self, sink: GoogleSheetsSink, spreadsheet: gspread.Spreadsheet, title: str
    ) -> None:
        self._sink = sink
        self._spreadsheet = spreadsheet
        self._title = title

    def _range(self, a1: str) -> str:
        return absolute_range_name(self._title, a1)

    def claim_older_copy(self, requeue: Callable[[], object]) -> bool:
        """Google keeps one live sheet: no older copy can be saved over it."""
        return False

    def read(self) -> Table:
        with self._sink.errors(f"reading worksheet {self._title!r}"):
            answer = self._spreadsheet.values_get(absolute_range_name(self._title))
        # Made text in place: a copy of 10 000 rows would be some 5 MiB more at the peak.
        rows: Table = answer.get("values", [])
        for row in rows:
            for index, value in enumerate(row):
                if not isinstance(value, str):
                    row[index] = str(value)
        return rows

    def read_columns(self, header: list[str], columns: list[int]) -> Table | None:
        # One batchGet: the header row and each column from row 2, column by column (a
        # column's values are one JSON array, with no empty cells after its last value).
        ranges = [self._range("1:1")]
        for column in columns:
            letter = layout.column_letter(column)
            ranges.append(self._range(f"{letter}2:{letter}"))
        with self._sink.errors(f"reading worksheet {self._title!r}"):
            answer = self._spreadsheet.values_batch_get(ranges, {"majorDimension": "COLUMNS"})
        first, *rest = answer.get("valueRanges", [])
        now = [str(cells[0]) if cells else "" for cells in first.get("values", [])]
        if now != header:
            return None
        cells_of = [(c, (r.get("values") or [[]])[0]) for c, r in zip(columns, rest, strict=True)]
        width = max(columns, default=-1) + 1
        rows: Table = [[""] * width for _ in range(max((len(v) for _, v in cells_of), default=0))]
        for column, values in cells_of:
            for row, value in zip(rows, values, strict=False):
                row[column] = str(value)
        return [now, *rows]

    def add_headers(self, names: list[str], at_column: int) -> list[str]:
        with self._sink.errors("adding header cells", write=True):
            # The metadata, not gspread's `worksheet()`: the same one call, with the filter.
            found = _worksheet(dict(self._spreadsheet.fetch_sheet_metadata()), self._title)
            if found is None:
                raise SinkError(f"worksheet {self._title!r} is gone", permanent=False)
            sheet_id = found["properties"]["sheetId"]
            columns = found["properties"].get("gridProperties", {}).get("columnCount", 26)
            requests_: list[dict[str, Any]] = []
            needed = at_column + len(names) - columns
            if needed > 0:
                requests_.append(
                    {
                        "appendDimension": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "length": needed,
                        }
                    }
                )
            requests_.append(layout.header_cells(sheet_id, names, at_column))
            requests_ += layout.width_requests(sheet_id, names, at_column)
            done = [f"header cells {', '.join(names)}"]
            existing = found.get("basicFilter")
            if widened := layout.widened_filter(sheet_id, existing, at_column, len(names)):
                requests_.append(widened)
                done.append("the filter over the new columns")
            if DECISION_HEADER in names:
                column = at_column + names.index(DECISION_HEADER)
                requests_.append(layout.decision_validation(sheet_id, column))
                done.append(f"the drop-down of decisions in column {layout.column_letter(column)}")
            self._spreadsheet.batch_update({"requests": requests_})
        return done

    def write(self, runs: list[CellRun]) -> None:
        if not runs:
            return
        data = [
            {
                "range": self._range(
                    f"{rowcol_to_a1(run.row + 1, run.column + 1)}:"
                    f"{rowcol_to_a1(run.row + 1, run.column + len(run.values))}"
                ),
                "values": [[printable(value) for value in run.values]],
            }
            for run in runs
        ]
        with self._sink.errors("updating rows", write=True):
            self._spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": data})

    def keep_dropdown(self, column: int) -> None:
        # Rows inserted by an append need not inherit the drop-down: set it on the whole
        # column again (idempotent).
        with self._sink.errors("setting the drop-down of decisions", write=True):
            sheet_id = self._spreadsheet.worksheet(self._title).id
            self._spreadsheet.batch_update(
                {"requests": [layout.decision_validation(sheet_id, column)]}
            )

    def delete_rows(self, rows: list[int]) -> None:
        if not rows:
            return
        with self._sink.errors("deleting rows", write=True):
            sheet_id = self._spreadsheet.worksheet(self._title).id
            requests_ = [
                {
                    "deleteDimension": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "ROWS",
                            "startIndex": start,
                            "endIndex": end,
                        }
                    }
                }
                for start, end in row_spans(rows)
            ]
            self._spreadsheet.batch_update({"requests": requests_})

    def append_rows(self, rows: Table) -> None:
        # The table range A1 pins Google's table detection to the header's table; INSERT_ROWS
        # never overwrites a cell staff typed below it; RAW keeps every value as typed.
        with self._sink.errors("appending rows", write=True):
            self._spreadsheet.values_append(
                self._range("A1"),
                params={**RAW, "insertDataOption": "INSERT_ROWS"},
                body={"values": _printable(rows), "majorDimension": "ROWS"},
            )


class GoogleSheetsSink:
    """Each event's rows go to a worksheet of the staff's spreadsheet."""

    def __init__(
        self,
        make_client: Callable[[], gspread.Client],
        spreadsheet_id: str | None,
        *,
        account: str | None = None,
    ) -> None:
        self._make_client = make_client
        self._client: gspread.Client | None = None
        self.spreadsheet_id = spreadsheet_id
        self.account = account

    @classmethod
    def from_settings(cls, settings: Settings) -> GoogleSheetsSink:
        timeout = (5.0, settings.sheets_timeout_seconds)
        emulator = settings.sheets_emulator_host
        credentials_path = settings.google_application_credentials

        def make_client() -> gspread.Client:
            if emulator:
                client = gspread.Client(auth=None, session=emulator_session(emulator))  # type: ignore[arg-type]
            elif credentials_path is None:
                raise SinkError(
                    "GOOGLE_APPLICATION_CREDENTIALS is not set: point it at the service "
                    "account's JSON key (or set SHEETS_EMULATOR_HOST for the local emulator)",
                    permanent=True,
                    code="credentials",
                )
            else:
                client = gspread.Client(auth=load_credentials(credentials_path))
            client.set_timeout(timeout)
            return client

        account = None
        if credentials_path is not None and not emulator:
            account = _service_account_email(credentials_path)
        return cls(make_client, settings.sheets_spreadsheet_id, account=account)

    def spreadsheet_key(self, event: Event) -> str:
        key = event.sheets.spreadsheet_id or self.spreadsheet_id
        if not key:
            raise SinkError(
                f"no spreadsheet for {event.slug}: set SHEETS_SPREADSHEET_ID "
                "(or sheets.spreadsheet_id in the event file)",
                permanent=True,
                code="not_found",
            )
        return key

    def target(self, event: Event) -> str:
        key = event.sheets.spreadsheet_id or self.spreadsheet_id or "?"
        return f"gsheets:{key}:{event.worksheet_title}"

    def describe(self, event: Event) -> str:
        key = event.sheets.spreadsheet_id or self.spreadsheet_id or "?"
        return f"worksheet {event.worksheet_title!r} of spreadsheet {key_fingerprint(key)}"

    def spreadsheet_url(self, event: Event) -> str | None:
        key = event.sheets.spreadsheet_id or self.spreadsheet_id
        return f"https://docs.google.com/spreadsheets/d/{key}/edit" if key else None

    def begin_round(self, event: Event) -> bool:
        """Staff's changes in Google are seen by the reads a round makes when due."""
        return False

    def rows_missing(self, event: Event, expected: Collection[str]) -> int | None:
        """Not told: it would cost a read of the sheet (/healthz calls no Google API)."""
        return None

    @contextmanager
    def errors(self, what: str, *, write: bool = False) -> Iterator[None]:
        """Turn gspread, requests and google-auth failures into SinkError."""
        try:
            yield
        except SinkError:
            raise
        except _LIBRARY_ERRORS as exc:
            if isinstance(exc, RefreshError):
                self._client = None
            raise _translate(exc, what, self.account, write=write) from exc

    def client(self) -> gspread.Client:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def open_spreadsheet(self, event: Event) -> gspread.Spreadsheet:
        return self._open(event)[0]

    def _open(self, event: Event) -> tuple[gspread.Spreadsheet, dict[str, Any]]:
        """The spreadsheet and its metadata (worksheets, protected ranges) in one call.

        gspread's `open_by_key` fetches the same metadata and keeps only the title: looking a
        worksheet up afterwards cost a second call each time.
        """
        key = self.spreadsheet_key(event)
        with self.errors(f"spreadsheet {key_fingerprint(key)}"):
            http_client = self.client().http_client
            metadata = dict(http_client.fetch_sheet_metadata(key))
        return _opened(http_client, key, metadata), metadata

    def find(self, event: Event) -> GoogleSheet | None:
        spreadsheet, metadata = self._open(event)
        title = event.worksheet_title
        if _worksheet(metadata, title) is None:
            return None
        return GoogleSheet(self, spreadsheet, title)

    def create(self, event: Event) -> GoogleSheet:
        """The worksheet with its header and layout, in one `batchUpdate` (all or nothing)."""
        spreadsheet = self.open_spreadsheet(event)
        title = event.worksheet_title
        sheet_id = _new_sheet_id()  # ours to choose, so one call does it all
        with self.errors(f"creating worksheet {title!r}", write=True):
            spreadsheet.batch_update({"requests": layout.new_worksheet_requests(sheet_id, title)})
        return GoogleSheet(self, spreadsheet, title)

    def write_summary(self, event: Event, table: SummaryTable) -> None:
        self._close_off(event, table, protect=False)

    def protect(self, event: Event) -> None:
        self._close_off(event, None, protect=True)

    def close_off(self, event: Event, table: SummaryTable) -> None:
        self._close_off(event, table, protect=True)

    def _close_off(self, event: Event, table: SummaryTable | None, *, protect: bool) -> None:
        """The summary rewritten and/or the worksheet protected: one read of the metadata, the
        header row when a protection is to be added, and one `batchUpdate` for all of it."""
        spreadsheet, metadata = self._open(event)
        requests_: list[dict[str, Any]] = []
        if table is not None:
            summary = event.summary_worksheet_title
            with self.errors(f"worksheet {summary!r}"):
                requests_ += _summary_requests(_worksheet(metadata, summary), summary, table)
        title = event.worksheet_title
        with self.errors(f"protecting {title!r}"):
            sheet = _worksheet(metadata, title) if protect else None
            if sheet is not None and not _protected(sheet):
                header = spreadsheet.values_get(absolute_range_name(title, "1:1"))
                first = header.get("values", [[]])[0] if header.get("values") else []
                sheet_id = sheet["properties"]["sheetId"]
                requests_ += [
                    {"addProtectedRange": {"protectedRange": protection}}
                    for protection in _protections(sheet_id, [str(v) for v in first])
                ]
            if requests_:
                spreadsheet.batch_update({"requests": requests_})

    def rename(self, event: Event, worksheet_from: str, summary_from: str | None) -> None:
        """One `batchUpdate` of `updateSheetProperties` (the title) per worksheet to rename."""
        spreadsheet, metadata = self._open(event)
        requests_: list[dict[str, Any]] = []
        pairs = (
            (worksheet_from, event.worksheet_title),
            (summary_from, event.summary_worksheet_title),
        )
        for old, new in pairs:
            sheet = _worksheet(metadata, old) if old and old != new else None
            if sheet is None or _worksheet(metadata, new) is not None:
                continue
            properties = {"sheetId": sheet["properties"]["sheetId"], "title": new}
            requests_.append(
                {"updateSheetProperties": {"properties": properties, "fields": "title"}}
            )
        if requests_:
            with self.errors(f"renaming worksheet {worksheet_from!r}", write=True):
                spreadsheet.batch_update({"requests": requests_})

    def unprotect(self, event: Event) -> None:
        spreadsheet, metadata = self._open(event)
        sheet = _worksheet(metadata, event.worksheet_title)
        ours = [
            protected["protectedRangeId"]
            for protected in (sheet or {}).get("protectedRanges", [])
            if protected.get("description") == PROTECTION_DESCRIPTION
        ]
        if ours:
            with self.errors(f"unprotecting {event.worksheet_title!r}", write=True):
                spreadsheet.batch_update(
                    {"requests": [{"deleteProtectedRange": {"protectedRangeId": i}} for i in ours]}
                )

    def close(self) -> None:
        if self._client is not None:
            self._client.http_client.session.close()
            self._client = None


def _opened(http_client: Any, key: str, metadata: dict[str, Any]) -> gspread.Spreadsheet:
    """A gspread Spreadsheet over metadata already fetched (its constructor fetches it again)."""
    spreadsheet = gspread.Spreadsheet.__new__(gspread.Spreadsheet)
    spreadsheet.client = http_client
    spreadsheet._properties = {"id": key, **metadata.get("properties", {})}
    return spreadsheet


def _worksheet(metadata: dict[str, Any], title: str) -> dict[str, Any] | None:
    """The worksheet titled `title` in the spreadsheet's metadata."""
    for sheet in metadata.get("sheets", []):
        if sheet.get("properties", {}).get("title") == title:
            found: dict[str, Any] = sheet
            return found
    return None


def _new_sheet_id() -> int:
    return secrets.randbelow(2**31 - 1) + 1


def _summary_requests(
    sheet: dict[str, Any] | None, title: str, table: SummaryTable
) -> list[dict[str, Any]]:
    """Size the summary's grid, then write every cell of it (cells the rows leave out are
    cleared, so the previous summary never shows through); the worksheet added when missing."""
    width = max((len(row) for row in table), default=1)
    rows = max(len(table), 100)
    requests_: list[dict[str, Any]] = []
    if sheet is None:
        sheet_id = _new_sheet_id()
        grid = {"rowCount": rows, "columnCount": max(width, 2)}
        properties = {"sheetId": sheet_id, "title": title, "gridProperties": grid}
        requests_.append({"addSheet": {"properties": properties}})
    else:
        sheet_id = sheet["properties"]["sheetId"]
    return [
        *requests_,
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": sheet_id,
                    "gridProperties": {"rowCount": rows, "columnCount": width},
                },
                "fields": "gridProperties.rowCount,gridProperties.columnCount",
            }
        },
        {
            "updateCells": {
                "range": {"sheetId": sheet_id},
                "rows": [{"values": [_cell(value) for value in row]} for row in table],
                "fields": "userEnteredValue",
            }
        },
    ]


def _protected(sheet: dict[str, Any]) -> bool:
    """Whether the close-off's protection is on the worksheet already."""
    return any(
        protected.get("description") == PROTECTION_DESCRIPTION
        for protected in sheet.get("protectedRanges", [])
    )


def _protections(sheet_id: int, header: list[str]) -> list[dict[str, Any]]:
    """Edits of the service's columns ask staff to confirm: one range per run of adjacent
    service columns, whole columns. Staff's own columns and the decision column are in none,
    so staff keep deciding and working in their columns as before."""
    runs: list[list[int]] = []
    for column in service_columns(header):
        if runs and runs[-1][-1] + 1 == column:
            runs[-1].append(column)
        else:
            runs.append([column])
    return [
        {
            "range": {
                "sheetId": sheet_id,
                "startColumnIndex": run[0],
                "endColumnIndex": run[-1] + 1,
            },
            "description": PROTECTION_DESCRIPTION,
            "warningOnly": True,
        }
        for run in runs
    ]


def _cell(value: str | int) -> dict[str, Any]:
    """A summary cell: numbers as numbers (staff sum them), text as text (never a formula)."""
    if isinstance(value, int):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": printable(value)}} if value else {}


def _printable(rows: Table) -> Table:
    """Cells without the characters the form refuses (values stored before it refused them)."""
    return [[printable(value) for value in row] for row in rows]


def _service_account_email(path: Path) -> str | None:
    """The address staff must share the spreadsheet with (shown in errors; not a secret)."""
    try:
        email = json.loads(path.read_text(encoding="utf-8")).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) else None
