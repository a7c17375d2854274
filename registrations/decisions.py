"""Decisions staff type in the sheet's `Decyzja organizatora` column, and what each one means."""

from __future__ import annotations

from enum import StrEnum

from registrations.powiaty import fold
from registrations.status import Status


class Decision(StrEnum):
    CANCELLED = "rezygnacja"  # the participant withdrew (e.g. by phone)
    REJECTED = "odrzucone"  # not eligible
    CONFIRMED = "przyjęte"  # a seat, from the waiting list too, above capacity if need be

    @property
    def status(self) -> Status:
        return _STATUS[self]


_STATUS = {
    Decision.CANCELLED: Status.CANCELLED,
    Decision.REJECTED: Status.REJECTED,
    Decision.CONFIRMED: Status.CONFIRMED,
}
_BY_FOLDED = {fold(decision.value): decision for decision in Decision}
CHOICES: list[str] = [decision.value for decision in Decision]


class UnknownDecision(ValueError):
    """A value typed over the drop-down that is none of the decisions."""


def parse_decision(text: str) -> Decision | None:
    """The decision in a cell: None when empty; spaces, case and Polish letters do not matter."""
    folded = fold(text)
    if not folded:
        return None
    decision = _BY_FOLDED.get(folded)
    if decision is None:
        raise UnknownDecision(text)
    return decision
