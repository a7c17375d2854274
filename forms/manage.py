"""A participant's own registration behind their private link: see it, correct it, cancel it.

A wrong token answers exactly like an unknown one (the same 404 page). Every page here carries
the token in its URL, so it is sent with `Referrer-Policy: no-referrer` and `Cache-Control:
no-store`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound as HttpNotFound

from config.services import services
from forms import questions as own_questions
from forms.messages import STORE_UNAVAILABLE, change_not_allowed, refusal
from forms.own_data_page import readable
from forms.views import TEXT_FIELDS, csrf_problem, form_context, form_payload, with_questions
from privacy.own_data import own_data
from registrations.errors import GENERAL
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import (
    ChangeNotAllowed,
    Invalid,
    NotFound,
    RegistrationRefused,
    StoreUnavailable,
    payload_of,
)
from registrations.polish import datetime_pl
from registrations.status import Status
from registrations.window import Window

# What the change form sends: the registration form without the e-mail (the registration's
# identity) and without the data-processing consent (given once; withdrawing it is cancelling).
CHANGE_FIELDS = tuple(name for name in TEXT_FIELDS if name != "email")
SAVED = "Zmiany zostały zapisane. Potwierdzenie wysłaliśmy e-mailem."
UNCHANGED = "Nic się nie zmieniło – zgłoszenie jest takie jak wcześniej."
CANCELLED = "Rezygnacja została zapisana. Potwierdzenie wysłaliśmy e-mailem."


def registration(slug: str, token: str) -> ResponseReturnValue:
    svc = services()
    event, found = _find(slug, token)
    window = svc.registrations.window(event, svc.now())
    if request.method == "GET":
        values = {
            **_values(found),
            **own_questions.stored_values(
                svc.registrations.answers(found), svc.registrations.questions(event)
            ),
        }
        return _page(event, found, window, values=values)
    values = request.form.to_dict()
    if problem := csrf_problem():
        return _page(event, found, window, values, errors={GENERAL: problem}, status=400)
    changes = form_payload(request.form, CHANGE_FIELDS, checkboxes=("consent_image",))
    questions = svc.registrations.questions(event, visible=True)
    changes["answers"] = own_questions.with_hidden_choices(
        own_questions.answers_from_form(request.form, questions),
        svc.registrations.answers(found),
        questions,
    )
    values.update(own_questions.form_values(request.form, questions))
    try:
        changed = svc.registrations.change(event, token, changes, now=svc.now())
    except ChangeNotAllowed as refused:
        message = change_not_allowed(event, refused.reason)
        return _page(event, found, window, values, errors={GENERAL: message}, status=403)
    except Invalid as invalid:
        return _page(event, found, window, values, errors=invalid.errors, status=422)
    except RegistrationRefused as refused:
        errors = {GENERAL: refusal(event, refused)}
        return _page(event, found, window, values, errors=errors, status=409)
    except StoreUnavailable:
        current_app.logger.exception("change of a registration for %s not stored", slug)
        return _page(event, found, window, values, errors={GENERAL: STORE_UNAVAILABLE}, status=503)
    except NotFound:
        raise HttpNotFound() from None
    flash(SAVED if changed.version != found.version else UNCHANGED)
    svc.wake_workers()
    return redirect(url_for("forms.registration", slug=slug, token=token), code=303)


def cancel(slug: str, token: str) -> ResponseReturnValue:
    """The confirmation step (GET), then the cancellation itself (POST)."""
    svc = services()
    event, found = _find(slug, token)
    window = svc.registrations.window(event, svc.now())
    if not Status(found.status).active:  # nothing to cancel any more: the link page says why
        return redirect(url_for("forms.registration", slug=slug, token=token), code=303)
    if request.method == "GET":  # after the start, the page says cancelling is over
        return render_template("cancel.html", event=event, registration=found, window=window)
    if problem := csrf_problem():
        return render_template(
            "cancel.html", event=event, registration=found, window=window, error=problem
        ), 400
    try:
        svc.registrations.cancel(event, token, now=svc.now())
    except ChangeNotAllowed as refused:
        message = change_not_allowed(event, refused.reason)
        return render_template(
            "cancel.html", event=event, registration=found, window=window, error=message
        ), 403
    except StoreUnavailable:
        current_app.logger.exception("cancellation of a registration for %s not stored", slug)
        return render_template(
            "cancel.html", event=event, registration=found, window=window, error=STORE_UNAVAILABLE
        ), 503
    except NotFound:
        raise HttpNotFound() from None
    flash(CANCELLED)
    svc.wake_workers()
    return redirect(url_for("forms.registration", slug=slug, token=token), code=303)


def download_data(slug: str, token: str) -> ResponseReturnValue:
    """Everything stored about the person, as a JSON file to keep (RODO art. 15/20)."""
    svc = services()
    event, found = _find(slug, token)
    document = own_data(svc.store, event, found, svc.now())
    body = json.dumps(document.model_dump(mode="json"), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="moje-dane-{found.id}.json"'},
    )


def own_data_page(slug: str, token: str) -> ResponseReturnValue:
    """The same document as a page to read: Polish labels, values as the form shows them."""
    svc = services()
    event, found = _find(slug, token)
    document = own_data(svc.store, event, found, svc.now())
    return render_template(
        "my_data.html",
        event=event,
        registration=found,
        data=readable(document, event, svc.registrations.questions(event)),
        prepared_at=datetime_pl(event.local(document.prepared_at)),
    )


def remind(slug: str) -> ResponseReturnValue:
    """The link again, to a registered address: the answer never tells whether it is one, nor
    does its timing (the request is queued alike for any address; the mail sender sends)."""
    svc = services()
    event = svc.event(slug)
    if request.method == "GET":
        return render_template("remind.html", event=event, sent=False)
    if problem := csrf_problem():
        return render_template("remind.html", event=event, sent=False, error=problem), 400
    email = request.form.get("email", "")[:320]
    try:
        svc.registrations.request_link(event, email, now=svc.now())
    except StoreUnavailable:
        current_app.logger.exception("link reminder for %s not queued", slug)
        return render_template("remind.html", event=event, error=STORE_UNAVAILABLE), 503
    svc.mail_worker.wake()
    return render_template("remind.html", event=event, sent=True)


def _find(slug: str, token: str) -> tuple[Event, Registration]:
    svc = services()
    event = svc.event(slug)
    try:
        found = svc.registrations.by_token(token)
    except NotFound:
        raise HttpNotFound() from None
    if found.event_slug != event.slug:
        raise HttpNotFound()
    return event, found


def _values(registration: Registration) -> dict[str, str]:
    """The registration as the form's strings (yes/no as `tak`/`nie`)."""
    values: dict[str, str] = {}
    for name, value in payload_of(registration).items():
        if isinstance(value, bool):
            values[name] = "tak" if value else "nie"
        else:
            values[name] = "" if value is None else str(value)
    return values


def _page(
    event: Event,
    registration: Registration,
    window: Window,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    svc = services()
    active = Status(registration.status).active
    context: dict[str, Any] = form_context(event, values, errors or {})
    context.update(
        registration=registration,
        status=Status(registration.status),
        position=svc.registrations.waiting_position(registration),
        can_change=active and window.changes_allowed,
        can_cancel=active and window.cancellation_allowed,
        refusal=None if active else change_not_allowed(event, "inactive"),
        window=window,
        answered=own_questions.answered(
            svc.registrations.questions(event), svc.registrations.answers(registration)
        ),
    )
    with_questions(context, svc.store, event)
    return render_template("manage.html", **context), status
