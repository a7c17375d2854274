"""The event's questions and the answers to them, as the store keeps them.

Two tables of their own (nothing added to `registrations`): `event_questions` (one row per
question of an event, its choices as JSON) and `registration_answers` (one row per answered
question of a registration, the value as JSON; personal data, erased with the person).

The functions below are what the other parts read: the operations (seats under the lock), the
pages and the API, the sheet, the lists, and the staff's table, messages and reminders
(`answers_for`, `registrations_choosing`, `choice_of`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from registrations.models import Base, Registration, UTCDateTime
from registrations.questions import Choice, Kind, Question, Tally, chosen_keys, decode, encode
from registrations.status import Status

ACTIVE = (Status.CONFIRMED.value, Status.WAITLISTED.value)


class EventQuestion(Base):
    """One question staff added to an event; `key` is fixed when it is created."""

    __tablename__ = "event_questions"
    __table_args__ = (UniqueConstraint("event_slug", "key", name="uq_event_question_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_slug: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    help_text: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean)
    hidden: Mapped[bool] = mapped_column(Boolean)
    choices: Mapped[str] = mapped_column(Text)  # JSON list of Choice.as_dict()
    former_labels: Mapped[str] = mapped_column(Text)  # JSON list: the sheet renames them
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def as_question(self) -> Question:
        return Question(
            key=self.key,
            label=self.label,
            kind=Kind(self.kind),
            required=self.required,
            help_text=self.help_text,
            hidden=self.hidden,
            position=self.position,
            choices=tuple(Choice(**c) for c in json.loads(self.choices)),
            former_labels=tuple(json.loads(self.former_labels)),
            created_at=self.created_at,
            id=self.id,
        )


class Answer(Base):
    """One registration's answer to one question (JSON: text, bool, key or list of keys)."""

    __tablename__ = "registration_answers"
    __table_args__ = (
        UniqueConstraint("registration_id", "question_id", name="uq_answer_registration_question"),
        Index("ix_answer_event_question", "event_slug", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(String(16))
    event_slug: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(Text)


def questions_of(session: Session, slug: str, *, visible: bool = False) -> list[Question]:
    """The event's questions in their order (hidden ones too unless `visible`)."""
    query = select(EventQuestion).where(EventQuestion.event_slug == slug)
    if visible:
        query = query.where(EventQuestion.hidden.is_(False))
    rows = session.scalars(query.order_by(EventQuestion.position, EventQuestion.id))
    return [row.as_question() for row in rows]


def answers_for(session: Session, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each registration's answers as `{registration id: {question key: value}}` (one query;
    registrations without answers are left out). For the sheet, lists and the staff's table."""
    ids = list(dict.fromkeys(registration_ids))
    if not ids:
        return {}
    query = select(Answer.registration_id, EventQuestion.key, Answer.value).join(
        EventQuestion, EventQuestion.id == Answer.question_id
    )
    result: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for registration_id, key, value in session.execute(
            query.where(Answer.registration_id.in_(chunk))
        ):
            result.setdefault(registration_id, {})[key] = decode(value)
    return result


def answers_of(session: Session, registration_id: str) -> dict[str, Any]:
    """One registration's answers, `{key: value}`."""
    return answers_for(session, [registration_id]).get(registration_id, {})


def registrations_choosing(
    session: Session, event_slug: str, key: str, choice_key: str, *, active_only: bool = True
) -> list[str]:
    """IDs of the registrations whose answer to question `key` holds `choice_key` (a `wybor`
    or `wiele` answer): e.g. everyone boarding at one stop, for a message to them."""
    query = (
        select(Answer.registration_id, Answer.value)
        .join(EventQuestion, EventQuestion.id == Answer.question_id)
        .join(Registration, Registration.id == Answer.registration_id)
        .where(EventQuestion.event_slug == event_slug, EventQuestion.key == key)
        .where(Registration.erased_at.is_(None))
        .order_by(Registration.seq)
    )
    if active_only:
        query = query.where(Registration.status.in_(ACTIVE))
    return [
        rid for rid, value in session.execute(query) if choice_key in chosen_keys(decode(value))
    ]


def choice_of(session: Session, registration: Registration, key: str) -> Choice | None:
    """The choice (label, seats, description) a registration picked for the `wybor` question
    `key` (e.g. `miejsce_wsiadania`: the stop and its time for a reminder); None unanswered."""
    row = session.scalar(
        select(EventQuestion).where(
            EventQuestion.event_slug == registration.event_slug, EventQuestion.key == key
        )
    )
    if row is None:
        return None
    value = session.scalar(
        select(Answer.value).where(
            Answer.registration_id == registration.id, Answer.question_id == row.id
        )
    )
    if value is None:
        return None
    keys = chosen_keys(decode(value))
    return row.as_question().choice(keys[0]) if keys else None


def tallies(
    session: Session,
    event_slug: str,
    questions: Sequence[Question],
    *,
    excluding: str | None = None,
    statuses: Sequence[str] = ACTIVE,
) -> dict[str, Tally]:
    """How many registrations (confirmed and waitlisted by default) chose each choice, per
    question key, for the `wybor`/`wiele` questions given."""
    wanted = {q.id: q for q in questions if q.kind.has_choices and q.id is not None}
    result = {q.key: Tally(q) for q in wanted.values()}
    if not wanted:
        return result
    # Counted by the database per distinct answer (a few for a question with a few choices),
    # not row by row: this runs under the event's lock with every batch of registrations.
    query = (
        select(Answer.question_id, Answer.value, func.count())
        .join(Registration, Registration.id == Answer.registration_id)
        .where(Answer.event_slug == event_slug, Answer.question_id.in_(list(wanted)))
        .where(Registration.status.in_(list(statuses)), Registration.erased_at.is_(None))
        .group_by(Answer.question_id, Answer.value)
    )
    if excluding is not None:
        query = query.where(Answer.registration_id != excluding)
    for question_id, value, taken in session.execute(query):
        counts = result[wanted[question_id].key].counts
        for key in chosen_keys(decode(value)):
            counts[key] = counts.get(key, 0) + taken
    return result


def yes_no_counts(
    session: Session, event_slug: str, questions: Sequence[Question]
) -> dict[str, dict[bool, int]]:
    """`tak`/`nie` counts of active registrations per `tak_nie` question key."""
    wanted = {q.id: q for q in questions if q.kind is Kind.YES_NO and q.id is not None}
    result: dict[str, dict[bool, int]] = {q.key: {True: 0, False: 0} for q in wanted.values()}
    if not wanted:
        return result
    query = (
        select(Answer.question_id, Answer.value)
        .join(Registration, Registration.id == Answer.registration_id)
        .where(Answer.event_slug == event_slug, Answer.question_id.in_(list(wanted)))
        .where(Registration.status.in_(list(ACTIVE)), Registration.erased_at.is_(None))
    )
    for question_id, value in session.execute(query):
        result[wanted[question_id].key][bool(decode(value))] += 1
    return result


def answered_questions(session: Session, event_slug: str) -> set[int]:
    """IDs of the event's questions someone answered (their kind is locked)."""
    query = select(Answer.question_id).where(Answer.event_slug == event_slug).distinct()
    return set(session.scalars(query))


def chosen_choices(session: Session, question: Question) -> set[str]:
    """Choice keys of `question` someone chose (at any status): they can be hidden, not
    deleted."""
    query = select(Answer.value).where(Answer.question_id == question.id)
    return {key for value in session.scalars(query) for key in chosen_keys(decode(value))}


def save_answers(
    session: Session,
    registration_id: str,
    event_slug: str,
    questions: Sequence[Question],
    answers: Mapping[str, Any],
    *,
    before: Mapping[str, Any] | None = None,
) -> bool:
    """Write the registration's answers as `answers` says (a key absent: no answer); True when
    anything changed. `before`: the stored answers, when the caller read them already."""
    if before is None:
        before = answers_of(session, registration_id)
    by_key = {q.key: q for q in questions}
    changed = False
    for key in set(before) | set(answers):
        question = by_key.get(key)
        if question is None or question.id is None or before.get(key) == answers.get(key):
            continue
        changed = True
        where = (Answer.registration_id == registration_id, Answer.question_id == question.id)
        if key not in answers:
            session.execute(delete(Answer).where(*where))
        elif key in before:
            row = session.scalar(select(Answer).where(*where))
            if row is not None:
                row.value = encode(answers[key])
        else:
            session.add(
                Answer(
                    registration_id=registration_id,
                    event_slug=event_slug,
                    question_id=question.id,
                    value=encode(answers[key]),
                )
            )
    if changed:
        session.flush()
    return changed


def new_answer_rows(
    registration_id: str, event_slug: str, questions: Sequence[Question], answers: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rows for a Core INSERT of a new registration's answers (the batch of an intake)."""
    ids = {q.key: q.id for q in questions}
    return [
        {
            "registration_id": registration_id,
            "event_slug": event_slug,
            "question_id": ids[key],
            "value": encode(value),
        }
        for key, value in answers.items()
        if ids.get(key) is not None
    ]


def erase_answers(session: Session, registration_ids: Iterable[str]) -> None:
    """Delete the registrations' answers (erasure: they are the person's data)."""
    ids = list(registration_ids)
    if ids:
        session.execute(delete(Answer).where(Answer.registration_id.in_(ids)))
