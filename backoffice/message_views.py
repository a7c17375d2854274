"""`/obsluga/wydarzenia/<slug>/wiadomosci`: a message to the event's participants, written,
previewed (the first message and the number of recipients), then sent once with a one-time key
(issue 18). Thin over `registrations.staff_messages`."""

from __future__ import annotations

from collections.abc import Sequence

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from backoffice.access import current_staff, full_staff
from backoffice.registration_views import STORE_AWAY, _live_event
from config.services import services
from registrations.desk import has_address
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import StoreUnavailable
from registrations.staff_messages import (
    DEFAULT_GROUP,
    GROUPS,
    PLACEHOLDERS,
    Draft,
    RepeatNotConfirmed,
    earlier_same,
    fill,
    new_send_key,
    recipients,
    send,
    values_for,
)
from registrations.status import STATUS_LABELS, Status

PREVIEW_LINK = "(prywatny link tej osoby)"
LABELS = {"subject": "Temat", "body": "Treść", "group": "Do kogo", "repeat": "Powtórka"}


@full_staff
def messages(slug: str) -> ResponseReturnValue:
    svc = services()
    event = _live_event(svc, slug)
    form = request.form
    subject, body = form.get("subject", ""), form.get("body", "")
    group = form.get("group", DEFAULT_GROUP)
    if group not in GROUPS:
        group = DEFAULT_GROUP
    ticked = [value for value in form.getlist("ticked") if value][:2000]
    step = form.get("step", "") if request.method == "POST" else ""
    draft = Draft.of(subject, body)
    if step not in ("podglad", "wyslij") or draft.errors:
        errors = draft.errors if step else {}
        if step and group == "zaznaczone" and not ticked:
            errors = {**errors, "group": "Należy zaznaczyć w tabeli co najmniej jedną osobę."}
        return _compose(event, subject, body, group, ticked, errors, 422 if errors else 200)
    with svc.store.reading() as session:
        people = recipients(session, event, group, ticked)
        repeat = earlier_same(session, event, draft, [p.id for p in people], svc.now())
    if not people:
        errors = {"group": "Nikt nie spełnia wybranego warunku – wiadomość nie ma odbiorców."}
        return _compose(event, subject, body, group, ticked, errors, 422)
    if step == "podglad":
        return _preview(event, draft, group, ticked, people, repeat, new_send_key())
    staff = current_staff()
    assert staff is not None
    send_key = form.get("send_key", "")[:64]
    if not send_key:
        return _preview(event, draft, group, ticked, people, repeat, new_send_key(), status=400)
    try:
        sent = send(
            svc.registrations,
            event,
            draft,
            group=group,
            ticked=ticked,
            send_key=send_key,
            repeat_confirmed=form.get("repeat_confirmed") == "tak",
            actor=staff.email,
            now=svc.now(),
        )
    except RepeatNotConfirmed as refused:
        return _preview(
            event, draft, group, ticked, people, refused.repeat, send_key, status=409, ask=True
        )
    except StoreUnavailable:
        return _compose(event, subject, body, group, ticked, {"_": STORE_AWAY}, 503)
    svc.wake_workers()
    return render_template(
        "obsluga/message_sent.html",
        event=event,
        sent=sent,
        subject=draft.subject,
    )


def _compose(
    event: Event,
    subject: str,
    body: str,
    group: str,
    ticked: Sequence[str],
    errors: dict[str, str],
    status: int = 200,
) -> ResponseReturnValue:
    svc = services()
    with svc.store.reading() as session:
        active = list(
            session.scalars(
                select(Registration)
                .where(
                    Registration.event_slug == event.slug,
                    Registration.erased_at.is_(None),
                    Registration.status.in_([Status.CONFIRMED.value, Status.WAITLISTED.value]),
                )
                .order_by(Registration.seq)
            )
        )
    page = render_template(
        "obsluga/messages.html",
        event=event,
        values={"subject": subject, "body": body},
        group=group,
        groups=GROUPS,
        ticked=set(ticked),
        active=active,
        errors=errors,
        labels=LABELS,
        placeholders=PLACEHOLDERS,
        statuses=STATUS_LABELS,
        Status=Status,
        has_address=has_address,
        # Issue 17 (questions): choices to narrow the recipients by a `wybor` answer go here.
        question_filters=[],
    )
    return page, status


def _preview(
    event: Event,
    draft: Draft,
    group: str,
    ticked: Sequence[str],
    people: list[Registration],
    repeat: object,
    send_key: str,
    *,
    status: int = 200,
    ask: bool = False,
) -> ResponseReturnValue:
    mailed = [person for person in people if has_address(person)]
    first = mailed[0] if mailed else people[0]
    values = values_for(event, first, PREVIEW_LINK)
    page = render_template(
        "obsluga/message_preview.html",
        event=event,
        draft=draft,
        group=group,
        group_label=GROUPS[group][0],
        ticked=ticked,
        first=first,
        first_subject=fill(draft.subject, values),
        first_body=fill(draft.body, values),
        mailed=mailed,
        by_phone=[person for person in people if not has_address(person)],
        repeat=repeat,
        ask=ask,
        send_key=send_key,
        timezone=event.timezone,
    )
    return page, status
