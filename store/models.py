"""The store's own bookkeeping: sync status per spreadsheet, worker leases, the mail outbox, the
catalogue's revision, staff sign-ins and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
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
    decisions_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lease(Base):
    """Who runs the background worker: one holder at a time across processes."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """An e-mail waiting to be sent, written in the transaction of the change it reports.

    A participant's e-mail is kept as the notice it reports (kind, status and waiting-list place
    at that moment) and composed when it is sent, so no request composes MIME while it holds
    the event's lock; other e-mails (the staff digest) are kept composed, in `body`. A sender
    claims a message (`claimed_until`), hands it to SMTP, then records it as sent and drops any
    body: the store keeps no message after sending. The Message-ID is fixed when queued.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    registration_id: Mapped[str | None] = mapped_column(String(16), index=True)
    event_slug: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))  # the registration's, when queued
    waiting_position: Mapped[int | None] = mapped_column(Integer)
    # The calendar entry the e-mail carries, by its SEQUENCE (a confirmed seat publishes it, a
    # cancellation cancels it); None: no .ics.
    calendar_sequence: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Higher goes first (a staff sign-in before participants' e-mails).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A message worth sending only until then (a sign-in link's validity): not handed to SMTP by
    # that time, it is dropped (`expired_at`) and counted in /healthz.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What a notice reports beyond its kind and status, as JSON (an event's changes).
    detail: Mapped[str | None] = mapped_column(Text)


class Erasure(Base):
    """The audit of erasures: what was erased, when, by which command, and what was removed.

    Holds no personal data: the registration's ID and event stay in the store anyway.
    """

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(String(16), index=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(String(64))  # e.g. `erase --email`, `retention`
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed: Mapped[str] = mapped_column(Text)  # what left the store, mail and files, in words
    sheet_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CatalogueRevision(Base):
    """One row: a number every save of an event (made in the staff pages) increases, in the
    save's transaction. Each process reads it (by its primary key) to know whether the events it
    holds are still the ones in force."""

    __tablename__ = "catalogue_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffSignIn(Base):
    """A one-time sign-in link asked for by a listed address.

    Its token is derived from `nonce` (an HMAC under SECRET_KEY, like a private link): only its
    SHA-256 (`lookup`) is kept, and the e-mail is composed when sent, so neither the store nor
    the outbox holds a working link. `message_id` ties it to its outbox row.
    """

    __tablename__ = "staff_sign_ins"
    __table_args__ = (Index("ix_staff_sign_in_email", "email", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    nonce: Mapped[str] = mapped_column(String(32))
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    next_path: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A signed-in staff member: the cookie holds a random ID, the store only its SHA-256."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The check-in and certificate tables live in their packages; imported here so the store's
# metadata (and the migrations compared with it) has them.
import certificates.models  # noqa: E402, F401
import checkin.models  # noqa: E402, F401
