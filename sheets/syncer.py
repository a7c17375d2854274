"""Takes committed registrations to the spreadsheet: batched, retried, never twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from registrations.event import Event
from registrations.models import Registration
from sheets.rows import ID_HEADER, header_index, missing_headers, place, registration_row
from sheets.sink import RegistrationSheet, Sink, SinkError
from store import Store, sync

Clock = Callable[[], datetime]


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, SinkError) and not exc.permanent


class LeaseLost(Exception):
    """Another process took over syncing; this one must not append."""


class Syncer:
    """Appends each event's pending registrations to its worksheet.

    Before every append it reads the worksheet's ID column and appends only the rows that are
    not there: an append whose answer was lost (timeout, dropped connection, 5xx after Google
    applied it) or a process killed before it recorded success never leads to a duplicate row.
    The lease is renewed before that read and again before the append, so no other process can
    append in between.
    """

    def __init__(
        self,
        store: Store,
        sink: Sink,
        clock: Clock,
        logger: logging.Logger,
        *,
        batch_size: int = 200,
        max_attempts: int = 6,
        backoff_max_seconds: float = 30.0,
        in_flight_settle_seconds: float = 30.0,
        sheet_check_seconds: float = 60.0,
        still_leader: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.sink = sink
        self.clock = clock
        self.logger = logger
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_max_seconds = backoff_max_seconds
        self.in_flight_settle_seconds = in_flight_settle_seconds
        self.sheet_check_seconds = sheet_check_seconds
        self.still_leader = still_leader
        self._sheet_checked: dict[str, float] = {}

    def sync(self, events: list[Event]) -> bool:
        """Sync every event; True when all of them are complete."""
        return all([self.sync_event(event) for event in events])

    def sync_event(
        self, event: Event, *, raise_errors: bool = False, check_sheet: bool = False
    ) -> bool:
        """Sync one event until nothing is pending; False (rows wait) when the sheet fails.

        The worksheet is also looked at when nothing is pending, with `check_sheet` or once a
        `sheet_check_seconds`, so one staff deleted is recreated and refilled promptly. With
        `raise_errors`, the SinkError is raised after being recorded, for callers that must
        report what went wrong.
        """
        target = self.sink.target(event)
        check_sheet = check_sheet or self._sheet_check_due(event, target)
        try:
            appended, touched = 0, check_sheet
            for attempt in self._retrying():
                with attempt:
                    if check_sheet:
                        self.open(event, target)
                    done, worked = self._sync_pending(event, target)
                    appended += done
                    touched = touched or worked
        except SinkError as exc:
            self._record_error(event, target, exc)
            if raise_errors:
                raise
            return False
        except LeaseLost:
            self.logger.warning("sync of %s stopped: another process took over", event.slug)
            return False
        if check_sheet:
            self._sheet_checked[event.slug] = time.monotonic()
        if touched:  # a success only when the sheet itself answered
            with self.store.transaction() as session:
                sync.record_success(session, target, self.clock())
        if appended:
            self.logger.info("synced %d registration(s) of %s to %s", appended, event.slug, target)
        return True

    def open(self, event: Event, target: str) -> RegistrationSheet:
        """The event's worksheet; a missing one is recreated and every registration re-queued.

        The re-queueing is committed before the worksheet is created, so a creation that fails
        half-way (Google answers 503 after adding the sheet) cannot strand any row.
        """
        sheet = self.sink.find(event)
        if sheet is not None:
            return sheet
        with self.store.transaction() as session:
            requeued = sync.forget_synced(session, event.slug, target)
        if requeued:
            self.logger.warning(
                "worksheet %r of %s is missing: recreating it and refilling %d row(s)",
                event.worksheet_title,
                event.slug,
                requeued,
            )
        return self.sink.create(event)

    def _sheet_check_due(self, event: Event, target: str) -> bool:
        """Time to look whether staff deleted a worksheet that holds rows of the event."""
        last = self._sheet_checked.get(event.slug)
        if last is not None and time.monotonic() - last < self.sheet_check_seconds:
            return False
        with self.store.transaction() as session:
            return sync.any_synced(session, event.slug, target)

    def _retrying(self) -> Retrying:
        backoff = wait_random_exponential(multiplier=0.5, max=self.backoff_max_seconds)

        def wait(state: RetryCallState) -> float:
            # After a write whose answer was lost, Google may still apply it: give it time to
            # land before the ID column is read again, or the retry would append rows twice.
            failure = state.outcome.exception() if state.outcome else None
            settle = self.in_flight_settle_seconds if getattr(failure, "in_flight", False) else 0
            return max(backoff(state), settle)

        return Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(_transient),
            reraise=True,
        )

    def _sync_pending(self, event: Event, target: str) -> tuple[int, bool]:
        """Rows appended, and whether the sheet was worked on at all."""
        appended, touched = 0, False
        while batch := self._pending(event, target):
            touched = True
            self._ensure_leader()
            sheet = self.open(event, target)
            batch = self._pending(event, target)  # the worksheet may have been recreated
            header = self._header(sheet, event)
            id_column = header_index(header, ID_HEADER)
            assert id_column is not None  # added by _header when missing
            present = set(sheet.column(id_column))
            rows = [
                place(header, registration_row(registration, event))
                for registration in batch
                if registration.id not in present
            ]
            if rows:
                self._ensure_leader()
                sheet.append_rows(rows)
                appended += len(rows)
            with self.store.transaction() as session:
                sync.mark_synced(session, [r.id for r in batch], target, self.clock())
        return appended, touched

    def _header(self, sheet: RegistrationSheet, event: Event) -> list[str]:
        """Staff's header row, completed with our missing headers at its end."""
        header = sheet.header()
        if header and not header[0].strip():
            # Rows are appended after the table that starts at A1: with A1 empty, Google would
            # put them above the header.
            raise SinkError(
                f"the header cell A1 of worksheet {event.worksheet_title!r} is empty: give that "
                "column a name (rows are appended after the table that starts at A1)",
                permanent=True,
                code="header",
            )
        if missing := missing_headers(header):
            sheet.add_headers(missing, len(header))
            header = header + missing
        return header

    def _ensure_leader(self) -> None:
        if not self.still_leader():
            raise LeaseLost()

    def _pending(self, event: Event, target: str) -> list[Registration]:
        with self.store.transaction() as session:
            return sync.pending(session, event.slug, target, self.batch_size)

    def _record_error(self, event: Event, target: str, exc: SinkError) -> None:
        with self.store.transaction() as session:
            is_new = sync.record_error(session, target, str(exc), exc.code, self.clock())
        if is_new:
            kind = "needs fixing" if exc.permanent else "failed after retries"
            self.logger.error(
                "sync of %s %s, registrations wait in the store: %s", event.slug, kind, exc
            )
