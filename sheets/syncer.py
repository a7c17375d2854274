"""Keeps each event's worksheet in step with the store, and carries staff decisions back.

A round for an event reads the worksheet once (header, IDs, decisions, notes), applies decisions
staff typed (through the same operations as a participant's link), then brings every row whose
registration is new or changed up to date: changed rows are rewritten in place, found by their
ID, in the service's own columns only; new ones are appended. Before every append the IDs were
just read and only rows that are not there are appended, so a lost answer, a 5xx after Google
applied the write, or a killed process never leads to a duplicate row. The lease is renewed
before that read and again before each write, so no other process writes in between.

Once the header is known, that read takes only the header and the ID, decision and note
columns (a whole read of 10 000 rows is some 20 MiB in a gunicorn worker); the whole rows are
read when some are to be rewritten in place, and whenever the header is not as last read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from checkin.sheet import (
    PresenceRead,
    add_presence_cells,
    apply_presence_cells,
    missing_presence_headers,
    presence_columns,
)
from registrations.decision_grace import SHEET_SOURCE, DecisionGrace, due_note
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import RACED, DecisionOutcome, NotFound, Registrations
from sheets import question_columns, reconcile
from sheets.pull import RACED as RACED_NOTE
from sheets.pull import Pulled, note_runs, pull, stray_decision_columns
from sheets.reconcile import Written
from sheets.rows import (
    DECISION_HEADER,
    ID_HEADER,
    NOTES_HEADER,
    REASON_HEADER,
    header_index,
    missing_headers,
    place,
    registration_row,
    renamed_headers,
)
from sheets.sink import CellRun, RegistrationSheet, Sink, SinkError, Table, unexpected
from store import Store, sync
from store.sync import SheetWork

Clock = Callable[[], datetime]
MAX_BATCHES_PER_ROUND = 50
REPAIR_ATTEMPTS = 3


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, SinkError) and not exc.permanent


class LeaseLost(Exception):
    """Another process took over syncing; this one must not write."""


@dataclass
class RoundReport:
    """What a round did, for the log and for operators (`sheets check --create`)."""

    appended: int = 0
    updated: int = 0
    decided: int = 0
    erased: int = 0  # rows of erased registrations deleted
    repairs: list[str] = field(default_factory=list)
    touched: bool = False


class Syncer:
    """Brings each event's worksheet up to date with the store, and applies staff decisions."""

    def __init__(
        self,
        store: Store,
        sink: Sink,
        clock: Clock,
        logger: logging.Logger,
        *,
        registrations: Registrations | None = None,
        batch_size: int = 1000,
        max_attempts: int = 6,
        backoff_max_seconds: float = 30.0,
        in_flight_settle_seconds: float = 30.0,
        sheet_check_seconds: float = 60.0,
        pull_seconds: float = 30.0,
        still_leader: Callable[[], bool] = lambda: True,
        grace: DecisionGrace | None = None,
    ) -> None:
        self.store = store
        self.sink = sink
        self.clock = clock
        self.logger = logger
        self.registrations = registrations
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_max_seconds = backoff_max_seconds
        self.in_flight_settle_seconds = in_flight_settle_seconds
        self.sheet_check_seconds = sheet_check_seconds
        self.pull_seconds = pull_seconds
        self.still_leader = still_leader
        self.grace = grace  # None or a grace of 0: decisions are carried out at once
        self._sheet_checked: dict[str, float] = {}
        self._pulled: dict[str, float] = {}
        # A write by position that a failed attempt left unverified: checked (and repaired)
        # first thing in the next attempt, before any decision is read from the sheet.
        self._unverified: dict[str, tuple[Table, list[Written], dict[str, dict[str, str]]]] = {}
        # Each event's header row as last read: what a read of a few columns is checked against.
        self._headers: dict[str, list[str]] = {}

    def sync(self, events: list[Event]) -> bool:
        """Sync every event; True when all of them are complete."""
        return all([self.sync_event(event) is not None for event in events])

    def sync_event(
        self, event: Event, *, raise_errors: bool = False, check_sheet: bool = False
    ) -> RoundReport | None:
        """One round for the event; None (rows wait in the store) when the sheet fails.

        The worksheet is looked at even with nothing pending: with `check_sheet`, once a
        `sheet_check_seconds` (so one staff deleted is recreated and refilled promptly), and
        once a `pull_seconds` to read staff decisions. With `raise_errors`, the SinkError is
        raised after being recorded, for callers that must report what went wrong.
        """
        target = self.sink.target(event)
        changed = self.sink.begin_round(event)  # staff saved the workbook: look at it now
        check_sheet = check_sheet or changed or self._sheet_check_due(event, target)
        pull_now = self._pull_due(event, target)
        with self.store.transaction() as session:
            work = sync.sheet_work(session, event.slug)
        if not (
            check_sheet
            or pull_now
            or work is not None
            or self._has_pending(event, target)
            or self._erasure_pending(event)
        ):
            return RoundReport()
        report = RoundReport()
        try:
            for attempt in self._retrying():
                with attempt:
                    report = RoundReport()
                    if work is not None:  # before the worksheet is looked for by its title
                        self._do_sheet_work(event, target, work, report)
                        work = None
                    self._round(event, target, report, pull_now=pull_now)
        except LeaseLost:
            self.logger.warning("sync of %s stopped: another process took over", event.slug)
            return None
        except SQLAlchemyError:  # the store's trouble, not the sheet's: the worker reports it
            raise
        except Exception as exc:  # any sink failure, foreseen (SinkError) or not, is recorded
            error = exc if isinstance(exc, SinkError) else unexpected(exc)
            self._record_error(event, target, error)
            if raise_errors and error is exc:
                raise
            if raise_errors:
                raise error from exc
            return None
        now = time.monotonic()
        self._sheet_checked[event.slug] = now
        if pull_now:
            self._pulled[event.slug] = now
        if report.touched:  # a success only when the sheet itself answered
            with self.store.transaction() as session:
                sync.record_success(session, target, self.clock())
        if report.erased:
            self.logger.info(
                "deleted %d row(s) of erased registrations of %s from worksheet %r",
                report.erased,
                event.slug,
                event.worksheet_title,
            )
        if report.appended or report.updated:
            self.logger.info(
                "synced %s to %s: %d row(s) appended, %d updated in place",
                event.slug,
                self.sink.describe(event),
                report.appended,
                report.updated,
            )
        return report

    def open(
        self, event: Event, target: str, report: RoundReport | None = None
    ) -> RegistrationSheet:
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
        sheet = self.sink.create(event)
        if report is not None:
            report.repairs.append(f"created worksheet {event.worksheet_title!r}")
        return sheet

    # -- one round ------------------------------------------------------------------------

    def _do_sheet_work(
        self, event: Event, target: str, work: SheetWork, report: RoundReport
    ) -> None:
        """Rename the worksheets after `short_title` changed, remove the protection after
        registration was reopened; each recorded done only once the sheet has it."""
        self._ensure_leader()
        if work.renamed_from is not None:
            self.sink.rename(event, work.renamed_from, work.summary_renamed_from)
            with self.store.transaction() as session:
                sync.renamed(session, event.slug, work, target)
            report.repairs.append(f"renamed worksheet {work.renamed_from!r}")
            self.logger.info(
                "worksheets of %s renamed: %r, %r",
                event.slug,
                event.worksheet_title,
                event.summary_worksheet_title,
            )
        if work.reopened_at is not None:
            self.sink.unprotect(event)
            with self.store.transaction() as session:
                sync.unprotected(session, event.slug, work)
            self.logger.info("registration for %s reopened: sheet protection removed", event.slug)

    def _round(self, event: Event, target: str, report: RoundReport, *, pull_now: bool) -> None:
        for batch_number in range(MAX_BATCHES_PER_ROUND):
            if not self._batch(event, target, report, batch_number, pull_now=pull_now):
                return

    def _batch(
        self, event: Event, target: str, report: RoundReport, batch_number: int, *, pull_now: bool
    ) -> bool:
        """One batch of a round, from a fresh read of the sheet; whether more may be pending.

        A method of its own so that one batch's read of the sheet (10 000 rows are some 20 MiB
        of strings) is gone before the next batch reads it again.
        """
        self._ensure_leader()
        sheet = self.open(event, target, report)
        report.touched = True
        if sheet.claim_older_copy(lambda: self._forget_synced(event, target)):
            self.logger.warning(
                "an older copy of the worksheet of %s was saved over it: rewriting the "
                "service's columns from the store",
                event.slug,
            )
            report.repairs.append("rewrote the service's columns over an older copy")
        read_at = self.clock()
        table, whole = self._read(event, sheet, report)
        if batch_number == 0 and (unverified := self._unverified.get(event.slug)) is not None:
            del table  # not two reads of the sheet at once
            self._verify(event, sheet, *unverified)
            del unverified
            read_at = self.clock()
            table, whole = self._read(event, sheet, report)
        if batch_number == 0:  # before decisions: nothing is decided on an erased row
            table, whole = self._delete_erased(event, sheet, table, whole, report)
            self._requeue_missing(event, target, table, report)
        presence = PresenceRead()
        while True:
            runs = []
            if batch_number == 0:  # `tak` / `nie` typed on the day, before any row is rewritten
                presence = self._apply_presence(event, table)
            if batch_number == 0 and pull_now and self.registrations is not None:
                pulled = self._apply_decisions(event, target, table, read_at, report)
                for row, note in presence.notes.items():
                    pulled.notes[row] = pulled.notes.get(row) or note
                runs += note_runs(table, pulled.notes)
            elif presence.notes:
                runs += note_runs(table, presence.notes)
            batch = self._pending(event, target)
            if not batch and not runs:
                return False
            positions = reconcile.id_positions(table)
            questions = question_columns.read_questions(self.store, event.slug)
            answers = question_columns.read_answers(self.store, batch) if questions else {}
            expected = {
                r.id: {
                    **registration_row(r, event),
                    **question_columns.question_cells(questions, answers.get(r.id, {})),
                }
                for r in batch
            }
            add_presence_cells(self.store, event, expected, presence.keep)
            written: list[Written] = []
            appends: list[list[str]] = []
            for registration in batch:
                rows = positions.get(registration.id, [])
                for row in rows:  # rewritten in place (every copy of a row staff copied)
                    runs += reconcile.update_runs(table[0], row, expected[registration.id])
                    written.append(Written(row, registration.id))
                if not rows:  # new, or its row was deleted by staff: appended (again)
                    appends.append(place(table[0], expected[registration.id]))
            del positions
            if not written or whole:
                break
            # Rows rewritten in place are checked after the write, and a row staff moved
            # meanwhile is told by its other cells: that needs the whole rows as they were.
            del table, batch, expected, runs, written, appends
            read_at = self.clock()
            table, whole = self._complete_header(sheet, sheet.read(), event, report), True
        if runs:
            self._ensure_leader()
            self._unverified[event.slug] = (table, written, expected)
            sheet.write(runs)
        if appends:  # never held up by a write that needs repairing
            self._ensure_leader()
            sheet.append_rows(appends)
            decision = header_index(table[0], DECISION_HEADER)
            if decision is not None:
                sheet.keep_dropdown(decision)
        if runs:
            self._verify(event, sheet, table, written, expected)
        with self.store.transaction() as session:
            sync.mark_synced(session, {r.id: r.version for r in batch}, target, self.clock())
        report.appended += len(appends)
        report.updated += len(written)
        return len(batch) >= self.batch_size

    def _read(
        self, event: Event, sheet: RegistrationSheet, report: RoundReport
    ) -> tuple[Table, bool]:
        """The sheet, its header completed; and whether its rows are whole.

        Once the header is known, only the ID, decision and note columns are read (with the
        header, to see it is still the same): what appending and pulling decisions need, for
        a tenth of the memory of 10 000 whole rows. Otherwise, and when the header changed,
        the whole sheet.
        """
        known = self._headers.get(event.slug)
        table = None
        if known is not None:
            names = (ID_HEADER, DECISION_HEADER, REASON_HEADER, NOTES_HEADER)
            columns = [c for name in names if (c := header_index(known, name)) is not None]
            columns += stray_decision_columns(known, header_index(known, DECISION_HEADER))
            columns += list(presence_columns(known, event))  # read back like decisions
            table = sheet.read_columns(known, sorted(set(columns)))
        whole = table is None
        table = self._complete_header(
            sheet, sheet.read() if table is None else table, event, report
        )
        self._headers[event.slug] = table[0]
        return table, whole

    def _delete_erased(
        self,
        event: Event,
        sheet: RegistrationSheet,
        table: Table,
        whole: bool,
        report: RoundReport,
    ) -> tuple[Table, bool]:
        """Delete every row of an erased registration, wherever staff moved or copied it.

        Erased registrations are never pending, so their rows are never written again; should
        one be in the sheet anyway (its erasure was recorded while the sheet was unreachable),
        it goes here. The table is read again after a deletion (the rows below moved up).
        """
        with self.store.transaction() as session:
            erased = sync.erased_ids(session, event.slug)
        if not erased:
            return table, whole
        positions = reconcile.id_positions(table)
        rows = [row for registration_id in erased for row in positions.get(registration_id, [])]
        if rows:
            self._ensure_leader()
            sheet.delete_rows(rows)
            report.erased += len(rows)
            del table, positions
            table, whole = sheet.read(), True
        with self.store.transaction() as session:
            sync.mark_sheet_erased(session, event.slug, self.clock())
        return table, whole

    def _forget_synced(self, event: Event, target: str) -> None:
        with self.store.transaction() as session:
            sync.forget_synced(session, event.slug, target)

    def _requeue_missing(
        self, event: Event, target: str, table: Table, report: RoundReport
    ) -> None:
        """Every registration the store has written to the sheet must have a row there: one
        that is gone (staff deleted it, or saved a copy without it) is written again."""
        with self.store.transaction() as session:
            missing = (
                sync.synced_ids(session, event.slug, target) - reconcile.id_positions(table).keys()
            )
            if missing:
                sync.forget_rows(session, missing)
        if missing:
            self.logger.warning(
                "%d row(s) of %s missing from %s: writing them again",
                len(missing),
                event.slug,
                self.sink.describe(event),
            )
            report.repairs.append(f"wrote {len(missing)} missing row(s) again")

    def _complete_header(
        self, sheet: RegistrationSheet, table: Table, event: Event, report: RoundReport
    ) -> Table:
        """Staff's table, its header completed with our missing headers at its end."""
        header = table[0] if table else []
        if header and not header[0].strip():
            # Rows are appended after the table that starts at A1: with A1 empty, Google would
            # put them above the header.
            raise SinkError(
                f"the header cell A1 of worksheet {event.worksheet_title!r} is empty: give that "
                "column a name (rows are appended after the table that starts at A1)",
                permanent=True,
                code="header",
            )
        if renamed := renamed_headers(header):
            # In place, before anything is written under today's names: the column and its
            # data stay, and no second column is added at the end.
            header = list(header)
            sheet.write([CellRun(0, column, [name]) for column, name in renamed])
            for column, name in renamed:
                report.repairs.append(f"renamed header {header[column]!r} to {name!r}")
                header[column] = name
        if missing := missing_headers(header) + missing_presence_headers(
            header, event, self.store, self.clock()
        ):
            done = sheet.add_headers(missing, len(header))
            report.repairs += [f"added {what}" for what in done]
            header = header + missing
        questions = question_columns.read_questions(self.store, event.slug)
        if renamed := question_columns.renamed_question_headers(header, questions):
            header = list(header)
            sheet.write([CellRun(0, column, [name]) for column, name in renamed])
            for column, name in renamed:
                report.repairs.append(f"renamed question column {header[column]!r} to {name!r}")
                header[column] = name
        if missing := question_columns.missing_question_headers(header, questions):
            sheet.add_headers(missing, len(header))
            header = header + missing
        assert header_index(header, ID_HEADER) is not None  # added above when missing
        return [header, *table[1:]]

    def _verify(
        self,
        event: Event,
        sheet: RegistrationSheet,
        before: Table,
        written: list[Written],
        expected: dict[str, dict[str, str]],
    ) -> None:
        """Read the sheet again: rows staff moved while we wrote are put right.

        Whether anything moved is told by the header and the ID column alone; the whole rows
        are read only to repair (two whole reads of 10 000 rows at once were some 40 MiB).
        """
        for _ in range(REPAIR_ATTEMPTS):
            ids = header_index(before[0], ID_HEADER)
            after = None if ids is None else sheet.read_columns(before[0], [ids])
            if after is None or reconcile.displaced(before, after, written):
                del after
                after = sheet.read()
            if not reconcile.displaced(before, after, written):
                self._unverified.pop(event.slug, None)
                return
            runs = reconcile.repairs(before, after, written, expected)
            self.logger.warning(
                "rows of worksheet moved while being updated: repairing %d cell run(s)", len(runs)
            )
            self._ensure_leader()
            sheet.write(runs)
            # What to look for next time: each registration in the rows it is in now.
            before = sheet.read()
            positions = reconcile.id_positions(before)
            written = [
                Written(row, registration_id)
                for registration_id in {w.registration_id for w in written}
                for row in positions.get(registration_id, [])
            ]
            self._unverified[event.slug] = (before, written, expected)
        raise SinkError("rows kept moving while being updated; retrying", permanent=False)

    def _apply_presence(self, event: Event, table: Table) -> PresenceRead:
        """Presence typed in the sheet (`tak` / `nie`), applied once; its notes."""
        with self.store.reading() as session:
            known = set(
                session.scalars(
                    select(Registration.id).where(
                        Registration.event_slug == event.slug, Registration.erased_at.is_(None)
                    )
                )
            )
        read = apply_presence_cells(self.store, event, table, known, self.clock())
        if read.applied:
            self.logger.info(
                "%d presence(s) typed in worksheet %r of %s applied",
                read.applied,
                event.worksheet_title,
                event.slug,
            )
        return read

    def _apply_decisions(
        self, event: Event, target: str, table: Table, read_at: datetime, report: RoundReport
    ) -> Pulled:
        """Carry out each decision typed since the last one handled for that registration."""
        assert self.registrations is not None
        with self.store.transaction() as session:
            query = select(
                Registration.id, Registration.staff_decision, Registration.staff_decision_skipped
            ).where(Registration.event_slug == event.slug, Registration.erased_at.is_(None))
            handled = {rid: (done, skipped) for rid, done, skipped in session.execute(query)}
            typed_after = sync.decisions_read_at(session, target)
        pulled = pull(table, handled.keys())
        for registration_id in pulled.cleared:
            if handled[registration_id][0] is not None:
                self.registrations.forget_decision(event, registration_id)
        grace = self.grace if self.grace is not None and self.grace.active else None
        waiting = grace.of_event(event) if grace is not None else {}
        for row in pulled.decisions:
            done, skipped = handled[row.registration_id]
            if done != row.decision.value:
                since: datetime | None = None
                after = typed_after
                if grace is not None:
                    held = waiting.pop(row.registration_id, None)
                    if held is None or held.decision != row.decision.value:
                        held = grace.hold(
                            event,
                            row.registration_id,
                            row.decision,
                            seen_at=read_at,
                            source=SHEET_SOURCE,
                            typed_after=typed_after,
                        )
                    if read_at < held.due_at:  # still within the grace time
                        pulled.notes[row.row] = due_note(event, held.due_at)
                        continue
                    since, after = held.first_seen_at, held.typed_after
                try:
                    outcome = self.registrations.decide(
                        event,
                        row.registration_id,
                        row.decision,
                        now=self.clock(),
                        typed_after=after,
                        reason=row.reason,
                        pending_since=since,
                    )
                except NotFound:  # erased since the read
                    continue
                skipped = outcome.skipped
                self._log_decision(event, row.registration_id, row.decision.value, outcome)
                report.decided += outcome.applied
            if skipped == RACED:
                pulled.notes[row.row] = RACED_NOTE
        if grace is not None:  # waits whose value this read no longer shows end here
            grace.drop(
                [rid for rid, held in waiting.items() if held.source == SHEET_SOURCE],
                source=SHEET_SOURCE,
            )
        with self.store.transaction() as session:
            sync.record_decisions_read(session, target, read_at)
        # Logged once, when the row's note is written, and never with what staff typed: the
        # row and, when it is one, the registration's ID; `Uwagi systemu` explains the rest.
        id_column = header_index(table[0], ID_HEADER)
        for run in note_runs(table, pulled.notes):
            problem = pulled.problems.get(run.row)
            if problem is None:
                continue
            registration_id = reconcile.cell(table[run.row], id_column).strip()
            self.logger.warning(
                "row %d%s of worksheet %r of %s: %s (see its %r)",
                run.row + 1,
                f" ({registration_id})" if registration_id in handled else "",
                event.worksheet_title,
                event.slug,
                problem,
                NOTES_HEADER,
            )
        return pulled

    def _log_decision(
        self, event: Event, registration_id: str, value: str, outcome: DecisionOutcome
    ) -> None:
        if outcome.applied:
            self.logger.info(
                "staff decision %r applied to %s of %s: %s → %s",
                value,
                registration_id,
                event.slug,
                outcome.old_status.value,
                outcome.new_status.value,
            )
        elif outcome.skipped == RACED:
            self.logger.warning(
                "staff decision %r for %s of %s not carried out: the participant changed the "
                "registration since the sheet was last read",
                value,
                registration_id,
                event.slug,
            )

    # -- bookkeeping ----------------------------------------------------------------------

    def _sheet_check_due(self, event: Event, target: str) -> bool:
        """Time to look whether staff deleted a worksheet that holds rows of the event."""
        last = self._sheet_checked.get(event.slug)
        if last is not None and time.monotonic() - last < self.sheet_check_seconds:
            return False
        with self.store.transaction() as session:
            return sync.any_synced(session, event.slug, target)

    def _pull_due(self, event: Event, target: str) -> bool:
        """Time to read staff decisions: every `pull_seconds`, from the first round on (so the
        time of the last read is known before staff can type anything)."""
        if self.registrations is None:
            return False
        last = self._pulled.get(event.slug)
        if last is not None and time.monotonic() - last < self.pull_seconds:
            return False
        with self.store.transaction() as session:
            return sync.has_registrations(session, event.slug)

    def _has_pending(self, event: Event, target: str) -> bool:
        return bool(self._pending(event, target, limit=1))

    def _erasure_pending(self, event: Event) -> bool:
        with self.store.transaction() as session:
            return sync.sheet_erasure_pending(session, event.slug)

    def _retrying(self) -> Retrying:
        backoff = wait_random_exponential(multiplier=0.5, max=self.backoff_max_seconds)

        def wait(state: RetryCallState) -> float:
            # After a write whose answer was lost, Google may still apply it: give it time to
            # land before the sheet is read again, or the retry would append rows twice.
            failure = state.outcome.exception() if state.outcome else None
            settle = self.in_flight_settle_seconds if getattr(failure, "in_flight", False) else 0
            self.still_leader()  # renewed: no other process appends while a lost write lands
            return max(backoff(state), settle)

        return Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(_transient),
            reraise=True,
        )

    def _ensure_leader(self) -> None:
        if not self.still_leader():
            raise LeaseLost()

    def _pending(self, event: Event, target: str, limit: int | None = None) -> list[Registration]:
        with self.store.transaction() as session:
            return sync.pending(session, event.slug, target, limit or self.batch_size)

    def _record_error(self, event: Event, target: str, exc: SinkError) -> None:
        with self.store.transaction() as session:
            is_new = sync.record_error(session, target, str(exc), exc.code, self.clock())
        if is_new:
            kind = "needs fixing" if exc.permanent else "failed after retries"
            self.logger.error(
                "sync of %s %s, registrations wait in the store: %s", event.slug, kind, exc
            )
