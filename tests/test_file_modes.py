"""What the service keeps in the instance folder is readable by its owner alone."""

from __future__ import annotations

import stat
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config.settings import Settings
from tests.conftest import OPEN, FakeClock, valid_payload


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_and_its_wal_and_shared_memory_files_are_0600(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post(f"/api/events/{OPEN}/registrations", json=valid_payload())
    assert response.status_code == 201
    instance = Path(app.instance_path)

    files = sorted(instance.glob("registrations.sqlite3*"))

    names = {path.name for path in files}
    assert {"registrations.sqlite3", "registrations.sqlite3-wal"} <= names
    assert {path.name: _mode(path) for path in files} == {name: 0o600 for name in names}


def test_a_database_an_earlier_release_left_readable_by_all_is_made_0600(
    app: Flask, settings: Settings, clock: FakeClock
) -> None:
    instance = Path(app.instance_path)
    app.extensions["owes"].store.dispose()
    for path in instance.glob("registrations.sqlite3*"):
        path.chmod(0o644)

    again = create_app(settings, clock=clock)
    again.extensions["owes"].store.dispose()

    assert {_mode(path) for path in instance.glob("registrations.sqlite3*")} == {0o600}
