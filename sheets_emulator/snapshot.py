"""Test-side views of a sheet: what a person would see, which cells hold formulas, typed values,
and what staff set around the data (formats, notes, validation, rules, protections, filter)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .a1 import A1Error, format_cells, parse_bounds
from .cells import Scalar
from .model import Position, Sheet, Spreadsheet
from .resources import COLUMN_PIXELS


@dataclass(frozen=True)
class CellInfo:
    """One cell; format and validation are the API's JSON (userEnteredFormat, dataValidation)."""

    value: Scalar | None  # the stored value with its type, None when empty
    formula: str | None
    format: dict[str, Any]  # {} when the cell has no format of its own
    note: str  # "" when none
    validation: dict[str, Any] | None

    @property
    def bold(self) -> bool:
        return bool(self.format.get("textFormat", {}).get("bold", False))


@dataclass(frozen=True)
class SheetInfo:
    """A sheet's settings; rules and ranges are the API's JSON, as spreadsheets.get lists them."""

    row_count: int
    column_count: int
    frozen_rows: int
    frozen_columns: int
    column_widths: list[int]  # pixelSize per column
    protected_ranges: list[dict[str, Any]]
    conditional_formats: list[dict[str, Any]]
    basic_filter: dict[str, Any] | None
    merges: list[dict[str, Any]]


def cell_info(sheet: Sheet, a1: str) -> CellInfo:
    """The cell at `a1` (such as "B2")."""
    position = _position(a1)
    cell = sheet.cells.get(position)
    rule = sheet.validations.get(position)
    return CellInfo(
        value=None if cell is None else cell.value,
        formula=None if cell is None else cell.formula,
        format=copy.deepcopy(sheet.formats.get(position, {})),
        note=sheet.notes.get(position, ""),
        validation=copy.deepcopy(rule),
    )


def sheet_info(sheet: Sheet) -> SheetInfo:
    widths = sheet.dimension_properties["COLUMNS"]
    return SheetInfo(
        row_count=sheet.row_count,
        column_count=sheet.column_count,
        frozen_rows=sheet.frozen_row_count,
        frozen_columns=sheet.frozen_column_count,
        column_widths=[
            widths.get(c, {}).get("pixelSize", COLUMN_PIXELS) for c in range(sheet.column_count)
        ],
        protected_ranges=[p.to_json() for p in sheet.protected_ranges],
        conditional_formats=[r.to_json() for r in sheet.conditional_formats],
        basic_filter=None if sheet.basic_filter is None else sheet.basic_filter.to_json(),
        merges=[m.to_json() for m in sheet.merges],
    )


def _position(a1: str) -> Position:
    try:
        bounds = parse_bounds(a1)
    except A1Error:
        raise ValueError(f"not a cell: {a1!r}") from None
    if not bounds.is_single_cell:
        raise ValueError(f"not a single cell: {a1!r}")
    return bounds.start_row, bounds.start_col


def _by_a1(layer: dict[Position, Any]) -> dict[str, Any]:
    return {format_cells(r, c, r + 1, c + 1): v for (r, c), v in sorted(layer.items())}


def displayed(sheet: Sheet) -> list[list[str]]:
    """Formatted values over the used area, padded to a rectangle (like gspread's
    get_all_values)."""
    rows, cols = sheet.used_extent()
    return [
        [cell.formatted() if (cell := sheet.cells.get((r, c))) else "" for c in range(cols)]
        for r in range(rows)
    ]


def formulas(sheet: Sheet) -> list[list[str]]:
    """Same shape as `displayed`; the formula where a cell holds one, "" elsewhere."""
    rows, cols = sheet.used_extent()
    return [
        [
            cell.formula if (cell := sheet.cells.get((r, c))) and cell.formula else ""
            for c in range(cols)
        ]
        for r in range(rows)
    ]


def effective(sheet: Sheet) -> list[list[Scalar | None]]:
    """Same shape; the stored value with its type (str, int, float, bool), None when empty."""
    rows, cols = sheet.used_extent()
    return [
        [cell.value if (cell := sheet.cells.get((r, c))) else None for c in range(cols)]
        for r in range(rows)
    ]


def dump(book: Spreadsheet) -> dict[str, Any]:
    """Everything about a spreadsheet, for debugging (GET /_emulator/spreadsheets/<id>)."""
    return {
        "spreadsheetId": book.spreadsheet_id,
        "title": book.title,
        "allowed": book.allowed,
        "sheets": [
            {
                "sheetId": sheet.sheet_id,
                "title": sheet.title,
                "index": index,
                "rowCount": sheet.row_count,
                "columnCount": sheet.column_count,
                "values": displayed(sheet),
                "formulas": formulas(sheet),
                "effectiveValues": effective(sheet),
                "frozenRowCount": sheet.frozen_row_count,
                "frozenColumnCount": sheet.frozen_column_count,
                "protectedRanges": [p.to_json() for p in sheet.protected_ranges],
                "merges": [m.to_json() for m in sheet.merges],
                "conditionalFormats": [r.to_json() for r in sheet.conditional_formats],
                "basicFilter": sheet.basic_filter and sheet.basic_filter.to_json(),
                "formats": _by_a1(sheet.formats),
                "notes": _by_a1(sheet.notes),
                "dataValidations": _by_a1(sheet.validations),
            }
            for index, sheet in enumerate(book.sheets)
        ],
    }
