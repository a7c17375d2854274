"""The four states of a registration and how staff read them (sheet, lists, e-mails)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        """The Polish word staff see in the sheet: `potwierdzone`, `rezygnacja` …"""
        return STATUS_LABELS[self]

    @property
    def active(self) -> bool:
        """Still taking part or waiting to: counts against the per-enterprise limit."""
        return self in (Status.CONFIRMED, Status.WAITLISTED)


# Why staff reject a registration, as the participant reads it (the page and the e-mail).
REJECTION_REASON = (
    "zgłoszenie nie spełnia warunków udziału w wydarzeniu (np. przedsiębiorstwo spoza obszaru "
    "wsparcia OWES albo niespełniające warunków udziału)"
)

# The status as the participant reads it on the pages: `przyjęte` is never one of them.
STATUS_WORDS: dict[Status, str] = {
    Status.CONFIRMED: "potwierdzone",
    Status.WAITLISTED: "na liście rezerwowej",
    Status.CANCELLED: "rezygnacja",
    Status.REJECTED: "odrzucone",
}

STATUS_LABELS: dict[Status, str] = {
    Status.CONFIRMED: "potwierdzone",
    Status.WAITLISTED: "lista rezerwowa",
    Status.CANCELLED: "rezygnacja",
    Status.REJECTED: "odrzucone",
}
