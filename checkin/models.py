"""The check-in tables: one code per registration, one presence row per registration and day.

A code is random (80 bits), never derived from the registration's ID or its private link, and
deleted with the person's data. A presence row is unique per registration and day, so two
phones scanning at the same moment record it once; an erasure keeps the row's date only (the
counts stay), dropping when and by whom.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registrations.models import Base, UTCDateTime


class CheckinCode(Base):
    """The code in a registration's QR (`/o/<code>`)."""

    __tablename__ = "checkin_codes"

    registration_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Presence(Base):
    """A registration present on one day of its event: when, recorded by whom and how."""

    __tablename__ = "presence"
    __table_args__ = (
        UniqueConstraint("registration_id", "day", name="uq_presence_registration_day"),
        Index("ix_presence_event_day", "event_slug", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(String(16))
    event_slug: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    # None once the person's data were erased: the date alone stays.
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(254))  # a staff address or `arkusz`
    source: Mapped[str | None] = mapped_column(String(16))  # skan, przycisk, lista, arkusz


class AbsenceReport(Base):
    """The contact's e-mail naming a day's absentees, queued once per event and day."""

    __tablename__ = "absence_reports"

    event_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
