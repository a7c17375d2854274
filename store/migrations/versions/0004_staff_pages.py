"""Staff pages: events kept in the store with each saved version (and the version each
registration was made under), the catalogue's revision, staff sign-ins, sessions and history,
sheet work a save leaves for the worker, the outbox's priority, expiry and notice detail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:48:29.052905
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("catalogue_revision_pkey")),
    )
    # Its one row; every save of an event increases the number.
    op.execute("INSERT INTO catalogue_revision (id, revision) VALUES (1, 0)")
    op.create_table(
        "event_versions",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", "version", name=op.f("event_versions_pkey")),
    )
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=True),
        sa.Column("registration_ids", sa.Text(), nullable=True),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("staff_actions_pkey")),
    )
    with op.batch_alter_table("staff_actions", schema=None) as batch_op:
        batch_op.create_index("ix_staff_action_event", ["event_slug", "id"], unique=False)

    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("staff_sessions_pkey")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_email"), ["email"], unique=False)

    op.create_table(
        "staff_sign_ins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("lookup", sa.String(length=64), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("staff_sign_ins_pkey")),
        sa.UniqueConstraint("lookup", name=op.f("staff_sign_ins_lookup_key")),
        sa.UniqueConstraint("message_id", name=op.f("staff_sign_ins_message_id_key")),
    )
    with op.batch_alter_table("staff_sign_ins", schema=None) as batch_op:
        batch_op.create_index("ix_staff_sign_in_email", ["email", "created_at"], unique=False)

    with op.batch_alter_table("event_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("renamed_from", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("summary_renamed_from", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("renamed_target_from", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("purge_not_before", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=True))

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("event_version")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("expired_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("priority")

    with op.batch_alter_table("event_state", schema=None) as batch_op:
        batch_op.drop_column("purge_not_before")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("renamed_target_from")
        batch_op.drop_column("summary_renamed_from")
        batch_op.drop_column("renamed_from")
        batch_op.drop_column("published_at")
        batch_op.drop_column("event_version")

    with op.batch_alter_table("staff_sign_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_sign_in_email")

    op.drop_table("staff_sign_ins")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_email"))

    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_action_event")

    op.drop_table("staff_actions")
    op.drop_table("event_versions")
    op.drop_table("catalogue_revision")
