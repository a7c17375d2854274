"""The event's own questions in the staff pages (`/obsluga/wydarzenia/<slug>/pytania`): add,
edit, order, hide and delete them, and add a ready-made set with one click. Thin: the rules are
in `registrations.question_editing`."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from backoffice.access import current_staff, full_staff
from backoffice.overview import entry_or_404
from config.services import services
from registrations.event import Event
from registrations.question_editing import (
    READY_MADE_LABELS,
    QuestionEditor,
    QuestionForm,
)
from registrations.questions import KIND_LABELS, QuestionError, choices_text
from sheets.rows import HEADERS

SAVED = {
    "add": "Pytanie zostało dodane.",
    "edit": "Pytanie zostało zapisane.",
    "hide": "Pytanie zostało ukryte – nie ma go w formularzu; odpowiedzi i kolumna zostają.",
    "show": "Pytanie jest znów w formularzu.",
    "delete": "Pytanie zostało usunięte.",
    "up": "Kolejność pytań została zmieniona.",
    "down": "Kolejność pytań została zmieniona.",
    "set": "Gotowe pytanie zostało dodane – prosimy je uzupełnić i zapisać.",
}


def editor() -> QuestionEditor:
    # Every header of the service's worksheet, and the lists' own (`Lp.`), are taken.
    return QuestionEditor(services().store, [*HEADERS, "Lp."])


def _form() -> QuestionForm:
    return QuestionForm(
        label=request.form.get("label", ""),
        kind=request.form.get("kind", ""),
        help_text=request.form.get("help_text", ""),
        required=request.form.get("required") == "tak",
        choices=request.form.get("choices", ""),
    )


@full_staff
def questions_page(slug: str) -> ResponseReturnValue:
    entry = entry_or_404(slug)
    event = entry.event
    if request.method == "GET":
        return _page(event)
    staff = current_staff()
    assert staff is not None
    action = request.form.get("action", "")
    key = request.form.get("key", "")
    by, now, edit = staff.email, services().now(), editor()
    try:
        if action == "add":
            edit.add(event, _form(), by=by, now=now)
        elif action == "edit":
            edit.edit(event, key, _form(), by=by, now=now)
        elif action in ("hide", "show"):
            edit.set_hidden(event, key, action == "hide", by=by, now=now)
        elif action == "delete":
            edit.delete(event, key, by=by, now=now)
        elif action in ("up", "down"):
            edit.move(event, key, -1 if action == "up" else 1, by=by, now=now)
        elif action == "set":
            edit.add_set(event, request.form.get("set", ""), by=by, now=now)
        else:
            return _page(event, errors={"action": "Nieznane polecenie."}, status=400)
    except QuestionError as refused:
        where = key if action != "add" else ""
        return _page(event, errors={refused.field: str(refused)}, failed=where, status=422)
    services().wake_workers()
    flash(SAVED[action])
    return redirect(url_for("backoffice.questions_page", slug=slug), code=303)


def _page(
    event: Event,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    edit = editor()
    questions = edit.questions(event.slug)
    answered = edit.answered(event.slug)
    typed: dict[str, Any] = request.form.to_dict() if request.method == "POST" else {}
    return (
        render_template(
            "obsluga/questions.html",
            event=event,
            questions=questions,
            answered=answered,
            kinds=KIND_LABELS,
            sets=READY_MADE_LABELS,
            choices_text=choices_text,
            errors=errors or {},
            failed=failed,
            typed=typed,
        ),
        status,
    )
