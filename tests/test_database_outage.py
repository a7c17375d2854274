"""A database that is down or hung: the service answers 503 within DATABASE_TIMEOUT_SECONDS,
starts anyway, logs one line per attempt and per kind of failure, and works once it is back.

PostgreSQL is reached through a loopback proxy the test controls (`tests/tcp_proxy.py`): the
machine's server is shared with other runs and is never stopped. SQLite is "hung" while another
connection holds its write lock, and "down" while its file is a folder.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config.services import Services
from config.settings import Settings
from forms.messages import STORE_UNAVAILABLE, STORE_UNREADABLE
from store import schema
from tests.conftest import (
    OPEN,
    POSTGRES_URL,
    PROJECT,
    FakeClock,
    free_port,
    postgres_available,
    reset_postgres,
    shown,
    valid_payload,
)
from tests.tcp_proxy import TcpProxy, proxy_to

API = f"/api/events/{OPEN}/registrations"
TIMEOUT = 1.0  # DATABASE_TIMEOUT_SECONDS in these tests (a new connection waits 2 s at least)


@pytest.fixture
def postgres() -> Iterator[str]:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    reset_postgres()
    yield POSTGRES_URL
    reset_postgres()


@pytest.fixture
def proxy(postgres: str) -> Iterator[TcpProxy]:
    with proxy_to(postgres) as made:
        yield made


def _settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"database_timeout_seconds": TIMEOUT, **changes})


def _svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def _register(client: FlaskClient, email: str = "anna.nowak@example.pl") -> str:
    response = client.post(API, json=valid_payload(email=email))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["manage_url"].rsplit("/", 1)[1])


def _assert_every_answer_is_the_503(client: FlaskClient, token: str) -> None:
    for path in ("/", f"/wydarzenia/{OPEN}/", f"/wydarzenia/{OPEN}/zgloszenie/{token}"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert STORE_UNREADABLE in shown(page), path
    for answer, message in (
        (client.get("/api/events"), STORE_UNREADABLE),
        (client.get(f"/api/registrations/{token}"), STORE_UNREADABLE),
        (client.post(API, json=valid_payload(email="inna@example.pl")), STORE_UNAVAILABLE),
    ):
        assert answer.status_code == 503
        assert answer.get_json() == {"error": "unavailable", "message": message}
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "down"


# -- hung ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outage", ["hang", "down"])
def test_a_hung_postgresql_gets_the_503_of_a_database_that_is_down(
    outage: str, proxy: TcpProxy, settings: Settings, clock: FakeClock
) -> None:
    app = create_app(_settings(settings, database_url=proxy.url_for(POSTGRES_URL)), clock=clock)
    try:
        client = app.test_client()
        token = _register(client)
        # hang: every pooled connection and every new one, no answer, nothing closed;
        # down: connections refused, the open ones dropped.
        getattr(proxy, outage)()

        _assert_every_answer_is_the_503(client, token)

        proxy.forward()
        assert client.get("/").status_code == 200
        assert client.get(f"/wydarzenia/{OPEN}/zgloszenie/{token}").status_code == 200
    finally:
        proxy.forward()
        _svc(app).store.dispose()


def test_the_workers_rounds_on_a_hung_postgresql_fail_log_once_and_retry(
    proxy: TcpProxy, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_settings(settings, database_url=proxy.url_for(POSTGRES_URL)), clock=clock)
    svc = _svc(app)
    try:
        _register(app.test_client())
        proxy.hang()
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                svc.worker.round_with_backoff()
                svc.mail_worker.round_with_backoff()
            longer = svc.worker.pause()
            proxy.forward()
            svc.worker.round_with_backoff()
    finally:
        proxy.forward()
        svc.store.dispose()

    away = [r for r in caplog.records if "the database is not available" in r.getMessage()]
    assert [r.levelno for r in away] == [logging.WARNING, logging.WARNING]  # one per worker
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
    assert longer > svc.settings.sync_interval_seconds  # the pause grew
    assert "sheets-worker: the database is available again" in caplog.text
    assert svc.worker.pause() == svc.settings.sync_interval_seconds


def test_a_write_that_waits_for_a_hung_sqlite_lock_gets_the_503(
    settings: Settings, clock: FakeClock
) -> None:
    app = create_app(_settings(settings), clock=clock)
    try:
        client = app.test_client()
        _register(client)
        holder = sqlite3.connect(str(settings.instance_path / "registrations.sqlite3"))  # type: ignore[operator]
        holder.isolation_level = None
        holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock and hangs
        try:
            blocked = client.post(API, json=valid_payload(email="inna@example.pl"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after = client.post(API, json=valid_payload(email="inna@example.pl"))
    finally:
        _svc(app).store.dispose()

    assert blocked.status_code == 503
    assert blocked.get_json() == {"error": "unavailable", "message": STORE_UNAVAILABLE}
    assert after.status_code == 201


def test_a_write_queued_behind_a_hung_transaction_of_the_process_gets_the_503(
    settings: Settings, clock: FakeClock
) -> None:
    app = create_app(_settings(settings), clock=clock)
    svc = _svc(app)
    holding, release = threading.Event(), threading.Event()

    def hang_in_a_transaction() -> None:
        with svc.store.transaction():
            holding.set()
            release.wait(30)

    hung = threading.Thread(target=hang_in_a_transaction)
    hung.start()
    try:
        holding.wait(10)
        blocked = app.test_client().post(API, json=valid_payload())
    finally:
        release.set()
        hung.join(10)
        svc.store.dispose()

    assert blocked.status_code == 503


# -- down at start-up ---------------------------------------------------------------------


def _until(answer: Any, deadline: float = 30.0) -> Any:
    """Ask again until `answer()` is not None (the gate tries again at growing intervals)."""
    end = time.monotonic() + deadline
    while (result := answer()) is None:
        assert time.monotonic() < end, "no answer in time"
        time.sleep(0.1)
    return result


def test_the_service_starts_with_postgresql_down_answers_503_and_works_once_it_is_back(
    proxy: TcpProxy, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.down()
    with caplog.at_level(logging.INFO):
        app = create_app(_settings(settings, database_url=proxy.url_for(POSTGRES_URL)), clock=clock)
    try:
        client = app.test_client()
        _assert_every_answer_is_the_503(client, "x" * 30)
        attempts = [r for r in caplog.records if "(attempt" in r.getMessage()]
        assert attempts and all("not available" in r.getMessage() for r in attempts)
        assert all(len(r.getMessage().splitlines()) == 1 and not r.exc_info for r in attempts)
        assert "Traceback" not in caplog.text

        proxy.forward()
        page = _until(lambda: r if (r := client.get("/")).status_code == 200 else None)
        token = _register(client)
    finally:
        _svc(app).store.dispose()

    assert "Wydarzenie testowe otwarte" in shown(page)
    assert token
    assert "the database is available" in caplog.text
    assert "created the database schema" in caplog.text  # the migrations' state, checked then


def test_the_service_starts_with_sqlite_down_and_checks_the_revision_once_it_is_back(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    database = settings.instance_path / "registrations.sqlite3"  # type: ignore[operator]
    database.mkdir(parents=True)  # not a database file: cannot be opened
    app = create_app(_settings(settings), clock=clock)
    svc = _svc(app)
    try:
        client = app.test_client()
        assert client.get("/").status_code == 503

        database.rmdir()  # back, but at an older revision: the service must not use it
        schema.upgrade(svc.store, [], lambda _: None, target="0002")
        refused = _until(
            lambda: True if "db upgrade" in caplog.text else (client.get("/") and None)
        )
        still = client.get("/")
        schema.upgrade(svc.store, [], lambda _: None)
        working = _until(lambda: r if (r := client.get("/")).status_code == 200 else None)
    finally:
        svc.store.dispose()

    assert refused and still.status_code == 503
    assert working.status_code == 200


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=PROJECT,
            env={**os.environ, "SECRET_KEY": "t", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn", "flask run"])
def test_gunicorn_and_flask_run_start_with_postgresql_down_and_serve_once_it_is_back(
    server: str, proxy: TcpProxy, tmp_path: Path, events_dir: Path
) -> None:
    port = free_port()
    env = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EVENTS_DIR": str(events_dir),
        "DATABASE_URL": proxy.url_for(POSTGRES_URL),
        "DATABASE_TIMEOUT_SECONDS": "1",
    }
    args = (
        ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
        if server == "gunicorn"
        else ["flask", "--app", "app", "run", "--port", str(port)]
    )
    log = tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    proxy.down()
    process = _start(args, env, log)
    try:

        def answer(path: str) -> requests.Response | None:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                return requests.get(f"{base}{path}", timeout=10)
            except requests.ConnectionError:
                return None

        down = _until(lambda: answer("/"))
        api = answer("/api/events")
        proxy.forward()
        up = _until(lambda: r if (r := answer("/")) is not None and r.ok else None)
    finally:
        process.terminate()
        process.wait(15)

    text = log.read_text(errors="replace")
    assert down.status_code == 503 and STORE_UNREADABLE in down.text.replace("\u00a0", " ")
    assert api is not None and api.status_code == 503
    assert api.json()["error"] == "unavailable"
    assert up.status_code == 200
    assert "the database is not available (attempt 1)" in text
    assert "Traceback" not in text


def test_a_command_with_postgresql_down_says_so_in_one_line(
    proxy: TcpProxy, settings: Settings, clock: FakeClock
) -> None:
    app = create_app(_settings(settings, database_url=proxy.url_for(POSTGRES_URL)), clock=clock)
    try:
        proxy.down()
        result = app.test_cli_runner().invoke(args=["close-off"])
    finally:
        proxy.forward()
        _svc(app).store.dispose()

    assert result.exit_code == 1
    assert "the database is not available" in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
