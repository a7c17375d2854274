"""Erasing people everywhere the service put their data: store, outbox, mail files, exports, sheet.

Like pretix's shredders, each kind of data has its own small step; `Eraser.erase` runs the
store's in one transaction (the registration scrubbed and cancelled, its outbox rows deleted,
staff e-mails still to send rewritten without it, the audit row written), then removes the
files, then compacts the database so no old copy stays in its files. The sheet row goes in a
sync round under the spreadsheet lease: at once when the sheet answers, else at a later worker
round (the registration is marked until then, and an erased registration is never written to
the sheet again).
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from functools import partial
from pathlib import Path

from markupsafe import escape
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from checkin.erasure import forget_checkin_and_certificates
from config.services import Services
from mail import outbox
from mail.transport import eml_path, mail_folder
from registrations import desk_models
from registrations.erasure import ErasedBy, identifying_values, mentioned_values, redact
from registrations.event import Event
from registrations.models import EventState, LinkRequest, Participation, Registration
from registrations.operations import ErasureOutcome
from sheets.factory import make_syncer
from sheets.sink import SinkError
from staff import export_files
from staff.question_summary import answer_counts
from staff.summary import LiveSummary, summarise, summary_rows, summary_table
from store.models import Erasure


@dataclass
class EventErasure:
    """What one erasure run removed for one event, in words for the operator."""

    event: Event
    outcomes: list[ErasureOutcome] = field(default_factory=list)
    outbox_rows: int = 0
    staff_messages: int = 0  # staff e-mails still to send, rewritten without the person
    mail_files: list[Path] = field(default_factory=list)
    export_files: list[Path] = field(default_factory=list)
    compacted: bool = False

    @property
    def erased(self) -> list[ErasureOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.already]


@dataclass(frozen=True)
class SheetOutcome:
    worksheet: str
    deleted: int | None  # rows deleted now; None: the sheet did not answer (or is busy)
    problem: str | None = None


class Eraser:
    """Erasure across the store, the mail, the instance folder and the spreadsheet."""

    def __init__(self, svc: Services, logger: logging.Logger) -> None:
        self.svc = svc
        self.logger = logger

    # -- the store and the files ---------------------------------------------------------

    def erase(
        self,
        event: Event,
        registration_ids: list[str],
        *,
        by: ErasedBy,
        command: str,
        keep_summary: bool = False,
    ) -> EventErasure:
        """Erase the registrations of one event from the store and the instance folder.

        `keep_summary` (retention): the summary's numbers as they are now are kept for the
        summary worksheet, which otherwise would lose the counts of the data erased.
        """
        svc = self.svc
        now = svc.now()
        result = EventErasure(event)
        needles: list[str] = []
        message_ids: list[str] = []
        keep_ids: set[str] = set()  # other people's e-mails (a colleague at the same address)

        def shred(session: Session, registrations: list[Registration]) -> None:
            ids = [registration.id for registration in registrations]
            if keep_summary:
                _keep_summary(session, event, now)
            mentioned: list[str] = []
            # An address colleagues still use is theirs too: it neither marks a file as this
            # person's nor goes from their link requests (their own e-mails are kept by ID).
            colleagues = _colleagues(session, registrations)
            shared = set(colleagues.values())
            for registration in registrations:
                values = identifying_values(registration)
                if registration.email_key in shared:
                    values = [v for v in values if v != registration.email]
                needles.extend(values)
                mentioned.extend(mentioned_values(registration))
            message_ids.extend(outbox.forget(session, ids))
            # What staff recorded about them; their names in staff's messages to them redacted.
            desk_models.forget(session, ids, partial(redact, values=mentioned))
            forget_checkin_and_certificates(session, ids)
            keep_ids.update(outbox.message_ids(session, list(colleagues)))
            keys = [r.email_key for r in registrations if r.email_key not in shared]
            session.execute(delete(LinkRequest).where(LinkRequest.email_key.in_(keys)))
            # Reminders, answers and offers (issue 19): with the person.
            session.execute(delete(Participation).where(Participation.registration_id.in_(ids)))
            result.staff_messages = outbox.rewrite_staff_messages(
                session, partial(redact, values=_with_html_forms(mentioned))
            )
            for registration_id in ids:
                session.add(
                    Erasure(
                        registration_id=registration_id,
                        event_slug=event.slug,
                        command=command,
                        erased_at=now,
                        removed="personal data in the store; its outbox messages and .eml "
                        "files; its reminders, answers and offers; the event's export files; "
                        "its sheet row (see sheet_erased_at)",
                    )
                )

        result.outcomes = svc.registrations.erase(
            event, registration_ids, now=now, by=by, before_scrub=shred
        )
        result.outbox_rows = len(message_ids)
        if result.erased:
            folder = mail_folder(svc.instance_path)
            result.mail_files = _remove_mail_files(folder, message_ids, needles, keep_ids)
            exports = svc.instance_path / export_files.EXPORTS
            result.export_files = remove_exports(exports, event.slug)
            self.logger.info(
                "erased %d registration(s) of %s (%s)", len(result.erased), event.slug, command
            )
        if result.outcomes:  # again too: an erasure that found the database busy ends here
            result.compacted = svc.store.compact()
            if not result.compacted:
                self.logger.warning("database busy: not compacted after an erasure")
        return result

    # -- the spreadsheet -----------------------------------------------------------------

    def complete_sheet(self, events: list[Event], wait: float) -> list[SheetOutcome]:
        """Delete erased registrations' rows now, in a sync round under the lease, and rewrite
        the summary; whatever fails is done by the worker at a later round."""
        svc = self.svc
        if not svc.worker.wait_for_lease(wait):
            busy = "another process holds the spreadsheet lease"
            return [SheetOutcome(event.worksheet_title, None, busy) for event in events]
        try:
            syncer = make_syncer(svc, self.logger, still_leader=svc.worker.renew_lease)
            summary = LiveSummary(svc.store, svc.sink, svc.clock, self.logger)
            outcomes = []
            for event in events:
                title = event.worksheet_title
                try:
                    report = syncer.sync_event(event, raise_errors=True)
                except SinkError as exc:
                    outcomes.append(SheetOutcome(title, None, str(exc)))
                    continue
                outcomes.append(SheetOutcome(title, report.erased if report else None))
                try:
                    summary.refresh(event)
                except SinkError as exc:
                    self.logger.warning("summary of %s not rewritten yet: %s", event.slug, exc)
            return outcomes
        finally:
            svc.worker.release_lease()


def _colleagues(session: Session, registrations: list[Registration]) -> dict[str, str]:
    """Other people of the event registered with these registrations' addresses: their IDs and
    e-mail keys (colleagues sharing `biuro@…`)."""
    ids = [r.id for r in registrations]
    keys = {r.email_key for r in registrations}
    query = select(Registration.id, Registration.email_key).where(
        Registration.event_slug.in_({r.event_slug for r in registrations}),
        Registration.email_key.in_(keys),
        Registration.id.not_in(ids),
    )
    return {found_id: key for found_id, key in session.execute(query)}


def _keep_summary(session: Session, event: Event, now: datetime) -> None:
    """Keep the summary's numbers (no names) for the worksheet, before the data go."""
    state = session.get(EventState, event.slug)
    if state is None or state.kept_summary is not None:
        return
    summary = summarise(
        event,
        summary_rows(session, event),
        now,
        state.summary_written_at,
        answers=answer_counts(session, event),
    )
    state.kept_summary = json.dumps(summary_table(summary, numbers_only=True), ensure_ascii=False)


def _with_html_forms(values: list[str]) -> list[str]:
    """The values and the forms they take in an e-mail's HTML part (escaped)."""
    return [
        form
        for value in values
        for form in dict.fromkeys([value, html.escape(value), str(escape(value))])
    ]


def _remove_mail_files(
    folder: Path, message_ids: list[str], needles: list[str], keep_ids: set[str] | None = None
) -> list[Path]:
    """The person's e-mails kept as `.eml` files (by their registration's message IDs), and any
    other (a staff e-mail) naming them; never another person's own e-mail (`keep_ids`)."""
    if not folder.is_dir():
        return []
    removed = []
    own = {eml_path(folder, message_id) for message_id in message_ids}
    others = {eml_path(folder, message_id) for message_id in keep_ids or ()}
    for path in sorted(folder.glob("*.eml")):
        if path in own or (path not in others and _mentions(path, needles)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _mentions(path: Path, needles: list[str]) -> bool:
    """Whether the e-mail's headers or text name any of `needles` (decoded, case-insensitive)."""
    if not needles:
        return False
    try:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    except OSError:
        return False
    texts = [str(value) for value in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(str(part.get_content()))
            except (LookupError, ValueError):
                texts.append(str(part.get_payload()))
    haystack = "\n".join(texts).casefold()
    return any(needle.casefold() in haystack for needle in needles)


def remove_exports(folder: Path, slug: str) -> list[Path]:
    """Every file of the event under `instance/exports/`, whatever its name: staff export
    again (see `staff.export_files`)."""
    removed = export_files.files_of(folder, slug)
    for path in removed:
        path.unlink(missing_ok=True)
    return [path for path in removed if not path.name.endswith(export_files.NOTE)]
