"""The JSON API: the same submission path as the form, answered in JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, HTTPException

from config.services import services
from forms.formatting import date_pl
from forms.views import ERROR_PAGES, REFUSALS, STORE_UNAVAILABLE
from registrations.intake import Invalid, RegistrationClosed, StoreUnavailable, submit
from registrations.operations import RegistrationRefused
from registrations.window import RegistrationState, read_window

bp = Blueprint("api", __name__, url_prefix="/api")

STATUS_MESSAGES = {
    "confirmed": "Zgłoszenie przyjęte – miejsce potwierdzone.",
    "waitlisted": "Brak wolnych miejsc – zgłoszenie trafiło na listę rezerwową.",
}


@bp.get("/events")
def list_events() -> ResponseReturnValue:
    svc = services()
    now = svc.now()
    return jsonify(
        [
            {
                "slug": event.slug,
                "title": event.title,
                "starts_on": event.starts_on.isoformat(),
                "ends_on": event.ends_on.isoformat(),
                "registration_deadline": event.registration_deadline.isoformat(),
                "registration": read_window(svc.store, event, now).state.value,
                "url": url_for("api.create_registration", slug=event.slug),
            }
            for event in svc.events.values()
        ]
    )


@bp.post("/events/<slug>/registrations")
def create_registration(slug: str) -> ResponseReturnValue:
    svc = services()
    event = svc.event(slug)
    if not request.is_json:
        return _error(415, "unsupported_media_type", "Wyślij zgłoszenie jako JSON.")
    try:
        payload: Any = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        return _error(400, "invalid_json", "Treść żądania nie jest poprawnym JSON-em.")
    if not isinstance(payload, dict):
        return jsonify(errors={"__all__": "Zgłoszenie musi być obiektem JSON."}), 422
    try:
        registration = submit(svc.store, event, payload, source="api", now=svc.now())
    except RegistrationClosed as closed:
        if closed.state is RegistrationState.NOT_YET_OPEN:
            message = "Rejestracja na to wydarzenie jeszcze się nie rozpoczęła."
        else:
            closed_on = read_window(svc.store, event, svc.now()).closed_on
            message = (
                f"Rejestracja zakończyła się {date_pl(closed_on)} r. "
                f"Informacji udziela {event.contact.name}, tel. {event.contact.phone}."
            )
        return _error(
            403,
            "registration_closed",
            message,
            state=closed.state.value,
            contact=event.contact.model_dump(mode="json"),
        )
    except Invalid as invalid:
        return jsonify(errors=invalid.errors), 422
    except RegistrationRefused as refused:
        return _error(409, refused.code, REFUSALS[type(refused)])
    except StoreUnavailable:
        current_app.logger.exception("registration for %s not stored", event.slug)
        return _error(503, "unavailable", STORE_UNAVAILABLE)
    svc.worker.wake()
    body = {
        "id": registration.id,
        "status": registration.status,
        "message": STATUS_MESSAGES[registration.status],
        "event": event.slug,
        "received_at": registration.received_at.isoformat(),
    }
    return jsonify(body), 201


def _error(status: int, code: str, message: str, **extra: Any) -> ResponseReturnValue:
    return jsonify(error=code, message=message, **extra), status


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error under /api in JSON (404, 405, 413 … raised by Flask itself too)."""
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return _error(status, code, ERROR_PAGES.get(status, ERROR_PAGES[500]))
