"""DataValidationRule JSON (setDataValidation, CellData.dataValidation), stored per cell.

What `strict` means for API writes: the API reference says only "True if invalid data should be
rejected", and rejection is what the Sheets UI does to typed input. Writes through the API
(values.update/batchUpdate/append, updateCells) are, as far as public reports go, not checked
against validation rules: the value is stored and Sheets flags the cell as invalid. gspread's
recorded `test_add_validation` meant to show a rejection, but its 400 comes from a malformed body
(`values: "X"`), so it proves nothing either way. The emulator keeps and answers rules and never
refuses a value because of one; a live check against Google would settle it.
"""

from __future__ import annotations

from typing import Any

from . import conditions
from .errors import invalid


def normalized_rule(data: object, where: str = "rule") -> dict[str, Any]:
    """The rule as Google answers it: false booleans and empty messages left out (proto3)."""
    if not isinstance(data, dict):
        raise invalid(f"Invalid value at '{where}'")
    rule: dict[str, Any] = {
        "condition": conditions.normalized(data.get("condition"), f"{where}.condition")
    }
    message = data.get("inputMessage")
    if message:
        rule["inputMessage"] = str(message)
    for flag in ("strict", "showCustomUi"):
        if data.get(flag):
            rule[flag] = True
    return rule
