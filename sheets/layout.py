"""How the registrations worksheet is laid out for work, in Google Sheets and in the workbook.

Header frozen and bold; every column as wide as its header and its typical content; a filter
on the header over whole columns; cancelled and rejected rows greyed out, waitlisted ones
marked; a drop-down of decisions. Widths and the filter are set only when the service creates
the worksheet or a column: never over staff's own. The Google requests are built here as plain
data, so the one `batchUpdate` that creates a worksheet is easy to read.
"""

from __future__ import annotations

from typing import Any

from registrations.decisions import CHOICES
from registrations.status import Status
from sheets.rows import DECISION_HEADER, HEADERS, ID_HEADER, NOTES_HEADER, STATUS_HEADER

# What a column typically holds, so its width fits it (the header may be the wider).
TYPICAL_CONTENT = {
    ID_HEADER: "R-7K3F-9Q2M",
    "Data zgłoszenia": "2018-08-21 14:03",
    STATUS_HEADER: "lista rezerwowa",
    DECISION_HEADER: "rezygnacja ▾",
    "Imię": "Katarzyna",
    "Nazwisko": "Szulczewska-Nowak",
    "Przedsiębiorstwo społeczne": "Spółdzielnia Socjalna Nasze Zaodrze",
    "Powiat": "powiat zielonogórski",
    "Funkcja w przedsiębiorstwie": "prezeska zarządu",
    "E-mail": "katarzyna.nowak@example.pl",
    "Telefon": "+48 533 316 283",
    "PESEL": "02270803624",
    "Data urodzenia": "2002-07-08",
    "Dieta": "wegetariańska",
    "Szczególne potrzeby": "asystent osoby z niepełnosprawnością",
    "Wersja klauzuli": "klaster-2018-v1",
    "Potwierdzenie udziału": "oferta ważna do 26.08 18:00",
}
FIXED_WIDTHS = {NOTES_HEADER: 300}  # remarks in sentences: wide, they wrap beyond it
TEXT_PIXELS = 7  # per character of 10 pt Arial, as Google and Excel set text
HEADER_PIXELS = 8  # per character of the bold header
FILTER_BUTTON_PIXELS = 24  # the filter's button beside each header
MIN_PIXELS, MAX_PIXELS = 60, 320


def column_pixels(name: str) -> int:
    """A column's width in pixels: its bold header with the filter button, or its typical
    content, whichever is wider (within reason)."""
    if name in FIXED_WIDTHS:
        return FIXED_WIDTHS[name]
    header = len(name) * HEADER_PIXELS + FILTER_BUTTON_PIXELS
    content = len(TYPICAL_CONTENT.get(name, "")) * TEXT_PIXELS + 12
    return min(max(header, content, MIN_PIXELS), MAX_PIXELS)


def width_requests(sheet_id: int, names: list[str], at_column: int) -> list[dict[str, Any]]:
    """`updateDimensionProperties` for columns the service creates, from `at_column` on."""
    return [
        {
            "updateDimensionProperties": {
                "range": {
                    "sheetId": sheet_id,
                    "dimension": "COLUMNS",
                    "startIndex": at_column + offset,
                    "endIndex": at_column + offset + 1,
                },
                "properties": {"pixelSize": column_pixels(name)},
                "fields": "pixelSize",
            }
        }
        for offset, name in enumerate(names)
    ]


def filter_request(
    sheet_id: int, columns: int, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The basic filter on the header row over whole columns `0 … columns - 1` (no end row:
    rows added later are in it). `existing`: a filter being widened keeps its criteria."""
    basic: dict[str, Any] = {
        "range": {
            "sheetId": sheet_id,
            "startRowIndex": 0,
            "startColumnIndex": 0,
            "endColumnIndex": columns,
        }
    }
    for key in ("criteria", "filterSpecs", "sortSpecs"):
        if existing and existing.get(key):
            basic[key] = existing[key]
    return {"setBasicFilter": {"filter": basic}}


def widened_filter(
    sheet_id: int, existing: dict[str, Any] | None, at_column: int, count: int
) -> dict[str, Any] | None:
    """The filter over columns the service just added after the header, when the current one
    is the service's (from column A to exactly where they start); None for staff's own filter,
    or none at all (staff removed it): never set over staff's own."""
    if not existing:
        return None
    grid = existing.get("range", {})
    if grid.get("startColumnIndex", 0) != 0 or grid.get("startRowIndex", 0) != 0:
        return None
    if grid.get("endColumnIndex") != at_column:
        return None
    return filter_request(sheet_id, at_column + count, existing)


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
        *width_requests(sheet_id, HEADERS, 0),
        filter_request(sheet_id, len(HEADERS)),
    ]
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
