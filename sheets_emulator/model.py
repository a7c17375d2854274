"""In-memory spreadsheets: sheets with sparse cell layers, ranges that follow edits, and rules.

Plain data plus the structural edits (resize, insert/delete/move dimension, sorting rows) that
must keep every layer in step: values, formats, notes and data validation live per cell, while
protections, merges, conditional-format rules and the basic filter live as ranges. A staff member
dragging a column moves all of them together, as in Sheets. Locking is the caller's job (see
`state.EmulatorState.lock`).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import dimensions
from .a1 import A1Range
from .cells import Cell

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
OWNER_EMAIL = "emulator-owner@sheets-emulator.invalid"
Position = tuple[int, int]  # (row, column), 0-based
DIMENSIONS = ("ROWS", "COLUMNS")
T = TypeVar("T")


@dataclass
class GridRange:
    """The API's GridRange: half-open indexes, None meaning unbounded on that side."""

    sheet_id: int
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GridRange:
        return cls(
            sheet_id=int(data.get("sheetId", 0)),
            start_row=data.get("startRowIndex"),
            end_row=data.get("endRowIndex"),
            start_col=data.get("startColumnIndex"),
            end_col=data.get("endColumnIndex"),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.sheet_id:  # proto3: Google leaves out a zero sheetId
            data["sheetId"] = self.sheet_id
        for key, value in (
            ("startRowIndex", self.start_row),
            ("endRowIndex", self.end_row),
            ("startColumnIndex", self.start_col),
            ("endColumnIndex", self.end_col),
        ):
            if value is not None:
                data[key] = value
        return data

    def bounded(self, rows: int, columns: int) -> GridRange:
        """The same range with open ends closed at the grid's edges (how Google stores some)."""
        return GridRange(
            self.sheet_id,
            self.start_row or 0,
            rows if self.end_row is None else self.end_row,
            self.start_col or 0,
            columns if self.end_col is None else self.end_col,
        )

    def positions(self, rows: int, columns: int) -> Iterator[Position]:
        """Every cell of the range inside a grid of `rows` x `columns`, row by row."""
        box = self.bounded(rows, columns)
        assert box.start_row is not None and box.end_row is not None
        assert box.start_col is not None and box.end_col is not None
        for row in range(box.start_row, min(box.end_row, rows)):
            for col in range(box.start_col, min(box.end_col, columns)):
                yield row, col

    def contains(self, row: int, col: int) -> bool:
        return (
            (self.start_row or 0) <= row
            and (self.end_row is None or row < self.end_row)
            and (self.start_col or 0) <= col
            and (self.end_col is None or col < self.end_col)
        )

    def remapped(self, dimension: str, remap: dimensions.IndexMap, size: int) -> GridRange | None:
        if dimension == "ROWS":
            span = dimensions.remap_span(self.start_row, self.end_row, remap, size)
            if span is None:
                return None
            return GridRange(self.sheet_id, span[0], span[1], self.start_col, self.end_col)
        span = dimensions.remap_span(self.start_col, self.end_col, remap, size)
        if span is None:
            return None
        return GridRange(self.sheet_id, self.start_row, self.end_row, span[0], span[1])


@dataclass
class ProtectedRange:
    protected_range_id: int
    range: GridRange
    description: str | None = None
    warning_only: bool = False
    unprotected_ranges: list[GridRange] = field(default_factory=list)

    def to_json(self, in_reply: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "protectedRangeId": self.protected_range_id,
            "range": self.range.to_json(),
        }
        if self.description:
            data["description"] = self.description
        if self.warning_only:
            data["warningOnly"] = True
        if self.unprotected_ranges:
            data["unprotectedRanges"] = [r.to_json() for r in self.unprotected_ranges]
        data["requestingUserCanEdit"] = True  # the caller owns every emulated spreadsheet
        data["editors"] = {} if in_reply else {"users": [OWNER_EMAIL]}
        return data

    def remapped(
        self, dimension: str, remap: dimensions.IndexMap, size: int
    ) -> ProtectedRange | None:
        """The protection after a structural edit; its exceptions move with it."""
        new_range = self.range.remapped(dimension, remap, size)
        if new_range is None:
            return None
        self.range = new_range
        self.unprotected_ranges = _remap_ranges(self.unprotected_ranges, dimension, remap, size)
        return self


@dataclass
class ConditionalFormatRule:
    """One rule: its ranges, plus `booleanRule` or `gradientRule` as the API's JSON."""

    ranges: list[GridRange]
    rule: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"ranges": [r.to_json() for r in self.ranges], **copy.deepcopy(self.rule)}

    def remapped(
        self, dimension: str, remap: dimensions.IndexMap, size: int
    ) -> ConditionalFormatRule | None:
        """Ranges follow the edit; a rule left without any range is gone, as in Sheets."""
        self.ranges = _remap_ranges(self.ranges, dimension, remap, size)
        return self if self.ranges else None


@dataclass
class BasicFilter:
    """The sheet's basic filter; `criteria` and `filter_specs` are kept as the API's JSON.

    Column indexes inside them (criteria keys, `columnIndex`) follow column moves.
    """

    range: GridRange
    criteria: dict[str, Any] = field(default_factory=dict)
    filter_specs: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"range": self.range.to_json()}
        if self.criteria:
            data["criteria"] = copy.deepcopy(self.criteria)
        if self.filter_specs:
            data["filterSpecs"] = copy.deepcopy(self.filter_specs)
        return data

    def remapped(self, dimension: str, remap: dimensions.IndexMap, size: int) -> BasicFilter | None:
        new_range = self.range.remapped(dimension, remap, size)
        if new_range is None:
            return None
        self.range = new_range
        if dimension == "COLUMNS":
            criteria = {}
            for key, value in self.criteria.items():
                column = remap(int(key))
                if column is not None:
                    criteria[str(column)] = value
            self.criteria = criteria
            specs = []
            for spec in self.filter_specs:
                column = remap(int(spec.get("columnIndex", 0)))
                if column is not None:
                    specs.append({**spec, "columnIndex": column})
            self.filter_specs = specs
        return self


def _remap_ranges(
    ranges: Sequence[GridRange], dimension: str, remap: dimensions.IndexMap, size: int
) -> list[GridRange]:
    return [r for r in (g.remapped(dimension, remap, size) for g in ranges) if r is not None]


def _remap_layer(layer: dict[Position, T], dimension: str, remap: dimensions.IndexMap) -> None:
    """Move one per-cell layer in place; cells of deleted rows/columns are dropped."""
    moved: dict[Position, T] = {}
    for (row, col), value in layer.items():
        if dimension == "ROWS":
            new_row = remap(row)
            if new_row is not None:
                moved[new_row, col] = value
        else:
            new_col = remap(col)
            if new_col is not None:
                moved[row, new_col] = value
    layer.clear()
    layer.update(moved)


@dataclass
class Sheet:
    """One tab. Per-cell layers are sparse: `cells` holds only non-empty values, `formats` only
    cells with a userEnteredFormat, and so on. Formats and rules are kept as the API's JSON."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    column_count: int = DEFAULT_COLUMNS
    frozen_row_count: int = 0
    frozen_column_count: int = 0
    hidden: bool = False
    extra_properties: dict[str, Any] = field(default_factory=dict)  # tabColor etc., verbatim
    cells: dict[Position, Cell] = field(default_factory=dict)
    formats: dict[Position, dict[str, Any]] = field(default_factory=dict)  # userEnteredFormat
    notes: dict[Position, str] = field(default_factory=dict)
    validations: dict[Position, dict[str, Any]] = field(default_factory=dict)  # dataValidation
    # DimensionProperties set by updateDimensionProperties (pixelSize, hiddenByUser), per index.
    dimension_properties: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {dimension: {} for dimension in DIMENSIONS}
    )
    protected_ranges: list[ProtectedRange] = field(default_factory=list)
    merges: list[GridRange] = field(default_factory=list)
    conditional_formats: list[ConditionalFormatRule] = field(default_factory=list)
    basic_filter: BasicFilter | None = None

    def size(self, dimension: str) -> int:
        return self.row_count if dimension == "ROWS" else self.column_count

    def cell_layers(self) -> tuple[dict[Position, Any], ...]:
        """Everything stored per cell, which moves with its cell on edits and sorts."""
        return (self.cells, self.formats, self.notes, self.validations)

    def resize(self, rows: int, columns: int) -> None:
        """Shrinking deletes the rows/columns that no longer fit (with what is in them and the
        parts of ranges over them), as Sheets does; growing adds empty ones."""
        if rows < self.row_count:
            self.delete_dimension("ROWS", rows, self.row_count)
        if columns < self.column_count:
            self.delete_dimension("COLUMNS", columns, self.column_count)
        self.grow_to(rows, columns)

    def grow_to(self, rows: int, columns: int) -> None:
        self.row_count = max(self.row_count, rows)
        self.column_count = max(self.column_count, columns)

    def insert_dimension(
        self, dimension: str, start: int, end: int, inherit_from_before: bool = False
    ) -> None:
        """New rows/columns take the formats and dimension properties of the neighbour before or
        after them (InsertDimensionRequest.inheritFromBefore); values, notes and validation are
        not copied."""
        self._remap(dimension, dimensions.inserted(start, end - start))
        self._add_to_size(dimension, end - start)
        source = start - 1 if inherit_from_before else end
        if 0 <= source < self.size(dimension):
            self._copy_line_formats(dimension, source, range(start, end))

    def delete_dimension(self, dimension: str, start: int, end: int) -> None:
        self._remap(dimension, dimensions.deleted(start, end))
        self._add_to_size(dimension, start - end)

    def move_dimension(self, dimension: str, start: int, end: int, destination: int) -> None:
        self._remap(dimension, dimensions.moved(start, end, destination))

    def reorder_rows(self, top: int, left: int, right: int, order: Sequence[int]) -> None:
        """Sorting: row `top + i` of columns [left, right) takes what row `order[i]` held.

        Whole cells move (value, format, note, validation); ranges stay where they are.
        """
        new_row = {old: top + i for i, old in enumerate(order)}
        for layer in self.cell_layers():
            inside = {p: v for p, v in layer.items() if p[0] in new_row and left <= p[1] < right}
            for position in inside:
                del layer[position]
            for (row, col), value in inside.items():
                layer[new_row[row], col] = value

    def _copy_line_formats(self, dimension: str, source: int, targets: range) -> None:
        properties = self.dimension_properties[dimension]
        for index in targets:
            if source in properties:
                properties[index] = copy.deepcopy(properties[source])
        for (row, col), fmt in list(self.formats.items()):
            line, other = (row, col) if dimension == "ROWS" else (col, row)
            if line != source:
                continue
            for index in targets:
                position = (index, other) if dimension == "ROWS" else (other, index)
                self.formats[position] = copy.deepcopy(fmt)

    def _add_to_size(self, dimension: str, delta: int) -> None:
        if dimension == "ROWS":
            self.row_count += delta
        else:
            self.column_count += delta

    def _remap(self, dimension: str, remap: dimensions.IndexMap) -> None:
        size = self.size(dimension)
        for layer in self.cell_layers():
            _remap_layer(layer, dimension, remap)
        properties = self.dimension_properties[dimension]
        self.dimension_properties[dimension] = {
            new: value for old, value in properties.items() if (new := remap(old)) is not None
        }
        self.protected_ranges = [
            p
            for p in (p.remapped(dimension, remap, size) for p in self.protected_ranges)
            if p is not None
        ]
        self.merges = _remap_ranges(self.merges, dimension, remap, size)
        self.conditional_formats = [
            r
            for r in (r.remapped(dimension, remap, size) for r in self.conditional_formats)
            if r is not None
        ]
        if self.basic_filter is not None:
            self.basic_filter = self.basic_filter.remapped(dimension, remap, size)

    def used_extent(self) -> tuple[int, int]:
        """(rows, columns) up to the last non-empty cell."""
        if not self.cells:
            return 0, 0
        return max(r for r, _ in self.cells) + 1, max(c for _, c in self.cells) + 1


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    allowed: bool = True  # False: the share was revoked, every request answers 403
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    modified: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    def sheet_by_title(self, title: str) -> Sheet | None:
        """Sheet titles are case-insensitive in Sheets, both for lookup and uniqueness."""
        wanted = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == wanted), None)

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def sheet_for(self, parsed: A1Range) -> Sheet | None:
        if parsed.sheet is None:
            return self.sheets[0] if self.sheets else None
        return self.sheet_by_title(parsed.sheet)

    def index_of(self, sheet: Sheet) -> int:
        return self.sheets.index(sheet)

    def touch(self) -> None:
        self.modified = datetime.datetime.now(datetime.UTC)
