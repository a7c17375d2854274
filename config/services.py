"""What the application factory wires together, reachable from handlers and commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app

from config.settings import Settings
from registrations.event import Event

if TYPE_CHECKING:
    from sheets.sink import Sink
    from sheets.worker import Worker
    from store import Store

Clock = Callable[[], datetime]
EXTENSION_KEY = "owes"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    events: dict[str, Event]
    store: Store
    sink: Sink
    clock: Clock
    instance_path: Path
    worker: Worker = field(init=False)  # built from the other services

    def event(self, slug: str) -> Event:
        """The event, or a 404 for an unknown slug."""
        event = self.events.get(slug)
        if event is None:
            abort(404)
        return event

    def now(self) -> datetime:
        return self.clock()


def services(app: Flask | None = None) -> Services:
    """The current application's services."""
    found: Services = (app or current_app).extensions[EXTENSION_KEY]
    return found
