"""What an erasure removes of the check-in and the certificates, and what "my data" shows of them.

The check-in code and the certificate go (its verification page then answers as for an unknown
code); the days present stay with the registration's ID, as dates only, so the counts remain.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from certificates.models import Certificate
from checkin.codes import delete_codes
from checkin.models import Presence
from checkin.presence import forget_times


def forget_checkin_and_certificates(session: Session, registration_ids: list[str]) -> None:
    """In the erasure's transaction, before the registrations are scrubbed."""
    if not registration_ids:
        return
    delete_codes(session, registration_ids)
    forget_times(session, registration_ids)
    session.execute(delete(Certificate).where(Certificate.registration_id.in_(registration_ids)))


def presence_and_certificate(
    session: Session, registration_id: str
) -> tuple[list[date], str | None]:
    """The days present and the certificate's number (`<n>/<year>`), for the person's own data."""
    days = list(
        session.scalars(
            select(Presence.day)
            .where(Presence.registration_id == registration_id)
            .order_by(Presence.day)
        )
    )
    certificate = session.get(Certificate, registration_id)
    return days, certificate.label if certificate is not None else None
