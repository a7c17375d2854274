"""Before the event: reminders asking "are you still coming?", the answer, and seats freed late
offered to the waiting list for a limited time.

The rules only, over a session whose transaction holds the event's lock (`lock_event`); the
operations that use them are `Registrations` (cancel, promote, decide) and `Participations`
(the answers, the reminders' rounds). Nothing here sends mail: each step reports a `Notice`.

Timeline of one event (local time of the event): the first reminder at `reminder_time`,
`reminder_days_before` days before `starts_on`; a second one at `reminder_time` the day before
to those who have not answered; from `offers_from_days` before `starts_on` a freed seat is
offered (for `offer_hours` from the hand-off of its e-mail, never past 00:00 of `starts_on`)
instead of given; at 00:00 of `starts_on` everything stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from registrations.event import Event
from registrations.models import Participation, ParticipationEvent, Registration
from registrations.notices import Notice, NoticeKind
from registrations.status import Status

# An offer is not made when less than this would remain to answer it.
OFFER_MIN_TIME = timedelta(hours=2)
# The list of those who did not answer goes to the contact this long after the second reminder
# (on the day before the event, 23:00 at the latest).
UNANSWERED_LIST_AFTER = timedelta(hours=6)


class Answer(StrEnum):
    YES = "tak"
    NO = "nie"


class OfferState(StrEnum):
    PENDING = "pending"  # queued: its e-mail not yet handed to SMTP
    OPEN = "open"  # handed over: until `offer_expires_at`
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CLOSED = "closed"  # the person's status changed otherwise (cancelled, staff's decision)
    UNDELIVERED = "undelivered"  # its e-mail was given up: the seat stays free
    BY_PHONE = "by_phone"  # no address: not offered, the contact phones


HOLDING = (OfferState.PENDING.value, OfferState.OPEN.value)  # an offer that holds a seat


def local_moment(event: Event, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=event.tz)


def first_reminder_at(event: Event) -> datetime | None:
    """When the first reminder is due; None when the event sends none."""
    if event.reminder_days_before <= 0:
        return None
    day = event.starts_on - timedelta(days=event.reminder_days_before)
    return local_moment(event, day, event.reminder_time)


def second_reminder_at(event: Event) -> datetime | None:
    """The day before at `reminder_time`; None when that is the first reminder's moment."""
    if event.reminder_days_before <= 1:
        return None
    return local_moment(event, event.starts_on - timedelta(days=1), event.reminder_time)


def unanswered_list_at(event: Event) -> datetime | None:
    """When the contact gets the list of those who have not answered (the day before)."""
    if event.reminder_days_before <= 0:
        return None
    day_before = event.starts_on - timedelta(days=1)
    moment = local_moment(event, day_before, event.reminder_time) + UNANSWERED_LIST_AFTER
    return min(moment, local_moment(event, day_before, time(23, 0)))


def offers_window(event: Event, now: datetime) -> bool:
    """Whether a freed seat is offered (not given) at `now`."""
    if event.offers_from_days <= 0 or now >= event.starts_at:
        return False
    return now >= event.starts_at - timedelta(days=event.offers_from_days)


def offer_deadline(event: Event, handed_at: datetime) -> datetime:
    """The end of an offer whose e-mail was handed to SMTP at `handed_at`."""
    return min(handed_at + timedelta(hours=event.offer_hours), event.starts_at)


def row_of(session: Session, registration_id: str, event_slug: str) -> Participation:
    """The registration's row, created when it has none yet."""
    row = session.get(Participation, registration_id)
    if row is None:
        row = Participation(registration_id=registration_id, event_slug=event_slug)
        session.add(row)
    return row


def holding_offers(session: Session, event: Event) -> int:
    """Offers that hold a seat (queued or open)."""
    query = select(func.count()).where(
        Participation.event_slug == event.slug, Participation.offer_state.in_(HOLDING)
    )
    return session.scalar(query) or 0


def _confirmed(session: Session, event: Event) -> int:
    query = select(func.count()).where(
        Registration.event_slug == event.slug, Registration.status == Status.CONFIRMED.value
    )
    return session.scalar(query) or 0


def free_seats(session: Session, event: Event) -> int:
    """Seats neither confirmed nor held by an offer."""
    return max(event.capacity - _confirmed(session, event) - holding_offers(session, event), 0)


def settle(session: Session, event: Event, now: datetime) -> int:
    """Close the offers that no longer hold a seat: expired, or their person no longer waiting
    (cancelled, rejected, confirmed by staff). How many were closed."""
    query = (
        select(Participation, Registration.status)
        .join(Registration, Registration.id == Participation.registration_id)
        .where(Participation.event_slug == event.slug, Participation.offer_state.in_(HOLDING))
    )
    closed = 0
    for row, status in session.execute(query).all():
        if status != Status.WAITLISTED.value:
            row.offer_state, row.offer_closed_at = OfferState.CLOSED.value, now
            closed += 1
        elif row.offer_expires_at is not None and now >= row.offer_expires_at:
            row.offer_state, row.offer_closed_at = OfferState.EXPIRED.value, now
            closed += 1
        elif now >= event.starts_at:
            row.offer_state, row.offer_closed_at = OfferState.EXPIRED.value, now
            closed += 1
    if closed:
        session.flush()
    return closed


def _waiting_unoffered(event: Event) -> ColumnElement[bool]:
    offered = select(Participation.registration_id).where(
        Participation.event_slug == event.slug, Participation.offer_state.is_not(None)
    )
    return (
        (Registration.event_slug == event.slug)
        & (Registration.status == Status.WAITLISTED.value)
        & Registration.id.not_in(offered)
    )


def next_waiting(session: Session, event: Event) -> list[Registration]:
    """The waiting list in order, without those offered a seat before (once per person)."""
    query = select(Registration).where(_waiting_unoffered(event)).order_by(Registration.seq)
    return list(session.scalars(query))


def anyone_to_offer(session: Session, event: Event) -> bool:
    """Whether `next_waiting` has anyone (one row read, for the rounds' check)."""
    query = select(Registration.id).where(_waiting_unoffered(event)).limit(1)
    return session.scalar(query) is not None


def told_of(session: Session, event: Event) -> ParticipationEvent:
    row = session.get(ParticipationEvent, event.slug)
    if row is None:
        row = ParticipationEvent(slug=event.slug, seats_not_offered=0)
        session.add(row)
    return row


Tell = Callable[[Sequence[Notice]], None]


@dataclass
class OfferRound:
    """What `make_offers` did: the offers queued, and the seats it left free for staff."""

    offered: list[Registration]
    kept_free: int


def make_offers(session: Session, event: Event, now: datetime, tell: Tell) -> OfferRound:
    """Inside the offers window: each free seat is offered to the next person waiting.

    No offer when less than `OFFER_MIN_TIME` would remain, nor to a person without an address:
    the seat stays free for staff and the contact is e-mailed at once. Seats left free so are
    counted (`ParticipationEvent.seats_not_offered`), so the contact hears of each seat once
    and the next round does not offer it after all.
    """
    settle(session, event, now)
    free = free_seats(session, event)
    told = told_of(session, event)
    told.seats_not_offered = min(told.seats_not_offered or 0, free)
    offerable = free - told.seats_not_offered
    round_ = OfferRound([], 0)
    if offerable <= 0:
        return round_
    too_late = offer_deadline(event, now) - now < OFFER_MIN_TIME
    unreachable: Registration | None = None
    for registration in next_waiting(session, event):
        if offerable <= 0:
            break
        if too_late:
            unreachable = registration
            break
        row = row_of(session, registration.id, event.slug)
        row.offer_made_at = now
        registration.touch(now)
        if not registration.email:  # staff phone them: their seat waits for staff's decision
            row.offer_state = OfferState.BY_PHONE.value
            unreachable = registration
            break
        row.offer_state = OfferState.PENDING.value
        round_.offered.append(registration)
        offerable -= 1
    session.flush()
    if round_.offered:
        tell([Notice(NoticeKind.OFFERED, event, r, Status.WAITLISTED) for r in round_.offered])
    if unreachable is not None:
        round_.kept_free = offerable if too_late else 1
        told.seats_not_offered += round_.kept_free
        reason = "too_late" if too_late else "by_phone"
        tell([_not_offered(event, unreachable, reason)])
    return round_


def _not_offered(event: Event, registration: Registration, reason: str) -> Notice:
    """To the contact: a seat is free and was not offered (`reason`), naming who waits."""
    status = Status(registration.status)
    return Notice(NoticeKind.SEAT_NOT_OFFERED, event, registration, status, detail=reason)


def offer_handed_over(session: Session, event: Event, registration_id: str, at: datetime) -> None:
    """The offer's e-mail was handed to SMTP at `at`: from now it runs until its deadline."""
    row = session.get(Participation, registration_id, with_for_update=True)
    if row is None or row.offer_state != OfferState.PENDING.value:
        return
    row.offer_state = OfferState.OPEN.value
    row.offer_sent_at = at
    row.offer_expires_at = offer_deadline(event, at)
    registration = session.scalar(select(Registration).where(Registration.id == registration_id))
    if registration is not None:
        registration.touch(at)  # the sheet's row says until when


def offer_undelivered(
    session: Session, event: Event, registration_id: str, at: datetime, tell: Tell
) -> None:
    """The offer's e-mail was given up: no offer, the seat stays free, the contact is told."""
    row = session.get(Participation, registration_id, with_for_update=True)
    if row is None or row.offer_state != OfferState.PENDING.value:
        return
    row.offer_state, row.offer_closed_at = OfferState.UNDELIVERED.value, at
    told = told_of(session, event)
    told.seats_not_offered = (told.seats_not_offered or 0) + 1
    registration = session.scalar(select(Registration).where(Registration.id == registration_id))
    if registration is not None:
        registration.touch(at)
        # Not sent because too little time was left by then (`mail.participation`), or failed.
        late = offer_deadline(event, at) - at < OFFER_MIN_TIME
        tell([_not_offered(event, registration, "too_late" if late else "undelivered")])


def open_offer_expiry(registration: Registration) -> datetime | None:
    """When the person's open offer ends (the registration JSON's `offer_expires_at`)."""
    row = registration.participation
    if row is None or row.offer_state != OfferState.OPEN.value:
        return None
    return row.offer_expires_at


def offered_pending(registration: Registration) -> bool:
    row = registration.participation
    return row is not None and row.offer_state == OfferState.PENDING.value


PARTICIPATION_HEADER = "Potwierdzenie udziału"


def participation_label(registration: Registration, event: Event) -> str:
    """The sheet's `Potwierdzenie udziału`: `potwierdzone 26.08 18:00`, `brak odpowiedzi` (a
    reminder went), `rezygnacja 26.08 18:00`, or for a person offered a seat `oferta ważna do
    26.08 18:00`; empty before anything was asked."""
    row = registration.participation
    if row is None:
        return ""

    def when(moment: datetime) -> str:
        return event.local(moment).strftime("%d.%m %H:%M")

    status = registration.status
    if status == Status.WAITLISTED.value:
        if row.offer_state == OfferState.OPEN.value and row.offer_expires_at is not None:
            return f"oferta ważna do {when(row.offer_expires_at)}"
        if row.offer_state == OfferState.PENDING.value:
            return "oferta w wysyłce"
        return ""
    if row.answer == Answer.NO.value and row.answered_at is not None:
        return f"rezygnacja {when(row.answered_at)}"
    if status != Status.CONFIRMED.value:
        return ""
    if row.answer == Answer.YES.value and row.answered_at is not None:
        return f"potwierdzone {when(row.answered_at)}"
    if row.first_reminder_at is not None:
        return "brak odpowiedzi"
    return ""


# The summary's counts of `Potwierdzenie udziału`: key → label.
COUNTED = {
    "confirmed": "Udział potwierdzony (odpowiedź „tak”)",
    "no_answer": "Bez odpowiedzi na przypomnienie",
    "declined": "Rezygnacja w odpowiedzi na przypomnienie",
    "offer": "Otwarte oferty miejsc z listy rezerwowej",
}


def participation_count_key(
    status: str, answer: str | None, offer_state: str | None, reminded_at: datetime | None
) -> str:
    """Which of `COUNTED` a registration counts in ("" for none)."""
    if status == Status.WAITLISTED.value:
        return "offer" if offer_state in HOLDING else ""
    if answer == Answer.NO.value:
        return "declined"
    if status != Status.CONFIRMED.value:
        return ""
    if answer == Answer.YES.value:
        return "confirmed"
    return "no_answer" if reminded_at is not None else ""


# What each record of `records` says, in Polish (the staff page and "my data" page).
RECORD_LABELS = {
    "reminder": "Przypomnienie z prośbą o potwierdzenie udziału",
    "second_reminder": "Drugie przypomnienie (dzień przed wydarzeniem)",
    "answer_yes": "Odpowiedź „tak” – udział potwierdzony",
    "answer_no": "Odpowiedź „nie” – rezygnacja",
    "offer_made": "Zwolnione miejsce zaoferowane z listy rezerwowej",
    "offer_sent": "E-mail z ofertą miejsca wysłany",
    "offer_accepted": "Oferta przyjęta",
    "offer_declined": "Oferta odrzucona",
    "offer_expired": "Oferta wygasła",
    "offer_closed": "Oferta zamknięta (zmiana statusu zgłoszenia)",
    "offer_undelivered": "Oferta niedoręczona – e-maila nie udało się wysłać",
    "offer_by_phone": "Miejsce nie zaoferowane e-mailem – brak adresu, kontakt telefoniczny",
}


@dataclass(frozen=True)
class Record:
    """One thing that happened before the event: `what` (a key of `RECORD_LABELS`), when, and
    until when (an offer's end)."""

    at: datetime
    what: str
    until: datetime | None = None

    @property
    def label(self) -> str:
        return RECORD_LABELS[self.what]


def records(row: Participation | None) -> list[Record]:
    """The reminders, answers and offer of a registration, oldest first: what its staff page
    (`/obsluga/zgloszenia/<id>`) and the person's own data show."""
    if row is None:
        return []
    found: list[Record] = []
    if row.first_reminder_at is not None:
        found.append(Record(row.first_reminder_at, "reminder"))
    if row.second_reminder_at is not None:
        found.append(Record(row.second_reminder_at, "second_reminder"))
    if row.offer_made_at is not None:
        kind = "offer_by_phone" if row.offer_state == OfferState.BY_PHONE.value else "offer_made"
        found.append(Record(row.offer_made_at, kind))
    if row.offer_sent_at is not None:
        found.append(Record(row.offer_sent_at, "offer_sent", row.offer_expires_at))
    if row.offer_closed_at is not None and f"offer_{row.offer_state}" in RECORD_LABELS:
        found.append(Record(row.offer_closed_at, f"offer_{row.offer_state}"))
    if row.answered_at is not None and row.answer in (Answer.YES.value, Answer.NO.value):
        found.append(Record(row.answered_at, "answer_yes" if row.answer == "tak" else "answer_no"))
    return sorted(found, key=lambda record: record.at)


def records_of(session: Session, registration_id: str) -> list[Record]:
    """`records` of the registration with this ID (for the staff page of a registration)."""
    return records(session.get(Participation, registration_id))
