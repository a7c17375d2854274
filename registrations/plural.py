"""Polish numbers with their noun declined (Babel's plural rules): 1 minuta, 3 minuty, 15 minut."""

from __future__ import annotations

from babel import Locale

_POLISH = Locale("pl")


def count_pl(n: int, one: str, few: str, many: str) -> str:
    """`n` and the form of the noun Polish uses with it: `count_pl(5, "miejsce", "miejsca",
    "miejsc")` is `5 miejsc`."""
    form = _POLISH.plural_form(n)
    word = {"one": one, "few": few}.get(form, many)
    return f"{n} {word}"
