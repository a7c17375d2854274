"""CellData: one cell as grid data answers it, and the masked writes of updateCells/repeatCell.

A write names the CellData fields it replaces (`fields`); a field the mask names but the data
leaves out is cleared, which is how `note: ""` removes a note and an uncovered cell of an
updateCells range loses its value. Value, format, note and data validation are emulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from . import fieldmask, formats
from .cells import Cell, normalize_number
from .errors import ApiError, invalid
from .fieldmask import Mask
from .formulas import evaluate
from .model import Position, Sheet
from .validation import normalized_rule

WRITABLE = ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")
NOT_EMULATED = (
    "textFormatRuns",
    "pivotTable",
    "dataSourceTable",
    "dataSourceFormula",
    "chipRuns",
)
READ_ONLY = ("effectiveValue", "formattedValue", "effectiveFormat", "hyperlink")
T = TypeVar("T")


def cell_data(sheet: Sheet, position: Position) -> dict[str, Any]:
    """CellData for grid data, keys in Google's order; `{}` for a cell with nothing in it.

    effectiveFormat (the format after defaults and conditional formatting) is not computed.
    """
    data: dict[str, Any] = {}
    cell = sheet.cells.get(position)
    if cell is not None:
        data["userEnteredValue"] = cell.user_entered_value()
        data["effectiveValue"] = cell.effective_value()
        data["formattedValue"] = cell.formatted()
    if position in sheet.formats:
        data["userEnteredFormat"] = sheet.formats[position]
    if position in sheet.notes:
        data["note"] = sheet.notes[position]
    if position in sheet.validations:
        data["dataValidation"] = sheet.validations[position]
    return data


@dataclass(frozen=True)
class CellWrite:
    """One CellData to write under a mask; values and rules are parsed once, used per cell."""

    mask: Mask
    data: dict[str, Any]
    cell: Cell | None
    rule: dict[str, Any] | None

    def touches(self, key: str) -> bool:
        return fieldmask.mentions(self.mask, key)

    def apply(self, sheet: Sheet, position: Position) -> None:
        if position[0] >= sheet.row_count or position[1] >= sheet.column_count:
            raise invalid("Attempting to write beyond the grid")
        if self.touches("userEnteredValue"):
            _put(sheet.cells, position, self.cell)
        sub = fieldmask.submask(self.mask, "userEnteredFormat")
        if sub is not None:
            update = self.data.get("userEnteredFormat") or {}
            fmt = formats.merged(sheet.formats.get(position, {}), update, sub)
            _put(sheet.formats, position, fmt or None)
        if self.touches("note"):
            _put(sheet.notes, position, str(self.data.get("note") or "") or None)
        if self.touches("dataValidation"):
            _put(sheet.validations, position, self.rule)


def parse_fields(fields: object) -> Mask:
    """The `fields` of updateCells/repeatCell; fields Google has but the emulator lacks: 501."""
    if not isinstance(fields, str) or not fields.strip():
        raise invalid("'fields' is required")
    mask = fieldmask.parse(fields)
    for key in mask:
        _check_field(key)
        if key in READ_ONLY:
            raise invalid(f"Invalid field mask: CellData.{key} is read-only")
    return mask


def cell_write(mask: Mask, data: object) -> CellWrite:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise invalid("Invalid value at 'cell': expected a CellData object")
    if not mask:  # "*": every field, so every field given must be one the emulator keeps
        for key in data:
            _check_field(key)
    cell = None
    if fieldmask.mentions(mask, "userEnteredValue"):
        cell = cell_from_extended(data.get("userEnteredValue"))
    rule = None
    if fieldmask.mentions(mask, "dataValidation") and data.get("dataValidation"):
        rule = normalized_rule(data["dataValidation"], "dataValidation")
    return CellWrite(mask, data, cell, rule)


def cell_from_extended(value: dict[str, Any] | None) -> Cell | None:
    """An ExtendedValue as stored; None (or an empty string) leaves the cell empty."""
    if not value:
        return None
    if "formulaValue" in value:
        result, error = evaluate(str(value["formulaValue"]))
        if isinstance(result, float):
            result = normalize_number(result)
        return Cell(result, formula=str(value["formulaValue"]), error=error)
    if "boolValue" in value:
        return Cell(bool(value["boolValue"]))
    if "numberValue" in value:
        return Cell(normalize_number(float(value["numberValue"])))
    if "stringValue" in value:
        return Cell(str(value["stringValue"])) if value["stringValue"] != "" else None
    raise invalid("Unsupported ExtendedValue")


def _check_field(key: str) -> None:
    if key in NOT_EMULATED:
        raise ApiError(501, f"CellData.{key} is not emulated")
    if key not in WRITABLE and key not in READ_ONLY:
        raise invalid(f"Invalid field mask: CellData has no field '{key}'")


def _put(layer: dict[Position, T], position: Position, value: T | None) -> None:
    if value is None:
        layer.pop(position, None)
    else:
        layer[position] = value
