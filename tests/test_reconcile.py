"""The pure parts of the sheet sync: repairing rows staff moved mid-write, reading decisions."""

from __future__ import annotations

from registrations.decisions import Decision
from sheets.pull import DUPLICATE_ID, UNKNOWN_ID, note_runs, pull
from sheets.reconcile import Written, displaced, id_positions, repairs
from sheets.sink import CellRun

HEADER = ["ID zgłoszenia", "Status", "Decyzja organizatora", "Uwagi systemu", "Imię", "Biuro"]


def table(*rows: list[str]) -> list[list[str]]:
    return [HEADER, *rows]


def apply(grid: list[list[str]], runs: list[CellRun]) -> list[list[str]]:
    """What the sheet holds after `runs` are written (as Google or the workbook would)."""
    result = [list(row) for row in grid]
    for run in runs:
        row = result[run.row]
        row.extend([""] * (run.column + len(run.values) - len(row)))
        row[run.column : run.column + len(run.values)] = run.values
    return result


def expected(registration_id: str, status: str, name: str) -> dict[str, str]:
    return {"ID zgłoszenia": registration_id, "Status": status, "Imię": name}


def test_a_write_that_landed_where_it_was_meant_needs_nothing() -> None:
    before = table(["R-1", "potwierdzone", "", "", "Ala", "x"])
    after = table(["R-1", "rezygnacja", "", "", "Ala", "x"])

    assert not displaced(before, after, [Written(1, "R-1")])


def test_rows_sorted_between_read_and_write_get_their_own_data_back() -> None:
    before = table(
        ["R-1", "potwierdzone", "", "", "Ala", "biuro Ali"],
        ["R-2", "potwierdzone", "", "", "Ola", "biuro Oli"],
    )
    # Staff sort: R-2 is now in row 1. Our update of R-1 (row 1) lands on R-2's row.
    sorted_by_staff = table(before[2], before[1])
    ours = {"R-1": expected("R-1", "rezygnacja", "Ala")}
    written = [Written(1, "R-1")]
    after = apply(sorted_by_staff, [CellRun(1, 0, ["R-1", "rezygnacja"]), CellRun(1, 4, ["Ala"])])

    assert displaced(before, after, written)
    fixed = apply(after, repairs(before, after, written, ours))

    assert fixed == table(
        ["R-2", "potwierdzone", "", "", "Ola", "biuro Oli"],
        ["R-1", "rezygnacja", "", "", "Ala", "biuro Ali"],
    )
    assert id_positions(fixed) == {"R-2": [1], "R-1": [2]}


def test_of_several_overwritten_rows_each_owner_is_told_by_its_other_cells() -> None:
    before = table(
        ["R-1", "potwierdzone", "", "", "Ala", "a"],
        ["R-2", "potwierdzone", "", "", "Ola", "b"],
        ["R-3", "potwierdzone", "", "", "Ela", "c"],
    )
    moved = table(before[3], before[1], before[2])  # R-3 to the top
    ours = {
        "R-1": expected("R-1", "rezygnacja", "Ala"),
        "R-2": expected("R-2", "odrzucone", "Ola"),
    }
    written = [Written(1, "R-1"), Written(2, "R-2")]
    runs = [
        CellRun(1, 0, ["R-1", "rezygnacja"]),
        CellRun(1, 4, ["Ala"]),
        CellRun(2, 0, ["R-2", "odrzucone"]),
        CellRun(2, 4, ["Ola"]),
    ]
    after = apply(moved, runs)

    fixed = apply(after, repairs(before, after, written, ours))

    assert fixed == table(
        ["R-3", "potwierdzone", "", "", "Ela", "c"],
        ["R-1", "rezygnacja", "", "", "Ala", "a"],
        ["R-2", "odrzucone", "", "", "Ola", "b"],
    )


def test_columns_moved_between_read_and_write_get_staff_cells_and_ours_back() -> None:
    before = table(["R-1", "potwierdzone", "przyjęte", "", "Ala", "biuro"])
    # Staff move "Biuro" to the front: every column shifts one to the right.
    moved_header = ["Biuro", *HEADER[:-1]]
    moved = [moved_header, ["biuro", "R-1", "potwierdzone", "przyjęte", "", "Ala"]]
    ours = {"R-1": expected("R-1", "rezygnacja", "Ala")}
    written = [Written(1, "R-1")]
    after = apply(moved, [CellRun(1, 0, ["R-1", "rezygnacja"]), CellRun(1, 4, ["Ala"])])

    assert displaced(before, after, written)
    fixed = apply(after, repairs(before, after, written, ours))

    assert fixed == [moved_header, ["biuro", "R-1", "rezygnacja", "przyjęte", "", "Ala"]]


def test_decisions_are_found_by_id_and_problems_noted_per_row() -> None:
    grid = table(
        ["R-1", "potwierdzone", " Przyjete ", "", "Ala"],
        ["R-2", "potwierdzone", "może", "", "Ola"],
        ["R-9", "", "rezygnacja", "", "Obcy"],
        ["R-3", "potwierdzone", "", "stara uwaga", "Ela"],
        ["R-4", "potwierdzone", "rezygnacja", "", "Ewa"],
        ["R-4", "potwierdzone", "odrzucone", "", "Ewa (kopia)"],
    )

    pulled = pull(grid, known={"R-1", "R-2", "R-3", "R-4"})

    assert [(d.registration_id, d.decision) for d in pulled.decisions] == [
        ("R-1", Decision.CONFIRMED)
    ]
    assert pulled.notes[2].startswith("Nieznana decyzja „może”")
    assert pulled.notes[3] == UNKNOWN_ID
    assert pulled.notes[4] == ""
    assert pulled.notes[5] == pulled.notes[6] == DUPLICATE_ID
    runs = note_runs(grid, pulled.notes)
    assert [(r.row, r.values) for r in runs] == [
        (2, [pulled.notes[2]]),
        (3, [UNKNOWN_ID]),
        (4, [""]),  # a problem gone: its note is cleared
        (5, [DUPLICATE_ID]),
        (6, [DUPLICATE_ID]),
    ]


def test_no_decision_is_taken_from_an_id_in_several_rows_however_alike_they_are() -> None:
    # A copied row, or a row our write landed on while staff sorted: which of the rows is the
    # registration's cannot be told, so none of them decides.
    grid = table(
        ["R-4", "potwierdzone", "rezygnacja", "", "Ewa"],
        ["R-4", "potwierdzone", "", "", "Ewa (kopia)"],
    )

    pulled = pull(grid, known={"R-4"})

    assert pulled.decisions == [] and pulled.cleared == []
    assert pulled.notes == {1: DUPLICATE_ID, 2: DUPLICATE_ID}


def test_an_empty_decision_cell_is_reported_as_cleared() -> None:
    pulled = pull(table(["R-1", "rezygnacja", "", "", "Ala"]), known={"R-1"})

    assert pulled.cleared == ["R-1"] and pulled.decisions == []
