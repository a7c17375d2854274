"""Staff decisions read back from the sheet, and the system notes that go with them.

Pure: given the table staff have now and the IDs the store knows, which decisions to apply and
which note each row should carry. A decision is found by its row's ID wherever staff sorted,
moved or filtered the row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from registrations.decision_grace import clean_reason
from registrations.decisions import CHOICES, Decision, UnknownDecision, parse_decision
from registrations.powiaty import fold
from sheets.reconcile import cell
from sheets.rows import DECISION_HEADER, ID_HEADER, NOTES_HEADER, REASON_HEADER, header_index
from sheets.sink import CellRun

UNKNOWN_ID = "Nieznany numer zgłoszenia – decyzji nie zastosowano."
DUPLICATE_ID = (
    "Ten numer zgłoszenia jest w arkuszu w kilku wierszach – decyzji nie zastosowano. "
    "Należy zostawić go w jednym wierszu."
)
RACED = (
    "Decyzji nie zastosowano: uczestnik sam zmienił zgłoszenie w tym czasie. Jeśli decyzja "
    "nadal obowiązuje, należy wyczyścić pole i wybrać ją ponownie."
)


QUOTED_LENGTH = 40  # of a value staff typed, quoted back in the note


def unknown_value(value: str) -> str:
    shown = value.strip()
    if len(shown) > QUOTED_LENGTH:
        shown = shown[:QUOTED_LENGTH].rstrip() + "…"
    return f"Nieznana decyzja „{shown}” – do wyboru z listy: {', '.join(CHOICES)}."


def misplaced(column: int, decision_column: int) -> str:
    return (
        f"Decyzja wpisana w kolumnie {get_column_letter(column + 1)} nie została zastosowana: "
        f"decyzje są odczytywane tylko z kolumny „{DECISION_HEADER}” "
        f"(kolumna {get_column_letter(decision_column + 1)})."
    )


def stray_decision_columns(header: Sequence[str], decision_column: int | None) -> list[int]:
    """Columns where staff may still type decisions the service no longer reads there: one
    whose header staff cleared, or renamed to another "Decyzja …" (the service then added its
    decision column at the end)."""
    return [
        index
        for index, name in enumerate(header)
        if index != decision_column and (not name.strip() or fold(name).startswith("decyzj"))
    ]


# Why a row carries a note, as the log says it: never what staff typed (a decision cell may
# hold a name, a phone number, a PESEL).
NOT_IN_THE_LIST = "the value in the decision column is not one of the list"
UNKNOWN_ID_PROBLEM = "a decision is typed on a row whose ID is not a registration of the event"
DUPLICATE_ID_PROBLEM = "its ID is in several rows: no decision applied"
MISPLACED_PROBLEM = "a decision is typed in another column than the decision column"


@dataclass(frozen=True)
class RowDecision:
    row: int  # 0-based, header = 0
    registration_id: str
    decision: Decision
    reason: str | None = None  # `Powód decyzji` as it stands, cleaned (see `clean_reason`)


@dataclass(frozen=True)
class Pulled:
    decisions: list[RowDecision]  # one per registration, in sheet order
    cleared: list[str]  # registrations whose decision cell is empty
    notes: dict[int, str]  # row (0-based, header = 0) → the note it should carry ("" for none)
    problems: dict[int, str] = field(default_factory=dict)  # row → why, for the log (no values)


def pull(table: Sequence[Sequence[str]], known: Collection[str]) -> Pulled:
    """The decisions typed in `table` for registrations in `known`, and every row's note.

    An ID in more than one row (a row staff copied, or one moved while it was written) gets no
    decision at all: which of the rows is the registration's cannot be told.
    """
    if not table:
        return Pulled([], [], {})
    header = table[0]
    id_column = header_index(header, ID_HEADER)
    decision_column = header_index(header, DECISION_HEADER)
    if decision_column is None:
        return Pulled([], [], {})
    reason_column = header_index(header, REASON_HEADER)
    strays = stray_decision_columns(header, decision_column)
    rows_of: dict[str, list[int]] = {}
    for row_index, row in enumerate(table[1:], start=1):
        rows_of.setdefault(cell(row, id_column).strip(), []).append(row_index)
    decisions: list[RowDecision] = []
    cleared: list[str] = []
    notes: dict[int, str] = {}
    problems: dict[int, str] = {}
    for row_index, row in enumerate(table[1:], start=1):
        registration_id = cell(row, id_column).strip()
        typed = cell(row, decision_column)
        notes[row_index] = ""
        try:
            decision = parse_decision(typed)
        except UnknownDecision:
            notes[row_index] = unknown_value(typed)
            problems[row_index] = NOT_IN_THE_LIST
            continue
        if registration_id and len(rows_of[registration_id]) > 1:
            if registration_id in known:
                notes[row_index] = DUPLICATE_ID
                problems[row_index] = DUPLICATE_ID_PROBLEM
            continue
        if decision is None:
            if registration_id in known:
                cleared.append(registration_id)
                if (stray := _typed_elsewhere(row, strays)) is not None:
                    notes[row_index] = misplaced(stray, decision_column)
                    problems[row_index] = MISPLACED_PROBLEM
            continue
        if registration_id not in known:
            notes[row_index] = UNKNOWN_ID
            problems[row_index] = UNKNOWN_ID_PROBLEM
            continue
        reason = clean_reason(cell(row, reason_column)) if reason_column is not None else None
        decisions.append(RowDecision(row_index, registration_id, decision, reason))
    return Pulled(decisions, cleared, notes, problems)


def _typed_elsewhere(row: Sequence[str], columns: Sequence[int]) -> int | None:
    """The first of `columns` where the row holds a decision of the list."""
    for column in columns:
        try:
            if parse_decision(cell(row, column)) is not None:
                return column
        except UnknownDecision:
            continue
    return None


def note_runs(table: Sequence[Sequence[str]], notes: dict[int, str]) -> list[CellRun]:
    """The note cells that must change (a new problem, or one that is gone)."""
    if not table:
        return []
    column = header_index(table[0], NOTES_HEADER)
    if column is None:
        return []
    return [
        CellRun(row_index, column, [note])
        for row_index, note in sorted(notes.items())
        if cell(table[row_index], column) != note
    ]
