"""The one path of a submission, shared by the HTML form and the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from config.events import Event, RegistrationState
from forms.errors import polish_errors
from forms.operations import Outcome, register
from forms.schema import RegistrationIn
from store import Store


class Invalid(Exception):
    """The submission has mistakes; `errors` maps each field to a Polish message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class RegistrationClosed(Exception):
    """The event does not take registrations at this moment."""

    def __init__(self, state: RegistrationState) -> None:
        super().__init__(state.value)
        self.state = state


def submit(
    store: Store, event: Event, payload: dict[str, Any], *, source: str, now: datetime
) -> Outcome:
    """Check the moment, validate every field, then commit: the answer follows the commit."""
    state = event.registration_state(now)
    if state is not RegistrationState.OPEN:
        raise RegistrationClosed(state)
    try:
        data = RegistrationIn.model_validate(
            payload, context={"event": event, "today": event.local(now).date()}
        )
    except ValidationError as exc:
        raise Invalid(polish_errors(exc)) from None
    return register(store, event, data, source=source, now=now)
