"""COMPARISON POINT, NOT PRODUCT: the usual form-to-sheet tutorial, for bench/compare.py.

A Flask endpoint that calls gspread's `append_row` inside the request, as most tutorials write
it: no store of its own, so whatever Google refuses (quota, timeouts) is lost, and every
participant waits for Google. Pointed at the bundled Sheets emulator by
PEER_SHEETS_EMULATOR_HOST and PEER_SPREADSHEET_ID; served by gunicorn like the service.
"""

from __future__ import annotations

import os

import gspread
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from sheets.transport import emulator_session

COLUMNS = ("first_name", "last_name", "enterprise_name", "powiat", "email", "phone", "diet")

app = Flask(__name__)
session = emulator_session(os.environ["PEER_SHEETS_EMULATOR_HOST"])  # instead of credentials
client = gspread.Client(auth=None, session=session)  # type: ignore[arg-type]
sheet = client.open_by_key(os.environ["PEER_SPREADSHEET_ID"]).sheet1


@app.post("/register")
def register() -> ResponseReturnValue:
    data = request.get_json()
    sheet.append_row([str(data.get(name, "")) for name in COLUMNS])
    return jsonify({"status": "ok"}), 201
