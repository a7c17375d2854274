"""`/obsluga/historia`: every staff action, newest first (IDs and field names, never values)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from backoffice.access import full_staff
from config.services import services
from registrations.history import ACTION_LABELS, Action
from registrations.models import StaffAction

PAGE_SIZE = 100


@full_staff
def history() -> ResponseReturnValue:
    svc = services()
    try:
        page = max(int(request.args.get("strona", "1")), 1)
    except ValueError:
        page = 1
    with svc.store.reading() as session:
        total = session.scalar(select(func.count()).select_from(StaffAction)) or 0
        query = (
            select(StaffAction)
            .order_by(StaffAction.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        entries = list(session.scalars(query))
    titles = {slug: entry.event.title for slug, entry in svc.catalogue.current().entries.items()}
    return render_template(
        "obsluga/history.html",
        entries=entries,
        labels={action.value: label for action, label in ACTION_LABELS.items()},
        Action=Action,
        titles=titles,
        timezone=svc.organisation.timezone,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
    )
