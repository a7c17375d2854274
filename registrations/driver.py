"""Statements sent through PostgreSQL's driver itself, for the few run with the event's lock held.

A batch of new registrations runs four statements while everyone else submitting to the event
waits for its lock (the lock itself, the seats and addresses taken, the rows' INSERTs).
SQLAlchemy's execution of a statement costs about 0.1 ms of CPU around the driver's own (the
cache key, the execution context, the result), which the holder spends with the lock held.
`DriverStatement` compiles a Core statement once for PostgreSQL and hands its text to psycopg;
on another database (SQLite, in process) the session runs it as usual.

Parameters go to the driver as they are, without the column types' bind processing: only plain
values (str, int, lists of them) belong in them; rows come back as the driver's tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import ClauseElement, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    text: str
    fixed: dict[str, Any]  # the statement's own values (an IN list of literals, a separator)


@dataclass
class DriverStatement:
    """A Core statement and its text for psycopg, made at its first use (`rows`, `execute`)."""

    statement: Executable
    _compiled: _Compiled | None = field(default=None, init=False, repr=False)

    def rows(self, session: Session, parameters: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        """The statement's rows (not in a pipeline: it waits for them)."""
        raw = _psycopg(session)
        if raw is None:
            return [tuple(row) for row in session.execute(self.statement, dict(parameters))]
        with as_sqlalchemy_errors():
            return self._send(raw, session, parameters).fetchall()

    def execute(self, session: Session, parameters: Mapping[str, Any]) -> None:
        """Run it for its effect; in `Store.commit_with`'s block it is queued with the commit
        and a failure is raised there."""
        raw = _psycopg(session)
        if raw is None:
            session.execute(self.statement, dict(parameters))
            return
        with as_sqlalchemy_errors():
            self._send(raw, session, parameters)

    def _send(
        self, raw: psycopg.Connection[Any], session: Session, parameters: Mapping[str, Any]
    ) -> psycopg.Cursor[Any]:
        compiled = self._compiled_for(session.get_bind().dialect)
        return raw.execute(compiled.text, {**compiled.fixed, **parameters})

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None:
            assert isinstance(self.statement, ClauseElement)
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            # The caller's parameters are placeholders here: what is left is the statement's
            # own, with its literal IN lists written out (`construct_expanded_state`).
            asked = {name: None for name, bind in compiled.binds.items() if bind.required}
            expanded = compiled.construct_expanded_state(asked)
            fixed = {k: v for k, v in expanded.parameters.items() if k not in asked}
            fixed.update(_defaults(compiled, dialect))
            self._compiled = _Compiled(expanded.statement, fixed)
        return self._compiled


def _defaults(compiled: SQLCompiler, dialect: Dialect) -> dict[str, Any]:
    """The INSERT's columns left out that have a default given in Python (`default=1`), which
    SQLAlchemy's execution would fill in: theirs, as the column's type sends it. A default
    computed by a function is refused: it would be the same for every row here."""
    values = {}
    for column in getattr(compiled, "insert_prefetch", ()):
        default = column.default
        if default is None or not default.is_scalar:
            raise TypeError(f"{column} has a default computed in Python: not sent by the driver")
        process = column.type.bind_processor(dialect)
        values[column.key] = process(default.arg) if process else default.arg
    return values


def _psycopg(session: Session) -> psycopg.Connection[Any] | None:
    """The session's psycopg connection; None on another database."""
    raw = session.connection().connection.driver_connection
    return raw if isinstance(raw, psycopg.Connection) else None


@contextmanager
def as_sqlalchemy_errors() -> Iterator[None]:
    """psycopg's errors raised as SQLAlchemy's (IntegrityError, OperationalError, …), for
    statements sent by the driver itself: callers handle them as any other, and their
    parameters never reach a message."""
    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error, hide_parameters=True) from exc
