"""Staff sign-in by a one-time e-mailed link, and the sessions it starts.

The link's token is an HMAC-SHA256, under SECRET_KEY, of a random 128-bit nonce kept with the
sign-in row (like a private link, `registrations.tokens`): the store keeps the nonce and a
SHA-256 of the token, the outbox only a row that the e-mail is composed from when it is sent.
So neither a copy of the database nor the outbox gives anyone a working link. A session is a
row too: the cookie holds a random ID (256 bits), the store only its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from markupsafe import Markup
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from backoffice.roles import Role, StaffLists, address_key
from mail.outbox import enqueue_to_compose
from mail.transport import compose
from registrations.history import Action, record
from registrations.polish import plural
from registrations.tokens import derive, lookup_key
from store import Store
from store.models import OutboxMessage, StaffSession, StaffSignIn

SIGN_IN_PATH = "/obsluga/logowanie/"
KIND = "staff_sign_in"
PRIORITY = 10  # before participants' e-mails
PER_MINUTE = 1  # sign-in e-mails one address gets at most, in any minute …
PER_HOUR = 5  # … and in any hour
NONCE_BYTES = 16
SESSION_BYTES = 32
MAX_TOKEN_LENGTH = 64
_LOCK_PREFIX = 0x6F7773  # "ows": PostgreSQL advisory locks of sign-in requests, per address


class LinkState(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Signed:
    """A sign-in that started a session: the cookie's value and where to go."""

    session_id: str
    email: str
    role: Role
    next_path: str | None


class SignInLinks:
    """Sign-in links: asked for by address, e-mailed (composed at sending), used once."""

    def __init__(
        self,
        store: Store,
        secret: str | bytes,
        lists: StaffLists,
        *,
        link_minutes: int,
        base_url: str,
        sender: str,
        organisation_name: str,
    ) -> None:
        self.store = store
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self.lists = lists
        self.validity = timedelta(minutes=link_minutes)
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self.organisation_name = organisation_name

    # -- tokens ---------------------------------------------------------------------------

    def token(self, sign_in: StaffSignIn) -> str:
        return derive(self._secret, f"staff-sign-in:{sign_in.nonce}")

    def url(self, token: str) -> str:
        return f"{self.base_url}{SIGN_IN_PATH}{token}"

    def _find(self, session: Session, token: str) -> StaffSignIn | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        found = session.scalar(select(StaffSignIn).where(StaffSignIn.lookup == lookup_key(token)))
        if found is None or not hmac.compare_digest(self.token(found), token):
            return None
        return found

    # -- asking for a link ----------------------------------------------------------------

    def issue(
        self, session: Session, email: str, next_path: str | None, now: datetime
    ) -> tuple[StaffSignIn, str]:
        """A new link for a listed address, in the caller's transaction; the row and token."""
        sign_in = StaffSignIn(
            email=address_key(email),
            nonce=secrets.token_hex(NONCE_BYTES),
            next_path=next_path,
            created_at=now,
            expires_at=now + self.validity,
        )
        token = self.token(sign_in)
        sign_in.lookup = lookup_key(token)
        session.add(sign_in)
        return sign_in, token

    def request(self, email: str, next_path: str | None, now: datetime) -> bool:
        """E-mail a link to a listed address, at most once a minute and 5 times an hour.

        True when an e-mail was queued. The caller answers the same whatever this returns:
        nobody learns from the page whether an address is listed.
        """
        key = address_key(email)
        if not key or len(key) > 254 or self.lists.role(key) is None:
            return False
        with self.store.transaction() as session:
            _serialise(session, key)
            for span, limit in ((timedelta(minutes=1), PER_MINUTE), (timedelta(hours=1), PER_HOUR)):
                sent = select(func.count()).where(
                    StaffSignIn.email == key, StaffSignIn.created_at > now - span
                )
                if (session.scalar(sent) or 0) >= limit:
                    return False
            sign_in, _ = self.issue(session, key, next_path, now)
            sign_in.message_id = enqueue_to_compose(
                session,
                kind=KIND,
                now=now,
                priority=PRIORITY,
                expires_at=sign_in.expires_at,
            )
        return True

    # -- using a link ---------------------------------------------------------------------

    def state(self, token: str, now: datetime) -> LinkState:
        """What the link's page shows (GET: nothing changes)."""
        with self.store.reading() as session:
            return _state(self._find(session, token), now)

    def use(self, token: str, now: datetime, sessions: StaffSessions) -> Signed | LinkState:
        """Sign in (POST): the link is used up and a session starts; else why not."""
        with self.store.transaction() as session:
            sign_in = self._find(session, token)
            state = _state(sign_in, now)
            if state is not LinkState.VALID or sign_in is None:
                return state
            role = self.lists.role(sign_in.email)
            if role is None:  # taken off the lists since
                return LinkState.UNKNOWN
            session.refresh(sign_in, with_for_update=True)
            if sign_in.used_at is not None:  # used a moment ago, by another request
                return LinkState.USED
            sign_in.used_at = now
            sessions.purge_expired(session, now)
            session_id = sessions.start(session, sign_in.email, now)
            record(session, actor=sign_in.email, action=Action.SIGNED_IN, at=now)
            return Signed(session_id, sign_in.email, role, sign_in.next_path)

    # -- the e-mail -----------------------------------------------------------------------

    def compose(self, session: Session, row: OutboxMessage) -> EmailMessage | None:
        """The sign-in e-mail of an outbox row, with the link derived now; None once the link
        cannot be used any more (used through the command's link, or expired)."""
        sign_in = session.scalar(
            select(StaffSignIn).where(StaffSignIn.message_id == row.message_id)
        )
        if sign_in is None or sign_in.used_at is not None:
            return None
        link = self.url(self.token(sign_in))
        minutes = plural(int(self.validity.total_seconds() // 60), "minutę", "minuty", "minut")
        intro = (
            "oto jednorazowy link do logowania na stronach obsługi zapisów na wydarzenia "
            f"({self.organisation_name}):"
        )
        how = (
            f"Link jest ważny przez {minutes} i można go użyć jeden raz: po jego otwarciu "
            "należy nacisnąć przycisk „Zaloguj się”."
        )
        ignore = (
            "Jeśli prośba o link nie pochodziła od Państwa, wystarczy zignorować tę wiadomość – "
            "bez linku nie można się zalogować. Linku nie należy nikomu przekazywać."
        )
        text_body = "\n".join(
            ["Dzień dobry,", "", intro, link, "", how, "", ignore, "", self.organisation_name]
        )
        html = Markup(
            "<p>Dzień dobry,</p><p>{intro}<br><a href='{link}'>{link}</a></p>"
            "<p>{how}</p><p>{ignore}</p><p>{name}</p>"
        ).format(intro=intro, link=link, how=how, ignore=ignore, name=self.organisation_name)
        return compose(
            sender=self.sender,
            to=[sign_in.email],
            subject="Link do logowania – obsługa zapisów",
            text=text_body,
            html=str(html),
            message_id=row.message_id,
        )


def _state(sign_in: StaffSignIn | None, now: datetime) -> LinkState:
    if sign_in is None:
        return LinkState.UNKNOWN
    if sign_in.used_at is not None:
        return LinkState.USED
    if now >= sign_in.expires_at:
        return LinkState.EXPIRED
    return LinkState.VALID


def _serialise(session: Session, key: str) -> None:
    """Requests for one address take turns, so two at once cannot both pass the limits.

    SQLite: the transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
        session.execute(
            text("SELECT pg_advisory_xact_lock(:prefix, :key)"),
            {"prefix": _LOCK_PREFIX, "key": lock - 2**31},
        )


class StaffSessions:
    """Sessions of signed-in staff, each `STAFF_SESSION_HOURS` from its sign-in."""

    def __init__(self, store: Store, lists: StaffLists, *, hours: float) -> None:
        self.store = store
        self.lists = lists
        self.duration = timedelta(hours=hours)

    def start(self, session: Session, email: str, now: datetime) -> str:
        """A new session in the caller's transaction; the cookie's value (never stored)."""
        session_id = secrets.token_urlsafe(SESSION_BYTES)
        session.add(
            StaffSession(
                id_hash=lookup_key(session_id),
                email=address_key(email),
                created_at=now,
                expires_at=now + self.duration,
            )
        )
        return session_id

    def find(self, session_id: str, now: datetime) -> tuple[StaffSession, Role] | None:
        """The live session of a cookie and its address's role now (the lists decide at every
        request); None for anything else."""
        if not session_id or len(session_id) > MAX_TOKEN_LENGTH:
            return None
        with self.store.reading() as session:
            found = session.get(StaffSession, lookup_key(session_id))
        if found is None or now >= found.expires_at:
            return None
        role = self.lists.role(found.email)
        return (found, role) if role is not None else None

    def end(self, session_id: str, now: datetime, *, everywhere: bool = False) -> str | None:
        """Sign out: this session, or every session of its address; the address, if any."""
        with self.store.transaction() as session:
            found = session.get(StaffSession, lookup_key(session_id))
            if found is None:
                return None
            email = found.email
            if everywhere:
                session.execute(delete(StaffSession).where(StaffSession.email == email))
            else:
                session.delete(found)
            action = Action.SIGNED_OUT_EVERYWHERE if everywhere else Action.SIGNED_OUT
            record(session, actor=email, action=action, at=now)
        return email

    def purge_expired(self, session: Session, now: datetime) -> None:
        """Sessions past their time, and links a day old (the limits look back an hour), go."""
        session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
        session.execute(delete(StaffSignIn).where(StaffSignIn.created_at < now - timedelta(days=1)))
