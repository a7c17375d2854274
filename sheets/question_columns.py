"""The event's own questions as columns of the registrations worksheet and the workbook: after
the service's columns, header = the question's label, found by header like every other column.
A relabelled question's column is renamed in place (its former labels are kept for that)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from registrations.answers import answers_for, questions_of
from registrations.models import Registration
from registrations.questions import Question, display
from sheets.rows import key_of, neutralise
from store import Store


def read_questions(store: Store, slug: str) -> list[Question]:
    """Every question of the event, hidden ones too (their answers and column stay)."""
    with store.reading() as session:
        return questions_of(session, slug)


def read_answers(store: Store, registrations: Iterable[Registration]) -> dict[str, dict[str, Any]]:
    with store.reading() as session:
        return answers_for(session, [r.id for r in registrations])


def question_cells(questions: Sequence[Question], answers: Mapping[str, Any]) -> dict[str, str]:
    """One registration's answers under their labels, as the sheet shows them (text, RAW)."""
    return {q.label: neutralise(display(q, answers.get(q.key))) for q in questions}


def renamed_question_headers(
    header_row: Sequence[str], questions: Sequence[Question]
) -> list[tuple[int, str]]:
    """(column, new label) for each question whose column still has a former label."""
    present = {key_of(cell) for cell in header_row}
    renames: list[tuple[int, str]] = []
    for question in questions:
        if key_of(question.label) in present:
            continue
        former = {key_of(label) for label in question.former_labels}
        for index, cell in enumerate(header_row):
            if key_of(cell) in former:
                renames.append((index, question.label))
                present.add(key_of(question.label))
                break
    return renames


def missing_question_headers(header_row: Sequence[str], questions: Sequence[Question]) -> list[str]:
    present = {key_of(cell) for cell in header_row}
    return [q.label for q in questions if key_of(q.label) not in present]
