"""The JSON API: the same operations as the pages, answered in JSON.

`/api/registrations/<token>` is the private link's twin for clients: GET, PATCH (any subset of
the fields) and DELETE, under the pages' rules.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, HTTPException

from config.services import services
from forms import api_docs, openapi
from forms.api_models import (
    HTTP_ERRORS,
    ApiError,
    ChangeNotAllowedError,
    ChoiceOut,
    EventDetail,
    EventList,
    EventOut,
    InvalidJsonError,
    NotFoundError,
    QuestionOut,
    RefusedError,
    RegistrationClosedError,
    RegistrationCreated,
    RegistrationView,
    UnavailableError,
    UnsupportedMediaTypeError,
    ValidationErrors,
)
from forms.messages import (
    ERROR_PAGES,
    STORE_UNAVAILABLE,
    UNKNOWN_LINK,
    change_not_allowed,
    refusal,
    store_unavailable_message,
)
from privacy.own_data import own_data
from registrations.answers import questions_of, tallies
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import (
    ChangeNotAllowed,
    Invalid,
    NotFound,
    RegistrationClosed,
    RegistrationRefused,
    StoreUnavailable,
    payload_of,
)
from registrations.participation import open_offer_expiry
from registrations.polish import date_pl
from registrations.schema import RegistrationData
from registrations.status import Status
from registrations.window import RegistrationState

bp = Blueprint("api", __name__, url_prefix="/api")
bp.add_app_template_filter(api_docs.code_spans)
bp.add_app_template_filter(api_docs.schema_type)
bp.add_app_template_filter(api_docs.properties, "schema_properties")

STATUS_MESSAGES = {
    Status.CONFIRMED: "Miejsce jest potwierdzone.",
    Status.WAITLISTED: "Wszystkie miejsca są zajęte – zgłoszenie jest na liście rezerwowej.",
    Status.CANCELLED: "Zgłoszenie jest anulowane – rezygnacja z udziału.",
    Status.REJECTED: "Zgłoszenie zostało odrzucone przez organizatora.",
}


class _BadBody(Exception):
    def __init__(self, response: ResponseReturnValue) -> None:
        super().__init__()
        self.response = response


@bp.get("/events")
def list_events() -> ResponseReturnValue:
    svc = services()
    now = svc.now()
    return _answer(
        EventList(
            [
                EventOut(
                    slug=event.slug,
                    title=event.title,
                    starts_on=event.starts_on,
                    ends_on=event.ends_on,
                    registration_deadline=event.registration_deadline,
                    registration=svc.registrations.window(event, now).state,
                    url=url_for("api.create_registration", slug=event.slug),
                )
                for event in svc.events.values()
            ]
        )
    )


@bp.get("/events/<slug>")
def get_event(slug: str) -> ResponseReturnValue:
    """The event with its own questions and the free seats of each choice."""
    svc = services()
    event = svc.event(slug)
    now = svc.now()
    with svc.store.reading() as session:
        questions = questions_of(session, event.slug, visible=True)
        counted = tallies(session, event.slug, questions)
    return _answer(
        EventDetail(
            slug=event.slug,
            title=event.title,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            registration_deadline=event.registration_deadline,
            registration=svc.registrations.window(event, now).state,
            url=url_for("api.create_registration", slug=event.slug),
            questions=[
                QuestionOut(
                    key=q.key,
                    label=q.label,
                    kind=q.kind.value,
                    required=q.required,
                    help_text=q.help_text,
                    choices=[
                        ChoiceOut(
                            key=c.key,
                            label=c.label,
                            description=c.description,
                            seats=c.seats,
                            free_seats=counted[q.key].free(c) if q.key in counted else None,
                        )
                        for c in q.visible_choices
                    ],
                )
                for q in questions
            ],
        )
    )


@bp.post("/events/<slug>/registrations")
def create_registration(slug: str) -> ResponseReturnValue:
    svc = services()
    event = svc.event_to_register(slug)
    try:
        payload = _json_object()
    except _BadBody as bad:
        return bad.response
    try:
        registered = svc.registrations.register(event, payload, source="api", now=svc.now())
    except NotFound:  # unpublished or deleted a moment ago
        abort(404)
    except RegistrationClosed as closed:
        return _closed(event, closed.state)
    except Invalid as invalid:
        return _answer(ValidationErrors(errors=invalid.errors), 422)
    except RegistrationRefused as refused:
        return _error(RefusedError, refusal(event, refused), refused.code)
    except StoreUnavailable:
        current_app.logger.exception("registration for %s not stored", event.slug)
        return _error(UnavailableError, STORE_UNAVAILABLE)
    svc.wake_workers()
    registration = registered.registration
    status = Status(registration.status)
    response = _answer(
        RegistrationCreated(
            id=registration.id,
            status=status,
            message=STATUS_MESSAGES[status],
            event=event.slug,
            received_at=registration.received_at,
            waiting_position=registered.waiting_position,
            manage_url=svc.link_for(registration),
        ),
        201,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/registrations/<token>")
def get_registration(token: str) -> ResponseReturnValue:
    try:
        registration, event = _linked(token)
    except NotFound:
        return _error(NotFoundError, UNKNOWN_LINK)
    return _answer(_representation(event, registration))


@bp.get("/registrations/<token>/data")
def get_own_data(token: str) -> ResponseReturnValue:
    """Everything stored about the person (RODO art. 15/20)."""
    svc = services()
    try:
        registration, event = _linked(token)
    except NotFound:
        return _error(NotFoundError, UNKNOWN_LINK)
    response = _answer(own_data(svc.store, event, registration, svc.now()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.patch("/registrations/<token>")
def change_registration(token: str) -> ResponseReturnValue:
    svc = services()
    try:
        changes = _json_object()
        _, event = _linked(token)
        registration = svc.registrations.change(event, token, changes, now=svc.now())
    except _BadBody as bad:
        return bad.response
    except NotFound:
        return _error(NotFoundError, UNKNOWN_LINK)
    except ChangeNotAllowed as refused:
        return _error(ChangeNotAllowedError, change_not_allowed(event, refused.reason))
    except Invalid as invalid:
        return _answer(ValidationErrors(errors=invalid.errors), 422)
    except RegistrationRefused as refused:
        return _error(RefusedError, refusal(event, refused), refused.code)
    except StoreUnavailable:
        current_app.logger.exception("change of a registration not stored")
        return _error(UnavailableError, STORE_UNAVAILABLE)
    svc.wake_workers()
    return _answer(_representation(event, registration))


@bp.delete("/registrations/<token>")
def cancel_registration(token: str) -> ResponseReturnValue:
    svc = services()
    try:
        _, event = _linked(token)
        registration = svc.registrations.cancel(event, token, now=svc.now())
    except NotFound:
        return _error(NotFoundError, UNKNOWN_LINK)
    except ChangeNotAllowed as refused:
        return _error(ChangeNotAllowedError, change_not_allowed(event, refused.reason))
    except StoreUnavailable:
        current_app.logger.exception("cancellation of a registration not stored")
        return _error(UnavailableError, STORE_UNAVAILABLE)
    svc.wake_workers()
    return _answer(_representation(event, registration))


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The API's contract, generated from the models it answers with (`forms/openapi.py`)."""
    return jsonify(openapi.document())


@bp.get("/docs")
def api_docs_page() -> ResponseReturnValue:
    """The contract to read: rendered here, so it needs no script and no CDN."""
    return render_template("api_docs.html", doc=openapi.document())


def _representation(event: Event, registration: Registration) -> RegistrationView:
    svc = services()
    status = Status(registration.status)
    window = svc.registrations.window(event, svc.now())
    return RegistrationView(
        id=registration.id,
        event=event.slug,
        status=status,
        status_label=status.label,
        message=STATUS_MESSAGES[status],
        waiting_position=svc.registrations.waiting_position(registration),
        received_at=registration.received_at,
        can_change=status.active and window.changes_allowed,
        can_cancel=status.active and window.cancellation_allowed,
        offer_expires_at=open_offer_expiry(registration),
        data=RegistrationData.model_validate(
            {**payload_of(registration), "answers": svc.registrations.answers(registration)}
        ),
        manage_url=svc.link_for(registration),
    )


def _linked(token: str) -> tuple[Registration, Event]:
    """The registration a private link names, and its event; NotFound for either missing."""
    registration = services().registrations.by_token(token)
    event = services().events.get(registration.event_slug)
    if event is None:  # its event file was removed
        raise NotFound()
    return registration, event


def _json_object() -> dict[str, Any]:
    """The request's JSON object, or a ready 415/400/422 answer."""
    if not request.is_json:
        raise _BadBody(_error(UnsupportedMediaTypeError, "Zgłoszenie należy wysłać jako JSON."))
    try:
        payload: Any = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        raise _BadBody(
            _error(InvalidJsonError, "Treść żądania nie jest poprawnym JSON-em.")
        ) from None
    if not isinstance(payload, dict):
        raise _BadBody(
            _answer(ValidationErrors(errors={"__all__": "Zgłoszenie musi być obiektem JSON."}), 422)
        )
    return payload


def _closed(event: Event, state: RegistrationState) -> ResponseReturnValue:
    svc = services()
    if state is RegistrationState.NOT_YET_OPEN:
        message = "Rejestracja na to wydarzenie jeszcze się nie rozpoczęła."
    else:
        closed_on = svc.registrations.window(event, svc.now()).closed_on
        message = (
            f"Rejestracja zakończyła się {date_pl(closed_on)} r. "
            f"Informacji udziela {event.contact.name}, tel. {event.contact.phone}."
        )
    return _answer(
        RegistrationClosedError(
            error="registration_closed", message=message, state=state, contact=event.contact
        ),
        403,
    )


def _error(model: type[ApiError], message: str, code: str | None = None) -> Response:
    """The error answer of `model`'s status; `code` when the model allows several."""
    fields = {"message": message} if code is None else {"message": message, "error": code}
    return _answer(model.model_validate(fields), model.status)


def _answer(body: BaseModel, status: int = 200) -> Response:
    """A JSON answer built from its model in `forms.api_models`, as the OpenAPI document says."""
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status
    return response


def store_unavailable() -> ResponseReturnValue:
    """The database is away: a read could not read; a write stored nothing. Try again."""
    return _error(UnavailableError, store_unavailable_message(request.method))


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error under /api in JSON (404, 405, 413 … raised by Flask itself too)."""
    status = exc.code or 500
    message = ERROR_PAGES.get(status, ERROR_PAGES[500])
    if status in HTTP_ERRORS:  # documented: built through its model, so it cannot drift
        model, code = HTTP_ERRORS[status]
        response = _error(model, message, code)
    else:  # 403/500 that no route documents
        code = (exc.name or "error").lower().replace(" ", "_")
        response = _answer(ApiError(error=code, message=message), status)
    for name, value in exc.get_headers():  # `Allow` of a 405, `Retry-After` of a 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
