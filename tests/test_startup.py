"""Start-up as deployed: gunicorn workers and other processes starting together on a new
database, and every kind of process refusing a database that `flask --app app db upgrade` must
bring up to date, with one line and no traceback."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from config.settings import DEFAULT_EVENTS_DIR
from store import schema
from tests.conftest import PROJECT, flask_process, free_port, gunicorn
from tests.test_migrations import build_first_release_database

WORKERS = 4
EVENTS = sorted(path.stem for path in DEFAULT_EVENTS_DIR.glob("*.toml"))
REFUSAL = (
    "the database has the tables of the release before migrations and no revision; "
    "run `flask --app app db upgrade` (it keeps every row)"
)


def logged_pids(log: Path, what: str = r"Booting worker with pid: (\d+)") -> list[int]:
    found = log.read_text(errors="replace") if log.exists() else ""
    return [int(pid) for pid in re.findall(what, found)]


def running(pid: int) -> bool:
    """Whether the process runs (an exited child that nobody reaped yet does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has the file open (it connected to the database)."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # it exited meanwhile
        return False


class WriteLockHeld(threading.Thread):
    """Another connection holds the write lock of a new SQLite database (a sqlite3 shell, a
    backup, a process creating tables) until `ready()` says the processes under test have
    opened the file, and a moment more."""

    def __init__(self, database: Path, ready: Callable[[], bool]) -> None:
        super().__init__(daemon=True)
        self.holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self.holder.execute("BEGIN IMMEDIATE")
        self.ready = ready
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline and not self.ready():
                time.sleep(0.05)
            time.sleep(1.0)  # they are at the lock now: let them meet it for a moment
        finally:
            self.holder.execute("COMMIT")
            self.holder.close()


def assert_created_once_at_head(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            versions = list(connection.scalars(text("SELECT version_num FROM alembic_version")))
            states = list(connection.scalars(text("SELECT slug FROM event_state ORDER BY slug")))
    finally:
        engine.dispose()
    assert versions == [ScriptDirectory(str(schema.MIGRATIONS)).get_current_head()]
    assert states == EVENTS


@pytest.mark.slow
def test_gunicorn_workers_boot_on_a_new_sqlite_database_while_another_connection_writes(
    tmp_path: Path,
) -> None:
    # While another connection holds the write lock of a database not yet in WAL mode, SQLite
    # answers a switch to WAL with "database is locked" at once, without waiting for the busy
    # timeout. Before the fix every connection switched, and the worker failed to boot.
    database = tmp_path / "new.sqlite3"
    log = tmp_path / "gunicorn.log"
    holder = WriteLockHeld(
        database, lambda: any(has_open(pid, database) for pid in logged_pids(log, r"\[(\d+)\]"))
    )
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RUN_WORKER": "false",
    }
    try:
        with gunicorn(env, workers=WORKERS, log=log) as base:
            answers = [requests.get(f"{base}/healthz", timeout=10) for _ in range(2 * WORKERS)]
            deadline = time.monotonic() + 60  # one answering worker does not mean all booted
            while len(logged_pids(log)) < WORKERS and time.monotonic() < deadline:
                time.sleep(0.1)
            pids = logged_pids(log)
            assert len(pids) == WORKERS and all(map(running, pids)), log.read_text()
    finally:
        holder.join()

    assert [answer.status_code for answer in answers] == [200] * 2 * WORKERS
    assert "exited with code" not in log.read_text()
    assert_created_once_at_head(f"sqlite:///{database}")


class MigrationLockHeld(threading.Thread):
    """Holds PostgreSQL's migration lock until `processes` other sessions wait for it."""

    def __init__(self, url: str, processes: int) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.connection = self.engine.connect()
        self.connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": schema.LOCK_KEY})
        self.processes = processes
        self.most_waiting = 0
        self.start()

    def run(self) -> None:
        waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        deadline = time.monotonic() + 30
        try:
            with self.engine.connect() as watcher:
                while time.monotonic() < deadline and self.most_waiting < self.processes:
                    self.most_waiting = max(self.most_waiting, watcher.scalar(waiting) or 0)
                    watcher.rollback()
                    time.sleep(0.05)
        finally:
            key = {"key": schema.LOCK_KEY}
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            self.connection.close()
            self.engine.dispose()


@pytest.mark.slow
def test_processes_starting_together_on_a_new_database_take_turns(
    tmp_path: Path, database_url: str
) -> None:
    # What gunicorn workers do when the master did not create the database first (gunicorn
    # without gunicorn.conf.py), and several hosts or cron jobs at once: each builds the app.
    # The lock is held until all of them are at it, so they meet it together.
    env = {
        **os.environ,
        "SECRET_KEY": "t",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RUN_WORKER": "false",
    }
    processes: list[subprocess.Popen[bytes]] = []
    if database_url.startswith("sqlite"):
        database = Path(database_url.removeprefix("sqlite:///"))
        holder: threading.Thread = WriteLockHeld(
            database,
            lambda: len(processes) == WORKERS and all(has_open(p.pid, database) for p in processes),
        )
    else:
        holder = MigrationLockHeld(database_url, WORKERS)
    try:
        for _ in range(WORKERS):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", "from app import create_app; create_app()"],
                    cwd=PROJECT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
        outputs = [p.communicate(timeout=60)[0].decode() for p in processes]
    finally:
        holder.join()

    assert [p.returncode for p in processes] == [0] * WORKERS, outputs
    if isinstance(holder, MigrationLockHeld):
        assert holder.most_waiting == WORKERS  # all of them met the lock
    assert_created_once_at_head(database_url)


@pytest.fixture
def first_release_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a service whose database the release before migrations made."""
    database = tmp_path / "old.sqlite3"
    build_first_release_database(f"sqlite:///{database}")
    return {
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RUN_WORKER": "false",
    }


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--port", "PORT"],
        ["close-off"],
        ["export", "--event", "klaster-2018", "--list", "catering", "--format", "csv"],
        ["sheets", "sync"],
    ],
    ids=lambda command: command[0],
)
def test_processes_refuse_a_database_behind_with_one_line(
    command: list[str], first_release_env: dict[str, str]
) -> None:
    command = [str(free_port()) if arg == "PORT" else arg for arg in command]
    process = flask_process(*command, env=first_release_env)
    output = process.communicate(timeout=60)[0].decode()

    assert process.returncode == 1, output
    assert output.splitlines()[-1] == REFUSAL
    assert "Traceback" not in output


@pytest.mark.slow
def test_gunicorn_refuses_a_database_behind_before_it_starts_workers(
    first_release_env: dict[str, str],
) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{free_port()}"],
        cwd=PROJECT,
        env={**os.environ, "SECRET_KEY": "t", **first_release_env},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert process.returncode == 1, process.stderr
    assert process.stderr.splitlines()[-1] == REFUSAL
    assert "Traceback" not in process.stderr and "Booting worker" not in process.stderr


@pytest.mark.slow
def test_a_gunicorn_worker_that_cannot_start_stops_gunicorn_instead_of_restarting(
    tmp_path: Path,
) -> None:
    # The database changes under a running gunicorn (here: to a revision this release lacks,
    # as a newer release's `db upgrade` would leave it), then a worker restarts.
    database = tmp_path / "store.sqlite3"
    log = tmp_path / "gunicorn.log"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RUN_WORKER": "false",
    }
    with gunicorn(env, workers=1, log=log):
        with sqlite3.connect(database) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.close()
        (master,) = logged_pids(log, r"Listening at: \S+ \((\d+)\)")
        os.kill(logged_pids(log)[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while running(master) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(master), log.read_text()

    output = log.read_text()
    assert "revision 9999, which this release does not have" in output
    assert "Reason: App failed to load." in output
    assert "Traceback" not in output
    assert len(logged_pids(log)) == 2, output  # the first worker and one restart, no more
