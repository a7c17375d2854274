"""`/obsluga/wydarzenia/<slug>/wiadomosci`: a message to the event's participants, written,
previewed (the first message and the number of recipients), then sent once with a one-time key
(issue 18). Thin over `registrations.staff_messages`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.access import current_staff, full_staff
from backoffice.registration_views import STORE_AWAY, _live_event
from config.services import services
from registrations.answers import questions_of
from registrations.desk import has_address
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import StoreUnavailable
from registrations.questions import Kind, Question
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
CHOICE_PREFIX = "wybor."  # a filter's field: `wybor.<question key>`, its value a choice key
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
    with svc.store.reading() as session:
        questions = _choice_questions(session, slug)
    choices, wrong = _chosen(form, questions)
    if step not in ("podglad", "wyslij") or draft.errors or wrong:
        errors = {**draft.errors, **wrong} if step else {}
        if step and group == "zaznaczone" and not ticked:
            errors = {**errors, "group": "Należy zaznaczyć w tabeli co najmniej jedną osobę."}
        return _compose(
            event, subject, body, group, ticked, errors, 422 if errors else 200, choices
        )
    with svc.store.reading() as session:
        people = recipients(session, event, group, ticked, choices)
        repeat = earlier_same(session, event, draft, [p.id for p in people], svc.now())
    if not people:
        errors = {"group": "Nikt nie spełnia wybranego warunku – wiadomość nie ma odbiorców."}
        return _compose(event, subject, body, group, ticked, errors, 422, choices)
    if step == "podglad":
        return _preview(event, draft, group, ticked, people, repeat, new_send_key(), choices)
    staff = current_staff()
    assert staff is not None
    send_key = form.get("send_key", "")[:64]
    if not send_key:
        return _preview(
            event, draft, group, ticked, people, repeat, new_send_key(), choices, status=400
        )
    try:
        sent = send(
            svc.registrations,
            event,
            draft,
            group=group,
            ticked=ticked,
            choices=choices,
            send_key=send_key,
            repeat_confirmed=form.get("repeat_confirmed") == "tak",
            actor=staff.email,
            now=svc.now(),
        )
    except RepeatNotConfirmed as refused:
        return _preview(
            event,
            draft,
            group,
            ticked,
            people,
            refused.repeat,
            send_key,
            choices,
            status=409,
            ask=True,
        )
    except StoreUnavailable:
        return _compose(event, subject, body, group, ticked, {"_": STORE_AWAY}, 503, choices)
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
    choices: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    svc = services()
    chosen = choices or {}
    with svc.store.reading() as session:
        questions = _choice_questions(session, event.slug)
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
        labels={**LABELS, **{_field(q): q.label for q in questions}},
        placeholders=PLACEHOLDERS,
        statuses=STATUS_LABELS,
        Status=Status,
        has_address=has_address,
        question_filters=[
            (
                _field(q),
                q.label,
                [("", "wszyscy", not chosen.get(q.key))]
                + [(c.key, c.label, chosen.get(q.key) == c.key) for c in q.visible_choices],
            )
            for q in questions
        ],
    )
    return page, status


def _field(question: Question) -> str:
    return f"{CHOICE_PREFIX}{question.key}"


def _choice_questions(session: Session, slug: str) -> list[Question]:
    """The event's visible `wybor` questions: the recipients may be narrowed by each."""
    return [q for q in questions_of(session, slug, visible=True) if q.kind is Kind.CHOICE]


def _chosen(
    form: Mapping[str, str], questions: Sequence[Question]
) -> tuple[dict[str, str], dict[str, str]]:
    """The form's `{question key: choice key}` filters, and a Polish error per unknown choice."""
    chosen: dict[str, str] = {}
    errors: dict[str, str] = {}
    for question in questions:
        value = form.get(_field(question), "").strip()
        if not value:
            continue
        if question.choice(value) is None:
            errors[_field(question)] = "Nie ma takiej odpowiedzi – prosimy wybrać z listy."
        else:
            chosen[question.key] = value
    return chosen, errors


def _narrowed(event: Event, group_label: str, choices: Mapping[str, str]) -> str:
    """The group as the preview names it, with the answers it is narrowed to."""
    if not choices:
        return group_label
    with services().store.reading() as session:
        questions = _choice_questions(session, event.slug)
    parts = [group_label]
    for question in questions:
        choice = question.choice(choices.get(question.key, ""))
        if choice is not None:
            parts.append(f"{question.label}: {choice.label}")
    return ", ".join(parts)


def _preview(
    event: Event,
    draft: Draft,
    group: str,
    ticked: Sequence[str],
    people: list[Registration],
    repeat: object,
    send_key: str,
    choices: Mapping[str, str] | None = None,
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
        group_label=_narrowed(event, GROUPS[group][0], choices or {}),
        ticked=ticked,
        choice_fields={f"{CHOICE_PREFIX}{k}": v for k, v in (choices or {}).items()},
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
