"""Events made in the staff pages: created, saved (each save a version), published, withdrawn,
deleted, closed and reopened; each one transaction, recorded in the staff's history.

Every change takes the catalogue's revision row first (which also tells every process to read
the events again) and then the event's state row, the lock registrations take: so two saves
never pass each other's checks (a slug, a short title, a version), and a registration commits
either before a save, under the old rules, or after it, under the new ones. A live event's
change does what its rules say at that moment: a raised capacity fills the freed seats, a
deadline moved into the past closes registration, one moved later after a close-off reopens it
(only when staff say so), a new short title renames the worksheets (the worker does it in the
sheet), a purge brought near is confirmed first and waits a day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from catalogue.catalogue import Entry, EventCatalogue, Snapshot, bump, stored_data
from registrations.allocation import waiting_list
from registrations.answers import EventQuestion
from registrations.erasure import purge_on
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import EventState, EventVersion, Registration
from registrations.notices import Notice, NoticeKind
from registrations.operations import Registrations, republish_calendar
from registrations.polish import date_pl, datetime_pl, event_dates, plural
from registrations.powiaty import fold
from registrations.status import Status
from registrations.window import Transactions

RESERVED_SLUGS = frozenset({"nowe"})  # /obsluga/wydarzenia/nowe is the new-event form
SLUG_TITLE_LENGTH = 50
PURGE_NOTICE = timedelta(days=7)  # a purge nearer than this after a save is confirmed first
PURGE_DELAY = timedelta(hours=24)  # … and waits this long after the save
# What participants are told about when it changes (`Powiadom uczestników`).
ANNOUNCED = ("starts_on", "ends_on", "venue", "provided")


class Consequence(StrEnum):
    """A consequence of a save that staff confirm before it is made (form value)."""

    CLOSE = "zamkniecie"  # the deadline moved into the past: registration closes now
    REOPEN = "otwarcie"  # a later deadline after a close-off: `Otwórz zapisy ponownie`
    PURGE = "usuniecie-danych"  # the retention purge comes within 7 days


@dataclass(frozen=True)
class Confirmation:
    kind: Consequence
    message: str


class NotEditable(Exception):
    """No event made in the staff pages under this slug (unknown, or an event file)."""


class EditRefused(Exception):
    """The save breaks a rule of the catalogue; `errors` maps form fields to Polish messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class StaleEdit(Exception):
    """The form was made from an older version than the one saved since: nothing saved."""

    def __init__(self, current: Event) -> None:
        super().__init__(current.slug)
        self.current = current


class NeedsConfirmation(Exception):
    """The save has consequences staff have not confirmed yet: nothing saved."""

    def __init__(self, confirmations: list[Confirmation]) -> None:
        super().__init__([c.kind.value for c in confirmations])
        self.confirmations = confirmations


class ActionRefused(Exception):
    """Publishing, withdrawing, deleting, closing or reopening is not possible now (why, in
    Polish, for the page)."""


@dataclass(frozen=True)
class Facts:
    """An event's registrations as the rules of a change need them."""

    total: int = 0  # every registration ever made, erased ones too
    confirmed: int = 0
    waitlisted: int = 0
    with_data: int = 0  # not erased

    @property
    def active(self) -> int:
        return self.confirmed + self.waitlisted


@dataclass(frozen=True)
class Saved:
    """What a save did, for the page to say."""

    event: Event
    notes: list[str] = field(default_factory=list)
    notified: int = 0


def make_slug(title: str, starts_on: date, taken: Iterable[str]) -> str:
    """The title folded to `a-z0-9-`, cut at 50, with `-YYYY-MM` of its start; `-2`, `-3` …
    while the slug is taken."""
    words = "-".join(fold(title).replace("-", " ").split())[:SLUG_TITLE_LENGTH].strip("-")
    base = f"{words or 'wydarzenie'}-{starts_on:%Y-%m}"
    used = set(taken) | RESERVED_SLUGS
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    return slug


def next_consent_version(slug: str, old: Event | None, new: Event) -> str:
    """`<slug>-v1`, then a new number whenever a consent text changes."""
    if old is None:
        return f"{slug}-v1"
    if (old.consent_text, old.image_consent_text) == (new.consent_text, new.image_consent_text):
        return old.consent_version
    found = re.search(r"-v(\d+)$", old.consent_version)
    return f"{slug}-v{int(found.group(1)) + 1 if found else 2}"


def changed_fields(old: Event, new: Event) -> list[str]:
    """The keys whose values differ, named as the form names them (`contact_email`)."""
    before, after = _flat(old), _flat(new)
    return [name for name in after if before.get(name) != after[name]]


def _flat(event: Event) -> dict[str, Any]:
    data = event.model_dump(mode="json", exclude={"consent_version"})
    flat = {key: value for key, value in data.items() if key not in ("contact", "sheets")}
    flat.update({f"contact_{key}": value for key, value in data["contact"].items()})
    flat.update(data["sheets"])
    return flat


def purge_starts(event: Event) -> datetime | None:
    """When the event's retention purge begins: 00:00 of its day in the event's time zone."""
    day = purge_on(event)
    return datetime.combine(day, time(0), tzinfo=event.tz) if day is not None else None


class EventEditor:
    """The changes staff make to events, each in one transaction under the event's lock."""

    def __init__(
        self,
        store: Transactions,
        catalogue: EventCatalogue,
        registrations: Registrations,
        sheet_target: Callable[[Event], str],
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.registrations = registrations
        self.sheet_target = sheet_target  # where an event's rows go (`Sink.target`)

    # -- reading --------------------------------------------------------------------------

    def facts(self, slug: str) -> Facts:
        with self.store.reading() as session:
            return _facts(session, slug)

    def version(self, slug: str) -> int | None:
        """The version in force of an event made in the staff pages."""
        with self.store.reading() as session:
            state = session.get(EventState, slug)
            return state.event_version if state is not None else None

    # -- creating and saving --------------------------------------------------------------

    def create(self, event: Event, *, chosen_slug: bool, by: str, now: datetime) -> Event:
        """A new draft (version 1). A slug made from the title is made again, should another
        event have taken it meanwhile; a slug staff chose is refused then."""
        with self.store.transaction() as session:
            snapshot = self._changing(session)
            slug = event.slug
            if not chosen_slug:
                slug = make_slug(event.title, event.starts_on, self._slugs(snapshot))
            elif problem := self._slug_problem(slug, snapshot):
                raise EditRefused({"slug": problem})
            draft = event.model_copy(
                update={"slug": slug, "consent_version": next_consent_version(slug, None, event)}
            )
            if errors := _duplicates(draft, snapshot.entries.values()):
                raise EditRefused(errors)
            session.add(
                EventVersion(
                    slug=slug, version=1, data=stored_data(draft), saved_by=by, saved_at=now
                )
            )
            session.add(EventState(slug=slug, event_version=1))
            record(session, actor=by, action=Action.EVENT_CREATED, at=now, event_slug=slug)
        return Event.stored(slug, json.loads(stored_data(draft)), 1)

    def save(
        self,
        slug: str,
        event: Event,
        *,
        base_version: int,
        by: str,
        now: datetime,
        confirmed: frozenset[Consequence] = frozenset(),
        notify: bool = False,
    ) -> Saved:
        """Save a new version over `base_version` (the one the form was made from)."""
        with self.store.transaction() as session:
            snapshot = self._changing(session)
            entry = snapshot.entry(slug)
            if entry is None or entry.from_file:
                raise NotEditable(slug)
            state = _lock(session, slug)
            old = entry.event
            if state.event_version != base_version:
                raise StaleEdit(old)
            facts = _facts(session, slug)
            errors = self._refusals(old, event, facts, snapshot)
            if errors:
                raise EditRefused(errors)
            published = state.published_at is not None
            needed = _confirmations(old, event, facts, state, now) if published else []
            if missing := [c for c in needed if c.kind not in confirmed]:
                raise NeedsConfirmation(missing)
            version = (state.event_version or 0) + 1
            new_slug = event.slug
            updated = event.model_copy(
                update={"consent_version": next_consent_version(new_slug, old, event)}
            )
            saved = Event.stored(new_slug, json.loads(stored_data(updated)), version)
            if new_slug != slug:
                state = _rename_slug(session, state, slug, new_slug)
            session.add(
                EventVersion(
                    slug=new_slug,
                    version=version,
                    data=stored_data(saved),
                    saved_by=by,
                    saved_at=now,
                )
            )
            state.event_version = version
            fields = changed_fields(old, saved)
            record(
                session,
                actor=by,
                action=Action.EVENT_SAVED,
                at=now,
                event_slug=new_slug,
                fields=fields,
                detail=f"v{version}",
            )
            notes: list[str] = []
            notified = 0
            if published:
                notes = self._live_effects(session, state, old, saved, facts, needed, by, now)
                if notify and facts.active and set(fields) & set(ANNOUNCED):
                    notified = self._notify(session, old, saved, by, now)
        return Saved(saved, notes, notified)

    def _live_effects(
        self,
        session: Session,
        state: EventState,
        old: Event,
        new: Event,
        facts: Facts,
        confirmed: Sequence[Confirmation],
        by: str,
        now: datetime,
    ) -> list[str]:
        """What a save of a published event does at once, and the notes saying so."""
        kinds = {c.kind for c in confirmed}
        notes: list[str] = []
        if Consequence.CLOSE in kinds and state.closing_started_at is None:
            state.closing_started_at = now  # the worker completes the close-off
            record(
                session, actor=by, action=Action.REGISTRATION_CLOSED, at=now, event_slug=new.slug
            )
            notes.append("Zapisy zostały zamknięte; podsumowanie trafi do arkusza w ciągu minuty.")
        if Consequence.REOPEN in kinds:
            _reopen(state, now)
            record(
                session, actor=by, action=Action.REGISTRATION_REOPENED, at=now, event_slug=new.slug
            )
            notes.append(
                f"Zapisy są znów otwarte do {date_pl(new.registration_deadline)} r.; "
                "zabezpieczenie arkusza zostanie zdjęte w ciągu minuty."
            )
        if Consequence.PURGE in kinds:
            state.purge_not_before = now + PURGE_DELAY
        # Published, the worksheets may exist (a close-off makes them even without registrations);
        # the worker renames those there are, and nothing when there are none.
        if (
            old.worksheet_title != new.worksheet_title
            or old.summary_worksheet_title != new.summary_worksheet_title
        ):
            if state.renamed_from is None:  # the sheet still has the titles of then
                state.renamed_from = old.worksheet_title
                state.summary_renamed_from = old.summary_worksheet_title
                state.renamed_target_from = self.sheet_target(old)
            if facts.total:
                notes.append(
                    f"Zakładki arkusza zostaną przemianowane na „{new.worksheet_title}” i "
                    f"„{new.summary_worksheet_title}”."
                )
        promoted = self.registrations.promote_locked(session, new, now)
        if promoted:
            notes.append(
                f"Osoby przeniesione z listy rezerwowej na wolne miejsca: {len(promoted)} – każda "
                "otrzyma e-mail."
            )
        over = facts.confirmed - new.capacity
        if over > 0:
            notes.append(
                f"Potwierdzonych zgłoszeń jest o {over} więcej niż nowa liczba miejsc – nikt nie "
                "zostaje przeniesiony na listę rezerwową."
            )
        outside = _outside_area(session, new)
        if outside:
            found = plural(outside, "zgłoszenie", "zgłoszenia", "zgłoszeń")
            notes.append(
                f"Z powiatów spoza nowego obszaru jest {found} – zostają; lista jest na stronie "
                "wydarzenia."
            )
        return notes

    def _notify(self, session: Session, old: Event, new: Event, by: str, now: datetime) -> int:
        """E-mail every active registration what changed (a seat with an updated `.ics`)."""
        detail = json.dumps(
            {"version": new.version, "changes": announced_changes(old, new)}, ensure_ascii=False
        )
        active = [
            r
            for r in session.scalars(
                select(Registration)
                .where(
                    Registration.event_slug == new.slug,
                    Registration.erased_at.is_(None),
                    Registration.status == Status.CONFIRMED.value,
                )
                .order_by(Registration.seq)
            )
        ]
        waiting = waiting_list(session, new)
        notices = [
            Notice(
                NoticeKind.EVENT_CHANGED,
                new,
                r,
                Status.CONFIRMED,
                detail=detail,
                calendar_sequence=republish_calendar(r),
            )
            for r in active
        ] + [
            Notice(NoticeKind.EVENT_CHANGED, new, r, Status.WAITLISTED, position, detail=detail)
            for position, r in enumerate(waiting, start=1)
        ]
        if notices:
            self.registrations.notify(session, notices)
            record(
                session,
                actor=by,
                action=Action.PARTICIPANTS_NOTIFIED,
                at=now,
                event_slug=new.slug,
                registration_ids=[n.registration.id for n in notices],
                fields=[f for f in ANNOUNCED if getattr(old, f) != getattr(new, f)],
            )
        return len(notices)

    # -- publishing and the rest ----------------------------------------------------------

    def publish(self, slug: str, *, by: str, now: datetime) -> None:
        with self.store.transaction() as session:
            state = self._stored_state(session, slug)
            if state.published_at is None:
                state.published_at = now
                record(session, actor=by, action=Action.EVENT_PUBLISHED, at=now, event_slug=slug)

    def unpublish(self, slug: str, *, by: str, now: datetime) -> None:
        with self.store.transaction() as session:
            state = self._stored_state(session, slug)
            if _facts(session, slug).total:
                raise ActionRefused(
                    "Publikacji nie można wycofać: na wydarzenie są już zgłoszenia."
                )
            if state.published_at is not None:
                state.published_at = None
                record(session, actor=by, action=Action.EVENT_UNPUBLISHED, at=now, event_slug=slug)

    def delete(self, slug: str, *, by: str, now: datetime) -> None:
        with self.store.transaction() as session:
            state = self._stored_state(session, slug)
            if _facts(session, slug).total:
                raise ActionRefused("Wydarzenia ze zgłoszeniami nie można usunąć.")
            session.execute(delete(EventVersion).where(EventVersion.slug == slug))
            session.delete(state)
            record(session, actor=by, action=Action.EVENT_DELETED, at=now, event_slug=slug)

    def close_now(self, event: Event, *, by: str, now: datetime) -> None:
        """`Zamknij zapisy teraz`: the forced close-off's first step (the form closes at once);
        the worker completes it (last rows, summary, protection, the staff e-mail)."""
        with self.store.transaction() as session:
            state = _lock(session, event.slug)
            if state.closing_started_at is None:
                state.closing_started_at = now
                record(
                    session,
                    actor=by,
                    action=Action.REGISTRATION_CLOSED,
                    at=now,
                    event_slug=event.slug,
                )

    def reopen(self, event: Event, *, by: str, now: datetime) -> None:
        """`Otwórz zapisy ponownie`: undo a close-off (forced, or before a deadline moved later)
        while the deadline is ahead."""
        if now >= event.closes_at:
            raise ActionRefused(
                "Termin zgłoszeń minął – aby otworzyć zapisy, należy najpierw przesunąć termin."
            )
        with self.store.transaction() as session:
            state = _lock(session, event.slug)
            if state.closing_started_at is None and state.closed_off_at is None:
                return
            _reopen(state, now)
            record(
                session,
                actor=by,
                action=Action.REGISTRATION_REOPENED,
                at=now,
                event_slug=event.slug,
            )

    # -- inside a transaction ------------------------------------------------------------

    def _changing(self, session: Session) -> Snapshot:
        """Take the catalogue's revision row (every change of the catalogue waits here for the
        one before it), and read the catalogue as it is now."""
        revision = bump(session)
        return self.catalogue.snapshot_in(session, revision)

    def _stored_state(self, session: Session, slug: str) -> EventState:
        self._changing(session)
        state = _lock(session, slug)
        if state.event_version is None:
            raise NotEditable(slug)
        return state

    def _slugs(self, snapshot: Snapshot) -> set[str]:
        return set(snapshot.entries) | set(self.catalogue.files)

    def _slug_problem(self, slug: str, snapshot: Snapshot) -> str | None:
        if slug in RESERVED_SLUGS:
            return f"Adres „{slug}” jest zarezerwowany – prosimy wybrać inny."
        if slug in self.catalogue.files:
            return "Ten adres ma wydarzenie z pliku – prosimy wybrać inny."
        if slug in snapshot.entries:
            return "Ten adres ma już inne wydarzenie – prosimy wybrać inny."
        return None

    def _refusals(self, old: Event, new: Event, facts: Facts, snapshot: Snapshot) -> dict[str, str]:
        errors: dict[str, str] = {}
        if new.slug != old.slug:
            if facts.total:
                errors["slug"] = "Adresu wydarzenia nie można zmienić, gdy są już zgłoszenia."
            elif problem := self._slug_problem(new.slug, snapshot):
                errors["slug"] = problem
        if facts.total:
            if new.timezone != old.timezone:
                errors["timezone"] = "Strefy czasowej nie można zmienić, gdy są już zgłoszenia."
            for name in ("spreadsheet_id", "worksheet"):
                if getattr(new.sheets, name) != getattr(old.sheets, name):
                    errors[name] = (
                        "Arkusza ani zakładki nie można zmienić, gdy są już zgłoszenia "
                        "(zmiana skróconego tytułu przemianowuje zakładki w miejscu)."
                    )
        others = [e for slug, e in snapshot.entries.items() if slug != old.slug]
        for name, message in _duplicates(new, others).items():
            errors.setdefault(name, message)
        return errors


def _lock(session: Session, slug: str) -> EventState:
    state = session.get(EventState, slug, with_for_update=True)
    if state is None:
        state = EventState(slug=slug)  # an event file's row, should start-up not have made it
        session.add(state)
        session.flush()
    return state


def _reopen(state: EventState, now: datetime) -> None:
    """Registration open again: the close-off's steps are undone, to be done at the new deadline;
    the worker removes the sheet's protection (`reopened_at`)."""
    state.closing_started_at = None
    state.closed_off_at = None
    state.summary_written_at = None
    state.protected_at = None
    state.mail_sent_at = None
    state.close_off_error = None
    state.digest_sent_at = None
    state.digest_cursor = None
    state.reopened_at = now


def _rename_slug(session: Session, state: EventState, old: str, new: str) -> EventState:
    """An event without registrations under a new slug: its versions and state row move."""
    session.flush()
    session.execute(update(EventVersion).where(EventVersion.slug == old).values(slug=new))
    session.execute(update(EventState).where(EventState.slug == old).values(slug=new))
    # Its own questions go with it (it has no registrations, so no answers).
    session.execute(
        update(EventQuestion).where(EventQuestion.event_slug == old).values(event_slug=new)
    )
    session.expunge(state)
    moved = session.get(EventState, new, with_for_update=True)
    assert moved is not None
    return moved


def _facts(session: Session, slug: str) -> Facts:
    query = (
        select(Registration.status, func.count(), func.count(Registration.erased_at))
        .where(Registration.event_slug == slug)
        .group_by(Registration.status)
    )
    total = confirmed = waitlisted = erased = 0
    for status, n, n_erased in session.execute(query):
        total += n
        erased += n_erased
        if status == Status.CONFIRMED.value:
            confirmed = n - n_erased
        elif status == Status.WAITLISTED.value:
            waitlisted = n - n_erased
    return Facts(total, confirmed, waitlisted, total - erased)


def outside_area(session: Session, event: Event) -> list[Registration]:
    """Active registrations from powiaty the event no longer takes (they stay)."""
    query = (
        select(Registration)
        .where(
            Registration.event_slug == event.slug,
            Registration.erased_at.is_(None),
            Registration.status.in_([s.value for s in Status if s.active]),
            Registration.powiat.not_in(event.eligible_powiaty),
        )
        .order_by(Registration.seq)
    )
    return list(session.scalars(query))


def _outside_area(session: Session, event: Event) -> int:
    query = select(func.count()).where(
        Registration.event_slug == event.slug,
        Registration.erased_at.is_(None),
        Registration.status.in_([s.value for s in Status if s.active]),
        Registration.powiat.not_in(event.eligible_powiaty),
    )
    return session.scalar(query) or 0


def _confirmations(
    old: Event, new: Event, facts: Facts, state: EventState, now: datetime
) -> list[Confirmation]:
    """What a save of a published event needs staff to confirm first."""
    needed: list[Confirmation] = []
    closing = state.closing_started_at is not None or state.closed_off_at is not None
    if new.closes_at <= now < old.closes_at and not closing:
        needed.append(
            Confirmation(
                Consequence.CLOSE,
                "Nowy termin zgłoszeń już minął: po zapisaniu zapisy zostaną od razu zamknięte "
                "(ostatnie zgłoszenia trafią do arkusza, powstanie podsumowanie, a organizator "
                "otrzyma e-mail, jak po terminie).",
            )
        )
    if closing and new.closes_at > now and new.registration_deadline > old.registration_deadline:
        needed.append(
            Confirmation(
                Consequence.REOPEN,
                "Zapisy są zamknięte. Nowy termin można zapisać tylko razem z ponownym otwarciem "
                "zapisów: formularz znów przyjmie zgłoszenia do "
                f"{date_pl(new.registration_deadline)} r., zabezpieczenie arkusza zostanie "
                "zdjęte, a nowy termin będzie miał własne zamknięcie z podsumowaniem.",
            )
        )
    starts = purge_starts(new)
    if (
        facts.with_data
        and starts is not None
        and starts != purge_starts(old)
        and starts - now <= PURGE_NOTICE
    ):
        when = max(starts, now + PURGE_DELAY)
        needed.append(
            Confirmation(
                Consequence.PURGE,
                "Po zapisaniu dane osobowe z "
                f"{plural(facts.with_data, 'zgłoszenia', 'zgłoszeń', 'zgłoszeń')} zostaną "
                f"usunięte {datetime_pl(new.local(when))} (nie wcześniej niż 24 godziny po "
                "zapisaniu). Tego nie da się cofnąć.",
            )
        )
    return needed


def _duplicates(event: Event, others: Iterable[Entry]) -> dict[str, str]:
    """`short_title` and the worksheet titles are unique among all events (case-insensitive,
    after the 100-character cut)."""
    errors: dict[str, str] = {}
    mine_short = (event.short_title or "").casefold()[:100]
    titles = {event.worksheet_title.casefold(), event.summary_worksheet_title.casefold()}
    for other in others:
        theirs = other.event
        if mine_short and mine_short == (theirs.short_title or "").casefold()[:100]:
            errors["short_title"] = (
                f"Wydarzenie „{theirs.title}” ma już taki skrócony tytuł – prosimy wybrać inny."
            )
        their_titles = {
            theirs.worksheet_title.casefold(),
            theirs.summary_worksheet_title.casefold(),
        }
        if titles & their_titles:
            name = "worksheet" if event.sheets.worksheet else "short_title"
            errors.setdefault(
                name,
                f"Zakładka arkusza o tej nazwie należy już do wydarzenia „{theirs.title}” – "
                "prosimy wybrać inną nazwę.",
            )
    return errors


def announced_changes(old: Event, new: Event) -> dict[str, list[str]]:
    """What participants are told changed: the dates, the venue, what is provided (was, is)."""
    changes: dict[str, list[str]] = {}
    if (old.starts_on, old.ends_on) != (new.starts_on, new.ends_on):
        changes["Termin"] = [f"{event_dates(old)} r.", f"{event_dates(new)} r."]
    if old.venue != new.venue:
        changes["Miejsce"] = [old.venue, new.venue]
    if old.provided != new.provided:
        changes["Zapewniamy"] = [", ".join(old.provided) or "–", ", ".join(new.provided) or "–"]
    return changes
