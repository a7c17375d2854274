"""The check-in pages on staff's phones: the day's list with `Obecność` / `Cofnij`, scanning
mode, and `/o/<code>` (the address in a participant's QR code).

`/o/<code>` without a staff session is one page for every code, known or not: it reads nothing
from the store, names nobody and links to the staff sign-in, which returns here. With a session
a GET records presence only while the session scans this event on this day and the browser says
the request is not cross-site (`Sec-Fetch-Site: none` for a camera app opening the link,
`same-origin` from our own pages); otherwise it shows the person and one button (POST, CSRF).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from backoffice.access import (
    Staff,
    checkin_staff,
    current_staff,
    expired_form,
    safe_next,
)
from backoffice.overview import entry_or_404
from checkin.codes import registration_of
from checkin.presence import (
    BUTTON,
    LIST,
    SCAN,
    NotConfirmed,
    confirmed,
    day_ends_at,
    presence_by_registration,
    presence_of,
    record_presence,
    today_of,
    undo_presence,
)
from config.services import services
from forms.views import csrf_problem
from registrations.decisions import Decision
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import NotFound, StoreUnavailable
from registrations.polish import plural
from registrations.status import Status

SCAN_KEY = "owes_scan"
CROSS_SITE_SAFE = frozenset({"none", "same-origin"})
UNKNOWN_CODE = "Nieznany kod"
NOT_TODAY = "Ten kod nie dotyczy dzisiejszego dnia wydarzenia"
WAITLISTED = "lista rezerwowa – brak potwierdzonego miejsca"
ASK_STAFF = "Prosimy pokazać ten kod organizatorom."


@dataclass(frozen=True)
class Answer:
    """What the check-in page says in large letters: `ok` green, `warn` amber, `bad` red."""

    tone: str
    text: str


def _staff() -> Staff:
    staff = current_staff()
    assert staff is not None  # the view is guarded
    return staff


def _session_mark(staff: Staff) -> str:
    """Ties scanning mode to the staff session it was switched on in (a new sign-in ends it)."""
    return hashlib.sha256(staff.session_id.encode()).hexdigest()[:16]


def _event_or_404(slug: str) -> Event:
    return entry_or_404(slug).event


def hm(event: Event, moment: datetime | None) -> str:
    return event.local(moment).strftime("%H:%M") if moment is not None else ""


def dm(day: date) -> str:
    return day.strftime("%d.%m")


def scanning(event: Event, day: date, now: datetime) -> bool:
    """Whether this session scans `event` on `day` now."""
    staff = current_staff()
    mode: Any = session.get(SCAN_KEY)
    if staff is None or not isinstance(mode, dict):
        return False
    return (
        mode.get("slug") == event.slug
        and mode.get("day") == day.isoformat()
        and mode.get("mark") == _session_mark(staff)
        and today_of(event, now) == day
        and now < day_ends_at(event, day)
    )


def _day_asked(event: Event, now: datetime) -> date:
    """The day chosen (`?dzien=`), else today when the event runs, else its first day."""
    raw = request.values.get("dzien", "")
    if raw:
        try:
            chosen = date.fromisoformat(raw)
        except ValueError:
            abort(404)
        if chosen not in event.days:
            abort(404)
        return chosen
    today = today_of(event, now)
    return today if today in event.days else event.days[0]


@checkin_staff
def events() -> ResponseReturnValue:
    """Where check-in staff start: the events, those running today first."""
    svc = services()
    now = svc.now()
    found = [entry.event for entry in svc.catalogue.current().entries.values() if entry.published]
    found.sort(
        key=lambda e: (today_of(e, now) not in e.days, e.starts_on < today_of(e, now), e.starts_on)
    )
    return render_template("checkin/events.html", events=found, today_of=lambda e: today_of(e, now))


@checkin_staff
def attendance(slug: str) -> ResponseReturnValue:
    """The day's list: search, `Obecność` / `Cofnij`, present of expected, scanning mode."""
    svc = services()
    event = _event_or_404(slug)
    now = svc.now()
    if request.method == "POST":
        return _mark(event, now)
    day = _day_asked(event, now)
    query = request.args.get("szukaj", "").strip()[:100]
    with svc.store.reading() as db:
        people = confirmed(db, slug)
        presence = presence_by_registration(db, slug)
        db.expunge_all()
    expected = len(people)
    present = sum(1 for p in people if day in presence.get(p.id, {}))
    if query:
        needle = query.casefold()
        people = [
            p
            for p in people
            if needle in p.full_name.casefold()
            or needle in f"{p.last_name} {p.first_name}".casefold()
            or needle in p.enterprise_name.casefold()
        ]
    return render_template(
        "checkin/attendance.html",
        event=event,
        day=day,
        days=event.days,
        query=query,
        people=people,
        presence={rid: days.get(day) for rid, days in presence.items()},
        present=present,
        expected=expected,
        expected_word=plural(
            expected, "oczekiwanej osoby", "oczekiwanych osób", "oczekiwanych osób"
        ),
        scanning=scanning(event, day, now),
        today=today_of(event, now),
        hm=lambda moment: hm(event, moment),
        dm=dm,
    )


def _mark(event: Event, now: datetime) -> ResponseReturnValue:
    """`Obecność` or `Cofnij` on the list (the decorator checked the CSRF token)."""
    svc = services()
    staff = _staff()
    day = _day_asked(event, now)
    registration_id = request.form.get("id", "")[:16]
    undo = request.form.get("akcja") == "cofnij"
    with svc.store.transaction() as db:
        registration = db.scalar(
            select(Registration).where(
                Registration.id == registration_id,
                Registration.event_slug == event.slug,
                Registration.erased_at.is_(None),
            )
        )
        if registration is None:
            abort(404)
        name = registration.full_name
        if undo:
            undo_presence(db, event, registration, day, now=now, by=staff.email)
            message = f"{name}: obecność {dm(day)} cofnięta."
        else:
            try:
                outcome = record_presence(
                    db, event, registration, day, now=now, by=staff.email, source=LIST
                )
            except NotConfirmed as refused:
                return _refused_page(event, registration, refused.status), 409
            at = hm(event, outcome.presence.recorded_at)
            message = (
                f"{name} – obecność odnotowana {dm(day)}, {at}"
                if outcome.now
                else f"{name}: obecność już odnotowana o {at}"
            )
    svc.wake_workers()
    flash(message)
    query = request.form.get("szukaj", "")
    target = url_for("checkin.attendance", slug=event.slug, dzien=day.isoformat())
    if query:
        target = url_for("checkin.attendance", slug=event.slug, dzien=day.isoformat(), szukaj=query)
    return redirect(f"{target}#osoba-{registration_id}", code=303)


def _refused_page(event: Event, registration: Registration, status: Status) -> str:
    return render_template(
        "checkin/scan.html",
        event=event,
        person=registration,
        answer=_status_answer(status),
        offer_confirm=False,
        offer_record=False,
        code=None,
        presence=None,
        hm=lambda moment: hm(event, moment),
        status_label=status.label,
    )


@checkin_staff
def switch_scanning(slug: str) -> ResponseReturnValue:
    """`Skanowanie`: this session records a scanned code of this event on a GET, until the day
    ends (the event's time zone); `Zakończ skanowanie` switches it off."""
    svc = services()
    event = _event_or_404(slug)
    now = svc.now()
    day = _day_asked(event, now)
    if request.form.get("akcja") == "wylacz":
        session.pop(SCAN_KEY, None)
        flash("Skanowanie wyłączone.")
    elif day != today_of(event, now):
        flash("Skanowanie można włączyć tylko na dzisiejszy dzień wydarzenia.")
    else:
        session[SCAN_KEY] = {
            "slug": event.slug,
            "day": day.isoformat(),
            "mark": _session_mark(_staff()),
        }
        flash(
            f"Skanowanie włączone do końca dnia {dm(day)}: "
            "zeskanowany kod od razu odnotowuje obecność."
        )
    return redirect(url_for("checkin.attendance", slug=slug, dzien=day.isoformat()), code=303)


def scan(code: str) -> ResponseReturnValue:
    """`/o/<code>`: see the module's docstring."""
    staff = current_staff()
    if staff is None:
        here = request.path
        target = (
            url_for("backoffice.sign_in", dalej=here)
            if safe_next(here)
            else url_for("backoffice.sign_in")
        )
        return render_template("checkin/code_public.html", sign_in=target, message=ASK_STAFF)
    if request.method == "POST" and (problem := csrf_problem()):
        return expired_form(problem)
    svc = services()
    now = svc.now()
    with svc.store.reading() as db:
        registration = registration_of(db, code)
        if registration is not None:
            db.expunge(registration)
    entry = (
        svc.catalogue.current().entry(registration.event_slug) if registration is not None else None
    )
    if registration is None or entry is None:
        return _answer_page(None, None, Answer("bad", UNKNOWN_CODE), code), 404
    event = entry.event
    day = today_of(event, now)
    status = Status(registration.status)
    if request.method == "POST" and request.form.get("akcja") == "przyjmij":
        return _confirm(event, registration, code, now, staff)
    if status is not Status.CONFIRMED:
        return _answer_page(event, registration, _status_answer(status), code)
    if day not in event.days:
        return _answer_page(event, registration, Answer("bad", NOT_TODAY), code)
    wants_record = request.method == "POST" and request.form.get("akcja") == "obecnosc"
    on_scan = (
        request.method == "GET"
        and scanning(event, day, now)
        and request.headers.get("Sec-Fetch-Site", "") in CROSS_SITE_SAFE
    )
    if not (wants_record or on_scan):
        with svc.store.reading() as db:
            presence = presence_of(db, registration.id, day)
        if presence is not None:
            answer = Answer("warn", f"obecność już odnotowana o {hm(event, presence.recorded_at)}")
            return _answer_page(event, registration, answer, code, presence=True)
        return _answer_page(event, registration, None, code, offer_record=True)
    with svc.store.transaction() as db:
        fresh = db.get(Registration, registration.seq)
        assert fresh is not None
        try:
            outcome = record_presence(
                db, event, fresh, day, now=now, by=staff.email, source=SCAN if on_scan else BUTTON
            )
        except NotConfirmed as refused:
            return _answer_page(event, registration, _status_answer(refused.status), code)
        at = hm(event, outcome.presence.recorded_at)
    svc.wake_workers()
    if outcome.now:
        answer = Answer("ok", f"{registration.full_name} – obecność odnotowana {dm(day)}, {at}")
    else:
        answer = Answer("warn", f"obecność już odnotowana o {at}")
    return _answer_page(event, registration, answer, code, presence=True)


def _confirm(
    event: Event, registration: Registration, code: str, now: datetime, staff: Staff
) -> ResponseReturnValue:
    """`Przyjmij` (full staff): the decision `przyjęte`, as if typed in the sheet."""
    if not staff.full:
        abort(403)
    svc = services()
    try:
        svc.registrations.decide(
            event, registration.id, Decision.CONFIRMED, now=now, actor=staff.email
        )
    except NotFound:
        abort(404)
    except StoreUnavailable:
        abort(503)
    svc.wake_workers()
    flash(f"{registration.full_name}: przyjęte – miejsce potwierdzone.")
    return redirect(url_for("checkin.scan", code=code), code=303)


def _status_answer(status: Status) -> Answer:
    if status is Status.WAITLISTED:
        return Answer("warn", WAITLISTED)
    if status is Status.CANCELLED:
        return Answer("bad", "rezygnacja")
    if status is Status.REJECTED:
        return Answer("bad", "odrzucone")
    return Answer("ok", status.label)


def _answer_page(
    event: Event | None,
    registration: Registration | None,
    answer: Answer | None,
    code: str,
    *,
    offer_record: bool = False,
    presence: bool | None = None,
) -> str:
    staff = _staff()
    status = Status(registration.status) if registration is not None else None
    return render_template(
        "checkin/scan.html",
        event=event,
        person=registration,
        answer=answer,
        offer_record=offer_record,
        offer_confirm=staff.full and status is Status.WAITLISTED,
        code=code,
        presence=presence,
        status_label=status.label if status is not None else "",
    )
