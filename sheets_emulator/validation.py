"""DataValidationRule JSON (setDataValidation, CellData.dataValidation), stored per cell.

What `strict` means for API writes: Google documents `strict` only as "True if invalid data should
be rejected". Rejection happens where people type: the Sheets UI refuses the entry. Writes through
the API (values.update, values.batchUpdate, values.append, updateCells) are not checked against
validation rules; the value is stored and Sheets flags the cell as invalid. The emulator does the
same: it keeps rules and answers them, and never refuses a value because of one.
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
