"""How the registrations worksheet is laid out for work, in Google Sheets and in the workbook.

Header frozen and bold; the ID, status and decision columns wide enough to read; cancelled and
rejected rows greyed out, waitlisted ones marked; a drop-down of decisions. The Google requests
are built here as plain data, so the one `batchUpdate` that creates a worksheet is easy to read.
"""

from __future__ import annotations

from typing import Any

from registrations.decisions import CHOICES
from registrations.status import Status
from sheets.rows import DECISION_HEADER, HEADERS, ID_HEADER, NOTES_HEADER, STATUS_HEADER

COLUMN_WIDTHS = {ID_HEADER: 120, STATUS_HEADER: 130, DECISION_HEADER: 170, NOTES_HEADER: 300}
GREYED_OUT = (Status.CANCELLED.label, Status.REJECTED.label)
MARKED = (Status.WAITLISTED.label,)
GREY_BACKGROUND = {"red": 0.9, "green": 0.9, "blue": 0.9}
GREY_TEXT = {"red": 0.45, "green": 0.45, "blue": 0.45}
WAITLIST_BACKGROUND = {"red": 1.0, "green": 0.95, "blue": 0.75}
DECISION_HELP = "Decyzja organizatora: rezygnacja, odrzucone albo przyjęte. Puste – brak decyzji."
GRID_ROWS = 1000


def column_letter(index: int) -> str:
    """`0` → `A`, `27` → `AB`."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def status_formula(status_column: int, labels: tuple[str, ...]) -> str:
    """A formula true for rows whose status is one of `labels` (relative to row 2)."""
    cell = f"${column_letter(status_column)}2"
    tests = [f'{cell}="{label}"' for label in labels]
    return f"=OR({','.join(tests)})" if len(tests) > 1 else f"={tests[0]}"


def decision_rule() -> dict[str, Any]:
    """The drop-down: a warning, not a block, so a value typed over it reaches us to report."""
    return {
        "condition": {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": choice} for choice in CHOICES],
        },
        "inputMessage": DECISION_HELP,
        "showCustomUi": True,
        "strict": False,
    }


def decision_validation(sheet_id: int, column: int) -> dict[str, Any]:
    """The `setDataValidation` request for the decision column, every row below the header."""
    return {
        "setDataValidation": {
            "range": {
                "sheetId": sheet_id,
                "startRowIndex": 1,
                "startColumnIndex": column,
                "endColumnIndex": column + 1,
            },
            "rule": decision_rule(),
        }
    }


def header_cells(sheet_id: int, names: list[str], at_column: int) -> dict[str, Any]:
    """Header cells as bold text (RAW: a header never becomes a formula)."""
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": at_column},
            "rows": [
                {
                    "values": [
                        {
                            "userEnteredValue": {"stringValue": name},
                            "userEnteredFormat": {"textFormat": {"bold": True}},
                        }
                        for name in names
                    ]
                }
            ],
            "fields": "userEnteredValue,userEnteredFormat.textFormat.bold",
        }
    }


def new_worksheet_requests(sheet_id: int, title: str) -> list[dict[str, Any]]:
    """Everything a new registrations worksheet gets, for one `batchUpdate`."""
    status_column = HEADERS.index(STATUS_HEADER)
    below_header = {"sheetId": sheet_id, "startRowIndex": 1}
    requests: list[dict[str, Any]] = [
        {
            "addSheet": {
                "properties": {
                    "sheetId": sheet_id,
                    "title": title,
                    "gridProperties": {
                        "rowCount": GRID_ROWS,
                        "columnCount": max(26, len(HEADERS)),
                        "frozenRowCount": 1,
                    },
                }
            }
        },
        header_cells(sheet_id, HEADERS, 0),
    ]
    for name, pixels in COLUMN_WIDTHS.items():
        index = HEADERS.index(name)
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1,
                    },
                    "properties": {"pixelSize": pixels},
                    "fields": "pixelSize",
                }
            }
        )
    for index, (labels, style) in enumerate(
        [
            (
                GREYED_OUT,
                {"backgroundColor": GREY_BACKGROUND, "textFormat": {"foregroundColor": GREY_TEXT}},
            ),
            (MARKED, {"backgroundColor": WAITLIST_BACKGROUND}),
        ]
    ):
        requests.append(
            {
                "addConditionalFormatRule": {
                    "index": index,
                    "rule": {
                        "ranges": [below_header],
                        "booleanRule": {
                            "condition": {
                                "type": "CUSTOM_FORMULA",
                                "values": [
                                    {"userEnteredValue": status_formula(status_column, labels)}
                                ],
                            },
                            "format": style,
                        },
                    },
                }
            }
        )
    requests.append(decision_validation(sheet_id, HEADERS.index(DECISION_HEADER)))
    return requests
