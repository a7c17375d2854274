"""Every list the `export` command writes and the staff pages download, built in memory.

One function for both, so a list downloaded from the pages is byte for byte the list the
command writes: the same rows read the same way, the same renderers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from checkin.codes import badge_codes
from checkin.presence import attendance_marks
from registrations.answers import answers_for, questions_of
from registrations.event import Event
from registrations.models import Registration
from registrations.status import Status
from registrations.window import Transactions
from staff import exports, question_lists


def build(
    store: Transactions,
    kind: str,
    fmt: str,
    event: Event,
    now: datetime,
    *,
    organisation_logo: Path | None = None,
    question: str | None = None,
    marked: bool = False,
) -> tuple[bytes, str]:
    """The list's bytes in `fmt` (one of `exports.FORMATS[kind]`), and what it holds in a few
    words for the operator. `organisation_logo`: the logo strip of an event that has none.
    `question`: the key of the `wybor`/`wiele` question of the list per choice (`choice`)."""
    if kind in PRINTED_NAMES:
        with store.reading() as session:
            names = entrants(session, event.slug)
        codes = marks = None
        if kind == "attendance" and marked:  # presence filled in (issue 20)
            marks = attendance_marks(store, event, now)
        if kind == "badges":  # each badge carries its check-in QR code (made when missing)
            codes = badge_codes(store, event.slug, now)
        return render_names(
            kind,
            event,
            names,
            now,
            logo=event.logo_strip or organisation_logo,
            codes=codes,
            marks=marks,
        )
    with store.reading() as session:
        query = select(Registration).where(
            Registration.event_slug == event.slug, Registration.erased_at.is_(None)
        )
        registrations = list(session.scalars(query.order_by(Registration.seq)))
        questions = questions_of(session, event.slug)
        answers = answers_for(session, [r.id for r in registrations]) if questions else {}
    if kind == question_lists.CHOICE_LIST:
        chosen = question_lists.choice_question(questions, question or "")
        return question_lists.render_choice(fmt, event, chosen, registrations, answers, now)
    if kind == "participants" and questions:
        table = question_lists.participants_with_answers(event, registrations, questions, answers)
        return render(kind, fmt, event, registrations, now, table=table)
    return render(kind, fmt, event, registrations, now)


# The printouts of names only: read as `Entrant`s, never as whole registrations.
PRINTED_NAMES = ("attendance", "badges")


def entrants(session: Session, slug: str) -> list[exports.Entrant]:
    """The event's confirmed participants, only the columns the printouts of names show."""
    query = select(*exports.ENTRANT_COLUMNS).where(
        Registration.event_slug == slug,
        Registration.erased_at.is_(None),
        Registration.status == Status.CONFIRMED,
    )
    return [exports.Entrant(*row) for row in session.execute(query.order_by(Registration.seq))]


def render_names(
    kind: str,
    event: Event,
    entrants: list[exports.Entrant],
    now: datetime,
    *,
    logo: Path | None = None,
    codes: Mapping[int, tuple[str, bytes]] | None = None,
    marks: Mapping[int, Mapping[date, str]] | None = None,
) -> tuple[bytes, str]:
    """The attendance list or the badges as a PDF, and what it holds in a few words. `logo`:
    the strip of logos atop the attendance list (the event's, else the organisation's)."""
    # Imported here: fpdf2 is some 18 MiB that no gunicorn worker needs.
    from staff import pdf, printouts

    if kind == "attendance":
        document = printouts.attendance_document(event, entrants, now, logo, marks=marks)
        days = len(document.sections)
        return pdf.render_document(document), f"{len(entrants)} participant(s) on {days} day(s)"
    badges = printouts.badges(entrants, codes)
    data = pdf.render_badges(badges, printouts.badge_caption(event), now)
    return data, f"{len(badges)} badge(s)"


def render(
    kind: str,
    fmt: str,
    event: Event,
    registrations: list[Registration],
    now: datetime,
    *,
    table: exports.Table | None = None,
) -> tuple[bytes, str]:
    """The list's bytes in `fmt`, and what it holds in a few words for the operator (`table`:
    the list's table made already, e.g. with the answers' columns)."""
    if table is None:
        table = exports.LISTS[kind](event, registrations)
    caption = exports.CAPTIONS[kind](event) if kind in exports.CAPTIONS else None
    rows = f"{len(table) - 1} row(s)"
    if fmt == "csv":
        return exports.to_csv(table, caption), rows
    if fmt == "xlsx":
        return exports.to_xlsx(table, exports.TITLES[kind], caption), rows
    from staff import pdf, printouts  # fpdf2: see render_names

    document = printouts.table_document(kind, event, registrations, now, table=table)
    return pdf.render_document(document), rows
