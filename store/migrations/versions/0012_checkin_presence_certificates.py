"""On the day and after: check-in codes, presence per registration and day, the absence
reports queued, certificates of participation and their numbers per calendar year.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkin_codes",
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("checkin_codes_pkey")),
        sa.UniqueConstraint("code", name=op.f("checkin_codes_code_key")),
    )
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=254), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("presence_pkey")),
        sa.UniqueConstraint("registration_id", "day", name="uq_presence_registration_day"),
    )
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.create_index("ix_presence_event_day", ["event_slug", "day"], unique=False)
    op.create_table(
        "absence_reports",
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_slug", "day", name=op.f("absence_reports_pkey")),
    )
    op.create_table(
        "certificate_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("certificate_counters_pkey")),
    )
    op.create_table(
        "certificates",
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reissued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=254), nullable=True),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("certificates_pkey")),
        sa.UniqueConstraint("code", name=op.f("certificates_code_key")),
        sa.UniqueConstraint("year", "number", name="uq_certificate_number"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_event_slug"), ["event_slug"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # Secrets out of the planner's statistics, as revision 0006 does for personal columns.
        op.execute('ALTER TABLE checkin_codes ALTER COLUMN "code" SET STATISTICS 0')
        op.execute('ALTER TABLE certificates ALTER COLUMN "code" SET STATISTICS 0')


def downgrade() -> None:
    op.drop_table("certificates")
    op.drop_table("certificate_counters")
    op.drop_table("absence_reports")
    op.drop_table("presence")
    op.drop_table("checkin_codes")
