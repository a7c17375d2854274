"""Messages staff write to participants (`/obsluga/wydarzenia/<slug>/wiadomosci`): the subject
and text with placeholders, checked when saved, filled in per person when each e-mail is sent;
the recipients chosen by status or ticked; one e-mail per person through the outbox.

Placeholders are plain substitution of exactly the names in `PLACEHOLDERS`; `{{` and `}}` write
a brace; anything else between braces is refused, naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from registrations.allocation import lock_event
from registrations.answers import registrations_choosing
from registrations.desk import has_address
from registrations.desk_models import StaffMessage, StaffMessageRecipient
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import Registration
from registrations.notices import Notice, NoticeKind
from registrations.operations import Registrations, _stored
from registrations.polish import event_when
from registrations.status import Status

PLACEHOLDERS: dict[str, str] = {
    "imie": "imię",
    "nazwisko": "nazwisko",
    "imie_nazwisko": "imię i nazwisko",
    "przedsiebiorstwo": "nazwa przedsiębiorstwa",
    "wydarzenie": "nazwa wydarzenia",
    "termin": "termin wydarzenia",
    "miejsce": "miejsce wydarzenia",
    "link": "prywatny link do zgłoszenia",
}
SUBJECT_MAX = 150
BODY_MAX = 10_000
REPEAT_WINDOW = timedelta(days=7)
# Whom a message goes to, by status: the choices of the page (potwierdzone by default).
GROUPS: dict[str, tuple[str, tuple[Status, ...]]] = {
    "potwierdzone": ("potwierdzone", (Status.CONFIRMED,)),
    "rezerwowa": ("lista rezerwowa", (Status.WAITLISTED,)),
    "aktywne": ("wszystkie aktywne", (Status.CONFIRMED, Status.WAITLISTED)),
    "zaznaczone": ("zaznaczone w tabeli", (Status.CONFIRMED, Status.WAITLISTED)),
}
DEFAULT_GROUP = "potwierdzone"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateError(ValueError):
    """A placeholder that is not one, or a brace without its pair (the Polish message)."""


def check_template(text: str) -> None:
    """Raise TemplateError naming the first unknown placeholder or lone brace."""
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            raise TemplateError(
                f"Znak „{token}” bez pary. Nawias klamrowy w treści zapisuje się "
                f"jako „{token * 2}”."
            )
        if match.group(1) not in PLACEHOLDERS:
            raise TemplateError(
                f"Nieznane pole {token}. Dozwolone: "
                + ", ".join("{" + name + "}" for name in PLACEHOLDERS)
                + "; nawias klamrowy zapisuje się jako {{ lub }}."
            )


def fill(text: str, values: dict[str, str]) -> str:
    """The text with its placeholders replaced (checked before: `check_template`)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name is None or name not in values:
            return token
        return values[name]

    return _TOKEN.sub(replace, text)


def values_for(event: Event, registration: Registration, link: str) -> dict[str, str]:
    return {
        "imie": registration.first_name,
        "nazwisko": registration.last_name,
        "imie_nazwisko": registration.full_name,
        "przedsiebiorstwo": registration.enterprise_name,
        "wydarzenie": event.title,
        "termin": event_when(event),
        "miejsce": event.venue,
        "link": link,
    }


@dataclass(frozen=True)
class Draft:
    """A message as staff wrote it, checked: `errors` by field (Polish), empty when fine."""

    subject: str
    body: str
    errors: dict[str, str]

    @classmethod
    def of(cls, subject: str, body: str) -> Draft:
        subject = subject.strip()
        body = body.replace("\r\n", "\n").strip()
        errors: dict[str, str] = {}
        if not subject:
            errors["subject"] = "Należy podać temat wiadomości."
        elif "\n" in subject or "\r" in subject:
            errors["subject"] = "Temat musi być jednym wierszem."
        elif len(subject) > SUBJECT_MAX:
            errors["subject"] = f"Temat może mieć najwyżej {SUBJECT_MAX} znaków."
        else:
            try:
                check_template(subject)
            except TemplateError as exc:
                errors["subject"] = str(exc)
        if not body:
            errors["body"] = "Należy wpisać treść wiadomości."
        elif len(body) > BODY_MAX:
            errors["body"] = f"Treść może mieć najwyżej {BODY_MAX} znaków."
        else:
            try:
                check_template(body)
            except TemplateError as exc:
                errors["body"] = str(exc)
        return cls(subject, body, errors)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.subject}\n\x00\n{self.body}".encode()).hexdigest()


def new_send_key() -> str:
    """The confirmation form's one-time key."""
    return secrets.token_urlsafe(24)


def recipients(
    session: Session,
    event: Event,
    group: str,
    ticked: Sequence[str] = (),
    choices: Mapping[str, str] | None = None,
) -> list[Registration]:
    """The event's registrations a message goes to, in the order they registered.

    `choices` (`{question key: choice key}`) narrows the status group to those whose answer
    holds each choice: everyone boarding in Żary, of the confirmed."""
    statuses = GROUPS.get(group, GROUPS[DEFAULT_GROUP])[1]
    query = select(Registration).where(
        Registration.event_slug == event.slug,
        Registration.erased_at.is_(None),
        Registration.status.in_([status.value for status in statuses]),
    )
    if group == "zaznaczone":
        query = query.where(Registration.id.in_(list(ticked)))
    people = list(session.scalars(query.order_by(Registration.seq)))
    for key, choice_key in (choices or {}).items():
        chosen = set(
            registrations_choosing(session, event.slug, key, choice_key, active_only=False)
        )
        people = [person for person in people if person.id in chosen]
    return people


@dataclass(frozen=True)
class Repeat:
    """The same subject and text sent to some of the same people lately."""

    sent_at: datetime
    sent_by: str


def earlier_same(
    session: Session, event: Event, draft: Draft, ids: Sequence[str], now: datetime
) -> Repeat | None:
    """The latest message with this subject and text sent to any of `ids` in the last 7 days."""
    if not ids:
        return None
    query = (
        select(StaffMessage)
        .join(StaffMessageRecipient, StaffMessageRecipient.message_id == StaffMessage.id)
        .where(
            StaffMessage.event_slug == event.slug,
            StaffMessage.fingerprint == draft.fingerprint,
            StaffMessage.sent_at > now - REPEAT_WINDOW,
            StaffMessageRecipient.registration_id.in_(list(ids)),
        )
        .order_by(StaffMessage.sent_at.desc())
    )
    found = session.scalars(query.limit(1)).first()
    return Repeat(found.sent_at, found.sent_by) if found is not None else None


@dataclass(frozen=True)
class Sent:
    """What a send did: the message, who got an e-mail, who is to be phoned; `again`: this
    form was sent before (nothing more was sent)."""

    message_id: int
    mailed: list[str]
    by_phone: list[Registration]
    again: bool = False


class RepeatNotConfirmed(Exception):
    def __init__(self, repeat: Repeat) -> None:
        super().__init__("repeat")
        self.repeat = repeat


def send(
    registrations: Registrations,
    event: Event,
    draft: Draft,
    *,
    group: str,
    ticked: Sequence[str],
    choices: Mapping[str, str] | None = None,
    send_key: str,
    repeat_confirmed: bool,
    actor: str,
    now: datetime,
) -> Sent:
    """Record the message and queue one e-mail per person with an address, in one transaction:
    the outbox sends them at its pace. The form's one-time key makes a second submit find the
    first and send nothing more."""
    assert not draft.errors
    return registrations._again(
        event,
        lambda current: _send_once(
            registrations,
            current,
            draft,
            group=group,
            ticked=ticked,
            choices=choices,
            send_key=send_key,
            repeat_confirmed=repeat_confirmed,
            actor=actor,
            now=now,
        ),
    )


def _send_once(
    registrations: Registrations,
    event: Event,
    draft: Draft,
    *,
    group: str,
    ticked: Sequence[str],
    choices: Mapping[str, str] | None = None,
    send_key: str,
    repeat_confirmed: bool,
    actor: str,
    now: datetime,
) -> Sent:
    with _stored(), registrations.store.transaction() as session:
        lock_event(session, event)
        done = session.scalar(select(StaffMessage).where(StaffMessage.send_key == send_key))
        if done is not None:
            return _sent_before(session, done)
        people = recipients(session, event, group, ticked, choices)
        ids = [person.id for person in people]
        repeat = earlier_same(session, event, draft, ids, now)
        if repeat is not None and not repeat_confirmed:
            raise RepeatNotConfirmed(repeat)
        message = StaffMessage(
            event_slug=event.slug,
            subject=draft.subject,
            body=draft.body,
            fingerprint=draft.fingerprint,
            sent_by=actor,
            sent_at=now,
            send_key=send_key,
        )
        session.add(message)
        session.flush()
        notices = []
        for person in people:
            mailed = has_address(person)
            session.add(
                StaffMessageRecipient(
                    message_id=message.id, registration_id=person.id, by_phone=int(not mailed)
                )
            )
            if mailed:
                notices.append(
                    Notice(
                        NoticeKind.MESSAGE,
                        event,
                        person,
                        Status(person.status),
                        detail=json.dumps({"message": message.id}),
                    )
                )
        registrations.notify(session, notices)
        record(
            session,
            actor=actor,
            action=Action.MESSAGE_SENT,
            at=now,
            event_slug=event.slug,
            registration_ids=ids,
            detail=f"wiadomosc-{message.id}",
        )
        return Sent(
            message.id,
            [p.id for p in people if has_address(p)],
            [p for p in people if not has_address(p)],
        )


def _sent_before(session: Session, message: StaffMessage) -> Sent:
    rows = list(
        session.execute(
            select(Registration, StaffMessageRecipient.by_phone)
            .join(StaffMessageRecipient, StaffMessageRecipient.registration_id == Registration.id)
            .where(StaffMessageRecipient.message_id == message.id)
            .order_by(Registration.seq)
        )
    )
    return Sent(
        message.id,
        [r.id for r, by_phone in rows if not by_phone],
        [r for r, by_phone in rows if by_phone],
        again=True,
    )


def message_of(session: Session, detail: str | None) -> StaffMessage | None:
    """The staff message an outbox row (`detail`) names."""
    try:
        message_id = int(json.loads(detail or "{}").get("message"))
    except (TypeError, ValueError):
        return None
    return session.get(StaffMessage, message_id)
