"""The event's own questions and the answers to them: two tables of their own (the answers are
personal data: PostgreSQL keeps their values out of the planner's statistics, as 0006 does),
and the event state's `questions_version`, which registering compares under the event's lock.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("help_text", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("former_labels", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("event_questions_pkey")),
        sa.UniqueConstraint("event_slug", "key", name="uq_event_question_key"),
    )
    op.create_index(
        op.f("ix_event_questions_event_slug"), "event_questions", ["event_slug"], unique=False
    )
    op.create_table(
        "registration_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("registration_answers_pkey")),
        sa.UniqueConstraint(
            "registration_id", "question_id", name="uq_answer_registration_question"
        ),
    )
    op.create_index(
        "ix_answer_event_question",
        "registration_answers",
        ["event_slug", "question_id"],
        unique=False,
    )
    with op.batch_alter_table("event_state") as batch:
        batch.add_column(
            sa.Column("questions_version", sa.Integer(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE registration_answers ALTER COLUMN "value" SET STATISTICS 0')


def downgrade() -> None:
    with op.batch_alter_table("event_state") as batch:
        batch.drop_column("questions_version")
    op.drop_index("ix_answer_event_question", table_name="registration_answers")
    op.drop_table("registration_answers")
    op.drop_index(op.f("ix_event_questions_event_slug"), table_name="event_questions")
    op.drop_table("event_questions")
