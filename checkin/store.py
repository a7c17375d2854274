"""An INSERT that does nothing when the row is there already, on SQLite and PostgreSQL alike:
what makes a presence (or a code) recorded once when two requests race."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from registrations.models import Base


def insert_once(
    session: Session, model: type[Base], values: dict[str, Any], keys: list[str]
) -> bool:
    """Insert `values` unless a row with the same `keys` exists; whether this call inserted it."""
    dialect = session.get_bind().dialect.name
    table: Table = model.__table__  # type: ignore[assignment]
    statement: Any
    if dialect == "postgresql":
        statement = (
            postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        )
    else:
        statement = (
            sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        )
    key = list(table.primary_key.columns)[0]
    inserted = session.execute(statement.returning(key)).first()
    return inserted is not None
