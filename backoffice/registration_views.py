"""The registrations of an event in the staff pages (issue 18): the table, one registration's
page (data, status history, e-mails, actions), a registration taken by phone, corrections with
the version the form showed, the address (set-email), a seat handed to a colleague, erasure.

Thin views over `registrations.desk.Desk` and `Registrations`; full staff only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from backoffice.access import current_staff, full_staff
from backoffice.decision_views import decision_context
from backoffice.overview import entry_or_404
from config.services import Services, services
from forms import questions as own_questions
from forms.messages import FIELD_LABELS as FORM_LABELS
from forms.messages import refusal
from forms.views import form_context, form_payload, with_questions
from mail.participants import _SUBJECTS
from privacy.erasure import Eraser
from registrations.allocation import waiting_position
from registrations.answers import answers_for, questions_of
from registrations.desk import (
    FIELD_LABELS,
    STALE,
    Desk,
    DuplicateWithoutAddress,
    ExistingAddress,
    Overrides,
    StaleVersion,
    answer_field,
    entries_of,
    has_address,
    shown_value,
)
from registrations.erasure import ErasedBy
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import Registration, StatusChange
from registrations.notices import NoticeKind
from registrations.operations import (
    AlreadyRegistered,
    Invalid,
    NotFound,
    RegistrationRefused,
    StoreUnavailable,
)
from registrations.participation import records_of
from registrations.polish import plural
from registrations.powiaty import POWIATY
from registrations.questions import Question, display
from registrations.staff_messages import message_of
from registrations.status import STATUS_LABELS, Status
from registrations.window import RegistrationState
from store.models import OutboxMessage

STAFF_LABELS = {
    **FORM_LABELS,
    "consent_personal_data": "Zgoda przekazana ustnie",
    "override_reason": "Powód",
    "override_deadline": "Termin zgłoszeń",
    "_": "Zgłoszenie",
}
ACTORS = {
    "participant": "uczestnik (prywatny link)",
    "staff": "organizator",
    "system": "system (lista rezerwowa)",
    "erasure": "usunięcie danych",
    "retention": "usunięcie po okresie przechowywania",
}
ENTRY_KINDS = {
    "added": "dodanie zgłoszenia",
    "corrected": "poprawienie",
    "swapped_out": "zamiana osoby – miejsce przekazane do",
    "swapped_in": "zamiana osoby – przejęte miejsce",
}
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
    "gender",
    "diet",
    "diet_other",
    "special_needs",
)
KINDS = frozenset(kind.value for kind in NoticeKind)
ANSWER_SHOWN = 120  # a longer answer is cut in the table (a row stays readable on a phone)
STORE_AWAY = "Baza danych nie odpowiada – nic nie zapisano. Prosimy spróbować za chwilę."


def _actor() -> str:
    staff = current_staff()
    assert staff is not None  # @full_staff
    return staff.email


def _desk(svc: Services) -> Desk:
    return Desk(svc.registrations)


def _live_event(svc: Services, slug: str) -> Event:
    """The event in force (a registration's event is published)."""
    event = svc.events.get(slug)
    if event is None:
        abort(404)
    return event


def _registration(svc: Services, registration_id: str) -> Registration:
    try:
        return svc.registrations.by_id(registration_id)
    except NotFound:
        abort(404)


# -- the table -------------------------------------------------------------------------------


@full_staff
def registrations_table(slug: str) -> ResponseReturnValue:
    """Every registration of the event; searched by name, enterprise, e-mail or ID, filtered by
    status."""
    svc = services()
    entry = entry_or_404(slug)
    query_text = " ".join(request.args.get("q", "").split())[:200]
    status = request.args.get("status", "")
    if status and status not in {s.value for s in Status}:
        status = ""
    query = select(Registration).where(
        Registration.event_slug == slug, Registration.erased_at.is_(None)
    )
    if status:
        query = query.where(Registration.status == status)
    with svc.store.reading() as session:
        rows = list(session.scalars(query.order_by(Registration.seq)))
        positions = {
            r.id: waiting_position(session, r) for r in rows if r.status == Status.WAITLISTED
        }
        questions = questions_of(session, slug, visible=True)
        answers = answers_for(session, [r.id for r in rows]) if questions else {}
    if query_text:
        needle = query_text.casefold()
        rows = [r for r in rows if needle in _haystack(r)]
    return render_template(
        "obsluga/registrations.html",
        entry=entry,
        event=entry.event,
        rows=rows,
        count_text=plural(len(rows), "zgłoszenie", "zgłoszenia", "zgłoszeń"),
        positions=positions,
        q=query_text,
        status=status,
        statuses=STATUS_LABELS,
        Status=Status,
        has_address=has_address,
        powiat_labels={code: powiat.label for code, powiat in POWIATY.items()},
        answer_columns=_answer_columns(questions, answers),
    )


def _answer_columns(
    questions: list[Question], answers: dict[str, dict[str, Any]]
) -> list[tuple[str, Callable[[Registration], str]]]:
    """A column per visible question, (header, the row's answer as the sheet shows it); a long
    text is cut at `ANSWER_SHOWN` characters, whole on the registration's page."""

    def column(question: Question) -> Callable[[Registration], str]:
        def answer(registration: Registration) -> str:
            text = display(question, answers.get(registration.id, {}).get(question.key))
            return text if len(text) <= ANSWER_SHOWN else text[: ANSWER_SHOWN - 1].rstrip() + "…"

        return answer

    return [(q.label, column(q)) for q in questions]


def _haystack(registration: Registration) -> str:
    return " ".join(
        [
            registration.id,
            registration.full_name,
            registration.enterprise_name,
            registration.email,
        ]
    ).casefold()


# -- one registration ------------------------------------------------------------------------


@full_staff
def registration_page(registration_id: str) -> ResponseReturnValue:
    svc = services()
    registration = _registration(svc, registration_id)
    event = _live_event(svc, registration.event_slug)
    with svc.store.reading() as session:
        changes = list(
            session.scalars(
                select(StatusChange)
                .where(StatusChange.registration_id == registration.id)
                .order_by(StatusChange.id)
            )
        )
        entries = entries_of(session, registration.id)
        before_event = records_of(session, registration.id)
        emails = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.registration_id == registration.id)
                .order_by(OutboxMessage.id)
            )
        )
        position = waiting_position(session, registration)
        subjects = _subjects(session, emails)
        questions = questions_of(session, event.slug)
        answer_labels = {answer_field(q): q.label for q in questions}
        answers = answers_for(session, [registration.id]).get(registration.id, {})
        answer_rows = [(q.label, display(q, answers[q.key])) for q in questions if q.key in answers]
    return render_template(
        "obsluga/registration.html",
        **decision_context(registration, event),  # the decision's part: its registration, event
        position=position,
        changes=changes,
        entries=entries,
        before_event=before_event,
        emails=[(email, subjects.get(email.id, ""), _mail_state(email)) for email in emails],
        status_labels=STATUS_LABELS,
        actors=ACTORS,
        entry_kinds=ENTRY_KINDS,
        field_labels={**FIELD_LABELS, **answer_labels},
        data=_data_rows(event, registration) + answer_rows,
        has_address=has_address(registration),
        Status=Status,
        timezone=event.timezone,
    )


def _mail_state(email: OutboxMessage) -> str:
    if email.sent_at is not None:
        return "wysłany"
    if email.gave_up_at is not None or email.expired_at is not None:
        return "nie wysłano – adres odrzucony"
    return "czeka"


def _subjects(session: Any, emails: list[OutboxMessage]) -> dict[int, str]:
    """Each e-mail's subject as the person read it (without the event's name)."""
    subjects: dict[int, str] = {}
    for email in emails:
        kind = NoticeKind(email.kind) if email.kind in KINDS else None
        if kind is NoticeKind.MESSAGE:
            message = message_of(session, email.detail)
            subjects[email.id] = message.subject if message is not None else "wiadomość"
        elif kind is NoticeKind.REGISTERED:
            subjects[email.id] = (
                "Potwierdzenie zgłoszenia"
                if email.status == Status.CONFIRMED
                else "Zgłoszenie na liście rezerwowej"
            )
        elif kind is not None:
            subjects[email.id] = _SUBJECTS.get(kind, kind.value)
    return subjects


def _data_rows(event: Event, registration: Registration) -> list[tuple[str, str]]:
    rows = [
        ("Adres e-mail", registration.email or "brak – zgłoszenie telefoniczne"),
    ]
    for name, label in FIELD_LABELS.items():
        if name == "accommodation" and event.accommodation_label is None:
            continue
        if name == "gender" and not event.ask_gender:
            continue
        rows.append((label, shown_value(name, getattr(registration, name))))
    rows.append(("Zgoda na przetwarzanie danych", "tak"))
    return rows


# -- Dodaj zgłoszenie ------------------------------------------------------------------------


@full_staff
def add_registration(slug: str) -> ResponseReturnValue:
    """A registration taken by phone: the public form's fields, the address optional."""
    svc = services()
    event = _live_event(svc, slug)
    if request.method == "GET":
        return _add_form(event, {"diet": "standard"})
    values = request.form.to_dict()
    payload = form_payload(request.form, TEXT_FIELDS)
    questions = svc.registrations.questions(event)
    if questions:  # asked as on the public form (checked again under the lock)
        payload["answers"] = own_questions.answers_from_form(request.form, questions)
        values.update(own_questions.form_values(request.form, questions))
    overrides = Overrides(
        deadline=request.form.get("override_deadline") == "tak",
        area=request.form.get("override_area") == "tak",
        enterprise=request.form.get("override_enterprise") == "tak",
        capacity=request.form.get("override_capacity") == "tak",
        reason=request.form.get("override_reason", "")[:2000],
    )
    try:
        registration = _desk(svc).add(
            event, payload, overrides=overrides, actor=_actor(), now=svc.now()
        )
    except Invalid as invalid:
        return _add_form(event, values, invalid.errors, 422)
    except DuplicateWithoutAddress as twin:
        return _add_form(event, values, {}, 409, twin=twin.registration_id)
    except ExistingAddress as existing:
        return _add_form(event, values, {}, 409, twin=existing.registration_id)
    except RegistrationRefused as refused:
        message = refusal(event, refused)
        if refused.code == "enterprise_limit_reached":
            message += " Aby przyjąć je mimo to, należy zaznaczyć „ponad limit przedsiębiorstwa”."
        return _add_form(event, values, {"_": message}, 409)
    except StoreUnavailable:
        current_app.logger.exception("staff registration for %s not stored", slug)
        return _add_form(event, values, {"_": STORE_AWAY}, 503)
    svc.wake_workers()
    if has_address(registration):
        flash(f"Zgłoszenie {registration.id} zapisane; e-mail z prywatnym linkiem wysłany.")
    else:
        flash(
            f"Zgłoszenie {registration.id} zapisane bez adresu e-mail: osoba nie dostanie "
            "e-maili ani prywatnego linku – informacje trzeba przekazać telefonicznie."
        )
    return redirect(url_for("backoffice.registration_page", registration_id=registration.id), 303)


def _add_form(
    event: Event,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    *,
    twin: str | None = None,
) -> ResponseReturnValue:
    svc = services()
    context = form_context(event, values, errors or {})
    context["labels"] = STAFF_LABELS
    with_questions(context, svc.store, event)
    state = svc.registrations.window(event, svc.now()).state
    page = render_template(
        "obsluga/registration_add.html",
        staff_entry="add",
        twin=twin,
        registration_open=state is RegistrationState.OPEN,
        **context,
    )
    return page, status


# -- corrections -----------------------------------------------------------------------------


@full_staff
def correct_registration(registration_id: str) -> ResponseReturnValue:
    """Any field at any time, over the version the form showed."""
    svc = services()
    registration = _registration(svc, registration_id)
    event = _live_event(svc, registration.event_slug)
    if request.method == "GET":
        values = _values_of(registration)
        values.update(
            own_questions.stored_values(
                svc.registrations.answers(registration), svc.registrations.questions(event)
            )
        )
        if has_address(registration):
            values["notify"] = "tak"  # ticked by default, as for an event's changes
        return _correct_form(event, registration, values)
    values = request.form.to_dict()
    changes = form_payload(request.form, TEXT_FIELDS, ("consent_image",))
    changes.pop("email", None)
    questions = svc.registrations.questions(event)
    if questions:  # every visible question's field is on the form; a hidden one's answer stays
        changes["answers"] = own_questions.with_hidden_choices(
            own_questions.answers_from_form(request.form, questions),
            svc.registrations.answers(registration),
            questions,
        )
        values.update(own_questions.form_values(request.form, questions))
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return _correct_form(event, registration, values, {"_": STALE}, 409)
    try:
        corrected = _desk(svc).correct(
            event,
            registration.id,
            changes,
            version=version,
            actor=_actor(),
            now=svc.now(),
            notify_person=request.form.get("notify") == "tak",
        )
    except StaleVersion:  # as it is now (the refused transaction's copy is gone)
        current = _registration(svc, registration.id)
        shown = _values_of(current)
        shown.update(
            own_questions.stored_values(
                svc.registrations.answers(current), svc.registrations.questions(event)
            )
        )
        return _correct_form(event, current, shown, {"_": STALE}, 409)
    except NotFound:
        abort(404)
    except Invalid as invalid:
        return _correct_form(event, registration, values, invalid.errors, 422)
    except StoreUnavailable:
        return _correct_form(event, registration, values, {"_": STORE_AWAY}, 503)
    svc.wake_workers()
    if corrected.changed:
        names = ", ".join([FIELD_LABELS[name] for name in corrected.fields] + corrected.answers)
        flash(f"Zapisano poprawki: {names}.")
    else:
        flash("Nic się nie zmieniło – nic nie zapisano.")
    return redirect(url_for("backoffice.registration_page", registration_id=registration.id), 303)


def _values_of(registration: Registration) -> dict[str, str]:
    values = {name: str(getattr(registration, name) or "") for name in TEXT_FIELDS}
    values["birth_date"] = registration.birth_date.isoformat() if registration.birth_date else ""
    values["accommodation"] = "tak" if registration.accommodation else "nie"
    if registration.consent_image:
        values["consent_image"] = "tak"
    return values


def _correct_form(
    event: Event,
    registration: Registration,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    context = form_context(event, values, errors or {})
    context["labels"] = STAFF_LABELS
    with_questions(context, services().store, event)
    page = render_template(
        "obsluga/registration_correct.html",
        staff_entry="correct",
        change=True,
        registration=registration,
        **context,
    )
    return page, status


# -- the address, the swap, erasure ----------------------------------------------------------


@full_staff
def set_email(registration_id: str) -> ResponseReturnValue:
    """Correct (or add) the address; the private link goes there."""
    svc = services()
    registration = _registration(svc, registration_id)
    event = _live_event(svc, registration.event_slug)
    errors: dict[str, str] = {}
    address = registration.email
    if request.method == "POST":
        address = request.form.get("email", "")[:400]
        try:
            svc.registrations.set_email(
                event, registration.id, address, now=svc.now(), actor=_actor()
            )
        except Invalid as invalid:
            errors = invalid.errors
        except AlreadyRegistered:
            errors = {"email": "Ten adres jest już zgłoszony na to wydarzenie."}
        except NotFound:
            abort(404)
        except StoreUnavailable:
            errors = {"email": STORE_AWAY}
        else:
            svc.wake_workers()
            flash("Adres zapisany; prywatny link do zgłoszenia został wysłany na ten adres.")
            return redirect(
                url_for("backoffice.registration_page", registration_id=registration.id), 303
            )
    page = render_template(
        "obsluga/registration_email.html",
        event=event,
        registration=registration,
        address=address,
        errors=errors,
        values={"email": address},
        labels=STAFF_LABELS,
    )
    return page, 422 if errors else 200


@full_staff
def swap_person(registration_id: str) -> ResponseReturnValue:
    """`Zamiana osoby`: a colleague from the same enterprise takes the seat."""
    svc = services()
    registration = _registration(svc, registration_id)
    event = _live_event(svc, registration.event_slug)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = request.form.to_dict()
        person: dict[str, Any] = {
            name: request.form.get(name, "")
            for name in ("first_name", "last_name", "email", "phone", "pesel", "birth_date")
        }
        person["consent_personal_data"] = request.form.get("consent_personal_data") == "tak"
        try:
            new = _desk(svc).swap(event, registration.id, person, actor=_actor(), now=svc.now())
        except Invalid as invalid:
            errors = invalid.errors
        except StaleVersion:
            errors = {"_": STALE}
        except ExistingAddress:
            errors = {"email": "Ta osoba jest już zgłoszona na to wydarzenie z tym adresem."}
        except RegistrationRefused as refused:
            errors = {"email": refusal(event, refused)}
        except NotFound:
            abort(404)
        except StoreUnavailable:
            errors = {"_": STORE_AWAY}
        else:
            svc.wake_workers()
            flash(
                f"Miejsce przekazane: zgłoszenie {registration.id} anulowane, "
                f"{new.id} potwierdzone w jego miejsce."
            )
            return redirect(url_for("backoffice.registration_page", registration_id=new.id), 303)
    page = render_template(
        "obsluga/registration_swap.html",
        event=event,
        registration=registration,
        values=values,
        errors=errors,
        labels=STAFF_LABELS,
    )
    return page, 422 if errors else 200


@full_staff
def erase_registration(registration_id: str) -> ResponseReturnValue:
    """The existing erasure (RODO art. 17), after a confirmation step."""
    svc = services()
    registration = _registration(svc, registration_id)
    event = _live_event(svc, registration.event_slug)
    if request.method == "POST" and request.form.get("confirm") == "tak":
        Eraser(svc, current_app.logger).erase(
            event, [registration.id], by=ErasedBy.REQUEST, command="obsługa: usunięcie"
        )
        with svc.store.transaction() as session:
            record(
                session,
                actor=_actor(),
                action=Action.ERASED,
                at=svc.now(),
                event_slug=event.slug,
                registration_ids=[registration.id],
            )
        svc.wake_workers()
        flash(f"Dane osobowe zgłoszenia {registration.id} zostały usunięte.")
        return redirect(url_for("backoffice.registrations_table", slug=event.slug), 303)
    return render_template(
        "obsluga/registration_erase.html", event=event, registration=registration
    )
