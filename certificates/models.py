"""The certificates issued, and the counter of their numbers per calendar year of issue.

A number (`<n>/<year>`) is taken from the year's counter under its row lock and never given
again, even when the certificate is revoked or its holder erased. The holder's name is not kept
here: the PDF is made from the registration when asked for, so an erasure leaves nothing to read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registrations.models import Base, UTCDateTime


class CertificateCounter(Base):
    """The last number given in a calendar year, across all events."""

    __tablename__ = "certificate_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Certificate(Base):
    """One registration's certificate: its number, verification code and state."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("year", "number", name="uq_certificate_number"),)

    registration_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_slug: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)  # None once erased
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(254))

    @property
    def label(self) -> str:
        return f"{self.number}/{self.year}"
