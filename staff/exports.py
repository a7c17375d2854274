"""The lists staff organise the trip with, from the store at any time: their tables, CSV and XLSX.

The PDF renderings of these tables, the attendance list and the badges are in `staff.printouts`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from registrations.event import Event
from registrations.models import Registration
from registrations.powiaty import POWIATY
from registrations.schema import DIET_LABELS, Diet
from registrations.status import Status
from registrations.validators import pesel_birth_date, printable
from sheets.local import excel_title
from sheets.rows import diet_text, neutralise, yes_no
from staff.collation import compact_polish_key

Table = list[list[str]]


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
)


def participants(event: Event, registrations: Sequence[Registration]) -> Table:
    """Everyone, confirmed first, with what the organisers need to reach them."""
    header = [
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
    ]
    ordered = sorted(registrations, key=lambda r: (r.status != Status.CONFIRMED, r.seq))
    return [header] + [
        [
            str(n),
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
        ]
        for n, r in enumerate(ordered, start=1)
    ]


def insurance(event: Event, registrations: Sequence[Registration]) -> Table:
    """Confirmed participants as the insurer needs them: name and PESEL or date of birth."""
    header = ["Lp.", "Imię", "Nazwisko", "PESEL", "Data urodzenia"]
    rows = []
    for n, r in enumerate(_confirmed(registrations), start=1):
        born = r.birth_date or (pesel_birth_date(r.pesel) if r.pesel else None)
        rows.append(
            [str(n), r.first_name, r.last_name, r.pesel or "", born.isoformat() if born else ""]
        )
    return [header, *rows]


def catering(event: Event, registrations: Sequence[Registration]) -> Table:
    """Portions per meal and diet for confirmed participants, then diet notes by name."""
    confirmed = _confirmed(registrations)
    counts = Counter(Diet(r.diet) for r in confirmed)
    header = ["Posiłek", *DIET_LABELS.values(), "Razem"]
    per_diet = [str(counts[d]) for d in Diet]
    meals = event.meals or ["Każdy posiłek"]
    table = [header] + [[meal, *per_diet, str(len(confirmed))] for meal in meals]
    notes = [[r.full_name, diet_text(r)] for r in confirmed if r.diet_other]
    if notes:
        table += [[], ["Uwagi do diety", "Dieta"], *notes]
    return table


def rooming(event: Event, registrations: Sequence[Registration]) -> Table:
    """Confirmed participants who stay the night, by enterprise (to share rooms sensibly)."""
    header = [
        "Lp.",
        "Imię",
        "Nazwisko",
        "Przedsiębiorstwo społeczne",
        "Telefon",
        "Szczególne potrzeby",
    ]
    staying = sorted(
        (r for r in _confirmed(registrations) if r.accommodation),
        key=lambda r: (r.enterprise_key, r.last_name.casefold(), r.first_name.casefold()),
    )
    return [header] + [
        [str(n), r.first_name, r.last_name, r.enterprise_name, r.phone, r.special_needs or ""]
        for n, r in enumerate(staying, start=1)
    ]


def attendance(event: Event, registrations: Sequence[Listed]) -> Table:
    """One day's attendance list: who is expected to sign, A to Z, and room for the signature."""
    header = ["Lp.", "Imię i nazwisko", "Przedsiębiorstwo społeczne", "Powiat", "Podpis"]
    return [header] + [
        [str(n), r.full_name, r.enterprise_name, POWIATY[r.powiat].label, ""]
        for n, r in enumerate(alphabetical(registrations), start=1)
    ]


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


def to_csv(table: Table) -> bytes:
    """UTF-8 with BOM (Excel shows Polish letters), every cell safe from formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[neutralise(printable(cell)) for cell in row] for row in table])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, title: str) -> bytes:
    """An XLSX whose every cell is text: PESEL keeps its leading zero, nothing runs.

    Written row by row (openpyxl's write-only mode): a list of thousands keeps no cell objects.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(excel_title(title))
    sheet.freeze_panes = "A2"
    for column, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 6), 60)
    bold = Font(bold=True)
    for number, row in enumerate(table):
        cells = []
        for value in row:
            # As sheets.local.set_text: never a formula, nothing XML cannot carry.
            cell = WriteOnlyCell(sheet, value=printable(value, "\t\n\r"))
            cell.data_type = "s"
            cell.number_format = "@"
            if number == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _widths(table: Table) -> list[int]:
    """Each column's longest text."""
    widths: list[int] = []
    for row in table:
        widths += [0] * (len(row) - len(widths))
        for column, value in enumerate(row):
            widths[column] = max(widths[column], len(value))
    return widths
