"""The lost-link page's requests, queued: the page answers at once with the same work for any
address, and the mail sender looks the address up (PostgreSQL keeps the typed address out of
the planner's statistics, as revision 0006 does for the registrations).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:39:46.542678
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("link_requests_pkey")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE link_requests ALTER COLUMN "email_key" SET STATISTICS 0')


def downgrade() -> None:
    op.drop_table("link_requests")
