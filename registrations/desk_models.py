"""What staff do to one registration in the staff pages, kept with it (issue 18): who added it
by phone and on which grounds, each correction (field, old → new), a seat handed to a colleague;
and the messages staff sent to participants, with whom they reached.

These rows hold personal data (old and new values, reasons): they are erased with the person
(`forget`), and the staff's history (`staff_actions`) only ever names the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from registrations.models import Base, UTCDateTime


class DeskEntry(Base):
    """One thing staff did to a registration: `added` (with the consent given by phone and
    any override), `corrected` (one field), `swapped_out` / `swapped_in`, `image_withdrawn`."""

    __tablename__ = "desk_entries"
    __table_args__ = (Index("ix_desk_entry_registration", "registration_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(String(16))
    event_slug: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    # Why (an override's reason), or what the entry names: the consent taken by phone, the
    # other registration of a swap.
    note: Mapped[str | None] = mapped_column(Text)


class StaffMessage(Base):
    """A message staff sent from `…/wiadomosci`: its subject and text as written (placeholders
    unfilled), who sent it and when. `send_key` is the one-time key of the confirmation form:
    the same form sent twice finds this row and sends nothing more."""

    __tablename__ = "staff_messages"
    __table_args__ = (Index("ix_staff_message_event", "event_slug", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_slug: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of subject and text
    sent_by: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    send_key: Mapped[str] = mapped_column(String(64), unique=True)


class StaffMessageRecipient(Base):
    """One registration a staff message was for; `by_phone`: it had no address, staff phone."""

    __tablename__ = "staff_message_recipients"

    message_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    registration_id: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    by_phone: Mapped[int] = mapped_column(Integer, default=0)


def forget(
    session: Session, registration_ids: list[str], rewrite: Callable[[str], str] | None = None
) -> None:
    """An erasure: what staff recorded about these people, and which messages reached them; a
    message they received is rewritten by `rewrite` (their name typed into it is redacted)."""
    if not registration_ids:
        return
    if rewrite is not None:
        received = select(StaffMessageRecipient.message_id).where(
            StaffMessageRecipient.registration_id.in_(registration_ids)
        )
        for message in session.scalars(select(StaffMessage).where(StaffMessage.id.in_(received))):
            message.subject = rewrite(message.subject)[:200]
            message.body = rewrite(message.body)
    session.execute(delete(DeskEntry).where(DeskEntry.registration_id.in_(registration_ids)))
    session.execute(
        delete(StaffMessageRecipient).where(
            StaffMessageRecipient.registration_id.in_(registration_ids)
        )
    )
