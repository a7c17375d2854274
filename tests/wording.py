"""What a Polish institution never writes to the public: `Ty` forms, gendered pairs, `(a)`.

`informal(text)` lists every such word in a text (a page, an e-mail, a message, a PDF's text);
dates and URLs are left out first, so nothing in them counts.
"""

from __future__ import annotations

import re

# Second person singular: pronouns, verbs in the present tense and imperatives the service's
# texts could plausibly use. Whole words, any case.
TY_FORMS = frozenset(
    """
    ty ciebie cię tobie tobą twój twoja twoje twojego twojej twojemu twoim twoich twoją twoi
    możesz masz chcesz jesteś musisz wiesz otrzymasz zobaczysz poprawisz zrezygnujesz
    rezygnujesz wybierasz dostaniesz znajdziesz
    skontaktuj spróbuj sprawdź podaj wybierz popraw zrezygnuj poproś odczekaj wpisz opisz usuń
    użyj kliknij wyślij zapisz wróć przejdź pobierz nanieś zmień pozostaw wypełniaj przekazuj
    zaznacz napisz pamiętaj zachowaj prześlij odpowiedz zadzwoń zostaw wyczyść
    """.split()
)
# The polite forms that need the person's gender.
PAN_PANI = frozenset("pan pani pana panią panu".split())
GENDERED = re.compile(r"\w+(?:łeś|łaś|łbyś|łabyś)\b|\w\(a\)|\(a\)|\w+/\w*ła\b", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|mailto:|www\.)\S+|\S+@\S+\.\w+")
# Keys of a query string or a form, never shown as prose: the answer links' `?odpowiedz=tak`
# (issue 19 fixes that key), as a key (`odpowiedz=`, `name="odpowiedz"`) or a bare literal.
_KEYS = re.compile(r"(?<![\w])odpowiedz(?=[=\"'])|^odpowiedz$")
_DATE = re.compile(r"\d{1,4}[.\-/]\d{1,2}[.\-/]\d{1,4}")
_WORD = re.compile(r"\w+", re.UNICODE)


def informal(text: str) -> list[str]:
    """The `Ty` forms, gendered forms and `(a)` endings found in `text`."""
    text = _DATE.sub(" ", _URL.sub(" ", _KEYS.sub(" ", text.replace("\u00a0", " "))))
    found = [m.group(0) for m in GENDERED.finditer(text)]
    for word in _WORD.findall(text):
        lower = word.casefold()
        if lower in TY_FORMS or lower in PAN_PANI:
            found.append(word)
    return found
