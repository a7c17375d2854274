"""Staff add, edit, order and hide an event's questions: each change one transaction under the
event's lock (registrations count a choice's seats under it), recorded in the staff's history.

The rules: a key is fixed at creation; a label may not equal a header of the service's sheet
columns or another question's (columns are found by header); a kind is locked once answered; a
chosen choice left out is hidden, not deleted; a question with answers is hidden, not deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from registrations.answers import (
    Answer,
    EventQuestion,
    answered_questions,
    chosen_choices,
    questions_of,
)
from registrations.event import Event
from registrations.history import Action, record
from registrations.models import EventState
from registrations.questions import (
    Choice,
    Kind,
    Question,
    QuestionError,
    check_help,
    check_label,
    key_for,
    parse_choices,
)
from registrations.window import Transactions


@dataclass(frozen=True)
class QuestionForm:
    """What staff submit for one question (the form's fields, as typed)."""

    label: str
    kind: str
    help_text: str = ""
    required: bool = False
    choices: str = ""


def _kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise QuestionError("kind", "Należy wybrać rodzaj odpowiedzi z listy.") from None


def _lock(session: Session, slug: str) -> None:
    """The event's state row, locked (a registration counting a choice's seats waits), its
    `questions_version` moved on (registering reads the questions again)."""
    state = session.scalar(select(EventState).where(EventState.slug == slug).with_for_update())
    if state is None:  # an event file added since the store was prepared
        state = EventState(slug=slug, questions_version=0)
        session.add(state)
    state.questions_version = (state.questions_version or 0) + 1
    session.flush()


class QuestionEditor:
    """The questions of events, over one store; `reserved` are the sheet's service headers."""

    def __init__(self, store: Transactions, reserved: Iterable[str]) -> None:
        self.store = store
        self.reserved = tuple(reserved)

    def questions(self, slug: str) -> list[Question]:
        with self.store.reading() as session:
            return questions_of(session, slug)

    def answered(self, slug: str) -> set[int]:
        with self.store.reading() as session:
            return answered_questions(session, slug)

    def add(self, event: Event, form: QuestionForm, *, by: str, now: datetime) -> Question:
        """A new question at the end; its key from its label, fixed from now on."""
        with self.store.transaction() as session:
            _lock(session, event.slug)
            existing = questions_of(session, event.slug)
            label = check_label(form.label, self.reserved, existing)
            kind = _kind(form.kind)
            choices = parse_choices(form.choices) if kind.has_choices else ()
            if kind.has_choices and not choices:
                raise QuestionError(
                    "choices", "Pytanie z listą potrzebuje co najmniej jednej odpowiedzi."
                )
            key = key_for(label, [q.key for q in existing])
            position = (
                session.scalar(
                    select(func.max(EventQuestion.position)).where(
                        EventQuestion.event_slug == event.slug
                    )
                )
                or 0
            ) + 1
            row = EventQuestion(
                event_slug=event.slug,
                key=key,
                position=position,
                label=label,
                kind=kind.value,
                help_text=check_help(form.help_text),
                required=form.required,
                hidden=False,
                choices=_choices_json(choices),
                former_labels="[]",
                created_at=now,
            )
            session.add(row)
            session.flush()
            _recorded(session, event, key, "question_added", by=by, now=now)
            return row.as_question()

    def edit(
        self, event: Event, key: str, form: QuestionForm, *, by: str, now: datetime
    ) -> Question:
        """New label, help text, requirement or choices; the kind only while unanswered."""
        with self.store.transaction() as session:
            _lock(session, event.slug)
            row = _row(session, event.slug, key)
            question = row.as_question()
            others = [q for q in questions_of(session, event.slug) if q.key != key]
            label = check_label(form.label, self.reserved, others)
            kind = _kind(form.kind)
            if kind is not question.kind and question.id in answered_questions(session, event.slug):
                raise QuestionError(
                    "kind",
                    "Rodzaju odpowiedzi nie można zmienić – ktoś już odpowiedział na to pytanie.",
                )
            choices: tuple[Choice, ...] = ()
            if kind.has_choices:
                chosen = chosen_choices(session, question)
                choices = parse_choices(form.choices, question.choices, chosen)
                if not any(not c.hidden for c in choices):
                    raise QuestionError(
                        "choices", "Pytanie z listą potrzebuje co najmniej jednej odpowiedzi."
                    )
            if label != row.label:
                former = [*json.loads(row.former_labels), row.label]
                row.former_labels = json.dumps(list(dict.fromkeys(former)), ensure_ascii=False)
                row.label = label
            row.kind = kind.value
            row.help_text = check_help(form.help_text)
            row.required = form.required
            row.choices = _choices_json(choices)
            _recorded(session, event, key, "question_changed", by=by, now=now)
            return row.as_question()

    def set_hidden(self, event: Event, key: str, hidden: bool, *, by: str, now: datetime) -> None:
        """Hide a question (it leaves the form; its answers and column stay) or show it again."""
        with self.store.transaction() as session:
            _lock(session, event.slug)
            row = _row(session, event.slug, key)
            row.hidden = hidden
            _recorded(
                session,
                event,
                key,
                "question_hidden" if hidden else "question_shown",
                by=by,
                now=now,
            )

    def delete(self, event: Event, key: str, *, by: str, now: datetime) -> None:
        """Delete an unanswered question; one with answers can only be hidden."""
        with self.store.transaction() as session:
            _lock(session, event.slug)
            row = _row(session, event.slug, key)
            answered = session.scalar(select(Answer.id).where(Answer.question_id == row.id))
            if answered is not None:
                raise QuestionError(
                    "delete",
                    "Na to pytanie są już odpowiedzi – można je ukryć, ale nie usunąć.",
                )
            session.execute(delete(EventQuestion).where(EventQuestion.id == row.id))
            _recorded(session, event, key, "question_deleted", by=by, now=now)

    def move(self, event: Event, key: str, step: int, *, by: str, now: datetime) -> None:
        """One place up (`-1`) or down (`1`) in the form's order."""
        with self.store.transaction() as session:
            _lock(session, event.slug)
            rows = list(
                session.scalars(
                    select(EventQuestion)
                    .where(EventQuestion.event_slug == event.slug)
                    .order_by(EventQuestion.position, EventQuestion.id)
                )
            )
            index = next((i for i, r in enumerate(rows) if r.key == key), None)
            if index is None:
                raise QuestionError("key", "Nie ma takiego pytania.")
            other = index + step
            if 0 <= other < len(rows):
                rows[index], rows[other] = rows[other], rows[index]
            for position, row in enumerate(rows, start=1):
                row.position = position

    def add_set(self, event: Event, name: str, *, by: str, now: datetime) -> Question:
        """A ready-made question (`transport`, `pokoj`, `posilki`), to be edited afterwards."""
        if name not in READY_MADE:
            raise QuestionError("set", "Nie ma takiego gotowego zestawu.")
        return self.add(event, READY_MADE[name](event), by=by, now=now)


def _row(session: Session, slug: str, key: str) -> EventQuestion:
    row = session.scalar(
        select(EventQuestion).where(EventQuestion.event_slug == slug, EventQuestion.key == key)
    )
    if row is None:
        raise QuestionError("key", "Nie ma takiego pytania.")
    return row


def _choices_json(choices: Sequence[Choice]) -> str:
    return json.dumps([c.as_dict() for c in choices], ensure_ascii=False)


def _transport(event: Event) -> QuestionForm:
    return QuestionForm(
        label="Miejsce wsiadania",
        kind=Kind.CHOICE.value,
        help_text="Przystanek, na którym wsiądą Państwo do autokaru.",
        required=True,
        choices="Przystanek 1 (do uzupełnienia) | 20 | odjazd o godz. 7:00\n"
        "Przystanek 2 (do uzupełnienia) | 20 | odjazd o godz. 7:30\n"
        "Dojazd we własnym zakresie",
    )


def _room(event: Event) -> QuestionForm:
    return QuestionForm(
        label="Z kim chcę dzielić pokój",
        kind=Kind.TEXT.value,
        help_text="Imię i nazwisko osoby – uwzględnimy to w miarę możliwości.",
    )


def _meals(event: Event) -> QuestionForm:
    names = [
        f"{meal.day.strftime('%d.%m')} {meal.name}" if meal.day else meal.name
        for meal in event.meals
    ] or ["śniadanie", "obiad", "kolacja"]
    return QuestionForm(
        label="Posiłki",
        kind=Kind.MANY.value,
        help_text="Prosimy zaznaczyć posiłki, z których Państwo skorzystają.",
        choices="\n".join(names),
    )


READY_MADE = {"transport": _transport, "pokoj": _room, "posilki": _meals}
READY_MADE_LABELS = {
    "transport": "Transport – miejsce wsiadania",
    "pokoj": "Zakwaterowanie – z kim dzielić pokój",
    "posilki": "Posiłki",
}


def _recorded(
    session: Session, event: Event, key: str, what: str, *, by: str, now: datetime
) -> None:
    """A change of a question in the staff history, under the event's `saved` entry."""
    record(
        session,
        actor=by,
        action=Action.EVENT_SAVED,
        at=now,
        event_slug=event.slug,
        fields=[f"pytanie:{key}"],
        detail=what,
    )
