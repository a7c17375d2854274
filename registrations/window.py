"""The one owner of an event's registration window: not yet open, open, closed.

Registration closes at the deadline, or earlier once staff began a forced close-off (the event's
state row says when). Changes to a registration are allowed while registration is open;
cancellation until the event starts (00:00 of `starts_on` in the event's time zone).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from registrations.event import Event
from registrations.models import EventState


class RegistrationState(StrEnum):
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    """What an event allows at `now`, given when (if ever) a close-off began."""

    event: Event
    now: datetime
    closing_started_at: datetime | None = None

    @property
    def state(self) -> RegistrationState:
        opens_at = self.event.registration_opens_at
        if self.closing_started_at is not None or self.now >= self.event.closes_at:
            return RegistrationState.CLOSED
        if opens_at is not None and self.now < opens_at:
            return RegistrationState.NOT_YET_OPEN
        return RegistrationState.OPEN

    @property
    def is_open(self) -> bool:
        return self.state is RegistrationState.OPEN

    @property
    def changes_allowed(self) -> bool:
        """A participant may correct their data while registration is open."""
        return self.is_open

    @property
    def cancellation_allowed(self) -> bool:
        """A participant may withdraw until the event starts."""
        return not self.event_started

    @property
    def event_started(self) -> bool:
        """From the first day on nobody is promoted and nobody cancels by link."""
        return self.now >= self.event.starts_at

    @property
    def closed_on(self) -> date:
        """The day registration closed: the deadline day, or the day staff closed it early."""
        started = self.closing_started_at
        if started is not None and started < self.event.closes_at:
            return self.event.local(started).date()
        return self.event.registration_deadline


def window(session: Session, event: Event, now: datetime) -> Window:
    """The event's window at `now`, reading whether staff began a close-off."""
    state = session.get(EventState, event.slug)
    return Window(event, now, state.closing_started_at if state is not None else None)


class Transactions(Protocol):
    """What the domain needs of the store: short transactions (`store.Store` provides it)."""

    def transaction(self) -> AbstractContextManager[Session]: ...

    def reading(self) -> AbstractContextManager[Session]: ...

    def commit_with(self, session: Session) -> AbstractContextManager[None]: ...


def read_window(store: Transactions, event: Event, now: datetime) -> Window:
    """`window()` in a transaction of its own, for pages and commands."""
    with store.reading() as session:
        return window(session, event, now)
