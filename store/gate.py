"""The service starts with the database down, and uses it once it answers.

At start-up (gunicorn, `flask run`) the database may be down or hung. The service starts
anyway: until the database answers, every page and API call gets the 503 that says nothing was
stored, and the workers wait. Each attempt to reach it (one at a time, at growing intervals up
to `max_pause`, made by the requests and the workers as they come) logs one line. The first
that gets through checks the migrations' state and does what start-up does (`prepare`); from
then on the gate stays open, and a later outage is each request's 503 and each worker's retry.

A database at the wrong revision found at start-up stops start-up (ConfigurationError, as
always); found later, it keeps the gate shut and says why at each attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from config.settings import ConfigurationError
from store.db import failure_kind

FIRST_PAUSE_SECONDS = 0.5


class SchemaGate:
    """Whether the store may be used: reached, and its schema found current, since start."""

    def __init__(
        self,
        prepare: Callable[[], None],
        logger: logging.Logger,
        *,
        max_pause: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prepare = prepare
        self._logger = logger
        self._max_pause = max_pause
        self._monotonic = monotonic
        self._open = threading.Event()
        self._trying = threading.Lock()
        self._attempts = 0
        self._next_attempt = 0.0

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def open_at_start(self) -> None:
        """Start-up's attempt: a schema problem stops start-up; an unreachable database is
        logged, and the service starts with the gate shut."""
        with self._trying:
            self._attempt(at_start=True)

    def ready(self) -> bool:
        """True once the store may be used; while not, another attempt when one is due (none
        while another thread makes one: that caller is answered 503 at once)."""
        if self._open.is_set():
            return True
        if self._monotonic() < self._next_attempt or not self._trying.acquire(blocking=False):
            return False
        try:
            if not self._open.is_set() and self._monotonic() >= self._next_attempt:
                self._attempt(at_start=False)
        finally:
            self._trying.release()
        return self._open.is_set()

    def _attempt(self, *, at_start: bool) -> None:
        self._attempts += 1
        try:
            self._prepare()
        except ConfigurationError as exc:
            if at_start:
                raise
            self._logger.error(
                "the database answers, but the service cannot use it: %s (attempt %d)",
                exc.code,
                self._attempts,
            )
        except SQLAlchemyError as exc:
            self._logger.warning(
                "the database is not available (attempt %d): %s; answering 503, trying again "
                "in %g s",
                self._attempts,
                failure_kind(exc),
                self._pause(),
            )
        else:
            if self._attempts > 1:
                self._logger.info("the database is available (attempt %d)", self._attempts)
            self._open.set()
            return
        self._next_attempt = self._monotonic() + self._pause()

    def _pause(self) -> float:
        return float(min(self._max_pause, FIRST_PAUSE_SECONDS * 2 ** (self._attempts - 1)))
