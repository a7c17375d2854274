"""Engine and transactions: SQLite (WAL, serialised writers) by default, PostgreSQL by URL."""

from __future__ import annotations

import fcntl
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from registrations import answers as _answers  # noqa: F401  (the questions and answers)
from registrations import desk_models as _desk  # noqa: F401  (the staff desk's tables)
from registrations.driver import as_sqlalchemy_errors
from store import models as _bookkeeping  # noqa: F401  (its tables join Base.metadata)

DEFAULT_TIMEOUT_SECONDS = 5.0  # DATABASE_TIMEOUT_SECONDS
RV = TypeVar("RV")
# The tables that hold a person's data (or held it: an erased registration's row versions).
PERSONAL_TABLES = (
    "registrations",
    "outbox",
    "status_changes",
    "link_requests",
    "desk_entries",
    "staff_message_recipients",
    "pending_decisions",
    "participation",
    "registration_answers",
    "checkin_codes",
    "presence",
    "certificates",
)
COMPACT_LOCK_TIMEOUT_MS = 30_000
READ_ONLY = "owes_read_only"  # execution option of the connections Store.reading hands out


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits `deadline_seconds` at most for each answer.

    The server's `statement_timeout` ends a statement that runs too long, but a server that
    stopped answering (a hung process, a network that drops packets) ends nothing, and the
    kernel keeps acknowledging what is sent: only the client can stop waiting. The connection
    is then closed, so the pool replaces it. None: no limit (migrations, VACUUM FULL).
    """

    deadline_seconds: float | None = DEFAULT_TIMEOUT_SECONDS

    def wait(
        self,
        gen: PQGen[RV],
        interval: float = 0.1,  # psycopg's own: how often Ctrl-C is noticed
        timeout: float | None = None,
    ) -> RV:
        limit = timeout if timeout is not None else self.deadline_seconds
        started = time.monotonic()
        try:
            return super().wait(gen, interval, limit)
        except psycopg.OperationalError:
            if timeout is None and limit is not None and time.monotonic() - started >= limit:
                self.pgconn.finish()  # mid-answer: the connection cannot be used again
                raise psycopg.OperationalError(
                    f"the database did not answer within {limit:g} s"
                ) from None
            raise


def _make_engine(url: str, timeout: float) -> Engine:
    # hide_parameters: a failed statement's error never carries a participant's PESEL or e-mail
    # into the log. pool_timeout: a request waits that long at most for a pooled connection.
    if not url.startswith("sqlite"):
        return _postgres_engine(url, timeout)
    engine = create_engine(
        url, connect_args={"timeout": timeout}, hide_parameters=True, pool_timeout=timeout
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of pysqlite's hands so that `BEGIN IMMEDIATE` below is ours.
        # No journal_mode here: WAL is kept in the file, set once by Store.use_wal, and setting
        # it on every connection failed a new connection when another one was writing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={round(timeout * 1000)}")
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


def _postgres_engine(url: str, timeout: float) -> Engine:
    """Every wait bounded by `timeout`: a new connection (libpq's `connect_timeout`, whole
    seconds, at least 2), a pooled one, each statement on the server (`statement_timeout`, which
    also bounds waiting for a lock) and each answer from it (`DeadlineConnection`)."""
    engine = create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(2, math.ceil(timeout)),
            "options": f"-c statement_timeout={math.ceil(timeout * 1000)}",
        },
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> DeadlineConnection:
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.deadline_seconds = timeout
        return connection

    return engine


@contextmanager
def unbounded(connection: Connection) -> Iterator[Connection]:
    """No time limit for work that may take long on purpose (migrations, VACUUM FULL): the
    statement timeout is lifted for the connection's session and the client waits as long as
    it takes; both come back afterwards."""
    raw = connection.connection.dbapi_connection
    if not isinstance(raw, DeadlineConnection):
        yield connection
        return
    limit = raw.deadline_seconds
    raw.deadline_seconds = None
    connection.exec_driver_sql("SET statement_timeout = 0")
    try:
        yield connection
    except BaseException:
        raw.deadline_seconds = limit
        if not raw.closed:
            try:  # in a failed transaction this fails too, and its rollback undoes the SET
                connection.exec_driver_sql("RESET statement_timeout")
            except SQLAlchemyError:
                pass
        raise
    raw.deadline_seconds = limit
    connection.exec_driver_sql("RESET statement_timeout")


def failure_kind(exc: BaseException) -> str:
    """A database failure as one line of its kind: the driver's error and the first line of its
    message (no statement, parameters or traceback)."""
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


class Store:
    """The database, with short transactions handed out as sessions."""

    def __init__(self, url: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds
        _only_for_the_owner(url)
        self.engine = _make_engine(url, timeout_seconds)
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
        """A session committed on success and rolled back on any error.

        A writer that waits longer than the timeout for this process's queue gets the pool's
        TimeoutError, as one waiting for a pooled connection would: the database is too busy.
        """
        if not self._writers.acquire(timeout=self.timeout_seconds):
            raise PoolTimeout(
                f"no turn to write within {self.timeout_seconds:g} s (the database is busy)"
            )
        try:
            with self._between_processes, self._sessions.begin() as session:
                yield session
        finally:
            self._writers.release()

    @contextmanager
    def commit_with(self, session: Session) -> Iterator[None]:
        """The block's writes and the transaction's commit, sent to the database together.

        On PostgreSQL they go out in one round trip (psycopg's pipeline mode) instead of one
        each: a transaction holding a lock others wait for (the event's) holds it that much
        shorter. Only statements that return nothing belong in the block (Core INSERTs made
        `.inline()`, so that none reads back a key): a result read inside it comes back empty.
        What the ORM has pending is flushed before it; objects added in it, after it, with the
        commit. A statement's error is raised at the block's end, as SQLAlchemy's.
        """
        raw = session.connection().connection.driver_connection
        if isinstance(raw, psycopg.Connection):
            session.flush()  # the ORM reads back keys: not in the pipeline
            # What is added waits for the end.
            with as_sqlalchemy_errors(), raw.pipeline(), session.no_autoflush:
                yield
                if not (session.new or session.dirty or session.deleted):
                    raw.commit()  # queued behind the block's statements
        else:
            yield
        # SQLAlchemy's own commit: its bookkeeping, the connection back to the pool (never
        # while in pipeline mode), and a commit of whatever the block added to the session.
        session.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it does not queue behind the writers.

        Writing in it is a mistake (on SQLite it could fail as busy); use `transaction`.
        """
        with self._readers.begin() as session:
            yield session

    def use_wal(self, timeout: float = 30.0) -> None:
        """Put an SQLite database in WAL mode; it stays so (the mode is kept in the file).

        Switching needs the file to itself for a moment, and while another connection holds
        the write lock SQLite answers "database is locked" at once instead of waiting its busy
        timeout: so this retries until `timeout`. No-op on other databases and when in WAL.
        """
        if self.engine.dialect.name != "sqlite":
            return
        deadline = time.monotonic() + timeout
        while True:
            try:  # the pool's own errors are the driver's: made SQLAlchemy's as elsewhere
                connection = self.engine.raw_connection()  # autocommit: outside any transaction
            except sqlite3.Error as exc:
                raise DBAPIError.instance(
                    "PRAGMA journal_mode", None, exc, sqlite3.Error, hide_parameters=True
                ) from exc
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
        the pages as they were, into the file and empties it. PostgreSQL: plain VACUUM only
        marks dead row versions free, their bytes stay; VACUUM FULL writes each table that
        held the data (`PERSONAL_TABLES`) into new files, its indexes and TOAST table too, and
        the old files are emptied at once. It holds each table's exclusive lock while it runs
        (every request touching it waits, up to DATABASE_TIMEOUT_SECONDS): well under a second
        for 10 000 registrations. What PostgreSQL keeps elsewhere (its WAL, archives,
        backups) the erase command says (`privacy.commands`). False when the database was too
        busy (the next erasure compacts it).
        """
        try:
            if self.engine.dialect.name == "sqlite":
                return self._compact_sqlite()
            with (
                self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
                unbounded(conn),
            ):
                # Waiting for a lock a forgotten session holds would hang the command.
                conn.exec_driver_sql(f"SET lock_timeout = {COMPACT_LOCK_TIMEOUT_MS}")
                try:
                    conn.exec_driver_sql(f"VACUUM FULL {', '.join(PERSONAL_TABLES)}")
                finally:
                    conn.exec_driver_sql("RESET lock_timeout")
        except (sqlite3.Error, SQLAlchemyError):
            return False
        return True

    def _compact_sqlite(self) -> bool:
        connection = self.engine.raw_connection()  # autocommit: outside any transaction
        try:
            cursor = connection.cursor()
            cursor.execute("VACUUM")
            deadline = time.monotonic() + 30.0
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


def _only_for_the_owner(url: str) -> None:
    """An SQLite database holds every participant's data: its file is created readable by its
    owner alone (0600, like the secret key, the workbooks and the e-mails), and SQLite gives
    its WAL and shared-memory files the same mode. Files an earlier release left 0644 are
    tightened."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # not a file SQLite can open either: the store reports it when used
    for suffix in ("", "-wal", "-shm", "-journal", ".writers"):
        found = path.with_name(path.name + suffix)
        try:
            if found.is_file() and found.stat().st_mode & 0o077:
                found.chmod(0o600)
        except OSError:
            continue


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
