"""What templates use: Polish dates (the domain's wording) as filters, the CSRF token."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import generate_csrf

from registrations.dates import date_pl, datetime_pl, event_dates


def init_app(app: Flask) -> None:
    app.add_template_filter(date_pl)
    app.add_template_filter(datetime_pl)
    app.add_template_filter(event_dates)
    app.add_template_global(generate_csrf, "csrf_token")
