"""Fixtures: app, client, runner, a settable clock, the store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from config.settings import DEFAULT_EVENTS_DIR, Settings
from registrations.models import Base
from store import Store

PROJECT = Path(__file__).parents[1]
# The sheet checks of the earlier issues expect a decision carried out by the next round: the
# grace time is 0 for every test (and the processes they start) unless a test sets it
# (`decision_grace_minutes=…`, as tests/test_decision_grace.py does).
os.environ["DECISION_GRACE_MINUTES"] = "0"
KLASTER = "klaster-2018"
OPEN = "otwarte"  # a test event that is open whenever the tests run, with 3 seats
# The server's database the tests connect through; each run works in a database of its own,
# created beside it and dropped at the end, so two runs on one host never meet.
ADMIN_POSTGRES_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RUN_ID = f"r{os.getpid()}x{secrets.token_hex(4)}"
_RUN_DATABASE = f"{make_url(ADMIN_POSTGRES_URL).database}_{RUN_ID}"
POSTGRES_URL = (
    make_url(ADMIN_POSTGRES_URL).set(database=_RUN_DATABASE).render_as_string(hide_password=False)
)
# Keys of this run in a shared Redis (the rate limiter's RATELIMIT_KEY_PREFIX).
REDIS_KEY_PREFIX = f"owes-test-{RUN_ID}"


class FakeClock:
    """The app's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso).astimezone(UTC)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def valid_payload(**overrides: Any) -> dict[str, Any]:
    """A registration every rule accepts for the seed event."""
    payload: dict[str, Any] = {
        "first_name": "Anna",
        "last_name": "Nowak",
        "enterprise_name": "Spółdzielnia Socjalna Nasze Zaodrze",
        "powiat": "zielonogórski",
        "role": "prezeska",
        "email": "anna.nowak@example.pl",
        "phone": "533 316 283",
        "pesel": "02270803624",
        "accommodation": True,
        "diet": "vegetarian",
        "special_needs": "",
        "consent_personal_data": True,
        "consent_image": False,
    }
    payload.update(overrides)
    return payload


def shown(response: Any) -> str:
    """A page's HTML as a reader meets its words: the non-breaking space the pages put after
    each one-letter word (`w\u00a0Lubniewicach`) read as a space."""
    return str(response.get_data(as_text=True)).replace("\u00a0", " ")


def write_event(folder: Path, slug: str, **changes: Any) -> Path:
    """A copy of the seed event under another slug, with some keys changed (TOML literals)."""
    source = (DEFAULT_EVENTS_DIR / f"{KLASTER}.toml").read_text(encoding="utf-8")
    for key, literal in changes.items():
        # A value on its line, or an array over several lines (`meals = [` … `]`).
        pattern = re.compile(rf"^{key} = (?:\[[^\]]*\]|[^\n]*)$", re.MULTILINE)
        line = f"{key} = {literal}"
        source = pattern.sub(line, source) if pattern.search(source) else f"{line}\n{source}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.toml"
    path.write_text(source, encoding="utf-8")
    return path


def write_open_event(folder: Path, slug: str = OPEN, **changes: Any) -> Path:
    """An event open for registration on any day the tests run (real clock or the fake 2018 one).

    Its dates follow today's date, so no test breaks when a fixed deadline passes.
    """
    deadline = date.today() + timedelta(days=60)
    starts = deadline + timedelta(days=7)
    values: dict[str, Any] = {
        "title": '"Wydarzenie testowe otwarte"',
        "short_title": '"Otwarte"',
        "registration_deadline": deadline.isoformat(),
        "starts_on": starts.isoformat(),
        "ends_on": (starts + timedelta(days=1)).isoformat(),
        "capacity": 3,
        "max_per_enterprise": 2,
        "accommodation_label": '"Nocleg z pierwszego na drugi dzień"',
        **changes,
    }
    return write_event(folder, slug, **values)


def flask_process(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`flask --app app ARGS` in its own process, as cron or an operator would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT,
        env={**os.environ, "SECRET_KEY": "t", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 3, log: Path | None = None) -> Iterator[str]:
    """The app under gunicorn (as deployed), ready to answer; yields its base URL.

    gunicorn's own log (stderr) goes to `log`, or to a temporary file; a failed start shows it.
    """
    port = free_port()
    with ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "gunicorn.log"
        stderr = stack.enter_context(log.open("wb"))
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"],
            cwd=PROJECT,
            env={**os.environ, "SECRET_KEY": "t", **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=5).ok:
                        break
                except requests.RequestException:  # not listening yet, or workers still booting
                    pass
                assert process.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(15)


@cache
def postgres_available() -> str | None:
    """None when PostgreSQL answers (this run's database then exists), else the reason to skip."""
    engine = create_engine(ADMIN_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            _drop_databases_of_finished_runs(connection)
            connection.execute(text(f'CREATE DATABASE "{_RUN_DATABASE}"'))
    except OperationalError as exc:
        return f"PostgreSQL not reachable at {ADMIN_POSTGRES_URL}: {exc.orig}"
    finally:
        engine.dispose()
    return None


def _drop_databases_of_finished_runs(connection: Any) -> None:
    """Databases a killed run left behind (its process is gone), bench databases included."""
    base = make_url(ADMIN_POSTGRES_URL).database
    names = connection.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
        {"pattern": f"{base}\\_r%x%"},
    ).scalars()
    for name in names:
        match = re.fullmatch(rf"{re.escape(str(base))}_r(\d+)x[0-9a-f]+(_.*)?", name)
        if match and not _process_alive(int(match.group(1))):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this run's databases (the bench smoke test's too) if the run made them."""
    if postgres_available.cache_info().currsize == 0 or postgres_available() is not None:
        return
    engine = create_engine(ADMIN_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"{_RUN_DATABASE}%"},
            ).scalars()
            for name in list(names):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def reset_postgres() -> None:
    """An empty test database: the models' tables, the migrations' version table and the
    triggers' functions dropped."""
    engine = create_engine(POSTGRES_URL)
    try:
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            for function in (
                "registrations_seat_counts_inserted",
                "registrations_seat_counts_changed",
            ):
                connection.execute(text(f"DROP FUNCTION IF EXISTS {function}() CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """Two days before the seed event's deadline, Polish afternoon."""
    return FakeClock(datetime(2018, 8, 20, 12, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store on SQLite (a file, WAL) and on the PostgreSQL server of the machine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    reset_postgres()
    yield POSTGRES_URL
    reset_postgres()


def own_events(folder: Path) -> Path:
    """The tests' own event files: the seed event as shipped, and an event that is open."""
    write_event(folder, KLASTER)
    write_open_event(folder)
    return folder


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    return own_events(tmp_path / "events")


def settings_on(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    """A module's `settings` on the store `database_url` names (with the `database_url` fixture:
    each test on SQLite and on PostgreSQL), without the background threads."""
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=events_dir,
        database_url=database_url,
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=events_dir,
        secret_key="test-secret",  # type: ignore[arg-type]
        run_worker=False,
        sheets_backoff_max_seconds=0.01,
    )


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(settings, clock=clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["owes"].store.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def store(app: Flask) -> Store:
    found: Store = app.extensions["owes"].store
    return found


@dataclass
class LiveServer:
    url: str
    server: BaseWSGIServer


@pytest.fixture
def live_server_port() -> int:
    """The live server's port; 0 lets the system choose. Override it with `free_port()` when
    the app must know its own address before it starts (the `public_base_url` of its links)."""
    return 0


@pytest.fixture
def live_server(app: Flask, live_server_port: int) -> Iterator[LiveServer]:
    """The app over real HTTP on loopback, many requests at once."""
    server = make_server("127.0.0.1", live_server_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", server)
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[Any]:
    from sheets_emulator import EmulatorServer

    with EmulatorServer() as server:
        yield server


@pytest.fixture
def sheets_emulator(_emulator_server: Any) -> Iterator[Any]:
    """The local Sheets API emulator over HTTP, emptied for each test."""
    _emulator_server.reset()
    yield _emulator_server
    _emulator_server.reset()


@dataclass
class Mailbox:
    """Messages a real SMTP server on loopback received."""

    host: str
    port: int
    messages: list[Any]


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """aiosmtpd on 127.0.0.1, keeping every message it is sent."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.original_content, policy=policy.default))
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Mailbox("127.0.0.1", controller.port, received)
    controller.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium (own profile, no cookies) with a phone-sized viewport."""
    from tests.browser_support import chromium

    with chromium() as driver:
        yield driver


@pytest.fixture
def browser_without_js() -> Iterator[Any]:
    """The same, with JavaScript switched off for every site."""
    from tests.browser_support import chromium

    with chromium(javascript=False) as driver:
        yield driver
