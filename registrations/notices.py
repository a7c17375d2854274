"""What a state change tells the participant: the operations report a Notice, mail sends it.

The notice is handed over inside the transaction of the change (`Notify` gets that session), so
an e-mail is queued exactly when the change commits and never for a change that rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from registrations.event import Event
from registrations.models import Registration
from registrations.status import Status


class NoticeKind(StrEnum):
    REGISTERED = "registered"  # a seat, or a place on the waiting list
    CHANGED = "changed"  # the participant corrected their data
    CANCELLED = "cancelled"  # withdrawn: by the link, or staff typed "rezygnacja"
    PROMOTED = "promoted"  # a freed seat went to them from the waiting list
    CONFIRMED = "confirmed"  # staff typed "przyjęte"
    REJECTED = "rejected"  # staff typed "odrzucone"
    LINK = "link"  # the private link again (a reminder, or a corrected address)
    # The links of everyone registered with one address, in one e-mail (the lost-link page);
    # `detail` lists their IDs.
    LINKS = "links"
    EVENT_CHANGED = "event_changed"  # staff changed the dates, the venue or what is provided
    # To the event's contact, not the participant: special needs were stated or changed (the
    # e-mail names the registration, never the need).
    SPECIAL_NEEDS = "special_needs"
    CORRECTED = "corrected"  # staff corrected the data (`Powiadom uczestnika`): what changed
    MESSAGE = "message"  # a message staff wrote (`…/wiadomosci`); `detail` names it
    # Before the event (registrations/participation.py): "are you still coming?", and a freed
    # seat offered for a limited time; to the contact: a seat left free (no offer could be made).
    REMINDER = "reminder"
    OFFERED = "offered"
    SEAT_NOT_OFFERED = "seat_not_offered"


@dataclass(frozen=True)
class Notice:
    """What happened, as it stood at that moment (the e-mail may be composed a little later)."""

    kind: NoticeKind
    event: Event
    registration: Registration
    status: Status
    waiting_position: int | None = None
    # The calendar entry the e-mail carries, by its SEQUENCE: published for a confirmed seat,
    # cancelled for a seat given up; None: no calendar entry.
    calendar_sequence: int | None = None
    detail: str | None = None  # JSON: what else the e-mail reports (what changed)


# The notices of one transaction, handed over together (a batch of registrations queues its
# e-mails in one statement).
Notify = Callable[[Session, Sequence[Notice]], None]


def nobody(session: Session, notices: Sequence[Notice]) -> None:
    """A Notify that tells no one (tools and tests that need no e-mail)."""
