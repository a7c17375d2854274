"""After the close-off staff may have printed lists: late status changes reach them by e-mail.

At most one e-mail per `STAFF_DIGEST_MINUTES`, listing every status change since the previous
one (who cancelled, who was promoted, confirmed or rejected). The e-mail is queued in the outbox
in the same transaction that moves the digest's cursor, so each change is reported once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.services import Services
from mail.html import document
from mail.outbox import enqueue
from mail.transport import compose
from registrations.before_event import to_phone
from registrations.erasure import ERASED, ErasedBy
from registrations.event import Event
from registrations.models import EventState, Registration, StatusChange
from registrations.polish import CHANGES, datetime_pl
from registrations.status import Status
from store import Store

PHONE_HEADING = "Do obdzwonienia (bez adresu e-mail, nie dostają przypomnienia):"
ACTORS = {
    "participant": "uczestnik",
    "staff": "organizator",
    "system": "automatycznie",
    "erasure": "usunięcie danych",
}


class Digest:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        logger: logging.Logger,
        *,
        sender: str,
        staff_email: str | None,
        every: timedelta,
    ) -> None:
        self.store = store
        self.clock = clock
        self.logger = logger
        self.sender = sender
        self.staff_email = staff_email
        self.every = every

    def run(self, events: Sequence[Event]) -> None:
        """The background job: one digest per event that is due and has something to say."""
        for event in events:
            self.run_event(event)

    def run_event(self, event: Event) -> bool:
        """True when a digest was queued."""
        now = self.clock()
        with self.store.transaction() as session:
            state = session.get(EventState, event.slug, with_for_update=True)
            if state is None or state.closed_off_at is None:
                return False
            if state.digest_sent_at is not None and now - state.digest_sent_at < self.every:
                return False
            changes = _changes_since(session, event, state)
            if not changes:
                return False
            names = _names(session, [change.registration_id for change in changes])
            message = self._message(event, changes, names, to_phone(session, event, now))
            enqueue(session, message, kind="staff_digest", registration_id=None, now=now)
            state.digest_sent_at = now
            state.digest_cursor = changes[-1].id
        self.logger.info("digest of %d late change(s) of %s queued", len(changes), event.slug)
        return True

    def _message(
        self,
        event: Event,
        changes: list[StatusChange],
        names: dict[str, tuple[str, str]],
        phone: Sequence[Registration] = (),
    ) -> EmailMessage:
        lines = [_line(event, change, names) for change in changes]
        intro = (
            f"Po zamknięciu zapisów na „{event.title}” zmieniły się statusy zgłoszeń. "
            "Jeśli listy są już wydrukowane, należy nanieść na nie te zmiany:"
        )
        text = "\n".join(["Dzień dobry,", "", intro, "", *(f"- {line}" for line in lines), ""])
        items = Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)
        html = Markup("<p>Dzień dobry,</p><p>{}</p><ul>{}</ul>").format(intro, items)
        if phone:  # confirmed people without an address get no reminder (issue 19)
            calls = [f"{r.id} – {r.full_name}, tel. {r.phone}" for r in phone]
            text += "\n".join(["", PHONE_HEADING, *(f"- {line}" for line in calls), ""])
            html += Markup("<h2>{}</h2><ul>{}</ul>").format(
                PHONE_HEADING, Markup("").join(Markup("<li>{}</li>").format(c) for c in calls)
            )
        subject = (
            f"Zmiany po zamknięciu zapisów: {event.short_title or event.title} "
            f"({CHANGES(len(changes))})"
        )
        return compose(
            sender=self.sender,
            to=[self.staff_email or str(event.contact.email)],
            subject=subject,
            text=text,
            html=document(subject, str(html)),
            reply_to=str(event.contact.email),
        )


def _changes_since(session: Session, event: Event, state: EventState) -> list[StatusChange]:
    """Changes staff must carry over to printed lists: not the purge after the event ended."""
    query = select(StatusChange).where(
        StatusChange.event_slug == event.slug, StatusChange.actor != ErasedBy.RETENTION.value
    )
    if state.digest_cursor is not None:
        query = query.where(StatusChange.id > state.digest_cursor)
    else:
        assert state.closed_off_at is not None
        query = query.where(StatusChange.changed_at >= state.closed_off_at)
    return list(session.scalars(query.order_by(StatusChange.id)))


def _names(session: Session, ids: list[str]) -> dict[str, tuple[str, str]]:
    """Names of the registrations that still have them: an erased one is shown by its ID only."""
    query = select(Registration).where(Registration.id.in_(ids), Registration.erased_at.is_(None))
    return {r.id: (r.full_name, r.enterprise_name) for r in session.scalars(query)}


def _line(event: Event, change: StatusChange, names: dict[str, tuple[str, str]]) -> str:
    name, enterprise = names.get(change.registration_id, (ERASED, ""))
    when = datetime_pl(event.local(change.changed_at))
    old, new = Status(change.old_status).label, Status(change.new_status).label
    who = ACTORS.get(change.actor, change.actor)
    firm = f" ({enterprise})" if enterprise else ""
    return f"{when} – {name}{firm}, {change.registration_id}: {old} → {new} ({who})"


def make_digest(svc: Services, logger: logging.Logger) -> Digest:
    return Digest(
        svc.store,
        svc.clock,
        logger,
        sender=svc.settings.mail_from,
        staff_email=svc.settings.staff_email,
        every=timedelta(minutes=svc.settings.staff_digest_minutes),
    )
