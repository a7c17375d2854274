"""What the application factory wires together, reachable from handlers and commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app

from catalogue.catalogue import EventCatalogue
from config.organisation import Organisation
from config.settings import Settings
from registrations.decision_grace import DecisionGrace
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import Registrations

if TYPE_CHECKING:
    from jobs.worker import Worker
    from sheets.sink import Sink
    from store import Store
    from store.gate import SchemaGate

Clock = Callable[[], datetime]
EXTENSION_KEY = "owes"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    organisation: Organisation
    catalogue: EventCatalogue  # event files and events made in the staff pages
    store: Store
    sink: Sink
    clock: Clock
    instance_path: Path
    registrations: Registrations
    link_for: Callable[[Registration], str]  # the absolute private link of a registration
    gate: SchemaGate = field(init=False)  # the store used once it answered since start
    worker: Worker = field(init=False)  # sheets: sync, decisions, summary, close-off
    mail_worker: Worker = field(init=False)  # the outbox

    @property
    def events(self) -> Mapping[str, Event]:
        """The published events in force (drafts are nobody's but staff's), by slug."""
        return self.catalogue.current().live

    def event(self, slug: str) -> Event:
        """The published event, or a 404 for an unknown slug or a draft."""
        event = self.events.get(slug)
        if event is None:
            abort(404)
        return event

    def event_to_register(self, slug: str) -> Event:
        """The published event as this process last read it, reading nothing from the store:
        registering checks its version under the event's lock (`Registrations.register`), so
        the hot path costs no read. A slug this process does not know is looked up in the
        store before it is a 404 (an event published a moment ago)."""
        event = self.catalogue.cached().live.get(slug)
        return event if event is not None else self.event(slug)

    def now(self) -> datetime:
        return self.clock()

    @property
    def grace(self) -> DecisionGrace:
        """Staff decisions waiting out `DECISION_GRACE_MINUTES` (see `decision_grace`)."""
        return DecisionGrace(self.store, timedelta(minutes=self.settings.decision_grace_minutes))

    def wake_workers(self) -> None:
        """Something changed: sync the sheet and send the e-mails now, not at the next tick."""
        self.worker.wake()
        self.mail_worker.wake()


def services(app: Flask | None = None) -> Services:
    """The current application's services."""
    found: Services = (app or current_app).extensions[EXTENSION_KEY]
    return found
