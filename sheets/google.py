"""The Google Sheets sink: gspread over a service account, or over the local emulator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
from sheets.rows import HEADERS
from sheets.sink import SinkError
from sheets.transport import emulator_session

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
RAW: ParamsType = {"valueInputOption": "RAW"}
PROTECTION_DESCRIPTION = "Zapisy zamknięte – zmiany tylko po namyśle"
_TRANSIENT_STATUSES = {HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.REQUEST_TIMEOUT}


def column_letter(index: int) -> str:
    """`0` → `A`, `27` → `AB`."""
    return rowcol_to_a1(1, index + 1)[:-1]


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
    problem = exc.__class__.__name__
    if isinstance(exc, requests.ConnectionError):
        host = urlsplit(getattr(exc.request, "url", "") or "").netloc or "Google Sheets"
        problem = f"cannot reach {host} (check the network, or SHEETS_EMULATOR_HOST)"
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

    def header(self) -> list[str]:
        with self._sink.errors("reading the header row"):
            answer = self._spreadsheet.values_get(self._range("1:1"))
        rows = answer.get("values", [])
        return [str(cell) for cell in rows[0]] if rows else []

    def add_headers(self, names: list[str], at_column: int) -> None:
        with self._sink.errors("adding header cells"):
            worksheet = self._spreadsheet.worksheet(self._title)
            needed = at_column + len(names) - worksheet.col_count
            if needed > 0:
                worksheet.add_cols(needed)
            self._spreadsheet.values_update(
                self._range(f"{column_letter(at_column)}1"), params=RAW, body={"values": [names]}
            )

    def column(self, index: int) -> list[str]:
        letter = column_letter(index)
        with self._sink.errors("reading the ID column"):
            answer = self._spreadsheet.values_get(
                self._range(f"{letter}2:{letter}"), params={"majorDimension": "COLUMNS"}
            )
        columns = answer.get("values", [])
        return [str(cell) for cell in columns[0]] if columns else []

    def append_rows(self, rows: list[list[str]]) -> None:
        # The table range A1 pins Google's table detection to the header's table; INSERT_ROWS
        # never overwrites a cell staff typed below it; RAW keeps every value as typed.
        with self._sink.errors("appending rows", write=True):
            self._spreadsheet.values_append(
                self._range("A1"),
                params={**RAW, "insertDataOption": "INSERT_ROWS"},
                body={"values": rows, "majorDimension": "ROWS"},
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
        key = self.spreadsheet_key(event)
        with self.errors(f"spreadsheet {key}"):
            return self.client().open_by_key(key)

    def find(self, event: Event) -> GoogleSheet | None:
        spreadsheet = self.open_spreadsheet(event)
        title = event.worksheet_title
        with self.errors(f"worksheet {title!r}"):
            try:
                spreadsheet.worksheet(title)
            except gspread.exceptions.WorksheetNotFound:
                return None
        return GoogleSheet(self, spreadsheet, title)

    def create(self, event: Event) -> GoogleSheet:
        spreadsheet = self.open_spreadsheet(event)
        title = event.worksheet_title
        with self.errors(f"creating worksheet {title!r}"):
            self._create_worksheet(spreadsheet, title)
        return GoogleSheet(self, spreadsheet, title)

    def _create_worksheet(self, spreadsheet: gspread.Spreadsheet, title: str) -> None:
        worksheet = spreadsheet.add_worksheet(title, rows=1000, cols=max(26, len(HEADERS)))
        spreadsheet.values_update(
            absolute_range_name(title, "A1"), params=RAW, body={"values": [HEADERS]}
        )
        body: dict[str, Any] = {
            "requests": [
                {
                    "updateSheetProperties": {
                        "properties": {
                            "sheetId": worksheet.id,
                            "gridProperties": {"frozenRowCount": 1},
                        },
                        "fields": "gridProperties.frozenRowCount",
                    }
                },
                {
                    "repeatCell": {
                        "range": {"sheetId": worksheet.id, "startRowIndex": 0, "endRowIndex": 1},
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold",
                    }
                },
            ]
        }
        spreadsheet.batch_update(body)

    def write_summary(self, event: Event, table: list[list[str]]) -> None:
        spreadsheet = self.open_spreadsheet(event)
        title = event.summary_worksheet_title
        width = max((len(row) for row in table), default=1)
        rows = max(len(table), 100)
        with self.errors(f"worksheet {title!r}"):
            try:
                sheet_id = spreadsheet.worksheet(title).id
            except gspread.exceptions.WorksheetNotFound:
                sheet_id = spreadsheet.add_worksheet(title, rows=rows, cols=max(width, 2)).id
            # One call: size the grid, then write every cell of it (cells the rows leave out are
            # cleared, so the previous summary never shows through).
            spreadsheet.batch_update(
                {
                    "requests": [
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
                                "rows": [
                                    {"values": [_text_cell(value) for value in row]}
                                    for row in table
                                ],
                                "fields": "userEnteredValue",
                            }
                        },
                    ]
                }
            )

    def protect(self, event: Event) -> None:
        spreadsheet = self.open_spreadsheet(event)
        title = event.worksheet_title
        with self.errors(f"protecting {title!r}"):
            worksheet = spreadsheet.worksheet(title)
            metadata = spreadsheet.fetch_sheet_metadata()
            for sheet in metadata.get("sheets", []):
                if sheet["properties"]["sheetId"] != worksheet.id:
                    continue
                for protected in sheet.get("protectedRanges", []):
                    if protected.get("description") == PROTECTION_DESCRIPTION:
                        return
            spreadsheet.batch_update(
                {
                    "requests": [
                        {
                            "addProtectedRange": {
                                "protectedRange": {
                                    "range": {"sheetId": worksheet.id},
                                    "description": PROTECTION_DESCRIPTION,
                                    "warningOnly": True,
                                }
                            }
                        }
                    ]
                }
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.http_client.session.close()
            self._client = None


def _text_cell(value: str) -> dict[str, Any]:
    return {"userEnteredValue": {"stringValue": value}} if value else {}


def _service_account_email(path: Path) -> str | None:
    """The address staff must share the spreadsheet with (shown in errors; not a secret)."""
    try:
        email = json.loads(path.read_text(encoding="utf-8")).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) else None
