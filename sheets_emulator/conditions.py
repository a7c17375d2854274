"""BooleanCondition JSON, shared by data validation and conditional formatting.

Conditions are checked for shape (a known type, the number of values it needs) and kept as the
API's JSON. The emulator evaluates none of them: it renders nothing, and values written through
the API are not checked against validation rules (see `validation`).
"""

from __future__ import annotations

from typing import Any

from .errors import invalid

CONDITION_TYPES = frozenset(
    """
    NUMBER_GREATER NUMBER_GREATER_THAN_EQ NUMBER_LESS NUMBER_LESS_THAN_EQ NUMBER_EQ NUMBER_NOT_EQ
    NUMBER_BETWEEN NUMBER_NOT_BETWEEN TEXT_CONTAINS TEXT_NOT_CONTAINS TEXT_STARTS_WITH
    TEXT_ENDS_WITH TEXT_EQ TEXT_NOT_EQ TEXT_IS_EMAIL TEXT_IS_URL DATE_EQ DATE_NOT_EQ DATE_BEFORE
    DATE_AFTER DATE_ON_OR_BEFORE DATE_ON_OR_AFTER DATE_BETWEEN DATE_NOT_BETWEEN DATE_IS_VALID
    ONE_OF_RANGE ONE_OF_LIST BLANK NOT_BLANK CUSTOM_FORMULA BOOLEAN FILTER_EXPRESSION
    """.split()
)
# How many values each type takes: (at least, at most); types not listed take exactly one.
_VALUE_COUNTS: dict[str, tuple[int, int]] = {
    "NUMBER_BETWEEN": (2, 2),
    "NUMBER_NOT_BETWEEN": (2, 2),
    "DATE_BETWEEN": (2, 2),
    "DATE_NOT_BETWEEN": (2, 2),
    "TEXT_IS_EMAIL": (0, 0),
    "TEXT_IS_URL": (0, 0),
    "DATE_IS_VALID": (0, 0),
    "BLANK": (0, 0),
    "NOT_BLANK": (0, 0),
    "BOOLEAN": (0, 2),
    "ONE_OF_LIST": (1, 500),
}


def normalized(data: object, where: str) -> dict[str, Any]:
    """A BooleanCondition as Google keeps it; `where` names the field in error messages."""
    if not isinstance(data, dict):
        raise invalid(f"{where} is required")
    kind = data.get("type")
    if kind not in CONDITION_TYPES:
        raise invalid(f"Invalid value at '{where}.type', \"{kind}\"")
    values = data.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise invalid(f"Invalid value at '{where}.values'")
    low, high = _VALUE_COUNTS.get(kind, (1, 1))
    if not low <= len(values) <= high:
        raise invalid(f"{where}: a {kind} condition takes {_count(low, high)}, not {len(values)}")
    kept = [_condition_value(value, f"{where}.values[{i}]") for i, value in enumerate(values)]
    if kind == "CUSTOM_FORMULA" and not str(kept[0].get("userEnteredValue", "")).startswith("="):
        raise invalid(f"{where}: a CUSTOM_FORMULA value must be a formula starting with '='")
    condition: dict[str, Any] = {"type": kind}
    if kept:
        condition["values"] = kept
    return condition


def _condition_value(value: dict[str, Any], where: str) -> dict[str, Any]:
    if "relativeDate" in value:
        return {"relativeDate": str(value["relativeDate"])}
    entered = value.get("userEnteredValue")
    if not isinstance(entered, str):
        raise invalid(f"Invalid value at '{where}.user_entered_value'")
    return {"userEnteredValue": entered}


def _count(low: int, high: int) -> str:
    if low == high:
        return f"{low} value{'s' if low != 1 else ''}"
    return f"{low} to {high} values"
