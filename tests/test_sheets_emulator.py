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
    method, path, query = appends[0]
    assert (method, path) == (
        "POST",
        f"/v4/spreadsheets/{ws.spreadsheet_id}/values/'Sheet1'!A1:append",
    )
    assert "valueInputOption=RAW" in query


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
