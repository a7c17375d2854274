"""Check-in codes: made for a registration when first shown (its page, badge, reminder), found
again only through the store.

80 random bits in base32 (no look-alike characters beyond what base32 avoids, lower case in the
URL); nothing ties a code to the registration's ID or to the private link's token.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkin.models import CheckinCode
from checkin.store import insert_once
from mail.transport import Attachment
from registrations.models import Registration
from registrations.window import Transactions

CODE_BYTES = 10  # 80 bits
CHECKIN_RULE = "/o/<code>"


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii").lower()


def checkin_url(base_url: str, code: str) -> str:
    """The absolute URL a QR holds: `/o/<code>`."""
    return base_url.rstrip("/") + CHECKIN_RULE.replace("<code>", quote(code))


def codes_for(
    session: Session, registrations: Iterable[Registration], now: datetime
) -> dict[str, str]:
    """The codes of these registrations, made for those without one (a code made by another
    request at the same moment wins and is read back)."""
    wanted = {r.id: r for r in registrations if r.erased_at is None}
    if not wanted:
        return {}
    found = _existing(session, list(wanted))
    missing = [rid for rid in wanted if rid not in found]
    for registration_id in missing:
        values = {
            "registration_id": registration_id,
            "event_slug": wanted[registration_id].event_slug,
            "code": new_code(),
            "created_at": now,
        }
        insert_once(session, CheckinCode, values, ["registration_id"])
    if missing:
        found.update(_existing(session, missing))
    return found


def _existing(session: Session, ids: list[str]) -> dict[str, str]:
    rows = session.execute(
        select(CheckinCode.registration_id, CheckinCode.code).where(
            CheckinCode.registration_id.in_(ids)
        )
    )
    return {rid: code for rid, code in rows}


def registration_of(session: Session, code: str) -> Registration | None:
    """The registration a code belongs to; None for an unknown or erased one."""
    if not code or len(code) > 32:
        return None
    row = session.scalar(select(CheckinCode).where(CheckinCode.code == code.lower()))
    if row is None:
        return None
    return session.scalar(
        select(Registration).where(
            Registration.id == row.registration_id, Registration.erased_at.is_(None)
        )
    )


def delete_codes(session: Session, registration_ids: list[str]) -> None:
    """An erasure: the codes go with the person."""
    from sqlalchemy import delete

    session.execute(delete(CheckinCode).where(CheckinCode.registration_id.in_(registration_ids)))


def qr_svg(url: str, label: str) -> str:
    """The QR code of `url` as inline SVG markup (no data: URI, which the CSP refuses)."""
    return str(segno.make(url, error="m").svg_inline(scale=4, title=label, dark="#000"))


def qr_png(url: str) -> bytes:
    """The QR code of `url` as a PNG (for the badges and certificates)."""
    import io

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=1)
    return buffer.getvalue()


def code_of_registration(registration: Registration) -> str | None:
    """The code of an active registration (made now if it has none); None otherwise."""
    from config.services import services
    from registrations.status import Status

    if registration.erased_at is not None or not Status(registration.status).active:
        return None
    svc = services()
    with svc.store.transaction() as session:
        return codes_for(session, [registration], svc.now()).get(registration.id)


def checkin_qr(registration: Registration) -> dict[str, str] | None:
    """What the private page shows: the QR (inline SVG) of the check-in URL, or None."""
    from config.services import services

    code = code_of_registration(registration)
    if code is None:
        return None
    url = checkin_url(services().settings.public_base_url, code)
    label = f"Kod QR do odnotowania obecności, zgłoszenie {registration.id}"
    return {"svg": qr_svg(url, label), "id": registration.id}


def badge_codes(store: Transactions, slug: str, now: datetime) -> dict[int, tuple[str, bytes]]:
    """The badges' QR codes: for each confirmed registration (by `seq`) its ID and the PNG of
    its check-in URL; codes made for those without one."""
    from registrations.status import Status

    with store.transaction() as session:
        rows = list(
            session.scalars(
                select(Registration).where(
                    Registration.event_slug == slug,
                    Registration.status == Status.CONFIRMED.value,
                    Registration.erased_at.is_(None),
                )
            )
        )
        codes = codes_for(session, rows, now)
        ids = {r.seq: r.id for r in rows}
    base = _base_url()
    return {seq: (rid, qr_png(checkin_url(base, codes[rid]))) for seq, rid in ids.items()}


def _base_url() -> str:
    """The service's public address (outside a request, the settings' default)."""
    from flask import has_app_context

    from config.settings import Settings

    if has_app_context():
        from config.services import services

        return services().settings.public_base_url
    return str(Settings.model_fields["public_base_url"].default)


def reminder_part(
    store: Transactions, registration: Registration, now: datetime
) -> dict[str, object] | None:
    """For the reminder e-mail (issue 19): the check-in code's URL, the registration's ID, a
    sentence for the text part and the QR as a PNG to attach (`kod-obecnosci.png`); None for a
    registration that is not active. The reminder composer calls this when it sends."""
    from registrations.status import Status

    if registration.erased_at is not None or not Status(registration.status).active:
        return None
    with store.transaction() as session:
        code = codes_for(session, [registration], now)[registration.id]
    url = checkin_url(_base_url(), code)
    return {
        "url": url,
        "id": registration.id,
        "text": (
            "W dniu wydarzenia prosimy pokazać organizatorom kod QR z załącznika "
            f"(kod-obecnosci.png, numer zgłoszenia {registration.id})."
        ),
        "png": qr_png(url),
        "filename": "kod-obecnosci.png",
    }


CHECKIN_SENTENCE = (
    "w załączniku (kod-obecnosci.png) – prosimy pokazać go organizatorom w dniu wydarzenia"
)


def checkin_attachment(
    session: Session, registration: Registration, base_url: str
) -> Attachment | None:
    """The reminder's attachment: the QR of the registration's check-in code (made when the
    reminder was queued); None when it has none (read only: the e-mail is composed in a read)."""
    code = _existing(session, [registration.id]).get(registration.id)
    if code is None:
        return None
    return Attachment("kod-obecnosci.png", qr_png(checkin_url(base_url, code)), "image", "png")
