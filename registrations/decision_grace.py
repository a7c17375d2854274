"""Staff decisions with time to take them back (`DECISION_GRACE_MINUTES`).

A slip in the sheet's drop-down must not reject someone within 30 seconds. A decision typed in
the sheet is carried out by the first sheet read at least the grace time after the read that
first saw it, and only if that read still shows the same value; a page decision is carried out
by the worker once its time has come, unless `Cofnij` withdrew it. The wait is stored
(`PendingDecision`), so a restart neither restarts nor skips it; a Google that does not answer
only delays it. A grace of 0 carries every decision out at once, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from registrations.decisions import Decision
from registrations.event import Event
from registrations.history import SHEET
from registrations.models import PendingDecision, Registration
from registrations.operations import NotFound, Registrations
from registrations.validators import printable
from registrations.window import Transactions

SHEET_SOURCE = "sheet"
PAGE_SOURCE = "page"
REASON_MAX = 500


def clean_reason(text: str) -> str | None:
    """A decision's reason as plain text: no control characters, trimmed, at most 500
    characters; None when empty."""
    value = " ".join(printable(text, "\n").split(" ")).strip()
    return value[:REASON_MAX].rstrip() or None


def due_note(event: Event, due_at: datetime) -> str:
    """What `Uwagi systemu` says while a decision waits."""
    return f"Decyzja zostanie wykonana o {event.local(due_at):%H:%M}"


def _handled(session: Session, pending: PendingDecision) -> None:
    """The decision cell's value counts as handled: the sheet's next read leaves it alone."""
    query = select(Registration).where(Registration.id == pending.registration_id)
    registration = session.scalar(query)
    if registration is not None:
        registration.staff_decision = pending.decision
        registration.staff_decision_skipped = None


class DecisionGrace:
    """The waiting decisions of the store, with the grace time in force."""

    def __init__(self, store: Transactions, grace: timedelta) -> None:
        self.store = store
        self.grace = grace

    @property
    def active(self) -> bool:
        return self.grace > timedelta(0)

    def of_event(self, event: Event) -> dict[str, PendingDecision]:
        with self.store.reading() as session:
            query = select(PendingDecision).where(PendingDecision.event_slug == event.slug)
            return {p.registration_id: p for p in session.scalars(query)}

    def of_registration(self, registration_id: str) -> PendingDecision | None:
        with self.store.reading() as session:
            return session.get(PendingDecision, registration_id)

    def hold(
        self,
        event: Event,
        registration_id: str,
        decision: Decision,
        *,
        seen_at: datetime,
        source: str,
        actor: str = SHEET,
        reason: str | None = None,
        typed_after: datetime | None = None,
    ) -> PendingDecision:
        """Start the wait (a decision seen for the first time, or a different value: the wait
        starts again); the same value already waiting keeps its time."""
        with self.store.transaction() as session:
            pending = session.get(PendingDecision, registration_id, with_for_update=True)
            if pending is not None and pending.source == SHEET_SOURCE and source == PAGE_SOURCE:
                _handled(session, pending)  # the cell's value is not carried out later
            if pending is not None and pending.decision == decision.value:
                if source == PAGE_SOURCE:  # staff gave it again on the page: their reason
                    pending.reason, pending.actor, pending.source = reason, actor, source
                session.flush()
                session.expunge(pending)
                return pending
            if pending is not None:
                session.delete(pending)
                session.flush()
            pending = PendingDecision(
                registration_id=registration_id,
                event_slug=event.slug,
                decision=decision.value,
                source=source,
                first_seen_at=seen_at,
                due_at=seen_at + self.grace,
                typed_after=typed_after,
                actor=actor,
                reason=reason,
            )
            session.add(pending)
            session.flush()
            session.expunge(pending)
            return pending

    def drop(self, registration_ids: Iterable[str], *, source: str | None = None) -> int:
        """End the waits of these registrations (a cleared cell, `Cofnij`); how many ended."""
        ids = list(registration_ids)
        if not ids:
            return 0
        with self.store.transaction() as session:
            query = select(PendingDecision).where(PendingDecision.registration_id.in_(ids))
            if source is not None:
                query = query.where(PendingDecision.source == source)
            found = list(session.scalars(query))
            for pending in found:
                session.delete(pending)
            return len(found)

    def withdraw(self, registration_id: str) -> PendingDecision | None:
        """`Cofnij`: the waiting decision ends without being carried out; None when none waits
        (carried out, or withdrawn before). A sheet decision's cell then counts as handled, so
        the next read does not start it again."""
        with self.store.transaction() as session:
            pending = session.get(PendingDecision, registration_id, with_for_update=True)
            if pending is None:
                return None
            if pending.source == SHEET_SOURCE:
                _handled(session, pending)
            session.delete(pending)
            session.flush()
            session.expunge(pending)
            return pending

    def due(self, event: Event, now: datetime, *, source: str) -> list[PendingDecision]:
        """The event's waiting decisions of `source` whose time has come."""
        with self.store.reading() as session:
            query = select(PendingDecision).where(
                PendingDecision.event_slug == event.slug,
                PendingDecision.source == source,
                PendingDecision.due_at <= now,
            )
            return list(session.scalars(query.order_by(PendingDecision.due_at)))

    def carry_out_due(
        self, registrations: Registrations, events: Iterable[Event], now: datetime
    ) -> int:
        """The worker's job: page decisions whose time has come, carried out (the sheet's are
        carried out by the sheet read, which must still show them); how many changed a status."""
        done = 0
        for event in events:
            for pending in self.due(event, now, source=PAGE_SOURCE):
                try:
                    outcome = registrations.decide(
                        event,
                        pending.registration_id,
                        Decision(pending.decision),
                        now=now,
                        actor=pending.actor,
                        reason=pending.reason,
                        pending_since=pending.first_seen_at,
                        from_page=True,
                    )
                except NotFound:  # erased meanwhile
                    self.drop([pending.registration_id])
                    continue
                done += outcome.applied
        return done
