"""The summary staff read: pure counting, rendered as sheet rows (numbers as numbers) or text.

Written live whenever the counts change (at most once per worker round) and once more at the
close-off, with the closing time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkin.presence import attendance_counts
from registrations.event import Event
from registrations.models import EventState, Participation, Registration
from registrations.participation import COUNTED, participation_count_key
from registrations.polish import date_text, datetime_pl, overbooked
from registrations.powiaty import POWIATY, fold
from registrations.schema import DIET_LABELS, Diet
from registrations.status import Status
from sheets.rows import neutralise
from sheets.sink import Sink, SinkError, SummaryTable
from staff.question_summary import answer_counts
from store import Store


@dataclass(frozen=True)
class Summary:
    event: Event
    made_at: datetime
    closed_at: datetime | None  # set in the close-off's summary
    per_status: dict[Status, int]
    seats_left: int
    per_powiat: list[tuple[str, int]]
    per_enterprise: list[tuple[str, int]]
    nights: int
    diets: list[tuple[str, int]]
    diet_notes: list[tuple[str, str]]
    special_needs: list[tuple[str, str]]
    waiting_list: list[tuple[str, str]]  # name, enterprise, in the order they move up
    # `Potwierdzenie udziału` counted (issue 19): answers and open offers; empty before any.
    participation: dict[str, int] = field(default_factory=dict)
    # (day, present, absent) of each day of the event that has ended (`checkin.absences`).
    attendance: list[tuple[date, int, int]] = field(default_factory=list)
    # The event's own questions' counts: (label, rows of [answer, people]) each.
    answers: Sequence[tuple[str, list[list[str | int]]]] = ()

    @property
    def confirmed(self) -> int:
        return self.per_status[Status.CONFIRMED]

    @property
    def waitlisted(self) -> int:
        return self.per_status[Status.WAITLISTED]


def summarise(
    event: Event,
    registrations: Sequence[SummaryRow],
    made_at: datetime,
    closed_at: datetime | None = None,
    answers: Sequence[tuple[str, list[list[str | int]]]] = (),
) -> Summary:
    """Counts over confirmed participants (who travel); the other statuses are counted apart.

    An erased registration counts by its status and powiat only: nothing else of it is left.
    """
    ordered = sorted(registrations, key=lambda r: r.seq)
    statuses = Counter(Status(r.status) for r in ordered)
    powiaty = Counter(POWIATY[r.powiat].label for r in ordered if r.status == Status.CONFIRMED)
    ordered = [r for r in ordered if r.erased_at is None]
    confirmed = [r for r in ordered if r.status == Status.CONFIRMED]
    enterprises: Counter[str] = Counter()
    names: dict[str, str] = {}
    for r in confirmed:
        names.setdefault(r.enterprise_key, r.enterprise_name)
        enterprises[r.enterprise_key] += 1
    diets = Counter(Diet(r.diet) for r in confirmed)
    return Summary(
        event=event,
        made_at=made_at,
        closed_at=closed_at,
        per_status={status: statuses[status] for status in Status},
        seats_left=max(event.capacity - statuses[Status.CONFIRMED], 0),
        per_powiat=sorted(powiaty.items()),
        per_enterprise=sorted(((names[k], n) for k, n in enterprises.items()), key=_by_name),
        nights=sum(r.accommodation for r in confirmed),
        diets=[(DIET_LABELS[d], diets[d]) for d in Diet if diets[d]],
        diet_notes=[(r.full_name, r.diet_other) for r in confirmed if r.diet_other],
        special_needs=[(r.full_name, r.special_needs) for r in confirmed if r.special_needs],
        waiting_list=[
            (r.full_name, r.enterprise_name) for r in ordered if r.status == Status.WAITLISTED
        ],
        participation=dict(Counter(r.participation for r in ordered if r.participation)),
        answers=answers,
    )


def _by_name(item: tuple[str, int]) -> str:
    return item[0].casefold()


@dataclass(frozen=True)
class SummarySection:
    """One part of the summary: a heading, the two columns' names, and its rows."""

    heading: str | None
    columns: tuple[str, str] | None
    rows: list[list[str | int]]


def summary_sections(summary: Summary, *, numbers_only: bool = False) -> list[SummarySection]:
    """The summary in sections, as the sheet, the text and the HTML e-mail show it. A section
    with nothing to list is left out (no heading over nothing), but for special needs and the
    waiting list, whose `(brak)` is news.

    `numbers_only`: counts only, as kept after the event's registrations are erased: no
    section that names a person or an enterprise (diet notes, the enterprises, special needs,
    the waiting list), just how many enterprises there were.
    """
    event = summary.event
    head: list[list[str | int]] = [
        ["Podsumowanie zapisów", event.title],
        ["Termin zgłoszeń", f"{date_text(event.registration_deadline)} (do końca dnia)"],
    ]
    if summary.closed_at is not None:
        head.append(["Zamknięcie zapisów", _local(event, summary.closed_at)])
    head.append(["Stan na", _local(event, summary.made_at)])
    seats: list[list[str | int]] = [
        ["Liczba miejsc", event.capacity],
        ["Uczestnicy potwierdzeni", summary.confirmed],
        ["Wolne miejsca", summary.seats_left],
        ["Obłożenie", overbooked(summary.confirmed, event.capacity)],
        ["Lista rezerwowa", summary.waitlisted],
        ["Rezygnacje", summary.per_status[Status.CANCELLED]],
        ["Odrzucone", summary.per_status[Status.REJECTED]],
    ]
    if event.accommodation_label:
        seats.append([night_label(event), summary.nights])
    if summary.participation:  # once a reminder or an offer went out
        seats += [[label, summary.participation.get(key, 0)] for key, label in COUNTED.items()]
    sections = [
        SummarySection(None, None, head),
        SummarySection("Miejsca", None, seats),
        SummarySection("Dieta", ("Dieta", "Liczba osób"), _pairs(summary.diets)),
    ]
    if not numbers_only:
        notes = _pairs(summary.diet_notes)
        sections.append(SummarySection("Uwagi do diety", ("Uczestnik", "Uwagi"), notes))
    sections.append(SummarySection("Powiat", ("Powiat", "Liczba osób"), _pairs(summary.per_powiat)))
    if summary.attendance:  # the days that have ended: present and absent (issue 20)
        sections.append(attendance_section(summary.attendance) or SummarySection(None, None, []))
    sections += [
        SummarySection(label, (label, "Liczba osób"), rows) for label, rows in summary.answers
    ]
    if numbers_only:
        count: list[list[str | int]] = [
            ["Przedsiębiorstwa społeczne (liczba)", len(summary.per_enterprise)]
        ]
        sections.append(SummarySection(None, None, count))
        return [section for section in sections if section.rows]
    enterprises = _pairs(summary.per_enterprise)
    sections.append(
        SummarySection(
            "Przedsiębiorstwa społeczne", ("Przedsiębiorstwo społeczne", "Liczba osób"), enterprises
        )
    )
    sections = [section for section in sections if section.rows]
    needs = _pairs(summary.special_needs) or [["(brak)", ""]]
    sections.append(SummarySection("Szczególne potrzeby", ("Uczestnik", "Potrzeby"), needs))
    waiting: list[list[str | int]] = [
        [f"{n}. {name}", enterprise]
        for n, (name, enterprise) in enumerate(summary.waiting_list, start=1)
    ] or [["(pusta)", ""]]
    sections.append(
        SummarySection(
            "Lista rezerwowa (w kolejności)", ("Uczestnik", "Przedsiębiorstwo społeczne"), waiting
        )
    )
    return sections


def night_label(event: Event) -> str:
    """The night's row: its label as the event file names it, said once (`Nocleg w
    Lubniewicach z 27 na 28 sierpnia 2018`, never `Nocleg: Nocleg w …`)."""
    label = event.accommodation_label or ""
    return label if fold(label).startswith("nocleg") else f"Nocleg: {label}"


def summary_table(summary: Summary, *, numbers_only: bool = False) -> SummaryTable:
    """The summary as sheet rows: a label column and a value column, sections between blanks,
    each headed by its name (or its two columns' names)."""
    rows: SummaryTable = []
    for section in summary_sections(summary, numbers_only=numbers_only):
        if rows:
            rows.append([])
        if section.columns is not None:
            rows.append(list(section.columns))
        elif section.heading is not None and section.heading != "Miejsca":
            rows.append([section.heading])
        rows += section.rows
    return rows


def _pairs(items: Sequence[tuple[str, str | int]]) -> list[list[str | int]]:
    return [[label, value] for label, value in items]


def sheet_rows(summary: Summary | SummaryTable) -> SummaryTable:
    """The table as it goes to the sheet: text a participant typed can never run."""
    table = summary if isinstance(summary, list) else summary_table(summary)
    return [[neutralise(c) if isinstance(c, str) else c for c in row] for row in table]


def summary_text(summary: Summary) -> str:
    """The summary as plain text, for the staff e-mail's text part."""
    lines: list[str] = []
    for section in summary_sections(summary):
        if lines:
            lines.append("")
        if section.heading is not None:
            lines += [section.heading.upper(), ""]
        for label, *rest in section.rows:
            value = rest[0] if rest else ""
            lines.append(f"{label}: {value}" if value != "" else str(label))
    return "\n".join(lines)


def summary_html(summary: Summary) -> Markup:
    """The summary for the staff e-mail's HTML part: a heading and a table per section."""
    parts = []
    for section in summary_sections(summary):
        if section.heading is not None:
            parts.append(Markup("<h2>{}</h2>").format(section.heading))
        head = Markup("")
        if section.columns is not None:
            head = Markup(
                '<thead><tr><th scope="col" align="left">{}</th>'
                '<th scope="col" align="left">{}</th></tr></thead>'
            ).format(*section.columns)
        body = Markup("").join(
            Markup('<tr><th scope="row" align="left">{}</th><td>{}</td></tr>').format(
                label, rest[0] if rest else ""
            )
            for label, *rest in section.rows
        )
        parts.append(Markup("<table>{}<tbody>{}</tbody></table>").format(head, body))
    return Markup("").join(parts)


def fingerprint(summary: Summary | SummaryTable) -> str:
    """What the summary says, apart from when it was made: rewritten only when this changes."""
    table = summary if isinstance(summary, list) else summary_table(summary)
    rows = [row for row in table if not row or row[0] != "Stan na"]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def _local(event: Event, moment: datetime) -> str:
    return datetime_pl(event.local(moment))


class SummaryRow(NamedTuple):
    """A registration as a summary reads it: only these columns, as a plain tuple.

    The worker summarises every round; 10 000 ORM rows (even with only these columns loaded)
    cost the gunicorn worker some 20 MiB, these tuples a fraction of it.
    """

    seq: int
    status: str
    powiat: str
    erased_at: datetime | None
    enterprise_key: str
    enterprise_name: str
    diet: str
    diet_other: str | None
    accommodation: bool
    first_name: str
    last_name: str
    special_needs: str | None
    # Its `Potwierdzenie udziału` (issue 19), as the sheet's column says it.
    participation: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def summary_rows(session: Session, event: Event) -> list[SummaryRow]:
    """The event's registrations, each with what a summary reads, in order of arrival."""
    fields = [name for name in SummaryRow._fields if name != "participation"]
    columns = [getattr(Registration, name) for name in fields]
    query = (
        select(
            *columns,
            Participation.answer,
            Participation.offer_state,
            Participation.first_reminder_at,
        )
        .outerjoin(Participation, Participation.registration_id == Registration.id)
        .where(Registration.event_slug == event.slug)
    )
    return [
        SummaryRow._make([*row[:-3], participation_count_key(row[1], *row[-3:])])
        for row in session.execute(query.order_by(Registration.seq))
    ]


def registrations_of(store: Store, event: Event) -> list[SummaryRow]:
    """`summary_rows` from a snapshot: no writer waits for it."""
    with store.reading() as session:
        return summary_rows(session, event)


def answers_of(store: Store, event: Event) -> list[tuple[str, list[list[str | int]]]]:
    """The counts of the event's own questions (`staff.question_summary`), from a snapshot."""
    with store.reading() as session:
        return answer_counts(session, event)


class LiveSummary:
    """The worker's job: the summary worksheet follows the counts as they change."""

    def __init__(
        self, store: Store, sink: Sink, clock: Callable[[], datetime], logger: logging.Logger
    ) -> None:
        self.store = store
        self.sink = sink
        self.clock = clock
        self.logger = logger

    def run(self, events: Sequence[Event]) -> None:
        for event in events:
            try:
                self.refresh(event)
            except SinkError as exc:  # the sync reports Google's problems; try next round
                self.logger.debug("summary of %s not written: %s", event.slug, exc)

    def refresh(self, event: Event) -> bool:
        """Rewrite the event's summary if its counts changed; True when it was written."""
        registrations = registrations_of(self.store, event)
        if not registrations:
            return False
        with self.store.transaction() as session:
            state = session.get(EventState, event.slug)
            closed_at = state.summary_written_at if state else None  # set by the close-off
            known = state.summary_fingerprint if state else None
            kept = state.kept_summary if state else None  # the numbers kept at the purge
        if kept is not None:
            table: Summary | SummaryTable = json.loads(kept)
        else:
            table = summarise(
                event,
                registrations,
                self.clock(),
                closed_at=closed_at,
                answers=answers_of(self.store, event),
            )
            with self.store.reading() as session:
                table = with_attendance(table, session, self.clock())
        mark = fingerprint(table)
        if mark == known:
            return False
        self.sink.write_summary(event, sheet_rows(table))
        record_fingerprint(self.store, event, mark)
        return True


def attendance_section(counts: Sequence[tuple[date, int, int]]) -> SummarySection | None:
    """The summary's `Obecność` section: present and absent per day that has ended."""
    if not counts:
        return None
    rows: list[list[str | int]] = []
    for day, present, absent in counts:
        rows.append([f"Obecni {day:%d.%m}", present])
        rows.append([f"Nieobecni {day:%d.%m}", absent])
    return SummarySection("Obecność", None, rows)


def with_attendance(summary: Summary, session: Session, now: datetime) -> Summary:
    """The summary with the days' presence counts (the summary worksheet and e-mails)."""
    counts = attendance_counts(session, summary.event, now)
    return dataclasses.replace(summary, attendance=counts) if counts else summary


def record_fingerprint(store: Store, event: Event, mark: str) -> None:
    with store.transaction() as session:
        state = session.get(EventState, event.slug, with_for_update=True)
        if state is not None:
            state.summary_fingerprint = mark
