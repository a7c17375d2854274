"""Alembic's environment, run by `flask --app app db …` and the app's start-up (store/schema.py).

There is no alembic.ini and no URL here: store/schema.py hands in the app's own connection,
already inside a transaction that holds the migration lock, in `config.attributes`.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import MetaData, TypeDecorator

from registrations import answers as _answers  # noqa: F401  (the questions and answers)
from registrations import desk_models as _desk  # noqa: F401  (the staff desk's tables)
from registrations.models import Base
from store import models as _bookkeeping  # noqa: F401  (its tables join Base.metadata)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """A column of an app type (UTCDateTime) is written as the type the database stores.

    A migration stays as it was written: it never imports the app's classes, which change.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


config = context.config
connection = config.attributes.get("connection")
if context.is_offline_mode() or connection is None:
    raise RuntimeError("run the migrations with `flask --app app db upgrade`")
target_metadata: MetaData = config.attributes.get("target_metadata", Base.metadata)

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    # SQLite cannot ALTER most things: autogenerate writes batch operations, which copy the
    # table on SQLite and are plain ALTER TABLE statements on PostgreSQL.
    render_as_batch=True,
    render_item=render_item,
    compare_type=True,
    on_version_apply=config.attributes.get("on_version_apply", ()),
    process_revision_directives=config.attributes.get("process_revision_directives"),
)
# The connection is already in a transaction (store/schema.py): every step and the version
# row commit together, or none of them does.
with context.begin_transaction():
    context.run_migrations()
