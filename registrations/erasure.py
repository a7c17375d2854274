"""Erasure (RODO art. 17) and retention: what leaves a registration, and when an event's go.

An erased registration keeps its ID, event, status and powiat (the statistics staff report),
and its timestamps; everything that names or reaches the person is emptied, its private link
included. Pure functions: the operations and the staff side call them inside their transaction.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum

from registrations.event import Event
from registrations.models import Registration

ERASED = "(dane usunięte)"  # in place of an erased person, wherever staff read about them


class ErasedBy(StrEnum):
    REQUEST = "request"  # the person asked (`flask --app app erase`)
    RETENTION = "retention"  # the event's retention period passed


def identifying_values(registration: Registration) -> list[str]:
    """What would identify the person in a file: name, e-mail, phone, PESEL (non-empty)."""
    values = [
        registration.full_name,
        registration.email,
        registration.phone,
        registration.pesel or "",
    ]
    return [value for value in values if value.strip()]


def mentioned_values(registration: Registration) -> list[str]:
    """What names the person in a text staff read: the identifying values, the name's parts,
    and what they wrote about themselves (special needs, diet notes)."""
    values = [
        *identifying_values(registration),
        registration.first_name,
        registration.last_name,
        registration.special_needs or "",
        registration.diet_other or "",
    ]
    return [value for value in values if value.strip()]


def redact(text: str, values: list[str], placeholder: str = ERASED) -> str:
    """`text` with every whole-word occurrence of `values` (any case) replaced, longest first
    (the full name before its parts). Any run of spaces in a value matches any run of white
    space in the text: an HTML part binds a one-letter word to the next with a non-breaking
    space, and a long line may be folded."""
    wanted = sorted({value for value in values if value.strip()}, key=len, reverse=True)
    if not wanted:
        return text
    pattern = "|".join(r"\s+".join(re.escape(part) for part in value.split()) for value in wanted)
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", placeholder, text, flags=re.IGNORECASE)


def scrub(registration: Registration, now: datetime, by: ErasedBy) -> None:
    """Empty every personal field and mark the row erased; its sheet row is still to go."""
    registration.first_name = ""
    registration.last_name = ""
    registration.enterprise_name = ""
    registration.enterprise_key = ""
    registration.nip = None
    registration.role = None
    registration.email = ""
    # Unique per event with the e-mail key: the ID keeps erased rows apart, and no address
    # can ever fold to it (an address has an @).
    registration.email_key = f"erased:{registration.id}"
    registration.name_key = ""
    registration.phone = ""
    registration.pesel = None
    registration.birth_date = None
    registration.accommodation = False
    registration.gender = None
    registration.diet = ""
    registration.diet_other = None
    registration.special_needs = None
    registration.consent_image = False
    registration.token_nonce = None
    registration.token_lookup = None
    registration.link_sent_at = None
    registration.staff_decision = None
    registration.staff_decision_skipped = None
    registration.erased_at = now
    registration.erased_by = by.value
    registration.sheet_erased_at = None


def purge_on(event: Event) -> date | None:
    """The day the event's registrations are erased; None when its file sets no retention."""
    if event.retention_days is None:
        return None
    return event.ends_on + timedelta(days=event.retention_days)


def purge_due(event: Event, now: datetime) -> bool:
    """Whether the event's retention period has passed (on its day, in the event's time zone)."""
    day = purge_on(event)
    return day is not None and event.local(now).date() >= day
