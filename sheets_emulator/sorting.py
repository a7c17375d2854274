"""The order Sheets gives rows when sorting a range (SortRangeRequest).

Ascending puts numbers (dates included) first, then text, then booleans, then errors; descending
reverses that; empty cells go last either way. Equal rows keep their order. Text compares like
a locale-aware collation: case and accents only break ties, and letters such as `ł` sort right
after their base letter (`l`), as in Unicode's default collation.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .cells import Cell
from .model import Sheet

# Letters Unicode does not decompose, mapped to "base letter, then after every other one".
_STROKED = {"ł": "l\U0010ffff", "đ": "d\U0010ffff", "ø": "o\U0010ffff", "ħ": "h\U0010ffff"}
_LAST = "\U0010ffff"
_EXPANSIONS = {"ß": "ss", "æ": "ae", "œ": "oe"}


@dataclass(frozen=True)
class SortSpec:
    column: int  # absolute column index (the API's dimensionIndex)
    descending: bool = False


def sorted_rows(sheet: Sheet, top: int, bottom: int, specs: Sequence[SortSpec]) -> list[int]:
    """Row indexes of [top, bottom) in their sorted order (a stable sort)."""

    def compare(a: int, b: int) -> int:
        for spec in specs:
            first, second = sheet.cells.get((a, spec.column)), sheet.cells.get((b, spec.column))
            if first is None or second is None:
                if first is None and second is None:
                    continue
                return 1 if first is None else -1  # blanks last, whatever the order
            result = _compare(first, second)
            if result:
                return -result if spec.descending else result
        return 0

    return sorted(range(top, bottom), key=functools.cmp_to_key(compare))


def _compare(a: Cell, b: Cell) -> int:
    key_a, key_b = _key(a), _key(b)
    return (key_a > key_b) - (key_a < key_b)


def _key(cell: Cell) -> tuple[int, tuple[str, str, str] | float | bool | str]:
    if cell.error:
        return 3, str(cell.value)
    if isinstance(cell.value, bool):
        return 2, cell.value
    if isinstance(cell.value, str):
        return 1, collation_key(cell.value)
    return 0, float(cell.value)


def collation_key(text: str) -> tuple[str, str, str]:
    """(letters without accents or case, with accents, case with lower first)."""
    decomposed = unicodedata.normalize("NFD", text)
    primary = ""
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        lower = char.casefold()
        primary += _STROKED.get(lower, _EXPANSIONS.get(lower, lower))
    return primary, text.casefold(), text.swapcase()
