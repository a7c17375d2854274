"""What every batchUpdate request handler works on: the state, the spreadsheet, and ranges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import invalid
from .model import GridRange, Sheet, Spreadsheet
from .state import EmulatorState
from .tables import Rect
from .values import exceeds_grid


@dataclass
class Context:
    state: EmulatorState
    book: Spreadsheet

    def sheet(self, sheet_id: Any) -> Sheet:
        sheet = self.book.sheet_by_id(int(sheet_id or 0))
        if sheet is None:
            raise invalid(f"No grid with id: {sheet_id or 0}")
        return sheet

    def grid_range(self, data: object) -> tuple[Sheet, GridRange]:
        """A GridRange from a request and its sheet; explicit ends must lie inside the grid."""
        if not isinstance(data, dict):
            raise invalid("A range is required")
        grid = GridRange.from_json(data)
        sheet = self.sheet(grid.sheet_id)
        box = grid.bounded(sheet.row_count, sheet.column_count)
        assert box.start_row is not None and box.end_row is not None
        assert box.start_col is not None and box.end_col is not None
        if box.start_row < 0 or box.start_col < 0:
            raise invalid("Invalid range: negative index")
        if box.start_row > box.end_row or box.start_col > box.end_col:
            raise invalid("Invalid range: a start index lies after its end index")
        if box.end_row > sheet.row_count or box.end_col > sheet.column_count:
            raise exceeds_grid(sheet, Rect(box.start_row, box.start_col, box.end_row, box.end_col))
        return sheet, grid


Handler = Callable[[Context, dict[str, Any]], dict[str, Any] | None]


def dimension_range(context: Context, data: object) -> tuple[Sheet, str, int, int]:
    """A DimensionRange: (sheet, ROWS|COLUMNS, start, end); an open end reaches the edge."""
    if not isinstance(data, dict):
        raise invalid("A dimension range is required")
    sheet = context.sheet(data.get("sheetId"))
    dimension = data.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise invalid("range.dimension must be ROWS or COLUMNS")
    start = int(data.get("startIndex", 0))
    end = int(data.get("endIndex", sheet.size(dimension)))
    if start < 0 or end <= start:
        raise invalid(f"Invalid dimension range: startIndex {start}, endIndex {end}")
    return sheet, dimension, start, end
