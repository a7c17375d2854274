"""A person's own data as a page to read (`…/moje-dane.html`): the JSON document's content with
Polish labels, and values as the form shows them (the powiat by its name, the diet in words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from forms.messages import FIELD_LABELS
from privacy.own_data import OwnData
from registrations.event import Event
from registrations.notices import NoticeKind
from registrations.participation import RECORD_LABELS
from registrations.polish import date_text, datetime_pl, span_text
from registrations.powiaty import POWIATY
from registrations.questions import Question, display
from registrations.schema import DIET_LABELS
from registrations.status import STATUS_WORDS, Status

SOURCES = {
    "form": "formularz na stronie",
    "api": "API",
    "staff": "przez organizatora",
    "phone": "telefonicznie, przez organizatora",
}
ACTORS = {
    "participant": "uczestnik (prywatny link)",
    "staff": "organizator",
    "system": "automatycznie (zwolnione miejsce)",
    "erasure": "usunięcie danych",
    "retention": "upływ okresu przechowywania",
}
EMAILS = {
    NoticeKind.REGISTERED.value: "zgłoszenie zapisane",
    NoticeKind.CHANGED.value: "zmiana danych zgłoszenia",
    NoticeKind.CANCELLED.value: "potwierdzenie rezygnacji",
    NoticeKind.PROMOTED.value: "zwolnione miejsce – udział potwierdzony",
    NoticeKind.CONFIRMED.value: "udział potwierdzony przez organizatora",
    NoticeKind.REJECTED.value: "zgłoszenie odrzucone",
    NoticeKind.LINK.value: "link do zgłoszenia",
    NoticeKind.CORRECTED.value: "dane poprawione przez organizatora",
    NoticeKind.MESSAGE.value: "wiadomość od organizatora",
    NoticeKind.LINKS.value: "linki do zgłoszeń z tego adresu e-mail",
    NoticeKind.REMINDER.value: "przypomnienie z prośbą o potwierdzenie udziału",
    NoticeKind.OFFERED.value: "oferta zwolnionego miejsca",
}
MORE_LABELS = {
    "id": "Numer zgłoszenia",
    "status": "Status",
    "received_at": "Data zgłoszenia",
    "updated_at": "Ostatnia zmiana",
    "source": "Sposób zgłoszenia",
    "gender": "Płeć",
    "consent_version": "Wersja treści zgody",
    "consent_given_at": "Zgoda wyrażona",
    "link_sent_at": "Link do zgłoszenia wysłany ponownie",
    "staff_decision": "Ostatnia decyzja organizatora w arkuszu",
    "copied_to_spreadsheet_at": "Skopiowano do arkusza zgłoszeń",
}


@dataclass(frozen=True)
class Readable:
    """The document's parts, each a list of (label, value) in Polish."""

    controller: list[tuple[str, str]]
    event: list[tuple[str, str]]
    registration: list[tuple[str, str]]
    history: list[tuple[str, str, str]]  # when, what, who
    emails: list[tuple[str, str, str]]  # what, queued, sent
    before_event: list[tuple[str, str]]  # when, what (reminders, answers, offers)


def readable(document: OwnData, event: Event, questions: Sequence[Question] = ()) -> Readable:
    """The same content as the JSON download, worded for a person (answers under their
    questions' labels)."""
    registration = document.registration.model_dump()
    first = ("id", "status", "received_at", "updated_at", "source")
    ordered = [*first, *(name for name in registration if name not in first)]
    rows = []
    for name in ordered:
        value = registration[name]
        if name == "accommodation" and event.accommodation_label is None:
            continue
        if name == "gender" and not event.ask_gender:
            continue
        if name == "status_label":
            continue
        if name == "answers":
            rows += [
                (q.label, display(q, value[q.key])) for q in questions if q.key in (value or {})
            ]
            continue
        label = MORE_LABELS.get(name) or FIELD_LABELS.get(name, name)
        rows.append((label, _value(name, value, event)))
    controller = document.controller
    return Readable(
        controller=[
            ("Administrator danych", controller.name),
            (
                "Kontakt w sprawie zgłoszenia",
                f"{controller.contact.name}, {controller.contact.email}",
            ),
        ],
        event=[
            ("Nazwa", document.event.title),
            ("Termin", span_text(document.event.starts_on, document.event.ends_on)),
            ("Obecność", ", ".join(date_text(day) for day in document.presence) or "—"),
            ("Numer zaświadczenia o udziale", document.certificate_number or "—"),
        ],
        registration=rows,
        history=[
            (
                _when(item.at, event),
                f"{_status(item.from_)} → {_status(item.to)}",
                ACTORS.get(item.by, item.by),
            )
            for item in document.status_history
        ],
        emails=[
            (
                EMAILS.get(item.kind, item.kind) + (f": {item.subject}" if item.subject else ""),
                _when(item.queued_at, event),
                _when(item.sent_at, event) if item.sent_at else "jeszcze nie wysłano",
            )
            for item in document.emails
        ],
        before_event=[
            (
                _when(item.at, event),
                RECORD_LABELS.get(item.what, item.what)
                + (f", ważna do {_when(item.until, event)}" if item.until else ""),
            )
            for item in document.before_event
        ],
    )


def _value(name: str, value: object, event: Event) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "tak" if value else "nie"
    if name == "powiat":
        return POWIATY[str(value)].label if str(value) in POWIATY else str(value)
    if name == "diet":
        return next((label for diet, label in DIET_LABELS.items() if diet.value == value), "—")
    if name == "status":
        return _status(str(value))
    if name == "source":
        return SOURCES.get(str(value), str(value))
    if isinstance(value, datetime | date):
        return _when(value, event)
    return str(getattr(value, "value", value))


def _status(value: str) -> str:
    return STATUS_WORDS[Status(value)] if value in Status._value2member_map_ else value


def _when(value: date | datetime, event: Event) -> str:
    """A date, or a moment in the event's time zone."""
    if isinstance(value, datetime):
        return datetime_pl(event.local(value))
    return date_text(value)
