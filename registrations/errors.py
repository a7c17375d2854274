"""Pydantic validation errors turned into one clear Polish message per field."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from registrations.schema import DIET_LABELS, MAX_LENGTHS, FieldError
from registrations.validators import REFUSED_CHARACTERS

DATE_FORMAT = "Datę należy podać w formacie RRRR-MM-DD."
_MESSAGES: dict[str, str] = {
    "missing": "To pole jest wymagane.",
    "extra_forbidden": "Nieznane pole – należy je usunąć ze zgłoszenia.",
    "string_type": "Oczekiwano tekstu.",
    "string_unicode": REFUSED_CHARACTERS,  # a lone surrogate
    "bool_type": "Oczekiwano wartości true albo false.",
    "bool_parsing": "Oczekiwano wartości true albo false.",
    "string_too_long": "Tekst jest za długi (najwyżej {max_length} znaków).",
    "too_long": "Tekst jest za długi (najwyżej {max_length} znaków).",
    "date_type": DATE_FORMAT,
    "date_parsing": DATE_FORMAT,
    "date_from_datetime_parsing": DATE_FORMAT,
    "date_from_datetime_inexact": DATE_FORMAT,
    "enum": "Dozwolone wartości: {expected}.",
}
_FALLBACK = "Niepoprawna wartość."
DIET_CHOICE = (
    "Należy wybrać jedną z diet: "
    + ", ".join(f"{diet.value} ({label})" for diet, label in DIET_LABELS.items())
    + "."
)
GENERAL = "__all__"


def _message(error: ErrorDetails) -> str:
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if error["type"] in ("string_too_long", "too_long") and error["loc"]:
        # The field's own limit, not the guard's (2000) that refused the value unread.
        ctx["max_length"] = MAX_LENGTHS.get(str(error["loc"][0]), ctx.get("max_length"))
    if error["type"] == "value_error" and isinstance(ctx.get("error"), ValueError):
        return str(ctx["error"])
    if error["type"] == "enum" and error["loc"][:1] == ("diet",):
        return DIET_CHOICE
    template = _MESSAGES.get(error["type"], _FALLBACK)
    if "expected" in ctx:  # pydantic lists the values in English: "'a', 'b' or 'c'"
        ctx["expected"] = str(ctx["expected"]).replace(" or ", " albo ")
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return _FALLBACK


def _field(error: ErrorDetails) -> str:
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        return cause.field
    return str(error["loc"][0]) if error["loc"] else GENERAL


def polish_errors(exc: ValidationError) -> dict[str, str]:
    """The first problem of each field, keyed by field name, in Polish."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        errors.setdefault(_field(error), _message(error))
    return errors
