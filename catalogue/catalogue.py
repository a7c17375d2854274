"""The events in force: event files (read at start-up, read-only) and events made in the staff
pages (kept in the store, each save a version), merged into one catalogue every reader asks.

Each process holds a snapshot of it. Every change of a stored event increases one number in the
store, the catalogue's revision, in the change's own transaction. `current()` reads that number
(one read by primary key) at most once per request, worker round or command, and loads the
events again only when it changed: a save is in force at the next request of every process,
without a restart. `cached()` reads nothing: for the registration's hot path, whose event is
checked again under the event's lock (`registrations.allocation.lock_event`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from flask import has_request_context, request
from pydantic import ValidationError
from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from registrations.event import Event
from registrations.models import EventState, EventVersion
from store.db import Store
from store.models import CatalogueRevision

REVISION_ROW = 1
_REQUEST_KEY = "owes.catalogue"  # the request's snapshot, in its WSGI environ


class Origin(StrEnum):
    FILE = "file"  # an event file: read-only in the pages (`z pliku`)
    STORE = "store"  # made in the staff pages


@dataclass(frozen=True)
class Entry:
    """One event as the catalogue knows it."""

    event: Event
    origin: Origin
    published: bool  # an event file's always is
    path: Path | None = None  # the event file's

    @property
    def slug(self) -> str:
        return self.event.slug

    @property
    def draft(self) -> bool:
        return not self.published

    @property
    def from_file(self) -> bool:
        return self.origin is Origin.FILE


@dataclass(frozen=True)
class Snapshot:
    """The catalogue at one revision: every event in date order, and the published ones."""

    revision: int
    entries: Mapping[str, Entry]
    live: Mapping[str, Event] = field(init=False)

    def __post_init__(self) -> None:
        live = {slug: entry.event for slug, entry in self.entries.items() if entry.published}
        object.__setattr__(self, "live", live)

    def entry(self, slug: str) -> Entry | None:
        return self.entries.get(slug)


class CatalogueError(Exception):
    """The store and the event files disagree; the message names the file to deal with."""


class EventCatalogue:
    """The process's view of the events in force; safe to share between threads."""

    def __init__(self, store: Store, files: Mapping[str, Event], folder: Path) -> None:
        self.store = store
        self.files = dict(files)
        self.folder = folder
        self._snapshot: Snapshot | None = None
        self._loading = threading.Lock()
        self._pinned = threading.local()

    def check(self) -> Snapshot:
        """Start-up: load the stored events; an event file whose slug is in the store stops it."""
        snapshot = self._read()
        for slug, entry in snapshot.entries.items():
            if entry.origin is Origin.STORE and slug in self.files:
                raise CatalogueError(
                    f"{self.folder / (slug + '.toml')}: the event {slug!r} is also kept in the "
                    "store (made in the staff pages): remove or rename this file"
                )
        return snapshot

    def current(self) -> Snapshot:
        """The catalogue as of this request, worker round or command (at most one read each)."""
        pinned: Snapshot | None = getattr(self._pinned, "snapshot", None)
        if pinned is not None:
            return pinned
        if has_request_context():
            memo: Snapshot | None = request.environ.get(_REQUEST_KEY)
            if memo is None:
                memo = request.environ[_REQUEST_KEY] = self.fresh()
            return memo
        return self.fresh()

    def cached(self) -> Snapshot:
        """What this process last read, reading nothing (the caller checks under the lock)."""
        return self._snapshot or self.current()

    def fresh(self) -> Snapshot:
        """Read the revision now, and the events again when it changed.

        With the database away, what this process read last (at first, the event files alone):
        a page that needs nothing else still shows, and whatever writes answers 503 as before.
        """
        try:
            snapshot = self._read()
        except SQLAlchemyError:
            snapshot = self._snapshot or self._load_files()
        if getattr(self._pinned, "snapshot", None) is not None:
            self._pinned.snapshot = snapshot
        if has_request_context():
            request.environ[_REQUEST_KEY] = snapshot
        return snapshot

    def _read(self) -> Snapshot:
        with self.store.reading() as session:
            revision = _revision(session)
            snapshot = self._snapshot
            if snapshot is None or snapshot.revision != revision:
                with self._loading:  # one thread loads; the others take what it loaded
                    snapshot = self._snapshot
                    if snapshot is None or snapshot.revision != revision:
                        snapshot = self._snapshot = self._load(session, revision)
        return snapshot

    @contextmanager
    def pinned(self) -> Iterator[Snapshot]:
        """One snapshot for everything this thread does inside (a worker round)."""
        self._pinned.snapshot = None
        snapshot = self.fresh()
        self._pinned.snapshot = snapshot
        try:
            yield snapshot
        finally:
            self._pinned.snapshot = None

    def snapshot_in(self, session: Session, revision: int) -> Snapshot:
        """The catalogue as the caller's transaction sees it (a change checks against it)."""
        return self._load(session, revision)

    def live_event(self, slug: str) -> Event | None:
        """The published event as of this request (or round), or None."""
        return self.current().live.get(slug)

    def fresh_live_event(self, slug: str) -> Event | None:
        """The published event as it is now: after a stale version was seen under its lock."""
        return self.fresh().live.get(slug)

    def _file_entries(self) -> list[Entry]:
        return [
            Entry(event, Origin.FILE, published=True, path=self.folder / f"{slug}.toml")
            for slug, event in self.files.items()
        ]

    def _load_files(self) -> Snapshot:
        """The event files alone, never kept: until the store answers (revision -1)."""
        return _ordered(-1, self._file_entries())

    def _load(self, session: Session, revision: int) -> Snapshot:
        entries = self._file_entries()
        query = select(
            EventState.slug, EventState.published_at, EventVersion.version, EventVersion.data
        ).join(
            EventVersion,
            and_(
                EventVersion.slug == EventState.slug,
                EventVersion.version == EventState.event_version,
            ),
        )
        for slug, published_at, version, data in session.execute(query):
            event = _stored(slug, data, version)
            entries.append(Entry(event, Origin.STORE, published=published_at is not None))
        return _ordered(revision, entries)


def _ordered(revision: int, entries: list[Entry]) -> Snapshot:
    ordered = sorted(entries, key=lambda e: (e.event.starts_on, e.slug))
    return Snapshot(revision, {entry.slug: entry for entry in ordered})


def _revision(session: Session) -> int:
    query = select(CatalogueRevision.revision).where(CatalogueRevision.id == REVISION_ROW)
    return session.scalar(query) or 0


def _stored(slug: str, data: str, version: int) -> Event:
    try:
        return Event.stored(slug, json.loads(data), version)
    except (ValueError, ValidationError) as exc:  # saved by a release whose model differed
        raise CatalogueError(
            f"event {slug!r} (version {version} in the store) no longer validates: {exc}"
        ) from exc


def stored_data(event: Event) -> str:
    """What the store keeps of an event: its description as JSON, without the slug."""
    data: dict[str, Any] = event.model_dump(mode="json", exclude={"slug"})
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def bump(session: Session) -> int:
    """Increase the catalogue's revision in the caller's transaction; the new number."""
    row = session.get(CatalogueRevision, REVISION_ROW, with_for_update=True)
    if row is None:
        row = CatalogueRevision(id=REVISION_ROW, revision=0)
        session.add(row)
    row.revision = (row.revision or 0) + 1
    return row.revision
