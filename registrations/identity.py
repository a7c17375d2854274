"""Who a registration is: the event, the e-mail key and the name key.

Colleagues of one social enterprise often share one address (`biuro@…`): each registers with
their own name and gets their own private link. The same name at the same address is the same
person, registered once; `max_per_email` caps how many people one address may register.
"""

from __future__ import annotations

import unicodedata

NAME_KEY_MAX = 254  # the column; two names of at most 60 characters each fold well within it
_SEPARATOR = "\x1f"  # no name holds it: a field refuses control characters


def name_part(value: str) -> str:
    """One name as it identifies: NFC, trimmed, inner spaces collapsed, case-folded. Polish
    letters count (`Łucja` is not `Lucja`)."""
    return " ".join(unicodedata.normalize("NFC", value).split()).casefold()


def name_key(first_name: str, last_name: str) -> str:
    """The name key of a person: first and last name, in that order (order counts)."""
    return f"{name_part(first_name)}{_SEPARATOR}{name_part(last_name)}"[:NAME_KEY_MAX]
