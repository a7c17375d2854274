"""Engine and transactions: SQLite (WAL, serialised writers) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from registrations.models import Base, EventState
from store import models as _bookkeeping  # noqa: F401  (its tables join Base.metadata)


def _make_engine(url: str) -> Engine:
    # hide_parameters: a failed statement's error never carries a participant's PESEL or e-mail
    # into the log.
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of pysqlite's hands so that `BEGIN IMMEDIATE` below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # One writer at a time: seat allocation reads and writes in one serialised transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Store:
    """The database, with short transactions handed out as sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    def create_schema(self, event_slugs: Iterable[str] = ()) -> None:
        """Create missing tables and one state row per event (the seat-allocation lock).

        Several processes may start at once (gunicorn workers): the loser of a race retries.
        """
        slugs = list(event_slugs)
        for attempt in range(3):
            try:
                Base.metadata.create_all(self.engine)
                with self.transaction() as session:
                    known = set(session.scalars(select(EventState.slug)))
                    session.add_all(EventState(slug=slug) for slug in slugs if slug not in known)
                return
            except (IntegrityError, ProgrammingError):
                if attempt == 2:
                    raise

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
