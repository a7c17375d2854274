"""The summary's counts of the event's own questions: each `wybor`, `wiele` and `tak_nie`
question a section, a row per choice (and its seats left, when limited)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from registrations.answers import questions_of, tallies, yes_no_counts
from registrations.event import Event
from registrations.questions import Kind
from registrations.status import Status


def answer_counts(session: Session, event: Event) -> list[tuple[str, list[list[str | int]]]]:
    """(question label, rows of [answer, people]) per question with counts: confirmed
    participants, as the rest of the summary; seats left count the waiting list too (a full
    choice is refused to it)."""
    questions = questions_of(session, event.slug)
    confirmed = tallies(session, event.slug, questions, statuses=[Status.CONFIRMED.value])
    active = tallies(session, event.slug, questions)
    yes_no = yes_no_counts(session, event.slug, questions)
    sections: list[tuple[str, list[list[str | int]]]] = []
    for question in questions:
        if question.kind is Kind.YES_NO:
            counts = yes_no[question.key]
            sections.append((question.label, [["tak", counts[True]], ["nie", counts[False]]]))
            continue
        if not question.kind.has_choices:
            continue
        rows: list[list[str | int]] = []
        for choice in question.choices:
            taken = confirmed[question.key].counts.get(choice.key, 0)
            if choice.hidden and not taken:
                continue
            label = choice.label
            free = active[question.key].free(choice)
            if free is not None:
                label += f" (wolne miejsca: {free} z {choice.seats})"
            rows.append([label, taken])
        sections.append((question.label, rows))
    return sections
