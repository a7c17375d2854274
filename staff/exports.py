"""The lists staff organise the trip with, from the store at any time: their tables, CSV and XLSX.

The PDF renderings of these tables, the attendance list and the badges are in `staff.printouts`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from registrations.event import Event, Meal
from registrations.models import Registration
from registrations.polish import nights_text, weekday_date
from registrations.powiaty import POWIATY
from registrations.schema import DIET_LABELS, Diet
from registrations.status import Status
from registrations.validators import pesel_birth_date, printable
from sheets.local import excel_title
from sheets.rows import diet_text, neutralise, yes_no
from staff.collation import compact_polish_key

# A list's cell: text, or a number staff can sum (counts, `Lp.`). PESEL, phone numbers, dates and
# IDs are text, so nothing is lost (a leading zero) and nothing is reformatted.
Cell = str | int
Table = list[list[Cell]]
NO_IMAGE_CONSENT = "bez zgody na wizerunek"
# Room to write in by hand on the rooming list the hotel gets.
ROOM_COLUMNS = ["Nr pokoju", "Osoby w pokoju"]


class Listed(Protocol):
    """What the attendance list and the badges need of a registration: an ORM row or an
    `Entrant`."""

    @property
    def seq(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def enterprise_name(self) -> str: ...
    @property
    def powiat(self) -> str: ...
    @property
    def consent_image(self) -> bool: ...
    @property
    def full_name(self) -> str: ...


L = TypeVar("L", bound=Listed)


@dataclass(frozen=True, slots=True)
class Entrant:
    """A registration as the attendance list and the badges print it, read column by column:
    10 000 ORM rows take some 47 MiB, these a tenth of it."""

    seq: int
    status: str
    first_name: str
    last_name: str
    enterprise_name: str
    powiat: str
    consent_image: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# The columns of an Entrant, in its fields' order.
ENTRANT_COLUMNS = (
    Registration.seq,
    Registration.status,
    Registration.first_name,
    Registration.last_name,
    Registration.enterprise_name,
    Registration.powiat,
    Registration.consent_image,
)


def image_mark(consent_image: bool) -> str:
    """What the lists say of a person's image consent: photographers must know who said no."""
    return "zgoda" if consent_image else NO_IMAGE_CONSENT


def participants(event: Event, registrations: Sequence[Registration]) -> Table:
    """Everyone, confirmed first, with what the organisers need to reach them; who gave no
    image consent is marked, and gender shown where the event asks for it."""
    header: list[Cell] = [
        "Lp.",
        "Imię",
        "Nazwisko",
        "Przedsiębiorstwo społeczne",
        "Powiat",
        "Funkcja",
        "E-mail",
        "Telefon",
        "Status",
        "Nocleg",
        "Dieta",
        "Szczególne potrzeby",
        "Wizerunek",
    ]
    if event.ask_gender:
        header.insert(3, "Płeć")
    ordered = sorted(registrations, key=lambda r: (r.status != Status.CONFIRMED, r.seq))
    rows: Table = [header]
    for n, r in enumerate(ordered, start=1):
        row: list[Cell] = [
            n,
            r.first_name,
            r.last_name,
            r.enterprise_name,
            POWIATY[r.powiat].label,
            r.role or "",
            r.email,
            r.phone,
            Status(r.status).label,
            yes_no(r.accommodation),
            diet_text(r),
            r.special_needs or "",
            image_mark(r.consent_image),
        ]
        if event.ask_gender:
            row.insert(3, r.gender or "")
        rows.append(row)
    return rows


def insurance(event: Event, registrations: Sequence[Registration]) -> Table:
    """Confirmed participants as the insurer needs them: name and PESEL or date of birth."""
    header: list[Cell] = ["Lp.", "Imię", "Nazwisko", "PESEL", "Data urodzenia"]
    rows: Table = []
    for n, r in enumerate(_confirmed(registrations), start=1):
        born = r.birth_date or (pesel_birth_date(r.pesel) if r.pesel else None)
        rows.append([n, r.first_name, r.last_name, r.pesel or "", born.isoformat() if born else ""])
    return [header, *rows]


def takes_meal(registration: Registration, meal: Meal) -> bool:
    """Whether a confirmed participant eats `meal`: everyone, but a meal served after the
    night (`nocleg = true`, breakfast) only those who take the night."""
    return registration.accommodation or not meal.nocleg


def catering(event: Event, registrations: Sequence[Registration]) -> Table:
    """Portions per meal, day by day, and diet for confirmed participants (a meal after the night
    counts only those staying), then diet notes by name."""
    confirmed = _confirmed(registrations)
    header: list[Cell] = ["Dzień", "Posiłek", *DIET_LABELS.values(), "Razem"]
    meals = event.meals or [Meal(name="Każdy posiłek")]
    table: Table = [header]
    for meal in meals:
        eating = [r for r in confirmed if takes_meal(r, meal)]
        counts = Counter(Diet(r.diet) for r in eating)
        day = weekday_date(meal.day) if meal.day is not None else ""
        table.append([day, meal.name, *(counts[d] for d in Diet), len(eating)])
    notes: list[list[Cell]] = [[r.full_name, diet_text(r)] for r in confirmed if r.diet_other]
    if notes:
        table += [[], ["Uwagi do diety", "Dieta"], *notes]
    return table


def rooming_caption(event: Event) -> str | None:
    """The night the rooming list is for: `Nocleg z 27 na 28 sierpnia 2018 r.`"""
    if not event.nights:
        return event.accommodation_label
    return nights_text(event.starts_on, event.ends_on)


def rooming(event: Event, registrations: Sequence[Registration]) -> Table:
    """Confirmed participants who stay the night, by enterprise (to share rooms sensibly), with
    room to write the room number and who shares it."""
    header: list[Cell] = [
        "Lp.",
        "Imię",
        "Nazwisko",
        "Przedsiębiorstwo społeczne",
        "Telefon",
        "Szczególne potrzeby",
        *ROOM_COLUMNS,
    ]
    if event.ask_gender:
        header.insert(5, "Płeć")
    staying = sorted(
        (r for r in _confirmed(registrations) if r.accommodation),
        key=lambda r: (r.enterprise_key, r.last_name.casefold(), r.first_name.casefold()),
    )
    table: Table = [header]
    for n, r in enumerate(staying, start=1):
        row: list[Cell] = [n, r.first_name, r.last_name, r.enterprise_name, r.phone]
        if event.ask_gender:
            row.append(r.gender or "")
        table.append([*row, r.special_needs or "", *("" for _ in ROOM_COLUMNS)])
    return table


SUBSTITUTE_ROWS = 5  # blank numbered rows for people who come in someone's place


def attendance(event: Event, registrations: Sequence[Listed]) -> Table:
    """One day's attendance list: who is expected to sign, A to Z, each with a cell to sign,
    then blank numbered rows for substitutes."""
    header: list[Cell] = [
        "Lp.",
        "Imię i nazwisko",
        "Przedsiębiorstwo społeczne",
        "Powiat",
        "Podpis",
    ]
    listed = alphabetical(registrations)
    table: Table = [header]
    table += [
        [n, r.full_name, r.enterprise_name, POWIATY[r.powiat].label, ""]
        for n, r in enumerate(listed, start=1)
    ]
    first_blank = len(listed) + 1
    table += [[n, "", "", "", ""] for n in range(first_blank, first_blank + SUBSTITUTE_ROWS)]
    return table


def alphabetical(registrations: Sequence[L]) -> list[L]:
    """Confirmed participants as a Polish reader looks them up: by last name, then first name."""
    return sorted(
        _confirmed(registrations),
        key=lambda r: (compact_polish_key(r.last_name), compact_polish_key(r.first_name), r.seq),
    )


# Tables that also come as CSV and XLSX.
LISTS: dict[str, Callable[[Event, Sequence[Registration]], Table]] = {
    "participants": participants,
    "insurance": insurance,
    "catering": catering,
    "rooming": rooming,
}
# A line above the table naming what it is for (the rooming list's night).
CAPTIONS: dict[str, Callable[[Event], str | None]] = {"rooming": rooming_caption}
TITLES = {
    "participants": "Lista uczestników",
    "insurance": "Ubezpieczenie",
    "catering": "Wyżywienie",
    "rooming": "Noclegi",
    "attendance": "Lista obecności",
    "badges": "Identyfikatory",
}
# The formats each list comes in, its default first. The insurance list (PESEL numbers) is for
# the insurer, not for printing; an attendance list or badges make no sense as a spreadsheet.
FORMATS: dict[str, tuple[str, ...]] = {
    "participants": ("xlsx", "csv", "pdf"),
    "insurance": ("xlsx", "csv"),
    "catering": ("xlsx", "csv", "pdf"),
    "rooming": ("xlsx", "csv", "pdf"),
    "attendance": ("pdf",),
    "badges": ("pdf",),
}


def _confirmed(registrations: Sequence[L]) -> list[L]:
    return [r for r in registrations if r.status == Status.CONFIRMED]


def with_caption(table: Table, caption: str | None) -> Table:
    """The table with its caption as a row of its own above it (CSV)."""
    return table if caption is None else [[caption], *table]


def to_csv(table: Table, caption: str | None = None) -> bytes:
    """UTF-8 with BOM (Excel shows Polish letters), every cell safe from formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(
        [[neutralise(printable(str(cell))) for cell in row] for row in with_caption(table, caption)]
    )
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, title: str, caption: str | None = None) -> bytes:
    """An XLSX of text cells, but counts and `Lp.` as numbers (staff sum them): PESEL, phone
    numbers, dates and IDs keep their exact form, nothing runs. A caption goes in a bold row
    above the header; the header stays in view when scrolling.

    Written row by row (openpyxl's write-only mode): a list of thousands keeps no cell objects.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(excel_title(title))
    header_row = 1 if caption is None else 2
    sheet.freeze_panes = f"A{header_row + 1}"
    for column, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 6), 60)
    bold = Font(bold=True)
    if caption is not None:
        sheet.append([_cell(sheet, caption, bold)])
    for number, row in enumerate(table):
        sheet.append([_cell(sheet, value, bold if number == 0 else None) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Any, value: Cell, font: Font | None) -> WriteOnlyCell:
    if isinstance(value, int):
        cell = WriteOnlyCell(sheet, value=value)  # a number
    else:
        # As sheets.local.set_text: never a formula, nothing XML cannot carry.
        cell = WriteOnlyCell(sheet, value=printable(value, "\t\n\r"))
        cell.data_type = "s"
        cell.number_format = "@"
    if font is not None:
        cell.font = font
    return cell


def _widths(table: Table) -> list[int]:
    """Each column's longest text."""
    widths: list[int] = []
    for row in table:
        widths += [0] * (len(row) - len(widths))
        for column, value in enumerate(row):
            widths[column] = max(widths[column], len(str(value)))
    return widths
