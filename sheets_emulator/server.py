"""EmulatorServer: the emulator on a real TCP port in a background thread, plus Python controls.

Tests point gspread at `server.host_port` (see `sheets.transport.emulator_session`) and steer
the emulator through the same operations the /_emulator/ HTTP API offers.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .api import create_emulator_app
from .cells import Scalar
from .errors import not_found
from .faults import FaultRule
from .model import Sheet, Spreadsheet
from .snapshot import (
    CellInfo,
    SheetInfo,
    cell_info,
    displayed,
    dump,
    effective,
    formulas,
    sheet_info,
)
from .state import EmulatorState, LoggedRequest


class QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr: test output stays readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class EmulatorServer:
    """A threaded werkzeug server bound on construction; `start()` serves in the background.

    Use as a context manager (`with EmulatorServer() as server:`) or call `start()`/`stop()`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        write_quota_per_minute: int | None = None,
        quiet: bool = True,
    ) -> None:
        self.state = EmulatorState(write_quota_per_minute)
        self.app = create_emulator_app(self.state)
        handler = QuietRequestHandler if quiet else WSGIRequestHandler
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=handler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def host_port(self) -> str:
        return f"{self._server.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="sheets-emulator", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the standalone CLI)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- controls, mirroring /_emulator/ --------------------------------------------------

    def reset(self) -> None:
        """Forget spreadsheets, faults, the request log and quota use."""
        self.state.reset()

    def inject(
        self,
        action: str,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        body_contains: str | None = None,
        status: int = 500,
        message: str | None = None,
        seconds: float = 0.0,
        times: int | None = 1,
    ) -> FaultRule:
        """Add a fault rule; see `faults.FaultRule` (times=None: every matching request)."""
        rule = FaultRule(
            action=action,
            method=method,
            path_contains=path_contains,
            body_contains=body_contains,
            status=status,
            message=message,
            seconds=seconds,
            times=times,
        )
        self.state.faults.add(rule)
        return rule

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def set_permission(self, spreadsheet_id: str, allowed: bool) -> None:
        """allowed=False: every request on the spreadsheet answers 403 (a revoked share)."""
        with self.state.lock:
            self._book(spreadsheet_id).allowed = allowed

    def set_write_quota(self, per_minute: int | None) -> None:
        """Writes beyond `per_minute` in a rolling minute answer 429; None lifts the limit."""
        self.state.quota.set_limit(per_minute)

    def create_spreadsheet(
        self, title: str = "Untitled spreadsheet", sheets: list[str] | None = None
    ) -> str:
        """Create a spreadsheet (default: one "Sheet1") and return its ID."""
        properties = [{"title": t} for t in sheets] if sheets else None
        return self.state.create_spreadsheet(title, properties).spreadsheet_id

    def values(self, spreadsheet_id: str, sheet_title: str) -> list[list[str]]:
        """Displayed values over the used area, padded to a rectangle."""
        with self.state.lock:
            return displayed(self._sheet(spreadsheet_id, sheet_title))

    def formulas(self, spreadsheet_id: str, sheet_title: str) -> list[list[str]]:
        """Same shape as `values`: formula text where a cell holds a formula, else ""."""
        with self.state.lock:
            return formulas(self._sheet(spreadsheet_id, sheet_title))

    def effective_values(self, spreadsheet_id: str, sheet_title: str) -> list[list[Scalar | None]]:
        """Same shape as `values`: stored values with their types (123 vs "0123")."""
        with self.state.lock:
            return effective(self._sheet(spreadsheet_id, sheet_title))

    def cell(self, spreadsheet_id: str, sheet_title: str, a1: str) -> CellInfo:
        """One cell ("B2"): value, formula, format, note and data validation."""
        with self.state.lock:
            return cell_info(self._sheet(spreadsheet_id, sheet_title), a1)

    def sheet_info(self, spreadsheet_id: str, sheet_title: str) -> SheetInfo:
        """Frozen rows, column widths, protections, conditional formats, basic filter, merges."""
        with self.state.lock:
            return sheet_info(self._sheet(spreadsheet_id, sheet_title))

    def dump(self, spreadsheet_id: str) -> dict[str, Any]:
        with self.state.lock:
            return dump(self._book(spreadsheet_id))

    @property
    def requests_log(self) -> list[LoggedRequest]:
        """(method, path, query) of every API request seen, oldest first."""
        return self.state.requests()

    def clear_requests_log(self) -> None:
        self.state.clear_requests()

    def stats(self) -> dict[str, int]:
        """Counts of API calls since the log was cleared: requests, reads, writes, and writes
        refused by the quota (also at GET /_emulator/stats)."""
        return self.state.stats()

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        book = self.state.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise not_found()
        return book

    def _sheet(self, spreadsheet_id: str, sheet_title: str) -> Sheet:
        sheet = self._book(spreadsheet_id).sheet_by_title(sheet_title)
        if sheet is None:
            raise KeyError(f"no sheet titled {sheet_title!r} in {spreadsheet_id}")
        return sheet
