"""The private link of a registration: a secret token, derived, never stored.

The token is an HMAC-SHA256, under the app's secret key, of the registration's ID and a random
128-bit nonce kept with the registration. It can be derived again for every later e-mail, yet a
copy of the database alone does not give anyone a working link. Only a SHA-256 of the token is
stored, to find the registration by; the token presented is then compared with the derived one
in constant time. Changing SECRET_KEY therefore invalidates every link sent so far.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from registrations.models import Registration

NONCE_BYTES = 16  # 128 random bits per registration
_MAX_TOKEN_LENGTH = 64


class LinkTokens:
    """Derives and checks link tokens with one secret."""

    def __init__(self, secret: str | bytes) -> None:
        self._secret = secret.encode() if isinstance(secret, str) else secret

    def token(self, registration: Registration) -> str:
        """The registration's token (43 URL-safe characters, 256 bits)."""
        if not registration.token_nonce:
            raise ValueError(f"registration {registration.id} has no link yet")
        return derive(self._secret, f"{registration.id}:{registration.token_nonce}")

    def issue(self, registration: Registration) -> str:
        """Give the registration a link (a new nonce) and return its token."""
        registration.token_nonce = secrets.token_hex(NONCE_BYTES)
        token = self.token(registration)
        registration.token_lookup = lookup_key(token)
        return token

    def find(self, session: Session, token: str) -> Registration | None:
        """The registration whose link this is; None for a wrong, forged or stale token alike."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        query = select(Registration).where(Registration.token_lookup == lookup_key(token))
        registration = session.scalar(query)
        if registration is None or not registration.token_nonce:
            return None
        if not hmac.compare_digest(self.token(registration), token):
            return None
        return registration

    def issue_missing(self, session: Session) -> int:
        """Links for registrations that predate them (made before the private link existed)."""
        query = select(Registration).where(
            Registration.token_lookup.is_(None), Registration.erased_at.is_(None)
        )
        missing = list(session.scalars(query))
        for registration in missing:
            self.issue(registration)
        return len(missing)


def derive(secret: bytes, message: str) -> str:
    """An HMAC-SHA256 of `message` under `secret`, as 43 URL-safe characters: a link's token
    derived from what the store keeps, never stored itself."""
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def lookup_key(token: str) -> str:
    """What the store keeps to find a token by: its SHA-256, which cannot be turned back."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
