"""Registrations handled in the staff pages (issue 18): what staff did to each (added by phone,
corrected field by field, a seat swapped), and the messages sent to participants with their
recipients. Old and new values are personal data: PostgreSQL keeps them out of the planner's
statistics, as revision 0006 does for the registrations.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("desk_entries_pkey")),
    )
    op.create_index(
        "ix_desk_entry_registration", "desk_entries", ["registration_id", "id"], unique=False
    )
    op.create_table(
        "staff_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("sent_by", sa.String(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("staff_messages_pkey")),
        sa.UniqueConstraint("send_key", name=op.f("staff_messages_send_key_key")),
    )
    op.create_index(
        "ix_staff_message_event", "staff_messages", ["event_slug", "sent_at"], unique=False
    )
    op.create_table(
        "staff_message_recipients",
        sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("by_phone", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "message_id", "registration_id", name=op.f("staff_message_recipients_pkey")
        ),
    )
    op.create_index(
        op.f("ix_staff_message_recipients_registration_id"),
        "staff_message_recipients",
        ["registration_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for column in ("old_value", "new_value", "note"):
            op.execute(f'ALTER TABLE desk_entries ALTER COLUMN "{column}" SET STATISTICS 0')


def downgrade() -> None:
    op.drop_index(
        op.f("ix_staff_message_recipients_registration_id"), table_name="staff_message_recipients"
    )
    op.drop_table("staff_message_recipients")
    op.drop_index("ix_staff_message_event", table_name="staff_messages")
    op.drop_table("staff_messages")
    op.drop_index("ix_desk_entry_registration", table_name="desk_entries")
    op.drop_table("desk_entries")
