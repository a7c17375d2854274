"""Small pure field rules; each raises ValueError with the Polish message a participant sees."""

from __future__ import annotations

import unicodedata
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
_CENTURY_BY_MONTH_OFFSET = {80: 1800, 0: 1900, 20: 2000, 40: 2100, 60: 2200}
# Control and format characters, code points that are no characters (U+FFFF, unassigned) and
# lone surrogates: nobody types them, and the spreadsheet's XML cannot carry some of them.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Cs"})
REFUSED_CHARACTERS = (
    "Pole zawiera niedozwolone znaki sterujące lub niedrukowalne – należy je usunąć."
)
EMAIL_KEY_MAX = 254  # the column that holds the case-folded address


def _refused(ch: str, allowed: str) -> bool:
    return ch not in allowed and unicodedata.category(ch) in _REFUSED_CATEGORIES


def _has_refused(value: str, allowed: str) -> bool:
    # `isprintable` (in C) is False for every refused category and more (spaces other than
    # U+0020, private use): only such a value is looked at character by character.
    return not value.isprintable() and any(_refused(ch, allowed) for ch in value)


def printable(value: str, allowed: str = "\t\n") -> str:
    """The text without the characters a field refuses: for values stored before they were."""
    if not _has_refused(value, allowed):
        return value
    return "".join(ch for ch in value if not _refused(ch, allowed))


def ascii_digits(value: str) -> bool:
    """Digits 0–9 only: `str.isdigit` also takes Arabic-Indic, full-width and other digits."""
    return value.isascii() and value.isdigit()


def no_hidden_characters(value: str) -> str:
    """The value as typed, refused when it carries characters nobody types (U+FFFF, controls).

    For fields whose parser would drop them silently (phone numbers, powiat names): a value
    is refused the same way in every field, not cleaned in some and refused in others.
    """
    if _has_refused(value, ""):
        raise ValueError(REFUSED_CHARACTERS)
    return value


def clean_text(value: str) -> str:
    """Single-line text: NFC, trimmed, inner whitespace collapsed, no control characters."""
    value = unicodedata.normalize("NFC", value)
    if _has_refused(value, " \t"):
        raise ValueError(REFUSED_CHARACTERS)
    return " ".join(value.split())


def clean_multiline(value: str) -> str:
    """Free text that may span lines; other control characters are refused."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    if _has_refused(value, "\n\t"):
        raise ValueError(REFUSED_CHARACTERS)
    return "\n".join(" ".join(line.split()) for line in value.strip().split("\n"))


def normalise_email(value: str) -> str:
    """A syntactically valid address (no DNS look-up), in its normalised form.

    Letters like ż before the @ need SMTPUTF8, which most mail servers do not offer, so such an
    address could never be written to: it is refused with a word on why. Spaces around it (a
    phone's keyboard adds one) are no part of it. An address whose case-folded form (its key in
    the store) would not fit its column is refused too: letters like ΐ fold to three.
    """
    try:
        address = validate_email(
            value.strip(), check_deliverability=False, allow_smtputf8=False
        ).normalized
    except EmailNotValidError as exc:
        if str(exc).startswith("Internationalized characters before the @-sign"):
            raise ValueError(
                "Adres e-mail nie może zawierać polskich liter przed znakiem @."
            ) from exc
        raise ValueError(
            "Należy podać poprawny adres e-mail, np. jan.kowalski@example.pl."
        ) from exc
    if len(address.casefold()) > EMAIL_KEY_MAX:
        raise ValueError("Adres e-mail jest za długi.")
    return address


def ascii_address(value: str) -> str:
    """The address as a mail server takes it: a domain with Polish letters in its IDNA form."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return value
    return checked.ascii_email or value


def normalise_phone(value: str) -> str:
    """A valid phone number, Polish by default, in international form: `+48 533 316 283`."""
    if any(ch.isdigit() and not ch.isascii() for ch in value):
        raise ValueError("Numer telefonu należy podać cyframi 0–9, np. 533 316 283.")
    try:
        number = phonenumbers.parse(value, "PL")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Należy podać poprawny numer telefonu, np. 533 316 283.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Należy podać poprawny numer telefonu, np. 533 316 283.")
    if number.extension:
        raise ValueError("Numer telefonu należy podać bez numeru wewnętrznego.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def pesel_birth_date(pesel: str) -> date:
    """The date of birth a PESEL encodes; ValueError when the number is not a valid PESEL."""
    if not (len(pesel) == 11 and ascii_digits(pesel)):
        raise ValueError("PESEL składa się z 11 cyfr.")
    digits = [int(d) for d in pesel]
    check = (10 - sum(w * d for w, d in zip(_PESEL_WEIGHTS, digits, strict=False)) % 10) % 10
    if check != digits[10]:
        raise ValueError("Numer PESEL jest niepoprawny (błędna cyfra kontrolna).")
    month = int(pesel[2:4])
    offset = month - (month - 1) % 20 - 1 if month > 12 else 0
    century = _CENTURY_BY_MONTH_OFFSET.get(offset)
    try:
        if century is None:
            raise ValueError
        return date(century + int(pesel[0:2]), month - offset, int(pesel[4:6]))
    except ValueError:
        raise ValueError("Numer PESEL jest niepoprawny (błędna data urodzenia).") from None


def plausible_birth_date(value: date, today: date) -> date:
    """A date of birth of a living adult-ish participant, not a typo like 2081."""
    if value >= today:
        raise ValueError("Data urodzenia nie może być w przyszłości.")
    if value.year < today.year - 120:
        raise ValueError("Data urodzenia jest nieprawdopodobna – prosimy ją sprawdzić.")
    return value
