"""The JSON API's answers as pydantic models: the API builds its bodies through them and the
OpenAPI document (`forms/openapi.py`) is generated from them, so the two cannot drift apart."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from registrations.event import Contact
from registrations.schema import RegistrationData
from registrations.status import Status
from registrations.window import RegistrationState


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventOut(_Answer):
    """An event and whether it takes registrations now."""

    slug: str
    title: str
    starts_on: date
    ends_on: date
    registration_deadline: date = Field(description="The last day (in the event's time zone).")
    registration: RegistrationState
    url: str = Field(description="Where to POST a registration for it.")


class EventList(RootModel[list[EventOut]]):
    """Every event of the service."""


class ChoiceOut(_Answer):
    """One answer of a `wybor`/`wiele` question."""

    key: str = Field(description="What `answers` names it by.")
    label: str
    description: str | None
    seats: int | None = Field(description="The seat limit; null: none.")
    free_seats: int | None = Field(
        description="Seats left (confirmed and waitlisted registrations count); null: no limit. "
        "A choice with 0 is refused."
    )


class QuestionOut(_Answer):
    """One of the event's own questions, as `answers` answers it."""

    key: str
    label: str
    kind: Literal["tekst", "tekst_dlugi", "tak_nie", "wybor", "wiele", "data"]
    required: bool
    help_text: str | None
    choices: list[ChoiceOut] = Field(description="For `wybor` and `wiele`; else empty.")


class EventDetail(EventOut):
    """An event with its own questions (the hidden ones left out)."""

    questions: list[QuestionOut]


class RegistrationCreated(_Answer):
    """A registration just stored: its ID, status and private link."""

    id: str
    status: Status
    message: str = Field(description="The status in Polish.")
    event: str
    received_at: datetime
    waiting_position: int | None = Field(description="Place on the waiting list, if waitlisted.")
    manage_url: str = Field(description="The private link (page) to see, change or cancel it.")


class RegistrationView(_Answer):
    """A registration as its private link shows it."""

    id: str
    event: str
    status: Status
    status_label: str = Field(description="The status in Polish, as staff see it in the sheet.")
    message: str
    waiting_position: int | None
    received_at: datetime
    can_change: bool = Field(description="Whether PATCH is allowed now.")
    can_cancel: bool = Field(description="Whether DELETE is allowed now.")
    offer_expires_at: datetime | None = Field(
        description="A seat offered from the waiting list: until when it can be taken (UTC, "
        "`Z`), on the page `…/udzial?odpowiedz=tak`; null without an open offer.",
    )
    data: RegistrationData
    manage_url: str


class ApiError(_Answer):
    """A refusal or failure: a code to act on and a Polish message to show.

    Each status has its subclass below, whose `error` lists exactly the codes the API answers
    with it: the API builds its errors through them, so the document cannot promise another.
    """

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)
    status: ClassVar[int]

    error: str = Field(description="A stable code, e.g. `not_found`, `already_registered`.")
    message: str = Field(description="What happened and what to do, in Polish.")


class InvalidJsonError(ApiError):
    """The body is not JSON (`bad_request`: a request Werkzeug itself could not read)."""

    status = 400
    error: Literal["invalid_json", "bad_request"] = "invalid_json"


class ChangeNotAllowedError(ApiError):
    """Not allowed now: data change only while registration is open, cancellation until the
    event starts."""

    status = 403
    error: Literal["change_not_allowed"] = "change_not_allowed"


class NotFoundError(ApiError):
    """No such event, or no registration for this token."""

    status = 404
    error: Literal["not_found"] = "not_found"


class MethodNotAllowedError(ApiError):
    status = 405
    error: Literal["method_not_allowed"] = "method_not_allowed"


class RefusedError(ApiError):
    """A valid submission the event's rules refuse (`RegistrationRefused.code`)."""

    status = 409
    error: Literal[
        "already_registered",
        "email_limit_reached",
        "enterprise_limit_reached",
        "registration_closed",
    ]


class TooLargeError(ApiError):
    status = 413
    error: Literal["request_entity_too_large"] = "request_entity_too_large"


class UnsupportedMediaTypeError(ApiError):
    status = 415
    error: Literal["unsupported_media_type"] = "unsupported_media_type"


class TooManyRequestsError(ApiError):
    status = 429
    error: Literal["too_many_requests"] = "too_many_requests"


class UnavailableError(ApiError):
    """The store is briefly away: nothing was stored, try again."""

    status = 503
    error: Literal["unavailable"] = "unavailable"


# What an HTTP error raised anywhere under /api (by Flask, Werkzeug or Flask-Limiter) answers.
HTTP_ERRORS: dict[int, tuple[type[ApiError], str]] = {
    400: (InvalidJsonError, "bad_request"),
    404: (NotFoundError, "not_found"),
    405: (MethodNotAllowedError, "method_not_allowed"),
    413: (TooLargeError, "request_entity_too_large"),
    415: (UnsupportedMediaTypeError, "unsupported_media_type"),
    429: (TooManyRequestsError, "too_many_requests"),
    503: (UnavailableError, "unavailable"),
}


class RegistrationClosedError(_Answer):
    """Registration is not open: when, and whom to ask."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)
    error: Literal["registration_closed"] = "registration_closed"
    message: str
    state: RegistrationState
    contact: Contact


class ValidationErrors(_Answer):
    """Every field with a mistake and its Polish message (`__all__`: the body as a whole)."""

    errors: dict[str, str]
