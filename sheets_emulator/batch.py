"""spreadsheets.batchUpdate: dispatch each request to its handler and collect Google's replies.

Emulated here: sheets, dimensions (insert, delete, append, move), protections and merges. Cells,
formats, notes, data validation and column widths are in `cellrequests`; conditional formats in
`conditional`; sorting and the basic filter in `filtering`. Formats are stored and answered, never
rendered. Requests Google knows but the emulator does not implement answer 501, so a test never
passes on a silent no-op.
"""

from __future__ import annotations

from typing import Any

from . import cellrequests, conditional, fieldmask, filtering
from .context import Context, Handler, dimension_range
from .errors import ApiError, invalid
from .model import GridRange, ProtectedRange, Sheet, Spreadsheet
from .resources import sheet_properties
from .state import EmulatorState

NOT_EMULATED = frozenset(
    """
    updateNamedRange addNamedRange deleteNamedRange autoFill cutPaste copyPaste addFilterView
    appendCells deleteEmbeddedObject deleteFilterView duplicateFilterView duplicateSheet
    findReplace insertRange updateEmbeddedObjectPosition pasteData textToColumns
    updateFilterView deleteRange addChart updateChartSpec updateBanding addBanding
    deleteBanding createDeveloperMetadata updateDeveloperMetadata deleteDeveloperMetadata
    randomizeRange addDimensionGroup deleteDimensionGroup updateDimensionGroup trimWhitespace
    deleteDuplicates addSlicer updateSlicerSpec addDataSource updateDataSource deleteDataSource
    refreshDataSource cancelDataSourceRefresh addTable updateTable deleteTable updateBorders
    autoResizeDimensions updateEmbeddedObjectBorder
    """.split()
)


def apply_requests(state: EmulatorState, book: Spreadsheet, requests: list[Any]) -> list[Any]:
    """Apply each request in order and collect replies; the caller rolls back on ApiError."""
    context = Context(state, book)
    replies: list[Any] = []
    for index, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise invalid(f"Invalid requests[{index}]: exactly one kind of request is required")
        ((kind, payload),) = request.items()
        handler = HANDLERS.get(kind)
        if handler is None:
            if kind in NOT_EMULATED:
                raise ApiError(501, f"requests[{index}].{kind} is not emulated")
            raise invalid(
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{index}]':"
                " Cannot find field."
            )
        try:
            reply = handler(context, payload or {})
        except ApiError as error:
            if error.code != 400:
                raise
            raise invalid(f"Invalid requests[{index}].{kind}: {error.message}") from None
        replies.append({kind: reply} if reply else {})
    book.touch()
    return replies


def _add_sheet(context: Context, payload: dict[str, Any]) -> dict[str, Any]:
    properties = payload.get("properties") or {}
    book = context.book
    sheet = context.state.sheet_from_properties(book, properties)
    index = properties.get("index")
    book.sheets.insert(
        len(book.sheets) if index is None else min(int(index), len(book.sheets)), sheet
    )
    return {"properties": sheet_properties(book, sheet)}


def _delete_sheet(context: Context, payload: dict[str, Any]) -> None:
    sheet = context.sheet(payload.get("sheetId"))
    if len(context.book.sheets) == 1:
        raise invalid("You can't remove all the sheets in a document.")
    context.book.sheets.remove(sheet)


def _update_sheet_properties(context: Context, payload: dict[str, Any]) -> None:
    properties = payload.get("properties") or {}
    sheet = context.sheet(properties.get("sheetId"))
    fields = payload.get("fields")
    if not fields:
        raise invalid("At least one field must be updated.")
    mask = fieldmask.parse(fields)
    grid = properties.get("gridProperties") or {}
    rows, columns = sheet.row_count, sheet.column_count
    if fieldmask.mentions(mask, "title"):
        _rename(context.book, sheet, properties.get("title"))
    if fieldmask.mentions(mask, "hidden"):
        sheet.hidden = bool(properties.get("hidden", False))
    for key in ("tabColor", "tabColorStyle", "rightToLeft"):
        if fieldmask.mentions(mask, key):
            if key in properties:
                sheet.extra_properties[key] = properties[key]
            else:
                sheet.extra_properties.pop(key, None)
    if fieldmask.mentions(mask, "gridProperties", "rowCount"):
        rows = int(grid.get("rowCount", 0))
    if fieldmask.mentions(mask, "gridProperties", "columnCount"):
        columns = int(grid.get("columnCount", 0))
    if fieldmask.mentions(mask, "gridProperties", "frozenRowCount"):
        sheet.frozen_row_count = int(grid.get("frozenRowCount", 0))
    if fieldmask.mentions(mask, "gridProperties", "frozenColumnCount"):
        sheet.frozen_column_count = int(grid.get("frozenColumnCount", 0))
    if rows < 1 or columns < 1:
        raise invalid("Sheets must have at least one row and one column.")
    sheet.resize(rows, columns)
    if fieldmask.mentions(mask, "index") and "index" in properties:
        _move_sheet(context.book, sheet, int(properties["index"]))


def _rename(book: Spreadsheet, sheet: Sheet, title: object) -> None:
    if not isinstance(title, str) or not title.strip():
        raise invalid("Sheet names must be non-empty.")
    other = book.sheet_by_title(title)
    if other is not None and other is not sheet:
        raise invalid(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sheet.title = title


def _move_sheet(book: Spreadsheet, sheet: Sheet, index: int) -> None:
    """Indexes count "before the move", as the API documents: S1 ahead of S2 is index 2."""
    old = book.index_of(sheet)
    book.sheets.remove(sheet)
    new = index - 1 if index > old else index
    book.sheets.insert(max(0, min(new, len(book.sheets))), sheet)


def _update_spreadsheet_properties(context: Context, payload: dict[str, Any]) -> None:
    properties = payload.get("properties") or {}
    mask = fieldmask.parse(payload.get("fields") or "")
    if not mask and not payload.get("fields"):
        raise invalid("At least one field must be updated.")
    book = context.book
    if fieldmask.mentions(mask, "title"):
        book.title = str(properties.get("title", ""))
    if fieldmask.mentions(mask, "locale"):
        book.locale = str(properties.get("locale", book.locale))
    if fieldmask.mentions(mask, "timeZone"):
        book.time_zone = str(properties.get("timeZone", book.time_zone))


def _insert_dimension(context: Context, payload: dict[str, Any]) -> None:
    """New rows/columns take their formats from the neighbour `inheritFromBefore` names."""
    sheet, dimension, start, end = dimension_range(context, payload.get("range") or {})
    if start > sheet.size(dimension):
        raise invalid(
            f"range.startIndex ({start}) must be less than or equal to the sheet's "
            f"{dimension.lower()} count ({sheet.size(dimension)})"
        )
    inherit = bool(payload.get("inheritFromBefore", False))
    if inherit and start == 0:
        raise invalid("inheritFromBefore can't be true when inserting at index 0")
    sheet.insert_dimension(dimension, start, end, inherit_from_before=inherit)


def _delete_dimension(context: Context, payload: dict[str, Any]) -> None:
    sheet, dimension, start, end = dimension_range(context, payload.get("range") or {})
    size = sheet.size(dimension)
    end = min(end, size)
    if start >= size:
        raise invalid(f"Invalid dimension range: startIndex {start} beyond the grid ({size})")
    if start == 0 and end == size:
        noun = "rows" if dimension == "ROWS" else "columns"
        raise invalid(f"You can't delete all the {noun} on the sheet.")
    sheet.delete_dimension(dimension, start, end)


def _append_dimension(context: Context, payload: dict[str, Any]) -> None:
    sheet = context.sheet(payload.get("sheetId"))
    dimension = payload.get("dimension")
    length = int(payload.get("length", 0))
    if dimension not in ("ROWS", "COLUMNS") or length < 1:
        raise invalid("appendDimension needs a dimension and a positive length")
    size = sheet.size(dimension)
    sheet.insert_dimension(dimension, size, size + length)


def _move_dimension(context: Context, payload: dict[str, Any]) -> None:
    sheet, dimension, start, end = dimension_range(context, payload.get("source") or {})
    destination = int(payload.get("destinationIndex", -1))
    size = sheet.size(dimension)
    if end > size or not 0 <= destination <= size:
        raise invalid(f"Invalid moveDimension: source or destinationIndex beyond the grid ({size})")
    sheet.move_dimension(dimension, start, end, destination)


def _add_protected_range(context: Context, payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("protectedRange") or {}
    grid = GridRange.from_json(data.get("range") or {})
    sheet = context.sheet(grid.sheet_id)
    taken = {p.protected_range_id for s in context.book.sheets for p in s.protected_ranges}
    requested = data.get("protectedRangeId")
    if requested is None:
        protected_id = context.state.new_id()
        while protected_id in taken:
            protected_id = context.state.new_id()
    elif int(requested) in taken:
        raise invalid(f"A protected range with ID {requested} already exists.")
    else:
        protected_id = int(requested)
    protection = ProtectedRange(
        protected_range_id=protected_id,
        range=grid,
        description=data.get("description"),
        warning_only=bool(data.get("warningOnly", False)),
        unprotected_ranges=[GridRange.from_json(r) for r in data.get("unprotectedRanges") or []],
    )
    sheet.protected_ranges.append(protection)
    return {"protectedRange": protection.to_json(in_reply=True)}


def _find_protection(context: Context, protected_id: object) -> tuple[Sheet, ProtectedRange]:
    for sheet in context.book.sheets:
        for protection in sheet.protected_ranges:
            if protection.protected_range_id == protected_id:
                return sheet, protection
    raise invalid(f"No protected range with id: {protected_id}")


def _delete_protected_range(context: Context, payload: dict[str, Any]) -> None:
    sheet, protection = _find_protection(context, payload.get("protectedRangeId"))
    sheet.protected_ranges.remove(protection)


def _update_protected_range(context: Context, payload: dict[str, Any]) -> None:
    data = payload.get("protectedRange") or {}
    sheet, protection = _find_protection(context, data.get("protectedRangeId"))
    mask = fieldmask.parse(payload.get("fields") or "*")
    if fieldmask.mentions(mask, "range") and "range" in data:
        grid = GridRange.from_json(data["range"])
        target = context.sheet(grid.sheet_id)
        protection.range = grid
        if target is not sheet:
            sheet.protected_ranges.remove(protection)
            target.protected_ranges.append(protection)
    if fieldmask.mentions(mask, "description"):
        protection.description = data.get("description")
    if fieldmask.mentions(mask, "warningOnly"):
        protection.warning_only = bool(data.get("warningOnly", False))
    if fieldmask.mentions(mask, "unprotectedRanges"):
        protection.unprotected_ranges = [
            GridRange.from_json(r) for r in data.get("unprotectedRanges") or []
        ]


def _merge_cells(context: Context, payload: dict[str, Any]) -> None:
    grid = GridRange.from_json(payload.get("range") or {})
    context.sheet(grid.sheet_id).merges.append(grid)


def _unmerge_cells(context: Context, payload: dict[str, Any]) -> None:
    grid = GridRange.from_json(payload.get("range") or {})
    sheet = context.sheet(grid.sheet_id)
    sheet.merges = [m for m in sheet.merges if not _overlaps(m, grid)]


def _overlaps(a: GridRange, b: GridRange) -> bool:
    def spans(s1: int | None, e1: int | None, s2: int | None, e2: int | None) -> bool:
        return (s1 or 0) < (e2 if e2 is not None else 2**31) and (s2 or 0) < (
            e1 if e1 is not None else 2**31
        )

    return spans(a.start_row, a.end_row, b.start_row, b.end_row) and spans(
        a.start_col, a.end_col, b.start_col, b.end_col
    )


HANDLERS: dict[str, Handler] = {
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    "insertDimension": _insert_dimension,
    "deleteDimension": _delete_dimension,
    "appendDimension": _append_dimension,
    "moveDimension": _move_dimension,
    "addProtectedRange": _add_protected_range,
    "deleteProtectedRange": _delete_protected_range,
    "updateProtectedRange": _update_protected_range,
    "mergeCells": _merge_cells,
    "unmergeCells": _unmerge_cells,
    **cellrequests.HANDLERS,
    **conditional.HANDLERS,
    **filtering.HANDLERS,
}
