"""A person's own data (RODO art. 15 and 20): everything the store holds about them, as JSON.

Offered behind their private link (page and API). The registration's fields, the consents as
given, every status change with who made it, and the e-mails the service sent them. The document
is built through the models below, so the OpenAPI document describes exactly what is sent.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from checkin.erasure import presence_and_certificate
from registrations.answers import answers_of
from registrations.event import Event
from registrations.models import Registration, StatusChange
from registrations.notices import NoticeKind
from registrations.operations import payload_of
from registrations.participation import records_of
from registrations.schema import RegistrationData
from registrations.staff_messages import message_of
from registrations.status import Status
from store import Store
from store.models import OutboxMessage

CONTROLLER = "Ośrodek Wsparcia Ekonomii Społecznej w Zielonej Górze"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)


class ContactPerson(_Part):
    name: str
    email: str


class Controller(_Part):
    """Who holds the data (the administrator), and whom to ask about it."""

    name: str
    contact: ContactPerson


class EventPart(_Part):
    slug: str
    title: str
    starts_on: date
    ends_on: date


class OwnRegistration(RegistrationData):
    """The registration's fields as stored, with when and how it came and what became of it."""

    id: str
    status: Status
    status_label: str
    received_at: datetime
    updated_at: datetime | None
    source: str = Field(
        description="`form`, `api`, `staff` (added by staff, with an address) or `phone` "
        "(added by staff without an address)."
    )
    consent_version: str = Field(description="The version of the consent text agreed to.")
    consent_given_at: datetime
    link_sent_at: datetime | None
    staff_decision: str | None = Field(description="The last decision staff typed in the sheet.")
    copied_to_spreadsheet_at: datetime | None


class StatusHistoryItem(_Part):
    """One status change and who made it (`participant`, `staff` or `system`)."""

    at: datetime
    from_: str = Field(serialization_alias="from")
    to: str
    by: str
    decision: str | None


class EmailSent(_Part):
    """An e-mail the service wrote to the person (its kind, not its text)."""

    kind: str
    queued_at: datetime
    sent_at: datetime | None
    subject: str | None = None  # a message staff wrote (`message`): its subject as written


class BeforeEventItem(_Part):
    """A reminder sent, an answer given or a seat offered before the event (`what`: `reminder`,
    `second_reminder`, `answer_yes`, `answer_no`, `offer_made`, `offer_sent` with `until`,
    `offer_accepted`, `offer_declined`, `offer_expired`, `offer_closed`, `offer_undelivered`,
    `offer_by_phone`)."""

    at: datetime
    what: str
    until: datetime | None


class OwnData(_Part):
    """Everything stored about the person (RODO art. 15/20), nothing about others."""

    prepared_at: datetime
    controller: Controller
    event: EventPart
    registration: OwnRegistration
    status_history: list[StatusHistoryItem]
    emails: list[EmailSent]
    before_event: list[BeforeEventItem]
    presence: list[date] = Field(description="The days of the event the person was present.")
    certificate_number: str | None = Field(
        description="The number of the certificate of participation (`<n>/<year>`), if issued."
    )


def own_data(store: Store, event: Event, registration: Registration, now: datetime) -> OwnData:
    """The document a person downloads: what is stored about them, nothing about others."""
    with store.transaction() as session:
        changes = list(
            session.scalars(
                select(StatusChange)
                .where(StatusChange.registration_id == registration.id)
                .order_by(StatusChange.id)
            )
        )
        answers = answers_of(session, registration.id)
        messages = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.registration_id == registration.id)
                .order_by(OutboxMessage.id)
            )
        )
        subjects = {
            message.id: written.subject
            for message in messages
            if message.kind == NoticeKind.MESSAGE.value
            and (written := message_of(session, message.detail)) is not None
        }
        before_event = records_of(session, registration.id)
        days, certificate = presence_and_certificate(session, registration.id)
    status = Status(registration.status)
    return OwnData(
        prepared_at=now,
        controller=Controller(
            name=CONTROLLER,
            contact=ContactPerson(name=event.contact.name, email=str(event.contact.email)),
        ),
        event=EventPart(
            slug=event.slug, title=event.title, starts_on=event.starts_on, ends_on=event.ends_on
        ),
        registration=OwnRegistration.model_validate(
            {
                "id": registration.id,
                "status": status,
                "status_label": status.label,
                "received_at": registration.received_at,
                "updated_at": registration.updated_at,
                "source": registration.source,
                **payload_of(registration),
                "answers": answers,
                "consent_version": registration.consent_version,
                "consent_given_at": registration.consent_given_at,
                "link_sent_at": registration.link_sent_at,
                "staff_decision": registration.staff_decision,
                "copied_to_spreadsheet_at": registration.synced_at,
            }
        ),
        status_history=[
            StatusHistoryItem(
                at=change.changed_at,
                from_=change.old_status,
                to=change.new_status,
                by=change.actor,
                decision=change.decision,
            )
            for change in changes
        ],
        emails=[
            EmailSent(
                kind=message.kind,
                queued_at=message.created_at,
                sent_at=message.sent_at,
                subject=subjects.get(message.id),
            )
            for message in messages
        ],
        before_event=[
            BeforeEventItem(at=record.at, what=record.what, until=record.until)
            for record in before_event
        ],
        presence=days,
        certificate_number=certificate,
    )
