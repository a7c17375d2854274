"""Reminders under gunicorn with 4 workers and the wall clock moved by libfaketime (issue 19):
a reminder whose moment passed while the service was down goes when it starts, once per person
across the workers and a restart; nothing goes after 00:00 of the event's first day; the second
reminder goes at 10:00 local time.

Skipped with the reason when libfaketime is missing (`.ci/run` installs Debian's `faketime`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from app import create_app
from config.settings import Settings
from tests.conftest import PROJECT, FakeClock, gunicorn, valid_payload, write_event

LIBFAKETIME = next(
    (
        path
        for path in (
            Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
            Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
            Path("/usr/lib/faketime/libfaketimeMT.so.1"),
        )
        if path.exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    LIBFAKETIME is None, reason="libfaketime is missing (apt-get install faketime)"
)
REMINDER = "Prośba o potwierdzenie udziału"
SECOND = "Jutro wydarzenie"


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    """`wyjazd` on 27 August 2018 (reminders 24 and 26 August, 10:00 Warsaw) and `wczesny` on
    25 August (its first reminder on 22 August)."""
    folder = tmp_path / "events"
    write_event(folder, "wyjazd", capacity=5, max_per_enterprise=10, short_title='"Wyjazd"')
    write_event(
        folder,
        "wczesny",
        capacity=5,
        max_per_enterprise=10,
        short_title='"Wczesny"',
        starts_on="2018-08-25",
        ends_on="2018-08-25",
        registration_deadline="2018-08-20",
    )
    return folder


def under_faketime(env: dict[str, str], at: str) -> dict[str, str]:
    """The environment of a process whose wall clock starts at `at` (UTC) and runs on."""
    assert LIBFAKETIME is not None
    return {
        **env,
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": f"@{at}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "TZ": "UTC",
        "PYTHONPATH": f"{PROJECT / 'tests' / 'faketime_site'}",
    }


def sent(instance: Path) -> list[tuple[str, str, datetime]]:
    """(To, Subject, Date) of every e-mail written to the mail folder (no SMTP)."""
    found = []
    for path in sorted((instance / "mail").rglob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        date = parsedate_to_datetime(str(message["Date"]))
        found.append((str(message["To"]), str(message["Subject"]), date))
    return found


def reminders(instance: Path, subject: str = REMINDER) -> Counter[str]:
    return Counter(to for to, title, _ in sent(instance) if title.startswith(subject))


def wait_for(check: Callable[[], bool], seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError("not reached in time")


def test_a_reminder_due_while_down_goes_once_after_the_start_and_never_after_the_first_day(
    tmp_path: Path, events_dir: Path
) -> None:
    instance = tmp_path / "instance"
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    # Registered on 20 August, in this process (the injected clock); then the service is down.
    env = {
        "DATABASE_URL": database,
        "INSTANCE_PATH": str(instance),
        "EVENTS_DIR": str(events_dir),
        "RATELIMIT_ENABLED": "false",
        "SYNC_INTERVAL_SECONDS": "0.5",
        "MAIL_INTERVAL_SECONDS": "0.5",
    }
    app = create_app(
        Settings(
            instance_path=instance,
            events_dir=events_dir,
            database_url=database,
            secret_key="t",  # type: ignore[arg-type]
            run_worker=False,
        ),
        clock=FakeClock(datetime(2018, 8, 20, 10, 0, tzinfo=UTC)),
    )
    client = app.test_client()
    for slug, n in (("wyjazd", 3), ("wczesny", 1)):
        for i in range(n):
            payload = valid_payload(email=f"{slug}{i}@example.pl", enterprise_name=f"Firma {i}")
            assert client.post(f"/api/events/{slug}/registrations", json=payload).status_code == 201
    app.extensions["owes"].store.dispose()

    # Back on 25 August at 09:00 (Warsaw 11:00): the first reminder of `wyjazd` (24 August,
    # 10:00) was missed and goes now, once per person across 4 workers; `wczesny` began at
    # 00:00 of 25 August: its reminder, missed too, never goes.
    with gunicorn(under_faketime(env, "2018-08-25 09:00:00"), workers=4):
        wait_for(lambda: sum(reminders(instance).values()) >= 3)
        time.sleep(3)  # more rounds of every worker
    first = reminders(instance)
    assert first == {"wyjazd0@example.pl": 1, "wyjazd1@example.pl": 1, "wyjazd2@example.pl": 1}
    assert [title for to, title, _ in sent(instance) if to.startswith("wczesny")] == [
        "Potwierdzenie zgłoszenia: Wczesny"  # sent now, from the outbox: no reminder
    ]

    # Restarted an hour later: nothing again.
    with gunicorn(under_faketime(env, "2018-08-25 10:00:00"), workers=4):
        time.sleep(4)
    assert reminders(instance) == first

    # 26 August, 9:59:55 in Warsaw: the second reminder goes at 10:00 local time, not before.
    with gunicorn(under_faketime(env, "2018-08-26 07:59:55"), workers=4):
        wait_for(lambda: sum(reminders(instance, SECOND).values()) >= 3)
        time.sleep(2)
    second = [(to, date) for to, title, date in sent(instance) if title.startswith(SECOND)]
    assert sorted(to for to, _ in second) == [f"wyjazd{i}@example.pl" for i in range(3)]
    assert all(date >= datetime(2018, 8, 26, 8, 0, tzinfo=UTC) for _, date in second), second
