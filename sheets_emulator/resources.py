"""JSON resources as Google shapes them: Spreadsheet, SheetProperties, grid data."""

from __future__ import annotations

from typing import Any

from . import fieldmask
from .celldata import cell_data
from .fieldmask import Mask
from .model import Sheet, Spreadsheet
from .tables import Rect

# Google's defaults for a new en_US spreadsheet (answered, never used for rendering).
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
ROW_PIXELS = 21
COLUMN_PIXELS = 100


def spreadsheet_url(spreadsheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


def spreadsheet_properties(book: Spreadsheet) -> dict[str, Any]:
    return {
        "title": book.title,
        "locale": book.locale,
        "autoRecalc": "ON_CHANGE",
        "timeZone": book.time_zone,
        "defaultFormat": DEFAULT_FORMAT,
    }


def sheet_properties(book: Spreadsheet, sheet: Sheet) -> dict[str, Any]:
    """SheetProperties; zero/false fields left out as Google's proto3 JSON does."""
    grid: dict[str, Any] = {"rowCount": sheet.row_count, "columnCount": sheet.column_count}
    if sheet.frozen_row_count:
        grid["frozenRowCount"] = sheet.frozen_row_count
    if sheet.frozen_column_count:
        grid["frozenColumnCount"] = sheet.frozen_column_count
    properties: dict[str, Any] = {
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": book.index_of(sheet),
        "sheetType": "GRID",
        "gridProperties": grid,
    }
    if sheet.hidden:
        properties["hidden"] = True
    properties.update(sheet.extra_properties)
    return properties


def sheet_resource(
    book: Spreadsheet, sheet: Sheet, areas: list[Rect] | None, cell_mask: Mask | None = None
) -> dict[str, Any]:
    """A Sheet, keys in Google's order; `areas` (includeGridData / ranges) adds GridData for
    those rectangles, with each cell cut to `cell_mask` (see `grid_data`)."""
    resource: dict[str, Any] = {"properties": sheet_properties(book, sheet)}
    if areas is not None:
        resource["data"] = [grid_data(sheet, area, cell_mask) for area in areas]
    if sheet.merges:
        resource["merges"] = [m.to_json() for m in sheet.merges]
    if sheet.conditional_formats:
        resource["conditionalFormats"] = [r.to_json() for r in sheet.conditional_formats]
    if sheet.protected_ranges:
        resource["protectedRanges"] = [p.to_json() for p in sheet.protected_ranges]
    if sheet.basic_filter is not None:
        resource["basicFilter"] = sheet.basic_filter.to_json()
    return resource


def spreadsheet_resource(
    book: Spreadsheet,
    *,
    grid: dict[int, list[Rect]] | None = None,
    sheet_ids: set[int] | None = None,
    cell_mask: Mask | None = None,
) -> dict[str, Any]:
    """The Spreadsheet: `grid` maps sheetId -> areas sent as grid data; `sheet_ids` (from a
    `ranges` parameter) limits which sheets are listed; `cell_mask` cuts grid data's cells."""
    sheets = [
        sheet_resource(
            book, sheet, None if grid is None else grid.get(sheet.sheet_id, []), cell_mask
        )
        for sheet in book.sheets
        if sheet_ids is None or sheet.sheet_id in sheet_ids
    ]
    return {
        "spreadsheetId": book.spreadsheet_id,
        "properties": spreadsheet_properties(book),
        "sheets": sheets,
        "spreadsheetUrl": spreadsheet_url(book.spreadsheet_id),
    }


def grid_data(sheet: Sheet, area: Rect, cell_mask: Mask | None = None) -> dict[str, Any]:
    """GridData: cells cut to `cell_mask` (the `fields` mask under rowData.values) first, then
    rowData trimmed after the last non-empty row and cell, as Google answers: asking only for
    notes gives rows as long as their last note (gspread's `get_notes` relies on that)."""
    rows: list[dict[str, Any]] = []
    for r in range(area.top, area.bottom):
        values: list[dict[str, Any]] = []
        for c in range(area.left, area.right):
            cell = cell_data(sheet, (r, c))
            values.append(fieldmask.apply(cell, cell_mask) if cell and cell_mask else cell)
        while values and not values[-1]:
            values.pop()
        rows.append({"values": values} if values else {})
    while rows and not rows[-1]:
        rows.pop()
    data: dict[str, Any] = {}
    if area.top:
        data["startRow"] = area.top
    if area.left:
        data["startColumn"] = area.left
    if rows:
        data["rowData"] = rows
    data["rowMetadata"] = [_dimension(sheet, "ROWS", i) for i in range(area.top, area.bottom)]
    data["columnMetadata"] = [_dimension(sheet, "COLUMNS", i) for i in range(area.left, area.right)]
    return data


def _dimension(sheet: Sheet, dimension: str, index: int) -> dict[str, Any]:
    """DimensionProperties: the default size unless updateDimensionProperties set one."""
    stored = sheet.dimension_properties[dimension].get(index, {})
    default = ROW_PIXELS if dimension == "ROWS" else COLUMN_PIXELS
    properties: dict[str, Any] = {}
    if stored.get("hiddenByUser"):
        properties["hiddenByUser"] = True
    properties["pixelSize"] = stored.get("pixelSize", default)
    return properties
