"""PostgreSQL: a person's data out of the planner's statistics (statistics target 0), so that
ANALYZE never copies a name, an address or a PESEL into pg_statistic, where erasure cannot
reach it; statistics gathered before are dropped when the upgrade runs as a superuser.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns that hold a person's data, by table (a copy: a revision never imports the app).
PERSONAL = {
    "registrations": (
        "first_name",
        "last_name",
        "enterprise_name",
        "enterprise_key",
        "role",
        "email",
        "email_key",
        "phone",
        "pesel",
        "birth_date",
        "diet_other",
        "special_needs",
        "gender",
    ),
    "outbox": ("body",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite gathers statistics only when ANALYZE is run, which the service never does
    for table, columns in PERSONAL.items():
        for column in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET STATISTICS 0')
        names = ", ".join(f"'{column}'" for column in columns)
        op.execute(
            f"""
            DO $$ BEGIN
              IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                DELETE FROM pg_statistic s USING pg_attribute a
                 WHERE s.starelid = '{table}'::regclass AND a.attrelid = s.starelid
                   AND a.attnum = s.staattnum AND a.attname IN ({names});
              END IF;
            END $$
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in PERSONAL.items():
        for column in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET STATISTICS -1')
