"""Retention: `retention_days` after an event ends, every registration of it is erased.

Without the key nothing is purged (projects funded from EU programmes must often keep
participant records for years: staff decide, per event). The worker runs `run_due` each round;
`flask --app app retention` lists the plan and purges what is due, for cron.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from config.services import Services
from privacy.erasure import Eraser, EventErasure
from registrations.erasure import ErasedBy, purge_due, purge_on
from registrations.event import Event
from registrations.models import EventState, Registration


@dataclass(frozen=True)
class Plan:
    """Where one event stands: when it is purged and how many registrations still hold data."""

    event: Event
    purge_on: date | None  # None: no `retention_days`, kept
    remaining: int  # registrations with personal data
    purged_at: datetime | None
    due: bool


class Retention:
    def __init__(self, svc: Services, logger: logging.Logger, *, command: str) -> None:
        self.svc = svc
        self.logger = logger
        self.command = command
        self.eraser = Eraser(svc, logger)

    def plan(self, events: Sequence[Event]) -> list[Plan]:
        now = self.svc.now()
        plans = []
        with self.svc.store.transaction() as session:
            for event in events:
                remaining = session.scalar(
                    select(func.count()).where(
                        Registration.event_slug == event.slug, Registration.erased_at.is_(None)
                    )
                )
                state = session.get(EventState, event.slug)
                purged_at = state.purged_at if state is not None else None
                # A save in the staff pages that brought the purge near holds it back a day.
                not_before = state.purge_not_before if state is not None else None
                held = not_before is not None and now < not_before
                due = purge_due(event, now) and (bool(remaining) or purged_at is None) and not held
                plans.append(Plan(event, purge_on(event), remaining or 0, purged_at, due))
        return plans

    def purge(self, event: Event) -> EventErasure:
        """Erase every registration of the event that still holds data (the summary's numbers
        are kept), and record the purge."""
        with self.svc.store.transaction() as session:
            query = select(Registration.id).where(
                Registration.event_slug == event.slug, Registration.erased_at.is_(None)
            )
            ids = list(session.scalars(query.order_by(Registration.seq)))
        result = self.eraser.erase(
            event, ids, by=ErasedBy.RETENTION, command=self.command, keep_summary=True
        )
        with self.svc.store.transaction() as session:
            state = session.get(EventState, event.slug, with_for_update=True)
            if state is not None and state.purged_at is None:
                state.purged_at = self.svc.now()
        return result

    def run_due(self, events: Sequence[Event]) -> list[EventErasure]:
        """The worker's job: purge each event that is due; its sheet rows go in the next sync
        round (the worker is woken)."""
        now = self.svc.now()
        candidates = [event for event in events if purge_due(event, now)]  # most rounds: none
        done = [self.purge(plan.event) for plan in self.plan(candidates) if plan.due]
        for result in done:
            self.logger.info(
                "retention: %d registration(s) of %s erased", len(result.erased), result.event.slug
            )
        if done:
            self.svc.worker.wake()
        return done


def make_retention(svc: Services, logger: logging.Logger) -> Retention:
    """The worker's retention job."""
    return Retention(svc, logger, command="worker (retention_days)")
