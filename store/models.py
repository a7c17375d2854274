"""The store's own bookkeeping: sync status per spreadsheet and the worker leases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registrations.models import Base, UTCDateTime


class SyncStatus(Base):
    """What the last sync to a spreadsheet did, for /healthz across processes."""

    __tablename__ = "sync_status"

    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(32))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lease(Base):
    """Who runs the background worker: one holder at a time across processes."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
