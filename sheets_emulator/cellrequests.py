"""batchUpdate requests that write into cells and dimensions: updateCells, repeatCell,
setDataValidation and updateDimensionProperties."""

from __future__ import annotations

from typing import Any

from . import fieldmask
from .celldata import CellWrite, cell_write, parse_fields
from .context import Context, Handler, dimension_range
from .errors import ApiError, invalid
from .model import Position
from .validation import normalized_rule

DIMENSION_FIELDS = ("pixelSize", "hiddenByUser")


def update_cells(context: Context, payload: dict[str, Any]) -> None:
    """Write `rows` from `start`, or into `range`; with `range`, the masked fields of cells the
    rows leave uncovered are cleared, as Google documents for UpdateCellsRequest."""
    mask = parse_fields(payload.get("fields"))
    rows = payload.get("rows") or []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise invalid("Invalid value at 'rows'")
    if "start" in payload:
        start = payload["start"] or {}
        sheet = context.sheet(start.get("sheetId"))
        top, left = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        grid = None
    else:
        sheet, grid = context.grid_range(payload.get("range"))
        top, left = grid.start_row or 0, grid.start_col or 0
    writes: dict[Position, CellWrite] = {}
    for r, row in enumerate(rows):
        for c, data in enumerate(row.get("values") or []):
            position = (top + r, left + c)
            if grid is not None and not grid.contains(*position):
                raise invalid("The rows and their values must fit inside the range")
            writes[position] = cell_write(mask, data)
    if grid is not None:
        blank = cell_write(mask, {})
        for layer in sheet.cell_layers():
            for position in list(layer):
                if grid.contains(*position) and position not in writes:
                    blank.apply(sheet, position)
    for position, write in writes.items():
        write.apply(sheet, position)


def repeat_cell(context: Context, payload: dict[str, Any]) -> None:
    """The same CellData (under `fields`) into every cell of the range."""
    mask = parse_fields(payload.get("fields"))
    sheet, grid = context.grid_range(payload.get("range"))
    write = cell_write(mask, payload.get("cell"))
    for position in grid.positions(sheet.row_count, sheet.column_count):
        write.apply(sheet, position)


def set_data_validation(context: Context, payload: dict[str, Any]) -> None:
    """A rule on every cell of the range; without `rule`, validation is removed from them."""
    sheet, grid = context.grid_range(payload.get("range"))
    rule = payload.get("rule")
    write = CellWrite(
        fieldmask.parse("dataValidation"), {}, None, normalized_rule(rule) if rule else None
    )
    for position in grid.positions(sheet.row_count, sheet.column_count):
        write.apply(sheet, position)


def update_dimension_properties(context: Context, payload: dict[str, Any]) -> None:
    """pixelSize and hiddenByUser per row/column, answered in grid data's row/columnMetadata."""
    if "dataSourceSheetRange" in payload:
        raise ApiError(501, "updateDimensionProperties.dataSourceSheetRange is not emulated")
    fields = payload.get("fields")
    if not isinstance(fields, str) or not fields.strip():
        raise invalid("'fields' is required")
    mask = fieldmask.parse(fields)
    for key in mask:
        if key == "developerMetadata":
            raise ApiError(501, "DimensionProperties.developerMetadata is not emulated")
        if key not in DIMENSION_FIELDS:
            raise invalid(f"Invalid field mask: DimensionProperties has no writable '{key}'")
    sheet, dimension, start, end = dimension_range(context, payload.get("range"))
    if end > sheet.size(dimension):
        raise invalid(f"Invalid dimension range: endIndex {end} beyond the grid")
    properties = payload.get("properties") or {}
    pixel_size = properties.get("pixelSize")
    if pixel_size is not None and (not isinstance(pixel_size, int) or pixel_size < 0):
        raise invalid("Invalid value at 'properties.pixel_size'")
    stored = sheet.dimension_properties[dimension]
    for index in range(start, end):
        current = stored.get(index, {})
        for key in DIMENSION_FIELDS:
            if fieldmask.mentions(mask, key):
                if properties.get(key):
                    current[key] = properties[key]
                else:
                    current.pop(key, None)
        if current:
            stored[index] = current
        else:
            stored.pop(index, None)


HANDLERS: dict[str, Handler] = {
    "updateCells": update_cells,
    "repeatCell": repeat_cell,
    "setDataValidation": set_data_validation,
    "updateDimensionProperties": update_dimension_properties,
}
