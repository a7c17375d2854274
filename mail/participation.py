"""The e-mails before the event: the reminder with its one-click answer, a seat offered from the
waiting list, and the contact's two notes (a seat left free; who has not answered).

The participant's two are composed when sent, like every participant e-mail (`ParticipantMail`
hands them here); the offer's deadline is counted from that moment, which is when its e-mail is
handed to SMTP, and an offer that could no longer last `OFFER_MIN_TIME` is not sent at all (the
outbox gives it up, and the offer round tells the contact). The contact's are composed at once
and kept whole, like every staff e-mail (an erasure rewrites them while unsent).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkin.codes import CHECKIN_SENTENCE, checkin_attachment
from mail.html import document
from mail.transport import Attachment, compose
from registrations.answers import choice_of, questions_of
from registrations.event import Event
from registrations.models import Registration
from registrations.notices import Notice, NoticeKind
from registrations.participation import OFFER_MIN_TIME, OfferState, offer_deadline
from registrations.polish import datetime_pl, event_when
from registrations.questions import Kind, folded
from registrations.status import Status
from registrations.validators import ascii_address
from staff.links import staff_event_url, staff_registration_url
from store.models import OutboxMessage

GREETING = "Dzień dobry,"
BOARDING_KEY = "miejsce_wsiadania"  # the transport set's question (`question_editing._transport`)
BOARDING_LABEL = "Miejsce wsiadania"
ANSWER_PATH = "/udzial"
STAFF_SEAT_NOT_OFFERED = "staff_seat_not_offered"  # outbox kinds of the contact's e-mails
STAFF_UNANSWERED = "staff_unanswered"
PARTICIPANT_KINDS = (NoticeKind.REMINDER, NoticeKind.OFFERED)
_HOW_ONE_WORKS = (
    "Link otwiera stronę z jednym przyciskiem – rezygnacja zostaje zapisana dopiero po jego "
    "naciśnięciu."
)
_HOW_IT_WORKS = (
    "Każdy z tych linków otwiera stronę z jednym przyciskiem – odpowiedź zostaje zapisana "
    "dopiero po jego naciśnięciu."
)


def answer_url(manage_link: str, answer: str) -> str:
    """The one-click answer's page under the private link: `…/udzial?odpowiedz=tak`."""
    return f"{manage_link}{ANSWER_PATH}?odpowiedz={answer}"


def boarding_point_of(session: Session, event: Event, registration: Registration) -> str | None:
    """The pick-up point the person chose, `label – description` (`Żary, dworzec PKP – odjazd
    7:00`), where the event asks `Miejsce wsiadania`; None when it does not or they have not
    answered, so the reminder lists every line of the event's `departure`.

    The transport set's question is keyed `miejsce_wsiadania` (its label folded, fixed at
    creation); a `wybor` question relabelled to it later keeps its own key, so it is found by
    its label too."""
    key = _boarding_key(session, event.slug)
    choice = choice_of(session, registration, key) if key is not None else None
    if choice is None:
        return None
    return f"{choice.label} – {choice.description}" if choice.description else choice.label


def _boarding_key(session: Session, slug: str) -> str | None:
    questions = [q for q in questions_of(session, slug) if q.kind is Kind.CHOICE]
    for question in questions:
        if question.key == BOARDING_KEY:
            return question.key
    wanted = folded(BOARDING_LABEL)
    return next((q.key for q in questions if folded(q.label) == wanted), None)


def departure_lines(session: Session, event: Event, registration: Registration) -> list[str]:
    """The reminder's departure: the person's own pick-up point, else the event's list."""
    chosen = boarding_point_of(session, event, registration)
    return [chosen] if chosen else list(event.departure)


def offer_mail_state(session: Session, registration_id: str) -> tuple[datetime | None, bool]:
    """The latest offer e-mail of the registration: when SMTP took it, or whether it was given
    up (the offers' round opens or drops the offer by it)."""
    query = (
        select(OutboxMessage.sent_at, OutboxMessage.gave_up_at, OutboxMessage.expired_at)
        .where(
            OutboxMessage.registration_id == registration_id,
            OutboxMessage.kind == NoticeKind.OFFERED.value,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    if found is None:
        return None, False
    sent_at, gave_up_at, expired_at = found
    return sent_at, sent_at is None and (gave_up_at is not None or expired_at is not None)


class ParticipationMail:
    """Composes the e-mails of this module; `ParticipantMail` hands it the notices."""

    def __init__(
        self,
        sender: str,
        link_for: Callable[[Registration], str],
        clock: Callable[[], datetime],
        *,
        organisation: str,
        base_url: str,
    ) -> None:
        self.sender = sender
        self.link_for = link_for
        self.clock = clock
        self.organisation = organisation
        self.base_url = base_url

    def compose(
        self, session: Session, notice: Notice, message_id: str | None
    ) -> EmailMessage | None:
        """A reminder or an offer as it is sent now; None when it is no longer due."""
        registration, event = notice.registration, notice.event
        now = self.clock()
        if notice.kind is NoticeKind.REMINDER:
            if registration.status != Status.CONFIRMED or now >= event.starts_at:
                return None
            return self._reminder(session, notice, message_id)
        row = registration.participation
        if (
            registration.status != Status.WAITLISTED
            or row is None
            or row.offer_state != OfferState.PENDING.value
        ):
            return None
        deadline = offer_deadline(event, now)
        if deadline - now < OFFER_MIN_TIME:
            return None  # given up: the round tells the contact, the seat stays free
        return self._offer(notice, deadline, message_id)

    def _reminder(self, session: Session, notice: Notice, message_id: str | None) -> EmailMessage:
        event, registration = notice.event, notice.registration
        second = notice.detail == "second"
        details = notice.detail == "details"
        if details:
            intro = (
                f"Przypominamy o wydarzeniu „{event.title}”. Udział jest potwierdzony – "
                "poniżej podajemy szczegóły. Gdyby przyjazd okazał się niemożliwy, prosimy o "
                "rezygnację jednym kliknięciem: miejsce otrzyma ktoś z listy rezerwowej."
            )
        elif second:
            intro = (
                f"Wydarzenie „{event.title}” zaczyna się już jutro. Nie otrzymaliśmy jeszcze "
                "odpowiedzi, czy udział jest aktualny – prosimy o nią jednym kliknięciem."
            )
        else:
            intro = (
                f"Przypominamy o wydarzeniu „{event.title}”. Prosimy o potwierdzenie, czy udział "
                "jest nadal aktualny – wystarczy jedno kliknięcie. Miejsce osoby, która nie może "
                "przyjechać, otrzyma ktoś z listy rezerwowej."
            )
        facts = [("Termin", event_when(event)), ("Miejsce", event.venue)]
        if event.programme:
            facts.append(("Program", "\n".join(event.programme)))
        if departure := departure_lines(session, event, registration):
            facts.append(("Wyjazd", "\n".join(departure)))
        if event.what_to_bring:
            facts.append(("Co zabrać", event.what_to_bring))
        facts += [("Uczestnik", registration.full_name), ("Numer zgłoszenia", registration.id)]
        # The check-in code (issue 20): its QR attached, to show at the door.
        checkin = checkin_attachment(session, registration, self.base_url)
        if checkin is not None:
            facts.append(("Kod obecności", CHECKIN_SENTENCE))
        link = self.link_for(registration)
        answers = [
            ("Potwierdzam udział", answer_url(link, "tak")),
            ("Rezygnuję z udziału", answer_url(link, "nie")),
        ][1 if details else 0 :]
        subject = "Jutro wydarzenie" if second else "Prośba o potwierdzenie udziału"
        if details:
            subject = "Przypomnienie o wydarzeniu"
        attachments = (checkin,) if checkin is not None else ()
        return self._letter(
            event, registration, subject, intro, facts, answers, message_id, attachments
        )

    def _offer(self, notice: Notice, deadline: datetime, message_id: str | None) -> EmailMessage:
        event, registration = notice.event, notice.registration
        until = datetime_pl(event.local(deadline))
        intro = (
            f"Zwolniło się miejsce – prosimy o potwierdzenie do {until}. Do tego czasu miejsce "
            "czeka na to zgłoszenie; bez potwierdzenia otrzyma je kolejna osoba z listy "
            "rezerwowej. Do potwierdzenia zgłoszenie pozostaje na liście rezerwowej."
        )
        facts = [
            ("Wydarzenie", event.title),
            ("Termin", event_when(event)),
            ("Miejsce", event.venue),
            ("Uczestnik", registration.full_name),
            ("Numer zgłoszenia", registration.id),
            ("Oferta ważna do", until),
        ]
        link = self.link_for(registration)
        answers = [
            ("Potwierdzam udział – przyjmuję miejsce", answer_url(link, "tak")),
            ("Nie mogę przyjechać – rezygnuję", answer_url(link, "nie")),
        ]
        subject = "Zwolniło się miejsce – prosimy o potwierdzenie"
        return self._letter(event, registration, subject, intro, facts, answers, message_id)

    def _letter(
        self,
        event: Event,
        registration: Registration,
        subject: str,
        intro: str,
        facts: Sequence[tuple[str, str]],
        answers: Sequence[tuple[str, str]],
        message_id: str | None,
        attachments: tuple[Attachment, ...] = (),
    ) -> EmailMessage:
        contact = event.contact
        signature = (
            f"W razie pytań: {contact.name}, {contact.role}, tel. {contact.phone}, "
            f"e-mail {contact.email}. Można też odpowiedzieć na tę wiadomość."
        )
        link = self.link_for(registration)
        lines = [GREETING, "", intro, ""]
        for label, value in facts:
            first, *rest = value.split("\n")
            lines.append(f"{label}: {first}")
            lines += [f"  {more}" for more in rest]
        lines.append("")
        for label, url in answers:
            lines += [f"{label}:", url]
        how = _HOW_IT_WORKS if len(answers) > 1 else _HOW_ONE_WORKS
        lines += [how, "", "Prywatny link do zgłoszenia:", link, ""]
        lines += [signature, "", self.organisation]
        rows = Markup("").join(
            Markup('<tr><th align="left" scope="row">{}</th><td>{}</td></tr>').format(
                label, Markup("<br>").join(value.split("\n"))
            )
            for label, value in facts
        )
        buttons = Markup("").join(
            Markup('<p><a href="{}">{}</a></p>').format(url, label) for label, url in answers
        )
        html = Markup(
            "<p>{}</p><p>{}</p><table>{}</table>{}<p><small>{}</small></p>"
            '<p>Prywatny link do zgłoszenia:<br><a href="{}">{}</a></p><p>{}</p><p>{}</p>'
        ).format(GREETING, intro, rows, buttons, how, link, link, signature, self.organisation)
        full_subject = f"{subject}: {event.short_title or event.title}"
        return compose(
            sender=self.sender,
            to=[ascii_address(registration.email)],
            subject=full_subject,
            text="\n".join(lines) + "\n",
            html=document(full_subject, str(html)),
            reply_to=str(event.contact.email),
            message_id=message_id,
            attachments=attachments,
        )

    def seat_not_offered(self, notice: Notice) -> EmailMessage:
        """To the contact: a seat is free and no offer was made; staff decide (or phone)."""
        event, registration = notice.event, notice.registration
        why = {
            "too_late": "do północy przed pierwszym dniem zostałoby mniej niż 2 godziny na "
            "odpowiedź",
            "by_phone": f"pierwsza osoba na liście rezerwowej, {registration.full_name} "
            f"({registration.id}), nie podała adresu e-mail – prosimy o kontakt telefoniczny",
            "undelivered": f"e-maila z ofertą do {registration.full_name} ({registration.id}) "
            "nie udało się doręczyć",
        }.get(notice.detail or "", "oferty nie można było wysłać")
        intro = (
            f"Na wydarzeniu „{event.title}” zwolniło się miejsce, ale nie zostało zaoferowane "
            f"osobie z listy rezerwowej: {why}. Miejsce pozostaje wolne – o jego przydzieleniu "
            "decyduje organizator (np. „przyjęte” w kolumnie „Decyzja organizatora”)."
        )
        url = staff_event_url(self.base_url, event.slug)
        subject = f"Wolne miejsce bez oferty: {event.short_title or event.title}"
        return self._to_contact(event, subject, intro, [], url)

    def unanswered(self, event: Event, people: Sequence[Registration]) -> EmailMessage:
        """To the contact, the day before: who has not confirmed their participation."""
        intro = (
            f"Jutro zaczyna się wydarzenie „{event.title}”. Te osoby z potwierdzonym miejscem "
            "nie odpowiedziały na przypomnienie (nie potwierdziły udziału):"
        )
        items = [
            (f"{r.id} – {r.full_name}", staff_registration_url(self.base_url, r.id)) for r in people
        ]
        url = staff_event_url(self.base_url, event.slug)
        subject = f"Bez potwierdzenia udziału: {event.short_title or event.title}"
        return self._to_contact(event, subject, intro, items, url)

    def _to_contact(
        self, event: Event, subject: str, intro: str, items: list[tuple[str, str]], url: str
    ) -> EmailMessage:
        lines = [GREETING, "", intro, ""]
        lines += [f"- {label}: {link}" for label, link in items]
        lines += ["", f"Strona wydarzenia w panelu obsługi: {url}", ""]
        listed = Markup("").join(
            Markup('<li><a href="{}">{}</a></li>').format(link, label) for label, link in items
        )
        html = Markup(
            '<p>{}</p><p>{}</p>{}<p>Strona wydarzenia w panelu obsługi: <a href="{}">{}</a></p>'
        ).format(GREETING, intro, Markup("<ul>{}</ul>").format(listed) if items else "", url, url)
        return compose(
            sender=self.sender,
            to=[str(event.contact.email)],
            subject=subject,
            text="\n".join(lines),
            html=document(subject, str(html)),
        )
