"""Several people at one address (a registration is its event, e-mail key and name key), the
per-enterprise limit by legal form or NIP, and staff decisions carried out after a grace time.

The name key of every registration is computed from its names, and the unique constraint on
(event, e-mail key) becomes one on (event, e-mail key, name key): nobody registered is refused.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 08:10:00.000000
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMING_CONVENTION = {  # a copy: a revision never imports the app's modules
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}
REGISTRATIONS = sa.table(
    "registrations",
    sa.column("seq", sa.Integer),
    sa.column("first_name", sa.String),
    sa.column("last_name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("enterprise_name", sa.String),
    sa.column("enterprise_key", sa.String),
    sa.column("erased_at", sa.DateTime),
)
# A copy of `registrations.enterprise.LEGAL_FORMS` as of this revision.
LEGAL_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "spoldzielnia-socjalna": (
        ("spoldzielnia", "socjalna"),
        ("spoldz", "socjalna"),
        ("spoldz", "soc"),
        ("sp", "socjalna"),
        ("sp", "soc"),
        ("sp", "socj"),
        ("ss",),
    ),
    "stowarzyszenie": (("stowarzyszenie",), ("stow",)),
    "fundacja": (("fundacja",), ("fund",)),
    "spolka-z-oo": (
        ("spolka", "z", "ograniczona", "odpowiedzialnoscia"),
        ("sp", "z", "ograniczona", "odpowiedzialnoscia"),
        ("spolka", "z", "o", "o"),
        ("sp", "z", "o", "o"),
        ("spolka", "z", "oo"),
        ("sp", "z", "oo"),
        ("spzoo",),
    ),
}
_SPELLINGS = sorted(
    ((words, form) for form, spellings in LEGAL_FORMS.items() for words in spellings),
    key=lambda item: -len(item[0]),
)


def _enterprise_key(name: str) -> str:
    """A copy of `registrations.enterprise.enterprise_key` as of this revision."""
    decomposed = unicodedata.normalize("NFKD", name.casefold()).replace("ł", "l")
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    remaining = re.sub(r"[^a-z0-9]+", " ", ascii_only).split()
    forms: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(remaining):
        for spelling, form in _SPELLINGS:
            if tuple(remaining[i : i + len(spelling)]) == spelling:
                forms.append(form)
                i += len(spelling)
                break
        else:
            rest.append(remaining[i])
            i += 1
    return f"{' '.join(sorted(set(forms)))}|{' '.join(rest)}"[:200]


def _name_part(value: str) -> str:
    """A copy of `registrations.identity.name_part` as of this revision."""
    return " ".join(unicodedata.normalize("NFC", value).split()).casefold()


def _name_key(first_name: str, last_name: str) -> str:
    return f"{_name_part(first_name)}\x1f{_name_part(last_name)}"[:254]


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("registrations", naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sa.String(length=254), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("nip", sa.String(length=10), nullable=True))
    # Every key recomputed (nobody is refused: the limits apply to new registrations only).
    rows = bind.execute(
        sa.select(
            REGISTRATIONS.c.seq,
            REGISTRATIONS.c.first_name,
            REGISTRATIONS.c.last_name,
            REGISTRATIONS.c.enterprise_name,
        ).where(REGISTRATIONS.c.erased_at.is_(None))
    ).all()
    if rows:
        bind.execute(
            sa.update(REGISTRATIONS)
            .where(REGISTRATIONS.c.seq == sa.bindparam("row_seq"))
            .values(name_key=sa.bindparam("key"), enterprise_key=sa.bindparam("enterprise")),
            [
                {
                    "row_seq": seq,
                    "key": _name_key(first, last),
                    "enterprise": _enterprise_key(enterprise),
                }
                for seq, first, last, enterprise in rows
            ],
        )
    with op.batch_alter_table("registrations", naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.drop_constraint("uq_registration_event_email", type_="unique")
        batch_op.create_unique_constraint(
            "uq_registration_event_email_name", ["event_slug", "email_key", "name_key"]
        )
    op.create_table(
        "pending_decisions",
        sa.Column("registration_id", sa.String(length=16), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("typed_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pending_decisions_pkey")),
    )
    op.create_index(
        op.f("ix_pending_decisions_event_slug"), "pending_decisions", ["event_slug"], unique=False
    )
    if bind.dialect.name == "postgresql":
        for column in ("name_key", "nip"):
            op.execute(f'ALTER TABLE registrations ALTER COLUMN "{column}" SET STATISTICS 0')
        op.execute('ALTER TABLE pending_decisions ALTER COLUMN "reason" SET STATISTICS 0')


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_decisions_event_slug"), table_name="pending_decisions")
    op.drop_table("pending_decisions")
    with op.batch_alter_table("registrations", naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.drop_constraint("uq_registration_event_email_name", type_="unique")
        batch_op.create_unique_constraint(
            "uq_registration_event_email", ["event_slug", "email_key"]
        )
        batch_op.drop_column("nip")
        batch_op.drop_column("name_key")
