"""The staff's history: every staff action, who did it, when, to which event and registrations.

Recorded in the transaction of the action itself, so an action that rolled back leaves no entry.
An entry names registrations by their IDs and changed data by field names only: values, reasons
and any other free text stay with the registration (and are erased with it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from registrations.models import StaffAction
from registrations.window import Transactions

# Who acted when it was no signed-in person.
SHEET = "arkusz"  # a decision typed in the staff's sheet
COMMAND = "wiersz poleceń"  # a `flask --app app …` command


class Action(StrEnum):
    SIGNED_IN = "signed_in"
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    SIGN_IN_LINK_PRINTED = "sign_in_link_printed"
    EVENT_CREATED = "event_created"
    EVENT_SAVED = "event_saved"
    EVENT_PUBLISHED = "event_published"
    EVENT_UNPUBLISHED = "event_unpublished"
    EVENT_DELETED = "event_deleted"
    PARTICIPANTS_NOTIFIED = "participants_notified"
    REGISTRATION_CLOSED = "registration_closed"
    REGISTRATION_REOPENED = "registration_reopened"
    LIST_DOWNLOADED = "list_downloaded"
    LIST_EXPORTED = "list_exported"
    DECISION = "decision"
    EMAIL_CORRECTED = "email_corrected"
    ERASED = "erased"
    REGISTRATION_ADDED = "registration_added"
    REGISTRATION_CORRECTED = "registration_corrected"
    SEAT_SWAPPED = "seat_swapped"
    MESSAGE_SENT = "message_sent"
    PRESENCE_RECORDED = "presence_recorded"
    PRESENCE_UNDONE = "presence_undone"
    CERTIFICATES_SENT = "certificates_sent"
    CERTIFICATE_REISSUED = "certificate_reissued"
    CERTIFICATE_REVOKED = "certificate_revoked"


ACTION_LABELS: dict[Action, str] = {
    Action.SIGNED_IN: "logowanie",
    Action.SIGNED_OUT: "wylogowanie",
    Action.SIGNED_OUT_EVERYWHERE: "wylogowanie ze wszystkich urządzeń",
    Action.SIGN_IN_LINK_PRINTED: "wydanie linku do logowania",
    Action.EVENT_CREATED: "utworzenie wydarzenia",
    Action.EVENT_SAVED: "zmiana wydarzenia",
    Action.EVENT_PUBLISHED: "publikacja wydarzenia",
    Action.EVENT_UNPUBLISHED: "wycofanie publikacji",
    Action.EVENT_DELETED: "usunięcie wydarzenia",
    Action.PARTICIPANTS_NOTIFIED: "powiadomienie uczestników o zmianach",
    Action.REGISTRATION_CLOSED: "zamknięcie zapisów",
    Action.REGISTRATION_REOPENED: "ponowne otwarcie zapisów",
    Action.LIST_DOWNLOADED: "pobranie listy",
    Action.LIST_EXPORTED: "zapisanie listy do pliku",
    Action.DECISION: "decyzja organizatora",
    Action.EMAIL_CORRECTED: "poprawienie adresu e-mail",
    Action.ERASED: "usunięcie danych osobowych",
    Action.REGISTRATION_ADDED: "dodanie zgłoszenia",
    Action.REGISTRATION_CORRECTED: "poprawienie zgłoszenia",
    Action.SEAT_SWAPPED: "zamiana osoby",
    Action.MESSAGE_SENT: "wiadomość do uczestników",
    Action.PRESENCE_RECORDED: "odnotowanie obecności",
    Action.PRESENCE_UNDONE: "cofnięcie obecności",
    Action.CERTIFICATES_SENT: "wysłanie zaświadczeń",
    Action.CERTIFICATE_REISSUED: "ponowne wystawienie zaświadczenia",
    Action.CERTIFICATE_REVOKED: "unieważnienie zaświadczenia",
}


def record_alone(store: Transactions, **entry: Any) -> None:
    """`record` in a transaction of its own (an action that changed nothing in the store)."""
    with store.transaction() as session:
        record(session, **entry)


def record(
    session: Session,
    *,
    actor: str,
    action: Action,
    at: datetime,
    event_slug: str | None = None,
    registration_ids: Iterable[str] = (),
    fields: Iterable[str] = (),
    detail: str | None = None,
) -> None:
    """Add an entry in the caller's transaction."""
    ids = ",".join(registration_ids)
    names = ",".join(fields)
    session.add(
        StaffAction(
            at=at,
            actor=actor[:254],
            action=action.value,
            event_slug=event_slug,
            registration_ids=ids or None,
            fields=names or None,
            detail=detail,
        )
    )
