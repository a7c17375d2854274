"""Polish dates: kept for the modules that import them from here; see `registrations.polish`."""

from registrations.polish import date_pl, datetime_pl, event_dates

__all__ = ["date_pl", "datetime_pl", "event_dates"]
