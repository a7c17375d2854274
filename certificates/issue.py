"""Who qualifies for a certificate, and issuing them: numbered once under the year's lock, sent
once as a PDF attached to a Polish e-mail, reissued with the same number, revoked.

Nothing is sent by itself: staff send from the lists page or `flask --app app certificates
--event SLUG --send`, after the event has ended. The PDF is made from the registration when it
is sent or downloaded, so a corrected name is on the reissued one and an erasure leaves nothing.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates.models import Certificate, CertificateCounter
from certificates.pdf import CertificatePage, render_certificate
from certificates.text import fill
from checkin.presence import confirmed, presence_by_registration
from checkin.store import insert_once
from config.organisation import Organisation
from mail.html import document
from mail.outbox import enqueue
from mail.transport import Attachment, compose
from registrations.allocation import lock_event
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import Registration
from registrations.polish import event_dates_text
from store import Store

KIND = "certificate"
VERIFY_RULE = "/zaswiadczenie/<code>"
NOT_YET = "Zaświadczenia wystawia się po zakończeniu wydarzenia."


class TooEarly(Exception):
    """The event has not ended yet."""


@dataclass(frozen=True)
class Entry:
    """One confirmed participant on the certificates' list."""

    registration: Registration
    days_present: int
    qualifies: bool
    certificate: Certificate | None


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def verification_url(base_url: str, code: str) -> str:
    return base_url.rstrip("/") + VERIFY_RULE.replace("<code>", quote(code))


def min_days(event: Event) -> int:
    return min(event.certificate_min_days or len(event.days), len(event.days))


def entries(session: Session, event: Event) -> list[Entry]:
    """Every confirmed participant with days present, whether they qualify, and any certificate."""
    people = confirmed(session, event.slug)
    present = presence_by_registration(session, event.slug, [p.id for p in people])
    issued = {
        c.registration_id: c
        for c in session.scalars(select(Certificate).where(Certificate.event_slug == event.slug))
    }
    needed = min_days(event)
    return [
        Entry(p, len(present.get(p.id, {})), len(present.get(p.id, {})) >= needed, issued.get(p.id))
        for p in people
    ]


def next_number(session: Session, year: int) -> int:
    """The year's next number, under the counter row's lock: never given twice, never reused."""
    insert_once(session, CertificateCounter, {"year": year, "last": 0}, ["year"])
    counter = session.get(CertificateCounter, year, with_for_update=True, populate_existing=True)
    assert counter is not None
    counter.last += 1
    session.flush()
    return counter.last


class Certificates:
    """Issuing, for the staff pages and the command."""

    def __init__(
        self,
        store: Store,
        organisation: Organisation,
        *,
        base_url: str,
        sender: str,
        link_for: Callable[[Registration], str],
    ) -> None:
        self.store = store
        self.organisation = organisation
        self.base_url = base_url
        self.sender = sender
        self.link_for = link_for

    def listed(self, event: Event) -> list[Entry]:
        with self.store.reading() as session:
            found = entries(session, event)
            session.expunge_all()
        return found

    def send(self, event: Event, now: datetime, actor: str) -> list[str]:
        """Number and send a certificate to each who qualifies and has none; their IDs."""
        if now < event.finishes_at:
            raise TooEarly(NOT_YET)
        sent: list[str] = []
        with self.store.transaction() as session:
            lock_event(session, event, check=False)  # two `Wyślij` at once: one sends
            for entry in entries(session, event):
                if not entry.qualifies or entry.certificate is not None:
                    continue
                issued_on = event.local(now).date()
                certificate = Certificate(
                    registration_id=entry.registration.id,
                    event_slug=event.slug,
                    year=issued_on.year,
                    number=next_number(session, issued_on.year),
                    code=new_code(),
                    issued_at=now,
                )
                session.add(certificate)
                session.flush()
                self._mail(session, event, entry.registration, certificate, now)
                sent.append(entry.registration.id)
            if sent:
                record(
                    session,
                    actor=actor,
                    action=Action.CERTIFICATES_SENT,
                    at=now,
                    event_slug=event.slug,
                    registration_ids=sent,
                )
        return sent

    def reissue(self, event: Event, registration_id: str, now: datetime, actor: str) -> bool:
        """The same number, a new PDF (after a name correction), sent again."""
        with self.store.transaction() as session:
            lock_event(session, event, check=False)
            certificate, registration = self._issued(session, event, registration_id)
            if certificate is None or registration is None or certificate.revoked_at is not None:
                return False
            certificate.reissued_at = now
            self._mail(session, event, registration, certificate, now)
            record(
                session,
                actor=actor,
                action=Action.CERTIFICATE_REISSUED,
                at=now,
                event_slug=event.slug,
                registration_ids=[registration_id],
            )
        return True

    def revoke(self, event: Event, registration_id: str, now: datetime, actor: str) -> bool:
        """Revoked: its verification page answers as for an unknown code; the number stays used."""
        with self.store.transaction() as session:
            certificate, _ = self._issued(session, event, registration_id)
            if certificate is None or certificate.revoked_at is not None:
                return False
            certificate.revoked_at = now
            certificate.revoked_by = actor
            record(
                session,
                actor=actor,
                action=Action.CERTIFICATE_REVOKED,
                at=now,
                event_slug=event.slug,
                registration_ids=[registration_id],
            )
        return True

    def pdf(self, event: Event, registration_id: str) -> bytes | None:
        """The PDF of a valid certificate, made now from the registration; None otherwise."""
        with self.store.reading() as session:
            certificate, registration = self._issued(session, event, registration_id)
            if certificate is None or registration is None or certificate.revoked_at is not None:
                return None
            return self._render(event, registration, certificate)

    def _issued(
        self, session: Session, event: Event, registration_id: str
    ) -> tuple[Certificate | None, Registration | None]:
        certificate = session.get(Certificate, registration_id)
        if certificate is None or certificate.event_slug != event.slug:
            return None, None
        registration = session.scalar(
            select(Registration).where(
                Registration.id == registration_id, Registration.erased_at.is_(None)
            )
        )
        return certificate, registration

    def _render(self, event: Event, registration: Registration, certificate: Certificate) -> bytes:
        assert certificate.code is not None
        text = fill(
            event.certificate_text or self.organisation.certificate_text,
            {
                "imie_nazwisko": registration.full_name,
                "przedsiebiorstwo": registration.enterprise_name,
                "wydarzenie": event.title,
                "termin": event_dates_text(event),
                "miejsce": event.venue,
            },
        )
        issued = certificate.reissued_at or certificate.issued_at
        return render_certificate(
            CertificatePage(
                number=certificate.label,
                text=text,
                issued_on=event.local(issued).date(),
                place=self.organisation.certificate_place,
                organisation=self.organisation.name,
                signatory_name=event.certificate_signatory_name
                or self.organisation.certificate_signatory_name,
                signatory_role=event.certificate_signatory_role
                or self.organisation.certificate_signatory_role,
                verification_url=verification_url(self.base_url, certificate.code),
            )
        )

    def _mail(
        self,
        session: Session,
        event: Event,
        registration: Registration,
        certificate: Certificate,
        now: datetime,
    ) -> None:
        from registrations.desk import has_address

        if not has_address(registration):  # registered by phone: staff hand the PDF over
            return
        enqueue(
            session,
            self._message(event, registration, certificate),
            kind=KIND,
            registration_id=registration.id,
            now=now,
        )

    def _message(
        self, event: Event, registration: Registration, certificate: Certificate
    ) -> EmailMessage:
        link = self.link_for(registration)
        intro = (
            f"w załączniku przesyłamy zaświadczenie o udziale w wydarzeniu „{event.title}” "
            f"(nr {certificate.label})."
        )
        more = f"Zaświadczenie można też pobrać ze strony zgłoszenia: {link}"
        thanks = "Dziękujemy za udział."
        text = "\n".join(["Dzień dobry,", "", intro, "", more, "", thanks, "", event.contact.name])
        html = Markup(
            "<p>Dzień dobry,</p><p>{}</p><p>Zaświadczenie można też pobrać ze "
            '<a href="{}">strony zgłoszenia</a>.</p><p>{}</p><p>{}</p>'
        ).format(intro, link, thanks, event.contact.name)
        subject = f"Zaświadczenie o udziale: {event.short_title or event.title}"
        slug_number = certificate.label.replace("/", "-")
        return compose(
            sender=self.sender,
            to=[registration.email],
            subject=subject,
            text=text,
            html=document(subject, str(html)),
            reply_to=str(event.contact.email),
            attachments=(
                Attachment(
                    f"zaswiadczenie-{slug_number}.pdf",
                    self._render(event, registration, certificate),
                    "application",
                    "pdf",
                ),
            ),
        )


def verify(store: Store, code: str) -> tuple[Certificate, Registration] | None:
    """A valid certificate by its verification code; None for unknown, revoked or erased."""
    if not code or len(code) > 32:
        return None
    with store.reading() as session:
        certificate = session.scalar(select(Certificate).where(Certificate.code == code.lower()))
        if certificate is None or certificate.revoked_at is not None:
            return None
        registration = session.scalar(
            select(Registration).where(
                Registration.id == certificate.registration_id, Registration.erased_at.is_(None)
            )
        )
        if registration is None:
            return None
        session.expunge_all()
    return certificate, registration


def make_certificates(svc: object) -> Certificates:
    from config.services import Services

    assert isinstance(svc, Services)
    return Certificates(
        svc.store,
        svc.organisation,
        base_url=svc.settings.public_base_url,
        sender=svc.settings.mail_from,
        link_for=svc.link_for,
    )
