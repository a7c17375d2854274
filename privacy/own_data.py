"""A person's own data (RODO art. 15 and 20): everything the store holds about them, as JSON.

Offered behind their private link (page and API). The registration's fields, the consents as
given, every status change with who made it, and the e-mails the service sent them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from registrations.event import Event
from registrations.models import Registration, StatusChange
from registrations.operations import payload_of
from registrations.status import Status
from store import Store
from store.models import OutboxMessage


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def own_data(
    store: Store, event: Event, registration: Registration, now: datetime
) -> dict[str, Any]:
    """The document a person downloads: what is stored about them, nothing about others."""
    with store.transaction() as session:
        changes = list(
            session.scalars(
                select(StatusChange)
                .where(StatusChange.registration_id == registration.id)
                .order_by(StatusChange.id)
            )
        )
        messages = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.registration_id == registration.id)
                .order_by(OutboxMessage.id)
            )
        )
    status = Status(registration.status)
    return {
        "prepared_at": now.isoformat(),
        "controller": {
            "name": "Ośrodek Wsparcia Ekonomii Społecznej w Zielonej Górze",
            "contact": {"name": event.contact.name, "email": str(event.contact.email)},
        },
        "event": {
            "slug": event.slug,
            "title": event.title,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat(),
        },
        "registration": {
            "id": registration.id,
            "status": status.value,
            "status_label": status.label,
            "received_at": registration.received_at.isoformat(),
            "updated_at": _iso(registration.updated_at),
            "source": registration.source,
            **payload_of(registration),
            "consent_version": registration.consent_version,
            "consent_given_at": registration.consent_given_at.isoformat(),
            "link_sent_at": _iso(registration.link_sent_at),
            "staff_decision": registration.staff_decision,
            "copied_to_spreadsheet_at": _iso(registration.synced_at),
        },
        "status_history": [
            {
                "at": change.changed_at.isoformat(),
                "from": change.old_status,
                "to": change.new_status,
                "by": change.actor,
                "decision": change.decision,
            }
            for change in changes
        ],
        "emails": [
            {
                "kind": message.kind,
                "queued_at": message.created_at.isoformat(),
                "sent_at": _iso(message.sent_at),
            }
            for message in messages
        ],
    }
