"""The event's own questions on the form and the private link's page: each a field named
`answers.<key>` (so an error is shown beside it under the same key the API answers with)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.datastructures import MultiDict

from registrations.answers import questions_of, tallies
from registrations.questions import ERROR_PREFIX, Kind, Question, Tally, chosen_keys, display
from store import Store

YES_NO = {"tak": True, "nie": False}


def field(question: Question) -> str:
    return f"{ERROR_PREFIX}{question.key}"


def answers_from_form(form: MultiDict[str, str], questions: Sequence[Question]) -> dict[str, Any]:
    """The form's answers as the JSON API sends them (every visible question, blank: none)."""
    answers: dict[str, Any] = {}
    for question in questions:
        if question.hidden:
            continue
        name = field(question)
        if question.kind is Kind.MANY:
            answers[question.key] = form.getlist(name)
        elif question.kind is Kind.YES_NO:
            answers[question.key] = YES_NO.get(form.get(name, ""))
        else:
            answers[question.key] = form.get(name, "")
    return answers


def form_values(form: MultiDict[str, str], questions: Sequence[Question]) -> dict[str, str]:
    """What was typed, kept on an error (several choices as lines)."""
    return {
        field(q): "\n".join(form.getlist(field(q)))
        if q.kind is Kind.MANY
        else form.get(field(q), "")
        for q in questions
    }


def stored_values(answers: Mapping[str, Any], questions: Sequence[Question]) -> dict[str, str]:
    """Stored answers as the form's strings."""
    values: dict[str, str] = {}
    for question in questions:
        value = answers.get(question.key)
        if value is None:
            continue
        if isinstance(value, bool):
            values[field(question)] = "tak" if value else "nie"
        elif isinstance(value, list):
            values[field(question)] = "\n".join(value)
        else:
            values[field(question)] = str(value)
    return values


def context(store: Store, slug: str) -> dict[str, Any]:
    """The visible questions, their fields' labels and each choice's takers, for the pages."""
    with store.reading() as session:
        questions = questions_of(session, slug, visible=True)
        counted: dict[str, Tally] = tallies(session, slug, questions)
    return {
        "questions": questions,
        "tallies": counted,
        "question_labels": {field(q): q.label for q in questions},
    }


def answered(questions: Sequence[Question], answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The answers given, as (label, text), for the confirmation and the private page."""
    return [(q.label, display(q, answers[q.key])) for q in questions if q.key in answers]


def with_hidden_choices(
    answers: dict[str, Any], stored: dict[str, Any], questions: list[Question]
) -> dict[str, Any]:
    """The form's answers with the hidden choices the person holds: the form (the private
    link's, the staff's corrections) does not show a choice staff hid, so it stays chosen (a
    visible one picked on the form replaces it in a `wybor`)."""
    for question in questions:
        if question.hidden or not question.kind.has_choices or question.key not in answers:
            continue
        held = [
            key
            for key in chosen_keys(stored.get(question.key))
            if (choice := question.choice(key)) is not None and choice.hidden
        ]
        given = answers[question.key]
        if not held:
            continue
        if question.kind is Kind.CHOICE:
            answers[question.key] = given or held[0]
        else:
            answers[question.key] = list(dict.fromkeys([*chosen_keys(given), *held]))
    return answers
