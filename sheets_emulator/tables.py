"""Google's "table" detection for values.append: where an append actually lands.

A table is the rectangle of data around a cell, grown while any neighbouring cell (diagonals
included) holds a value. A single-cell range looks only at the table containing that cell; a
larger range (a whole sheet) picks, among tables touching it, the one ending lowest, then the
rightmost. That reproduces Google's quirk in gspread's cassettes: with `[x, "", z]` in row 1, an
append to `Sheet1` lands at C2 (table `C1`), while an append to `Sheet1!A1` lands at A2.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

Position = tuple[int, int]


@dataclass(frozen=True)
class Rect:
    """Half-open rectangle of cells."""

    top: int
    left: int
    bottom: int
    right: int

    def contains(self, row: int, col: int) -> bool:
        return self.top <= row < self.bottom and self.left <= col < self.right


def find_table(filled: Collection[Position], area: Rect) -> Rect | None:
    """The table an append to `area` continues, or None when there is none (write at `area`)."""
    seeds = sorted(p for p in filled if area.contains(*p))
    tables: list[Rect] = []
    for row, col in seeds:
        if not any(t.contains(row, col) for t in tables):
            tables.append(_region(filled, row, col))
    if not tables:
        return None
    return max(tables, key=lambda t: (t.bottom, t.right))


def _region(filled: Collection[Position], row: int, col: int) -> Rect:
    top, left, bottom, right = row, col, row + 1, col + 1
    while True:
        grow_up = top > 0 and _any(filled, [(top - 1, c) for c in range(left - 1, right + 1)])
        grow_down = _any(filled, [(bottom, c) for c in range(left - 1, right + 1)])
        grow_left = left > 0 and _any(filled, [(r, left - 1) for r in range(top - 1, bottom + 1)])
        grow_right = _any(filled, [(r, right) for r in range(top - 1, bottom + 1)])
        if not (grow_up or grow_down or grow_left or grow_right):
            return Rect(top, left, bottom, right)
        top -= grow_up
        bottom += grow_down
        left -= grow_left
        right += grow_right


def _any(filled: Collection[Position], positions: list[Position]) -> bool:
    return any(p in filled for p in positions)
