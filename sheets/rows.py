"""How a registration reads in a spreadsheet: Polish headers, text values, header-name placement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from registrations.event import Event
from registrations.models import Registration
from registrations.participation import PARTICIPATION_HEADER, participation_label
from registrations.powiaty import POWIATY
from registrations.schema import DIET_LABELS, Diet
from registrations.status import Status

ID_HEADER = "ID zgłoszenia"
STATUS_HEADER = "Status"
# The staff's column: a drop-down of decisions the service carries out; it never writes there.
DECISION_HEADER = "Decyzja organizatora"
# The staff's reason for a decision: the service adds the header and never writes its cells; a
# decision's e-mail gives it (read as it stands when the decision is carried out).
REASON_HEADER = "Powód decyzji"
# The service's remarks on a row (a decision it could not apply); cleared when resolved.
NOTES_HEADER = "Uwagi systemu"
SOURCE_LABELS = {
    "form": "formularz",
    "api": "API",
    "staff": "organizator",  # added in the staff pages, with an address
    "phone": "telefonicznie",  # added in the staff pages, without an address
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text no spreadsheet will run: a leading formula character gets an apostrophe before it."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def yes_no(value: bool) -> str:
    return "tak" if value else "nie"


def timestamp(registration: Registration, event: Event) -> str:
    """When it arrived, in the event's time zone, as staff read it: `2018-08-21 14:03`."""
    return event.local(registration.received_at).strftime("%Y-%m-%d %H:%M")


def diet_text(registration: Registration) -> str:
    label = DIET_LABELS[Diet(registration.diet)]
    return f"{label}: {registration.diet_other}" if registration.diet_other else label


Getter = Callable[[Registration, Event], str]

# Header → value. Free text a participant typed is neutralised; validated values (ID, phone in
# `+48 …` form, PESEL digits, dates) are safe as they are and must keep their exact form.
COLUMNS: dict[str, Getter] = {
    ID_HEADER: lambda r, e: r.id,
    "Data zgłoszenia": timestamp,
    STATUS_HEADER: lambda r, e: Status(r.status).label,
    "Imię": lambda r, e: neutralise(r.first_name),
    "Nazwisko": lambda r, e: neutralise(r.last_name),
    "Przedsiębiorstwo społeczne": lambda r, e: neutralise(r.enterprise_name),
    "Powiat": lambda r, e: POWIATY[r.powiat].label,
    "Funkcja w przedsiębiorstwie": lambda r, e: neutralise(r.role or ""),
    "E-mail": lambda r, e: neutralise(r.email),
    "Telefon": lambda r, e: r.phone,
    "PESEL": lambda r, e: r.pesel or "",
    "Data urodzenia": lambda r, e: r.birth_date.isoformat() if r.birth_date else "",
    "Nocleg": lambda r, e: yes_no(r.accommodation),
    "Dieta": lambda r, e: neutralise(diet_text(r)),
    "Szczególne potrzeby": lambda r, e: neutralise(r.special_needs or ""),
    "Zgoda na przetwarzanie danych": lambda r, e: yes_no(r.consent_personal_data),
    "Zgoda na wizerunek": lambda r, e: yes_no(r.consent_image),
    "Wersja klauzuli": lambda r, e: r.consent_version,
    "Źródło": lambda r, e: SOURCE_LABELS.get(r.source, r.source),
    PARTICIPATION_HEADER: participation_label,  # the answer to the reminders, an offer
}
DATA_HEADERS: list[str] = list(COLUMNS)
DATA_KEYS = frozenset(" ".join(name.split()).casefold() for name in DATA_HEADERS)
# Headers earlier releases wrote, and the name each has now: renamed in place in an existing
# worksheet before the next write, so the column and its data stay where they are.
RENAMED_HEADERS: dict[str, str] = {"Potrzeby szczególne": "Szczególne potrzeby"}
# The service's columns: what it writes (its data and its remarks), never staff's own nor the
# decision column staff type in.
SERVICE_KEYS = DATA_KEYS | {" ".join(NOTES_HEADER.split()).casefold()}
# A new worksheet's header row: the decision next to the status it changes.
HEADERS: list[str] = [
    *DATA_HEADERS[:3],
    DECISION_HEADER,
    REASON_HEADER,
    NOTES_HEADER,
    *DATA_HEADERS[3:],
]


def registration_row(registration: Registration, event: Event) -> dict[str, str]:
    """The registration as header → text."""
    return {header: get(registration, event) for header, get in COLUMNS.items()}


def key_of(header: str) -> str:
    """How headers are compared: spacing and case do not matter."""
    return _key(header)


def _key(header: str) -> str:
    return " ".join(header.split()).casefold()


def renamed_headers(header_row: Sequence[str]) -> list[tuple[int, str]]:
    """Headers of an earlier release in staff's header row, as (column, today's name): only
    where today's name is not in the row already (a column staff named so is left alone)."""
    present = {_key(cell) for cell in header_row}
    old_names = {_key(old): new for old, new in RENAMED_HEADERS.items()}
    return [
        (index, old_names[_key(cell)])
        for index, cell in enumerate(header_row)
        if _key(cell) in old_names and _key(old_names[_key(cell)]) not in present
    ]


def missing_headers(header_row: Sequence[str]) -> list[str]:
    """Our headers that staff's header row lacks (to be added at its end, never dropped)."""
    present = {_key(cell) for cell in header_row}
    return [name for name in HEADERS if _key(name) not in present]


_NOT_DATA = frozenset({" ".join(n.split()).casefold() for n in (DECISION_HEADER, NOTES_HEADER)})


def data_runs(header_row: Sequence[str], values: Mapping[str, str]) -> list[tuple[int, list[str]]]:
    """The row's values under our data columns only, as runs of adjacent cells (start, values).

    Staff's own columns, the decision and the system notes are never part of a run, so an
    update in place leaves them as they are.
    """
    # The event's own questions' columns are the service's data too (their labels never equal
    # a service header: the staff pages refuse it); the decision and notes columns never are.
    by_key = {name: value for name, value in values.items() if _key(name) not in _NOT_DATA}
    by_key = {_key(name): value for name, value in by_key.items()}
    runs: list[tuple[int, list[str]]] = []
    seen: set[str] = set()
    for index, cell in enumerate(header_row):
        key = _key(cell)
        if key not in by_key or key in seen:
            continue
        seen.add(key)
        if runs and runs[-1][0] + len(runs[-1][1]) == index:
            runs[-1][1].append(by_key[key])
        else:
            runs.append((index, [by_key[key]]))
    return runs


def service_columns(header_row: Sequence[str]) -> list[int]:
    """The columns of staff's header row that the service writes (0-based, in order)."""
    return [index for index, cell in enumerate(header_row) if _key(cell) in SERVICE_KEYS]


def header_index(header_row: Sequence[str], name: str) -> int | None:
    """The column of `name` in the header row (first match; spacing and case ignored)."""
    wanted = _key(name)
    return next((i for i, cell in enumerate(header_row) if _key(cell) == wanted), None)


def place(header_row: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """One row laid out under staff's current headers; their own columns stay empty."""
    by_key = {_key(name): value for name, value in values.items()}
    cells: list[str] = []
    seen: set[str] = set()
    for cell in header_row:
        key = _key(cell)
        cells.append(by_key.get(key, "") if key not in seen else "")
        seen.add(key)
    while cells and cells[-1] == "":
        cells.pop()
    return cells
