"""Every state change of a registration, each one transaction under its event's lock.

Registering, changing, cancelling, staff decisions and promotion from the waiting list all go
through `Registrations`: the web pages, the JSON API, the staff's sheet and the commands call the
same operations, so the rules hold whoever acts. Each operation hands its notices to `notify`
inside its transaction (the e-mail outbox), and bumps the registration's version so its sheet
row is rewritten.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from registrations.allocation import (
    LockedState,
    StaleEvent,
    count,
    in_force,
    lock_event,
    lock_for_intake,
    promote_waiting,
    read_taken,
    waiting_position,
)
from registrations.answers import (
    Answer,
    answers_of,
    erase_answers,
    new_answer_rows,
    questions_of,
    save_answers,
    tallies,
)
from registrations.decisions import Decision
from registrations.enterprise import enterprise_key, nip_key
from registrations.erasure import ErasedBy, scrub
from registrations.errors import polish_errors
from registrations.event import Event
from registrations.group_commit import GroupCommit
from registrations.history import COMMAND, SHEET, Action, record
from registrations.identity import name_key
from registrations.models import (
    EventState,
    LinkRequest,
    PendingDecision,
    Registration,
    StatusChange,
    insert_rows,
    new_object,
    new_row_values,
)
from registrations.notices import Notice, NoticeKind, Notify, nobody
from registrations.participation import make_offers, offers_window
from registrations.questions import (
    ERROR_PREFIX,
    Question,
    check_answers,
    chosen_keys,
    full_message,
)
from registrations.schema import RegistrationIn
from registrations.status import Status
from registrations.tokens import LinkTokens
from registrations.validators import normalise_email
from registrations.window import RegistrationState, Transactions, Window, read_window

T = TypeVar("T")
P = ParamSpec("P")
LINK_RESEND_INTERVAL = timedelta(minutes=10)
ATTEMPTS = 3  # an operation that met a newer version of its event runs again with it
LINK_REQUESTS_PER_ROUND = 100
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread
EMAIL_IS_IDENTITY = (
    "Adresu e-mail nie można tu zmienić – to identyfikator zgłoszenia. "
    "W razie błędu prosimy o kontakt z organizatorem."
)


class Invalid(Exception):
    """The submission has mistakes; `errors` maps each field to a Polish message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class StoreUnavailable(Exception):
    """The database could not take the change; nothing was stored, try again."""


class RegistrationClosed(Exception):
    """The event does not take registrations at this moment."""

    def __init__(self, state: RegistrationState) -> None:
        super().__init__(state.value)
        self.state = state


class RegistrationRefused(Exception):
    """A valid submission the event's rules do not allow."""

    code = "refused"


class ClosedOff(RegistrationRefused):
    """Staff closed the event off (possibly before its deadline)."""

    code = "registration_closed"


class AlreadyRegistered(RegistrationRefused):
    code = "already_registered"


class WithdrawnBefore(AlreadyRegistered):
    """The address's registration was cancelled or rejected: only staff can bring it back."""


class EnterpriseLimitReached(RegistrationRefused):
    """The enterprise already has `limit` active registrations (the event's maximum)."""

    code = "enterprise_limit_reached"

    def __init__(self, limit: int | None = None) -> None:
        super().__init__(limit)
        self.limit = limit


class EmailLimitReached(RegistrationRefused):
    """The address already holds `max_per_email` active registrations of the event."""

    code = "email_limit_reached"


class ChangeNotAllowed(Exception):
    """The window for this change has passed: `reason` is `closed`, `started` or `inactive`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(Exception):
    """No such registration (or a link that is not one)."""


RACED = "raced"  # why a decision was not carried out: the participant acted in between
WITHDRAWN = "withdrawn"  # a pending decision withdrawn, replaced or ended before its time


@dataclass(frozen=True)
class DecisionOutcome:
    """What a staff decision did: the status before and after (equal when nothing changed)."""

    registration_id: str
    old_status: Status
    new_status: Status
    applied: bool  # False: handled before, or not carried out (`skipped` says why)
    skipped: str | None = None


@dataclass(frozen=True)
class ErasureOutcome:
    """What erasing one registration did: its status before and after; `already` when it had
    been erased before (nothing changed)."""

    registration_id: str
    old_status: Status
    new_status: Status
    already: bool = False


def new_registration_id() -> str:
    """A short ID staff can read out on the phone, e.g. `R-7K3F-9Q2M`."""
    # 40 random bits read at once, 5 per character (the alphabet has 32): one call for random
    # bytes, not eight, each of which lets go of the GIL in a busy process.
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    chars = "".join(_ID_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"R-{chars[:4]}-{chars[4:]}"


def enterprise_key_of(event: Event, data: RegistrationIn) -> str:
    """What `max_per_enterprise` counts by: the NIP where the event asks for it, else the name
    with its legal form however spelled (`registrations.enterprise`)."""
    if event.ask_nip and data.nip:
        return nip_key(data.nip)
    return enterprise_key(data.enterprise_name)


def payload_of(registration: Registration) -> dict[str, Any]:
    """The registration's data as the JSON API takes it: the base a partial change is laid on."""
    return {
        "first_name": registration.first_name,
        "last_name": registration.last_name,
        "enterprise_name": registration.enterprise_name,
        "powiat": registration.powiat,
        "role": registration.role,
        "nip": registration.nip,
        "email": registration.email,
        "phone": registration.phone,
        "pesel": registration.pesel,
        "birth_date": registration.birth_date.isoformat() if registration.birth_date else None,
        "accommodation": registration.accommodation,
        "gender": registration.gender,
        "diet": registration.diet,
        "diet_other": registration.diet_other,
        "special_needs": registration.special_needs,
        "consent_personal_data": registration.consent_personal_data,
        "consent_image": registration.consent_image,
    }


def validate(event: Event, payload: dict[str, Any], now: datetime) -> RegistrationIn:
    """Every field and the rules between them, with Polish messages."""
    try:
        return RegistrationIn.model_validate(
            payload, context={"event": event, "today": event.local(now).date()}
        )
    except ValidationError as exc:
        raise Invalid(polish_errors(exc)) from None


def validate_all(
    event: Event,
    questions: Sequence[Question],
    payload: dict[str, Any],
    now: datetime,
    *,
    stored: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> tuple[RegistrationIn, dict[str, Any]]:
    """The fields and the answers to the event's questions, every mistake in one round."""
    answers, errors = check_answers(
        questions, payload.get("answers"), stored=stored, received_at=received_at
    )
    try:
        data = validate(event, payload, now)
    except Invalid as invalid:
        raise Invalid({**invalid.errors, **errors}) from None
    if errors:
        raise Invalid(errors)
    return data, answers


def _full_choices(
    questions: Sequence[Question], answers: dict[str, Any], counts: dict[str, dict[str, int]]
) -> dict[str, str]:
    """`answers.<key>` errors for each chosen choice that has no seat left (`counts`: the
    takers so far), else nothing."""
    errors: dict[str, str] = {}
    for question in questions:
        for key in chosen_keys(answers.get(question.key)) if question.kind.has_choices else []:
            choice = question.choice(key)
            taken = counts.get(question.key, {}).get(key, 0)
            if choice is not None and choice.seats is not None and taken >= choice.seats:
                errors[f"answers.{question.key}"] = full_message(choice)
                break
    return errors


@contextmanager
def _stored() -> Iterator[None]:
    """A database failure becomes StoreUnavailable (its message has no parameters)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreUnavailable(str(exc)) from None


@dataclass(frozen=True)
class Registered:
    """A committed registration and its place on the waiting list at the commit."""

    registration: Registration
    waiting_position: int | None


@dataclass(frozen=True)
class _Submission:
    """A valid submission with its row built, waiting for its seat."""

    event: Event
    data: RegistrationIn
    source: str
    now: datetime
    registration: Registration
    questions: tuple[Question, ...] = ()
    answers: dict[str, Any] | None = None
    # The answers' rows, built before the lock for `questions` (the CPU under it is everyone's).
    answer_rows: list[dict[str, Any]] = field(default_factory=list)

    def renewed(self, registration: Registration) -> _Submission:
        return _Submission(
            self.event,
            self.data,
            self.source,
            self.now,
            registration,
            self.questions,
            self.answers,
            new_answer_rows(registration.id, self.event.slug, self.questions, self.answers or {}),
        )


def _with_event_in_force(
    operation: Callable[Concatenate[Registrations, Event, P], T],
) -> Callable[Concatenate[Registrations, Event, P], T]:
    """The operation runs again with the event read anew when it met a newer version of it."""

    @functools.wraps(operation)
    def run(self: Registrations, event: Event, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._again(event, lambda current: operation(self, current, *args, **kwargs))

    return run


class EventSource(Protocol):
    """Where the published version of an event in force is read (`catalogue.EventCatalogue`)."""

    def live_event(self, slug: str) -> Event | None:
        """As of this request or worker round."""
        ...

    def fresh_live_event(self, slug: str) -> Event | None:
        """As it is now (a newer version was met under the event's lock)."""
        ...


class Registrations:
    """The operations on registrations, over one store, one link secret and one notifier.

    Each takes the event as its caller read it. Under the event's lock the state row says which
    version is in force (`lock_event`): an operation that holds an older one (a save in the
    staff pages came in between) is run again with the event read anew from `events`.
    """

    def __init__(
        self,
        store: Transactions,
        tokens: LinkTokens,
        notify: Notify = nobody,
        events: EventSource | None = None,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.notify = notify
        self.events = events
        self._intake: GroupCommit[_Submission, Registered] = GroupCommit()
        # Each event's questions as this process last read them: registering reads them once
        # per batch under the event's lock (and puts right what was checked against older
        # ones), not once per request.
        self._known_questions: dict[str, tuple[int, tuple[Question, ...]]] = {}

    def _again(self, event: Event, run: Callable[[Event], T]) -> T:
        """`run(event)`, again with the event in force when it met a newer version."""
        for _ in range(ATTEMPTS - 1):
            try:
                return run(event)
            except StaleEvent:
                event = self._reread(event.slug)
        return run(event)

    def _reread(self, slug: str) -> Event:
        if self.events is None:
            raise StaleEvent(slug)
        event = self.events.fresh_live_event(slug)
        if event is None:  # unpublished or deleted meanwhile
            raise NotFound()
        return event

    def _still_in_force(self, event: Event) -> None:
        """Before refusing by the event's rules: they must be those in force for this request
        (the API takes the event without reading the store, see `register`)."""
        if self.events is None:
            return
        current = self.events.live_event(event.slug)
        if current is None:
            raise NotFound()
        if current.version != event.version:
            raise StaleEvent(event.slug)

    # -- reading -------------------------------------------------------------------------

    def by_token(self, token: str) -> Registration:
        """The registration a private link points at; NotFound for any other token."""
        with _stored(), self.store.reading() as session:
            registration = self.tokens.find(session, token)
        if registration is None:
            raise NotFound()
        return registration

    def by_id(self, registration_id: str) -> Registration:
        with _stored(), self.store.reading() as session:
            registration = _by_id(session, registration_id)
        if registration is None:
            raise NotFound()
        return registration

    def waiting_position(self, registration: Registration) -> int | None:
        if registration.status != Status.WAITLISTED:
            return None  # no query needed
        with _stored(), self.store.reading() as session:
            return waiting_position(session, registration)

    def window(self, event: Event, now: datetime) -> Window:
        with _stored():
            return read_window(self.store, event, now)

    def questions(self, event: Event, *, visible: bool = False) -> list[Question]:
        """The event's own questions (`registrations.answers`)."""
        with _stored(), self.store.reading() as session:
            return questions_of(session, event.slug, visible=visible)

    def intake_questions(self, event: Event) -> tuple[Question, ...]:
        """The event's questions as this process last read them (read when it has not yet):
        what a registration is checked against before the lock, which checks them again."""
        known = self._known_questions.get(event.slug)
        if known is None:
            known = self._read_questions(event.slug)
        return known[1]

    def _read_questions(
        self, slug: str, session: Session | None = None
    ) -> tuple[int, tuple[Question, ...]]:
        """The event's `questions_version` and questions, read in that order (a change in
        between leaves the older version with the newer questions: read again under the lock),
        and kept."""
        with _stored(), self.store.reading() if session is None else nullcontext(session) as db:
            version = db.scalar(select(EventState.questions_version).where(EventState.slug == slug))
            known = (version or 0, tuple(questions_of(db, slug)))
        self._known_questions[slug] = known
        return known

    def answers(self, registration: Registration) -> dict[str, Any]:
        """A registration's answers to the event's questions, `{key: value}`."""
        with _stored(), self.store.reading() as session:
            return answers_of(session, registration.id)

    # -- a participant -------------------------------------------------------------------

    def submit(
        self, event: Event, payload: dict[str, Any], *, source: str, now: datetime
    ) -> Registration:
        """A new registration (see `register`)."""
        return self.register(event, payload, source=source, now=now).registration

    def register(
        self, event: Event, payload: dict[str, Any], *, source: str, now: datetime
    ) -> Registered:
        """Check the moment, validate every field, then commit: the answer follows the commit.

        Confirmed while seats last and waitlisted after; the event's lock makes concurrent
        submissions count one batch at a time (see `GroupCommit`), so the event is never
        oversold. The event may be one this process read before a save (the API reads nothing
        to find it): under the lock its version is checked, and a refusal by its rules is made
        only once it is known to be the version in force.
        """
        return self._again(event, lambda e: self._register_once(e, payload, source, now))

    def _register_once(
        self, event: Event, payload: dict[str, Any], source: str, now: datetime
    ) -> Registered:
        state = Window(event, now).state  # the dates; a close-off begun is read under the lock
        if state is not RegistrationState.OPEN:
            self._still_in_force(event)
            raise RegistrationClosed(state)
        questions = self.intake_questions(event)
        try:  # before the lock: it is held while seats are counted, not while fields are checked
            try:
                data, answers = validate_all(event, questions, payload, now)
            except Invalid as invalid:
                if not any(name.startswith(ERROR_PREFIX) for name in invalid.errors):
                    raise
                # Refused by the questions this process knew: by those of now, if they changed.
                fresh = self._read_questions(event.slug)[1]
                if fresh == questions:
                    raise
                questions = fresh
                data, answers = validate_all(event, questions, payload, now)
        except Invalid:
            state = self.window(event, now).state  # a close-off begun is told before mistakes
            if state is not RegistrationState.OPEN:
                raise RegistrationClosed(state) from None
            self._still_in_force(event)
            raise
        registration = self._new_row(event, data, source, now)
        submission = _Submission(
            event,
            data,
            source,
            now,
            registration,
            tuple(questions),
            answers,
            new_answer_rows(registration.id, event.slug, questions, answers),
        )
        return self._intake.run(event.slug, submission, lambda take: self._register(event, take))

    def _new_row(
        self, event: Event, data: RegistrationIn, source: str, now: datetime
    ) -> Registration:
        registration = _new_row(event, data, source=source, now=now)
        self.tokens.issue(registration)  # before the lock: an HMAC needs no seat
        return registration

    def _register(
        self, event: Event, take: Callable[[], Sequence[_Submission]]
    ) -> list[Registered | Exception]:
        """Commit submissions of one event in one transaction under its lock, in arrival order.

        The batch is taken once the lock is held, so everyone who queued while it was awaited
        shares this commit. Each gets its own outcome: its registration, or why it was refused.
        Should the database refuse the batch (the unique e-mail raced by another path), each is
        retried alone, so one conflict fails only its own submission.
        """
        with _stored():
            try:
                with self.store.transaction() as session:
                    lock = lock_for_intake(session, event)  # each item's version is checked
                    batch = take()
                    if lock.closing_started_at is not None or lock.closed_off_at is not None:
                        return [
                            RegistrationClosed(RegistrationState.CLOSED)
                            if in_force(item.event, lock)
                            else StaleEvent(event.slug)
                            for item in batch
                        ]
                    return self._allocate_in_force(session, lock, batch)
            except IntegrityError:
                batch = take()
                if len(batch) == 1:
                    return [AlreadyRegistered()]
        outcomes: list[Registered | Exception] = []
        for item in batch:  # the rows of the failed batch were never stored: new ones
            alone = [item.renewed(self._new_row(item.event, item.data, item.source, item.now))]
            try:
                outcomes.extend(self._register(event, alone.copy))
            except StoreUnavailable as exc:
                outcomes.append(exc)
        return outcomes

    def _allocate_in_force(
        self, session: Session, lock: LockedState, batch: Sequence[_Submission]
    ) -> list[Registered | Exception]:
        """Allocate the submissions made under the version in force; the others (read before a
        save) are told to run again."""
        current = [item for item in batch if in_force(item.event, lock)]
        if not current:
            return [StaleEvent(item.event.slug) for item in batch]
        allocated = iter(self._allocate(session, current[0].event, current, lock))
        return [
            next(allocated) if in_force(item.event, lock) else StaleEvent(item.event.slug)
            for item in batch
        ]

    def _allocate(
        self,
        session: Session,
        event: Event,
        batch: Sequence[_Submission],
        lock: LockedState,
    ) -> list[Registered | Exception]:
        """Seats in arrival order; the caller holds the event's lock."""
        rows = [item.registration for item in batch]
        taken = read_taken(session, event, rows, lock)  # the offers holding a seat too
        # A seat held by an open offer is taken; while anyone waits, nobody new is confirmed.
        seats = taken.free_seats(event) if taken.waitlisted == 0 else 0
        taken.confirmed = max(taken.confirmed, event.capacity - seats)
        outcomes: list[Registered | Exception] = []
        notices: list[Notice] = []
        read = self._known_questions.get(event.slug)
        if read is None or read[0] != lock.questions_version:
            read = self._read_questions(event.slug, session)
        questions = read[1]
        # A choice with more seats than the event has active registrations, this batch's
        # included, cannot be full: its takers are counted only when it might be.
        reach = taken.confirmed + taken.waitlisted + len(batch)
        limited = [
            q for q in questions if any(c.seats is not None and c.seats <= reach for c in q.choices)
        ]
        counts = (
            {k: t.counts for k, t in tallies(session, event.slug, limited).items()}
            if limited
            else {}
        )
        answer_rows: list[dict[str, Any]] = []
        for item, registration in zip(batch, rows, strict=True):
            person = (registration.email_key, registration.name_key)
            known = taken.statuses.get(person)
            if known is not None:
                outcomes.append(AlreadyRegistered() if known.active else WithdrawnBefore())
                continue
            if taken.per_email.get(registration.email_key, 0) >= event.max_per_email:
                outcomes.append(EmailLimitReached())
                continue
            answers, rows_of_answers = item.answers or {}, item.answer_rows
            if item.questions != questions:  # staff changed them since it was checked
                answers, errors = check_answers(questions, item.data.answers)
                if errors:
                    outcomes.append(Invalid(errors))
                    continue
                rows_of_answers = new_answer_rows(registration.id, event.slug, questions, answers)
            if limited and (full := _full_choices(limited, answers, counts)):
                outcomes.append(Invalid(full))
                continue
            if event.max_per_enterprise is not None:
                if taken.per_enterprise[registration.enterprise_key] >= event.max_per_enterprise:
                    outcomes.append(EnterpriseLimitReached(event.max_per_enterprise))
                    continue
                taken.per_enterprise[registration.enterprise_key] += 1
            taken.statuses[person] = Status.CONFIRMED  # a second one is refused
            taken.per_email[registration.email_key] = (
                taken.per_email.get(registration.email_key, 0) + 1
            )
            for question in limited:
                for key in chosen_keys(answers.get(question.key)):
                    mine = counts.setdefault(question.key, {})
                    mine[key] = mine.get(key, 0) + 1
            answer_rows += rows_of_answers
            position = None
            if taken.confirmed < event.capacity:
                registration.status = Status.CONFIRMED
                taken.confirmed += 1
            else:
                registration.status = Status.WAITLISTED
                taken.waitlisted += 1
                position = taken.waitlisted  # the newest on the list: everyone waiting is ahead
            status = Status(registration.status)
            sequence = revise_calendar(registration, None, status)
            notices.append(
                Notice(NoticeKind.REGISTERED, event, registration, status, position, sequence)
            )
            if registration.special_needs:
                notices.append(Notice(NoticeKind.SPECIAL_NEEDS, event, registration, status))
            outcomes.append(Registered(registration, position))
        if notices:  # the rows, their answers and their e-mails, sent with the commit
            # Into the tables (Core), not the mapped classes: the ORM's bulk INSERT spent more
            # CPU per row than the executemany itself, with the lock held (bench/RESULTS.md).
            stored = [n.registration for n in notices if n.kind is NoticeKind.REGISTERED]
            with self.store.commit_with(session):
                insert_rows(session, Registration, [new_row_values(r) for r in stored])
                insert_rows(session, Answer, answer_rows)
                self.notify(session, notices)
        return outcomes

    @_with_event_in_force
    def change(
        self, event: Event, token: str, changes: dict[str, Any], *, now: datetime
    ) -> Registration:
        """Apply any subset of the fields while registration is open, with the same rules.

        The e-mail address is the registration's identity: it is not changed here (staff can,
        with `flask registration set-email`). Nothing changed, nothing written, no e-mail.
        """
        with _stored(), self.store.transaction() as session:
            lock = lock_event(session, event)
            registration = self._own(session, event, token)
            window = Window(event, now, lock.closing_started_at)
            if not window.changes_allowed:  # after the start, that is what the answer says
                raise ChangeNotAllowed("closed" if window.cancellation_allowed else "started")
            if not Status(registration.status).active:
                raise ChangeNotAllowed("inactive")
            questions = questions_of(session, event.slug)
            stored = answers_of(session, registration.id)
            data, answers = validate_all(
                event,
                questions,
                {**payload_of(registration), **changes},
                now,
                stored=stored,
                received_at=registration.received_at,
            )
            if data.email_key != registration.email_key:
                raise Invalid({"email": EMAIL_IS_IDENTITY})
            new_name = name_key(data.first_name, data.last_name)
            if new_name != registration.name_key and _person_taken(
                session, event, registration.email_key, new_name
            ):
                raise AlreadyRegistered()
            new_enterprise = enterprise_key_of(event, data)
            if new_enterprise != registration.enterprise_key:
                _check_enterprise(session, event, new_enterprise, excluding=registration.id)
            limited = [q for q in questions if q.limited]
            if limited:
                others = tallies(session, event.slug, limited, excluding=registration.id)
                # A choice kept as it was is never refused (seats lowered below the takers).
                new_picks = {
                    k: v for k, v in answers.items() if _new_picks(v, stored.get(k)) is not None
                }
                if full := _full_choices(
                    limited,
                    {k: _new_picks(v, stored.get(k)) for k, v in new_picks.items()},
                    {k: t.counts for k, t in others.items()},
                ):
                    raise Invalid(full)
            needs_before = registration.special_needs
            answered = save_answers(
                session, registration.id, event.slug, questions, answers, before=stored
            )
            if not _apply(registration, event, data) and not answered:
                return registration
            registration.touch(now)
            self._tell(session, NoticeKind.CHANGED, event, registration)
            if registration.special_needs and registration.special_needs != needs_before:
                self._tell(session, NoticeKind.SPECIAL_NEEDS, event, registration)
        return registration

    @_with_event_in_force
    def cancel(
        self,
        event: Event,
        token: str,
        *,
        now: datetime,
        also: Callable[[Session, Registration], None] | None = None,
    ) -> Registration:
        """The participant withdraws, until the event starts; a freed seat is passed on.

        Cancelling what is already cancelled (or rejected) changes nothing and sends nothing.
        `also` records more in the same transaction (the answer `nie` to a reminder or offer).
        """
        with _stored(), self.store.transaction() as session:
            lock_event(session, event)
            registration = self._own(session, event, token)
            if not Status(registration.status).active:
                return registration
            if not Window(event, now).cancellation_allowed:
                raise ChangeNotAllowed("started")
            if also is not None:
                also(session, registration)
            sequence = self._set_status(
                session, event, registration, Status.CANCELLED, now, "participant"
            )
            _end_pending_decision(session, registration)
            self._tell(session, NoticeKind.CANCELLED, event, registration, sequence)
            self._promote(session, event, now)
        return registration

    def request_link(self, event: Event, email: str, *, now: datetime) -> None:
        """Queue a request to send the private link again, and return at once.

        The work is the same for any address (one row written, whether or not it is
        registered), so the answer's timing tells nothing; the mail sender carries it out
        (`send_requested_links`), and the caller answers the same for any address.
        """
        typed = email.strip()
        try:
            email_key = normalise_email(typed).casefold()
        except ValueError:
            email_key = typed.casefold()
        with _stored(), self.store.transaction() as session:
            session.add(
                LinkRequest(event_slug=event.slug, email_key=email_key[:320], requested_at=now)
            )

    def send_requested_links(self, events: Mapping[str, Event], *, now: datetime) -> int:
        """Carry out the queued link requests: the link goes again to a registered address, at
        most once per 10 minutes; every request is then deleted. How many links were queued to
        be sent (in the outbox, in the same transaction)."""
        with _stored(), self.store.transaction() as session:
            query = select(LinkRequest).order_by(LinkRequest.id).limit(LINK_REQUESTS_PER_ROUND)
            requests = list(session.scalars(query.with_for_update(skip_locked=True)))
            sent = 0
            for request in requests:
                event = events.get(request.event_slug)
                if event is not None and self._send_link(session, event, request.email_key, now):
                    sent += 1
                session.delete(request)
        return sent

    def _send_link(self, session: Session, event: Event, email_key: str, now: datetime) -> bool:
        """Every link of the address for the event, in one e-mail, at most once per 10 minutes
        per address (colleagues sharing it each have their own link)."""
        query = (
            select(Registration)
            .where(
                Registration.event_slug == event.slug,
                Registration.email_key == email_key,
                Registration.erased_at.is_(None),
            )
            .order_by(Registration.seq)
        )
        registrations = list(session.scalars(query.with_for_update()))
        if not registrations:
            return False
        sent = [r.link_sent_at for r in registrations if r.link_sent_at is not None]
        if sent and now - max(sent) < LINK_RESEND_INTERVAL:
            return False
        for registration in registrations:
            registration.link_sent_at = now
            if not registration.token_nonce:
                self.tokens.issue(registration)
        first = registrations[0]
        if len(registrations) == 1:
            self._tell(session, NoticeKind.LINK, event, first)
        else:  # one e-mail, filed under the first; it lists each person's link
            others = json.dumps({"registrations": [r.id for r in registrations]})
            self._tell(session, NoticeKind.LINKS, event, first, detail=others)
        return True

    # -- staff ---------------------------------------------------------------------------

    @_with_event_in_force
    def set_email(
        self, event: Event, registration_id: str, email: str, *, now: datetime, actor: str = COMMAND
    ) -> Registration:
        """Correct a participant's address; a new link goes there (the old one stops working)."""
        try:
            address = normalise_email(email)
        except ValueError as exc:
            raise Invalid({"email": str(exc)}) from None
        with _stored(), self.store.transaction() as session:
            lock_event(session, event)
            registration = _by_id(session, registration_id, event)
            if registration is None:
                raise NotFound()
            email_key = address.casefold()
            if email_key != registration.email_key and _person_taken(
                session, event, email_key, registration.name_key
            ):
                raise AlreadyRegistered()  # only the same name at that address is refused
            registration.email, registration.email_key = address, email_key
            if registration.source == "phone":  # taken by phone: now it has an address
                registration.source = "staff"
            self.tokens.issue(registration)
            registration.link_sent_at = now
            registration.touch(now)
            self._tell(session, NoticeKind.LINK, event, registration)
            record(
                session,
                actor=actor,
                action=Action.EMAIL_CORRECTED,
                at=now,
                event_slug=event.slug,
                registration_ids=[registration.id],
                fields=["email"],
            )
        return registration

    @_with_event_in_force
    def decide(
        self,
        event: Event,
        registration_id: str,
        decision: Decision,
        *,
        now: datetime,
        typed_after: datetime | None = None,
        actor: str = SHEET,
        reason: str | None = None,
        pending_since: datetime | None = None,
        from_page: bool = False,
    ) -> DecisionOutcome:
        """Carry out what staff typed in the sheet, once; the history says who (`actor`).

        Compared with the last decision handled for the registration, not with its status: the
        same cell read again does nothing, a different value later applies. Whichever commits
        first wins when staff and the participant act at once: should the status already be the
        decided one (the participant cancelled first), only the decision is recorded; should the
        participant have changed the status since `typed_after` (the last time the sheet was
        read: staff typed after it, but could not have seen the change), the decision is not
        carried out and the sheet says so. Nobody is e-mailed twice. `przyjęte` confirms even
        above capacity.

        A decision that waited out its grace time (`pending_since`: when it was first seen) is
        carried out only while it is still pending, unchanged: withdrawn (`Cofnij`, the cell
        cleared) or ended by the participant's cancellation, it does nothing. `reason` replaces
        the canned sentence in the e-mail. A page decision (`from_page`) leaves the sheet's
        decision cell as handled as it was.
        """
        with _stored(), self.store.transaction() as session:
            lock_event(session, event)
            registration = _by_id(session, registration_id, event)
            if registration is None:
                raise NotFound()
            old = Status(registration.status)
            if pending_since is not None:
                pending = session.get(PendingDecision, registration.id)
                if (
                    pending is None
                    or pending.decision != decision.value
                    or pending.first_seen_at != pending_since
                ):
                    return DecisionOutcome(registration.id, old, old, False, WITHDRAWN)
                session.delete(pending)
            if not from_page:
                if registration.staff_decision == decision.value:
                    skipped = registration.staff_decision_skipped
                    return DecisionOutcome(registration.id, old, old, False, skipped)
                registration.staff_decision = decision.value
                registration.staff_decision_skipped = None
            new = decision.status
            if new is not old and _participant_acted(session, registration, typed_after):
                registration.staff_decision_skipped = RACED
                return DecisionOutcome(registration.id, old, old, applied=False, skipped=RACED)
            if new is not old:
                sequence = self._set_status(
                    session, event, registration, new, now, "staff", decision
                )
                detail = json.dumps({"reason": reason}, ensure_ascii=False) if reason else None
                self._tell(
                    session,
                    _DECISION_NOTICES[decision],
                    event,
                    registration,
                    sequence,
                    detail=detail,
                )
                if old is Status.CONFIRMED or old is Status.WAITLISTED:  # a seat or an offer
                    self._promote(session, event, now)
            else:
                session.add(_change(registration, old, new, now, "staff", decision))
            record(
                session,
                actor=actor,
                action=Action.DECISION,
                at=now,
                event_slug=event.slug,
                registration_ids=[registration.id],
                detail=decision.value,
            )
        return DecisionOutcome(registration.id, old, new, applied=True)

    def forget_decision(self, event: Event, registration_id: str) -> None:
        """Staff cleared the decision cell: nothing is undone, but the same value chosen again
        applies again (e.g. `przyjęte` to restore someone who cancelled since)."""
        with _stored(), self.store.transaction() as session:
            registration = _by_id(session, registration_id, event)
            if registration is not None:
                registration.staff_decision = None
                registration.staff_decision_skipped = None

    @_with_event_in_force
    def erase(
        self,
        event: Event,
        registration_ids: list[str],
        *,
        now: datetime,
        by: ErasedBy,
        before_scrub: Callable[[Session, list[Registration]], None] | None = None,
    ) -> list[ErasureOutcome]:
        """Erase the registrations' personal data, in one transaction under the event's lock.

        An active registration is cancelled first, the person getting no e-mail; the status
        change keeps its old status for statistics. On request a freed seat goes to the waiting
        list; at retention the event is over and everyone goes, so nobody is promoted.
        `before_scrub` sees the registrations still whole, in the same transaction (their
        e-mails are removed there). Erasing again changes nothing.
        """
        outcomes: list[ErasureOutcome] = []
        with _stored(), self.store.transaction() as session:
            lock_event(session, event)
            found = [_by_id(session, rid, event, include_erased=True) for rid in registration_ids]
            fresh = [r for r in found if r is not None and r.erased_at is None]
            outcomes += [
                ErasureOutcome(r.id, Status(r.status), Status(r.status), already=True)
                for r in found
                if r is not None and r.erased_at is not None
            ]
            if before_scrub is not None and fresh:
                before_scrub(session, fresh)
            erase_answers(session, [r.id for r in fresh])
            freed = False
            for registration in fresh:
                pending = session.get(PendingDecision, registration.id)
                if pending is not None:  # its reason is the person's data
                    session.delete(pending)
                old = Status(registration.status)
                if old.active:
                    actor = "erasure" if by is ErasedBy.REQUEST else by.value
                    self._set_status(session, event, registration, Status.CANCELLED, now, actor)
                    freed = freed or (by is ErasedBy.REQUEST and old.active)  # an offer too
                scrub(registration, now, by)
                registration.touch(now)
                outcomes.append(ErasureOutcome(registration.id, old, Status(registration.status)))
            if freed:
                self._promote(session, event, now)
        return outcomes

    @_with_event_in_force
    def promote(self, event: Event, *, now: datetime) -> list[Registration]:
        """Hand free seats to the waiting list in order (capacity raised, or a seat freed)."""
        with _stored(), self.store.transaction() as session:
            lock_event(session, event)
            return self._promote(session, event, now)

    # -- inside a transaction ------------------------------------------------------------

    def promote_locked(self, session: Session, event: Event, now: datetime) -> list[Registration]:
        """`promote` in the caller's transaction, which holds the event's lock (a save that
        raised the capacity fills the freed seats at that moment)."""
        return self._promote(session, event, now)

    def _own(self, session: Session, event: Event, token: str) -> Registration:
        registration = self.tokens.find(session, token)
        if registration is None or registration.event_slug != event.slug:
            raise NotFound()
        return registration

    def _promote(self, session: Session, event: Event, now: datetime) -> list[Registration]:
        """Free seats to the waiting list: given in order, or offered inside the offers window
        (`registrations.participation`; an offer is not a promotion: none is returned)."""
        if offers_window(event, now):
            make_offers(session, event, now, lambda notices: self.notify(session, notices))
            return []
        promoted = promote_waiting(session, event, now)
        for registration in promoted:
            session.add(_change(registration, Status.WAITLISTED, Status.CONFIRMED, now, "system"))
            registration.touch(now)
            sequence = revise_calendar(registration, Status.WAITLISTED, Status.CONFIRMED)
            self._tell(session, NoticeKind.PROMOTED, event, registration, sequence)
        return promoted

    def _set_status(
        self,
        session: Session,
        event: Event,
        registration: Registration,
        status: Status,
        now: datetime,
        actor: str,
        decision: Decision | None = None,
    ) -> int | None:
        """The new status, recorded; the SEQUENCE of the calendar entry it sends or cancels."""
        old = Status(registration.status)
        session.add(_change(registration, old, status, now, actor, decision))
        registration.status = status
        registration.touch(now)
        return revise_calendar(registration, old, status)

    def _tell(
        self,
        session: Session,
        kind: NoticeKind,
        event: Event,
        registration: Registration,
        calendar_sequence: int | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        session.flush()
        position = waiting_position(session, registration)
        status = Status(registration.status)
        notice = Notice(kind, event, registration, status, position, calendar_sequence, detail)
        self.notify(session, [notice])


def revise_calendar(registration: Registration, old: Status | None, new: Status) -> int | None:
    """The calendar entry a status change sends: the seat confirmed publishes it, a confirmed
    seat given up (cancelled, rejected) cancels it, each under the entry's next SEQUENCE
    (RFC 5545: same UID, a higher SEQUENCE); None when the change touches no calendar."""
    if new is Status.CONFIRMED and old is not Status.CONFIRMED:
        last = registration.calendar_sequence
        sequence = 0 if last is None else last + 1
    elif old is Status.CONFIRMED and new is not Status.CONFIRMED:
        # A seat confirmed before the sequence was kept had its entry sent as SEQUENCE 0.
        sequence = (registration.calendar_sequence or 0) + 1
    else:
        return None
    registration.calendar_sequence = sequence
    return sequence


def republish_calendar(registration: Registration) -> int:
    """The calendar entry of a confirmed seat sent again (the event's details changed): the
    same UID under the entry's next SEQUENCE, which calendars take as the newer one."""
    registration.calendar_sequence = (registration.calendar_sequence or 0) + 1
    return registration.calendar_sequence


_DECISION_NOTICES = {
    Decision.CANCELLED: NoticeKind.CANCELLED,
    Decision.REJECTED: NoticeKind.REJECTED,
    Decision.CONFIRMED: NoticeKind.CONFIRMED,
}


def _by_id(
    session: Session,
    registration_id: str,
    event: Event | None = None,
    *,
    include_erased: bool = False,
) -> Registration | None:
    """The registration with this ID; an erased one only when asked for (nobody acts on it)."""
    query = select(Registration).where(Registration.id == registration_id.strip().upper())
    if event is not None:
        query = query.where(Registration.event_slug == event.slug)
    if not include_erased:
        query = query.where(Registration.erased_at.is_(None))
    return session.scalar(query)


def _end_pending_decision(session: Session, registration: Registration) -> None:
    """The participant cancelled while a staff decision waited out its grace time: it is not
    carried out. A sheet decision's cell then counts as handled, with the note that the
    participant acted meanwhile (staff choose it again if it still stands)."""
    pending = session.get(PendingDecision, registration.id)
    if pending is None:
        return
    if pending.source == "sheet":
        registration.staff_decision = pending.decision
        registration.staff_decision_skipped = RACED
    session.delete(pending)


def _person_taken(session: Session, event: Event, email_key: str, name: str) -> bool:
    """Whether the event has a registration (of any status) of this name at this address."""
    query = select(Registration.id).where(
        Registration.event_slug == event.slug,
        Registration.email_key == email_key,
        Registration.name_key == name,
    )
    return session.scalar(query.limit(1)) is not None


def _participant_acted(
    session: Session, registration: Registration, since: datetime | None
) -> bool:
    """Whether the participant changed the registration's status after `since`."""
    if since is None:
        return False
    query = select(StatusChange.id).where(
        StatusChange.registration_id == registration.id,
        StatusChange.actor == "participant",
        StatusChange.changed_at > since,
    )
    return session.scalar(query.limit(1)) is not None


def _change(
    registration: Registration,
    old: Status,
    new: Status,
    now: datetime,
    actor: str,
    decision: Decision | None = None,
) -> StatusChange:
    return StatusChange(
        registration_id=registration.id,
        event_slug=registration.event_slug,
        old_status=old.value,
        new_status=new.value,
        actor=actor,
        decision=decision.value if decision is not None else None,
        changed_at=now,
    )


def _new_picks(value: Any, before: Any) -> Any:
    """The choices of an answer that were not chosen before (None: nothing new)."""
    old = set(chosen_keys(before))
    new = [k for k in chosen_keys(value) if k not in old]
    if not new:
        return None
    return new if isinstance(value, list) else new[0]


def _check_enterprise(
    session: Session, event: Event, key: str, *, excluding: str | None = None
) -> None:
    """Cancelled and rejected registrations do not count against `max_per_enterprise`."""
    if event.max_per_enterprise is None:
        return
    taken = count(session, event, enterprise=key, active_only=True, excluding=excluding)
    if taken >= event.max_per_enterprise:
        raise EnterpriseLimitReached(event.max_per_enterprise)


def _values(event: Event, data: RegistrationIn) -> dict[str, Any]:
    """The stored form of validated data (what a row holds), e-mail and consent aside."""
    return {
        "first_name": data.first_name,
        "last_name": data.last_name,
        "name_key": name_key(data.first_name, data.last_name),
        "enterprise_name": data.enterprise_name,
        "enterprise_key": enterprise_key_of(event, data),
        "powiat": data.powiat,
        "role": data.role,
        "nip": data.nip,
        "phone": data.phone,
        "pesel": data.pesel,
        "birth_date": data.birth_date,
        "accommodation": bool(data.accommodation) and event.accommodation_label is not None,
        "gender": data.gender.value if data.gender is not None and event.ask_gender else None,
        "diet": data.diet.value,
        "diet_other": data.diet_other,
        "special_needs": data.special_needs,
        "consent_image": data.consent_image,
    }


def _apply(registration: Registration, event: Event, data: RegistrationIn) -> bool:
    """Write the changed fields onto the row; True when anything changed."""
    changed = False
    for name, value in _values(event, data).items():
        if getattr(registration, name) != value:
            setattr(registration, name, value)
            changed = True
    return changed


def _new_row(event: Event, data: RegistrationIn, *, source: str, now: datetime) -> Registration:
    """A new registration, written by `insert_rows` (so made by `new_object`)."""
    return new_object(
        Registration,
        {
            "id": new_registration_id(),
            "event_slug": event.slug,
            "received_at": now,
            "source": source,
            "email": data.email,
            "email_key": data.email_key,
            "consent_personal_data": data.consent_personal_data,
            "consent_version": event.consent_version,
            "consent_given_at": now,
            "version": 1,
            "event_version": event.version,
            **_values(event, data),
        },
    )
