"""The close-off at the deadline: last rows synced, summary written, sheet protected, staff told.

Each step is recorded in the event's state row, so a close-off interrupted by Google or SMTP
trouble resumes where it stopped and every step happens once.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from config.services import Services
from mail.html import document
from mail.outbox import enqueue
from mail.transport import compose
from registrations.event import Event
from registrations.models import EventState
from registrations.polish import CONFIRMED_PEOPLE, PEOPLE, date_text, datetime_pl
from registrations.window import read_window
from sheets.factory import make_syncer
from sheets.sink import Sink, SinkError, unexpected
from sheets.syncer import Syncer
from staff.links import staff_event_url
from staff.summary import (
    Summary,
    answers_of,
    fingerprint,
    registrations_of,
    sheet_rows,
    summarise,
    summary_html,
    summary_text,
)
from store import Store

LATE_AFTER = timedelta(minutes=5)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    NOT_DUE = "not_due"


class CloseOffFailed(Exception):
    """The close-off could not finish now; it resumes on the next run."""


class CloseOff:
    def __init__(
        self,
        store: Store,
        sink: Sink,
        syncer: Syncer,
        clock: Callable[[], datetime],
        logger: logging.Logger,
        *,
        sender: str,
        staff_email: str | None,
        window: timedelta = timedelta(days=14),
        base_url: str = "http://127.0.0.1:5000",
    ) -> None:
        self.store = store
        self.sink = sink
        self.syncer = syncer
        self.clock = clock
        self.logger = logger
        self.sender = sender
        self.staff_email = staff_email
        self.window = window
        self.base_url = base_url

    def due(self, events: Sequence[Event]) -> list[Event]:
        """Events to close off now: deadline passed within the window, or an early close begun.

        An event that closed longer ago (a past event in a fresh installation) is left alone:
        staff close it off by hand with `flask close-off --event SLUG` if they want to.
        """
        now = self.clock()
        with self.store.transaction() as session:
            query = select(EventState).where(EventState.slug.in_([e.slug for e in events]))
            states = {state.slug: state for state in session.scalars(query)}
        due = []
        for event in events:
            state = states.get(event.slug)
            if state is not None and state.closed_off_at is not None:
                continue
            begun = state is not None and state.closing_started_at is not None
            if begun or event.closes_at <= now < event.closes_at + self.window:
                due.append(event)
        return due

    def run_due(self, events: Sequence[Event]) -> None:
        """The background job: close off whatever is due; failures wait for the next round."""
        for event in self.due(events):
            try:
                self.run(event)
            except CloseOffFailed:
                pass  # recorded and logged in run(); retried next round

    def run(self, event: Event, *, force: bool = False) -> Outcome:
        now = self.clock()
        state = self._state(event)
        if state.closed_off_at is not None:
            return Outcome.ALREADY_DONE
        if now < event.closes_at and not force and state.closing_started_at is None:
            return Outcome.NOT_DUE  # (an early close-off already begun is continued)
        self._close_registration(event, now)
        try:
            summary = self._complete(event, now)
        except Exception as exc:  # whatever failed, it is recorded and resumed next time
            known = SinkError | CloseOffFailed | smtplib.SMTPException | OSError
            # An unforeseen exception's own message may quote a participant's data.
            failure = exc if isinstance(exc, known) else unexpected(exc)
            self._record_failure(event, str(failure) or failure.__class__.__name__)
            raise CloseOffFailed(f"close-off of {event.slug} not finished: {failure}") from exc
        if summary is None:
            return Outcome.ALREADY_DONE
        self.logger.info(
            "closed off %s: %d confirmed, %d waitlisted",
            event.slug,
            summary.confirmed,
            summary.waitlisted,
        )
        return Outcome.DONE

    def _close_registration(self, event: Event, now: datetime) -> None:
        """First step: no registration can commit after this (it takes the same row lock)."""
        with self.store.transaction() as session:
            state = session.get(EventState, event.slug, with_for_update=True)
            assert state is not None
            if state.closing_started_at is None:
                state.closing_started_at = now

    def _complete(self, event: Event, now: datetime) -> Summary | None:
        """The steps after the sync; each is safe to repeat or happens once.

        None when a run racing this one finished the close-off first.
        """
        if not self.syncer.sync_event(event, raise_errors=True, check_sheet=True):
            raise CloseOffFailed("another process took over syncing")
        self._ensure_leader()
        summary = summarise(
            event,
            registrations_of(self.store, event),
            now,
            closed_at=now,
            answers=answers_of(self.store, event),
        )
        # One write for both: the summary is a rewrite (repeating it is harmless) and an
        # existing protection is kept.
        self.sink.close_off(event, sheet_rows(summary))
        self._mark(event, summary_written_at=now, summary_fingerprint=fingerprint(summary))
        self._claim(event, EventState.protected_at, now)
        self._ensure_leader()
        self._send_once(event, summary, now)
        # Not when staff reopened registration meanwhile (the staff pages): its close-off is then
        # the new deadline's.
        if not self._claim(event, EventState.closed_off_at, now, while_closing=True):
            return None
        self._mark(event, close_off_error=None)
        return summary

    def _send_once(self, event: Event, summary: Summary, now: datetime) -> None:
        """The staff e-mail, once: queued in the outbox in the transaction that records it, so
        a second run finds it done, and SMTP trouble never holds up the sheet worker."""
        state = self._state(event)
        if state.mail_sent_at is not None:
            return
        message = self._message(event, summary, state.close_off_error)
        with self.store.transaction() as session:
            result = session.execute(
                update(EventState)
                .where(EventState.slug == event.slug, EventState.mail_sent_at.is_(None))
                .values(mail_sent_at=now)
            )
            if getattr(result, "rowcount", 0):
                enqueue(session, message, kind="staff_close_off", registration_id=None, now=now)
                self.logger.info("close-off summary of %s queued for staff", event.slug)

    def _claim(
        self,
        event: Event,
        column: InstrumentedAttribute[Any],
        now: datetime,
        *,
        while_closing: bool = False,
    ) -> bool:
        """Set a step's time unless some run already did: True for the run that set it."""
        query = update(EventState).where(EventState.slug == event.slug, column.is_(None))
        if while_closing:
            query = query.where(EventState.closing_started_at.is_not(None))
        with self.store.transaction() as session:
            result = session.execute(query.values({column.key: now}))
            return bool(getattr(result, "rowcount", 0))

    def _ensure_leader(self) -> None:
        if not self.syncer.still_leader():
            raise CloseOffFailed("another process took over the spreadsheet lease")

    def _message(self, event: Event, summary: Summary, earlier_error: str | None) -> EmailMessage:
        done = event.local(summary.made_at)
        late = summary.made_at - event.closes_at > LATE_AFTER
        ended = read_window(self.store, event, self.clock()).closed_on
        until = "" if ended < event.registration_deadline else " (do końca dnia)"
        closed = f"Zapisy na „{event.title}” były przyjmowane do {date_text(ended)}{until}"
        intro = (
            f"{closed}{'' if closed.endswith('.') else '.'} Wszystkie zgłoszenia są w arkuszu, "
            "a zakładka podsumowania jest gotowa."
        )
        if late:
            intro += f" Zamknięcie dokończono z opóźnieniem: {datetime_pl(done)}" + (
                f" (wcześniej: {earlier_error})." if earlier_error else "."
            )
        sheet = self.sink.spreadsheet_url(event)
        where = (
            ("Arkusz zgłoszeń", sheet)
            if sheet is not None
            else ("Wydarzenie w panelu obsługi", staff_event_url(self.base_url, event.slug))
        )
        text = f"Dzień dobry,\n\n{intro}\n\n{where[0]}: {where[1]}\n\n{summary_text(summary)}\n"
        html = Markup('<p>Dzień dobry,</p><p>{}</p><p>{}: <a href="{}">{}</a></p>{}').format(
            intro, where[0], where[1], where[1], summary_html(summary)
        )
        subject = (
            f"Zapisy zamknięte: {event.short_title or event.title} – "
            f"{CONFIRMED_PEOPLE(summary.confirmed)}, "
            f"{PEOPLE(summary.waitlisted)} na liście rezerwowej"
        )
        return compose(
            sender=self.sender,
            to=[self.staff_email or str(event.contact.email)],
            subject=subject,
            text=text,
            html=document(subject, str(html)),
            reply_to=str(event.contact.email),
        )

    def _state(self, event: Event) -> EventState:
        with self.store.transaction() as session:
            state = session.get(EventState, event.slug)
            if state is None:
                state = EventState(slug=event.slug)
                session.add(state)
            return state

    def _mark(self, event: Event, **facts: object) -> None:
        with self.store.transaction() as session:
            state = session.get(EventState, event.slug, with_for_update=True)
            assert state is not None
            for name, value in facts.items():
                setattr(state, name, value)

    def _record_failure(self, event: Event, message: str) -> None:
        with self.store.transaction() as session:
            state = session.get(EventState, event.slug, with_for_update=True)
            assert state is not None
            is_new = state.close_off_error != message
            state.close_off_error = message
        if is_new:
            self.logger.error("close-off of %s failed, will retry: %s", event.slug, message)


def make_closeoff(svc: Services, logger: logging.Logger) -> CloseOff:
    """The close-off, syncing under the background worker's lease."""
    syncer = make_syncer(svc, logger, still_leader=svc.worker.renew_lease)
    return CloseOff(
        svc.store,
        svc.sink,
        syncer,
        svc.clock,
        logger,
        sender=svc.settings.mail_from,
        staff_email=svc.settings.staff_email,
        window=timedelta(days=svc.settings.close_off_window_days),
        base_url=svc.settings.public_base_url,
    )
