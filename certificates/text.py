"""The certificate's text: plain substitution of exactly five placeholders, nothing else.

Any other `{…}` in a text is refused when the event (or the organisation file) is saved, so a
typo never reaches a printed certificate.
"""

from __future__ import annotations

import re

PLACEHOLDERS = ("imie_nazwisko", "przedsiebiorstwo", "wydarzenie", "termin", "miejsce")
DEFAULT_TEXT = (
    "Zaświadczamy, że osoba: {imie_nazwisko}, reprezentująca: {przedsiebiorstwo}, wzięła "
    "udział w wydarzeniu „{wydarzenie}” ({termin}, {miejsce})."
)
_BRACED = re.compile(r"\{([^{}]*)\}")
REFUSED = (
    "Dozwolone pola w treści zaświadczenia: "
    + ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    + "; innych nawiasów klamrowych nie można użyć."
)


def unknown_placeholders(text: str) -> list[str]:
    """The `{…}` in `text` that are none of the placeholders (a lone brace counts too)."""
    found = [name for name in _BRACED.findall(text) if name not in PLACEHOLDERS]
    rest = _BRACED.sub("", text)
    if "{" in rest or "}" in rest:
        found.append("{" if "{" in rest else "}")
    return found


def known_placeholders_only(text: str) -> str:
    """A pydantic validator: the text, or ValueError naming what is not allowed."""
    if unknown_placeholders(text):
        raise ValueError(REFUSED)
    return text


def fill(text: str, values: dict[str, str]) -> str:
    """Plain substitution (no format language: a value with braces stays as it is)."""
    return _BRACED.sub(lambda m: values.get(m.group(1), m.group(0)), text)
