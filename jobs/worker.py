"""The background worker: one thread per process, one active holder of the lease across them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from registrations.operations import StoreUnavailable
from store import Store, lease
from store.db import failure_kind

Job = Callable[[], object]
LEASE_NAME = "sheets-worker"
MAX_BACKOFF_SECONDS = 60.0  # the longest pause between rounds while the database is away


class StoreAway(Exception):
    """A round stopped because the database did not answer (its jobs would all fail alike)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Worker:
    """Runs `jobs` every `interval` seconds, or sooner when woken, in a thread of its own.

    With a lease (the sheet worker: sync, decisions, close-off), one round runs at a time across
    processes (gunicorn -w 4, or a separate `flask sheets sync`): the lease in the database is
    taken for a round and let go after it; should a process die mid-round, it expires after
    `lease_seconds`. Without one (the mail sender, whose messages are claimed one by one), every
    process works. Each worker has its own thread, so a slow Google never holds back mail.
    """

    def __init__(
        self,
        store: Store,
        jobs: Sequence[Job],
        clock: Callable[[], datetime],
        logger: logging.Logger,
        *,
        interval_seconds: float,
        lease_seconds: float,
        lease_name: str | None = LEASE_NAME,
        name: str = "sheets-worker",
        min_gap_seconds: float = 0.25,
        settle_seconds: float = 0.0,
        settle_max_seconds: float = 0.0,
        round_scope: Callable[[], AbstractContextManager[object]] = nullcontext,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.jobs = list(jobs)
        self.clock = clock
        self.logger = logger
        self.interval_seconds = interval_seconds
        self.lease_ttl = timedelta(seconds=lease_seconds)
        self.lease_name = lease_name
        self.name = name
        self.min_gap_seconds = min_gap_seconds
        self.settle_seconds = settle_seconds
        self.settle_max_seconds = settle_max_seconds
        self.round_scope = round_scope  # what a round's jobs share (the events in force)
        self.ready = ready
        self.failing: str | None = None  # the kind of failure logged, until a round succeeds
        self.failures = 0  # rounds failed in a row, for the backoff
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._woken_at = 0.0  # when `wake` was last called (monotonic)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew_lease(self) -> bool:
        """Take or extend the lease; False while another process holds it."""
        if self.lease_name is None:
            return True
        return lease.acquire(self.store, self.lease_name, self.holder, self.clock(), self.lease_ttl)

    def run_once(self) -> bool:
        """Do one round of every job under the lease; False if another process holds it, or
        the database has not answered since start (its gate logs that).

        The lease is let go after the round, so a command run by an operator (close-off, sync)
        gets its turn between rounds instead of waiting for this process to exit. A database
        that fails a job ends the round (StoreAway): the other jobs would fail the same way.
        """
        if not self.ready():
            return False
        try:
            if not self.renew_lease():
                return False
        except SQLAlchemyError as exc:
            raise StoreAway(failure_kind(exc)) from exc
        try:
            with self.round_scope():
                for job in self.jobs:
                    try:
                        job()
                    except (SQLAlchemyError, StoreUnavailable) as exc:
                        raise StoreAway(failure_kind(exc)) from exc
                    except Exception:  # one failing job must not stop the others or the thread
                        name = getattr(job, "__name__", job)
                        self.logger.exception("background job %s failed", name)
        finally:
            try:
                self.release_lease()
            except SQLAlchemyError:
                pass  # it expires by itself; the failure that matters is being reported
        return True

    def wait_for_lease(self, seconds: float, poll: float = 0.2) -> bool:
        """Take the lease, waiting up to `seconds` for another holder's round to end."""
        deadline = time.monotonic() + seconds
        while not self.renew_lease():
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def release_lease(self) -> None:
        if self.lease_name is not None:
            lease.release(self.store, self.lease_name, self.holder)

    def wake(self) -> None:
        """Ask for a round now (a registration was just committed)."""
        self._woken_at = time.monotonic()
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            self.release_lease()
        except Exception:
            self.logger.exception("could not release the worker lease")

    def run_forever(self) -> None:
        """Rounds until `stop()`: the thread's body, or a foreground service."""
        while not self._stop.is_set():
            self.round_with_backoff()
            # A burst of wakes (one per request) is taken up in one round after a short pause:
            # rounds do not compete with the requests one by one, and batch what came meanwhile.
            self._stop.wait(min(self.min_gap_seconds, self.interval_seconds))
            self._wake.wait(self.pause())
            self._settle()
            self._wake.clear()

    def round_with_backoff(self) -> None:
        """One round; while the database is away, one log line per kind of failure (not a
        traceback per round) and growing pauses (`pause`); one line when it is back."""
        try:
            self.run_once()
        except StoreAway as away:
            self.failures += 1
            if away.kind != self.failing:
                self.failing = away.kind
                self.logger.warning(
                    "%s: the database is not available (%s); trying again with growing pauses",
                    self.name,
                    away.kind,
                )
            return
        except Exception:  # a bug: its traceback, once per round
            self.logger.exception("background worker round failed")
            return
        if self.failing is not None:
            self.logger.info("%s: the database is available again", self.name)
        self.failing = None
        self.failures = 0

    def pause(self) -> float:
        """Seconds until the next round unless woken: the interval, doubled for each round
        the database failed in a row (`MAX_BACKOFF_SECONDS` at most)."""
        if not self.failures:
            return self.interval_seconds
        backoff = self.interval_seconds * float(2 ** min(self.failures, 16))
        return max(self.interval_seconds, min(backoff, MAX_BACKOFF_SECONDS))

    def _settle(self) -> None:
        """After a wake, wait for `settle_seconds` without one, `settle_max_seconds` at most.

        A round is CPU work in the process that takes the registrations (composing MIME,
        building sheet rows): during a burst it waits for a quiet moment, so the requests of
        the burst are answered first, and what they queued goes out together a little later.
        The wait sleeps until the last wake is `settle_seconds` old instead of being woken by
        each request of the burst.
        """
        if self.settle_seconds <= 0 or not self._wake.is_set():
            return
        deadline = time.monotonic() + self.settle_max_seconds
        while not self._stop.is_set():
            now = time.monotonic()
            quiet_at = self._woken_at + self.settle_seconds
            if now >= min(quiet_at, deadline):
                return
            self._stop.wait(min(quiet_at, deadline) - now)
