"""Test-side views of a sheet: what a person would see, which cells hold formulas, typed values."""

from __future__ import annotations

from typing import Any

from .cells import Scalar
from .model import Sheet, Spreadsheet


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
                "protectedRanges": [p.to_json() for p in sheet.protected_ranges],
                "merges": [m.to_json() for m in sheet.merges],
            }
            for index, sheet in enumerate(book.sheets)
        ],
    }
