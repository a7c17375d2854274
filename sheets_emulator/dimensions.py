"""Where rows/columns go when a dimension is inserted, deleted or moved: pure index math.

Everything on a sheet follows the same maps (values, formats, notes, validation, column widths,
protections, merges, conditional-format ranges, the basic filter), so a staff member dragging a
column moves its data, its drop-down and its protection together, as in Sheets.
"""

from __future__ import annotations

from collections.abc import Callable

IndexMap = Callable[[int], int | None]  # new index, or None when the row/column is deleted


def inserted(start: int, count: int) -> IndexMap:
    return lambda i: i + count if i >= start else i


def deleted(start: int, end: int) -> IndexMap:
    def remap(i: int) -> int | None:
        if i < start:
            return i
        if i >= end:
            return i - (end - start)
        return None

    return remap


def moved(start: int, end: int, destination: int) -> IndexMap:
    """moveDimension: [start, end) goes before the row/column that was at `destination`."""
    size = end - start

    def remap(i: int) -> int:
        if destination < start:
            if start <= i < end:
                return destination + i - start
            return i + size if destination <= i < start else i
        if destination > end:
            if start <= i < end:
                return destination - size + i - start
            return i - size if end <= i < destination else i
        return i

    return remap


def remap_span(
    start: int | None, end: int | None, remap: IndexMap, size: int
) -> tuple[int | None, int | None] | None:
    """A half-open span after the change (open ends stay open); None if all of it was deleted.

    `size` is the dimension's length before the change. A span split by a move keeps its outer
    bounds, which is the closest a single range can get.
    """
    low = 0 if start is None else start
    high = size if end is None else end
    survivors = [j for j in (remap(i) for i in range(low, high)) if j is not None]
    if not survivors:
        return None
    return (None if start is None else min(survivors), None if end is None else max(survivors) + 1)
