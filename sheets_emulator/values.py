"""spreadsheets.values.*: reading, writing, appending and clearing ranges, Google's way.

Callers hold the state lock; functions raise ApiError before changing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .a1 import A1Error, column_letters, format_cells, format_range, parse_range, quote_title
from .cells import VALUE_INPUT_OPTIONS, Scalar, parse_input, render
from .errors import ApiError, invalid, unparsable_range
from .model import Position, Sheet, Spreadsheet
from .tables import Rect, find_table

RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")


@dataclass(frozen=True)
class Target:
    """A requested range resolved against a sheet; `bounded_*` says the request gave an end."""

    sheet: Sheet
    rect: Rect
    bounded_rows: bool
    bounded_cols: bool

    @property
    def a1(self) -> str:
        r = self.rect
        return format_range(self.sheet.title, r.top, r.left, r.bottom, r.right)


@dataclass(frozen=True)
class RenderOptions:
    major: str = "ROWS"
    value: str = "FORMATTED_VALUE"
    serial_dates: bool = True

    @classmethod
    def from_params(cls, params: dict[str, str], prefix: str = "") -> RenderOptions:
        """Query params; `prefix` is "response" for responseValueRenderOption and the like."""

        def name(key: str) -> str:
            return prefix + key[0].upper() + key[1:] if prefix else key

        major = params.get("majorDimension") or "ROWS"
        value = params.get(name("valueRenderOption")) or "FORMATTED_VALUE"
        dates = params.get(name("dateTimeRenderOption")) or "SERIAL_NUMBER"
        _check_choice("major_dimension", major, ("ROWS", "COLUMNS"))
        _check_choice("value_render_option", value, RENDER_OPTIONS)
        _check_choice("date_time_render_option", dates, ("SERIAL_NUMBER", "FORMATTED_STRING"))
        return cls(major, value, dates == "SERIAL_NUMBER")


def _check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise invalid(f"Invalid value at '{field}', \"{value}\"")


def locate(book: Spreadsheet, text: str, *, clip_to_grid: bool = True) -> Target:
    """Resolve a range: open ends reach the grid's edge; explicit ends must lie inside it."""
    try:
        parsed = parse_range(text)
    except A1Error:
        raise unparsable_range(text) from None
    sheet = book.sheet_for(parsed)
    if sheet is None:
        raise unparsable_range(text)
    rows, cols = sheet.row_count, sheet.column_count
    bounds = parsed.bounds
    if bounds is None:
        return Target(sheet, Rect(0, 0, rows, cols), False, False)
    end_row = rows if bounds.end_row is None else bounds.end_row
    end_col = cols if bounds.end_col is None else bounds.end_col
    rect = Rect(bounds.start_row, bounds.start_col, end_row, end_col)
    anchor = bounds.is_single_cell  # a single cell is where a write starts, not its limit
    target = Target(
        sheet,
        rect,
        not anchor and bounds.end_row is not None,
        not anchor and bounds.end_col is not None,
    )
    if clip_to_grid and (rect.bottom > rows or rect.right > cols or rect.top >= rows):
        raise exceeds_grid(sheet, rect)
    return target


def exceeds_grid(sheet: Sheet, rect: Rect) -> ApiError:
    cells = format_cells(rect.top, rect.left, max(rect.bottom, rect.top + 1), rect.right)
    return invalid(
        f"Range ({quote_title(sheet.title)}!{cells}) exceeds grid limits. "
        f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}"
    )


def read(target: Target, options: RenderOptions) -> dict[str, Any]:
    """A ValueRange: trailing empty cells and lines trimmed, no `values` key when empty."""
    rect, cells = target.rect, target.sheet.cells
    outer = (
        range(rect.top, rect.bottom) if options.major == "ROWS" else range(rect.left, rect.right)
    )
    inner = (
        range(rect.left, rect.right) if options.major == "ROWS" else range(rect.top, rect.bottom)
    )
    lines: list[list[Scalar]] = []
    for i in outer:
        line: list[Scalar | None] = []
        for j in inner:
            cell = cells.get((i, j) if options.major == "ROWS" else (j, i))
            line.append(None if cell is None else render(cell, options.value, options.serial_dates))
        while line and line[-1] is None:
            line.pop()
        lines.append(["" if v is None else v for v in line])
    while lines and not lines[-1]:
        lines.pop()
    answer: dict[str, Any] = {"range": target.a1, "majorDimension": options.major}
    if lines:
        answer["values"] = lines
    return answer


def value_input_option(params: Mapping[str, Any]) -> str:
    """The required valueInputOption (query parameter, or body field for batchUpdate)."""
    option = params.get("valueInputOption")
    if not option:
        raise invalid("'valueInputOption' is required but not specified")
    _check_choice("value_input_option", str(option), VALUE_INPUT_OPTIONS)
    return str(option)


def update(
    book: Spreadsheet,
    range_text: str,
    body: dict[str, Any],
    option: str,
    response: RenderOptions | None = None,
) -> dict[str, Any]:
    """values.update; `response` asks for the written values back (includeValuesInResponse)."""
    target = locate(book, range_text)
    answer, _ = _write(book, target, body, option, response=response, requested=target.rect)
    return answer


def batch_update(
    book: Spreadsheet,
    data: list[dict[str, Any]],
    option: str,
    response: RenderOptions | None = None,
) -> dict[str, Any]:
    """values.batchUpdate: totals count distinct rows, columns and cells, as documented."""
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    responses = []
    touched: set[tuple[int, int, int]] = set()
    for value_range in data:
        target = locate(book, str(value_range.get("range", "")))
        written, positions = _write(
            book, target, value_range, option, response=response, requested=target.rect
        )
        responses.append(written)
        touched |= {(target.sheet.sheet_id, r, c) for r, c in positions}
    if touched:
        answer["totalUpdatedRows"] = len({(s, r) for s, r, _ in touched})
        answer["totalUpdatedColumns"] = len({(s, c) for s, _, c in touched})
        answer["totalUpdatedCells"] = len(touched)
        answer["totalUpdatedSheets"] = len({s for s, _, _ in touched})
    if responses:
        answer["responses"] = responses
    return answer


def _write(
    book: Spreadsheet,
    target: Target,
    body: dict[str, Any],
    option: str,
    *,
    growable: bool = False,
    response: RenderOptions | None = None,
    requested: Rect | None = None,
) -> tuple[dict[str, Any], set[Position]]:
    """Write a ValueRange from the target's top-left corner: (UpdateValuesResponse, cells).

    `growable` (append) extends the grid as Google does; otherwise writing past it is an error.
    With `response`, updatedData covers what was written and, if larger, the `requested` range
    ("the response includes all values in the requested range", as the API reference puts it).
    """
    grid = _as_rows(body)
    sheet, rect = target.sheet, target.rect
    height = len(grid)
    width = max((len(row) for row in grid), default=0)
    _check_within_request(target, height, width)
    written = Rect(rect.top, rect.left, rect.top + max(height, 1), rect.left + max(width, 1))
    if growable:
        sheet.grow_to(written.bottom, written.right)
    elif written.bottom > sheet.row_count or written.right > sheet.column_count:
        raise exceeds_grid(sheet, written)
    changes = {
        (rect.top + r, rect.left + c): parse_input(value, option)
        for r, row in enumerate(grid)
        for c, value in enumerate(row)
        if value is not None  # JSON null leaves the cell as it is, as in the API
    }
    for position, cell in changes.items():
        if cell is None:
            sheet.cells.pop(position, None)
        else:
            sheet.cells[position] = cell
    book.touch()
    answer: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "updatedRange": format_range(sheet.title, *_corners(written)),
    }
    if changes:
        answer["updatedRows"] = len({r for r, _ in changes})
        answer["updatedColumns"] = len({c for _, c in changes})
        answer["updatedCells"] = len(changes)
    if response is not None:
        shown = written if requested is None else _union(written, requested)
        answer["updatedData"] = read(Target(sheet, shown, True, True), response)
    return answer, set(changes)


def _union(a: Rect, b: Rect) -> Rect:
    return Rect(
        min(a.top, b.top), min(a.left, b.left), max(a.bottom, b.bottom), max(a.right, b.right)
    )


def _corners(rect: Rect) -> tuple[int, int, int, int]:
    return rect.top, rect.left, rect.bottom, rect.right


def _as_rows(body: dict[str, Any]) -> list[list[object]]:
    values = body.get("values") or []
    if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
        raise invalid("Invalid value at 'data.values': expected a list of lists")
    major = body.get("majorDimension") or "ROWS"
    _check_choice("data.major_dimension", major, ("ROWS", "COLUMNS"))
    if major == "ROWS":
        return values
    height = max((len(column) for column in values), default=0)
    return [[col[r] if r < len(col) else None for col in values] for r in range(height)]


def _check_within_request(target: Target, height: int, width: int) -> None:
    rect = target.rect
    if target.bounded_rows and rect.top + height > rect.bottom:
        raise invalid(
            f"Requested writing within range [{target.a1}], but tried writing to row "
            f"[{rect.top + height}]"
        )
    if target.bounded_cols and rect.left + width > rect.right:
        raise invalid(
            f"Requested writing within range [{target.a1}], but tried writing to column "
            f"[{column_letters(rect.left + width - 1)}]"
        )


def append(
    book: Spreadsheet,
    range_text: str,
    body: dict[str, Any],
    option: str,
    *,
    insert_rows: bool = False,
    response: RenderOptions | None = None,
) -> dict[str, Any]:
    """values.append: find the table at the range, write after its last row."""
    target = locate(book, range_text, clip_to_grid=False)
    sheet = target.sheet
    area = Rect(
        target.rect.top,
        target.rect.left,
        min(target.rect.bottom, sheet.row_count),
        min(target.rect.right, sheet.column_count),
    )
    table = find_table(sheet.cells.keys(), area)
    top, left = (table.bottom, table.left) if table else (area.top, area.left)
    height = len(_as_rows(body))
    if insert_rows and height and top < sheet.row_count:
        sheet.insert_dimension("ROWS", top, top + height)
    at = Target(sheet, Rect(top, left, top + 1, left + 1), False, False)
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is not None:
        answer["tableRange"] = format_range(sheet.title, *_corners(table))
    answer["updates"], _ = _write(book, at, body, option, growable=True, response=response)
    return answer


def clear(book: Spreadsheet, range_text: str) -> str:
    """values.clear; answers the cleared range."""
    target = locate(book, range_text)
    rect = target.rect
    for position in [p for p in target.sheet.cells if rect.contains(*p)]:
        del target.sheet.cells[position]
    book.touch()
    return target.a1
