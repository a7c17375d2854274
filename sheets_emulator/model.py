"""In-memory spreadsheets: sheets with sparse cells, protected ranges and merges.

Plain data plus the structural edits (resize, insert/delete/move dimension) that must keep cells
and protections in step. Locking is the caller's job (see `state.EmulatorState.lock`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from . import dimensions
from .a1 import A1Range
from .cells import Cell

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
OWNER_EMAIL = "emulator-owner@sheets-emulator.invalid"
Position = tuple[int, int]  # (row, column), 0-based


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


@dataclass
class Sheet:
    """One tab. `cells` holds only non-empty cells."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    column_count: int = DEFAULT_COLUMNS
    frozen_row_count: int = 0
    frozen_column_count: int = 0
    hidden: bool = False
    extra_properties: dict[str, Any] = field(default_factory=dict)  # tabColor etc., verbatim
    cells: dict[Position, Cell] = field(default_factory=dict)
    protected_ranges: list[ProtectedRange] = field(default_factory=list)
    merges: list[GridRange] = field(default_factory=list)

    def size(self, dimension: str) -> int:
        return self.row_count if dimension == "ROWS" else self.column_count

    def resize(self, rows: int, columns: int) -> None:
        """Shrinking drops the cells that no longer fit, as Sheets does."""
        self.row_count, self.column_count = rows, columns
        self.cells = {(r, c): v for (r, c), v in self.cells.items() if r < rows and c < columns}

    def grow_to(self, rows: int, columns: int) -> None:
        self.row_count = max(self.row_count, rows)
        self.column_count = max(self.column_count, columns)

    def insert_dimension(self, dimension: str, start: int, end: int) -> None:
        self._remap(dimension, dimensions.inserted(start, end - start))
        self._add_to_size(dimension, end - start)

    def delete_dimension(self, dimension: str, start: int, end: int) -> None:
        self._remap(dimension, dimensions.deleted(start, end))
        self._add_to_size(dimension, start - end)

    def move_dimension(self, dimension: str, start: int, end: int, destination: int) -> None:
        self._remap(dimension, dimensions.moved(start, end, destination))

    def _add_to_size(self, dimension: str, delta: int) -> None:
        if dimension == "ROWS":
            self.row_count += delta
        else:
            self.column_count += delta

    def _remap(self, dimension: str, remap: dimensions.IndexMap) -> None:
        size = self.size(dimension)
        moved_cells: dict[Position, Cell] = {}
        for (row, col), cell in self.cells.items():
            if dimension == "ROWS":
                new_row = remap(row)
                if new_row is not None:
                    moved_cells[new_row, col] = cell
            else:
                new_col = remap(col)
                if new_col is not None:
                    moved_cells[row, new_col] = cell
        self.cells = moved_cells
        protections = []
        for protection in self.protected_ranges:
            new_range = protection.range.remapped(dimension, remap, size)
            if new_range is not None:
                protection.range = new_range
                protections.append(protection)
        self.protected_ranges = protections
        self.merges = [
            m for m in (m.remapped(dimension, remap, size) for m in self.merges) if m is not None
        ]

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
