"""The e-mails a participant gets, in Polish, each with their private link.

`ParticipantMail` is the domain's `Notify`: it queues each notice in the outbox inside the
transaction of the change, so the e-mail goes out if and only if the change committed; the
outbox's sender has it compose the message when it is sent (`compose`), outside any request.
The one e-mail that is not the participant's, to the event's contact about special needs, is
composed at once and kept whole, like every staff e-mail (an erasure rewrites it while unsent).

Every e-mail speaks as an institution writes: `Dzień dobry,` without a name, the polite plural
or impersonal forms, never a form that needs the person's gender.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from icalendar import Calendar
from icalendar import Event as CalendarEvent
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.organisation import Organisation
from mail.html import document
from mail.outbox import QueuedNotice, enqueue, enqueue_notices
from mail.participation import PARTICIPANT_KINDS, STAFF_SEAT_NOT_OFFERED, ParticipationMail
from mail.staff_message_mail import staff_message
from mail.transport import Attachment, compose
from registrations.event import Event
from registrations.models import Registration
from registrations.notices import Notice, NoticeKind
from registrations.polish import date_text, event_when
from registrations.powiaty import fold
from registrations.schema import DIET_LABELS, Diet
from registrations.status import REJECTION_REASON, Status
from registrations.validators import ascii_address
from registrations.window import Window, window
from staff.links import staff_registration_url
from store.models import OutboxMessage

LinkFor = Callable[[Registration], str]
GREETING = "Dzień dobry,"
SPECIAL_NEEDS_NOTED = "Odnotowaliśmy szczególne potrzeby; w razie pytań skontaktujemy się."
STAFF_SPECIAL_NEEDS = "staff_special_needs"  # the outbox kind of the e-mail to the contact

_INTROS: dict[NoticeKind, str] = {
    NoticeKind.CHANGED: "Zmiany w zgłoszeniu zostały zapisane. Aktualne dane zgłoszenia podajemy "
    "poniżej i pod linkiem.",
    NoticeKind.CANCELLED: "Zgłoszenie zostało anulowane (rezygnacja z udziału). Dziękujemy "
    "za informację.",
    NoticeKind.PROMOTED: "Zwolniło się miejsce i udział w wydarzeniu jest teraz potwierdzony. "
    "Jeśli przyjazd nie będzie możliwy, prosimy o rezygnację przez link poniżej – miejsce "
    "otrzyma wtedy kolejna osoba z listy rezerwowej.",
    NoticeKind.CONFIRMED: "Organizator potwierdził udział w wydarzeniu.",
    NoticeKind.REJECTED: "Z przykrością informujemy, że zgłoszenie zostało odrzucone przez "
    f"organizatora. Powód: {REJECTION_REASON}. W razie pytań prosimy o kontakt.",
    NoticeKind.LINK: "Zgodnie z prośbą przesyłamy link do zgłoszenia.",
    NoticeKind.EVENT_CHANGED: "Organizator zmienił szczegóły wydarzenia. Zmiany i aktualne "
    "informacje podajemy poniżej.",
    NoticeKind.CORRECTED: "Organizator poprawił dane zgłoszenia. Zmienione dane podajemy poniżej.",
}
_SUBJECTS: dict[NoticeKind, str] = {
    NoticeKind.CHANGED: "Zmiana danych zgłoszenia",
    NoticeKind.CANCELLED: "Rezygnacja zapisana",
    NoticeKind.PROMOTED: "Zwolniło się miejsce – udział potwierdzony",
    NoticeKind.CONFIRMED: "Udział potwierdzony",
    NoticeKind.REJECTED: "Zgłoszenie odrzucone",
    NoticeKind.LINK: "Link do zgłoszenia",
    NoticeKind.LINKS: "Linki do zgłoszeń",
    NoticeKind.EVENT_CHANGED: "Zmiana w wydarzeniu",
    NoticeKind.CORRECTED: "Poprawione dane zgłoszenia",
}
# The status in the e-mail's facts: each status in its own words (never `przyjęte`, which is
# only what staff type in the sheet).
STATUS_WORDS: dict[Status, str] = {
    Status.CONFIRMED: "potwierdzone – miejsce jest zarezerwowane",
    Status.WAITLISTED: "na liście rezerwowej",
    Status.CANCELLED: "rezygnacja",
    Status.REJECTED: "odrzucone",
}
# An updated calendar entry goes with a seat confirmed and with an event's new details.
_SEAT_CONFIRMED = (
    NoticeKind.REGISTERED,
    NoticeKind.PROMOTED,
    NoticeKind.CONFIRMED,
    NoticeKind.EVENT_CHANGED,
)
_SEAT_GIVEN_UP = (NoticeKind.CANCELLED, NoticeKind.REJECTED)
_DECISION_KINDS = (NoticeKind.CANCELLED, NoticeKind.REJECTED, NoticeKind.CONFIRMED)


class ParticipantMail:
    """Composes each notice as an e-mail and queues it in the outbox of the same transaction."""

    def __init__(
        self,
        sender: str,
        link_for: LinkFor,
        clock: Callable[[], datetime],
        event_of: Callable[[str], Event | None],
        *,
        organisation: Organisation,
        base_url: str,
        event_url: Callable[[Event], str],
    ) -> None:
        self.sender = sender
        self.link_for = link_for
        self.clock = clock
        self.event_of = event_of  # the published event in force, by slug
        self.organisation = organisation
        self.base_url = base_url
        self.event_url = event_url
        self.before_event = ParticipationMail(  # reminders and offers (issue 19)
            sender, link_for, clock, organisation=organisation.name, base_url=base_url
        )

    def __call__(self, session: Session, notices: Sequence[Notice]) -> None:
        now = self.clock()
        for notice in notices:
            if notice.kind is NoticeKind.SPECIAL_NEEDS:
                enqueue(
                    session,
                    self.special_needs_message(notice),
                    kind=STAFF_SPECIAL_NEEDS,
                    registration_id=None,  # a staff e-mail: an erasure rewrites it, unsent
                    now=now,
                )
            elif notice.kind is NoticeKind.SEAT_NOT_OFFERED:
                enqueue(
                    session,
                    self.before_event.seat_not_offered(notice),
                    kind=STAFF_SEAT_NOT_OFFERED,
                    registration_id=None,
                    now=now,
                )
        enqueue_notices(
            session,
            [
                QueuedNotice(
                    kind=notice.kind.value,
                    registration_id=notice.registration.id,
                    event_slug=notice.event.slug,
                    status=notice.status.value,
                    waiting_position=notice.waiting_position,
                    calendar_sequence=notice.calendar_sequence,
                    detail=notice.detail,
                )
                for notice in notices
                if notice.kind not in (NoticeKind.SPECIAL_NEEDS, NoticeKind.SEAT_NOT_OFFERED)
                and notice.registration.email  # taken by phone without an address: nobody
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
            detail=row.detail,
            calendar_sequence=row.calendar_sequence,
        )
        if notice.kind is NoticeKind.MESSAGE:  # written by staff in `…/wiadomosci`
            return staff_message(
                session,
                notice,
                sender=self.sender,
                link=self.link_for(registration),
                organisation=self.organisation.name,
                message_id=row.message_id,
            )
        if notice.kind is NoticeKind.LINKS:
            return self.links_message(session, notice, row.message_id)
        if notice.kind in PARTICIPANT_KINDS:
            return self.before_event.compose(session, notice, row.message_id)
        return self.message(notice, window(session, event, self.clock()), row.message_id)

    def links_message(
        self, session: Session, notice: Notice, message_id: str | None = None
    ) -> EmailMessage:
        """The lost-link page's answer to an address several people registered with: each
        person's own link, in one e-mail (an erased person's is left out)."""
        event = notice.event
        ids: list[str] = json.loads(notice.detail or "{}").get("registrations", [])
        query = select(Registration).where(
            Registration.id.in_(ids), Registration.erased_at.is_(None)
        )
        people = sorted(session.scalars(query), key=lambda r: ids.index(r.id))
        intro = (
            "Zgodnie z prośbą przesyłamy linki do zgłoszeń złożonych z tym adresem e-mail. "
            "Każda osoba ma własny link – prosimy przekazać go tylko tej osobie."
        )
        entries = [
            (f"{r.full_name} ({r.id}, {STATUS_WORDS[Status(r.status)]})", self.link_for(r))
            for r in people
        ]
        text = [GREETING, "", intro, "", f"Wydarzenie: {event.title}", ""]
        for label, link in entries:
            text += [f"{label}:", link, ""]
        text += [_signature(event), "", self.organisation.name]
        items = Markup("").join(
            Markup('<li>{}:<br><a href="{}">{}</a></li>').format(label, link, link)
            for label, link in entries
        )
        html = Markup("<p>{}</p><p>{}</p><p>Wydarzenie: {}</p><ul>{}</ul><p>{}</p><p>{}</p>")
        subject = f"{_SUBJECTS[NoticeKind.LINKS]}: {event.short_title or event.title}"
        return compose(
            sender=self.sender,
            to=[ascii_address(notice.registration.email)],
            subject=subject,
            text="\n".join(text) + "\n",
            html=document(
                subject,
                str(
                    html.format(
                        GREETING,
                        intro,
                        event.title,
                        items,
                        _signature(event),
                        self.organisation.name,
                    )
                ),
            ),
            reply_to=str(event.contact.email),
            message_id=message_id,
        )

    def message(
        self, notice: Notice, window: Window, message_id: str | None = None
    ) -> EmailMessage:
        event, registration = notice.event, notice.registration
        subject, intro = _subject_and_intro(notice)
        letter = Letter(
            intro=intro,
            changes=_changes(notice),
            facts=_facts(notice),
            choices=_choices(notice) if notice.status.active else [],
            notes=_notes(notice),
            link=self.link_for(registration),
            rights=_what_the_link_allows(window, notice.status),
            signature=_signature(event),
            organisation=self.organisation.name,
            clause=(
                self.organisation.information_clause.paragraphs()
                if notice.kind is NoticeKind.REGISTERED
                else []
            ),
        )
        attachments: tuple[Attachment, ...] = ()
        if (method := _calendar_method(notice)) is not None:
            assert notice.calendar_sequence is not None
            ics = calendar(
                event,
                registration,
                sequence=notice.calendar_sequence,
                method=method,
                event_url=self.event_url(event),
                stamp=self.clock(),
            )
            attachments = (
                Attachment("wydarzenie.ics", ics, "text", "calendar", (("method", method),)),
            )
        full_subject = f"{subject}: {event.short_title or event.title}"
        return compose(
            sender=self.sender,
            to=[ascii_address(registration.email)],
            subject=full_subject,
            text=letter.text(),
            html=document(full_subject, letter.html()),
            reply_to=str(event.contact.email),
            attachments=attachments,
            message_id=message_id,
        )

    def special_needs_message(self, notice: Notice) -> EmailMessage:
        """To the event's contact: special needs were stated (or changed) in a registration.

        It names the registration and links to its staff page, never the need itself: it may
        be health data, which an e-mail should not carry.
        """
        event, registration = notice.event, notice.registration
        url = staff_registration_url(self.base_url, registration.id)
        what = "zmienione" if registration.version > 1 else "podane"
        intro = (
            f"W zgłoszeniu {registration.id} ({registration.full_name}, "
            f"{registration.enterprise_name}) na wydarzenie „{event.title}” zostały {what} "
            "szczególne potrzeby. Ich treść nie jest przesyłana e-mailem, bo może dotyczyć "
            "zdrowia: jest na stronie zgłoszenia w panelu obsługi i w arkuszu zgłoszeń "
            "(kolumna „Szczególne potrzeby”)."
        )
        text = "\n".join([GREETING, "", intro, "", f"Strona zgłoszenia: {url}", ""])
        html = Markup('<p>{}</p><p>{}</p><p>Strona zgłoszenia: <a href="{}">{}</a></p>').format(
            GREETING, intro, url, url
        )
        subject = f"Szczególne potrzeby w zgłoszeniu {registration.id}: " + (
            event.short_title or event.title
        )
        return compose(
            sender=self.sender,
            to=[str(event.contact.email)],
            subject=subject,
            text=text,
            html=document(subject, str(html)),
        )


@dataclass(frozen=True)
class Letter:
    """A participant's e-mail as parts, written out as text and as HTML alike."""

    intro: str
    changes: list[tuple[str, str, str]]  # what staff changed in the event: label, was, is
    facts: list[tuple[str, str]]
    choices: list[tuple[str, str]]
    notes: list[str]
    link: str
    rights: str
    signature: str
    organisation: str
    clause: list[tuple[str, list[str]]]

    def text(self) -> str:
        lines = [GREETING, "", self.intro, ""]
        if self.changes:
            lines += [f"{label}: było {was}, jest {now}" for label, was, now in self.changes]
            lines += [""]
        lines += [f"{label}: {value}" for label, value in self.facts]
        if self.choices:
            lines += ["", "Wybrane w zgłoszeniu:"]
            lines += [f"{label}: {value}" for label, value in self.choices]
        if self.notes:
            lines += ["", *self.notes]
        lines += [
            "",
            f"Prywatny link do zgłoszenia ({self.rights}):",
            self.link,
            "Link jest przeznaczony tylko dla osoby zgłoszonej – kto go zna, może zmienić "
            "zgłoszenie. Prosimy go nie przekazywać.",
            "",
            self.signature,
            "",
            self.organisation,
        ]
        if self.clause:
            lines += ["", "Informacja o przetwarzaniu danych osobowych (RODO)"]
            for heading, paragraphs in self.clause:
                lines += ["", f"{heading}:", *paragraphs]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        parts = [Markup("<p>{}</p><p>{}</p>").format(GREETING, self.intro)]
        if self.changes:
            items = Markup("").join(
                Markup("<li>{}: było {}, jest <strong>{}</strong></li>").format(label, was, now)
                for label, was, now in self.changes
            )
            parts.append(Markup("<ul>{}</ul>").format(items))
        parts.append(_table(self.facts))
        if self.choices:
            parts += [Markup("<h2>Wybrane w zgłoszeniu</h2>"), _table(self.choices)]
        parts += [Markup("<p>{}</p>").format(note) for note in self.notes]
        parts.append(
            Markup(
                "<p>Prywatny link do zgłoszenia ({rights}):<br>"
                '<a href="{link}">{link}</a><br>'
                "<small>Link jest przeznaczony tylko dla osoby zgłoszonej – kto go zna, może "
                "zmienić zgłoszenie. Prosimy go nie przekazywać.</small></p>"
                "<p>{signature}</p><p>{organisation}</p>"
            ).format(
                rights=self.rights,
                link=self.link,
                signature=self.signature,
                organisation=self.organisation,
            )
        )
        if self.clause:
            parts.append(Markup("<h2>Informacja o przetwarzaniu danych osobowych (RODO)</h2>"))
            for heading, paragraphs in self.clause:
                parts.append(Markup("<h3>{}</h3>").format(heading))
                parts += [Markup("<p>{}</p>").format(paragraph) for paragraph in paragraphs]
        return str(Markup("").join(parts))


def _table(rows: list[tuple[str, str]]) -> Markup:
    cells = Markup("").join(
        Markup('<tr><th align="left" scope="row">{}</th><td>{}</td></tr>').format(label, value)
        for label, value in rows
    )
    return Markup("<table>{}</table>").format(cells)


def _signature(event: Event) -> str:
    contact = event.contact
    return (
        f"W razie pytań: {contact.name}, {contact.role}, tel. {contact.phone}, "
        f"e-mail {contact.email}. Można też odpowiedzieć na tę wiadomość."
    )


def _calendar_method(notice: Notice) -> str | None:
    """`PUBLISH` for a seat confirmed, `CANCEL` for a seat given up, None without a calendar."""
    if notice.calendar_sequence is None:
        return None
    if notice.kind in _SEAT_CONFIRMED and notice.status is Status.CONFIRMED:
        return "PUBLISH"
    if notice.kind in _SEAT_GIVEN_UP:
        return "CANCEL"
    return None


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
                "Dziękujemy za zgłoszenie – miejsce na wydarzeniu jest potwierdzone. "
                "W załączniku przesyłamy termin do kalendarza.",
            )
        return (
            "Zgłoszenie na liście rezerwowej",
            "Dziękujemy za zgłoszenie. Wszystkie miejsca są zajęte, dlatego zgłoszenie zostało "
            f"wpisane na listę rezerwową (miejsce {notice.waiting_position}). Gdy zwolni się "
            "miejsce, udział zostanie potwierdzony automatycznie – poinformujemy o tym e-mailem.",
        )
    intro = _INTROS[notice.kind]
    if (reason := _reason(notice)) is not None:
        intro = _with_reason(notice.kind, reason)
    if _calendar_method(notice) == "CANCEL":
        intro += " W załączniku jest odwołanie terminu w kalendarzu."
    return _SUBJECTS[notice.kind], intro


def _reason(notice: Notice) -> str | None:
    """The reason staff gave with their decision (the sheet's `Powód decyzji`, or the page's)."""
    if notice.kind not in _DECISION_KINDS or not notice.detail:
        return None
    reason = json.loads(notice.detail).get("reason")
    return str(reason) if reason else None


def _with_reason(kind: NoticeKind, reason: str) -> str:
    """The decision's intro with staff's reason in place of the canned sentence."""
    given = reason.rstrip().rstrip(".")
    if kind is NoticeKind.REJECTED:
        return (
            "Z przykrością informujemy, że zgłoszenie zostało odrzucone przez organizatora. "
            f"Powód: {given}. W razie pytań prosimy o kontakt."
        )
    return f"{_INTROS[kind]} Powód decyzji organizatora: {given}."


def provided_for(event: Event, registration: Registration) -> list[str]:
    """What the event provides for this person: the night only to those who take it (an item
    of `provided` that names a `nocleg`)."""
    return [
        item for item in event.provided if registration.accommodation or "nocleg" not in fold(item)
    ]


def _facts(notice: Notice) -> list[tuple[str, str]]:
    event, registration = notice.event, notice.registration
    status = STATUS_WORDS[notice.status]
    if notice.waiting_position is not None:
        status += f" (miejsce {notice.waiting_position})"
    facts = [
        ("Wydarzenie", event.title),
        ("Termin", event_when(event)),
        ("Miejsce", event.venue),
    ]
    if provided := provided_for(event, registration):
        facts.append(("Zapewniamy", ", ".join(provided)))
    facts += [
        ("Uczestnik", registration.full_name),
        ("Przedsiębiorstwo", registration.enterprise_name),
        ("Numer zgłoszenia", registration.id),
        ("Status", status),
    ]
    return facts


def _choices(notice: Notice) -> list[tuple[str, str]]:
    """What the person chose, restated so a mistake is seen in time."""
    event, registration = notice.event, notice.registration
    choices = []
    if event.accommodation_label:
        night = f"tak – {event.accommodation_label}" if registration.accommodation else "nie"
        choices.append(("Nocleg", night))
    diet = DIET_LABELS.get(Diet(registration.diet), registration.diet) if registration.diet else ""
    if registration.diet_other:
        diet = f"{diet} ({registration.diet_other})"
    choices.append(("Dieta", diet))
    if event.ask_gender:
        choices.append(("Płeć", registration.gender or "nie podano"))
    choices.append(("Zgoda na wizerunek", "tak" if registration.consent_image else "nie"))
    return choices


def _notes(notice: Notice) -> list[str]:
    notes = _corrected(notice)
    if notice.status.active and notice.registration.special_needs:
        notes.append(SPECIAL_NEEDS_NOTED)
    return notes


def _corrected(notice: Notice) -> list[str]:
    """What staff corrected (`CORRECTED`): each field with its new value."""
    if notice.kind is not NoticeKind.CORRECTED or not notice.detail:
        return []
    corrected: dict[str, str] = json.loads(notice.detail).get("corrected", {})
    return [f"{label}: {value}" for label, value in corrected.items()]


def _what_the_link_allows(window: Window, status: Status) -> str:
    """What the link still lets the participant do when the e-mail is sent."""
    event = window.event
    cancel = f"rezygnacja do {date_text(event.starts_on - timedelta(days=1))}"
    if not status.active or not window.cancellation_allowed:
        return "podgląd"
    if not window.changes_allowed:
        return f"podgląd, {cancel}"
    return f"podgląd, zmiana danych do {date_text(window.closed_on)}, {cancel}"


def calendar(
    event: Event,
    registration: Registration,
    *,
    sequence: int,
    method: str,
    event_url: str,
    stamp: datetime,
) -> bytes:
    """The event for the participant's calendar (RFC 5545): timed when the event file gives
    hours, else whole days. `CANCEL` withdraws the entry sent before: the same UID and
    ORGANIZER, a higher SEQUENCE. The description has the public page and the contact's
    phone, never the private link."""
    cal = Calendar()
    cal.add("prodid", "-//OWES Zielona Góra//rejestracja//PL")
    cal.add("version", "2.0")
    cal.add("method", method)
    entry = CalendarEvent()
    entry.add("uid", f"{registration.id}.{event.slug}@owes-rejestracja")
    entry.add("sequence", sequence)
    entry.add("dtstamp", stamp)
    if event.timed:
        entry.add("dtstart", event.begins_at.astimezone(UTC))
        entry.add("dtend", event.finishes_at.astimezone(UTC))
    else:
        entry.add("dtstart", event.starts_on)
        entry.add("dtend", event.ends_on + timedelta(days=1))  # exclusive end of all-day
    entry.add("summary", event.title)
    entry.add("location", event.venue)
    contact = event.contact
    entry.add(
        "description",
        f"{event.summary}\n\nStrona wydarzenia: {event_url}\n"
        f"Kontakt: {contact.name}, tel. {contact.phone}",
    )
    entry.add("url", event_url)
    entry.add("organizer", f"mailto:{contact.email}", parameters={"cn": contact.name})
    if method == "CANCEL":
        entry.add("status", "CANCELLED")
        entry.add("attendee", f"mailto:{ascii_address(registration.email)}")
    else:
        entry.add("status", "CONFIRMED")
    cal.add_component(entry)
    ical: bytes = cal.to_ical()
    return ical
