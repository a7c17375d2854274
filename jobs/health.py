"""`GET /healthz`: is the store up, the spreadsheet and the mail keeping up (no secrets, no
personal data)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from config.services import Services, services
from forms import limits
from mail.outbox import backlog
from registrations.models import EventState
from sheets.sink import ERROR_HINTS
from store import sync

bp = Blueprint("health", __name__)
MAIL_LATE_SECONDS = 60  # a message waiting longer means SMTP is not taking mail


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    svc = services()
    now = svc.now()
    if not svc.gate.ready() or not svc.store.reachable():
        return jsonify(status="down", store={"reachable": False}), 503
    targets = {slug: svc.sink.target(event) for slug, event in svc.events.items()}
    try:
        with svc.store.transaction() as session:
            pending, oldest = sync.pending_stats(session, targets)
            known = sync.statuses(session, targets.values())
            stuck = session.scalars(
                select(EventState).where(
                    EventState.slug.in_(list(targets)),
                    EventState.close_off_error.is_not(None),
                    EventState.closed_off_at.is_(None),
                )
            )
            close_offs = [{"event": s.slug, "since": _iso(s.closing_started_at)} for s in stuck]
            mail = backlog(session)
            written = {slug: sync.synced_ids(session, slug, t) for slug, t in targets.items()}
    except SQLAlchemyError:
        return jsonify(status="down", store={"reachable": False}), 503
    missing = _rows_missing(svc, written)
    ratelimit = limits.storage_state(current_app)
    successes = [s.last_success_at for s in known if s.last_success_at]
    errors = sorted((s for s in known if s.last_error), key=lambda s: s.last_error_at or now)
    last_error: dict[str, Any] | None = None
    if errors:
        latest = errors[-1]
        code = latest.last_error_code or "unavailable"
        last_error = {
            "code": code,
            "message": ERROR_HINTS.get(code, ERROR_HINTS["unavailable"]),
            "at": _iso(latest.last_error_at),
        }
    mail_age = round((now - mail.oldest).total_seconds()) if mail.oldest else None
    mail_late = mail_age is not None and mail_age > MAIL_LATE_SECONDS
    body = {
        "status": "degraded"
        if last_error or close_offs or mail_late or missing or ratelimit == "unavailable"
        else "ok",
        "store": {"reachable": True},
        "sync": {
            "sink": type(svc.sink).__name__,
            "pending": pending,
            "oldest_pending_age_seconds": round((now - oldest).total_seconds()) if oldest else None,
            "last_success_at": _iso(max(successes)) if successes else None,
            "last_error": last_error,
            "missing_rows": missing,
        },
        "outbox": {
            "backlog": mail.waiting,
            "oldest_age_seconds": mail_age,
            "given_up": mail.given_up,
            "expired": mail.expired,  # sign-in links not handed to SMTP while valid: dropped
        },
        "unfinished_close_offs": close_offs,
        "ratelimit": ratelimit,
    }
    return jsonify(body)


def _rows_missing(svc: Services, written: dict[str, set[str]]) -> int | None:
    """Rows the store has written that are not in the sheet now (staff deleted them, or saved
    a copy without them, and no round has written them again yet); None: not told (Google)."""
    counts = [svc.sink.rows_missing(svc.events[slug], ids) for slug, ids in written.items()]
    told = [count for count in counts if count is not None]
    return sum(told) if told else None


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
