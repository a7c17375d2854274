"""The outbox: e-mails queued in the transaction of the change they report, sent in the background.

A registration never waits on SMTP and never fails because of it: the request only adds a row.
The sender claims each message before handing it over, so several processes send each message
once; a process killed between the SMTP hand-over and recording it leaves a claim that expires,
and the message goes out once more with the same Message-ID (the `.eml` transport writes it
exactly once). A failing server is retried with growing, jittered pauses. Messages of a higher
priority go first (a staff sign-in link before participants' e-mails); one with an expiry that
was not handed over by then is dropped, never sent late (`expired_at`, counted in /healthz).
"""

from __future__ import annotations

import logging
import random
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from mail.transport import Transport
from registrations.models import insert_rows
from store import Store
from store.models import OutboxMessage

Clock = Callable[[], datetime]
# Composes a queued notice (a row without a body) into the message to send; None when there is
# nothing to send any more (the registration is gone).
Composer = Callable[[Session, OutboxMessage], EmailMessage | None]


def enqueue(
    session: Session,
    message: EmailMessage,
    *,
    kind: str,
    registration_id: str | None,
    now: datetime,
) -> None:
    """Queue `message` in the caller's transaction: it is sent only if that transaction commits."""
    session.add(
        OutboxMessage(
            message_id=str(message["Message-ID"]),
            kind=kind,
            registration_id=registration_id,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
            body=bytes(message),
        )
    )


def enqueue_to_compose(
    session: Session,
    *,
    kind: str,
    now: datetime,
    priority: int = 0,
    expires_at: datetime | None = None,
) -> str:
    """Queue a message that is composed when it is sent (it carries what must not be stored,
    such as a sign-in link); its Message-ID, by which the composer finds what it reports."""
    message_id = make_msgid(domain="owes-rejestracja")
    session.add(
        OutboxMessage(
            message_id=message_id,
            kind=kind,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
            priority=priority,
            expires_at=expires_at,
        )
    )
    return message_id


def _pending() -> ColumnElement[bool]:
    """Neither sent, nor given up, nor dropped as expired."""
    return (
        OutboxMessage.sent_at.is_(None)
        & OutboxMessage.gave_up_at.is_(None)
        & OutboxMessage.expired_at.is_(None)
    )


def forget(session: Session, registration_ids: list[str]) -> list[str]:
    """Delete the registrations' messages, sent or not (an erasure); their Message-IDs."""
    query = select(OutboxMessage).where(OutboxMessage.registration_id.in_(registration_ids))
    rows = list(session.scalars(query))
    for row in rows:
        session.delete(row)
    return [row.message_id for row in rows]


def message_ids(session: Session, registration_ids: list[str]) -> list[str]:
    """The Message-IDs of the registrations' e-mails, sent or not."""
    query = select(OutboxMessage.message_id).where(
        OutboxMessage.registration_id.in_(registration_ids)
    )
    return list(session.scalars(query))


def rewrite_staff_messages(session: Session, rewrite: Callable[[str], str]) -> int:
    """Pass the text of every staff e-mail still waiting to be sent (a row with its whole text
    and no registration) through `rewrite` (an erasure takes a person out of it); how many
    changed. Sent and given-up rows keep no text."""
    query = select(OutboxMessage).where(
        OutboxMessage.registration_id.is_(None),
        OutboxMessage.body.is_not(None),
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.gave_up_at.is_(None),
    )
    changed = 0
    for row in session.scalars(query):
        assert row.body is not None
        message = message_from_bytes(row.body, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if _rewrite_text_parts(message, rewrite):
            row.body = bytes(message)
            changed += 1
    return changed


def _rewrite_text_parts(message: EmailMessage, rewrite: Callable[[str], str]) -> bool:
    changed = False
    subject = message["Subject"]
    if subject is not None and rewrite(str(subject)) != str(subject):
        message.replace_header("Subject", rewrite(str(subject)))
        changed = True
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        text = str(part.get_content())
        new = rewrite(text)
        if new != text:
            part.set_content(
                new,
                subtype=part.get_content_subtype(),
                disposition=part.get_content_disposition(),
                filename=part.get_filename(),
            )
            changed = True
    return changed


class QueuedNotice(NamedTuple):
    """A participant's e-mail as the facts it reports; it is composed when sent."""

    kind: str
    registration_id: str
    event_slug: str
    status: str
    waiting_position: int | None
    detail: str | None = None  # JSON: what else it reports (an event's changes)
    calendar_sequence: int | None = None


def enqueue_notices(session: Session, notices: Sequence[QueuedNotice], now: datetime) -> None:
    """Queue the e-mails in the session's transaction, all in one INSERT."""
    if not notices:
        return
    rows = [
        {
            **notice._asdict(),
            "message_id": make_msgid(domain="owes-rejestracja"),
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for notice in notices
    ]
    # Into the table (Core): the ORM's bulk INSERT costs more CPU per row than the statement.
    insert_rows(session, OutboxMessage, rows)


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest: datetime | None
    given_up: int
    expired: int = 0


def backlog(session: Session) -> Backlog:
    """Messages not sent yet (and since when), those given up on, and those dropped because
    they were not handed over in time, for /healthz."""
    waiting, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(_pending())
    ).one()
    given_up = session.scalar(select(func.count()).where(OutboxMessage.gave_up_at.is_not(None)))
    expired = session.scalar(select(func.count()).where(OutboxMessage.expired_at.is_not(None)))
    return Backlog(waiting or 0, oldest, given_up or 0, expired or 0)


class OutboxSender:
    """Sends what is due from the outbox, one claimed message at a time."""

    def __init__(
        self,
        store: Store,
        transport: Transport,
        clock: Clock,
        logger: logging.Logger,
        *,
        holder: str,
        compose: Composer | None = None,
        queue_first: Callable[[], object] = lambda: None,
        claim_seconds: float = 120.0,
        batch_size: int = 50,
        max_attempts: int = 36,  # with the pauses below: about a day
        backoff_seconds: float = 10.0,
        backoff_max_seconds: float = 3600.0,
    ) -> None:
        self.store = store
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.holder = holder
        self.compose = compose
        self.queue_first = queue_first
        self.claim = timedelta(seconds=claim_seconds)
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds

    def send_due(self) -> int:
        """Send every message that is due now; returns how many went out.

        `queue_first` runs before: work that queues e-mails of its own in the outbox (the
        lost-link page's requests), so they go out in the same round.
        """
        self.queue_first()
        sent = 0
        for message_id in self._due():
            if not self._claim(message_id):
                continue  # another process took it
            message = self._message(message_id)
            if message is None:
                self._failed(
                    message_id, "nothing to send: the registration is gone", permanent=True
                )
            elif self._send(message_id, message):
                sent += 1
        return sent

    def _due(self) -> list[int]:
        now = self.clock()
        self._drop_expired(now)
        query = (
            select(OutboxMessage.id)
            .where(
                _pending(),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
            .limit(self.batch_size)
        )
        with self.store.reading() as session:
            return list(session.scalars(query))

    def _drop_expired(self, now: datetime) -> None:
        """Messages whose time passed before SMTP took them are dropped, with what they held."""
        expired = _pending() & (OutboxMessage.expires_at <= now)
        with self.store.reading() as session:  # most rounds: none, and no write lock taken
            if session.scalar(select(OutboxMessage.id).where(expired).limit(1)) is None:
                return
        with self.store.transaction() as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    expired,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .values(expired_at=now, body=None, claimed_until=None)
            )
            dropped = getattr(result, "rowcount", 0)
        if dropped:
            self.logger.warning(
                "%d e-mail(s) dropped: not handed to SMTP while they were valid", dropped
            )

    def _claim(self, message_id: int) -> bool:
        """Take the message for `claim_seconds`; False when someone else holds or sent it."""
        now = self.clock()
        with self.store.transaction() as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    _pending(),
                    or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .values(claimed_by=self.holder, claimed_until=now + self.claim)
            )
            return bool(getattr(result, "rowcount", 0))

    def _message(self, message_id: int) -> EmailMessage | None:
        """The claimed message: as queued, or composed now from the notice it reports."""
        with self.store.reading() as session:
            row = session.get(OutboxMessage, message_id)
            assert row is not None
            if row.body is not None:
                message = message_from_bytes(row.body, policy=policy.default)
                assert isinstance(message, EmailMessage)
                return message
            return self.compose(session, row) if self.compose is not None else None

    def _send(self, message_id: int, message: EmailMessage) -> bool:
        try:
            where = self.transport.send(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # 5xx: the address is refused for good; 4xx (greylisting, a full mailbox): later.
            permanent = all(code >= 500 for code, _ in exc.recipients.values())
            self._failed(message_id, f"recipient refused: {_codes(exc)}", permanent=permanent)
            return False
        except smtplib.SMTPNotSupportedError as exc:  # e.g. an address needing SMTPUTF8
            self._failed(message_id, f"not supported by the server: {exc}", permanent=True)
            return False
        except (smtplib.SMTPException, OSError) as exc:
            self._failed(message_id, _without_addresses(exc), permanent=False)
            return False
        with self.store.transaction() as session:
            row = session.get(OutboxMessage, message_id, with_for_update=True)
            assert row is not None
            row.sent_at = self.clock()
            row.body = None
            row.claimed_until = None
            row.last_error = None
            kind, registration = row.kind, row.registration_id
        self.logger.info(
            "e-mail %s (%s, registration %s) sent to %s", message_id, kind, registration, where
        )
        return True

    def _failed(self, message_id: int, error: str, *, permanent: bool) -> None:
        now = self.clock()
        with self.store.transaction() as session:
            row = session.get(OutboxMessage, message_id, with_for_update=True)
            assert row is not None
            row.attempts += 1
            row.last_error = error[:1000]
            row.claimed_until = None
            if permanent or row.attempts >= self.max_attempts:
                row.gave_up_at = now
                row.body = None
            else:
                row.next_attempt_at = now + self._pause(row.attempts)
            attempts, gave_up = row.attempts, row.gave_up_at is not None
        if gave_up:
            self.logger.error(
                "e-mail %s given up after %d attempt(s): %s", message_id, attempts, error
            )
        elif attempts == 1:  # once per message, not at every retry
            self.logger.warning("e-mail %s not sent, will retry: %s", message_id, error)

    def _pause(self, attempts: int) -> timedelta:
        """Exponential with full jitter, capped: a server that is down is not hammered."""
        ceiling = min(self.backoff_seconds * 2 ** (attempts - 1), self.backoff_max_seconds)
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def _without_addresses(exc: Exception) -> str:
    """The failure for the log: the server's code, not its text (which often names the
    recipient), or the error's class for a network failure."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.__class__.__name__}: {exc.smtp_code}"
    if isinstance(exc, OSError):
        return f"{exc.__class__.__name__}: {exc.strerror or exc}"
    return exc.__class__.__name__


def _codes(exc: smtplib.SMTPRecipientsRefused) -> str:
    """The server's codes without the addresses (no personal data in the log)."""
    return ", ".join(str(code) for code, _ in exc.recipients.values()) or "refused"
