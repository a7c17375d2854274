"""The test-control API under /_emulator/: reset, faults, revoked shares, quota, inspection."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from .errors import invalid, not_found
from .faults import FaultRule
from .resources import spreadsheet_resource
from .snapshot import displayed, dump
from .state import EmulatorState


def control_blueprint(state: EmulatorState) -> Blueprint:
    control = Blueprint("emulator_control", __name__, url_prefix="/_emulator")

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True, force=True)
        if not isinstance(data, dict):
            raise invalid("expected a JSON object")
        return data

    @control.post("/reset")
    def reset() -> Response:
        state.reset()
        return jsonify({})

    @control.get("/faults")
    def list_faults() -> Response:
        return jsonify({"faults": [rule.to_json() for rule in state.faults.active()]})

    @control.post("/faults")
    def add_fault() -> Response:
        try:
            rule = FaultRule.from_json(body())
        except (KeyError, TypeError, ValueError) as error:
            raise invalid(f"bad fault rule: {error}") from None
        state.faults.add(rule)
        return jsonify(rule.to_json())

    @control.delete("/faults")
    def clear_faults() -> Response:
        state.faults.clear()
        return jsonify({})

    @control.get("/spreadsheets")
    def list_spreadsheets() -> Response:
        with state.lock:
            books = [
                {"spreadsheetId": b.spreadsheet_id, "title": b.title}
                for b in state.spreadsheets.values()
            ]
        return jsonify({"spreadsheets": books})

    @control.post("/spreadsheets")
    def create_spreadsheet() -> Response:
        data = body()
        titles = data.get("sheets")
        sheets = [{"title": t} for t in titles] if titles else None
        with state.lock:
            book = state.create_spreadsheet(str(data.get("title", "Untitled spreadsheet")), sheets)
            return jsonify(spreadsheet_resource(book))

    @control.get("/spreadsheets/<spreadsheet_id>")
    def show_spreadsheet(spreadsheet_id: str) -> Response:
        with state.lock:
            book = state.spreadsheets.get(spreadsheet_id)
            if book is None:
                raise not_found()
            return jsonify(dump(book))

    @control.get("/spreadsheets/<spreadsheet_id>/values")
    def show_values(spreadsheet_id: str) -> Response:
        """?sheet=TITLE: only its displayed values, far cheaper than the whole dump to poll."""
        title = request.args.get("sheet", "")
        with state.lock:
            book = state.spreadsheets.get(spreadsheet_id)
            sheet = book.sheet_by_title(title) if book is not None else None
            if sheet is None:
                raise not_found()
            return jsonify({"values": displayed(sheet)})

    @control.post("/spreadsheets/<spreadsheet_id>/permission")
    def set_permission(spreadsheet_id: str) -> Response:
        allowed = body().get("allowed")
        if not isinstance(allowed, bool):
            raise invalid("'allowed' must be true or false")
        with state.lock:
            book = state.spreadsheets.get(spreadsheet_id)
            if book is None:
                raise not_found()
            book.allowed = allowed
        return jsonify({"spreadsheetId": spreadsheet_id, "allowed": allowed})

    @control.get("/requests")
    def list_requests() -> Response:
        return jsonify({"requests": [r._asdict() for r in state.requests()]})

    @control.delete("/requests")
    def clear_requests() -> Response:
        state.clear_requests()
        return jsonify({})

    @control.get("/stats")
    def stats() -> Response:
        return jsonify(state.stats())

    @control.post("/quota")
    def set_quota() -> Response:
        limit = body().get("writeRequestsPerMinute")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise invalid("'writeRequestsPerMinute' must be a non-negative integer or null")
        state.quota.set_limit(limit)
        return jsonify({"writeRequestsPerMinute": limit})

    return control
