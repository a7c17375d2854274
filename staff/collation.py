"""Polish alphabetical order for printed lists: Ł after L, Ś after S, Ż after Ź after Z.

Python's own ordering puts every accented letter after `z`, and the Unicode default order
(DUCET, e.g. pyuca) files `ś` under `s` (`Świętosław` before `Szymon`). The only libraries
that know the Polish rules need ICU: PyICU compiles against the system's libicu, and the
wheels that bundle ICU weigh 18–65 MB. Polish collation in CLDR is a short tailoring, the
nine letters `ą ć ę ł ń ó ś ź ż` each a letter of its own after its base letter, so a sort key
that follows it is a few lines; tests compare it with lists ordered the Polish way.
"""

from __future__ import annotations

import unicodedata

# The Latin alphabet with the Polish letters in their places (q, v and x as in Latin).
_ALPHABET = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}

# Primary groups, as in CLDR's root order: spaces and punctuation, digits, Latin, other
# scripts (Greek, Cyrillic… by code point).
_PUNCTUATION, _DIGIT, _LATIN, _OTHER = range(4)

Weight = tuple[int, int]
SortKey = tuple[tuple[Weight, ...], tuple[str, ...], tuple[bool, ...]]
CompactKey = tuple[bytes, str, bytes]


def polish_key(text: str) -> SortKey:
    """A key under which texts sort as a Polish dictionary does.

    Three levels, as in the Unicode collation algorithm: letters first (`ó` is a letter after
    `o`, but `é` is an `e`), then accents that are not Polish letters (`e` before `é`), then
    case (`de Vries` before `De Vries`).
    """
    primary: list[Weight] = []
    secondary: list[str] = []
    text = unicodedata.normalize("NFC", text)
    for char in text.casefold():
        if char in _RANK:
            primary.append((_LATIN, _RANK[char]))
            secondary.append("")
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        if unicodedata.combining(base):  # a lone accent: no letter of its own
            secondary.append(char)
        elif base in _RANK:
            primary.append((_LATIN, _RANK[base]))
            secondary.append(marks)
        elif base.isdigit():
            primary.append((_DIGIT, unicodedata.digit(base, 0)))
            secondary.append(marks)
        elif base.isalpha():
            primary.append((_OTHER, ord(base)))
            secondary.append(marks)
        else:
            primary.append((_PUNCTUATION, ord(base)))
            secondary.append("")
    tertiary = tuple(char.isupper() for char in text)
    return tuple(primary), tuple(secondary), tertiary


def compact_polish_key(text: str) -> CompactKey:
    """`polish_key` in a few flat objects that order the same way, for sorting thousands.

    The nested tuples of `polish_key` take some 1 KB a name (40 MiB for an attendance list of
    10 000), held all at once while a list sorts; this is about a fifth of that. Each weight
    is three bytes (group, then code), so comparing bytes compares the weights in turn; the
    accents are joined by NUL, which sorts below any mark, as a shorter tuple does.
    """
    primary, secondary, tertiary = polish_key(text)
    weights = b"".join(((group << 21) | code).to_bytes(3, "big") for group, code in primary)
    return weights, "\0".join(secondary), bytes(tertiary)
