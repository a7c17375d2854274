"""Before the event: reminders with a one-click answer, and seats freed late offered for a
limited time (issue 19). One row per registration; erased with the person.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 08:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "participation",
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("first_reminder_at", moment, nullable=True),
        sa.Column("second_reminder_at", moment, nullable=True),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answered_at", moment, nullable=True),
        sa.Column("offer_state", sa.String(length=16), nullable=True),
        sa.Column("offer_made_at", moment, nullable=True),
        sa.Column("offer_sent_at", moment, nullable=True),
        sa.Column("offer_expires_at", moment, nullable=True),
        sa.Column("offer_closed_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("participation_pkey")),
    )
    op.create_index(
        "ix_participation_offers", "participation", ["event_slug", "offer_state"], unique=False
    )
    op.create_table(
        "participation_events",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("unanswered_sent_at", moment, nullable=True),
        sa.Column("seats_not_offered", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("participation_events_pkey")),
    )


def downgrade() -> None:
    op.drop_table("participation_events")
    op.drop_index("ix_participation_offers", table_name="participation")
    op.drop_table("participation")
