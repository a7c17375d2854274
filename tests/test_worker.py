"""The lease and the background worker: one round at a time across processes, never stuck."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from config.services import Services
from jobs.worker import LEASE_NAME, Job, Worker
from sheets.factory import make_syncer
from store import Store, lease
from tests.conftest import KLASTER, FakeClock, valid_payload

NOW = datetime(2018, 8, 20, 12, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_a_lease_has_one_holder_until_it_is_released_or_expires(store: Store) -> None:
    assert lease.acquire(store, "x", "a", NOW, TTL)
    assert lease.acquire(store, "x", "a", NOW + timedelta(seconds=30), TTL)  # renewal
    assert not lease.acquire(store, "x", "b", NOW + timedelta(seconds=89), TTL)
    assert lease.acquire(store, "x", "b", NOW + timedelta(seconds=91), TTL)  # a's expired
    lease.release(store, "x", "a")  # not a's any more: nothing happens
    assert not lease.acquire(store, "x", "a", NOW + timedelta(seconds=92), TTL)
    lease.release(store, "x", "b")
    assert lease.acquire(store, "x", "a", NOW + timedelta(seconds=93), TTL)


def _worker(svc: Services, jobs: list[Job]) -> Worker:
    return Worker(
        svc.store, jobs, svc.clock, logging.getLogger("t"), interval_seconds=1, lease_seconds=60
    )


def test_only_one_worker_runs_a_round_at_a_time_and_lets_go_after_it(app: Flask) -> None:
    svc: Services = app.extensions["owes"]
    ran: list[str] = []
    first = _worker(svc, [lambda: ran.append("first")])
    second = _worker(svc, [lambda: ran.append("second")])

    assert first.renew_lease()  # first is mid-round
    assert not second.run_once()
    first.release_lease()
    assert second.run_once()
    assert first.run_once()

    assert ran == ["second", "first"]


def test_a_failing_job_does_not_stop_the_others_and_the_lease_is_let_go(app: Flask, caplog) -> None:
    svc: Services = app.extensions["owes"]
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    worker = _worker(svc, [broken, lambda: ran.append("next")])

    assert worker.run_once()
    assert ran == ["next"]
    assert "background job broken failed" in caplog.text
    assert lease.acquire(svc.store, LEASE_NAME, "someone-else", svc.clock(), TTL)


def test_a_syncer_that_lost_the_lease_appends_nothing(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    svc: Services = app.extensions["owes"]
    client.post(f"/api/events/{KLASTER}/registrations", json=valid_payload())
    syncer = make_syncer(svc, logging.getLogger("t"), still_leader=lambda: False)

    assert not syncer.sync_event(svc.events[KLASTER])

    assert not (svc.instance_path / f"{KLASTER}.xlsx").exists()


def test_the_background_thread_syncs_soon_after_a_registration(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    svc: Services = app.extensions["owes"]
    svc.worker.start()
    try:
        client.post(f"/api/events/{KLASTER}/registrations", json=valid_payload())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if client.get("/healthz").get_json()["sync"]["pending"] == 0:
                break
            time.sleep(0.05)
    finally:
        svc.worker.stop()

    assert client.get("/healthz").get_json()["sync"]["pending"] == 0
    assert (svc.instance_path / f"{KLASTER}.xlsx").exists()


def test_the_sheet_worker_takes_a_burst_of_registrations_up_in_one_round_after_it(
    app: Flask,
) -> None:
    svc: Services = app.extensions["owes"]
    rounds: list[float] = []
    svc.worker.jobs = [lambda: rounds.append(time.monotonic())]
    svc.worker.start()
    try:
        deadline = time.monotonic() + 5
        while not rounds and time.monotonic() < deadline:  # the first round, at start
            time.sleep(0.01)
        for _ in range(20):  # a registration every 20 ms, as svc.wake_workers() is called
            svc.worker.wake()
            time.sleep(0.02)
        burst_ended = time.monotonic()
        while len(rounds) < 2 and time.monotonic() < deadline + 5:
            time.sleep(0.01)
        time.sleep(0.3)  # no further round follows
    finally:
        svc.worker.stop()

    assert len(rounds) == 2
    assert rounds[1] >= burst_ended


def test_a_settling_worker_waits_for_a_burst_of_wakes_to_pause_before_its_round(
    store: Store,
) -> None:
    rounds: list[float] = []
    worker = _settling_worker(store, rounds, settle_max_seconds=5)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while not rounds and time.monotonic() < deadline:  # the first round, at start
            time.sleep(0.01)
        burst_began = time.monotonic()
        for _ in range(10):  # a wake every 0.1 s for a second: no round meanwhile
            worker.wake()
            time.sleep(0.1)
        burst_ended = time.monotonic()
        while len(rounds) < 2 and time.monotonic() < deadline + 5:
            time.sleep(0.01)
    finally:
        worker.stop()

    assert len(rounds) == 2
    assert rounds[1] >= burst_ended  # one round after the burst, none during it
    assert rounds[1] - burst_began < 5  # and never later than settle_max_seconds


def test_a_settling_worker_runs_by_its_cap_when_the_wakes_never_pause(store: Store) -> None:
    rounds: list[float] = []
    worker = _settling_worker(store, rounds, settle_max_seconds=0.5)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(rounds) < 3:
            worker.wake()
            time.sleep(0.05)
    finally:
        worker.stop()

    assert len(rounds) >= 3  # a steady stream of wakes still gets rounds, every cap or so


def _settling_worker(store: Store, rounds: list[float], *, settle_max_seconds: float) -> Worker:
    """A worker without a lease whose one job notes when each round ran."""
    return Worker(
        store,
        [lambda: rounds.append(time.monotonic())],
        FakeClock(datetime(2026, 1, 1, tzinfo=UTC)),
        logging.getLogger("test"),
        interval_seconds=60,
        lease_seconds=30,
        lease_name=None,
        min_gap_seconds=0,
        settle_seconds=0.3,
        settle_max_seconds=settle_max_seconds,
    )
