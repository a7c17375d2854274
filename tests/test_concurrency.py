"""Seats are never oversold, on SQLite and on PostgreSQL, under many simultaneous submissions."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from config.settings import Settings
from registrations.models import EventState, Registration
from store import Store
from tests.conftest import LiveServer, gunicorn, settings_on, valid_payload, write_event

CAPACITY = 5
SUBMISSIONS = 40


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    """One small event, open at any time the tests run."""
    folder = tmp_path / "events"
    write_event(
        folder,
        "male",
        capacity=CAPACITY,
        starts_on="2099-06-01",
        ends_on="2099-06-02",
        registration_deadline="2099-05-20",
    )
    return folder


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    return settings_on(tmp_path, events_dir, database_url)


def post_all(base_url: str, emails: list[str]) -> list[requests.Response]:
    url = f"{base_url}/api/events/male/registrations"
    with requests.Session() as session, ThreadPoolExecutor(max_workers=16) as pool:
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
        return list(
            pool.map(lambda e: session.post(url, json=valid_payload(email=e), timeout=60), emails)
        )


def count_by_status(database_url: str) -> Counter[str]:
    store = Store(database_url)
    try:
        with store.transaction() as session:
            query = select(Registration.status, func.count()).group_by(Registration.status)
            return Counter({status: n for status, n in session.execute(query)})
    finally:
        store.dispose()


def counted_on_the_state_row(database_url: str) -> tuple[int, int]:
    """The seats taken as the batches read them (kept by the database's triggers)."""
    store = Store(database_url)
    try:
        with store.transaction() as session:
            row = session.execute(
                select(EventState.confirmed_count, EventState.waitlisted_count).where(
                    EventState.slug == "male"
                )
            ).one()
            return row[0], row[1]
    finally:
        store.dispose()


def test_many_threads_at_once_never_oversell(live_server: LiveServer, database_url: str) -> None:
    answers = post_all(live_server.url, [f"p{i}@example.pl" for i in range(SUBMISSIONS)])

    statuses = Counter(a.json()["status"] for a in answers)
    assert [a.status_code for a in answers] == [201] * SUBMISSIONS
    assert statuses == {"confirmed": CAPACITY, "waitlisted": SUBMISSIONS - CAPACITY}
    assert count_by_status(database_url) == statuses
    assert counted_on_the_state_row(database_url) == (CAPACITY, SUBMISSIONS - CAPACITY)


def test_the_same_email_sent_many_times_at_once_is_registered_once(
    live_server: LiveServer, database_url: str
) -> None:
    answers = post_all(live_server.url, ["retry@example.pl"] * 20)

    codes = Counter(a.status_code for a in answers)
    assert codes == {201: 1, 409: 19}
    assert sum(count_by_status(database_url).values()) == 1


@pytest.mark.slow
def test_several_gunicorn_worker_processes_never_oversell(
    tmp_path: Path, events_dir: Path, database_url: str
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EVENTS_DIR": str(events_dir),
        "RUN_WORKER": "false",
    }
    with gunicorn(env) as base:
        answers = post_all(base, [f"g{i}@example.pl" for i in range(SUBMISSIONS)])

    assert [a.status_code for a in answers] == [201] * SUBMISSIONS
    assert count_by_status(database_url) == {
        "confirmed": CAPACITY,
        "waitlisted": SUBMISSIONS - CAPACITY,
    }


def test_cancellations_promotions_and_new_registrations_racing_never_exceed_capacity(
    live_server: LiveServer, database_url: str
) -> None:
    """Seats freed by cancellations go to the waiting list while others register, all at once:
    confirmed never goes above capacity, and every freed seat is taken again."""
    first = post_all(live_server.url, [f"early{i}@example.pl" for i in range(CAPACITY + 10)])
    confirmed_links = [a.json()["manage_url"] for a in first if a.json()["status"] == "confirmed"]
    paths = [link.split("/zgloszenie/")[1] for link in confirmed_links]

    def act(job: tuple[str, str]) -> int:
        kind, value = job
        with requests.Session() as session:
            if kind == "cancel":
                url = f"{live_server.url}/api/registrations/{value}"
                return session.delete(url, timeout=60).status_code
            url = f"{live_server.url}/api/events/male/registrations"
            return session.post(url, json=valid_payload(email=value), timeout=60).status_code

    jobs = [("cancel", token) for token in paths[:3]]
    jobs += [("register", f"late{i}@example.pl") for i in range(20)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(act, jobs))

    assert codes == [200] * 3 + [201] * 20
    assert count_by_status(database_url) == {
        "confirmed": CAPACITY,
        "cancelled": 3,
        "waitlisted": CAPACITY + 10 + 20 - CAPACITY - 3,
    }


def test_sqlite_writers_of_other_processes_queue_on_the_lock_file_while_one_writes(
    tmp_path: Path,
) -> None:
    """Waiting on the file is woken at once; SQLite's own busy wait polls with sleeps."""
    database = tmp_path / "queue.sqlite3"
    store = Store(f"sqlite:///{database}")
    lock_file = tmp_path / "queue.sqlite3.writers"
    try:
        with store.transaction(), store.transaction():  # re-entrant within a thread
            taken_meanwhile = _try_lock_in_another_process(lock_file)
        taken_after = _try_lock_in_another_process(lock_file)
    finally:
        store.dispose()

    assert taken_meanwhile is False
    assert taken_after is True


def _try_lock_in_another_process(path: Path) -> bool:
    code = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
