"""The store's side of spreadsheet sync: what is pending, what was done, how it went."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from registrations.models import EventState, Registration
from store.models import Erasure, SyncStatus


def _not_in(target: str) -> ColumnElement[bool]:
    """Not in `target` yet, or changed since its row was written there; never an erased one
    (its row is deleted, not written)."""
    return and_(
        Registration.erased_at.is_(None),
        or_(
            Registration.synced_to.is_(None),
            Registration.synced_to != target,
            Registration.synced_version.is_(None),
            Registration.synced_version != Registration.version,
        ),
    )


def pending(session: Session, slug: str, target: str, limit: int) -> list[Registration]:
    """The oldest registrations of an event whose row in `target` is missing or out of date."""
    query = (
        select(Registration)
        .where(Registration.event_slug == slug, _not_in(target))
        .order_by(Registration.seq)
        .limit(limit)
    )
    return list(session.scalars(query))


def pending_stats(session: Session, targets: dict[str, str]) -> tuple[int, datetime | None]:
    """How many registrations wait for their event's target, and since when the oldest."""
    count, oldest = 0, None
    for slug, target in targets.items():
        query = select(func.count(), func.min(Registration.received_at)).where(
            Registration.event_slug == slug, _not_in(target)
        )
        n, first = session.execute(query).one()
        count += n
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return count, oldest


def any_synced(session: Session, slug: str, target: str) -> bool:
    """Whether `target` should already hold rows of the event."""
    query = select(Registration.id).where(
        Registration.event_slug == slug, Registration.synced_to == target
    )
    return session.scalar(query.limit(1)) is not None


def has_registrations(session: Session, slug: str) -> bool:
    query = select(Registration.id).where(Registration.event_slug == slug)
    return session.scalar(query.limit(1)) is not None


def erased_ids(session: Session, slug: str) -> set[str]:
    """Every erased registration of the event: a row of theirs found in the sheet is deleted."""
    query = select(Registration.id).where(
        Registration.event_slug == slug, Registration.erased_at.is_not(None)
    )
    return set(session.scalars(query))


def sheet_erasure_pending(session: Session, slug: str) -> bool:
    """Whether an erased registration's row may still be in the event's sheet."""
    query = select(Registration.id).where(
        Registration.event_slug == slug,
        Registration.erased_at.is_not(None),
        Registration.sheet_erased_at.is_(None),
    )
    return session.scalar(query.limit(1)) is not None


def mark_sheet_erased(session: Session, slug: str, now: datetime) -> list[str]:
    """The event's erased registrations have no row in the sheet any more; their IDs."""
    query = select(Registration).where(
        Registration.event_slug == slug,
        Registration.erased_at.is_not(None),
        Registration.sheet_erased_at.is_(None),
    )
    done = list(session.scalars(query.with_for_update()))
    for registration in done:
        registration.sheet_erased_at = now
    ids = [registration.id for registration in done]
    if ids:  # the audit says when the erasure was complete
        session.execute(
            update(Erasure)
            .where(Erasure.registration_id.in_(ids), Erasure.sheet_erased_at.is_(None))
            .values(sheet_erased_at=now)
        )
    return ids


def mark_synced(session: Session, versions: dict[str, int], target: str, now: datetime) -> None:
    """Each registration's row in `target` now shows the version given (a later change keeps
    it pending)."""
    by_version: dict[int, list[str]] = {}
    for registration_id, version in versions.items():
        by_version.setdefault(version, []).append(registration_id)
    for version, ids in by_version.items():
        session.execute(
            update(Registration)
            .where(Registration.id.in_(ids))
            .values(synced_to=target, synced_at=now, synced_version=version)
        )


def synced_ids(session: Session, slug: str, target: str) -> set[str]:
    """The event's registrations whose row `target` should hold (erased ones have none)."""
    query = select(Registration.id).where(
        Registration.event_slug == slug,
        Registration.synced_to == target,
        Registration.erased_at.is_(None),
    )
    return set(session.scalars(query))


def forget_rows(session: Session, ids: Iterable[str]) -> None:
    """These registrations' rows are gone from their sheet: pending again."""
    session.execute(
        update(Registration)
        .where(Registration.id.in_(list(ids)))
        .values(synced_to=None, synced_at=None, synced_version=None)
    )


def forget_synced(session: Session, slug: str, target: str) -> int:
    """Everything in `target` is pending again (its worksheet was recreated empty, or staff
    saved an older copy over it), and the summary is written again (a workbook deleted to be
    rebuilt took it along)."""
    session.execute(
        update(EventState).where(EventState.slug == slug).values(summary_fingerprint=None)
    )
    result = session.execute(
        update(Registration)
        .where(Registration.event_slug == slug, Registration.synced_to == target)
        .values(synced_to=None, synced_at=None, synced_version=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_success(session: Session, target: str, now: datetime) -> None:
    status = session.get(SyncStatus, target) or SyncStatus(target=target)
    status.last_success_at = now
    status.last_error = None
    status.last_error_code = None
    status.last_error_at = None
    session.add(status)


def record_error(session: Session, target: str, message: str, code: str, now: datetime) -> bool:
    """Remember the problem; True when it is new (so it is logged once, not every minute)."""
    status = session.get(SyncStatus, target) or SyncStatus(target=target)
    is_new = status.last_error != message
    status.last_error = message
    status.last_error_code = code
    status.last_error_at = now
    session.add(status)
    return is_new


def statuses(session: Session, targets: Iterable[str]) -> list[SyncStatus]:
    return list(session.scalars(select(SyncStatus).where(SyncStatus.target.in_(list(targets)))))


def decisions_read_at(session: Session, target: str) -> datetime | None:
    """When staff decisions were last read from `target` (a decision seen now was typed later)."""
    status = session.get(SyncStatus, target)
    return status.decisions_read_at if status is not None else None


def record_decisions_read(session: Session, target: str, at: datetime) -> None:
    status = session.get(SyncStatus, target) or SyncStatus(target=target)
    status.decisions_read_at = at
    session.add(status)


@dataclass(frozen=True)
class SheetWork:
    """What a save in the staff pages left for the sheet: worksheets to rename (from these
    titles; registrations synced to `target_from` are in the renamed one), a protection to
    remove after registration was reopened."""

    renamed_from: str | None
    summary_renamed_from: str | None
    target_from: str | None
    reopened_at: datetime | None

    @property
    def any(self) -> bool:
        return self.renamed_from is not None or self.reopened_at is not None


def sheet_work(session: Session, slug: str) -> SheetWork | None:
    query = select(
        EventState.renamed_from,
        EventState.summary_renamed_from,
        EventState.renamed_target_from,
        EventState.reopened_at,
    ).where(EventState.slug == slug)
    row = session.execute(query).one_or_none()
    work = SheetWork(*row) if row is not None else None
    return work if work is not None and work.any else None


def renamed(session: Session, slug: str, work: SheetWork, target: str) -> None:
    """The worksheets have their new titles: rows synced to the old target are in the new one."""
    if work.target_from is not None and work.target_from != target:
        session.execute(
            update(Registration)
            .where(Registration.event_slug == slug, Registration.synced_to == work.target_from)
            .values(synced_to=target)
        )
    session.execute(
        update(EventState)
        .where(EventState.slug == slug, EventState.renamed_from == work.renamed_from)
        .values(renamed_from=None, summary_renamed_from=None, renamed_target_from=None)
    )


def unprotected(session: Session, slug: str, work: SheetWork) -> None:
    session.execute(
        update(EventState)
        .where(EventState.slug == slug, EventState.reopened_at == work.reopened_at)
        .values(reopened_at=None)
    )
