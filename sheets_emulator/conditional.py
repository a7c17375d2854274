"""Conditional-format rules: add (at an index), update (replace or move), delete.

Rules are kept in order per sheet and answered as `sheets[].conditionalFormats` in Google's
shape; their ranges follow inserted, deleted and moved rows and columns (see `model`). Formats
are mirrored into colour styles like any CellFormat (see `formats`); nothing is rendered.
"""

from __future__ import annotations

from typing import Any

from . import conditions, formats
from .context import Context, Handler
from .errors import invalid
from .model import ConditionalFormatRule, GridRange, Sheet


def add_rule(context: Context, payload: dict[str, Any]) -> None:
    sheet, rule = _parse_rule(context, payload.get("rule"))
    index = int(payload.get("index", 0))
    if not 0 <= index <= len(sheet.conditional_formats):
        raise invalid(
            f"Invalid index {index}: the sheet has {len(sheet.conditional_formats)} rules"
        )
    sheet.conditional_formats.insert(index, rule)


def update_rule(context: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """Replace the rule at `index` with `rule`, or move it to `newIndex` within `sheetId`."""
    index = int(payload.get("index", 0))
    reply: dict[str, Any] = {}
    if "rule" in payload:
        sheet, new_rule = _parse_rule(context, payload.get("rule"))
        old_rule = _rule_at(sheet, index)
        sheet.conditional_formats[index] = new_rule
        reply["newRule"] = new_rule.to_json()
        _put_index(reply, "newIndex", index)
        reply["oldRule"] = old_rule.to_json()
        return reply  # oldIndex is left out when a rule is replaced: it equals newIndex
    if "newIndex" not in payload:
        raise invalid("Either 'rule' or 'newIndex' must be set")
    sheet = context.sheet(payload.get("sheetId"))
    rule = _rule_at(sheet, index)
    new_index = int(payload["newIndex"])
    if not 0 <= new_index < len(sheet.conditional_formats):
        raise invalid(f"Invalid newIndex {new_index}")
    sheet.conditional_formats.pop(index)
    sheet.conditional_formats.insert(new_index, rule)
    reply["newRule"] = rule.to_json()  # oldRule is left out when a rule is moved
    _put_index(reply, "newIndex", new_index)
    _put_index(reply, "oldIndex", index)
    return reply


def delete_rule(context: Context, payload: dict[str, Any]) -> dict[str, Any]:
    sheet = context.sheet(payload.get("sheetId"))
    rule = _rule_at(sheet, int(payload.get("index", 0)))
    sheet.conditional_formats.remove(rule)
    return {"rule": rule.to_json()}


def _rule_at(sheet: Sheet, index: int) -> ConditionalFormatRule:
    if not 0 <= index < len(sheet.conditional_formats):
        raise invalid(f"No conditional format on sheet {sheet.sheet_id} at index {index}")
    return sheet.conditional_formats[index]


def _put_index(reply: dict[str, Any], key: str, index: int) -> None:
    if index:  # proto3: Google leaves out a zero index
        reply[key] = index


def _parse_rule(context: Context, data: object) -> tuple[Sheet, ConditionalFormatRule]:
    if not isinstance(data, dict):
        raise invalid("'rule' is required")
    ranges = data.get("ranges") or []
    if not isinstance(ranges, list) or not ranges:
        raise invalid("A conditional format rule needs at least one range")
    parsed: list[GridRange] = []
    sheet: Sheet | None = None
    for item in ranges:
        range_sheet, grid = context.grid_range(item)
        if sheet is not None and range_sheet is not sheet:
            raise invalid("All ranges of a conditional format rule must be on the same sheet")
        sheet = range_sheet
        parsed.append(grid)
    assert sheet is not None
    kinds = [key for key in ("booleanRule", "gradientRule") if key in data]
    if len(kinds) != 1:
        raise invalid("A conditional format rule needs exactly one of booleanRule, gradientRule")
    if kinds[0] == "gradientRule":
        if not isinstance(data["gradientRule"], dict):
            raise invalid("Invalid value at 'rule.gradient_rule'")
        body = {"gradientRule": formats.normalized(data["gradientRule"])}
    else:
        body = {"booleanRule": _boolean_rule(data["booleanRule"])}
    return sheet, ConditionalFormatRule(parsed, body)


def _boolean_rule(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid("Invalid value at 'rule.boolean_rule'")
    rule: dict[str, Any] = {"condition": conditions.normalized(data.get("condition"), "condition")}
    fmt = data.get("format") or {}
    if not isinstance(fmt, dict):
        raise invalid("Invalid value at 'rule.boolean_rule.format'")
    unsupported = set(fmt) - ALLOWED_FORMAT_KEYS
    if unsupported:
        raise invalid(
            "Conditional formatting can only apply text format and background colour, not "
            + ", ".join(sorted(unsupported))
        )
    rule["format"] = formats.merged({}, fmt, {})
    return rule


# The CellFormat parts a conditional format applies (BooleanRule.format in the API reference:
# bold, italic, strikethrough, foreground colour and background colour).
ALLOWED_FORMAT_KEYS = frozenset({"backgroundColor", "backgroundColorStyle", "textFormat"})

HANDLERS: dict[str, Handler] = {
    "addConditionalFormatRule": add_rule,
    "updateConditionalFormatRule": update_rule,
    "deleteConditionalFormatRule": delete_rule,
}
