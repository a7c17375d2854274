"""Schema of the release before migrations

Revision ID: 0001
Revises: none
Create Date: 2026-11-29 15:21:41.089990

Exactly what `Base.metadata.create_all` made before there were migrations; `db upgrade` stamps
such a database as this revision. The names are PostgreSQL's defaults, which those databases
have (registrations_pkey, registrations_id_key, ...); on SQLite their constraints are unnamed
(see store/migrations/README.md). Never edit this file: write a new revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_state",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("closing_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_written_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("protected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_off_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("slug", name=op.f("event_state_pkey")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("leases_pkey")),
    )
    op.create_table(
        "registrations",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("last_name", sa.String(length=60), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("enterprise_key", sa.String(length=200), nullable=False),
        sa.Column("powiat", sa.String(length=4), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("pesel", sa.String(length=11), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("accommodation", sa.Boolean(), nullable=False),
        sa.Column("diet", sa.String(length=16), nullable=False),
        sa.Column("diet_other", sa.String(length=200), nullable=True),
        sa.Column("special_needs", sa.Text(), nullable=True),
        sa.Column("consent_personal_data", sa.Boolean(), nullable=False),
        sa.Column("consent_image", sa.Boolean(), nullable=False),
        sa.Column("consent_version", sa.String(length=64), nullable=False),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_to", sa.String(length=300), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("registrations_pkey")),
        sa.UniqueConstraint("event_slug", "email_key", name="uq_registration_event_email"),
        sa.UniqueConstraint("id", name=op.f("registrations_id_key")),
    )
    op.create_index("ix_registration_event_sync", "registrations", ["event_slug", "synced_to"])
    op.create_index(op.f("ix_registrations_enterprise_key"), "registrations", ["enterprise_key"])
    op.create_table(
        "sync_status",
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_code", sa.String(length=32), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("target", name=op.f("sync_status_pkey")),
    )


def downgrade() -> None:
    op.drop_table("sync_status")
    op.drop_index(op.f("ix_registrations_enterprise_key"), table_name="registrations")
    op.drop_index("ix_registration_event_sync", table_name="registrations")
    op.drop_table("registrations")
    op.drop_table("leases")
    op.drop_table("event_state")
