"""A staff decision on a registration's page: `rezygnacja`, `odrzucone` or `przyjęte` with a
reason, carried out after `DECISION_GRACE_MINUTES` (at once with 0), and `Cofnij` within that
time. A page decision is not written into the sheet's `Decyzja organizatora`: the value that
cell holds counts as handled.

`_decision.html` is the part the registration's page includes; `GET …/decyzja` shows it alone.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from backoffice.access import current_staff, full_staff
from config.services import services
from registrations.decision_grace import PAGE_SOURCE, REASON_MAX, clean_reason, due_note
from registrations.decisions import CHOICES, Decision, UnknownDecision, parse_decision
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import NotFound, StoreUnavailable
from registrations.status import Status

NO_DECISION = "Należy wybrać decyzję: " + ", ".join(CHOICES) + "."
TOO_LONG = f"Powód może mieć najwyżej {REASON_MAX} znaków."
GONE = "Nie ma już decyzji do cofnięcia: została wykonana albo wcześniej cofnięta."
UNAVAILABLE = "Chwilowa awaria – nic nie zostało zapisane. Prosimy spróbować ponownie za chwilę."


def decision_context(
    registration: Registration,
    event: Event,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What `_decision.html` needs: the waiting decision (if any) and the form's state."""
    svc = services()
    pending = svc.grace.of_registration(registration.id)
    return {
        "registration": registration,
        "status_label": Status(registration.status).label,
        "event": event,
        "pending": pending,
        "pending_note": due_note(event, pending.due_at) if pending is not None else None,
        "decision_choices": CHOICES,
        "grace_minutes": svc.settings.decision_grace_minutes,
        "decision_errors": errors or {},
        "decision_values": values or {},
        "reason_max": REASON_MAX,
    }


def _found(registration_id: str) -> tuple[Registration, Event]:
    svc = services()
    try:
        registration = svc.registrations.by_id(registration_id)
    except NotFound:
        abort(404)
    event = svc.events.get(registration.event_slug)
    if event is None:
        abort(404)
    return registration, event


def _staff_email() -> str:
    staff = current_staff()
    assert staff is not None  # the view is guarded
    return staff.email


def _page(registration_id: str) -> ResponseReturnValue:
    return redirect(url_for("backoffice.registration_page", registration_id=registration_id), 303)


@full_staff
def decision_page(registration_id: str) -> ResponseReturnValue:
    registration, event = _found(registration_id)
    return render_template("obsluga/decision.html", **decision_context(registration, event))


@full_staff
def decide(registration_id: str) -> ResponseReturnValue:
    """Give a decision: held for the grace time, or carried out at once with a grace of 0."""
    registration, event = _found(registration_id)
    typed = request.form.get("decyzja", "")
    typed_reason = request.form.get("powod", "")
    values = {"decyzja": typed, "powod": typed_reason}
    errors: dict[str, str] = {}
    decision: Decision | None = None
    try:
        decision = parse_decision(typed)
    except UnknownDecision:
        pass
    if decision is None:
        errors["decyzja"] = NO_DECISION
    if len(typed_reason.strip()) > REASON_MAX:
        errors["powod"] = TOO_LONG
    if errors or decision is None:
        context = decision_context(registration, event, errors=errors, values=values)
        return render_template("obsluga/decision.html", **context), 422
    reason = clean_reason(typed_reason)
    svc = services()
    now = svc.now()
    try:
        if svc.grace.active:
            pending = svc.grace.hold(
                event,
                registration.id,
                decision,
                seen_at=now,
                source=PAGE_SOURCE,
                actor=_staff_email(),
                reason=reason,
            )
            flash(f"Decyzja „{decision.value}” zapisana. {due_note(event, pending.due_at)}.")
        else:
            outcome = svc.registrations.decide(
                event,
                registration.id,
                decision,
                now=now,
                actor=_staff_email(),
                reason=reason,
                from_page=True,
            )
            flash(_done(decision, outcome.old_status, outcome.new_status))
    except NotFound:
        abort(404)
    except StoreUnavailable:
        flash(UNAVAILABLE)
        return _page(registration.id)
    svc.wake_workers()
    return _page(registration.id)


@full_staff
def withdraw(registration_id: str) -> ResponseReturnValue:
    """`Cofnij`: the waiting decision is not carried out (only while it waits)."""
    registration, event = _found(registration_id)
    svc = services()
    try:
        withdrawn = svc.grace.withdraw(registration.id)
    except StoreUnavailable:
        flash(UNAVAILABLE)
        return _page(registration.id)
    flash(f"Decyzja „{withdrawn.decision}” została cofnięta." if withdrawn else GONE)
    return _page(registration.id)


def _done(decision: Decision, old: Status, new: Status) -> str:
    if old is new:
        return f"Decyzja „{decision.value}” zapisana – status się nie zmienił ({new.label})."
    return f"Decyzja „{decision.value}” wykonana: status {old.label} → {new.label}."
