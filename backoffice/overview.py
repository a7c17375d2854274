"""What the staff pages show about each event: its state, seats, waiting list and links (one
read of the counts and the state rows for every event at once)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalogue.catalogue import Entry
from config.services import Services, services
from registrations.models import EventState, Registration
from registrations.polish import datetime_pl
from registrations.status import Status
from registrations.window import RegistrationState, Window

DRAFT = "szkic"
OPEN = "opublikowane – zapisy otwarte"
NOT_YET_OPEN = "opublikowane – zapisy od {}"
CLOSED = "zapisy zamknięte"
SUMMARY_SENT = "zapisy zamknięte – podsumowanie wysłane"
FROM_FILE = "z pliku"


@dataclass(frozen=True)
class Overview:
    """One event on the staff pages."""

    entry: Entry
    state: EventState | None
    window: Window
    counts: Counter[str]  # registrations with personal data, by status

    @property
    def event_state_label(self) -> str:
        if self.entry.draft:
            return DRAFT
        if self.state is not None and self.state.closed_off_at is not None:
            return SUMMARY_SENT
        state = self.window.state
        if state is RegistrationState.CLOSED:
            return CLOSED
        if state is RegistrationState.NOT_YET_OPEN:
            opens_at = self.entry.event.registration_opens_at
            assert opens_at is not None
            return NOT_YET_OPEN.format(datetime_pl(self.entry.event.local(opens_at)))
        return OPEN

    @property
    def confirmed(self) -> int:
        return self.counts[Status.CONFIRMED.value]

    @property
    def waitlisted(self) -> int:
        return self.counts[Status.WAITLISTED.value]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def closing(self) -> bool:
        """A close-off began (forced, or at the deadline)."""
        return self.state is not None and (
            self.state.closing_started_at is not None or self.state.closed_off_at is not None
        )


def overviews(session: Session, entries: list[Entry], now: datetime) -> list[Overview]:
    """Every event's overview, from two queries."""
    slugs = [entry.slug for entry in entries]
    states = {
        state.slug: state
        for state in session.scalars(select(EventState).where(EventState.slug.in_(slugs)))
    }
    counts: dict[str, Counter[str]] = {slug: Counter() for slug in slugs}
    query = (
        select(Registration.event_slug, Registration.status, func.count())
        .where(Registration.event_slug.in_(slugs), Registration.erased_at.is_(None))
        .group_by(Registration.event_slug, Registration.status)
    )
    for slug, status, n in session.execute(query):
        counts[slug][status] = n
    result = []
    for entry in entries:
        state = states.get(entry.slug)
        closing = state.closing_started_at if state is not None else None
        window = Window(entry.event, now, closing)
        result.append(Overview(entry, state, window, counts[entry.slug]))
    return result


def entry_or_404(slug: str) -> Entry:
    """The event (a draft too) as this request's catalogue has it, or a 404."""
    entry = services().catalogue.current().entry(slug)
    if entry is None:
        abort(404)
    return entry


def overview_of(svc: Services, entry: Entry) -> Overview:
    with svc.store.reading() as session:
        return overviews(session, [entry], svc.now())[0]
