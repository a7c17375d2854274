"""The event summary staff read at close-off: pure counting, rendered as rows or as text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from registrations.event import Event
from registrations.models import Registration
from registrations.powiaty import POWIATY
from registrations.schema import DIET_LABELS, Diet
from registrations.status import Status

Table = list[list[str]]


@dataclass(frozen=True)
class Summary:
    event: Event
    made_at: datetime
    confirmed: int
    waitlisted: int
    seats_left: int
    per_powiat: list[tuple[str, int]]
    per_enterprise: list[tuple[str, int]]
    nights: int
    diets: list[tuple[str, int]]
    special_needs: list[tuple[str, str]]


def summarise(event: Event, registrations: Sequence[Registration], made_at: datetime) -> Summary:
    """Counts over confirmed participants (who travel); the waiting list is counted apart."""
    confirmed = [r for r in registrations if r.status == Status.CONFIRMED]
    waitlisted = sum(r.status == Status.WAITLISTED for r in registrations)
    powiaty = Counter(POWIATY[r.powiat].label for r in confirmed)
    enterprises: Counter[str] = Counter()
    names: dict[str, str] = {}
    for r in confirmed:
        names.setdefault(r.enterprise_key, r.enterprise_name)
        enterprises[r.enterprise_key] += 1
    diets = Counter(Diet(r.diet) for r in confirmed)
    return Summary(
        event=event,
        made_at=made_at,
        confirmed=len(confirmed),
        waitlisted=waitlisted,
        seats_left=max(event.capacity - len(confirmed), 0),
        per_powiat=sorted(powiaty.items()),
        per_enterprise=sorted(((names[k], n) for k, n in enterprises.items()), key=_by_name),
        nights=sum(r.accommodation for r in confirmed),
        diets=[(DIET_LABELS[d], diets[d]) for d in Diet if diets[d]],
        special_needs=[(r.full_name, r.special_needs) for r in confirmed if r.special_needs],
    )


def _by_name(item: tuple[str, int]) -> str:
    return item[0].casefold()


def summary_table(summary: Summary) -> Table:
    """The summary as sheet rows: a label column and a value column, sections between blanks."""
    event = summary.event
    made_at = event.local(summary.made_at).strftime("%Y-%m-%d %H:%M")
    rows: Table = [
        ["Podsumowanie zapisów", event.title],
        ["Termin zgłoszeń", f"{event.registration_deadline.isoformat()} (do końca dnia)"],
        ["Zamknięcie zapisów", made_at],
        [],
        ["Uczestnicy potwierdzeni", str(summary.confirmed)],
        ["Lista rezerwowa", str(summary.waitlisted)],
        ["Wolne miejsca", str(summary.seats_left)],
        ["Liczba miejsc", str(event.capacity)],
    ]
    if event.accommodation_label:
        rows.append([f"Nocleg: {event.accommodation_label}", str(summary.nights)])
    rows += [[], ["Dieta", "Liczba osób"], *([label, str(n)] for label, n in summary.diets)]
    rows += [[], ["Powiat", "Liczba osób"], *([name, str(n)] for name, n in summary.per_powiat)]
    rows += [[], ["Przedsiębiorstwo społeczne", "Liczba osób"]]
    rows += [[name, str(n)] for name, n in summary.per_enterprise]
    rows += [[], ["Szczególne potrzeby", ""]]
    rows += [[name, need] for name, need in summary.special_needs] or [["(brak)", ""]]
    return rows


def summary_text(summary: Summary) -> str:
    """The same table as plain text, for the staff e-mail."""
    lines = []
    for row in summary_table(summary):
        if not row:
            lines.append("")
        elif len(row) == 1 or not row[1]:
            lines.append(row[0])
        else:
            lines.append(f"{row[0]}: {row[1]}")
    return "\n".join(lines)
