"""Start-up as deployed: gunicorn workers booting together on a new database."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import gunicorn

WORKERS = 4


def worker_pids(log: Path) -> list[int]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", text)]


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has the file open (it connected to the database)."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # it exited meanwhile
        return False


def hold_write_lock_until_workers_connect(
    database: Path, log: Path, workers: int
) -> threading.Thread:
    """Hold the write lock of a new database until every worker has opened it (or died)."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release() -> None:
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                pids = worker_pids(log)
                if len(pids) >= workers and all(
                    not running(pid) or has_open(pid, database) for pid in pids
                ):
                    break
                time.sleep(0.05)
            time.sleep(1.0)  # they are all at the lock now: let them meet it for a moment
        finally:
            holder.execute("COMMIT")
            holder.close()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_gunicorn_workers_boot_on_a_new_sqlite_database_while_another_connection_writes(
    tmp_path: Path,
) -> None:
    # A new database whose write lock another connection holds while the workers boot (a
    # sqlite3 shell, a backup, the first worker creating tables): SQLite answers a switch to
    # WAL with "database is locked" at once then, without waiting for the busy timeout.
    database = tmp_path / "new.sqlite3"
    log = tmp_path / "gunicorn.log"
    holder = hold_write_lock_until_workers_connect(database, log, WORKERS)
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RUN_WORKER": "false",
    }
    try:
        with gunicorn(env, workers=WORKERS, log=log) as base:
            answers = [requests.get(f"{base}/healthz", timeout=10) for _ in range(2 * WORKERS)]
            pids = worker_pids(log)
            assert len(pids) == WORKERS and all(map(running, pids)), log.read_text()
    finally:
        holder.join()

    assert [answer.status_code for answer in answers] == [200] * 2 * WORKERS
    assert "exited with code" not in log.read_text()
