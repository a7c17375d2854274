"""Rows updated in place, by ID, and repaired when staff moved them mid-write.

An update is written by position (row, column) from a read taken just before. Should staff sort
rows or move columns between that read and the write, cells land in someone else's row or
column. Every update includes the row's ID cell, and the sheet is read again after writing:
an ID now in two rows, an ID gone, or a changed header reveals the displacement, and `repairs`
works out what to write so each row is whole again. Pure functions over tables of text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sheets.rows import DATA_KEYS, ID_HEADER, data_runs, header_index, key_of
from sheets.sink import CellRun

Row = Sequence[str]


def cell(row: Row, index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def id_positions(table: Sequence[Row]) -> dict[str, list[int]]:
    """Each ID in the table and the rows (0-based, header = 0) that carry it."""
    if not table:
        return {}
    column = header_index(table[0], ID_HEADER)
    positions: dict[str, list[int]] = {}
    for index, row in enumerate(table[1:], start=1):
        value = cell(row, column).strip()
        if value:
            positions.setdefault(value, []).append(index)
    return positions


def update_runs(header: Row, row: int, values: Mapping[str, str]) -> list[CellRun]:
    """An update of our data columns in `row`, ID cell included, staff columns untouched."""
    return [CellRun(row, start, cells) for start, cells in data_runs(header, values)]


@dataclass(frozen=True)
class Written:
    """One row this round wrote: where, and the registration it was meant for."""

    row: int
    registration_id: str


def displaced(before: Sequence[Row], after: Sequence[Row], written: Sequence[Written]) -> bool:
    """Whether the writes went anywhere but where they were meant to: an ID we wrote is now in
    other rows than it was in before the write (a row staff copied stays in both)."""
    if not before or not after or not _same_header(before[0], after[0]):
        return True
    was, now = id_positions(before), id_positions(after)
    return any(now.get(w.registration_id) != was.get(w.registration_id) for w in written)


def _same_header(one: Row, other: Row) -> bool:
    return [key_of(c) for c in one] == [key_of(c) for c in other]


def repairs(
    before: Sequence[Row],
    after: Sequence[Row],
    written: Sequence[Written],
    expected: Mapping[str, Mapping[str, str]],
) -> list[CellRun]:
    """What to write so every row we touched is whole again, judged by the sheet now (`after`).

    `expected` holds, for the registrations we meant to update, our data columns by header.
    Rows staff moved carry their own cells along, and the write changed only our columns: so
    the owner of each row we wrote is told by its other cells, matched against the read before
    the write. Each row then gets its owner's data back (ours, when that registration was being
    updated; as read before, otherwise), and a registration whose real row we missed gets the
    update there. When the header itself moved, cells written under the old header are put
    back from the read before, and our columns written under the new one.
    """
    if not before or not after:
        return []
    if not _same_header(before[0], after[0]):
        return _after_columns_moved(before, after, written, expected)
    header = after[0]
    touched = sorted({w.row for w in written if w.row < len(after)})
    now = id_positions(after)
    intact = {rid for rid, rows in now.items() if any(r not in touched for r in rows)}
    previous = _rows_by_id(before)
    owners = [rid for rid in previous if rid not in intact]
    runs: list[CellRun] = []
    for row, owner in _match(header, after, touched, before, previous, owners).items():
        runs += update_runs(header, row, _values_of(owner, before, previous, expected))
    for registration_id, values in expected.items():
        for row in now.get(registration_id, []):
            if row not in touched:  # its real row, moved away from under the write
                runs += update_runs(header, row, values)
    return runs


def _match(
    header: Row,
    after: Sequence[Row],
    rows: list[int],
    before: Sequence[Row],
    previous: Mapping[str, int],
    owners: list[str],
) -> dict[int, str]:
    """Each written row's owner: the pairs whose untouched cells agree most, taken greedily."""
    data = {i for i, name in enumerate(header) if key_of(name) in DATA_KEYS}
    others = [i for i in range(len(header)) if i not in data]
    id_column = header_index(header, ID_HEADER)

    def likeness(row: int, owner: str) -> float:
        old = before[previous[owner]]
        same = sum(1 for i in others if cell(after[row], i) == cell(old, i))
        return same + (0.5 if cell(after[row], id_column) == owner else 0)  # ties: keep as is

    pairs = sorted(
        ((likeness(row, owner), row, owner) for row in rows for owner in owners),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    matched: dict[int, str] = {}
    taken: set[str] = set()
    for _, row, owner in pairs:
        if row not in matched and owner not in taken:
            matched[row] = owner
            taken.add(owner)
    return matched


def _after_columns_moved(
    before: Sequence[Row],
    after: Sequence[Row],
    written: Sequence[Written],
    expected: Mapping[str, Mapping[str, str]],
) -> list[CellRun]:
    old_header, header = before[0], after[0]
    runs: list[CellRun] = []
    for w in written:
        if w.row >= len(before):
            continue
        owner_before = {key_of(name): cell(before[w.row], i) for i, name in enumerate(old_header)}
        ours = {key_of(name) for name in expected[w.registration_id]}
        wrote = [i for i, name in enumerate(old_header) if key_of(name) in ours]
        for index in wrote:
            key = key_of(header[index]) if index < len(header) else None
            if key is None or key in ours:
                continue  # beyond the table, or our own column: rewritten below
            # A cell of staff's (or the decision, or a note) the write landed on: put back what
            # the row held before.
            runs.append(CellRun(w.row, index, [owner_before.get(key, "")]))
        runs += update_runs(header, w.row, expected[w.registration_id])
    return runs


def _rows_by_id(table: Sequence[Row]) -> dict[str, int]:
    return {rid: rows[0] for rid, rows in id_positions(table).items()}


def _values_of(
    owner: str,
    before: Sequence[Row],
    previous: Mapping[str, int],
    expected: Mapping[str, Mapping[str, str]],
) -> Mapping[str, str]:
    """The owner's data columns: ours if we were updating it too, else as they were read."""
    if owner in expected:
        return expected[owner]
    header = before[0]
    old = before[previous[owner]]
    return {name: cell(old, i) for i, name in enumerate(header)}
