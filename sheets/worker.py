"""The background worker: one thread per process, one active holder of the lease across them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from store import Store, lease

Job = Callable[[], object]
LEASE_NAME = "sheets-worker"


class Worker:
    """Runs `jobs` (sync, close-off) every `interval` seconds, or sooner when woken.

    With several processes (gunicorn -w 4, or a separate `flask sheets sync`), only the one
    holding the lease in the database does the work; the others wait for it to expire.
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
    ) -> None:
        self.store = store
        self.jobs = list(jobs)
        self.clock = clock
        self.logger = logger
        self.interval_seconds = interval_seconds
        self.lease_ttl = timedelta(seconds=lease_seconds)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew_lease(self) -> bool:
        """Take or extend the lease; False while another process holds it."""
        return lease.acquire(self.store, LEASE_NAME, self.holder, self.clock(), self.lease_ttl)

    def run_once(self) -> bool:
        """Do one round of every job if this process holds the lease; False if another does."""
        if not self.renew_lease():
            return False
        for job in self.jobs:
            try:
                job()
            except Exception:  # one failing job must not stop the others or the thread
                self.logger.exception("background job %s failed", getattr(job, "__name__", job))
        return True

    def wake(self) -> None:
        """Ask for a round now (a registration was just committed)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.run_forever, name="sheets-worker", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            lease.release(self.store, LEASE_NAME, self.holder)
        except Exception:
            self.logger.exception("could not release the worker lease")

    def run_forever(self) -> None:
        """Rounds until `stop()`: the thread's body, or a foreground service."""
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database may be briefly away; try again next round
                self.logger.exception("background worker round failed")
            self._wake.wait(self.interval_seconds)
            self._wake.clear()
