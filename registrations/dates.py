"""Polish dates as pages, e-mails and printed lists write them (Babel)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime

from registrations.event import Event


def date_pl(value: date) -> str:
    """`22 sierpnia 2018`."""
    return format_date(value, "d MMMM y", locale="pl")


def datetime_pl(value: datetime) -> str:
    """`22 sierpnia 2018, 14:03` in the datetime's own zone."""
    return format_datetime(value, "d MMMM y, HH:mm", tzinfo=value.tzinfo, locale="pl")


def event_dates(event: Event) -> str:
    """`27–28 sierpnia 2018`, or the full range when months differ."""
    start, end = event.starts_on, event.ends_on
    if start == end:
        return date_pl(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{date_pl(end)}"  # Polish style: "27–28 sierpnia 2018"
    return f"{date_pl(start)} – {date_pl(end)}"
