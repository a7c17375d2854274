"""The OpenAPI 3.1 document of the JSON API, generated from the pydantic models the API uses.

Request bodies come from `registrations.schema.RegistrationIn` (the model every submission is
validated with), answers from `forms.api_models` (the models the API builds its bodies with):
nothing here restates a field. What is written here is what a model cannot say: the paths,
which answers each operation gives, and what they mean.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from forms.api_models import (
    ApiError,
    ChangeNotAllowedError,
    EventDetail,
    EventList,
    InvalidJsonError,
    NotFoundError,
    RefusedError,
    RegistrationClosedError,
    RegistrationCreated,
    RegistrationView,
    TooLargeError,
    TooManyRequestsError,
    UnavailableError,
    UnsupportedMediaTypeError,
    ValidationErrors,
)
from privacy.own_data import OwnData
from registrations.schema import RegistrationIn

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
JSON = "application/json"
PARTIAL_CHANGE = "RegistrationChange"

_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (RegistrationIn, "validation"),
    (EventList, "serialization"),
    (EventDetail, "serialization"),
    (RegistrationCreated, "serialization"),
    (RegistrationView, "serialization"),
    (OwnData, "serialization"),
    (InvalidJsonError, "serialization"),
    (ChangeNotAllowedError, "serialization"),
    (NotFoundError, "serialization"),
    (RefusedError, "serialization"),
    (TooLargeError, "serialization"),
    (UnsupportedMediaTypeError, "serialization"),
    (TooManyRequestsError, "serialization"),
    (UnavailableError, "serialization"),
    (RegistrationClosedError, "serialization"),
    (ValidationErrors, "serialization"),
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _json(description: str, schema: dict[str, Any], **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _error(model: type[ApiError], description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    """The answer of `model`'s status: its schema lists exactly the codes the API gives."""
    return _json(description, _ref(model.__name__), **headers)


NO_STORE = {
    "description": "`no-store`: the answer carries a private link.",
    "required": True,
    "schema": {"type": "string", "const": "no-store"},
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}

# Answers any operation may give.
COMMON = {
    "429": _error(
        TooManyRequestsError,
        "Too many requests from this address (`too_many_requests`): wait `Retry-After` seconds.",
        **{"Retry-After": RETRY_AFTER},
    ),
    "503": _error(
        UnavailableError, "The store is briefly unavailable (`unavailable`): nothing was stored."
    ),
}
BODY_ERRORS = {
    "400": _error(InvalidJsonError, "The body is not valid JSON (`invalid_json`)."),
    "413": _error(
        TooLargeError, "The body is larger than `MAX_BODY_BYTES` (`request_entity_too_large`)."
    ),
    "415": _error(
        UnsupportedMediaTypeError, "The body is not `application/json` (`unsupported_media_type`)."
    ),
    "422": _json(
        "Mistakes in the data: each field with its Polish message (`__all__` when the body "
        "is not a JSON object). An event offering a night (its `accommodation_label`) needs "
        "`accommodation` (`true` or `false`): a registration without it answers "
        '`{"errors": {"accommodation": "…"}}`; a change (PATCH) without it keeps the stored '
        "answer.",
        _ref("ValidationErrors"),
    ),
}
REFUSED = _error(
    RefusedError,
    "Refused (`already_registered`: this name at this address; `email_limit_reached`: the "
    "address holds the event's `max_per_email` registrations; `enterprise_limit_reached`, or "
    "`registration_closed` after a forced close-off).",
)
UNKNOWN_EVENT = _error(NotFoundError, "No such event (`not_found`).")
UNKNOWN_LINK = _error(
    NotFoundError, "No registration for this token (`not_found`): a wrong token answers so."
)
CHANGE_NOT_ALLOWED = _error(
    ChangeNotAllowedError,
    "Not allowed now (`change_not_allowed`): data change only while registration is open, "
    "cancellation until the event starts.",
)
EXAMPLE_EVENT = "przyklad-otwarte"  # the example event shipped in config/events
EXAMPLES = {
    "RegistrationIn": {
        "first_name": "Anna",
        "last_name": "Nowak",
        "enterprise_name": "Spółdzielnia Socjalna My",
        "powiat": "Powiat Żarski",
        "email": "anna@example.pl",
        "phone": "533 316 283",
        "pesel": "02270803624",
        "accommodation": True,
        "diet": "vegan",
        "consent_personal_data": True,
    },
    PARTIAL_CHANGE: {"diet": "other", "diet_other": "bez laktozy", "accommodation": False},
}
SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The event (its file name in `config/events/`).",
    "schema": {"type": "string"},
    "example": EXAMPLE_EVENT,
}
TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "The private link's token (the last part of `manage_url`).",
    "schema": {"type": "string"},
}


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: Iterable[dict[str, Any]] = (),
    body: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        content = {"schema": _ref(body), "example": EXAMPLES[body]}
        operation["requestBody"] = {"required": True, "content": {JSON: content}}
        responses = {**responses, **BODY_ERRORS}
    operation["responses"] = dict(sorted({**responses, **COMMON}.items()))
    return operation


PATHS: dict[str, dict[str, Any]] = {
    "/api/events": {
        "get": _operation(
            "list_events",
            "Events and whether each takes registrations now.",
            {"200": _json("The events.", _ref("EventList"))},
        )
    },
    "/api/events/{slug}": {
        "get": _operation(
            "get_event",
            "The event with its own questions and each choice's free seats.",
            {"200": _json("The event.", _ref("EventDetail")), "404": UNKNOWN_EVENT},
            parameters=[SLUG],
        )
    },
    "/api/events/{slug}/registrations": {
        "post": _operation(
            "create_registration",
            "Register for an event.",
            {
                "201": _json(
                    "Stored: confirmed, or waitlisted when the seats are taken.",
                    _ref("RegistrationCreated"),
                    **{"Cache-Control": NO_STORE},
                ),
                "403": _json(
                    "Registration is not open (`registration_closed`).",
                    _ref("RegistrationClosedError"),
                ),
                "404": UNKNOWN_EVENT,
                "409": REFUSED,
            },
            parameters=[SLUG],
            body="RegistrationIn",
        )
    },
    "/api/registrations/{token}": {
        "get": _operation(
            "get_registration",
            "The registration its private link shows.",
            {"200": _json("The registration.", _ref("RegistrationView")), "404": UNKNOWN_LINK},
            parameters=[TOKEN],
        ),
        "patch": _operation(
            "change_registration",
            "Change any subset of the fields (the e-mail address stays).",
            {
                "200": _json("The registration, changed.", _ref("RegistrationView")),
                "403": CHANGE_NOT_ALLOWED,
                "404": UNKNOWN_LINK,
                "409": REFUSED,
            },
            parameters=[TOKEN],
            body=PARTIAL_CHANGE,
        ),
        "delete": _operation(
            "cancel_registration",
            "Cancel the registration (again: no change); a freed seat goes to the waiting list.",
            {
                "200": _json("The registration, cancelled.", _ref("RegistrationView")),
                "403": CHANGE_NOT_ALLOWED,
                "404": UNKNOWN_LINK,
            },
            parameters=[TOKEN],
        ),
    },
    "/api/registrations/{token}/data": {
        "get": _operation(
            "get_registration_data",
            "Everything stored about the person, as JSON (RODO art. 15/20).",
            {"200": _json("The person's data.", _ref("OwnData")), "404": UNKNOWN_LINK},
            parameters=[TOKEN],
        )
    },
    "/api/openapi.json": {
        "get": _operation(
            "openapi_document",
            "This document.",
            {"200": _json("The OpenAPI 3.1 document.", {"type": "object"})},
        )
    },
    "/api/docs": {
        "get": _operation(
            "api_docs",
            "This document as a page to read.",
            {
                "200": {
                    "description": "An HTML page.",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        )
    },
}


def _schemas() -> dict[str, Any]:
    _, definitions = models_json_schema(_MODELS, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = definitions["$defs"]
    change = copy.deepcopy(schemas["RegistrationIn"])
    change.pop("required", None)
    change.pop("anyOf", None)  # a change may leave both as they are stored …
    # … but cannot clear both at once: the registration would have neither.
    change["not"] = {
        "required": ["pesel", "birth_date"],
        "properties": {"pesel": {"type": "null"}, "birth_date": {"type": "null"}},
    }
    change["title"] = PARTIAL_CHANGE
    change["description"] = (
        "Any subset of `RegistrationIn`'s fields, laid over the stored data and validated "
        "as a whole; `email` cannot be changed by the link. The result must keep `pesel` or "
        "`birth_date`: clearing the one that is stored needs the other in the same change."
    )
    schemas[PARTIAL_CHANGE] = change
    return dict(sorted(schemas.items()))


def document() -> dict[str, Any]:
    """The whole document, built from the models (a copy: callers may change theirs)."""
    return copy.deepcopy(_built())


@cache  # it depends on code only, and building it takes ~30 ms
def _built() -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "OWES Zielona Góra – rejestracja na wydarzenia (JSON API)",
            "version": "1",
            "description": (
                "Registrations for OWES Zielona Góra events: the same rules as the form. "
                'Every error answers `{"error": code, "message": Polish text}`, except 422, '
                "which lists each field's mistake in `errors`."
            ),
        },
        "paths": PATHS,
        "components": {"schemas": _schemas()},
    }


def openapi_path(flask_rule: str) -> str:
    """`/api/registrations/<token>` as OpenAPI writes it: `/api/registrations/{token}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", flask_rule)
