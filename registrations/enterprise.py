"""One enterprise, however it is spelled: the key `max_per_enterprise` counts by.

Social enterprises write their legal form in many ways (`Spółdzielnia Socjalna`, `SS`, `Sp.
Soc.`), before or after the name, with or without quotes. The key keeps the legal form as one
canonical word and the rest of the name folded (case, Polish letters, quotes and punctuation
ignored): spellings of one form count as one enterprise, different forms stay different
(`Fundacja Pomost` is not `Stowarzyszenie Pomost`). An event that asks for the NIP counts by
NIP alone.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.pl import nip as stdnum_nip

KEY_MAX = 200  # the column
NIP_PREFIX = "nip:"

# Each legal form with the spellings of it seen in registrations, as folded words.
LEGAL_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "spoldzielnia-socjalna": (
        ("spoldzielnia", "socjalna"),
        ("spoldz", "socjalna"),
        ("spoldz", "soc"),
        ("sp", "socjalna"),
        ("sp", "soc"),
        ("sp", "socj"),
        ("ss",),
    ),
    "stowarzyszenie": (("stowarzyszenie",), ("stow",)),
    "fundacja": (("fundacja",), ("fund",)),
    "spolka-z-oo": (
        ("spolka", "z", "ograniczona", "odpowiedzialnoscia"),
        ("sp", "z", "ograniczona", "odpowiedzialnoscia"),
        ("spolka", "z", "o", "o"),
        ("sp", "z", "o", "o"),
        ("spolka", "z", "oo"),
        ("sp", "z", "oo"),
        ("spzoo",),
    ),
}
# Longest spelling first, so `sp z o o` is not read as `sp` and the rest.
_SPELLINGS = sorted(
    ((words, form) for form, spellings in LEGAL_FORMS.items() for words in spellings),
    key=lambda item: -len(item[0]),
)


def words(name: str) -> list[str]:
    """The name as folded words: lower case ASCII (ł as l), quotes and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", name.casefold()).replace("ł", "l")
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", ascii_only).split()


def enterprise_key(name: str) -> str:
    """`<legal forms>|<the other words>`: the same for every spelling of one enterprise."""
    remaining = words(name)
    forms: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(remaining):
        for spelling, form in _SPELLINGS:
            if tuple(remaining[i : i + len(spelling)]) == spelling:
                forms.append(form)
                i += len(spelling)
                break
        else:
            rest.append(remaining[i])
            i += 1
    return f"{' '.join(sorted(set(forms)))}|{' '.join(rest)}"[:KEY_MAX]


def nip_key(nip: str) -> str:
    """The key of an enterprise counted by its NIP (10 digits)."""
    return f"{NIP_PREFIX}{nip}"


def normalise_nip(value: str) -> str:
    """A valid Polish NIP as 10 digits (spaces and hyphens ignored), or a Polish ValueError."""
    compact = value.replace(" ", "").replace("-", "")
    if not (compact.isascii() and compact.isdigit() and len(compact) == 10):
        raise ValueError("NIP składa się z 10 cyfr, np. 123-456-32-18.")
    try:
        return str(stdnum_nip.validate(compact))
    except InvalidChecksum:
        raise ValueError("Numer NIP jest niepoprawny (błędna cyfra kontrolna).") from None
    except (InvalidFormat, InvalidLength, ValidationError):
        raise ValueError("Numer NIP jest niepoprawny.") from None
