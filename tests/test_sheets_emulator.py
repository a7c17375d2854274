"""The Sheets API emulator behaves like Google where our sync depends on it.

Driven through the real gspread client over HTTP (`sheets.transport.emulator_session`), so what
passes here is what our service will see; faults and staff actions are staged the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gspread
import pytest
import requests
from gspread.exceptions import APIError
from gspread.utils import InsertDataOption, ValueInputOption, ValueRenderOption

from sheets.transport import emulator_session
from sheets_emulator import EmulatorServer
from sheets_emulator.a1 import (
    A1Range,
    Bounds,
    column_index,
    column_letters,
    parse_range,
    quote_title,
)
from sheets_emulator.quota import WriteQuota

SHEETS_API = "https://sheets.googleapis.com/v4/spreadsheets"
RAW, USER_ENTERED = ValueInputOption.raw, ValueInputOption.user_entered
UNFORMATTED, FORMULA = ValueRenderOption.unformatted, ValueRenderOption.formula
HOSTILE = ['=IMPORTXML("http://x","//a")', "+48 533 316 283", "02270803624", "@SUM(A1)", "-1"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def session(emulator: EmulatorServer) -> Iterator[requests.Session]:
    emulator.reset()
    with emulator_session(emulator.host_port) as http:
        yield http


@pytest.fixture
def client(session: requests.Session) -> gspread.Client:
    return gspread.Client(auth=None, session=session)  # type: ignore[arg-type]


@pytest.fixture
def book(emulator: EmulatorServer, client: gspread.Client) -> gspread.Spreadsheet:
    return client.open_by_key(emulator.create_spreadsheet("Rejestracja"))


@pytest.fixture
def ws(book: gspread.Spreadsheet) -> gspread.Worksheet:
    return book.sheet1


def append_raw(ws: gspread.Worksheet, *rows: list[str]) -> Any:
    return ws.append_rows(list(rows), value_input_option=RAW, table_range="A1")


def wait_until(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# -- spreadsheets ----------------------------------------------------------------------------


def test_create_answers_full_resource_with_sheet1(session: requests.Session) -> None:
    answer = session.post(SHEETS_API, json={"properties": {"title": "Zgłoszenia"}}).json()

    assert answer["properties"]["title"] == "Zgłoszenia"
    assert answer["properties"]["locale"] == "en_US"
    assert answer["sheets"] == [
        {
            "properties": {
                "sheetId": 0,
                "title": "Sheet1",
                "index": 0,
                "sheetType": "GRID",
                "gridProperties": {"rowCount": 1000, "columnCount": 26},
            }
        }
    ]
    assert answer["spreadsheetUrl"].endswith(f"/d/{answer['spreadsheetId']}/edit")


def test_unknown_spreadsheet_is_404_in_googles_shape(session: requests.Session) -> None:
    response = session.get(f"{SHEETS_API}/nope")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


def test_open_by_key_sees_worksheets(book: gspread.Spreadsheet) -> None:
    book.add_worksheet("Zapisy", rows=10, cols=5)

    titles = [(w.title, w.row_count, w.col_count) for w in book.worksheets()]
    assert titles == [("Sheet1", 1000, 26), ("Zapisy", 10, 5)]


# -- RAW vs USER_ENTERED ---------------------------------------------------------------------


def test_raw_append_keeps_hostile_strings_verbatim(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    append_raw(ws, HOSTILE)

    assert ws.get_all_values() == [HOSTILE]
    assert ws.get("A1:E1", value_render_option=UNFORMATTED) == [HOSTILE]
    assert emulator.formulas(book.id, "Sheet1") == [[""] * 5]
    assert emulator.effective_values(book.id, "Sheet1") == [HOSTILE]


def test_user_entered_append_mangles_hostile_strings(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    ws.append_rows([HOSTILE + ["0123", "TRUE", "+48533316283"]], value_input_option=USER_ENTERED)

    assert emulator.values(book.id, "Sheet1") == [
        ["#NAME?", "+48 533 316 283", "2270803624", "@SUM(A1)", "-1", "123", "TRUE", "48533316283"]
    ]
    assert emulator.formulas(book.id, "Sheet1")[0][0] == HOSTILE[0]
    assert emulator.effective_values(book.id, "Sheet1")[0][1:] == [
        "+48 533 316 283",
        2270803624,
        "@SUM(A1)",
        -1,
        123,
        True,
        48533316283,
    ]


def test_formula_renders_per_value_render_option(ws: gspread.Worksheet) -> None:
    ws.update([["=1+1", "=4/2*3", "'0123"]], "A1", value_input_option=USER_ENTERED)

    assert ws.get("A1:C1") == [["2", "6", "0123"]]
    assert ws.get("A1:C1", value_render_option=UNFORMATTED) == [[2, 6, "0123"]]
    assert ws.get("A1:C1", value_render_option=FORMULA) == [["=1+1", "=4/2*3", "0123"]]


# -- append and table detection --------------------------------------------------------------


def test_append_with_table_range_a1_lands_after_last_row(ws: gspread.Worksheet) -> None:
    append_raw(ws, ["Imię", "", "Telefon"])
    answer = append_raw(ws, ["Anna", "", "+48 533 316 283"])

    assert answer["tableRange"] == "Sheet1!A1"
    assert answer["updates"]["updatedRange"] == "Sheet1!A2:C2"
    assert ws.get_all_values() == [["Imię", "", "Telefon"], ["Anna", "", "+48 533 316 283"]]


def test_append_without_table_range_follows_googles_table_detection(
    ws: gspread.Worksheet,
) -> None:
    ws.append_rows([["x", "", "z"]], value_input_option=RAW)
    answer = ws.append_rows([["x", "", "z"]], value_input_option=RAW)

    assert answer["tableRange"] == "Sheet1!C1"
    assert answer["updates"]["updatedRange"] == "Sheet1!C2:E2"
    assert ws.get_all_values() == [["x", "", "z", "", ""], ["", "", "x", "", "z"]]


def test_append_to_empty_anchor_writes_there_without_table(ws: gspread.Worksheet) -> None:
    ws.update([["below"]], "A3")

    answer = ws.append_rows([["top"]], value_input_option=RAW, table_range="A1")

    assert "tableRange" not in answer
    assert answer["updates"]["updatedRange"] == "Sheet1!A1"


def test_append_grows_the_grid(book: gspread.Spreadsheet, ws: gspread.Worksheet) -> None:
    ws.resize(rows=1, cols=3)
    append_raw(ws, ["h1", "h2", "h3"])
    append_raw(ws, ["a", "b", "c"], ["d", "e", "f"])

    grid = book.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"]
    assert grid == {"rowCount": 3, "columnCount": 3}


def test_insert_rows_option_pushes_data_down(ws: gspread.Worksheet) -> None:
    ws.update([["h"], ["1"], [""], ["after gap"]], "A1")

    ws.append_rows(
        [["2"]],
        value_input_option=RAW,
        insert_data_option=InsertDataOption.insert_rows,
        table_range="A1",
    )

    assert ws.col_values(1) == ["h", "1", "2", "", "after gap"]


# -- values.get shape ------------------------------------------------------------------------


def test_values_get_trims_trailing_empties_and_clips_range(
    session: requests.Session, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    ws.update([["A1", "", "C1", ""], ["", "", "", ""], ["A3", "B3", "", ""]], "A1")
    base = f"{SHEETS_API}/{book.id}/values"

    assert session.get(f"{base}/'Sheet1'!A1:1").json() == {
        "range": "Sheet1!A1:Z1",
        "majorDimension": "ROWS",
        "values": [["A1", "", "C1"]],
    }
    assert session.get(f"{base}/Sheet1!A1:D4").json()["values"] == [
        ["A1", "", "C1"],
        [],
        ["A3", "B3"],
    ]
    assert session.get(f"{base}/Sheet1!F5:G6").json() == {
        "range": "Sheet1!F5:G6",
        "majorDimension": "ROWS",
    }
    columns = session.get(f"{base}/Sheet1!A1:C3", params={"majorDimension": "COLUMNS"}).json()
    assert columns["values"] == [["A1", "", "A3"], ["", "", "B3"], ["C1"]]


def test_titles_are_quoted_only_when_needed(book: gspread.Spreadsheet) -> None:
    plain = book.add_worksheet("Zapisy", rows=5, cols=5)
    cell_like = book.add_worksheet("D3", rows=5, cols=5)
    spaced = book.add_worksheet("Lista 'A'", rows=5, cols=5)

    assert plain.update([["x"]], "A1")["updatedRange"] == "Zapisy!A1"
    assert cell_like.update([["x"]], "A1")["updatedRange"] == "'D3'!A1"
    assert spaced.update([["x", "y"]], "A1")["updatedRange"] == "'Lista ''A'''!A1:B1"
    assert spaced.get_all_values() == [["x", "y"]]


def test_writing_beyond_the_grid_is_rejected(ws: gspread.Worksheet) -> None:
    ws.resize(rows=2, cols=2)

    with pytest.raises(APIError) as raised:
        ws.update([["a", "b", "c"]], "A1")

    assert raised.value.code == 400
    assert "exceeds grid limits. Max rows: 2, max columns: 2" in raised.value.error["message"]


# -- staff actions ---------------------------------------------------------------------------


def test_move_dimension_moves_column_data_and_its_protection(
    book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    append_raw(ws, ["email", "imię", "telefon", "status"], ["a@x.pl", "Anna", "1", "ok"])
    ws.add_protected_range("A1:A2", warning_only=True)

    book.batch_update(
        {
            "requests": [
                {
                    "moveDimension": {
                        "source": {
                            "sheetId": 0,
                            "dimension": "COLUMNS",
                            "startIndex": 0,
                            "endIndex": 1,
                        },
                        "destinationIndex": 3,
                    }
                }
            ]
        }
    )

    assert ws.get_all_values() == [
        ["imię", "telefon", "email", "status"],
        ["Anna", "1", "a@x.pl", "ok"],
    ]
    protected = book.fetch_sheet_metadata()["sheets"][0]["protectedRanges"][0]
    assert protected["warningOnly"] is True
    assert protected["range"] == {
        "startRowIndex": 0,
        "endRowIndex": 2,
        "startColumnIndex": 2,
        "endColumnIndex": 3,
    }


def test_insert_and_delete_dimension_shift_data(ws: gspread.Worksheet) -> None:
    append_raw(ws, ["a", "b", "c"], ["1", "2", "3"])

    ws.insert_cols([["new"]], col=2)
    assert ws.get_all_values() == [["a", "new", "b", "c"], ["1", "", "2", "3"]]
    assert ws.col_count == 27

    ws.delete_rows(1)
    assert ws.get_all_values() == [["1", "", "2", "3"]]


def test_deleted_worksheet_range_no_longer_parses(book: gspread.Spreadsheet) -> None:
    temp = book.add_worksheet("Temp", rows=5, cols=5)
    book.del_worksheet(temp)

    with pytest.raises(APIError) as raised:
        temp.get_all_values()

    assert raised.value.code == 400
    assert raised.value.error == {
        "code": 400,
        "message": "Unable to parse range: 'Temp'",
        "status": "INVALID_ARGUMENT",
    }


def test_batch_update_applies_all_requests_or_none(book: gspread.Spreadsheet) -> None:
    with pytest.raises(APIError) as raised:
        book.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Nowy"}}},
                    {"deleteSheet": {"sheetId": 999}},
                ]
            }
        )

    assert raised.value.error["message"] == "Invalid requests[1].deleteSheet: No grid with id: 999"
    assert [w.title for w in book.worksheets()] == ["Sheet1"]


def test_a_failed_batch_leaves_every_cell_as_it_was(
    book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    ws.update([["a", "b"], ["c", "d"]], "A1:B2", raw=True)
    ws.format("A1", {"textFormat": {"bold": True}})
    ws.update_note("B1", "staff")
    cell = {
        "userEnteredValue": {"stringValue": "zmienione"},
        "userEnteredFormat": {"textFormat": {"italic": True}},
        "note": "nowa",
        "dataValidation": {
            "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "x"}]}
        },
    }
    fields = "userEnteredValue,userEnteredFormat,note,dataValidation"
    with pytest.raises(APIError):
        batch(
            book,
            {
                "repeatCell": {
                    "range": grid_range(ws.id, (0, 2), (0, 2)),
                    "cell": cell,
                    "fields": fields,
                }
            },
            {
                "deleteDimension": {
                    "range": {"sheetId": ws.id, "dimension": "ROWS", "startIndex": 2, "endIndex": 1}
                }
            },
            {"deleteSheet": {"sheetId": 999}},
        )

    assert ws.get_all_values() == [["a", "b"], ["c", "d"]]
    grid = book.fetch_sheet_metadata({"includeGridData": "true", "ranges": "A1:B2"})
    rows = grid["sheets"][0]["data"][0]["rowData"]
    assert rows[0]["values"][0]["userEnteredFormat"]["textFormat"] == {"bold": True}
    assert rows[0]["values"][1]["note"] == "staff"
    assert not any("dataValidation" in value for row in rows for value in row["values"])


# -- formats, notes, column widths -----------------------------------------------------------

TITLE = "Zgłoszenia – Klaster PS 2018"
HEADER = ["ID", "Imię", "Nazwisko", "E-mail", "Status"]


def grid_range(
    sheet_id: int = 0, rows: tuple[int, int] | None = None, cols: tuple[int, int] | None = None
) -> dict[str, int]:
    """A GridRange: half-open (start, end) pairs, None for an open side."""
    data = {"sheetId": sheet_id}
    if rows is not None:
        data["startRowIndex"], data["endRowIndex"] = rows
    if cols is not None:
        data["startColumnIndex"], data["endColumnIndex"] = cols
    return data


def batch(book: gspread.Spreadsheet, *requests: dict[str, Any]) -> Any:
    return book.batch_update({"requests": list(requests)})


def grid(book: gspread.Spreadsheet, ranges: str, fields: str) -> Any:
    return book.fetch_sheet_metadata(params={"ranges": ranges, "fields": fields})


def registrations(book: gspread.Spreadsheet, rows: int = 20) -> gspread.Worksheet:
    """The service's worksheet: a header, then one row per registration, IDs in column A."""
    ws = book.add_worksheet(TITLE, rows=rows, cols=20)
    table = [HEADER] + [
        [f"R{n}", name, surname, f"{name.lower()}@example.pl", status]
        for n, name, surname, status in [
            (1, "Zofia", "Nowak", "nowe"),
            (2, "Łucja", "Kowalska", "potwierdzone"),
            (3, "Adam", "Lis", "anulowane"),
            (4, "Lena", "Żak", "nowe"),
        ]
    ]
    ws.update(table, "A1", value_input_option=RAW)
    return ws


def test_repeat_cell_format_is_answered_like_google(book: gspread.Spreadsheet) -> None:
    """gspread's recorded test_format: colours come back mirrored into colour styles."""
    book.sheet1.format(
        "A2:B2",
        {
            "backgroundColor": {"red": 0.0, "green": 1.0, "blue": 1.0},
            "horizontalAlignment": "CENTER",
            "textFormat": {"foregroundColor": {"red": 1, "green": 1}, "fontSize": 12, "bold": True},
        },
    )

    answer = grid(book, "Sheet1!B2", "sheets.data.rowData.values.userEnteredFormat")
    assert answer == {
        "sheets": [
            {
                "data": [
                    {
                        "rowData": [
                            {
                                "values": [
                                    {
                                        "userEnteredFormat": {
                                            "backgroundColor": {"green": 1, "blue": 1},
                                            "horizontalAlignment": "CENTER",
                                            "textFormat": {
                                                "foregroundColor": {"red": 1, "green": 1},
                                                "fontSize": 12,
                                                "bold": True,
                                                "foregroundColorStyle": {
                                                    "rgbColor": {"red": 1, "green": 1}
                                                },
                                            },
                                            "backgroundColorStyle": {
                                                "rgbColor": {"green": 1, "blue": 1}
                                            },
                                        }
                                    }
                                ]
                            }
                        ]
                    }
                ]
            }
        ]
    }


def test_format_mask_replaces_only_what_it_names(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    italic = {"textFormat": {"italic": True, "fontSize": 14}, "horizontalAlignment": "RIGHT"}
    batch(
        book,
        {
            "repeatCell": {
                "range": grid_range(rows=(0, 1), cols=(0, 2)),
                "cell": {"userEnteredFormat": italic},
                "fields": "userEnteredFormat",
            }
        },
        {  # the service's header request: bold only, everything else kept
            "repeatCell": {
                "range": grid_range(rows=(0, 1)),
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
    )
    assert emulator.cell(book.id, "Sheet1", "A1").format == {
        "textFormat": {"italic": True, "fontSize": 14, "bold": True},
        "horizontalAlignment": "RIGHT",
    }
    assert emulator.cell(book.id, "Sheet1", "Z1").bold

    batch(
        book,
        {
            "updateCells": {
                "range": grid_range(rows=(0, 1), cols=(0, 1)),
                "rows": [{"values": [{"userEnteredFormat": {"textFormat": {"underline": True}}}]}],
                "fields": "userEnteredFormat(textFormat)",
            }
        },
    )
    assert emulator.cell(book.id, "Sheet1", "A1").format == {
        "textFormat": {"underline": True},
        "horizontalAlignment": "RIGHT",
    }
    assert not emulator.cell(book.id, "Sheet1", "A1").bold


def test_update_cells_writes_values_formats_and_notes_under_one_mask(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    ws.update([["old", "old"], ["old", "old"]], "A1")
    batch(
        book,
        {
            "updateCells": {
                "range": grid_range(rows=(0, 2), cols=(0, 2)),
                "rows": [
                    {
                        "values": [
                            {
                                "userEnteredValue": {"stringValue": "Imię"},
                                "userEnteredFormat": {"textFormat": {"bold": True}},
                                "note": "wymagane",
                            }
                        ]
                    }
                ],
                "fields": "userEnteredValue,userEnteredFormat.textFormat.bold,note",
            }
        },
    )

    assert ws.get_all_values() == [["Imię"]]  # cells the rows leave out are cleared
    header = emulator.cell(book.id, "Sheet1", "A1")
    assert (header.value, header.bold, header.note) == ("Imię", True, "wymagane")


def test_notes_are_set_read_and_cleared_like_google(
    book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    ws.update([["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]], "A1")
    ws.update_notes({"A1": "read my note", "B2": "Or don't", "A3": "another note"})

    # values but no notes: the cells drop out, rows end at their last note
    assert ws.get_notes() == [["read my note"], ["", "Or don't"], ["another note"]]
    assert grid(book, "'Sheet1'!A2:C3", "sheets.data.rowData.values.note") == {
        "sheets": [
            {
                "data": [
                    {
                        "rowData": [
                            {"values": [{}, {"note": "Or don't"}]},
                            {"values": [{"note": "another note"}]},
                        ]
                    }
                ]
            }
        ]
    }

    ws.clear_notes(["A1", "B2", "A3"])
    assert grid(book, "'Sheet1'!A1", "sheets/data/rowData/values/note") == {
        "sheets": [{"data": [{}]}]
    }
    assert ws.get_all_values()[0] == ["a", "b", "c"]  # values stay


def test_column_widths_are_answered_and_follow_moves(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    batch(
        book,
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 1, "endIndex": 3},
                "properties": {"pixelSize": 240},
                "fields": "pixelSize",
            }
        },
    )
    answer = grid(book, "Sheet1!A1:D1", "sheets.data.columnMetadata")
    assert answer["sheets"][0]["data"][0]["columnMetadata"] == [
        {"pixelSize": 100},
        {"pixelSize": 240},
        {"pixelSize": 240},
        {"pixelSize": 100},
    ]

    batch(
        book,
        {
            "moveDimension": {
                "source": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 1, "endIndex": 2},
                "destinationIndex": 4,
            }
        },
    )
    assert emulator.sheet_info(book.id, "Sheet1").column_widths[:5] == [100, 240, 100, 240, 100]

    batch(  # a size left out of the properties goes back to the default
        book,
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 1, "endIndex": 2},
                "properties": {},
                "fields": "pixelSize",
            }
        },
    )
    assert emulator.sheet_info(book.id, "Sheet1").column_widths[:5] == [100, 100, 100, 240, 100]


def test_frozen_header_and_bold_as_the_service_creates_them(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = book.add_worksheet(TITLE, rows=10, cols=20)
    batch(
        book,
        {
            "updateSheetProperties": {
                "properties": {"sheetId": ws.id, "gridProperties": {"frozenRowCount": 1}},
                "fields": "gridProperties.frozenRowCount",
            }
        },
        {
            "repeatCell": {
                "range": {"sheetId": ws.id, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
    )

    assert emulator.sheet_info(book.id, TITLE).frozen_rows == 1
    assert [emulator.cell(book.id, TITLE, f"{c}1").bold for c in "AT"] == [True, True]
    assert not emulator.cell(book.id, TITLE, "A2").bold
    ws.insert_rows([["R0"]], row=2, inherit_from_before=False)  # takes row 3's format: plain
    assert not emulator.cell(book.id, TITLE, "A2").bold
    ws.insert_rows([["nagłówek 2"]], row=2, inherit_from_before=True)  # takes the header's
    assert emulator.cell(book.id, TITLE, "B2").bold
    assert emulator.sheet_info(book.id, TITLE).frozen_rows == 1


@pytest.mark.parametrize(
    "request_",
    [
        {"updateBorders": {"range": grid_range(rows=(0, 1)), "top": {"style": "SOLID"}}},
        {"autoResizeDimensions": {"dimensions": {"sheetId": 0, "dimension": "COLUMNS"}}},
        {
            "setBasicFilter": {
                "filter": {"range": {"sheetId": 0}, "sortSpecs": [{"dimensionIndex": 0}]}
            }
        },
        {
            "repeatCell": {
                "range": grid_range(rows=(0, 1)),
                "cell": {"textFormatRuns": [{"startIndex": 0}]},
                "fields": "textFormatRuns",
            }
        },
    ],
    ids=["updateBorders", "autoResizeDimensions", "basic-filter-sortSpecs", "textFormatRuns"],
)
def test_formatting_not_kept_answers_501(
    book: gspread.Spreadsheet, request_: dict[str, Any]
) -> None:
    with pytest.raises(APIError) as raised:
        batch(book, request_)

    assert raised.value.code == 501
    assert raised.value.error["status"] == "NOT_IMPLEMENTED"


def test_reversed_or_oversized_grid_range_is_400(book: gspread.Spreadsheet) -> None:
    bold = {"userEnteredFormat": {"textFormat": {"bold": True}}}
    for bad in (grid_range(rows=(5, 2)), grid_range(rows=(0, 1001)), grid_range(cols=(-1, 2))):
        with pytest.raises(APIError) as raised:
            batch(book, {"repeatCell": {"range": bad, "cell": bold, "fields": "userEnteredFormat"}})
        assert raised.value.code == 400


def test_control_dump_shows_formats_notes_and_validation_by_cell(
    emulator: EmulatorServer, session: requests.Session, book: gspread.Spreadsheet
) -> None:
    book.sheet1.format("B1", {"textFormat": {"bold": True}})
    book.sheet1.update_note("C2", "uwaga")
    batch(book, status_validation(0))

    dumped = session.get(f"{emulator.url}/_emulator/spreadsheets/{book.id}").json()["sheets"][0]
    assert dumped["formats"] == {"B1": {"textFormat": {"bold": True}}}
    assert dumped["notes"] == {"C2": "uwaga"}
    assert set(dumped["dataValidations"]) == {f"E{n}" for n in range(2, 1001)}
    assert dumped["frozenRowCount"] == 0 and dumped["basicFilter"] is None


# -- data validation -------------------------------------------------------------------------

STATUS_RULE: dict[str, Any] = {
    "condition": {
        "type": "ONE_OF_LIST",
        "values": [{"userEnteredValue": v} for v in ("nowe", "potwierdzone", "anulowane")],
    },
    "showCustomUi": True,
    "strict": False,
}


def status_validation(sheet_id: int, rule: dict[str, Any] | None = STATUS_RULE) -> dict[str, Any]:
    """Staff's drop-down on the status column (E), from row 2 down."""
    request: dict[str, Any] = {"range": grid_range(sheet_id, cols=(4, 5)) | {"startRowIndex": 1}}
    if rule is not None:
        request["rule"] = rule
    return {"setDataValidation": request}


def test_data_validation_is_answered_in_grid_data(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)
    batch(book, status_validation(ws.id))

    expected = {  # strict: false is left out, as proto3 JSON does
        "condition": STATUS_RULE["condition"],
        "showCustomUi": True,
    }
    answer = grid(book, f"'{TITLE}'!E1:E3", "sheets.data.rowData.values.dataValidation")
    assert answer == {
        "sheets": [
            {
                "data": [
                    {
                        "rowData": [
                            {},
                            {"values": [{"dataValidation": expected}]},
                            {"values": [{"dataValidation": expected}]},
                        ]
                    }
                ]
            }
        ]
    }
    full = book.fetch_sheet_metadata(params={"ranges": f"'{TITLE}'!E2", "includeGridData": "true"})
    assert full["sheets"][0]["data"][0]["rowData"][0]["values"][0] == {
        "userEnteredValue": {"stringValue": "nowe"},
        "effectiveValue": {"stringValue": "nowe"},
        "formattedValue": "nowe",
        "dataValidation": expected,
    }
    assert emulator.cell(book.id, TITLE, "E20").validation == expected
    assert emulator.cell(book.id, TITLE, "E1").validation is None
    assert emulator.cell(book.id, TITLE, "D2").validation is None


def test_data_validation_moves_with_rows_columns_and_sorting(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)
    only_r3 = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "x"}]}}
    batch(
        book,
        {
            "setDataValidation": {
                "range": grid_range(ws.id, rows=(3, 4), cols=(1, 2)),
                "rule": only_r3,
            }
        },
    )

    def where() -> list[str]:
        return [
            f"{c}{r}"
            for r in range(1, 22)
            for c in "ABCDEFG"
            if emulator.cell(book.id, TITLE, f"{c}{r}").validation == only_r3
        ]

    assert where() == ["B4"]
    ws.insert_rows([["R9"]], row=2)
    assert where() == ["B5"]
    batch(
        book,
        {
            "moveDimension": {
                "source": {
                    "sheetId": ws.id,
                    "dimension": "COLUMNS",
                    "startIndex": 1,
                    "endIndex": 2,
                },
                "destinationIndex": 4,
            }
        },
    )
    assert where() == ["D5"]
    ws.sort((1, "des"), range="A2:T6")  # R9 R4 R3 R2 R1: R3's row moves from 5 to 4
    assert ws.acell("A4").value == "R3"
    assert where() == ["D4"]
    ws.delete_rows(2)
    assert where() == ["D3"]
    ws.delete_rows(3)
    assert where() == []


def test_set_data_validation_without_rule_clears_it(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)
    batch(book, status_validation(ws.id))
    batch(book, status_validation(ws.id, rule=None))

    assert emulator.cell(book.id, TITLE, "E2").validation is None
    answer = grid(book, f"'{TITLE}'!E1:E20", "sheets.data.rowData.values.dataValidation")
    assert answer == {"sheets": [{"data": [{}]}]}


@pytest.mark.parametrize("strict", [False, True], ids=["warning", "strict"])
def test_values_outside_the_list_are_accepted_through_the_api(
    emulator: EmulatorServer, book: gspread.Spreadsheet, strict: bool
) -> None:
    """Google rejects such input only where people type (the UI); API writes are stored. With
    strict the drop-down refuses typed values; the service's writes still land."""
    ws = registrations(book)
    batch(book, status_validation(ws.id, rule=STATUS_RULE | {"strict": strict}))

    ws.update([["wycofane"]], "E2", value_input_option=RAW)
    ws.batch_update([{"range": "E3", "values": [["?"]]}], raw=True)
    ws.append_rows(
        [["R5", "Ewa", "Bąk", "ewa@example.pl", "inne"]], value_input_option=RAW, table_range="A1"
    )

    assert ws.col_values(5) == ["Status", "wycofane", "?", "anulowane", "nowe", "inne"]
    assert emulator.cell(book.id, TITLE, "E6").validation == {
        "condition": STATUS_RULE["condition"],
        "showCustomUi": True,
    } | ({"strict": True} if strict else {})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"condition": {"type": "ONE_OF_LISTS", "values": []}}, "ONE_OF_LISTS"),
        ({"condition": {"type": "ONE_OF_LIST"}}, "ONE_OF_LIST"),
        ({"showCustomUi": True}, "condition"),
    ],
)
def test_malformed_validation_rule_is_400(
    book: gspread.Spreadsheet, rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(APIError) as raised:
        batch(book, status_validation(0, rule=rule))

    assert raised.value.code == 400
    assert raised.value.error["message"].startswith("Invalid requests[0].setDataValidation: ")
    assert message in raised.value.error["message"]


# -- conditional formatting ------------------------------------------------------------------

CANCELLED: dict[str, Any] = {
    "ranges": [grid_range(0, rows=(1, 1000), cols=(0, 20))],
    "booleanRule": {
        "condition": {
            "type": "CUSTOM_FORMULA",
            "values": [{"userEnteredValue": '=$E2="anulowane"'}],
        },
        "format": {
            "textFormat": {
                "strikethrough": True,
                "foregroundColor": {"red": 0.6, "green": 0.6, "blue": 0.6},
            },
        },
    },
}
CONFIRMED: dict[str, Any] = {
    "ranges": [grid_range(0, rows=(1, 1000), cols=(4, 5))],
    "booleanRule": {
        "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "potwierdzone"}]},
        "format": {"backgroundColor": {"red": 0.8, "green": 1.0, "blue": 0.8}},
    },
}


def answered(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as spreadsheets.get answers it: sheetId 0 left out, colours mirrored to styles."""
    fmt = rule["booleanRule"]["format"]
    answer_format: dict[str, Any] = {}
    if "textFormat" in fmt:
        text = dict(fmt["textFormat"])
        text["foregroundColorStyle"] = {"rgbColor": text["foregroundColor"]}
        answer_format["textFormat"] = text
    if "backgroundColor" in fmt:
        colour = {
            k: int(v) if float(v).is_integer() else v for k, v in fmt["backgroundColor"].items()
        }
        answer_format["backgroundColor"] = colour
        answer_format["backgroundColorStyle"] = {"rgbColor": colour}
    ranges = [{k: v for k, v in r.items() if k != "sheetId"} for r in rule["ranges"]]
    return {
        "ranges": ranges,
        "booleanRule": {"condition": rule["booleanRule"]["condition"], "format": answer_format},
    }


def listed_rules(book: gspread.Spreadsheet) -> Any:
    return book.fetch_sheet_metadata(params={"fields": "sheets.conditionalFormats"})["sheets"][
        0
    ].get("conditionalFormats", [])


def test_conditional_format_rules_are_listed_in_order(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    reply = batch(
        book,
        {"addConditionalFormatRule": {"rule": CANCELLED, "index": 0}},
        {"addConditionalFormatRule": {"rule": CONFIRMED, "index": 0}},
    )

    assert reply["replies"] == [{}, {}]
    assert listed_rules(book) == [answered(CONFIRMED), answered(CANCELLED)]
    assert emulator.sheet_info(book.id, "Sheet1").conditional_formats == listed_rules(book)


def test_conditional_format_rules_update_move_and_delete_with_googles_replies(
    book: gspread.Spreadsheet,
) -> None:
    batch(
        book,
        {"addConditionalFormatRule": {"rule": CANCELLED, "index": 0}},
        {"addConditionalFormatRule": {"rule": CONFIRMED, "index": 1}},
    )
    highlighted = CONFIRMED | {"ranges": [grid_range(0, rows=(1, 500), cols=(4, 5))]}

    replaced = batch(book, {"updateConditionalFormatRule": {"index": 1, "rule": highlighted}})
    assert replaced["replies"] == [
        {
            "updateConditionalFormatRule": {
                "newRule": answered(highlighted),
                "newIndex": 1,
                "oldRule": answered(CONFIRMED),
            }
        }
    ]
    moved = batch(book, {"updateConditionalFormatRule": {"index": 1, "sheetId": 0, "newIndex": 0}})
    assert moved["replies"] == [
        {"updateConditionalFormatRule": {"newRule": answered(highlighted), "oldIndex": 1}}
    ]
    deleted = batch(book, {"deleteConditionalFormatRule": {"index": 0, "sheetId": 0}})
    assert deleted["replies"] == [{"deleteConditionalFormatRule": {"rule": answered(highlighted)}}]
    assert listed_rules(book) == [answered(CANCELLED)]

    with pytest.raises(APIError) as raised:
        batch(book, {"deleteConditionalFormatRule": {"index": 3, "sheetId": 0}})
    assert raised.value.code == 400


def test_conditional_format_ranges_follow_inserts_deletes_and_moves(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    batch(
        book,
        {"addConditionalFormatRule": {"rule": CONFIRMED, "index": 0}},
        {
            "addConditionalFormatRule": {
                "rule": CANCELLED | {"ranges": [grid_range(0, rows=(1, 3), cols=(6, 7))]},
                "index": 1,
            }
        },
    )

    ws.insert_rows([["nowy"]], row=1)
    ws.delete_rows(10, 12)
    batch(
        book,
        {
            "moveDimension": {
                "source": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 4, "endIndex": 5},
                "destinationIndex": 1,
            }
        },
    )
    rules = emulator.sheet_info(book.id, "Sheet1").conditional_formats
    assert [r["ranges"] for r in rules] == [
        [{"startRowIndex": 2, "endRowIndex": 998, "startColumnIndex": 1, "endColumnIndex": 2}],
        [{"startRowIndex": 2, "endRowIndex": 4, "startColumnIndex": 6, "endColumnIndex": 7}],
    ]

    ws.delete_columns(7)  # the second rule's only column: the rule goes with it
    assert len(emulator.sheet_info(book.id, "Sheet1").conditional_formats) == 1


def test_conditional_format_rule_must_be_well_formed(book: gspread.Spreadsheet) -> None:
    other = book.add_worksheet("Inny", rows=5, cols=5)
    mixed = CONFIRMED | {"ranges": [grid_range(0, rows=(0, 1)), grid_range(other.id, rows=(0, 1))]}
    centred = CONFIRMED | {
        "booleanRule": {**CONFIRMED["booleanRule"], "format": {"horizontalAlignment": "CENTER"}}
    }

    for rule in (mixed, centred, CONFIRMED | {"gradientRule": {}}):
        with pytest.raises(APIError) as raised:
            batch(book, {"addConditionalFormatRule": {"rule": rule, "index": 0}})
        assert raised.value.code == 400
    assert listed_rules(book) == []


# -- protections -----------------------------------------------------------------------------


def test_warning_only_protection_lets_the_service_write_and_keeps_its_exceptions_in_place(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)
    batch(
        book,
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": ws.id},
                    "description": "Zamknięte",
                    "warningOnly": True,
                    "unprotectedRanges": [grid_range(ws.id, rows=(1, 20), cols=(4, 5))],
                }
            }
        },
    )

    ws.update([["potwierdzone"]], "E3", value_input_option=RAW)  # the service, through the API
    ws.append_rows([["R5", "Ewa"]], value_input_option=RAW, table_range="A1")
    assert ws.acell("E3").value == "potwierdzone"
    assert ws.acell("A6").value == "R5"

    batch(  # staff drag the status column to the front, then add a row on top of the data
        book,
        {
            "moveDimension": {
                "source": {
                    "sheetId": ws.id,
                    "dimension": "COLUMNS",
                    "startIndex": 4,
                    "endIndex": 5,
                },
                "destinationIndex": 0,
            }
        },
    )
    ws.insert_rows([["nowe"]], row=2)
    [protection] = emulator.sheet_info(book.id, TITLE).protected_ranges
    assert protection["warningOnly"] is True
    assert protection["range"] == {"sheetId": ws.id}
    assert protection["unprotectedRanges"] == [
        {
            "sheetId": ws.id,
            "startRowIndex": 2,
            "endRowIndex": 21,
            "startColumnIndex": 0,
            "endColumnIndex": 1,
        }
    ]


# -- staff sorting and filtering while the service works -------------------------------------


def row_of(ws: gspread.Worksheet, registration_id: str) -> int:
    """How the service finds a registration: by its ID in column A, never by position."""
    return ws.col_values(1).index(registration_id) + 1


def test_staff_sort_registrations_while_the_service_updates_rows_by_id(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)
    ws.format("A1:T1", {"textFormat": {"bold": True}})
    ws.update_note("C3", "dzwonić po 16")  # on Kowalska's row

    ws.sort((3, "asc"), range="A2:T5")  # staff: by surname, header left alone
    assert ws.col_values(3) == ["Nazwisko", "Kowalska", "Lis", "Nowak", "Żak"]
    assert emulator.cell(book.id, TITLE, "A1").bold and not emulator.cell(book.id, TITLE, "A2").bold
    assert emulator.cell(book.id, TITLE, "C2").note == "dzwonić po 16"  # notes travel with rows

    row = row_of(ws, "R4")
    ws.update([["potwierdzone"]], f"E{row}", value_input_option=RAW)
    ws.append_rows(
        [["R5", "Ewa", "Bąk", "ewa@example.pl", "nowe"]], value_input_option=RAW, table_range="A1"
    )
    ws.sort((5, "des"), (1, "asc"), range="A2:T6")  # by status Z→A, then ID

    assert ws.get_all_values() == [
        HEADER,
        ["R2", "Łucja", "Kowalska", "łucja@example.pl", "potwierdzone"],
        ["R4", "Lena", "Żak", "lena@example.pl", "potwierdzone"],
        ["R1", "Zofia", "Nowak", "zofia@example.pl", "nowe"],
        ["R5", "Ewa", "Bąk", "ewa@example.pl", "nowe"],
        ["R3", "Adam", "Lis", "adam@example.pl", "anulowane"],
    ]
    assert ws.row_values(row_of(ws, "R4"))[4] == "potwierdzone"


def test_sort_puts_numbers_before_text_and_blanks_last_in_either_order(
    ws: gspread.Worksheet,
) -> None:
    ws.update(
        [["b"], [""], ["10"], ["A"], ["9"], ["TRUE"], ["ł"], ["m"], ["l"]],
        "A1",
        value_input_option=USER_ENTERED,
    )

    ws.sort((1, "asc"), range="A1:A9")
    assert ws.col_values(1, value_render_option=UNFORMATTED) == [
        9,
        10,
        "A",
        "b",
        "l",
        "ł",
        "m",
        True,
    ]
    ws.sort((1, "des"), range="A1:A9")
    assert ws.col_values(1, value_render_option=UNFORMATTED) == [
        True,
        "m",
        "ł",
        "l",
        "b",
        "A",
        10,
        9,
    ]
    assert ws.acell("A9").value is None  # the blank stayed last


def test_basic_filter_hides_nothing_from_the_values_api(
    emulator: EmulatorServer, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)
    criteria = {"4": {"hiddenValues": ["anulowane"]}}
    batch(
        book,
        {
            "setBasicFilter": {
                "filter": {
                    "range": grid_range(ws.id, rows=(0, 5), cols=(0, 5)),
                    "criteria": criteria,
                }
            }
        },
    )

    sheet = book.fetch_sheet_metadata(params={"fields": "sheets(properties.title,basicFilter)"})[
        "sheets"
    ][1]
    assert sheet["basicFilter"] == {
        "range": {
            "sheetId": ws.id,
            "startRowIndex": 0,
            "endRowIndex": 5,
            "startColumnIndex": 0,
            "endColumnIndex": 5,
        },
        "criteria": criteria,
    }
    assert ws.row_values(row_of(ws, "R3")) == ["R3", "Adam", "Lis", "adam@example.pl", "anulowane"]
    ws.update([["nowe"]], f"E{row_of(ws, 'R3')}", value_input_option=RAW)
    assert len(ws.get_all_values()) == 5

    batch(  # staff move the status column: the filter's criteria go with it
        book,
        {
            "moveDimension": {
                "source": {
                    "sheetId": ws.id,
                    "dimension": "COLUMNS",
                    "startIndex": 4,
                    "endIndex": 5,
                },
                "destinationIndex": 1,
            }
        },
    )
    assert emulator.sheet_info(book.id, TITLE).basic_filter == {
        "range": {
            "sheetId": ws.id,
            "startRowIndex": 0,
            "endRowIndex": 5,
            "startColumnIndex": 0,
            "endColumnIndex": 5,
        },
        "criteria": {"1": {"hiddenValues": ["anulowane"]}},
    }

    ws.set_basic_filter()  # gspread's whole-sheet filter: the range comes back bounded
    assert emulator.sheet_info(book.id, TITLE).basic_filter == {
        "range": {
            "sheetId": ws.id,
            "startRowIndex": 0,
            "endRowIndex": 20,
            "startColumnIndex": 0,
            "endColumnIndex": 20,
        }
    }
    ws.clear_basic_filter()
    assert emulator.sheet_info(book.id, TITLE).basic_filter is None
    assert "basicFilter" not in book.fetch_sheet_metadata()["sheets"][1]


# -- batch reads and writes ------------------------------------------------------------------


def test_batch_get_several_ranges_by_columns(
    session: requests.Session, book: gspread.Spreadsheet
) -> None:
    ws = registrations(book)

    answer = session.get(
        f"{SHEETS_API}/{book.id}/values:batchGet",
        params={
            "ranges": [f"'{TITLE}'!A1:B3", f"'{TITLE}'!E:E", f"'{TITLE}'!G1:H2"],
            "majorDimension": "COLUMNS",
        },
    ).json()
    assert answer == {
        "spreadsheetId": book.id,
        "valueRanges": [
            {
                "range": f"'{TITLE}'!A1:B3",
                "majorDimension": "COLUMNS",
                "values": [["ID", "R1", "R2"], ["Imię", "Zofia", "Łucja"]],
            },
            {
                "range": f"'{TITLE}'!E1:E20",
                "majorDimension": "COLUMNS",
                "values": [["Status", "nowe", "potwierdzone", "anulowane", "nowe"]],
            },
            {"range": f"'{TITLE}'!G1:H2", "majorDimension": "COLUMNS"},
        ],
    }
    via_gspread = ws.batch_get(["A2:A5", "C2:C3"], major_dimension=gspread.utils.Dimension.cols)
    assert [list(v) for v in via_gspread] == [[["R1", "R2", "R3", "R4"]], [["Nowak", "Kowalska"]]]


def test_batch_update_writes_many_rows_of_a_quoted_sheet_in_one_call(
    book: gspread.Spreadsheet,
) -> None:
    ws = registrations(book)
    rows = {n: [f"R{n}", *HOSTILE, *[""] * 12, "nowe", "=1"] for n in range(6, 13)}
    data = [{"range": f"'{TITLE}'!A{n}:T{n}", "values": [row]} for n, row in rows.items()]

    answer = book.values_batch_update({"valueInputOption": "RAW", "data": data})
    assert answer == {
        "spreadsheetId": book.id,
        "totalUpdatedRows": 7,
        "totalUpdatedColumns": 20,
        "totalUpdatedCells": 140,
        "totalUpdatedSheets": 1,
        "responses": [
            {
                "spreadsheetId": book.id,
                "updatedRange": f"'{TITLE}'!A{n}:T{n}",
                "updatedRows": 1,
                "updatedColumns": 20,
                "updatedCells": 20,
            }
            for n in rows
        ],
    }
    assert ws.row_values(7) == rows[7]  # RAW: formulas and numbers stay text
    assert ws.get_all_values()[4] == ["R4", "Lena", "Żak", "lena@example.pl", "nowe"] + [""] * 15


def test_values_in_response_have_googles_shape(
    book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    updated = ws.update(
        [["=1+1", "0123"]],
        "B2:D4",
        value_input_option=USER_ENTERED,
        include_values_in_response=True,
    )
    assert updated == {
        "spreadsheetId": book.id,
        "updatedRange": "Sheet1!B2:C2",
        "updatedRows": 1,
        "updatedColumns": 2,
        "updatedCells": 2,
        # the whole requested range, trailing empties trimmed (the API reference's words)
        "updatedData": {
            "range": "Sheet1!B2:D4",
            "majorDimension": "ROWS",
            "values": [["2", "123"]],
        },
    }

    batched = ws.batch_update(  # gspread sends null render options: Google's defaults apply
        [{"range": "A1", "values": [["x", "y"]]}, {"range": "A5:B5", "values": [["1", "2"]]}],
        raw=True,
        include_values_in_response=True,
    )
    assert [r["updatedData"] for r in batched["responses"]] == [
        {"range": "Sheet1!A1:B1", "majorDimension": "ROWS", "values": [["x", "y"]]},
        {"range": "Sheet1!A5:B5", "majorDimension": "ROWS", "values": [["1", "2"]]},
    ]
    assert (
        batched["totalUpdatedRows"],
        batched["totalUpdatedColumns"],
        batched["totalUpdatedCells"],
    ) == (2, 2, 4)

    unformatted = book.values_batch_update(
        {
            "valueInputOption": "USER_ENTERED",
            "data": [{"range": "C7", "values": [["=2*21"]]}],
            "includeValuesInResponse": True,
            "responseValueRenderOption": "UNFORMATTED_VALUE",
        }
    )
    assert unformatted["responses"][0]["updatedData"]["values"] == [[42]]

    appended = ws.append_rows(
        [["z"]], value_input_option=RAW, table_range="A1", include_values_in_response=True
    )
    assert appended["updates"]["updatedData"] == {
        "range": "Sheet1!A3",
        "majorDimension": "ROWS",
        "values": [["z"]],
    }


# -- faults ----------------------------------------------------------------------------------


def test_status_fault_answers_google_shaped_429_without_applying(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    emulator.inject("status", method="POST", path_contains=":append", status=429, times=2)

    for _ in range(2):
        with pytest.raises(APIError) as raised:
            append_raw(ws, ["a"])
        assert raised.value.code == 429
        assert raised.value.error["status"] == "RESOURCE_EXHAUSTED"
        assert "Write requests per minute per user" in raised.value.error["message"]
    assert emulator.values(book.id, "Sheet1") == []

    append_raw(ws, ["a"])  # the rule is used up
    assert emulator.values(book.id, "Sheet1") == [["a"]]


def test_apply_then_status_applies_but_reports_failure(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    emulator.inject("apply_then_status", path_contains=":append", status=500)

    with pytest.raises(APIError) as raised:
        append_raw(ws, ["applied"])

    assert raised.value.code == 500
    assert raised.value.error["status"] == "INTERNAL"
    assert emulator.values(book.id, "Sheet1") == [["applied"]]


def test_apply_then_drop_applies_and_client_sees_connection_error(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    emulator.inject("apply_then_drop", path_contains=":append")

    with pytest.raises(requests.ConnectionError):
        append_raw(ws, ["applied"])

    assert emulator.values(book.id, "Sheet1") == [["applied"]]
    append_raw(ws, ["next"])  # the client recovers on a fresh connection
    assert emulator.values(book.id, "Sheet1") == [["applied"], ["next"]]


def test_drop_loses_request_without_applying(
    emulator: EmulatorServer, book: gspread.Spreadsheet, ws: gspread.Worksheet
) -> None:
    emulator.inject("drop", method="POST", path_contains=":append")

    with pytest.raises(requests.ConnectionError):
        append_raw(ws, ["lost"])

    assert emulator.values(book.id, "Sheet1") == []


def test_delay_lets_client_time_out_while_google_still_applies(
    emulator: EmulatorServer,
    client: gspread.Client,
    book: gspread.Spreadsheet,
    ws: gspread.Worksheet,
) -> None:
    emulator.inject("delay", path_contains=":append", seconds=0.4)
    client.http_client.set_timeout(0.1)

    with pytest.raises(requests.Timeout):
        append_raw(ws, ["late"])

    wait_until(lambda: emulator.values(book.id, "Sheet1") == [["late"]])


def test_unlimited_fault_lasts_until_cleared(
    emulator: EmulatorServer, ws: gspread.Worksheet
) -> None:
    emulator.inject("status", path_contains="/values/", status=503, times=None)

    for _ in range(3):
        with pytest.raises(APIError) as raised:
            ws.get_all_values()
        assert raised.value.error["status"] == "UNAVAILABLE"

    emulator.clear_faults()
    assert ws.get_all_values() == [[]]  # gspread's shape for an empty sheet


def test_revoked_share_answers_403_until_restored(
    emulator: EmulatorServer, client: gspread.Client, book: gspread.Spreadsheet
) -> None:
    emulator.set_permission(book.id, allowed=False)

    with pytest.raises(PermissionError):  # gspread's translation of 403 on open
        client.open_by_key(book.id)
    with pytest.raises(APIError) as raised:
        book.sheet1.append_rows([["x"]], value_input_option=RAW)
    assert raised.value.error == {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
    }

    emulator.set_permission(book.id, allowed=True)
    assert client.open_by_key(book.id).sheet1.title == "Sheet1"


def test_write_quota_answers_429_beyond_limit(
    emulator: EmulatorServer, ws: gspread.Worksheet
) -> None:
    emulator.set_write_quota(2)
    try:
        append_raw(ws, ["1"])
        append_raw(ws, ["2"])
        with pytest.raises(APIError) as raised:
            append_raw(ws, ["3"])
        assert raised.value.code == 429
        assert raised.value.error["status"] == "RESOURCE_EXHAUSTED"
        assert ws.get_all_values() == [["1"], ["2"]]  # reads are not charged
    finally:
        emulator.set_write_quota(None)


def test_write_quota_window_rolls() -> None:
    now = [0.0]
    quota = WriteQuota(2, clock=lambda: now[0])

    assert quota.try_acquire() and quota.try_acquire()
    assert not quota.try_acquire()
    now[0] = 59.9
    assert not quota.try_acquire()
    now[0] = 60.0
    assert quota.try_acquire()


def test_requests_log_counts_api_calls(emulator: EmulatorServer, ws: gspread.Worksheet) -> None:
    emulator.clear_requests_log()
    append_raw(ws, ["a"])
    append_raw(ws, ["b"])

    appends = [r for r in emulator.requests_log if r.path.endswith(":append")]
    assert len(appends) == 2
    method, path, query, _ = appends[0]
    assert (method, path) == (
        "POST",
        f"/v4/spreadsheets/{ws.spreadsheet_id}/values/'Sheet1'!A1:append",
    )
    assert "valueInputOption=RAW" in query


def test_stats_count_reads_writes_and_refused_writes(
    emulator: EmulatorServer, session: requests.Session, ws: gspread.Worksheet
) -> None:
    emulator.clear_requests_log()
    emulator.set_write_quota(1)
    try:
        append_raw(ws, ["a"])
        with pytest.raises(APIError):
            append_raw(ws, ["b"])
        ws.get_all_values()
    finally:
        emulator.set_write_quota(None)

    expected = {"requests": 3, "reads": 1, "writes": 2, "writes_refused": 1}
    assert emulator.stats() == expected
    assert session.get(f"{emulator.url}/_emulator/stats").json() == expected
    emulator.clear_requests_log()
    assert emulator.stats() == {"requests": 0, "reads": 0, "writes": 0, "writes_refused": 0}


def test_control_api_gives_one_worksheets_values(
    emulator: EmulatorServer, session: requests.Session, ws: gspread.Worksheet
) -> None:
    append_raw(ws, ["a", "b"], ["c"])
    emulator.clear_requests_log()
    values = f"{emulator.url}/_emulator/spreadsheets/{ws.spreadsheet_id}/values"

    assert session.get(values, params={"sheet": "Sheet1"}).json() == {
        "values": [["a", "b"], ["c", ""]]
    }
    assert session.get(values, params={"sheet": "Nope"}).status_code == 404
    assert emulator.stats()["requests"] == 0  # beside the API: not counted


def test_http_control_api(emulator: EmulatorServer, session: requests.Session) -> None:
    control = f"{emulator.url}/_emulator"
    created = session.post(f"{control}/spreadsheets", json={"title": "T", "sheets": ["A"]}).json()
    spreadsheet_id = created["spreadsheetId"]
    rule = {"match": {"method": "GET"}, "action": "status", "status": 503, "times": -1}
    assert session.post(f"{control}/faults", json=rule).status_code == 200

    assert session.get(f"{SHEETS_API}/{spreadsheet_id}").status_code == 503
    session.delete(f"{control}/faults")
    assert session.get(f"{SHEETS_API}/{spreadsheet_id}").status_code == 200

    session.post(f"{control}/spreadsheets/{spreadsheet_id}/permission", json={"allowed": False})
    assert session.get(f"{SHEETS_API}/{spreadsheet_id}").status_code == 403
    dumped = session.get(f"{control}/spreadsheets/{spreadsheet_id}").json()
    assert dumped["allowed"] is False
    assert [s["title"] for s in dumped["sheets"]] == ["A"]
    logged = session.get(f"{control}/requests").json()["requests"]
    assert [r["method"] for r in logged] == ["GET", "GET", "GET"]

    session.post(f"{control}/reset")
    assert session.get(f"{SHEETS_API}/{spreadsheet_id}").status_code == 404


# -- A1 notation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sheet1", A1Range("Sheet1", None)),
        ("A1", A1Range(None, Bounds(0, 0, 1, 1))),
        ("'It''s'!B2:C3", A1Range("It's", Bounds(1, 1, 3, 3))),
        ("'Sheet1'!A1:1", A1Range("Sheet1", Bounds(0, 0, 1, None))),
        ("Sheet1!A:C", A1Range("Sheet1", Bounds(0, 0, None, 3))),
        ("Sheet1!A2:C", A1Range("Sheet1", Bounds(1, 0, None, 3))),
        ("'D3'", A1Range("D3", None)),
        ("Sheet1!B3:A1", A1Range("Sheet1", Bounds(0, 0, 3, 2))),
    ],
)
def test_parse_range(text: str, expected: A1Range) -> None:
    assert parse_range(text) == expected


def test_column_letters_round_trip() -> None:
    for index, letters in [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]:
        assert column_letters(index) == letters
        assert column_index(letters) == index


@pytest.mark.parametrize(
    ("title", "quoted"),
    [("Sheet1", "Sheet1"), ("D3", "'D3'"), ("🌵 x", "'🌵 x'"), ("It's", "'It''s'")],
)
def test_quote_title(title: str, quoted: str) -> None:
    assert quote_title(title) == quoted
