"""The one-click answer to a reminder or an offer: `…/zgloszenie/<token>/udzial?odpowiedz=tak`.

The link in the e-mail opens a page with one button (GET changes nothing: mail scanners and link
previews open links); the button's POST records the answer (`registrations.before_event`). Under the
private link, so the page is no-store and no-referrer, its POST in the private-link rate-limit
bucket (`forms.limits`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound as HttpNotFound

from config.services import services
from forms.manage import CANCELLED, _find
from forms.messages import STORE_UNAVAILABLE, change_not_allowed
from forms.views import csrf_problem
from jobs.participation import participations
from registrations.before_event import AnswerRefused, Outcome
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import ChangeNotAllowed, NotFound, StoreUnavailable
from registrations.participation import Answer, OfferState
from registrations.polish import datetime_pl
from registrations.status import Status

UNKNOWN_ANSWER = (
    "Nie rozpoznano odpowiedzi w linku. Prosimy wybrać jedną z odpowiedzi poniżej albo "
    "skorzystać z linku z e-maila bez zmian."
)
RECORDED = {
    Outcome.CONFIRMED: "Dziękujemy – udział został potwierdzony.",
    Outcome.ACCEPTED: "Dziękujemy – miejsce zostało przyjęte, udział jest potwierdzony. "
    "Potwierdzenie wysłaliśmy e-mailem.",
    Outcome.CANCELLED: CANCELLED,
}
STARTED = (
    "Wydarzenie już się rozpoczęło – odpowiedzi nie można już zapisać. W razie pytań prosimy o "
    "kontakt z organizatorem."
)


def refusal(event: Event, registration: Registration, reason: str) -> str:
    """Why `tak` was not taken, in Polish."""
    if reason == "expired":
        return (
            "Czas na potwierdzenie oferty minął – miejsce otrzymuje kolejna osoba z listy "
            "rezerwowej. Zgłoszenie pozostaje na liście rezerwowej."
        )
    if reason == "full":
        return (
            "Niestety miejsce nie jest już dostępne – wszystkie miejsca są zajęte. Zgłoszenie "
            "pozostaje na liście rezerwowej."
        )
    if reason == "no_offer":
        return (
            "Zgłoszenie jest na liście rezerwowej i nie ma teraz oferty miejsca do potwierdzenia. "
            "Gdy zwolni się miejsce, poinformujemy o tym e-mailem."
        )
    if reason == "started":
        return STARTED
    return change_not_allowed(event, "inactive")


def answer(slug: str, token: str) -> ResponseReturnValue:
    """GET: the page with one button; POST: the answer recorded."""
    svc = services()
    event, found = _find(slug, token)
    typed = (request.form if request.method == "POST" else request.args).get("odpowiedz", "")
    try:
        chosen = Answer(typed.strip().casefold())
    except ValueError:
        return _page(event, found, None, error=UNKNOWN_ANSWER, status=400)
    if request.method == "GET":
        return _page(event, found, chosen)
    if problem := csrf_problem():
        return _page(event, found, chosen, error=problem, status=400)
    try:
        outcome = participations(svc).answer(event, token, chosen, now=svc.now())
    except AnswerRefused as refused:
        status = 403 if refused.reason == "started" else 409
        again = svc.registrations.by_token(token)
        svc.wake_workers()  # an expired offer was passed on
        return _page(
            event, again, chosen, error=refusal(event, again, refused.reason), status=status
        )
    except ChangeNotAllowed as refused:
        message = (
            STARTED if refused.reason == "started" else change_not_allowed(event, refused.reason)
        )
        return _page(event, found, chosen, error=message, status=403)
    except StoreUnavailable:
        current_app.logger.exception("answer to a reminder or offer for %s not stored", slug)
        return _page(event, found, chosen, error=STORE_UNAVAILABLE, status=503)
    except NotFound:
        raise HttpNotFound() from None
    flash(RECORDED[outcome])
    svc.wake_workers()
    return redirect(url_for("forms.registration", slug=slug, token=token), code=303)


def _page(
    event: Event,
    registration: Registration,
    chosen: Answer | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    svc = services()
    now = svc.now()
    state = Status(registration.status)
    row = registration.participation
    offer_until = None
    if row is not None and row.offer_state == OfferState.OPEN.value and row.offer_expires_at:
        offer_until = datetime_pl(event.local(row.offer_expires_at))
    can_answer = state.active and now < event.starts_at and error is None
    context: dict[str, Any] = {
        "event": event,
        "registration": registration,
        "answer": chosen.value if chosen is not None else None,
        "status": state,
        "offer_until": offer_until,
        "answered": row.answer if row is not None else None,
        "can_answer": can_answer,
        "started": now >= event.starts_at,
        "error": error,
    }
    return render_template("answer.html", **context), status
