"""The e-mails a participant gets, in Polish, each with their private link.

`ParticipantMail` is the domain's `Notify`: it queues each notice in the outbox inside the
transaction of the change, so the e-mail goes out if and only if the change committed; the
outbox's sender has it compose the message when it is sent (`compose`), outside any request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage

from icalendar import Calendar
from icalendar import Event as CalendarEvent
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.outbox import QueuedNotice, enqueue_notices
from mail.transport import Attachment, compose
from registrations.dates import date_pl, event_dates
from registrations.event import Event
from registrations.models import Registration
from registrations.notices import Notice, NoticeKind
from registrations.status import Status
from registrations.validators import ascii_address
from registrations.window import Window, window
from store.models import OutboxMessage

LinkFor = Callable[[Registration], str]

_INTROS: dict[NoticeKind, str] = {
    NoticeKind.CHANGED: "zapisaliśmy zmiany w Twoim zgłoszeniu. Aktualne dane widać pod linkiem.",
    NoticeKind.CANCELLED: "Twoje zgłoszenie zostało anulowane (rezygnacja z udziału). "
    "Dziękujemy za informację.",
    NoticeKind.PROMOTED: "zwolniło się miejsce – Twój udział jest teraz potwierdzony. "
    "Jeśli nie możesz przyjechać, zrezygnuj przez link poniżej, aby miejsce otrzymała "
    "kolejna osoba.",
    NoticeKind.CONFIRMED: "organizator potwierdził Twój udział w wydarzeniu.",
    NoticeKind.REJECTED: "z przykrością informujemy, że organizator nie może przyjąć Twojego "
    "zgłoszenia (np. przedsiębiorstwo spoza obszaru wsparcia lub niespełniające warunków "
    "udziału). W razie pytań skontaktuj się z nami.",
    NoticeKind.LINK: "oto link do Twojego zgłoszenia, o który prosiłeś/prosiłaś.",
    NoticeKind.EVENT_CHANGED: "organizator zmienił szczegóły wydarzenia. Aktualne informacje "
    "są poniżej.",
}
_SUBJECTS: dict[NoticeKind, str] = {
    NoticeKind.CHANGED: "Zmiana danych zgłoszenia",
    NoticeKind.CANCELLED: "Rezygnacja przyjęta",
    NoticeKind.PROMOTED: "Zwolniło się miejsce – Twój udział jest potwierdzony",
    NoticeKind.CONFIRMED: "Udział potwierdzony",
    NoticeKind.REJECTED: "Zgłoszenie nieprzyjęte",
    NoticeKind.LINK: "Link do Twojego zgłoszenia",
    NoticeKind.EVENT_CHANGED: "Zmiana w wydarzeniu",
}
_SEAT_CONFIRMED = (NoticeKind.PROMOTED, NoticeKind.CONFIRMED)


class ParticipantMail:
    """Composes each notice as an e-mail and queues it in the outbox of the same transaction."""

    def __init__(
        self,
        sender: str,
        link_for: LinkFor,
        clock: Callable[[], datetime],
        event_of: Callable[[str], Event | None],
    ) -> None:
        self.sender = sender
        self.link_for = link_for
        self.clock = clock
        self.event_of = event_of  # the published event in force, by slug

    def __call__(self, session: Session, notices: Sequence[Notice]) -> None:
        now = self.clock()
        enqueue_notices(
            session,
            [
                QueuedNotice(
                    kind=notice.kind.value,
                    registration_id=notice.registration.id,
                    event_slug=notice.event.slug,
                    status=notice.status.value,
                    waiting_position=notice.waiting_position,
                    detail=notice.detail,
                )
                for notice in notices
            ],
            now,
        )

    def compose(self, session: Session, row: OutboxMessage) -> EmailMessage | None:
        """The queued notice as the e-mail to send; None when its registration is gone."""
        registration = session.scalar(
            select(Registration).where(Registration.id == row.registration_id)
        )
        event = self.event_of(row.event_slug or "")
        if (
            registration is None
            or registration.erased_at is not None
            or event is None
            or row.status is None
        ):
            return None
        notice = Notice(
            NoticeKind(row.kind),
            event,
            registration,
            Status(row.status),
            row.waiting_position,
            row.detail,
        )
        return self.message(notice, window(session, event, self.clock()), row.message_id)

    def message(
        self, notice: Notice, window: Window, message_id: str | None = None
    ) -> EmailMessage:
        event, registration = notice.event, notice.registration
        subject, intro = _subject_and_intro(notice)
        changes = _changes(notice)
        facts = _facts(notice)
        link = self.link_for(registration)
        rights = _what_the_link_allows(window, notice.status)
        contact = event.contact
        signature = (
            f"W razie pytań: {contact.name}, {contact.role}, tel. {contact.phone}, "
            f"e-mail {contact.email}. Możesz też po prostu odpowiedzieć na tę wiadomość."
        )
        greeting = f"Dzień dobry {registration.first_name},"
        text = "\n".join(
            [
                greeting,
                "",
                intro,
                "",
                *(f"{label}: było {was}, jest {now}" for label, was, now in changes),
                *([""] if changes else []),
                *(f"{label}: {value}" for label, value in facts),
                "",
                f"Twój prywatny link do zgłoszenia ({rights}):",
                link,
                "Nie przekazuj go innym osobom – kto go zna, może zmienić Twoje zgłoszenie.",
                "",
                signature,
                "",
                "Ośrodek Wsparcia Ekonomii Społecznej w Zielonej Górze",
            ]
        )
        rows = Markup("").join(
            Markup("<tr><th align='left'>{}</th><td>{}</td></tr>").format(label, value)
            for label, value in facts
        )
        changed = Markup("").join(
            Markup("<li>{}: było {}, jest <strong>{}</strong></li>").format(label, was, now)
            for label, was, now in changes
        )
        html = Markup(
            "<p>{greeting}</p><p>{intro}</p>{changed}<table>{rows}</table>"
            "<p>Twój prywatny link do zgłoszenia ({rights}):<br>"
            "<a href='{link}'>{link}</a><br>"
            "<small>Nie przekazuj go innym osobom – kto go zna, może zmienić Twoje "
            "zgłoszenie.</small></p><p>{signature}</p>"
            "<p>Ośrodek Wsparcia Ekonomii Społecznej w Zielonej Górze</p>"
        ).format(
            greeting=greeting,
            intro=intro,
            changed=Markup("<ul>{}</ul>").format(changed) if changes else "",
            rows=rows,
            rights=rights,
            link=link,
            signature=signature,
        )
        attachments: tuple[Attachment, ...] = ()
        if _confirms_seat(notice):
            ics = calendar(event, registration)
            attachments = (
                Attachment("wydarzenie.ics", ics, "text", "calendar", (("method", "PUBLISH"),)),
            )
        return compose(
            sender=self.sender,
            to=[ascii_address(registration.email)],
            subject=f"{subject}: {event.short_title or event.title}",
            text=text,
            html=str(html),
            reply_to=str(contact.email),
            attachments=attachments,
            message_id=message_id,
        )


def _confirms_seat(notice: Notice) -> bool:
    if notice.kind in _SEAT_CONFIRMED:
        return True
    seat_kinds = (NoticeKind.REGISTERED, NoticeKind.EVENT_CHANGED)
    return notice.kind in seat_kinds and notice.status is Status.CONFIRMED


def _changes(notice: Notice) -> list[tuple[str, str, str]]:
    """What staff changed in the event (label, was, is), for `EVENT_CHANGED`."""
    if notice.kind is not NoticeKind.EVENT_CHANGED or not notice.detail:
        return []
    changes: dict[str, list[str]] = json.loads(notice.detail).get("changes", {})
    return [(label, was, now) for label, (was, now) in changes.items()]


def _subject_and_intro(notice: Notice) -> tuple[str, str]:
    if notice.kind is NoticeKind.REGISTERED:
        if notice.status is Status.CONFIRMED:
            return (
                "Potwierdzenie zgłoszenia",
                "dziękujemy za zgłoszenie – Twoje miejsce jest potwierdzone. "
                "W załączniku jest termin do kalendarza.",
            )
        return (
            "Zgłoszenie na liście rezerwowej",
            "dziękujemy za zgłoszenie. Wszystkie miejsca są zajęte, dlatego jesteś na liście "
            f"rezerwowej (miejsce {notice.waiting_position}). Gdy zwolni się miejsce, "
            "potwierdzimy Twój udział automatycznie i napiszemy do Ciebie.",
        )
    return _SUBJECTS[notice.kind], _INTROS[notice.kind]


def _facts(notice: Notice) -> list[tuple[str, str]]:
    event, registration = notice.event, notice.registration
    status = notice.status.label
    if notice.waiting_position is not None:
        status += f" (miejsce {notice.waiting_position})"
    facts = [
        ("Wydarzenie", event.title),
        ("Termin", f"{event_dates(event)} r."),
        ("Miejsce", event.venue),
    ]
    if event.provided:
        facts.append(("Zapewniamy", ", ".join(event.provided)))
    facts += [
        ("Uczestnik", registration.full_name),
        ("Przedsiębiorstwo", registration.enterprise_name),
        ("Numer zgłoszenia", registration.id),
        ("Status", status),
    ]
    return facts


def _what_the_link_allows(window: Window, status: Status) -> str:
    """What the link still lets the participant do when the e-mail is sent."""
    event = window.event
    cancel = f"rezygnacja do {date_pl(event.starts_on - timedelta(days=1))} r."
    if not status.active or not window.cancellation_allowed:
        return "podgląd"
    if not window.changes_allowed:
        return f"podgląd, {cancel}"
    return f"podgląd, zmiana danych do {date_pl(window.closed_on)} r., {cancel}"


def calendar(event: Event, registration: Registration) -> bytes:
    """The event as an all-day entry for the participant's calendar (RFC 5545)."""
    cal = Calendar()
    cal.add("prodid", "-//OWES Zielona Góra//rejestracja//PL")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", f"{registration.id}.{event.slug}@owes-rejestracja")
    # Each saved version of an event made in the staff pages is a higher number: a calendar
    # replaces the entry it has with the one of a later e-mail (same UID).
    entry.add("sequence", event.version or 0)
    entry.add("dtstamp", registration.updated_at or registration.received_at)
    entry.add("dtstart", event.starts_on)
    entry.add("dtend", event.ends_on + timedelta(days=1))  # exclusive end of an all-day event
    entry.add("summary", event.title)
    entry.add("location", event.venue)
    entry.add("description", event.summary)
    entry.add("organizer", f"mailto:{event.contact.email}", parameters={"cn": event.contact.name})
    cal.add_component(entry)
    ical: bytes = cal.to_ical()
    return ical
