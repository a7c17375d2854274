"""The HTTP face of the emulator: Sheets API v4 routes with Google's JSON shapes.

Routing is done by hand on the path after `/v4/spreadsheets/` because Google's custom-method
syntax (`{range}:append`) puts a verb after a range that itself contains colons.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import fieldmask, values
from .batch import apply_requests
from .control import control_blueprint
from .errors import ApiError, invalid, not_found
from .faults import FaultMiddleware
from .model import Spreadsheet
from .resources import spreadsheet_resource
from .state import EmulatorState
from .tables import Rect
from .values import RenderOptions, locate, read, value_input_option

log = logging.getLogger(__name__)
Handler = Callable[[EmulatorState, Spreadsheet, re.Match[str]], dict[str, Any]]


class _GoogleOrderJSON(DefaultJSONProvider):
    """Keys in the order the handlers build them (Google's order), not sorted."""

    sort_keys = False


def create_emulator_app(state: EmulatorState | None = None) -> Flask:
    """A Flask app serving the Sheets API from `state` (a fresh one by default).

    The app's WSGI callable is wrapped in the fault-injection middleware.
    """
    state = state if state is not None else EmulatorState()
    app = Flask(__name__)
    app.json = _GoogleOrderJSON(app)
    app.extensions["sheets_emulator"] = state
    app.register_blueprint(control_blueprint(state))

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> tuple[Response, int]:
        return jsonify(error.body()), error.code

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        code = error.code or 500
        return jsonify(ApiError(code).body()), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("emulator bug while handling %s %s", request.method, request.path)
        return jsonify(ApiError(500).body()), 500

    @app.before_request
    def charge_write_quota() -> None:
        if request.path.startswith("/v4/") and request.method != "GET":
            if not state.quota.try_acquire():
                raise ApiError(429)

    @app.post("/v4/spreadsheets")
    def create() -> Response:
        body = _json_body()
        properties = body.get("properties") or {}
        sheets = [s.get("properties") or {} for s in body.get("sheets") or []] or None
        with state.lock:
            book = state.create_spreadsheet(
                properties.get("title") or "Untitled spreadsheet", sheets
            )
            for key, attribute in (("locale", "locale"), ("timeZone", "time_zone")):
                if properties.get(key):
                    setattr(book, attribute, properties[key])
            return jsonify(spreadsheet_resource(book))

    @app.route("/v4/spreadsheets/<path:rest>", methods=["GET", "POST", "PUT"])
    def dispatch(rest: str) -> Response:
        for method, pattern, handler in ROUTES:
            match = pattern.fullmatch(rest)
            if match and method == request.method:
                with state.lock:
                    book = state.spreadsheet(match.group("id"))
                    if method == "GET":
                        return jsonify(handler(state, book, match))
                    with _atomic(book):
                        return jsonify(handler(state, book, match))
        raise not_found()

    app.wsgi_app = FaultMiddleware(  # type: ignore[method-assign]  # Flask's middleware idiom
        app.wsgi_app, state.faults, state.log_request
    )
    return app


@contextmanager
def _atomic(book: Spreadsheet) -> Iterator[None]:
    """All of a write request applies, or none of it (as Google's batch semantics)."""
    saved = _backup(book)
    try:
        yield
    except Exception:
        vars(book).update(vars(saved))
        raise


def _backup(book: Spreadsheet) -> Spreadsheet:
    """A copy of the spreadsheet to restore should a write request fail.

    The per-cell layers hold frozen cells, strings, and format and validation dicts that edits
    replace and never change in place: copying those dicts one level deep is a full backup,
    where a deepcopy of a 10 000-row sheet took some 2 s on every write. The rest is deep-copied.
    """
    memo: dict[int, Any] = {}
    for sheet in book.sheets:
        for layer in sheet.cell_layers():
            memo[id(layer)] = dict(layer)
    return copy.deepcopy(book, memo)


def _json_body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received.")
    return body


def _flag(name: str) -> bool:
    return str(request.args.get(name, "")).lower() == "true"


def _params() -> dict[str, str]:
    return {key: request.args[key] for key in request.args}


def get_spreadsheet(state: EmulatorState, book: Spreadsheet, _: re.Match[str]) -> dict[str, Any]:
    """spreadsheets.get with `ranges`, `includeGridData` and `fields`."""
    mask = fieldmask.parse(request.args.get("fields", ""))
    with_grid = _flag("includeGridData") or (
        bool(mask) and fieldmask.mentions(mask, "sheets", "data")
    )
    ranges = request.args.getlist("ranges")
    grid: dict[int, list[Rect]] | None = {} if with_grid else None
    sheet_ids: set[int] | None = None
    if ranges:
        sheet_ids = set()
        for text in ranges:
            target = locate(book, text)
            sheet_ids.add(target.sheet.sheet_id)
            if grid is not None:
                grid.setdefault(target.sheet.sheet_id, []).append(target.rect)
    elif grid is not None:
        for sheet in book.sheets:
            grid[sheet.sheet_id] = [Rect(0, 0, sheet.row_count, sheet.column_count)]
    cell_mask = fieldmask.submask(mask, "sheets", "data", "rowData", "values") if mask else None
    resource = spreadsheet_resource(book, grid=grid, sheet_ids=sheet_ids, cell_mask=cell_mask)
    return fieldmask.apply(resource, mask) if mask else resource


def batch_update(state: EmulatorState, book: Spreadsheet, _: re.Match[str]) -> dict[str, Any]:
    body = _json_body()
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise invalid("Must specify at least one request.")
    replies = apply_requests(state, book, requests)
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        answer["updatedSpreadsheet"] = spreadsheet_resource(book)
    return answer


def values_get(state: EmulatorState, book: Spreadsheet, match: re.Match[str]) -> dict[str, Any]:
    return read(locate(book, match.group("range")), RenderOptions.from_params(_params()))


def values_batch_get(state: EmulatorState, book: Spreadsheet, _: re.Match[str]) -> dict[str, Any]:
    options = RenderOptions.from_params(_params())
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    ranges = request.args.getlist("ranges")
    if ranges:
        answer["valueRanges"] = [read(locate(book, text), options) for text in ranges]
    return answer


def _response_options(params: dict[str, Any]) -> RenderOptions | None:
    """includeValuesInResponse and its render options, from the query or a JSON body (where
    clients such as gspread send `null` for options they leave to the default)."""
    if str(params.get("includeValuesInResponse", "")).lower() != "true":
        return None
    given = {k: str(v) for k, v in params.items() if v is not None}
    return RenderOptions.from_params(given, "response")


def values_update(state: EmulatorState, book: Spreadsheet, match: re.Match[str]) -> dict[str, Any]:
    params = _params()
    option = value_input_option(params)
    return values.update(
        book, match.group("range"), _json_body(), option, _response_options(params)
    )


def values_append(state: EmulatorState, book: Spreadsheet, match: re.Match[str]) -> dict[str, Any]:
    params = _params()
    option = value_input_option(params)
    insert = params.get("insertDataOption") or "OVERWRITE"
    if insert not in ("OVERWRITE", "INSERT_ROWS"):
        raise invalid(f"Invalid value at 'insert_data_option', \"{insert}\"")
    return values.append(
        book,
        match.group("range"),
        _json_body(),
        option,
        insert_rows=insert == "INSERT_ROWS",
        response=_response_options(params),
    )


def values_batch_update(
    state: EmulatorState, book: Spreadsheet, _: re.Match[str]
) -> dict[str, Any]:
    body = _json_body()
    option = value_input_option(body)
    return values.batch_update(book, body.get("data") or [], option, _response_options(body))


def values_clear(state: EmulatorState, book: Spreadsheet, match: re.Match[str]) -> dict[str, Any]:
    cleared = values.clear(book, match.group("range"))
    return {"spreadsheetId": book.spreadsheet_id, "clearedRange": cleared}


def values_batch_clear(state: EmulatorState, book: Spreadsheet, _: re.Match[str]) -> dict[str, Any]:
    ranges = _json_body().get("ranges") or []
    cleared = [values.clear(book, str(text)) for text in ranges]
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if cleared:
        answer["clearedRanges"] = cleared
    return answer


_ID = r"(?P<id>[^/:]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(_ID), get_spreadsheet),
    ("POST", re.compile(_ID + r":batchUpdate"), batch_update),
    ("GET", re.compile(_ID + r"/values:batchGet"), values_batch_get),
    ("POST", re.compile(_ID + r"/values:batchUpdate"), values_batch_update),
    ("POST", re.compile(_ID + r"/values:batchClear"), values_batch_clear),
    ("POST", re.compile(_ID + r"/values/(?P<range>.+):append"), values_append),
    ("POST", re.compile(_ID + r"/values/(?P<range>.+):clear"), values_clear),
    ("GET", re.compile(_ID + r"/values/(?P<range>.+)"), values_get),
    ("PUT", re.compile(_ID + r"/values/(?P<range>.+)"), values_update),
]
