"""Erasure and retention (RODO): the erasure mark of a registration and whether its sheet row
is gone yet, an event's purge time and the summary numbers it keeps, and the erasure audit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 17:39:04.085968
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed", sa.Text(), nullable=False),
        sa.Column("sheet_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("erasures_pkey")),
    )
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasures_registration_id"), ["registration_id"], unique=False
        )

    with op.batch_alter_table("event_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("kept_summary", sa.Text(), nullable=True))

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erased_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("sheet_erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("sheet_erased_at")
        batch_op.drop_column("erased_by")
        batch_op.drop_column("erased_at")

    with op.batch_alter_table("event_state", schema=None) as batch_op:
        batch_op.drop_column("kept_summary")
        batch_op.drop_column("purged_at")

    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasures_registration_id"))

    op.drop_table("erasures")
