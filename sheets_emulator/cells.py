"""One cell's content and how input becomes it (RAW vs USER_ENTERED) and how it renders.

The point of the emulator is to make Sheets' parsing visible: RAW keeps a string a string,
USER_ENTERED turns `=…` into a formula, `0123` into 123 and `TRUE` into a boolean, exactly the
mangling our sync must never trigger.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import invalid
from .formulas import evaluate

Scalar = str | int | float | bool
SHEETS_EPOCH = datetime.date(1899, 12, 30)  # serial number 0 in Sheets' date system
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
VALUE_INPUT_OPTIONS = ("RAW", "USER_ENTERED")


@dataclass(frozen=True)
class Cell:
    """A non-empty cell: its effective value, plus the formula that produced it, if any."""

    value: Scalar
    formula: str | None = None
    error: bool = False  # value is an error code such as "#NAME?"
    date: bool = False  # value is a date serial number displayed as yyyy-mm-dd

    def formatted(self) -> str:
        """FORMATTED_VALUE: what a person sees in the cell."""
        if self.date and not isinstance(self.value, (bool, str)):
            return (SHEETS_EPOCH + datetime.timedelta(days=self.value)).isoformat()
        return display(self.value)

    def unformatted(self, serial_dates: bool = True) -> Scalar:
        """UNFORMATTED_VALUE, dates per dateTimeRenderOption (SERIAL_NUMBER by default)."""
        if self.date and not serial_dates:
            return self.formatted()
        return self.value

    def user_entered_value(self) -> dict[str, Any]:
        """ExtendedValue of what was entered, for grid data."""
        if self.formula is not None:
            return {"formulaValue": self.formula}
        return extended_value(self.value, self.error)

    def effective_value(self) -> dict[str, Any]:
        return extended_value(self.value, self.error)


def extended_value(value: Scalar, error: bool = False) -> dict[str, Any]:
    if error:
        return {"errorValue": {"type": "ERROR", "message": str(value)}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"numberValue": value}


def display(value: Scalar) -> str:
    """Sheets' default ("General") rendering of a value."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return format(value, ".15g").replace("e", "E")


def normalize_number(value: float) -> int | float:
    """Whole numbers as ints, so JSON answers `2` where Google answers `2`."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def parse_input(value: object, option: str) -> Cell | None:
    """A JSON value from a write request as stored; None means the cell becomes empty."""
    if isinstance(value, bool):
        return Cell(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise invalid(f"Invalid value: {value}")
        return Cell(normalize_number(float(value)))
    if not isinstance(value, str):
        raise invalid(f"Invalid values: {value!r} is not a string, number or boolean")
    if value == "":
        return None
    if option == "RAW":
        return Cell(value)
    return _user_entered(value)


def _user_entered(text: str) -> Cell:
    """What Sheets makes of text typed into a cell (en_US locale)."""
    if text.startswith("'"):
        return Cell(text[1:])  # the apostrophe prefix forces text and is not shown
    if text.startswith("=") and len(text) > 1:
        result, error = evaluate(text)
        if isinstance(result, float):
            result = normalize_number(result)
        return Cell(result, formula=text, error=error)
    if text.upper() in ("TRUE", "FALSE"):
        return Cell(text.upper() == "TRUE")
    if _NUMBER.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return Cell(normalize_number(number))
    match = _ISO_DATE.fullmatch(text)
    if match:
        try:
            day = datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            return Cell(text)
        return Cell((day - SHEETS_EPOCH).days, date=True)
    return Cell(text)


def render(cell: Cell, option: str, serial_dates: bool) -> Scalar:
    """A cell under valueRenderOption FORMATTED_VALUE, UNFORMATTED_VALUE or FORMULA."""
    if option == "FORMATTED_VALUE":
        return cell.formatted()
    if option == "FORMULA" and cell.formula is not None:
        return cell.formula
    return cell.unformatted(serial_dates)
