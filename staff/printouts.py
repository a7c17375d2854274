"""What the printed lists say: the attendance list per day, the badges, and the other lists'
tables as PDF documents. Pure: the drawing is `staff.pdf`'s, the files the command's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from babel.dates import format_date

from registrations.dates import date_pl, datetime_pl, event_dates
from registrations.event import Event
from registrations.models import Registration
from staff import exports
from staff.exports import Table
from staff.pdf import Badge, Block, Document, Section

# Lp., name, enterprise, powiat, signature, in mm of a portrait page's 186: long enterprise
# names wrap, and there is room to sign.
ATTENDANCE_WIDTHS = (10.0, 44.0, 50.0, 40.0, 42.0)
SIGNATURE_ROW_HEIGHT = 11.0  # mm
# Lists with many columns are printed across the page and in smaller type.
LANDSCAPE = {"participants"}
FONT_SIZES = {"participants": 8.0, "rooming": 9.0}


def attendance_document(
    event: Event, registrations: Sequence[exports.Listed], made_at: datetime
) -> Document:
    """One section per day of the event, each with every confirmed participant to sign."""
    block = Block(
        exports.attendance(event, registrations),
        widths=ATTENDANCE_WIDTHS,
        min_row_height=SIGNATURE_ROW_HEIGHT,
    )
    days = event_days(event)
    sections = tuple(
        Section(day_heading(day, n, len(days)), (block,)) for n, day in enumerate(days, start=1)
    )
    return _document(exports.TITLES["attendance"], event, made_at, sections)


def table_document(
    kind: str, event: Event, registrations: Sequence[Registration], made_at: datetime
) -> Document:
    """One of the lists that also come as CSV and XLSX, with the same table."""
    table = exports.LISTS[kind](event, registrations)
    section = Section("", tuple(Block(part) for part in split_tables(table)))
    return _document(
        exports.TITLES[kind],
        event,
        made_at,
        (section,),
        landscape=kind in LANDSCAPE,
        font_size=FONT_SIZES.get(kind, 10.0),
    )


def badges(registrations: Sequence[exports.Listed]) -> list[Badge]:
    """A badge for each confirmed participant, in the attendance list's order."""
    return [
        Badge(r.first_name, r.last_name, r.enterprise_name)
        for r in exports.alphabetical(registrations)
    ]


def badge_caption(event: Event) -> str:
    return event.short_title or event.title


def event_days(event: Event) -> list[date]:
    length = (event.ends_on - event.starts_on).days + 1
    return [event.starts_on + timedelta(days=n) for n in range(length)]


def day_heading(day: date, number: int, count: int) -> str:
    """`Dzień 1 z 2: poniedziałek, 27 sierpnia 2018` (the date alone for a one-day event)."""
    dated = f"{format_date(day, 'EEEE', locale='pl')}, {date_pl(day)}"
    return dated if count == 1 else f"Dzień {number} z {count}: {dated}"


def split_tables(table: Table) -> list[Table]:
    """The tables an export stacks with empty rows between them (catering: portions, then diet
    notes), each with its own header row."""
    parts: list[Table] = [[]]
    for row in table:
        if row:
            parts[-1].append(row)
        elif parts[-1]:
            parts.append([])
    return [part for part in parts if part]


def _document(
    title: str,
    event: Event,
    made_at: datetime,
    sections: tuple[Section, ...],
    landscape: bool = False,
    font_size: float = 10.0,
) -> Document:
    return Document(
        title=title,
        lines=(event.title, f"Termin: {event_dates(event)}", f"Miejsce: {event.venue}"),
        footer=f"{badge_caption(event)} · stan na {datetime_pl(event.local(made_at))}",
        sections=sections,
        made_at=made_at,
        landscape=landscape,
        font_size=font_size,
    )
