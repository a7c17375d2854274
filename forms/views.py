"""The pages a participant sees: the events, the form, the confirmation."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError as CsrfError

from config.services import services
from registrations.allocation import seats_left
from registrations.errors import GENERAL
from registrations.event import Event
from registrations.intake import Invalid, RegistrationClosed, StoreUnavailable, submit
from registrations.models import Registration
from registrations.operations import (
    AlreadyRegistered,
    EnterpriseLimitReached,
    RegistrationRefused,
)
from registrations.powiaty import POWIATY, describe_area
from registrations.schema import DIET_LABELS
from registrations.window import RegistrationState, read_window

HONEYPOT = "website"
HONEYPOT_FILLED = "Pozostaw puste pole „Strona WWW”."
EXPIRED_FORM = "Formularz wygasł lub został otwarty w innej karcie. Sprawdź dane i wyślij ponownie."
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "enterprise_name",
    "powiat",
    "role",
    "email",
    "phone",
    "pesel",
    "birth_date",
    "diet",
    "diet_other",
    "special_needs",
)
CHECKBOXES = ("consent_personal_data", "consent_image")
# In the form's order, so the error summary reads top to bottom (general problems first).
FIELD_LABELS = {
    "first_name": "Imię",
    "last_name": "Nazwisko",
    "email": "Adres e-mail",
    "phone": "Telefon",
    "enterprise_name": "Nazwa przedsiębiorstwa",
    "powiat": "Powiat",
    "role": "Funkcja",
    "pesel": "PESEL",
    "birth_date": "Data urodzenia",
    "accommodation": "Nocleg",
    "diet": "Dieta",
    "diet_other": "Uwagi do diety",
    "special_needs": "Szczególne potrzeby",
    "consent_personal_data": "Zgoda na przetwarzanie danych",
    "consent_image": "Zgoda na wizerunek",
}
REFUSALS: dict[type[RegistrationRefused], str] = {
    AlreadyRegistered: "Ten adres e-mail jest już zgłoszony na to wydarzenie. "
    "Jeśli chcesz coś zmienić, skontaktuj się z organizatorem.",
    EnterpriseLimitReached: "Z tego przedsiębiorstwa zgłosiła się już maksymalna liczba osób.",
}


def form_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's strings as the JSON API would send them: checkboxes and yes/no as booleans."""
    payload: dict[str, Any] = {name: form.get(name, "") for name in TEXT_FIELDS}
    payload.update({name: form.get(name) == "tak" for name in CHECKBOXES})
    payload["accommodation"] = form.get("accommodation") == "tak"
    return payload


def index() -> ResponseReturnValue:
    svc = services()
    now = svc.now()
    events = []
    for event in svc.events.values():
        window = read_window(svc.store, event, now)
        ended = window.closed_on if window.state is RegistrationState.CLOSED else None
        events.append((event, window.state, ended))
    return render_template("index.html", events=events, States=RegistrationState)


def registration_form(slug: str) -> ResponseReturnValue:
    svc = services()
    event = svc.event(slug)
    state = read_window(svc.store, event, svc.now()).state
    if state is not RegistrationState.OPEN:
        return _closed(event, state)
    if request.method == "GET":
        return _form(event, values={"diet": "standard", "accommodation": "nie"})
    values = request.form.to_dict()
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CsrfError:
        return _form(event, values, errors={GENERAL: EXPIRED_FORM}, status=400)
    if request.form.get(HONEYPOT):
        return _form(event, values, errors={GENERAL: HONEYPOT_FILLED}, status=400)
    try:
        registration = submit(
            svc.store, event, form_payload(request.form), source="form", now=svc.now()
        )
    except RegistrationClosed as closed:
        return _closed(event, closed.state)
    except Invalid as invalid:
        return _form(event, values, errors=invalid.errors, status=422)
    except RegistrationRefused as refused:
        return _form(event, values, errors={GENERAL: REFUSALS[type(refused)]}, status=409)
    except StoreUnavailable:
        current_app.logger.exception("registration for %s not stored", event.slug)
        return _form(event, values, errors={GENERAL: STORE_UNAVAILABLE}, status=503)
    svc.worker.wake()
    # Only the ID goes into the (signed, readable) session cookie, no personal data.
    session["confirmation"] = {"slug": slug, "id": registration.id}
    return redirect(url_for("forms.confirmation", slug=slug), code=303)


def confirmation(slug: str) -> ResponseReturnValue:
    svc = services()
    event = svc.event(slug)
    shown = session.get("confirmation") or {}
    registration = None
    if shown.get("slug") == slug:
        with svc.store.transaction() as db:
            registration = db.scalar(select(Registration).where(Registration.id == shown["id"]))
    if registration is None:
        return redirect(url_for("forms.registration_form", slug=slug))
    return render_template("confirmation.html", event=event, registration=registration)


ERROR_PAGES = {
    400: "Niepoprawne żądanie.",
    404: "Nie ma takiej strony ani wydarzenia.",
    405: "Ta strona nie obsługuje takiego żądania.",
    413: "Przesłane dane są zbyt duże.",
    415: "Nieobsługiwany format danych.",
    500: "Coś poszło nie tak. Spróbuj ponownie za chwilę.",
}
STORE_UNAVAILABLE = (
    "Nie udało się zapisać zgłoszenia z powodu chwilowej awarii. Nic nie zostało zapisane – "
    "spróbuj ponownie za chwilę."
)


def error_page(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error as a page in Polish, never a traceback."""
    status = exc.code or 500
    message = ERROR_PAGES.get(status, ERROR_PAGES[500])
    return render_template("error.html", status=status, message=message), status


def _form(
    event: Event,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    order = {name: i for i, name in enumerate(FIELD_LABELS)}
    ordered = sorted((errors or {}).items(), key=lambda item: order.get(item[0], -1))
    context = {
        "event": event,
        "values": values,
        "errors": dict(ordered),
        "powiaty": list(POWIATY.values()),
        "area": describe_area(event.eligible_powiaty),
        "diets": DIET_LABELS,
        "labels": FIELD_LABELS,
        "seats_left": _seats_left(event),
        "csrf_token": generate_csrf(),
        "honeypot": HONEYPOT,
    }
    return render_template("form.html", **context), status


def _closed(event: Event, state: RegistrationState) -> ResponseReturnValue:
    status = 403 if request.method == "POST" else 200
    page = render_template(
        "closed.html",
        event=event,
        state=state,
        States=RegistrationState,
        closed_on=read_window(services().store, event, services().now()).closed_on,
    )
    return page, status


def _seats_left(event: Event) -> int:
    with services().store.transaction() as session:
        return seats_left(session, event)
