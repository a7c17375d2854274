"""COMPARISON POINT, NOT PRODUCT: the floor of a durable commit on SQLite, for bench/compare.py.

A minimal Flask endpoint that parses the JSON and commits one row, with the service's
durability: WAL and `synchronous=FULL` (the commit is on disk before the answer). One
connection per thread; the file is FLOOR_SQLITE_PATH. Served by gunicorn like the service.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

PATH = os.environ["FLOOR_SQLITE_PATH"]
SCHEMA = "CREATE TABLE IF NOT EXISTS registration (email TEXT NOT NULL, data TEXT NOT NULL)"

app = Flask(__name__)
local = threading.local()


def connection() -> sqlite3.Connection:
    """This thread's connection, opened on first use."""
    if not hasattr(local, "db"):
        local.db = sqlite3.connect(PATH, timeout=30, isolation_level=None)
        local.db.execute("PRAGMA journal_mode=WAL")
        local.db.execute("PRAGMA synchronous=FULL")
        local.db.execute(SCHEMA)
    db: sqlite3.Connection = local.db
    return db


@app.post("/register")
def register() -> ResponseReturnValue:
    data = request.get_json()
    db = connection()
    with db:  # BEGIN … COMMIT
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO registration (email, data) VALUES (?, ?)",
            (str(data["email"]), json.dumps(data)),
        )
    return jsonify({"status": "ok"}), 201
