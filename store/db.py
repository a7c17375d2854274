"""Engine and transactions: SQLite (WAL, serialised writers) by default, PostgreSQL by URL."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store import models as _bookkeeping  # noqa: F401  (its tables join Base.metadata)

BUSY_TIMEOUT_SECONDS = 30
READ_ONLY = "owes_read_only"  # execution option of the connections Store.reading hands out


def _make_engine(url: str) -> Engine:
    # hide_parameters: a failed statement's error never carries a participant's PESEL or e-mail
    # into the log.
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of pysqlite's hands so that `BEGIN IMMEDIATE` below is ours.
        # No journal_mode here: WAL is kept in the file, set once by Store.use_wal, and setting
        # it on every connection failed a new connection when another one was writing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted and overwritten values are zeroed in the file, not left in free space: an
        # erased person's data must not stay readable (see Store.compact).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # One writer at a time: seat allocation reads and writes in one serialised transaction.
        # A read-only transaction (Store.reading) reads a WAL snapshot and waits for no writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class Store:
    """The database, with short transactions handed out as sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The threads of one process queue here for a write transaction. SQLite lets one writer
        # in and makes the others poll with growing sleeps; PostgreSQL has them wait on the
        # event's row lock holding a pooled connection while the holder competes with them for
        # the GIL. Queued here, the next starts the moment the previous one committed. Across
        # processes the database's own lock still decides (BEGIN IMMEDIATE, SELECT … FOR UPDATE).
        self._writers = threading.RLock()
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._between_processes = _WritersFile.beside(url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self._writers, self._between_processes, self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it does not queue behind the writers.

        Writing in it is a mistake (on SQLite it could fail as busy); use `transaction`.
        """
        with self._readers.begin() as session:
            yield session

    def use_wal(self, timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        """Put an SQLite database in WAL mode; it stays so (the mode is kept in the file).

        Switching needs the file to itself for a moment, and while another connection holds
        the write lock SQLite answers "database is locked" at once instead of waiting its busy
        timeout: so this retries until `timeout`. No-op on other databases and when in WAL.
        """
        if self.engine.dialect.name != "sqlite":
            return
        deadline = time.monotonic() + timeout
        while True:
            connection = self.engine.raw_connection()  # autocommit: outside any transaction
            try:
                cursor = connection.cursor()
                try:
                    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
                    if mode in ("wal", "memory"):
                        return
                    cursor.execute("PRAGMA journal_mode=WAL")
                    return
                finally:
                    cursor.close()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            finally:
                connection.close()
            time.sleep(0.05)

    def compact(self) -> bool:
        """After an erasure: leave no old copy of a deleted value in the database's files.

        SQLite: VACUUM rewrites the file without free pages (values deleted before
        `secure_delete` was on included), and a TRUNCATE checkpoint copies the WAL, which holds
        the pages as they were, into the file and empties it. PostgreSQL: VACUUM frees the
        dead row versions of the tables that held the data (the server's own WAL and backups
        are beyond the service's reach; see the README). False when the database was too busy
        (the next erasure compacts it).
        """
        try:
            if self.engine.dialect.name == "sqlite":
                return self._compact_sqlite()
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM registrations, outbox, status_changes"))
        except (sqlite3.Error, SQLAlchemyError):
            return False
        return True

    def _compact_sqlite(self) -> bool:
        connection = self.engine.raw_connection()  # autocommit: outside any transaction
        try:
            cursor = connection.cursor()
            cursor.execute("VACUUM")
            deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
            while cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                if time.monotonic() > deadline:  # a reader kept the WAL in use all along
                    return False
                time.sleep(0.05)
            cursor.close()
        finally:
            connection.close()
        return True

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        self._between_processes.close()


class _WritersFile:
    """SQLite's writers of all processes queue on a file lock beside the database.

    SQLite's own lock makes a waiting writer poll with sleeps of up to 100 ms, so under load a
    writer of one process can lose to the others again and again, for seconds; a waiter on
    `flock` is woken the moment the holder lets go. The database's lock still decides what is
    safe (a writer that does not take this file, e.g. the sqlite3 shell, is merely not queued).
    Re-entrant within a thread, as the process's own lock is; opened per process (after
    gunicorn forks, each worker has its own open file, or the lock would be shared).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fds: dict[int, int] = {}  # pid → its open lock file
        self._depth = threading.local()

    @classmethod
    def beside(cls, url: str) -> _WritersFile:
        parsed = make_url(url)
        database = parsed.database
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return cls(None)
        return cls(Path(database).with_name(Path(database).name + ".writers"))

    def __enter__(self) -> None:
        depth = getattr(self._depth, "value", 0)
        self._depth.value = depth + 1
        if self.path is not None and depth == 0:
            fcntl.flock(self._file(), fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        self._depth.value -= 1
        if self.path is not None and self._depth.value == 0:
            fcntl.flock(self._file(), fcntl.LOCK_UN)

    def _file(self) -> int:
        pid = os.getpid()
        if pid not in self._fds:
            assert self.path is not None
            self._fds = {pid: os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)}
        return self._fds[pid]

    def close(self) -> None:
        for pid, fd in self._fds.items():
            if pid == os.getpid():
                os.close(fd)
        self._fds = {}
