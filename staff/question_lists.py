"""The lists' side of the event's own questions: the participants list's answer columns, and
the list of people per choice of a `wybor`/`wiele` question (the bus list per pick-up point),
sorted by choice, then in Polish alphabetical order, with enterprise, phone and a count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registrations.event import Event
from registrations.models import Registration
from registrations.polish import nbsp, plural
from registrations.questions import Choice, Question, chosen_keys, display
from registrations.status import Status
from staff import exports
from staff.exports import Cell, Table

CHOICE_LIST = "choice"
CHOICE_TITLE = "Lista według odpowiedzi"
CHOICE_FORMATS = ("xlsx", "csv", "pdf")


class NotAChoiceQuestion(ValueError):
    """The question is unknown or not `wybor`/`wiele`: there is nothing to group by."""


def participants_with_answers(
    event: Event,
    registrations: Sequence[Registration],
    questions: Sequence[Question],
    answers: Mapping[str, Mapping[str, Any]],
) -> Table:
    """The participants list with a column per question after its own (same row order)."""
    table = exports.participants(event, registrations)
    if not questions:
        return table
    ordered = sorted(registrations, key=lambda r: (r.status != Status.CONFIRMED, r.seq))
    table[0] = [*table[0], *(q.label for q in questions)]
    for row, registration in zip(table[1:], ordered, strict=True):
        mine = answers.get(registration.id, {})
        row.extend(display(q, mine.get(q.key)) for q in questions)
    return table


@dataclass(frozen=True)
class Group:
    """The confirmed participants who chose one choice, in Polish alphabetical order."""

    choice: Choice
    people: list[Registration]

    @property
    def heading(self) -> str:
        text = self.choice.label
        if self.choice.description:
            text += f" – {self.choice.description}"
        return f"{text} ({plural(len(self.people), 'osoba', 'osoby', 'osób')})"


def choice_question(questions: Sequence[Question], key: str) -> Question:
    question = next((q for q in questions if q.key == key), None)
    if question is None:
        known = ", ".join(q.key for q in questions if q.kind.has_choices) or "none"
        raise NotAChoiceQuestion(f"no question {key!r}; choice questions: {known}")
    if not question.kind.has_choices:
        raise NotAChoiceQuestion(
            f"question {key!r} is {question.kind.value}: only wybor and wiele questions have a "
            "list per choice"
        )
    return question


def groups(
    question: Question,
    registrations: Sequence[Registration],
    answers: Mapping[str, Mapping[str, Any]],
) -> list[Group]:
    """One group per choice (hidden ones too, when chosen), in the question's order."""
    people = exports.alphabetical(registrations)  # confirmed, by last then first name
    result = []
    for choice in question.choices:
        chose = [
            r for r in people if choice.key in chosen_keys(answers.get(r.id, {}).get(question.key))
        ]
        if chose or not choice.hidden:
            result.append(Group(choice, chose))
    return result


HEADER: list[Cell] = ["Lp.", "Imię", "Nazwisko", "Przedsiębiorstwo społeczne", "Telefon"]


def choice_table(question: Question, found: Sequence[Group]) -> Table:
    """Every group's people under the choice's label, numbered within it; then the counts."""
    table: Table = [[question.label, *HEADER]]
    for group in found:
        for n, r in enumerate(group.people, start=1):
            table.append(
                [group.choice.label, n, r.first_name, r.last_name, r.enterprise_name, r.phone]
            )
    table.append([])
    table.append([question.label, "Liczba osób"])
    table += [[group.choice.label, len(group.people)] for group in found]
    return table


def choice_document(
    event: Event, question: Question, found: Sequence[Group], made_at: datetime
) -> Any:
    """The PDF: a section per choice, headed by it with its description and count."""
    from staff import printouts  # fpdf2 only when printing
    from staff.pdf import Block, Section

    def table(group: Group) -> Table:
        rows: Table = [HEADER]
        for n, r in enumerate(group.people, start=1):
            rows.append([n, r.first_name, r.last_name, r.enterprise_name, r.phone])
        return rows

    sections = tuple(
        Section(nbsp(group.heading), (Block(printouts.printable_table(table(group))),))
        for group in found
    )
    return printouts._document(f"{CHOICE_TITLE}: {question.label}", event, made_at, sections)


def render_choice(
    fmt: str,
    event: Event,
    question: Question,
    registrations: Sequence[Registration],
    answers: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> tuple[bytes, str]:
    """The list per choice in `fmt`, and what it holds in a few words."""
    found = groups(question, registrations, answers)
    what = f"{sum(len(g.people) for g in found)} place(s) in {len(found)} choice(s)"
    if fmt == "csv":
        return exports.to_csv(choice_table(question, found)), what
    if fmt == "xlsx":
        return exports.to_xlsx(choice_table(question, found), question.label), what
    from staff import pdf

    return pdf.render_document(choice_document(event, question, found, now)), what
