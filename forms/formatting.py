"""What templates use: Polish plural forms and dates (`registrations.polish`) as filters, the
CSRF token, and every page's text with no one-letter word at a line's end."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response
from flask_wtf.csrf import generate_csrf

from config.services import services
from registrations.event import Event
from registrations.polish import (
    date_pl,
    date_text,
    datetime_pl,
    event_dates,
    event_dates_text,
    event_when,
    nbsp_html,
    plural,
    weekday_date,
)
from registrations.status import REJECTION_REASON


def event_hours(event: Event) -> str:
    """The event's hours as the page adds them after its days (`początek … o godz. 9:00`)."""
    when = event_when(event)
    return when[len(event_dates_text(event)) :].strip(" ()")


def bind_one_letter_words(response: Response) -> Response:
    """Every HTML page: a non-breaking space after each one-letter word of its text (never in
    a form's values, which are attributes or a textarea's text)."""
    if response.mimetype == "text/html" and not response.direct_passthrough:
        response.set_data(nbsp_html(response.get_data(as_text=True)))
    return response


def init_app(app: Flask) -> None:
    filters: dict[str, Callable[..., str]] = {
        "date_pl": date_pl,
        "date_text": date_text,
        "datetime_pl": datetime_pl,
        "event_dates": event_dates,
        "event_dates_text": event_dates_text,
        "event_hours": event_hours,
        "weekday_date": weekday_date,
        "plural": plural,
    }
    for name, function in filters.items():
        app.add_template_filter(function, name)
    app.add_template_global(generate_csrf, "csrf_token")
    app.context_processor(
        lambda: {
            "rejection_reason": REJECTION_REASON,
            "clause": services().organisation.information_clause,
        }
    )
    app.after_request(bind_one_letter_words)
