"""The pages a participant sees before registering: the events, the form, the confirmation."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError as CsrfError

from config.services import services
from forms import questions as own_questions
from forms.messages import (
    ERROR_PAGES,
    FIELD_LABELS,
    STORE_UNAVAILABLE,
    refusal,
    store_unavailable_message,
)
from forms.secret_paths import SECRET_SEGMENTS
from registrations.allocation import seats_left
from registrations.errors import GENERAL
from registrations.event import Event
from registrations.operations import (
    Invalid,
    NotFound,
    RegistrationClosed,
    RegistrationRefused,
    StoreUnavailable,
)
from registrations.powiaty import POWIATY, describe_area
from registrations.schema import DIET_LABELS
from registrations.window import RegistrationState
from store import Store

HONEYPOT = "website"
HONEYPOT_FILLED = "Pole „Strona WWW” powinno pozostać puste."
EXPIRED_FORM = (
    "Formularz wygasł lub został otwarty w innej karcie. Prosimy sprawdzić dane i wysłać "
    "formularz ponownie."
)
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "enterprise_name",
    "powiat",
    "role",
    "nip",
    "email",
    "phone",
    "pesel",
    "birth_date",
    "gender",
    "diet",
    "diet_other",
    "special_needs",
)
CHECKBOXES = ("consent_personal_data", "consent_image")


PRIVATE_ENDPOINTS = frozenset({"forms.confirmation"})  # shows the link, though not in its URL


def keep_private(response: Response) -> Response:
    """Every answer that carries a private link (errors too): never cached, never a Referer."""
    rule = request.url_rule
    carries_secret = rule is not None and any(part in rule.rule for part in SECRET_SEGMENTS)
    if carries_secret or request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


def form_payload(
    form: MultiDict[str, str],
    fields: tuple[str, ...] = TEXT_FIELDS,
    checkboxes: tuple[str, ...] = CHECKBOXES,
) -> dict[str, Any]:
    """The form's strings as the JSON API would send them: checkboxes and yes/no as booleans."""
    payload: dict[str, Any] = {name: form.get(name, "") for name in fields}
    payload.update({name: form.get(name) == "tak" for name in checkboxes})
    # No answer is no answer (None): an event offering a night requires one.
    payload["accommodation"] = {"tak": True, "nie": False}.get(form.get("accommodation", ""))
    return payload


def csrf_problem() -> str | None:
    """The message for a form whose CSRF token is missing or stale; None when it is fine."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CsrfError:
        return EXPIRED_FORM
    return None


def index() -> ResponseReturnValue:
    svc = services()
    now = svc.now()
    events = []
    for event in svc.events.values():
        window = svc.registrations.window(event, now)
        ended = window.closed_on if window.state is RegistrationState.CLOSED else None
        events.append((event, window.state, ended))
    return render_template("index.html", events=events, States=RegistrationState)


def registration_form(slug: str) -> ResponseReturnValue:
    svc = services()
    event = svc.event(slug)
    state = svc.registrations.window(event, svc.now()).state
    if state is not RegistrationState.OPEN:
        return closed_page(event, state)
    if request.method == "GET":
        return _form(event, values={"diet": "standard"})  # the night: no answer chosen
    values = request.form.to_dict()
    if problem := csrf_problem():
        return _form(event, values, errors={GENERAL: problem}, status=400)
    if request.form.get(HONEYPOT):
        return _form(event, values, errors={GENERAL: HONEYPOT_FILLED}, status=400)
    payload = form_payload(request.form)
    questions = svc.registrations.intake_questions(event)  # checked again under the lock
    payload["answers"] = own_questions.answers_from_form(request.form, questions)
    values.update(own_questions.form_values(request.form, questions))
    try:
        registration = svc.registrations.submit(event, payload, source="form", now=svc.now())
    except NotFound:  # unpublished or deleted a moment ago
        abort(404)
    except RegistrationClosed as closed:
        return closed_page(event, closed.state)
    except Invalid as invalid:
        return _form(event, values, errors=invalid.errors, status=422)
    except RegistrationRefused as refused:
        return _form(event, values, errors={GENERAL: refusal(event, refused)}, status=409)
    except StoreUnavailable:
        current_app.logger.exception("registration for %s not stored", event.slug)
        return _form(event, values, errors={GENERAL: STORE_UNAVAILABLE}, status=503)
    svc.wake_workers()
    # Only the ID goes into the (signed, readable) session cookie, no personal data.
    session["confirmation"] = {"slug": slug, "id": registration.id}
    return redirect(url_for("forms.confirmation", slug=slug), code=303)


def confirmation(slug: str) -> ResponseReturnValue:
    """The ID, the status and the private link, so a mistyped e-mail address loses nothing.

    Shown once: the next person at a shared computer must not get the link (nor the name and
    address). Visited again, the page says the link was sent by e-mail.
    """
    svc = services()
    event = svc.event(slug)
    shown = session.get("confirmation") or {}
    if shown.get("slug") == slug and shown.get("shown"):
        return render_template("confirmation_sent.html", event=event)
    registration = None
    if shown.get("slug") == slug:
        try:
            registration = svc.registrations.by_id(str(shown.get("id", "")))
        except NotFound:
            registration = None
    if registration is None:
        return redirect(url_for("forms.registration_form", slug=slug))
    session["confirmation"] = {"slug": slug, "shown": True}  # the ID is forgotten too
    return render_template(
        "confirmation.html",
        event=event,
        registration=registration,
        position=svc.registrations.waiting_position(registration),
        link=svc.link_for(registration),
        answered=own_questions.answered(
            svc.registrations.questions(event), svc.registrations.answers(registration)
        ),
    )


def error_page(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error as a page in Polish, never a traceback.

    A private link that leads nowhere (a wrong token, an unknown one, an erased registration's)
    gets one page for all three, offering the event's lost-link page.
    """
    status = exc.code or 500
    rule = request.url_rule
    if status == 404 and rule is not None and "<token>" in rule.rule:
        slug = (request.view_args or {}).get("slug", "")
        event = services().events.get(slug)
        return render_template("unknown_link.html", event=event), 404
    message = ERROR_PAGES.get(status, ERROR_PAGES[500])
    return render_template("error.html", status=status, message=message), status


def store_unavailable() -> ResponseReturnValue:
    """The database is away: the page says the data could not be read (a GET), or that nothing
    was stored (a POST), and to try again."""
    detail = store_unavailable_message(request.method)
    page = render_template("error.html", status=503, message=ERROR_PAGES[503], detail=detail)
    return page, 503


REDIRECTS = (301, 302, 303, 307, 308)


def polish_redirect(response: Response) -> Response:
    """A redirect's page in Polish (werkzeug's says "Redirecting..."): the address without its
    last slash, and the service's own redirects, for a browser that does not follow them."""
    location = response.headers.get("Location")
    if response.status_code in REDIRECTS and location and response.mimetype == "text/html":
        response.set_data(render_template("redirect.html", location=location))
    return response


def form_context(event: Event, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """What the registration fields need, for the form and for the change form alike."""
    order = {name: i for i, name in enumerate(FIELD_LABELS)}
    ordered = sorted(errors.items(), key=lambda item: order.get(item[0], -1))
    return {
        "event": event,
        "values": values,
        "errors": dict(ordered),
        "powiaty": list(POWIATY.values()),
        "area": describe_area(event.eligible_powiaty),
        "diets": DIET_LABELS,
        "labels": FIELD_LABELS,
    }


def _form(
    event: Event,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    svc = services()
    with svc.store.transaction() as db:
        free = seats_left(db, event)
    context = form_context(event, values, errors or {})
    with_questions(context, svc.store, event)
    return render_template("form.html", seats_left=free, honeypot=HONEYPOT, **context), status


def with_questions(context: dict[str, Any], store: Store, event: Event) -> None:
    """The event's own questions added to a form's context (their labels for the errors)."""
    extra = own_questions.context(store, event.slug)
    context.update(extra, labels={**context["labels"], **extra["question_labels"]})


def closed_page(event: Event, state: RegistrationState) -> ResponseReturnValue:
    svc = services()
    status = 403 if request.method == "POST" else 200
    page = render_template(
        "closed.html",
        event=event,
        state=state,
        States=RegistrationState,
        closed_on=svc.registrations.window(event, svc.now()).closed_on,
    )
    return page, status
