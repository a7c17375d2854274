"""Everything one emulator instance remembers, behind one lock."""

from __future__ import annotations

import random
import string
import threading
from typing import Any, NamedTuple

from .errors import ApiError, invalid, not_found
from .faults import FaultRules
from .model import DEFAULT_COLUMNS, DEFAULT_ROWS, Sheet, Spreadsheet
from .quota import WriteQuota

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
MAX_ID = 2**31 - 1


class LoggedRequest(NamedTuple):
    method: str
    path: str
    query: str
    body: str = ""  # what the client sent, for tests that look at what was asked


class EmulatorState:
    """Spreadsheets, fault rules, write quota and the request log.

    Handlers hold `lock` for the whole of a request's work, so each API call is atomic.
    """

    def __init__(self, write_quota_per_minute: int | None = None) -> None:
        self.lock = threading.RLock()
        self.default_write_quota = write_quota_per_minute
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.faults = FaultRules()
        self.quota = WriteQuota(write_quota_per_minute)
        self._requests: list[LoggedRequest] = []
        self._random = random.Random()

    def reset(self) -> None:
        """Forget spreadsheets, faults, the request log and quota use."""
        with self.lock:
            self.spreadsheets.clear()
            self._requests.clear()
        self.faults.clear()
        self.quota.reset_refused()
        self.quota.set_limit(self.default_write_quota)

    def log_request(self, method: str, path: str, query: str, body: str = "") -> None:
        with self.lock:
            self._requests.append(LoggedRequest(method, path, query, body))

    def requests(self) -> list[LoggedRequest]:
        with self.lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the request log, and with it the counts `stats` gives."""
        with self.lock:
            self._requests.clear()
        self.quota.reset_refused()

    def stats(self) -> dict[str, int]:
        """API calls since the log was last cleared: what a benchmark counts (writes are all
        but GETs, as Google's quota counts them; refused ones were answered 429)."""
        with self.lock:
            reads = sum(r.method == "GET" for r in self._requests)
            total = len(self._requests)
        return {
            "requests": total,
            "reads": reads,
            "writes": total - reads,
            "writes_refused": self.quota.refused,
        }

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet as its caller may see it: 404 if unknown, 403 if access revoked."""
        book = self.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise not_found()
        if not book.allowed:
            raise ApiError(403)
        return book

    def new_id(self) -> int:
        """A random positive 31-bit ID, like Google's sheet and protected-range IDs."""
        return self._random.randint(1, MAX_ID)

    def new_sheet_id(self, book: Spreadsheet) -> int:
        taken = {s.sheet_id for s in book.sheets}
        while (sheet_id := self.new_id()) in taken:
            pass
        return sheet_id

    def create_spreadsheet(
        self, title: str = "Untitled spreadsheet", sheets: list[dict[str, Any]] | None = None
    ) -> Spreadsheet:
        """spreadsheets.create: one "Sheet1" (sheetId 0) unless `sheets` says otherwise."""
        with self.lock:
            spreadsheet_id = "1" + "".join(self._random.choices(_ID_ALPHABET, k=43))
            book = Spreadsheet(spreadsheet_id, title, [])
            for properties in sheets or [{"sheetId": 0, "title": "Sheet1"}]:
                book.sheets.append(self.sheet_from_properties(book, properties))
            self.spreadsheets[spreadsheet_id] = book
            return book

    def sheet_from_properties(self, book: Spreadsheet, properties: dict[str, Any]) -> Sheet:
        """A new sheet from SheetProperties JSON (addSheet, spreadsheets.create)."""
        sheet_id = properties.get("sheetId")
        if sheet_id is None:
            sheet_id = self.new_sheet_id(book)
        elif book.sheet_by_id(int(sheet_id)) is not None:
            raise invalid(f"A sheet with the id {sheet_id} already exists.")
        title = properties.get("title") or _next_sheet_title(book)
        if book.sheet_by_title(title) is not None:
            raise invalid(
                f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        grid = properties.get("gridProperties") or {}
        sheet = Sheet(
            sheet_id=int(sheet_id),
            title=str(title),
            row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
            column_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
            frozen_row_count=int(grid.get("frozenRowCount", 0)),
            frozen_column_count=int(grid.get("frozenColumnCount", 0)),
            hidden=bool(properties.get("hidden", False)),
        )
        for key in ("tabColor", "tabColorStyle", "rightToLeft"):
            if key in properties:
                sheet.extra_properties[key] = properties[key]
        return sheet


def _next_sheet_title(book: Spreadsheet) -> str:
    number = len(book.sheets) + 1
    while book.sheet_by_title(f"Sheet{number}") is not None:
        number += 1
    return f"Sheet{number}"
