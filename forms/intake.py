"""The one path of a submission, shared by the HTML form and the JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from config.events import Event, RegistrationState
from forms.errors import polish_errors
from forms.operations import ClosedOff, register
from forms.schema import RegistrationIn
from store import EventState, Registration, Store


class Invalid(Exception):
    """The submission has mistakes; `errors` maps each field to a Polish message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class StoreUnavailable(Exception):
    """The database could not take the registration; nothing was stored, try again."""


class RegistrationClosed(Exception):
    """The event does not take registrations at this moment."""

    def __init__(self, state: RegistrationState) -> None:
        super().__init__(state.value)
        self.state = state


def current_state(store: Store, event: Event, now: datetime) -> RegistrationState:
    """What the clock says, unless staff have already closed the event off early."""
    state = event.registration_state(now)
    if state is RegistrationState.OPEN:
        with store.transaction() as session:
            row = session.get(EventState, event.slug)
            if row is not None and row.closing_started_at is not None:
                return RegistrationState.CLOSED
    return state


def closed_on(store: Store, event: Event) -> date:
    """The day registration closed: the deadline day, or the day staff closed it early."""
    with store.transaction() as session:
        row = session.get(EventState, event.slug)
        started = row.closing_started_at if row is not None else None
    if started is not None and started < event.closes_at:
        return event.local(started).date()
    return event.registration_deadline


def submit(
    store: Store, event: Event, payload: dict[str, Any], *, source: str, now: datetime
) -> Registration:
    """Check the moment, validate every field, then commit: the answer follows the commit."""
    try:
        state = current_state(store, event, now)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc)) from None
    if state is not RegistrationState.OPEN:
        raise RegistrationClosed(state)
    try:
        data = RegistrationIn.model_validate(
            payload, context={"event": event, "today": event.local(now).date()}
        )
    except ValidationError as exc:
        raise Invalid(polish_errors(exc)) from None
    try:
        return register(store, event, data, source=source, now=now)
    except ClosedOff:
        raise RegistrationClosed(RegistrationState.CLOSED) from None
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc)) from None  # statement only: parameters are hidden
