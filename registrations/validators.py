"""Small pure field rules; each raises ValueError with the Polish message a participant sees."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
_CENTURY_BY_MONTH_OFFSET = {80: 1800, 0: 1900, 20: 2000, 40: 2100, 60: 2200}


def clean_text(value: str) -> str:
    """Single-line text: NFC, trimmed, inner whitespace collapsed, no control characters."""
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in " \t" for ch in value):
        raise ValueError("Pole zawiera niedozwolone znaki sterujące.")
    return " ".join(value.split())


def clean_multiline(value: str) -> str:
    """Free text that may span lines; other control characters are refused."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in value):
        raise ValueError("Pole zawiera niedozwolone znaki sterujące.")
    return "\n".join(" ".join(line.split()) for line in value.strip().split("\n"))


def normalise_email(value: str) -> str:
    """A syntactically valid address (no DNS look-up), in its normalised form.

    Letters like ż before the @ need SMTPUTF8, which most mail servers do not offer, so such an
    address could never be written to: it is refused with a word on why.
    """
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as exc:
        if str(exc).startswith("Internationalized characters before the @-sign"):
            raise ValueError(
                "Adres e-mail nie może zawierać polskich liter przed znakiem @."
            ) from exc
        raise ValueError("Podaj poprawny adres e-mail, np. jan.kowalski@example.pl.") from exc


def ascii_address(value: str) -> str:
    """The address as a mail server takes it: a domain with Polish letters in its IDNA form."""
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return value
    return checked.ascii_email or value


def normalise_phone(value: str) -> str:
    """A valid phone number, Polish by default, in international form: `+48 533 316 283`."""
    try:
        number = phonenumbers.parse(value, "PL")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Podaj poprawny numer telefonu, np. 533 316 283.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Podaj poprawny numer telefonu, np. 533 316 283.")
    if number.extension:
        raise ValueError("Podaj numer telefonu bez numeru wewnętrznego.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def pesel_birth_date(pesel: str) -> date:
    """The date of birth a PESEL encodes; ValueError when the number is not a valid PESEL."""
    if not re.fullmatch(r"\d{11}", pesel):
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
        raise ValueError("Podaj prawdziwą datę urodzenia.")
    return value
