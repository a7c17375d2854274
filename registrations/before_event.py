"""The operations before the event: a participant's one-click answer (`tak`/`nie`), the
reminders' and offers' rounds, each one transaction under the event's lock.

`nie` is the private link's cancellation itself (`Registrations.cancel`), with the answer
recorded in its transaction; `tak` records the confirmation, or takes the seat an open offer
holds. The rules are in `registrations.participation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from checkin.codes import codes_for
from registrations.allocation import count, lock_event
from registrations.event import Event
from registrations.models import Participation, ParticipationEvent, Registration
from registrations.notices import Notice, NoticeKind
from registrations.operations import Registrations, StoreUnavailable
from registrations.participation import (
    HOLDING,
    Answer,
    OfferState,
    Tell,
    anyone_to_offer,
    first_reminder_at,
    free_seats,
    make_offers,
    offer_handed_over,
    offer_undelivered,
    offers_window,
    row_of,
    second_reminder_at,
    settle,
    told_of,
    unanswered_list_at,
)
from registrations.status import Status
from registrations.window import Transactions

# What the outbox says of a registration's latest offer e-mail: when it was handed to SMTP,
# and whether it was given up (None: still waiting to be sent, or none queued).
OfferMailState = Callable[[Session, str], tuple[datetime | None, bool]]


def _no_mail_state(session: Session, registration_id: str) -> tuple[datetime | None, bool]:
    return None, False


class Outcome(StrEnum):
    CONFIRMED = "confirmed"  # `tak` recorded (again: nothing changed)
    ACCEPTED = "accepted"  # `tak` took the offered seat
    CANCELLED = "cancelled"  # `nie`: cancelled as by the private link


class AnswerRefused(Exception):
    """`tak` cannot be taken: `reason` is `expired`, `no_offer`, `full`, `inactive` or
    `started`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reminded:
    """One reminder queued: to whom, and whether it was the second."""

    registration_id: str
    second: bool


class Participations:
    """Answers, reminders and offers over the same store, lock and notices as `Registrations`."""

    def __init__(
        self, registrations: Registrations, offer_mail: OfferMailState = _no_mail_state
    ) -> None:
        self.registrations = registrations
        self.store = registrations.store
        self.offer_mail = offer_mail

    # -- a participant -------------------------------------------------------------------

    def answer(self, event: Event, token: str, answer: Answer, *, now: datetime) -> Outcome:
        """The one-click answer; `nie` cancels, `tak` confirms or takes an offered seat."""
        if answer is Answer.NO:
            return self._decline(event, token, now)
        try:
            with self.store.transaction() as session:
                lock_event(session, event, check=False)
                registration = self.registrations._own(session, event, token)
                outcome = self._accept(session, event, registration, now)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from None
        if isinstance(outcome, AnswerRefused):
            raise outcome
        return outcome

    def _accept(
        self, session: Session, event: Event, registration: Registration, now: datetime
    ) -> Outcome | AnswerRefused:
        """`tak` under the lock; a refusal is returned, so what it settled is committed."""
        if now >= event.starts_at:
            return AnswerRefused("started")
        status = Status(registration.status)
        row = row_of(session, registration.id, event.slug)
        if status is Status.CONFIRMED:
            if row.answer != Answer.YES.value:
                row.answer, row.answered_at = Answer.YES.value, now
                registration.touch(now)
            return Outcome.CONFIRMED
        if status is not Status.WAITLISTED:
            return AnswerRefused("inactive")
        self._open_handed_over(session, event, row, now)
        if row.offer_state == OfferState.EXPIRED.value or (
            row.offer_state == OfferState.OPEN.value
            and row.offer_expires_at is not None
            and now >= row.offer_expires_at
        ):
            self._pass_on(session, event, now)  # the next person's offer goes at once
            return AnswerRefused("expired")
        if row.offer_state != OfferState.OPEN.value:
            return AnswerRefused("no_offer")
        # An offer never confirms above capacity: staff may have confirmed someone meanwhile.
        if count(session, event, status=Status.CONFIRMED) >= event.capacity:
            row.offer_state, row.offer_closed_at = OfferState.CLOSED.value, now
            registration.touch(now)
            return AnswerRefused("full")
        row.offer_state, row.offer_closed_at = OfferState.ACCEPTED.value, now
        row.answer, row.answered_at = Answer.YES.value, now
        regs = self.registrations
        sequence = regs._set_status(
            session, event, registration, Status.CONFIRMED, now, "participant"
        )
        regs._tell(session, NoticeKind.PROMOTED, event, registration, sequence)
        return Outcome.ACCEPTED

    def _decline(self, event: Event, token: str, now: datetime) -> Outcome:
        def record(session: Session, registration: Registration) -> None:
            row = row_of(session, registration.id, event.slug)
            row.answer, row.answered_at = Answer.NO.value, now
            if row.offer_state in HOLDING:
                row.offer_state, row.offer_closed_at = OfferState.DECLINED.value, now

        self.registrations.cancel(event, token, now=now, also=record)
        return Outcome.CANCELLED

    # -- the worker's rounds -------------------------------------------------------------

    def run_offers(self, event: Event, now: datetime) -> bool:
        """Open the offers whose e-mail was handed over, close the expired ones and pass their
        seats on; only when something is due (most rounds take no lock). True when it wrote."""
        if not offers_window(event, now) and not self._holding(event):
            return False
        with self.store.reading() as session:
            due = self._offers_due(session, event, now)
        if not due:
            return False
        with self.store.transaction() as session:
            lock_event(session, event, check=False)
            for row in self._holding_rows(session, event):
                self._open_handed_over(session, event, row, now)
            self._pass_on(session, event, now)
        return True

    def _holding(self, event: Event) -> bool:
        with self.store.reading() as session:
            query = select(Participation.registration_id).where(
                Participation.event_slug == event.slug, Participation.offer_state.in_(HOLDING)
            )
            return session.scalar(query.limit(1)) is not None

    def _holding_rows(self, session: Session, event: Event) -> list[Participation]:
        query = select(Participation).where(
            Participation.event_slug == event.slug, Participation.offer_state.in_(HOLDING)
        )
        return list(session.scalars(query))

    def _offers_due(self, session: Session, event: Event, now: datetime) -> bool:
        """Whether the offers need a write: one handed over or given up, one expired, or a
        free seat while someone waits who was not offered one."""
        for row in self._holding_rows(session, event):
            if row.offer_state == OfferState.PENDING.value:
                if self.offer_mail(session, row.registration_id) != (None, False):
                    return True
            elif row.offer_expires_at is not None and now >= row.offer_expires_at:
                return True
            status = session.scalar(
                select(Registration.status).where(Registration.id == row.registration_id)
            )
            if status != Status.WAITLISTED.value:
                return True
        if now >= event.starts_at or not offers_window(event, now):
            return False
        free = free_seats(session, event)
        if free <= 0 or not anyone_to_offer(session, event):
            return False
        told = session.get(ParticipationEvent, event.slug)  # read only: none is none told
        return free > (told.seats_not_offered or 0 if told is not None else 0)

    def _open_handed_over(
        self, session: Session, event: Event, row: Participation, now: datetime
    ) -> None:
        """A queued offer whose e-mail SMTP took is open from that moment; one given up is
        no offer (the seat stays free, the contact is told)."""
        if row.offer_state != OfferState.PENDING.value:
            return
        sent_at, gave_up = self.offer_mail(session, row.registration_id)
        if sent_at is not None:
            offer_handed_over(session, event, row.registration_id, sent_at)
            if row.offer_expires_at is not None and now >= row.offer_expires_at:
                row.offer_state, row.offer_closed_at = OfferState.EXPIRED.value, now
        elif gave_up:
            offer_undelivered(session, event, row.registration_id, now, self._tell(session))

    def _pass_on(self, session: Session, event: Event, now: datetime) -> None:
        settle(session, event, now)
        if offers_window(event, now):
            make_offers(session, event, now, self._tell(session))

    def _tell(self, session: Session) -> Tell:
        return lambda notices: self.registrations.notify(session, notices)

    def send_reminders(self, event: Event, now: datetime) -> list[Reminded]:
        """Queue the reminders that are due: the first to every confirmed person with an
        address who has had none (a missed moment too, until 00:00 of `starts_on`; a seat
        confirmed later gets it at once), the second the day before to those who have not
        answered and had their first on an earlier day. Each at most once per person: the
        row's moment is written with the e-mail, under the event's lock."""
        first = first_reminder_at(event)
        if first is None or now < first or now >= event.starts_at:
            return []
        with self.store.reading() as session:
            if not self._reminders_due(session, event, now):
                return []
        reminded: list[Reminded] = []
        with self.store.transaction() as session:
            lock_event(session, event, check=False)
            for registration, second in self._reminders_due(session, event, now):
                row = row_of(session, registration.id, event.slug)
                if second:
                    row.second_reminder_at = now
                else:
                    row.first_reminder_at = now
                registration.touch(now)
                reminded.append(Reminded(registration.id, second))
                kind = "second" if second else "first"
                if row.answer == Answer.YES.value:
                    kind = "details"  # confirmed already: the details, and the way out
                notice = Notice(
                    NoticeKind.REMINDER, event, registration, Status.CONFIRMED, detail=kind
                )
                self.registrations.notify(session, [notice])
                # The reminder carries the check-in QR code (issue 20): made now if missing.
                codes_for(session, [registration], now)
        return reminded

    def _reminders_due(
        self, session: Session, event: Event, now: datetime
    ) -> list[tuple[Registration, bool]]:
        query = (
            select(Registration, Participation)
            .outerjoin(Participation, Participation.registration_id == Registration.id)
            .where(
                Registration.event_slug == event.slug,
                Registration.status == Status.CONFIRMED.value,
                Registration.erased_at.is_(None),
                Registration.email != "",
            )
            .order_by(Registration.seq)
        )
        second = second_reminder_at(event)
        day_before = event.starts_at - timedelta(days=1)
        due: list[tuple[Registration, bool]] = []
        for registration, row in session.execute(query).all():
            if row is None or row.first_reminder_at is None:
                # One who said `tak` before (an offer taken) still gets the details, once.
                due.append((registration, False))
            elif (
                second is not None
                and now >= second
                and row.second_reminder_at is None
                and row.answer is None
                and row.first_reminder_at < day_before
            ):
                due.append((registration, True))
        return due


def send_unanswered_list(
    store: Transactions,
    event: Event,
    now: datetime,
    queue: Callable[[Session, list[Registration]], None],
) -> bool:
    """The day before, once: `queue` the contact's list of those who have not answered (in
    the transaction that records it was sent). True when it was queued now."""
    moment = unanswered_list_at(event)
    if moment is None or now < moment or now >= event.starts_at:
        return False
    with store.reading() as session:
        told = session.get(ParticipationEvent, event.slug)
        if told is not None and told.unanswered_sent_at is not None:
            return False
    with store.transaction() as session:
        lock_event(session, event, check=False)
        told = told_of(session, event)
        if told.unanswered_sent_at is not None:
            return False
        told.unanswered_sent_at = now
        people = unanswered(session, event)
        if people:
            queue(session, people)
    return True


def to_phone(session: Session, event: Event, now: datetime) -> list[Registration]:
    """Confirmed people without an address, once the reminders are due: staff phone them
    (`do obdzwonienia` in the digest and on the event's staff page)."""
    first = first_reminder_at(event)
    if first is None or now < first:
        return []
    query = (
        select(Registration)
        .outerjoin(Participation, Participation.registration_id == Registration.id)
        .where(
            Registration.event_slug == event.slug,
            Registration.status == Status.CONFIRMED.value,
            Registration.erased_at.is_(None),
            or_(Registration.email.is_(None), Registration.email == ""),
            Participation.answer.is_(None),
        )
        .order_by(Registration.last_name, Registration.first_name)
    )
    return list(session.scalars(query))


def unanswered(session: Session, event: Event) -> list[Registration]:
    """Confirmed people who have not answered `tak` (the list the contact gets the day before)."""
    query = (
        select(Registration)
        .outerjoin(Participation, Participation.registration_id == Registration.id)
        .where(
            Registration.event_slug == event.slug,
            Registration.status == Status.CONFIRMED.value,
            Registration.erased_at.is_(None),
            or_(Participation.answer.is_(None), Participation.answer != Answer.YES.value),
        )
        .order_by(Registration.last_name, Registration.first_name)
    )
    return list(session.scalars(query))
