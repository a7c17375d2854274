"""After each day of the event: who was absent (`nieobecność`), the summary's counts of present
and absent per day, and the contact's e-mail the next morning naming the absentees.

A confirmed participant without a presence on a day that has ended (midnight in the event's time
zone) is absent on it; every confirmed participant is expected on every day. The e-mail is
queued once per event and day (`absence_reports`), in the transaction that records it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from markupsafe import Markup

from checkin.models import AbsenceReport
from checkin.presence import absentees
from mail.html import document
from mail.outbox import enqueue
from mail.transport import compose
from registrations.event import Event
from registrations.models import Registration
from registrations.polish import date_text, plural
from store import Store

if TYPE_CHECKING:
    from config.services import Services

REPORT_HOUR = time(7, 0)  # the next morning, in the event's time zone
REPORT_WITHIN = timedelta(days=7)  # a day older than that is not reported any more
KIND = "staff_absences"


def report_due(event: Event, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), REPORT_HOUR, tzinfo=event.tz)


class AbsenceReports:
    """The worker's job: the contact's e-mail naming a day's absentees, the next morning."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        logger: logging.Logger,
        *,
        sender: str,
        base_url: str,
    ) -> None:
        self.store = store
        self.clock = clock
        self.logger = logger
        self.sender = sender
        self.base_url = base_url.rstrip("/")

    def run(self, events: Sequence[Event]) -> None:
        for event in events:
            for day in event.days:
                self.run_day(event, day)

    def run_day(self, event: Event, day: date) -> bool:
        """Queue the day's report if it is due and not queued yet; whether it was queued."""
        now = self.clock()
        due = report_due(event, day)
        if now < due or now > due + REPORT_WITHIN:
            return False
        with self.store.transaction() as session:
            if session.get(AbsenceReport, (event.slug, day)) is not None:
                return False
            session.add(AbsenceReport(event_slug=event.slug, day=day, queued_at=now))
            absent = absentees(session, event, day)
            if absent:
                message = self._message(event, day, absent)
                enqueue(session, message, kind=KIND, registration_id=None, now=now)
        self.logger.info("absences of %s on %s: %d reported", event.slug, day, len(absent))
        return bool(absent)

    def _message(self, event: Event, day: date, absent: list[Registration]) -> EmailMessage:
        link = f"{self.base_url}/obsluga/wydarzenia/{event.slug}/obecnosc?dzien={day.isoformat()}"
        count = plural(len(absent), "osoba", "osoby", "osób")
        intro = (
            f"w dniu {date_text(day)} na wydarzeniu „{event.title}” nie odnotowano obecności "
            f"{len(absent)} {'osoby' if len(absent) == 1 else 'osób'} z potwierdzonym miejscem:"
        )
        lines = [f"{r.id} – {r.full_name}, {r.enterprise_name}" for r in absent]
        outro = f"Listę obecności tego dnia (i możliwość poprawienia jej) zawiera strona: {link}"
        text = "\n".join(
            ["Dzień dobry,", "", intro, "", *(f"- {line}" for line in lines), "", outro, ""]
        )
        items = Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)
        html = Markup(
            "<p>Dzień dobry,</p><p>{}</p><ul>{}</ul><p>Listę obecności tego dnia (i możliwość "
            'poprawienia jej) zawiera <a href="{}">strona obecności</a>.</p>'
        ).format(intro, items, link)
        subject = f"Nieobecności {day:%d.%m}: {event.short_title or event.title} ({count})"
        return compose(
            sender=self.sender,
            to=[str(event.contact.email)],
            subject=subject,
            text=text,
            html=document(subject, str(html)),
            reply_to=str(event.contact.email),
        )


def make_absence_reports(svc: Services, logger: logging.Logger) -> AbsenceReports:
    return AbsenceReports(
        svc.store,
        svc.clock,
        logger,
        sender=svc.settings.mail_from,
        base_url=svc.settings.public_base_url,
    )
