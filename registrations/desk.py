"""What staff do to registrations in the staff pages (issue 18): add one taken by phone, correct
any field at any time, hand a seat to a colleague. Each is one transaction under the event's
lock, through the same rows, notices and history as the participant's operations.

A registration without an e-mail address (taken by phone) keeps an empty `email` and an
`email_key` that no address can have (`#` and its ID): it gets no e-mail and no private link
until staff add an address (`Registrations.set_email`, which sends the link).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from registrations.allocation import count, lock_event
from registrations.answers import answers_of, questions_of, save_answers, tallies
from registrations.desk_models import DeskEntry
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import Registration
from registrations.notices import Notice, NoticeKind
from registrations.operations import (
    AlreadyRegistered,
    EmailLimitReached,
    Invalid,
    NotFound,
    Registrations,
    _by_id,
    _check_enterprise,
    _full_choices,
    _new_picks,
    _stored,
    _values,
    new_registration_id,
    payload_of,
    revise_calendar,
    validate,
)
from registrations.participation import free_seats
from registrations.polish import date_text
from registrations.powiaty import POWIATY
from registrations.questions import ERROR_PREFIX, Question, check_answers, display
from registrations.schema import DIET_LABELS, Diet, RegistrationIn
from registrations.status import Status
from registrations.window import RegistrationState

T = TypeVar("T")
P = ParamSpec("P")
NO_ADDRESS_PREFIX = "#"  # an `email_key` no address has: a registration without an address
# Validation needs an address; a registration without one is checked with this stand-in,
# which is never stored.
_STAND_IN_ADDRESS = "brak.adresu@example.com"
PHONE_SOURCE = "phone"  # `telefonicznie` in the sheet
STAFF_SOURCE = "staff"  # `organizator`
STALE = "Zgłoszenie zmieniło się w międzyczasie – poniżej są aktualne dane. Nic nie zapisano."
REASON_MAX = 500

# The fields staff correct, with the labels the page, the history and the e-mail use.
FIELD_LABELS: dict[str, str] = {
    "first_name": "Imię",
    "last_name": "Nazwisko",
    "enterprise_name": "Przedsiębiorstwo",
    "powiat": "Powiat",
    "role": "Funkcja w przedsiębiorstwie",
    "phone": "Telefon",
    "pesel": "PESEL",
    "birth_date": "Data urodzenia",
    "accommodation": "Nocleg",
    "gender": "Płeć",
    "diet": "Dieta",
    "diet_other": "Uwagi do diety",
    "special_needs": "Szczególne potrzeby",
    "consent_image": "Zgoda na wizerunek",
}
# Never in an e-mail (the person's identity numbers).
NOT_MAILED = frozenset({"pesel", "birth_date"})
SWAPPED_FIELDS = ("first_name", "last_name", "email", "phone", "pesel", "birth_date")
# A corrected answer's history entry names its question by ID (`DeskEntry.field` is short; a
# label is up to 200 characters): the page shows the question's label.
ANSWER_FIELD_PREFIX = "answers."


class StaleVersion(Exception):
    """The registration changed since the form was shown (read it again: this copy left the
    refused transaction)."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(registration.id)
        self.registration = registration


class DuplicateWithoutAddress(Exception):
    """A registration without an address with the same name and phone exists in the event."""

    def __init__(self, registration_id: str) -> None:
        super().__init__(registration_id)
        self.registration_id = registration_id


class ExistingAddress(AlreadyRegistered):
    """This person (name at this address) is registered for the event already
    (`registration_id`)."""

    def __init__(self, registration_id: str) -> None:
        super().__init__(registration_id)
        self.registration_id = registration_id


@dataclass(frozen=True)
class Overrides:
    """What staff accept against the event's rules, and why (required with any of them)."""

    deadline: bool = False  # registration is closed (or not open yet)
    area: bool = False  # a powiat outside the event's area
    enterprise: bool = False  # beyond the per-enterprise limit
    capacity: bool = False  # `ponad limit miejsc`: confirmed even with no seat free
    reason: str = ""

    @property
    def any_rule(self) -> bool:
        return self.deadline or self.area or self.enterprise or self.capacity

    def names(self) -> list[str]:
        chosen = {
            "po terminie": self.deadline,
            "spoza obszaru": self.area,
            "ponad limit przedsiębiorstwa": self.enterprise,
            "ponad limit miejsc": self.capacity,
        }
        return [name for name, on in chosen.items() if on]


@dataclass(frozen=True)
class Corrected:
    registration: Registration
    fields: list[str] = field(default_factory=list)  # in FIELD_LABELS' order
    answers: list[str] = field(default_factory=list)  # the corrected questions' labels

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.answers)


def answer_field(question: Question) -> str:
    """A corrected answer's `DeskEntry.field`."""
    return f"{ANSWER_FIELD_PREFIX}{question.id}"


def shown_answer(question: Question, value: Any) -> str:
    """An answer as the sheet shows it, `–` when there is none (as `shown_value`)."""
    return display(question, value) or "–"


def _answers_checked(
    questions: list[Question],
    given: Any,
    *,
    stored: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers as the public form checks them; nothing asked, nothing to check."""
    if given is None:
        return dict(stored or {}), {}
    return check_answers(questions, given, stored=stored, received_at=received_at)


def _no_seat_left(
    session: Session,
    event: Event,
    questions: list[Question],
    answers: dict[str, Any],
    stored: dict[str, Any],
    registration_id: str,
) -> dict[str, str]:
    """`answers.<key>` errors for a newly chosen choice without a seat (the public form's
    message); a choice kept as it was is never refused."""
    limited = [q for q in questions if q.limited]
    if not limited:
        return {}
    others = tallies(session, event.slug, limited, excluding=registration_id)
    picks = {k: _new_picks(v, stored.get(k)) for k, v in answers.items()}
    return _full_choices(
        limited,
        {k: v for k, v in picks.items() if v is not None},
        {k: t.counts for k, t in others.items()},
    )


def has_address(registration: Registration) -> bool:
    return bool(registration.email) and not registration.email_key.startswith(NO_ADDRESS_PREFIX)


def shown_value(name: str, value: Any) -> str:
    """A field's value as staff and the participant read it (the powiat by name, the diet in
    words, `tak`/`nie`)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "tak" if value else "nie"
    if name == "powiat" and value in POWIATY:
        return str(POWIATY[value].label)
    if name == "diet":
        return DIET_LABELS.get(Diet(value), str(value))
    if name == "birth_date" and hasattr(value, "isoformat"):
        return date_text(value)
    return str(value)


def _in_force(
    operation: Callable[Concatenate[Desk, Event, P], T],
) -> Callable[Concatenate[Desk, Event, P], T]:
    """The operation runs again with the event read anew when it met a newer version of it
    under the lock (a save in the staff pages came in between), as `Registrations`' do."""

    @functools.wraps(operation)
    def run(self: Desk, event: Event, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.registrations._again(
            event, lambda current: operation(self, current, *args, **kwargs)
        )

    return run


class Desk:
    """Staff's operations, over the participants' `Registrations` (its store, tokens, mail)."""

    def __init__(self, registrations: Registrations) -> None:
        self.registrations = registrations

    # -- Dodaj zgłoszenie ----------------------------------------------------------------

    @_in_force
    def add(
        self,
        event: Event,
        payload: dict[str, Any],
        *,
        overrides: Overrides,
        actor: str,
        now: datetime,
    ) -> Registration:
        """A registration taken by staff (by phone): the public form's fields and rules, the
        address optional, consent given orally; the event's rules set aside only where staff
        ticked an override and said why."""
        errors: dict[str, str] = {}
        reason = " ".join(overrides.reason.split())
        if overrides.any_rule and not reason:
            errors["override_reason"] = "Należy podać powód przyjęcia zgłoszenia mimo zasad."
        elif len(reason) > REASON_MAX:
            errors["override_reason"] = f"Powód może mieć najwyżej {REASON_MAX} znaków."
        state = self.registrations.window(event, now).state  # a close-off begun counts too
        if not overrides.deadline and state is not RegistrationState.OPEN:
            errors["override_deadline"] = (
                "Zapisy na to wydarzenie nie są otwarte. Aby przyjąć zgłoszenie, należy zaznaczyć "
                "„po terminie” i podać powód."
            )
        address = str(payload.get("email") or "").strip()
        checked = {**payload, "email": address or _STAND_IN_ADDRESS}
        questions = self.registrations.questions(event)
        answers, wrong = _answers_checked(questions, payload.get("answers"))
        errors = {**errors, **wrong}
        try:
            data = validate(_relaxed(event) if overrides.area else event, checked, now)
        except Invalid as invalid:
            errors = {**invalid.errors, **errors}
            raise Invalid(errors) from None
        if errors:
            raise Invalid(errors)
        registration = _taken_by_staff(event, data, address, now)
        if not address:
            registration.email_key = NO_ADDRESS_PREFIX + registration.id
        else:
            self.registrations.tokens.issue(registration)
            registration.link_sent_at = now
        regs = self.registrations
        with _stored(), regs.store.transaction() as session:
            lock_event(session, event)
            if address:
                _check_address(session, event, registration)
            else:
                twin = _same_name_and_phone(session, event, registration)
                if twin is not None:
                    raise DuplicateWithoutAddress(twin)
            if not overrides.enterprise:
                _check_enterprise(session, event, registration.enterprise_key)
            if payload.get("answers") is not None:
                fresh = questions_of(session, event.slug)
                if fresh != questions:  # staff changed them meanwhile: checked again
                    questions = fresh
                    answers, wrong = _answers_checked(questions, payload.get("answers"))
                    if wrong:
                        raise Invalid(wrong)
                if full := _no_seat_left(session, event, questions, answers, {}, registration.id):
                    raise Invalid(full)
            # As on the form: a seat held by an open offer is taken, and while anyone waits
            # nobody new is confirmed, unless staff tick `ponad limit miejsc`.
            waiting = count(session, event, status=Status.WAITLISTED)
            seat = overrides.capacity or (waiting == 0 and free_seats(session, event) > 0)
            registration.status = Status.CONFIRMED if seat else Status.WAITLISTED
            sequence = revise_calendar(registration, None, Status(registration.status))
            session.add(registration)
            save_answers(session, registration.id, event.slug, questions, answers, before={})
            note = "zgoda przekazana ustnie, przyjęta przez " + actor
            if overrides.names():
                note += "; " + ", ".join(overrides.names()) + ": " + reason
            session.add(_entry(registration, "added", actor, now, note=note))
            if address:
                regs._tell(session, NoticeKind.REGISTERED, event, registration, sequence)
            if registration.special_needs:
                regs._tell(session, NoticeKind.SPECIAL_NEEDS, event, registration)
            record(
                session,
                actor=actor,
                action=Action.REGISTRATION_ADDED,
                at=now,
                event_slug=event.slug,
                registration_ids=[registration.id],
                detail=registration.source,
            )
        return registration

    # -- corrections ---------------------------------------------------------------------

    @_in_force
    def correct(
        self,
        event: Event,
        registration_id: str,
        changes: dict[str, Any],
        *,
        version: int,
        actor: str,
        now: datetime,
        notify_person: bool = False,
    ) -> Corrected:
        """Any field at any time (the address through `set_email`), over the version the form
        showed: a newer one refuses the save (`StaleVersion`), nothing written. Consents stay
        as given, except that image consent may be withdrawn at the person's request."""
        regs = self.registrations
        with _stored(), regs.store.transaction() as session:
            lock_event(session, event)
            registration = _by_id(session, registration_id, event)
            if registration is None:
                raise NotFound()
            if registration.version != version:
                raise StaleVersion(registration)
            base = payload_of(registration)
            if not has_address(registration):
                base["email"] = _STAND_IN_ADDRESS
            merged = {**base, **changes, "email": base["email"]}
            merged["consent_personal_data"] = registration.consent_personal_data
            if merged.get("consent_image") and not registration.consent_image:
                raise Invalid(
                    {
                        "consent_image": "Zgodę na wizerunek może wyrazić tylko uczestnik; "
                        "obsługa może ją jedynie wycofać na prośbę osoby."
                    }
                )
            same_area = str(merged.get("powiat", "")).strip() == registration.powiat
            questions = questions_of(session, event.slug)
            stored = answers_of(session, registration.id)
            answers, wrong = _answers_checked(
                questions,
                changes.get("answers"),
                stored=stored,
                received_at=registration.received_at,
            )
            try:
                data = validate(_relaxed(event) if same_area else event, merged, now)
            except Invalid as invalid:
                raise Invalid({**invalid.errors, **wrong}) from None
            if wrong:
                raise Invalid(wrong)
            if full := _no_seat_left(session, event, questions, answers, stored, registration.id):
                raise Invalid(full)
            new_values = _values(event, data)
            changed = [
                name
                for name in FIELD_LABELS
                if name in new_values and getattr(registration, name) != new_values[name]
            ]
            answered = [q for q in questions if stored.get(q.key) != answers.get(q.key)]
            if not changed and not answered:
                return Corrected(registration, [])
            for question in answered:
                session.add(
                    _entry(
                        registration,
                        "corrected",
                        actor,
                        now,
                        field=answer_field(question),
                        old=shown_answer(question, stored.get(question.key)),
                        new=shown_answer(question, answers.get(question.key)),
                    )
                )
            save_answers(session, registration.id, event.slug, questions, answers, before=stored)
            needs_before = registration.special_needs
            for name in changed:
                old, new = getattr(registration, name), new_values[name]
                session.add(
                    _entry(
                        registration,
                        "corrected",
                        actor,
                        now,
                        field=name,
                        old=shown_value(name, old),
                        new=shown_value(name, new),
                    )
                )
                setattr(registration, name, new)
            registration.enterprise_key = new_values["enterprise_key"]
            registration.touch(now)
            if notify_person and has_address(registration):
                mailed = {
                    FIELD_LABELS[name]: shown_value(name, getattr(registration, name))
                    for name in changed
                    if name not in NOT_MAILED
                }
                mailed.update((q.label, shown_answer(q, answers.get(q.key))) for q in answered)
                if mailed:
                    session.flush()
                    notice = Notice(
                        NoticeKind.CORRECTED,
                        event,
                        registration,
                        Status(registration.status),
                        detail=json.dumps({"corrected": mailed}, ensure_ascii=False),
                    )
                    regs.notify(session, [notice])
            if registration.special_needs and registration.special_needs != needs_before:
                regs._tell(session, NoticeKind.SPECIAL_NEEDS, event, registration)
            record(
                session,
                actor=actor,
                action=Action.REGISTRATION_CORRECTED,
                at=now,
                event_slug=event.slug,
                registration_ids=[registration.id],
                fields=changed + [f"{ERROR_PREFIX}{q.key}" for q in answered],
            )
        return Corrected(registration, changed, [q.label for q in answered])

    # -- Zamiana osoby -------------------------------------------------------------------

    @_in_force
    def swap(
        self,
        event: Event,
        registration_id: str,
        person: dict[str, Any],
        *,
        actor: str,
        now: datetime,
    ) -> Registration:
        """A colleague from the same enterprise takes the seat: the old registration is
        cancelled without promoting anyone, the new one confirmed in its place (its other
        answers, the event's questions' too, as the old one had them); both are e-mailed."""
        regs = self.registrations
        with _stored(), regs.store.reading() as session:
            old = _by_id(session, registration_id, event)
        if old is None:
            raise NotFound()
        if Status(old.status) is not Status.CONFIRMED:
            raise Invalid({"_": "Zamiana jest możliwa tylko dla zgłoszenia potwierdzonego."})
        base = payload_of(old)
        for name in (*SWAPPED_FIELDS, "gender", "special_needs", "role"):
            base[name] = None
        base["consent_image"] = False
        address = str(person.get("email") or "").strip()
        payload = {**base, **{k: v for k, v in person.items() if k in SWAPPED_FIELDS}}
        payload["consent_personal_data"] = bool(person.get("consent_personal_data"))
        payload["email"] = address or _STAND_IN_ADDRESS
        data = validate(_relaxed(event), payload, now)
        new = _taken_by_staff(event, data, address, now)
        new.enterprise_key = old.enterprise_key  # the same enterprise, however it was typed
        if address:
            regs.tokens.issue(new)
            new.link_sent_at = now
        else:
            new.email_key = NO_ADDRESS_PREFIX + new.id
        with _stored(), regs.store.transaction() as session:
            lock_event(session, event)
            current = _by_id(session, registration_id, event)
            if current is None:
                raise NotFound()
            if current.version != old.version:
                raise StaleVersion(current)
            if address:
                _check_address(session, event, new)
            sequence = regs._set_status(
                session, event, current, Status.CANCELLED, now, "staff"
            )  # nobody is promoted: the seat is handed on
            if has_address(current):
                regs._tell(session, NoticeKind.CANCELLED, event, current, sequence)
            new.status = Status.CONFIRMED
            new_sequence = revise_calendar(new, None, Status.CONFIRMED)
            session.add(new)
            # The seat's answers go with it (the stop on the bus, the meals); staff or the
            # colleague's link correct them.
            save_answers(
                session,
                new.id,
                event.slug,
                questions_of(session, event.slug),
                answers_of(session, current.id),
                before={},
            )
            session.add(_entry(current, "swapped_out", actor, now, note=new.id))
            session.add(
                _entry(new, "swapped_in", actor, now, note=f"w miejsce {current.id}; zgoda ustna")
            )
            if address:
                regs._tell(session, NoticeKind.REGISTERED, event, new, new_sequence)
            record(
                session,
                actor=actor,
                action=Action.SEAT_SWAPPED,
                at=now,
                event_slug=event.slug,
                registration_ids=[current.id, new.id],
            )
        return new


def _taken_by_staff(
    event: Event, data: RegistrationIn, address: str, now: datetime
) -> Registration:
    """A registration staff take down (added or swapped in): consent given to them, the source
    `organizator` with an address and `telefonicznie` without one."""
    return Registration(
        id=new_registration_id(),
        event_slug=event.slug,
        received_at=now,
        source=STAFF_SOURCE if address else PHONE_SOURCE,
        email=data.email if address else "",
        email_key=data.email_key if address else "",
        consent_personal_data=True,
        consent_version=event.consent_version,
        consent_given_at=now,
        version=1,
        event_version=event.version,
        **_values(event, data),
    )


def _relaxed(event: Event) -> Event:
    """The event with every powiat in its area: staff's override, or a powiat staff accepted
    before and left as it is."""
    return event.model_copy(update={"eligible_powiaty": list(POWIATY)})


def _check_address(session: Session, event: Event, registration: Registration) -> None:
    """The identity rule of the public form (`registrations.identity`): the same person at
    this address is refused with a link to them; colleagues sharing it up to `max_per_email`."""
    query = select(Registration.id, Registration.name_key, Registration.status).where(
        Registration.event_slug == event.slug,
        Registration.email_key == registration.email_key,
    )
    people = session.execute(query).all()
    for registration_id, key, _ in people:
        if key == registration.name_key:  # of any status: one row per person (the unique key)
            raise ExistingAddress(registration_id)
    if sum(Status(status).active for _, _, status in people) >= event.max_per_email:
        raise EmailLimitReached()


def _same_name_and_phone(session: Session, event: Event, registration: Registration) -> str | None:
    """Another registration without an address, with this name and phone (names compared
    case-folded, Polish letters counting)."""
    query = select(Registration).where(
        Registration.event_slug == event.slug,
        Registration.email_key.startswith(NO_ADDRESS_PREFIX),
        Registration.erased_at.is_(None),
        Registration.phone == registration.phone,
    )
    name = registration.full_name.casefold()
    for other in session.scalars(query):
        if other.full_name.casefold() == name:
            return other.id
    return None


def _entry(
    registration: Registration,
    kind: str,
    actor: str,
    now: datetime,
    *,
    field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    note: str | None = None,
) -> DeskEntry:
    return DeskEntry(
        registration_id=registration.id,
        event_slug=registration.event_slug,
        kind=kind,
        actor=actor,
        at=now,
        field=field,
        old_value=old,
        new_value=new,
        note=note,
    )


def entries_of(session: Session, registration_id: str) -> list[DeskEntry]:
    query = select(DeskEntry).where(DeskEntry.registration_id == registration_id)
    return list(session.scalars(query.order_by(DeskEntry.id)))
