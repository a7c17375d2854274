"""The one path of a submission, shared by the HTML form and the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from registrations.errors import polish_errors
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import ClosedOff, register
from registrations.schema import RegistrationIn
from registrations.window import RegistrationState, Transactions, read_window


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


def submit(
    store: Transactions, event: Event, payload: dict[str, Any], *, source: str, now: datetime
) -> Registration:
    """Check the moment, validate every field, then commit: the answer follows the commit."""
    try:
        state = read_window(store, event, now).state
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
