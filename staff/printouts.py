"""What the printed lists say: the attendance list per day, the badges, and the other lists'
tables as PDF documents. Pure but for reading the logo strip: the drawing is `staff.pdf`'s, the
files the command's.

Every text goes to the PDF with a non-breaking space after each one-letter word, and phone
numbers in one piece, so no line ends with `w` and no number is split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from registrations.event import Event
from registrations.models import Registration
from registrations.polish import datetime_pl, event_dates_text, nbsp, unbroken, weekday_date
from staff import exports
from staff.exports import Table
from staff.pdf import Badge, Block, Document, Section, reencoded_logo

# Lp., name, enterprise, powiat, signature, in mm of a portrait page's 186: long enterprise
# names wrap, and there is room to sign.
ATTENDANCE_WIDTHS = (10.0, 44.0, 50.0, 40.0, 42.0)
SIGNATURE_ROW_HEIGHT = 11.0  # mm
ORGANISER_SIGNATURE = "Podpis osoby prowadzącej listę w imieniu organizatora"
# Lists with many columns are printed across the page and in smaller type.
LANDSCAPE = {"participants"}
FONT_SIZES = {"participants": 8.0, "rooming": 9.0}
PHONE_HEADERS = ("Telefon",)


def attendance_document(
    event: Event,
    registrations: Sequence[exports.Listed],
    made_at: datetime,
    logo: Path | None = None,
    *,
    marks: Mapping[int, Mapping[date, str]] | None = None,
) -> Document:
    """One section per day of the event, each with every confirmed participant to sign, blank
    numbered rows for substitutes and the organiser's signature: what a signed list of an
    EU-funded project needs (the project's name and number and its logo strip, when given).
    `marks` (by `seq`, then day): what the signature cell says, the presence recorded on the
    day (`obecność 08:42`, `nieobecność`), beside which the person signs."""
    table = exports.attendance(event, registrations)

    def block(day: date) -> Block:
        rows = table
        if marks is not None:
            listed = exports.alphabetical(registrations)
            rows = [table[0]]
            for n, row in enumerate(table[1:]):
                mark = marks.get(listed[n].seq, {}).get(day, "") if n < len(listed) else None
                rows.append(row if mark is None else [*row[:-1], mark])
        return Block(
            printable_table(rows), widths=ATTENDANCE_WIDTHS, min_row_height=SIGNATURE_ROW_HEIGHT
        )

    days = event.days
    sections = tuple(
        Section(day_heading(day, n, len(days), event.venue), (block(day),), (ORGANISER_SIGNATURE,))
        for n, day in enumerate(days, start=1)
    )
    return _document(
        exports.TITLES["attendance"],
        event,
        made_at,
        sections,
        project=True,
        logo=reencoded_logo(logo) if logo is not None else None,
    )


def table_document(
    kind: str,
    event: Event,
    registrations: Sequence[Registration],
    made_at: datetime,
    table: Table | None = None,
) -> Document:
    """One of the lists that also come as CSV and XLSX, with the same table (given, or made)."""
    if table is None:
        table = exports.LISTS[kind](event, registrations)
    caption = exports.CAPTIONS[kind](event) if kind in exports.CAPTIONS else None
    blocks = tuple(Block(printable_table(part)) for part in split_tables(table))
    return _document(
        exports.TITLES[kind],
        event,
        made_at,
        (Section(nbsp(caption or ""), blocks),),
        landscape=kind in LANDSCAPE,
        font_size=FONT_SIZES.get(kind, 10.0),
    )


def printable_table(table: Table) -> list[list[str]]:
    """A list's table as the PDF sets it: text, one-letter words bound to the next, phone
    numbers never broken."""
    header = [str(cell) for cell in table[0]] if table else []
    phones = {n for n, name in enumerate(header) if name in PHONE_HEADERS}
    return [
        [
            unbroken(str(cell)) if n in phones and number else nbsp(str(cell))
            for n, cell in enumerate(row)
        ]
        for number, row in enumerate(table)
    ]


def badges(
    registrations: Sequence[exports.Listed],
    codes: Mapping[int, tuple[str, bytes]] | None = None,
) -> list[Badge]:
    """A badge for each confirmed participant, in the attendance list's order; a badge of
    someone who gave no image consent says so (for the photographer)."""
    return [
        Badge(
            r.first_name,
            r.last_name,
            nbsp(r.enterprise_name),
            "" if r.consent_image else exports.NO_IMAGE_CONSENT,
            *((codes[r.seq][1], codes[r.seq][0]) if codes and r.seq in codes else ()),
        )
        for r in exports.alphabetical(registrations)
    ]


def badge_caption(event: Event) -> str:
    return event.short_title or event.title


def day_heading(day: date, number: int, count: int, place: str) -> str:
    """`Dzień 1 z 2: poniedziałek, 27 sierpnia 2018 r. – Lubniewice` (without `Dzień …` for a
    one-day event)."""
    dated = nbsp(f"{weekday_date(day)} – {place}")
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
    project: bool = False,
    logo: bytes | None = None,
) -> Document:
    lines = [event.title, f"Termin: {event_dates_text(event)}", f"Miejsce: {event.venue}"]
    if project and event.project_name:
        lines.append(f"Projekt: {event.project_name}")
    if project and event.project_number:
        lines.append(f"Numer projektu: {event.project_number}")
    return Document(
        title=title,
        lines=tuple(nbsp(line) for line in lines),
        footer=f"{badge_caption(event)} · stan na {datetime_pl(event.local(made_at))}",
        sections=sections,
        made_at=made_at,
        landscape=landscape,
        font_size=font_size,
        logo=logo,
    )
