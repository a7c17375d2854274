"""COMPARISON POINT, NOT PRODUCT: the floor of a durable commit on PostgreSQL, for compare.py.

A minimal Flask endpoint that parses the JSON and commits one INSERT per request (the server's
default `synchronous_commit`, as the service has it). One psycopg connection per thread; the
database is FLOOR_DATABASE_URL (a libpq URL). Served by gunicorn like the service.
"""

from __future__ import annotations

import json
import os
import threading

import psycopg
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

URL = os.environ["FLOOR_DATABASE_URL"]

app = Flask(__name__)
local = threading.local()


def connection() -> psycopg.Connection[tuple[object, ...]]:
    """This thread's connection, opened on first use."""
    if not hasattr(local, "db"):
        local.db = psycopg.connect(URL)
    db: psycopg.Connection[tuple[object, ...]] = local.db
    return db


@app.post("/register")
def register() -> ResponseReturnValue:
    data = request.get_json()
    with connection().transaction():
        connection().execute(
            "INSERT INTO registration (email, data) VALUES (%s, %s)",
            (str(data["email"]), json.dumps(data)),
        )
    return jsonify({"status": "ok"}), 201
