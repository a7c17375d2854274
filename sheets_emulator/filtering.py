"""What staff do to look at the table: sortRange, and the basic filter (set and clear).

Sorting reorders whole cells within the range (values, formats, notes, validation). A basic
filter changes what people see, never what the API reads: values.get answers every row with or
without one. Its criteria are kept and answered; which rows they would hide is not computed.
"""

from __future__ import annotations

from typing import Any

from .context import Context, Handler
from .errors import ApiError, invalid
from .model import BasicFilter
from .sorting import SortSpec, sorted_rows

SORT_ORDERS = {"ASCENDING": False, "DESCENDING": True}
_SORT_BY_COLOUR = (
    "foregroundColor",
    "foregroundColorStyle",
    "backgroundColor",
    "backgroundColorStyle",
    "dataSourceColumnReference",
)


def sort_range(context: Context, payload: dict[str, Any]) -> None:
    sheet, grid = context.grid_range(payload.get("range"))
    box = grid.bounded(sheet.row_count, sheet.column_count)
    assert box.start_row is not None and box.end_row is not None
    assert box.start_col is not None and box.end_col is not None
    specs = _sort_specs(payload.get("sortSpecs"), box.start_col, box.end_col)
    order = sorted_rows(sheet, box.start_row, box.end_row, specs)
    sheet.reorder_rows(box.start_row, box.start_col, box.end_col, order)


def set_basic_filter(context: Context, payload: dict[str, Any]) -> None:
    """Replaces the sheet's basic filter; its range is stored with the grid's edges filled in,
    as Google answers it (`{"sheetId": 0}` comes back as the whole grid)."""
    data = payload.get("filter")
    if not isinstance(data, dict):
        raise invalid("'filter' is required")
    sheet, grid = context.grid_range(data.get("range"))
    if data.get("sortSpecs"):
        raise ApiError(501, "setBasicFilter.filter.sortSpecs is not emulated; use sortRange")
    if data.get("tableId"):
        raise ApiError(501, "setBasicFilter.filter.tableId is not emulated")
    criteria = data.get("criteria") or {}
    specs = data.get("filterSpecs") or []
    if not isinstance(criteria, dict) or not isinstance(specs, list):
        raise invalid("Invalid value at 'filter.criteria' or 'filter.filter_specs'")
    box = grid.bounded(sheet.row_count, sheet.column_count)
    columns = range(box.start_col or 0, box.end_col or 0)
    for column in [*criteria, *(spec.get("columnIndex", 0) for spec in specs)]:
        if not str(column).lstrip("-").isdigit() or int(column) not in columns:
            raise invalid(f"Filter criteria for column {column} lie outside the filter range")
    sheet.basic_filter = BasicFilter(box, dict(criteria), list(specs))


def clear_basic_filter(context: Context, payload: dict[str, Any]) -> None:
    context.sheet(payload.get("sheetId")).basic_filter = None


def _sort_specs(data: object, left: int, right: int) -> list[SortSpec]:
    if not isinstance(data, list) or not data:
        raise invalid("At least one sort spec is required")
    specs = []
    for spec in data:
        if not isinstance(spec, dict):
            raise invalid("Invalid value at 'sort_specs'")
        for key in _SORT_BY_COLOUR:
            if key in spec:
                raise ApiError(501, f"sortSpecs.{key} is not emulated")
        column = int(spec.get("dimensionIndex", 0))
        if not left <= column < right:
            raise invalid(f"Sort column {column} lies outside the range being sorted")
        order = spec.get("sortOrder") or "ASCENDING"
        if order not in SORT_ORDERS:
            raise invalid(f"Invalid value at 'sort_specs.sort_order', \"{order}\"")
        specs.append(SortSpec(column, SORT_ORDERS[order]))
    return specs


HANDLERS: dict[str, Handler] = {
    "sortRange": sort_range,
    "setBasicFilter": set_basic_filter,
    "clearBasicFilter": clear_basic_filter,
}
