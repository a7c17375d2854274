"""A1 notation as the Sheets API reads and writes it: pure parsing and formatting.

Indexes are 0-based and ranges half-open, like the API's GridRange; `None` as an end means
"to the edge of the grid", which is how `A:C`, `A1:1` or a bare sheet title are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_COLUMN_LETTERS = 3  # ZZZ, the widest column Sheets can address
_ENDPOINT = re.compile(r"([A-Za-z]{0,3})([1-9][0-9]*)?")
_PLAIN_TITLE = re.compile(r"[^\W\d]\w*")
# Titles that would read as a cell (`D3`), an R1C1 reference or a boolean must be quoted.
_AMBIGUOUS_TITLE = re.compile(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|true|false", re.I)


class A1Error(ValueError):
    """Text that is not a range in A1 notation."""


@dataclass(frozen=True)
class Bounds:
    """Cells of a range; `end_row`/`end_col` are exclusive, `None` reaches the grid's edge."""

    start_row: int
    start_col: int
    end_row: int | None
    end_col: int | None

    @property
    def is_single_cell(self) -> bool:
        return self.end_row == self.start_row + 1 and self.end_col == self.start_col + 1


@dataclass(frozen=True)
class A1Range:
    """A parsed range: `sheet` None means the first sheet, `bounds` None the whole sheet."""

    sheet: str | None
    bounds: Bounds | None


def column_letters(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    if index < 0:
        raise ValueError(f"negative column index {index}")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26; case-insensitive like the API."""
    if not letters or not letters.isascii() or not letters.isalpha():
        raise A1Error(f"not column letters: {letters!r}")
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - ord("A") + 1
    return index - 1


def parse_range(text: str) -> A1Range:
    """Read `Sheet1`, `'It''s'!A1:B2`, `Sheet1!A:C`, `A1` (first sheet), `'T'!A1:1` …"""
    if not text:
        raise A1Error("empty range")
    if text.startswith("'"):
        title, rest = _split_quoted(text)
        if rest is None:
            return A1Range(title, None)
        return A1Range(title, parse_bounds(rest))
    title, bang, cells = text.partition("!")
    if bang:
        if not title:
            raise A1Error(f"empty sheet title in {text!r}")
        return A1Range(title, parse_bounds(cells))
    try:
        return A1Range(None, parse_bounds(text))
    except A1Error:
        return A1Range(text, None)  # no cell reference: the whole text names a sheet


def _split_quoted(text: str) -> tuple[str, str | None]:
    """Split `'It''s'!A1` into ("It's", "A1"); the part after `!` is None when absent."""
    title: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == "'":
            if text[i + 1 : i + 2] == "'":
                title.append("'")
                i += 2
                continue
            rest = text[i + 1 :]
            if not title:
                raise A1Error("empty sheet title")
            if not rest:
                return "".join(title), None
            if not rest.startswith("!"):
                raise A1Error(f"unexpected text after quoted title: {rest!r}")
            return "".join(title), rest[1:]
        title.append(char)
        i += 1
    raise A1Error(f"unterminated quote in {text!r}")


def parse_bounds(text: str) -> Bounds:
    """Read the cell part: `A1`, `A1:B2`, `A:C`, `1:3`, `A2:C` (open rows), `A1:1` (open cols)."""
    first, colon, second = text.partition(":")
    col0, row0 = _parse_endpoint(first)
    if not colon:
        if col0 is None or row0 is None:
            raise A1Error(f"not a cell: {text!r}")
        return Bounds(row0, col0, row0 + 1, col0 + 1)
    col1, row1 = _parse_endpoint(second)
    start_row = 0 if row0 is None else row0
    start_col = 0 if col0 is None else col0
    end_row = None if row1 is None else row1 + 1
    end_col = None if col1 is None else col1 + 1
    if (row0 is None and col0 is None) or (row1 is None and col1 is None):
        raise A1Error(f"not a range: {text!r}")
    if end_row is not None and end_row <= start_row:
        start_row, end_row = end_row - 1, start_row + 1
    if end_col is not None and end_col <= start_col:
        start_col, end_col = end_col - 1, start_col + 1
    return Bounds(start_row, start_col, end_row, end_col)


def _parse_endpoint(text: str) -> tuple[int | None, int | None]:
    match = _ENDPOINT.fullmatch(text)
    if not text or match is None:
        raise A1Error(f"not a cell reference: {text!r}")
    letters, digits = match.groups()
    col = column_index(letters) if letters else None
    row = int(digits) - 1 if digits else None
    return col, row


def quote_title(title: str) -> str:
    """The title as Google writes it in a range: quoted only when it has to be."""
    if _PLAIN_TITLE.fullmatch(title) and not _AMBIGUOUS_TITLE.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_cells(start_row: int, start_col: int, end_row: int, end_col: int) -> str:
    """Half-open indexes to `A1` (one cell) or `A1:D4`."""
    start = f"{column_letters(start_col)}{start_row + 1}"
    if end_row - start_row == 1 and end_col - start_col == 1:
        return start
    return f"{start}:{column_letters(end_col - 1)}{end_row}"


def format_range(title: str, start_row: int, start_col: int, end_row: int, end_col: int) -> str:
    """`Sheet1!A1:D4`, `'D3'!A1`, as the API answers."""
    return f"{quote_title(title)}!{format_cells(start_row, start_col, end_row, end_col)}"
