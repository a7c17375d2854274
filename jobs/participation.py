"""The sheet worker's job before each event: reminders due, offers opened, expired and passed
on, and the contact's list of those who have not answered (`registrations.before_event`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from config.services import Services
from mail.outbox import enqueue
from mail.participants import ParticipantMail
from mail.participation import STAFF_UNANSWERED, offer_mail_state
from registrations.before_event import Participations, send_unanswered_list
from registrations.event import Event
from registrations.models import Registration


def participations(svc: Services) -> Participations:
    """The answers' operations over the service's registrations and outbox."""
    return Participations(svc.registrations, offer_mail_state)


class BeforeEvent:
    """One round: for each published event, what is due now (most rounds: reads only)."""

    def __init__(self, svc: Services, mail: ParticipantMail, logger: logging.Logger) -> None:
        self.svc = svc
        self.mail = mail
        self.logger = logger
        self.operations = participations(svc)

    def run(self, events: Sequence[Event]) -> None:
        woken = False
        for event in events:
            now = self.svc.now()
            if now >= event.starts_at:
                continue
            reminded = self.operations.send_reminders(event, now)
            if reminded:
                self.logger.info("%d reminder(s) of %s queued", len(reminded), event.slug)
            offered = self.operations.run_offers(event, now)

            listed = send_unanswered_list(self.svc.store, event, now, self._queue(event, now))
            woken = woken or bool(reminded) or offered or listed
        if woken:
            self.svc.mail_worker.wake()

    def _queue(self, event: Event, now: datetime) -> Callable[[Session, list[Registration]], None]:
        """Queues the contact's list of those who have not answered."""

        def queue(session: Session, people: list[Registration]) -> None:
            message = self.mail.before_event.unanswered(event, people)
            enqueue(session, message, kind=STAFF_UNANSWERED, registration_id=None, now=now)

        return queue
