"""The one state change of intake: an accepted registration gets a seat or a waiting-list place."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registrations.allocation import count, lock_event
from registrations.event import Event
from registrations.models import Registration
from registrations.powiaty import fold
from registrations.schema import RegistrationIn
from registrations.status import Status
from registrations.window import Transactions

_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread


class RegistrationRefused(Exception):
    """A valid submission the event's rules do not allow."""

    code = "refused"


class ClosedOff(RegistrationRefused):
    """Staff closed the event off (possibly before its deadline)."""

    code = "registration_closed"


class AlreadyRegistered(RegistrationRefused):
    code = "already_registered"


class EnterpriseLimitReached(RegistrationRefused):
    code = "enterprise_limit_reached"


def new_registration_id() -> str:
    """A short ID staff can read out on the phone, e.g. `R-7K3F-9Q2M`."""
    chars = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"


def enterprise_key(name: str) -> str:
    """Folds spelling differences so one enterprise counts once against `max_per_enterprise`."""
    return fold(name).replace('"', "")[:200]


def register(
    store: Transactions, event: Event, data: RegistrationIn, *, source: str, now: datetime
) -> Registration:
    """Commit the registration, confirmed while seats last and waitlisted after.

    The event's state row is locked first, so concurrent submissions are counted one at a time
    and the event is never oversold (SQLite serialises with `BEGIN IMMEDIATE` instead).
    """
    try:
        with store.transaction() as session:
            state = lock_event(session, event)
            if state.closing_started_at is not None or state.closed_off_at is not None:
                raise ClosedOff()
            _check_unique(session, event, data)
            confirmed = count(session, event, status=Status.CONFIRMED)
            registration = _new_row(event, data, source=source, now=now)
            seat = confirmed < event.capacity
            registration.status = Status.CONFIRMED if seat else Status.WAITLISTED
            session.add(registration)
    except IntegrityError as exc:  # the unique e-mail constraint, should the lock be bypassed
        raise AlreadyRegistered() from exc
    return registration


def _check_unique(session: Session, event: Event, data: RegistrationIn) -> None:
    same_email = select(Registration.id).where(
        Registration.event_slug == event.slug, Registration.email_key == data.email_key
    )
    if session.scalar(same_email) is not None:
        raise AlreadyRegistered()
    if event.max_per_enterprise is not None:
        taken = count(session, event, enterprise=enterprise_key(data.enterprise_name))
        if taken >= event.max_per_enterprise:
            raise EnterpriseLimitReached()


def _new_row(event: Event, data: RegistrationIn, *, source: str, now: datetime) -> Registration:
    return Registration(
        id=new_registration_id(),
        event_slug=event.slug,
        received_at=now,
        source=source,
        first_name=data.first_name,
        last_name=data.last_name,
        enterprise_name=data.enterprise_name,
        enterprise_key=enterprise_key(data.enterprise_name),
        powiat=data.powiat,
        role=data.role,
        email=data.email,
        email_key=data.email_key,
        phone=data.phone,
        pesel=data.pesel,
        birth_date=data.birth_date,
        accommodation=data.accommodation and event.accommodation_label is not None,
        diet=data.diet.value,
        diet_other=data.diet_other,
        special_needs=data.special_needs,
        consent_personal_data=data.consent_personal_data,
        consent_image=data.consent_image,
        consent_version=event.consent_version,
        consent_given_at=now,
    )
