"""The event's own questions (staff add them) and the rules of their answers: pure functions.

A question's key is its label folded to ASCII snake case when it is created and never changes,
so answers, the API and exports keep pointing at it when staff relabel it. Answers are checked
here with Polish messages keyed `answers.<key>`, like every other field; the seats of a choice
are counted by the operations under the event's lock (`registrations.answers`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from registrations.powiaty import fold
from registrations.validators import clean_multiline, clean_text

KEY_LENGTH = 60
LABEL_LENGTH = 200
HELP_LENGTH = 500
TEXT_LENGTH = 200
LONG_TEXT_LENGTH = 2000
ERROR_PREFIX = "answers."


class Kind(StrEnum):
    """A question's kind, named as the API names it."""

    TEXT = "tekst"
    LONG_TEXT = "tekst_dlugi"
    YES_NO = "tak_nie"
    CHOICE = "wybor"
    MANY = "wiele"
    DATE = "data"

    @property
    def label(self) -> str:
        """As staff see it in the staff pages."""
        return KIND_LABELS[self]

    @property
    def has_choices(self) -> bool:
        return self in (Kind.CHOICE, Kind.MANY)


KIND_LABELS = {
    Kind.TEXT: "Krótka odpowiedź",
    Kind.LONG_TEXT: "Długa odpowiedź",
    Kind.YES_NO: "Tak lub nie",
    Kind.CHOICE: "Jedna z listy",
    Kind.MANY: "Kilka z listy",
    Kind.DATE: "Data",
}


class QuestionError(ValueError):
    """A question staff wrote that cannot be kept; `field` is the form field to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Choice:
    """One answer of a `wybor`/`wiele` question; `seats` None: no limit."""

    key: str
    label: str
    seats: int | None = None
    description: str | None = None
    hidden: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "seats": self.seats,
            "description": self.description,
            "hidden": self.hidden,
        }

    def line(self) -> str:
        """As staff write it: `label | seats | description` (empty parts left out at the end)."""
        parts = [self.label, "" if self.seats is None else str(self.seats), self.description or ""]
        while parts and not parts[-1]:
            parts.pop()
        return " | ".join(parts)


@dataclass(frozen=True)
class Question:
    """A question of one event as the store keeps it (`registrations.answers.EventQuestion`)."""

    key: str
    label: str
    kind: Kind
    required: bool = False
    help_text: str | None = None
    hidden: bool = False
    position: int = 0
    choices: tuple[Choice, ...] = ()
    former_labels: tuple[str, ...] = ()
    created_at: datetime | None = None
    id: int | None = None

    @property
    def visible_choices(self) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if not c.hidden)

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)

    @property
    def limited(self) -> bool:
        """Whether any choice has a seat limit (its takers are counted under the lock)."""
        return any(c.seats is not None for c in self.choices)

    def binds(self, received_at: datetime | None) -> bool:
        """A required question added after a registration does not bind it (its link may
        answer it, but need not)."""
        if not self.required:
            return False
        if received_at is None or self.created_at is None:
            return True
        return received_at >= self.created_at


def folded(label: str) -> str:
    """How labels are compared: case, spaces, punctuation and Polish letters do not count."""
    return fold(label).replace("-", "").replace(" ", "")


def key_for(label: str, taken: Iterable[str]) -> str:
    """The label folded to ASCII snake case (`Miejsce wsiadania` → `miejsce_wsiadania`), with
    `_2`, `_3` … when the key is taken."""
    base = "_".join(fold(label).replace("-", " ").split())[: KEY_LENGTH - 4] or "pytanie"
    if base[0].isdigit():
        base = f"p_{base}"
    used = set(taken)
    key, n = base, 2
    while key in used:
        key, n = f"{base}_{n}", n + 1
    return key


def parse_choices(
    text: str, existing: Sequence[Choice] = (), chosen: Iterable[str] = ()
) -> tuple[Choice, ...]:
    """Staff's lines `label | seats | description` as choices.

    A line whose label folds like an existing choice's keeps that choice's key; an existing
    choice left out is deleted, or hidden when someone chose it (its answers stay).
    """
    by_label = {folded(c.label): c for c in existing}
    by_key = {c.key: c for c in existing}
    result: list[Choice] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split("|")]
        if len(parts) > 3:
            raise QuestionError(
                "choices",
                f"Wiersz {number}: najwyżej trzy części – nazwa | liczba miejsc | opis.",
            )
        label = _text(parts[0], "choices", LABEL_LENGTH)
        if not label:
            raise QuestionError("choices", f"Wiersz {number}: brak nazwy odpowiedzi.")
        seats: int | None = None
        if len(parts) > 1 and parts[1]:
            if not (parts[1].isascii() and parts[1].isdigit()) or int(parts[1]) < 1:
                raise QuestionError(
                    "choices",
                    f"Wiersz {number}: liczba miejsc musi być liczbą całkowitą większą od zera "
                    "(albo pusta – bez limitu).",
                )
            seats = int(parts[1])
        description = _text(parts[2], "choices", LABEL_LENGTH) if len(parts) > 2 else ""
        if folded(label) in seen:
            raise QuestionError("choices", f"Wiersz {number}: odpowiedź „{label}” powtarza się.")
        seen.add(folded(label))
        old = by_label.get(folded(label))
        key = old.key if old is not None else key_for(label, [*by_key, *(c.key for c in result)])
        result.append(Choice(key, label, seats, description or None))
    kept = {c.key for c in result}
    wanted = set(chosen)
    result += [replace(c, hidden=True) for c in existing if c.key not in kept and c.key in wanted]
    return tuple(result)


def choices_text(choices: Sequence[Choice]) -> str:
    """The visible choices as staff edit them, one per line."""
    return "\n".join(c.line() for c in choices if not c.hidden)


def _text(value: str, field_name: str, limit: int) -> str:
    try:
        cleaned = clean_text(value)
    except ValueError as exc:
        raise QuestionError(field_name, str(exc)) from None
    if len(cleaned) > limit:
        raise QuestionError(field_name, f"Tekst jest za długi (najwyżej {limit} znaków).")
    return cleaned


def check_label(label: str, reserved: Iterable[str], others: Iterable[Question]) -> str:
    """The label cleaned, or QuestionError when it equals a header of the service's or another
    question's label (the sheet finds its columns by header)."""
    cleaned = _text(label, "label", LABEL_LENGTH)
    if not cleaned:
        raise QuestionError("label", "Treść pytania jest wymagana.")
    mine = folded(cleaned)
    if any(folded(name) == mine for name in reserved):
        raise QuestionError(
            "label",
            f"„{cleaned}” to nazwa kolumny zgłoszeń w arkuszu – prosimy nazwać pytanie inaczej.",
        )
    if any(folded(q.label) == mine for q in others):
        raise QuestionError("label", f"Pytanie „{cleaned}” już jest – prosimy nazwać je inaczej.")
    return cleaned


def check_help(text: str) -> str | None:
    cleaned = _text(text, "help_text", HELP_LENGTH)
    return cleaned or None


# -- answers -----------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def answer_value(question: Question, value: Any, current: Any = None) -> Any:
    """One answer checked and normalised as stored (text, bool, a choice key, a list of
    them, `RRRR-MM-DD`); ValueError with the Polish message. `current`: the stored answer,
    whose hidden choices may stay chosen."""
    kind = question.kind
    if kind in (Kind.TEXT, Kind.LONG_TEXT):
        if not isinstance(value, str):
            raise ValueError("Oczekiwano tekstu.")
        limit = TEXT_LENGTH if kind is Kind.TEXT else LONG_TEXT_LENGTH
        if len(value) > 4 * limit:
            raise ValueError(f"Tekst jest za długi (najwyżej {limit} znaków).")
        text = clean_text(value) if kind is Kind.TEXT else clean_multiline(value)
        if len(text) > limit:
            raise ValueError(f"Tekst jest za długi (najwyżej {limit} znaków).")
        return text
    if kind is Kind.YES_NO:
        if not isinstance(value, bool):
            raise ValueError("Oczekiwano wartości true albo false.")
        return value
    if kind is Kind.DATE:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValueError("Datę należy podać w formacie RRRR-MM-DD.")
    allowed = {c.key for c in question.visible_choices}
    allowed |= set(current if isinstance(current, list) else [current] if current else [])
    if kind is Kind.CHOICE:
        if not isinstance(value, str) or value.strip() not in allowed:
            raise ValueError(_pick_one(question))
        return value.strip()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Oczekiwano listy odpowiedzi.")
    keys = list(dict.fromkeys(v.strip() for v in value))
    if any(k not in allowed for k in keys):
        raise ValueError(_pick_one(question, many=True))
    order = [c.key for c in question.choices]
    return sorted(keys, key=order.index)


def _pick_one(question: Question, *, many: bool = False) -> str:
    listed = ", ".join(f"{c.key} ({c.label})" for c in question.visible_choices)
    what = "Należy wybrać odpowiedzi z listy" if many else "Należy wybrać jedną z odpowiedzi"
    return f"{what}: {listed}."


def check_answers(
    questions: Sequence[Question],
    given: Any,
    *,
    stored: Mapping[str, Any] | None = None,
    received_at: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers after this submission, and the errors keyed `answers.<key>`.

    `given` is the request's `answers` (a new registration: all of them; a change: only the
    keys it names, `null` clearing an optional one, over `stored`). Unknown and hidden keys are
    refused; a hidden question's stored answer stays.
    """
    errors: dict[str, str] = {}
    if given is None:
        given = {}
    if not isinstance(given, dict):
        return dict(stored or {}), {"answers": "Odpowiedzi należy podać jako obiekt JSON."}
    by_key = {q.key: q for q in questions}
    result = dict(stored or {})
    for key, value in given.items():
        question = by_key.get(key) if isinstance(key, str) else None
        if question is None or question.hidden:
            errors[f"{ERROR_PREFIX}{str(key)[:KEY_LENGTH]}"] = (
                "Nieznane pytanie – należy je usunąć ze zgłoszenia."
            )
            continue
        if _blank(value):
            result.pop(key, None)
            continue
        try:
            result[key] = answer_value(question, value, (stored or {}).get(key))
        except ValueError as exc:
            errors[f"{ERROR_PREFIX}{key}"] = str(exc)
            continue
        if _blank(result[key]):
            result.pop(key)
    for question in questions:
        name = f"{ERROR_PREFIX}{question.key}"
        if question.hidden or name in errors or question.key in result:
            continue
        if question.binds(received_at):
            errors[name] = "To pole jest wymagane."
    return result, errors


def full_message(choice: Choice) -> str:
    return f"Brak miejsc: „{choice.label}”. Prosimy wybrać inną odpowiedź."


def chosen_keys(value: Any) -> list[str]:
    """The choice keys an answer holds (none for other kinds)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def display(question: Question, value: Any) -> str:
    """An answer as staff and the person read it: choice labels (`, ` between several), dates
    as `DD.MM.RRRR`, `tak`/`nie`; empty when unanswered."""
    if value is None:
        return ""
    if question.kind is Kind.YES_NO:
        return "tak" if value else "nie"
    if question.kind is Kind.DATE:
        try:
            return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
        except ValueError:
            return str(value)
    if question.kind.has_choices:
        labels = []
        for key in chosen_keys(value):
            choice = question.choice(key)
            labels.append(choice.label if choice is not None else key)
        return ", ".join(labels)
    return str(value)


def encode(value: Any) -> str:
    return _ENCODER.encode(value)


# `json.dumps` with any option builds a new encoder per call: every answer of every submission.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def decode(text: str) -> Any:
    return json.loads(text)


@dataclass
class Tally:
    """How many active registrations chose each choice of one question."""

    question: Question
    counts: dict[str, int] = field(default_factory=dict)

    def free(self, choice: Choice) -> int | None:
        if choice.seats is None:
            return None
        return max(choice.seats - self.counts.get(choice.key, 0), 0)

    def full(self, choice: Choice) -> bool:
        free = self.free(choice)
        return free is not None and free <= 0
