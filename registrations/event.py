"""An event as staff describe it in its file: dates, seats, area, contact, what the form shows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from certificates.text import known_placeholders_only
from registrations.powiaty import POWIATY

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


def known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


def known_powiat(code: str) -> str:
    if code not in POWIATY:
        raise ValueError(f"{code!r} is not a TERYT code of a lubuskie powiat")
    return code


class Contact(BaseModel):
    """Who answers participants' questions (shown on the form and the closed page)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str = "animator OWES Zielona Góra"
    phone: str = Field(min_length=1)
    email: EmailStr


class SheetsTarget(BaseModel):
    """Optional per-event override of where its rows go in Google Sheets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spreadsheet_id: str | None = None
    worksheet: str | None = None


def _meal_table(value: Any) -> Any:
    """A meal written as plain text (`"27.08 obiad"`) is a meal on no particular day."""
    return {"name": value} if isinstance(value, str) else value


class Meal(BaseModel):
    """A meal served, for the catering list: `{ day = 2018-08-28, name = "śniadanie",
    nocleg = true }`; `nocleg`: served only to those who take the night (breakfast after it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date | None = None
    name: str = Field(min_length=1)
    nocleg: bool = False


def _local_time(value: Any) -> Any:
    """`"09:30"` as TOML writes a time in quotes (TOML's own `09:30:00` is a time already)."""
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError('a time as HH:MM, e.g. "09:30"') from None
    return value


LocalTime = Annotated[time, BeforeValidator(_local_time)]


class Event(BaseModel):
    """One event as staff describe it; the single source of its rules and of what the form shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN)
    title: str = Field(min_length=1)
    short_title: str | None = None
    example: bool = False
    timezone: Annotated[str, AfterValidator(known_timezone)]
    starts_on: date
    ends_on: date
    registration_deadline: date
    registration_opens_at: datetime | None = None
    eligible_powiaty: list[Annotated[str, AfterValidator(known_powiat)]] = Field(min_length=1)
    capacity: int = Field(gt=0)
    max_per_enterprise: int | None = Field(default=None, gt=0)
    max_per_email: int = Field(
        default=5,
        gt=0,
        description="Active registrations one e-mail address may hold (colleagues sharing "
        "`biuro@…`, each under their own name).",
    )
    ask_nip: bool = Field(
        default=False,
        description="The form asks for the enterprise's NIP (required); enterprises are counted "
        "by NIP alone against `max_per_enterprise`.",
    )
    venue: str
    summary: str
    programme: list[str] = []
    provided: list[str] = []
    accommodation_label: str | None = Field(
        default=None, description="The night on offer; no accommodation question when unset."
    )
    meals: list[Annotated[Meal, BeforeValidator(_meal_table)]] = Field(
        default=[],
        description="Meals served, for the catering list: tables with day, name and nocleg, or "
        "plain names.",
    )
    start_time: LocalTime | None = Field(
        default=None, description="When the first day begins (local); the calendar entry is timed."
    )
    end_time: LocalTime | None = Field(
        default=None, description="When the last day ends (local), with `start_time`."
    )
    ask_gender: bool = Field(
        default=False, description="The form asks for gender (optional), for the rooming list."
    )
    project_name: str | None = Field(
        default=None, description="The EU-funded project, printed on the attendance list."
    )
    project_number: str | None = Field(
        default=None, description="The project's number (umowa), on the attendance list."
    )
    logo_strip: Path | None = Field(
        default=None,
        description="A PNG or JPEG strip of logos atop the attendance list (an event file's is "
        "found beside it or beside the organisation file).",
    )
    contact: Contact
    consent_version: str = Field(min_length=1)
    consent_text: str = Field(min_length=1)
    image_consent_text: str = Field(min_length=1)
    sheets: SheetsTarget = SheetsTarget()
    retention_days: int | None = Field(
        default=None,
        ge=1,  # never on the event's last day: staff still need its lists
        description="Days after ends_on when every registration's personal data are erased; "
        "unset: kept until erased on request.",
    )
    reminder_days_before: int = Field(
        default=3,
        ge=0,
        description="Days before starts_on when confirmed participants are asked whether they "
        "are still coming (0: no reminders).",
    )
    reminder_time: LocalTime = Field(
        default=time(10, 0), description="The hour of the reminders, in the event's time zone."
    )
    departure: list[str] = Field(
        default=[], description="One line per pick-up point, for the reminder (optional)."
    )
    what_to_bring: str | None = Field(
        default=None, description="What to bring, for the reminder (optional)."
    )
    offers_from_days: int = Field(
        default=7,
        ge=0,
        description="Days before starts_on from when a freed seat is offered to the waiting "
        "list for a limited time instead of given automatically (0: never).",
    )
    offer_hours: int = Field(
        default=24, ge=1, description="How long an offered seat waits for its answer."
    )
    # Certificates of participation (issue 20): the text (None: the organisation's), who
    # signs, and on how many days one must be present (None: every day of the event).
    certificate_text: Annotated[str, AfterValidator(known_placeholders_only)] | None = Field(
        default=None,
        description="The certificate's text with {imie_nazwisko}, {przedsiebiorstwo}, "
        "{wydarzenie}, {termin}, {miejsce}; unset: the organisation file's.",
    )
    certificate_signatory_name: str | None = Field(
        default=None, description="Who signs the certificates (name)."
    )
    certificate_signatory_role: str | None = Field(
        default=None, description="The signatory's role, under the name."
    )
    certificate_min_days: int | None = Field(
        default=None, ge=1, description="Days present that earn a certificate; unset: all days."
    )
    # Which saved version this is of an event made in the staff pages (None: an event file's).
    # Not a key of the description: the catalogue sets it (see `stored`).
    _version: int | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Event:
        # Error types of their own, so the staff pages can say it in Polish beside the field.
        if self.ends_on < self.starts_on:
            raise PydanticCustomError("ends_before_start", "ends_on is before starts_on")
        if self.registration_deadline > self.ends_on:
            raise PydanticCustomError(
                "deadline_after_end", "registration_deadline is after the event ends"
            )
        if self.start_time is not None and self.end_time is not None:
            if self.starts_on == self.ends_on and self.end_time <= self.start_time:
                raise PydanticCustomError(
                    "end_before_start_time", "end_time is not after start_time on a one-day event"
                )
        if self.registration_opens_at is not None and self.registration_opens_at.tzinfo is None:
            object.__setattr__(
                self, "registration_opens_at", self.registration_opens_at.replace(tzinfo=self.tz)
            )
        return self

    @classmethod
    def stored(cls, slug: str, data: dict[str, object], version: int) -> Event:
        """Version `version` of an event made in the staff pages, as the store keeps it."""
        event = cls.model_validate({**data, "slug": slug})
        event._version = version
        return event

    @property
    def version(self) -> int | None:
        """The saved version of an event made in the staff pages; None for an event file."""
        return self._version

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def closes_at(self) -> datetime:
        """The first instant refused: midnight after the deadline day, in local time."""
        next_day = self.registration_deadline + timedelta(days=1)
        return datetime.combine(next_day, time(0), tzinfo=self.tz)

    @property
    def starts_at(self) -> datetime:
        """Midnight at the start of the first day, local time: cancellations end, no promotions."""
        return datetime.combine(self.starts_on, time(0), tzinfo=self.tz)

    @property
    def timed(self) -> bool:
        """Whether the event has hours (its calendar entry is timed), not whole days only."""
        return self.start_time is not None or self.end_time is not None

    @property
    def begins_at(self) -> datetime:
        """When the programme begins, local time: `start_time` on the first day, else its
        midnight. No rule moves with it (cancelling still ends at `starts_at`)."""
        return datetime.combine(self.starts_on, self.start_time or time(0), tzinfo=self.tz)

    @property
    def finishes_at(self) -> datetime:
        """When the programme ends, local time: `end_time` on the last day, else the midnight
        after it."""
        if self.end_time is None:
            return datetime.combine(self.ends_on + timedelta(days=1), time(0), tzinfo=self.tz)
        return datetime.combine(self.ends_on, self.end_time, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        """Every day of the event, in order."""
        return [
            self.starts_on + timedelta(days=n)
            for n in range((self.ends_on - self.starts_on).days + 1)
        ]

    @property
    def nights(self) -> list[date]:
        """The nights of the event (each by the day it begins): none for a one-day event."""
        return self.days[:-1]

    @property
    def worksheet_title(self) -> str:
        """The staff's worksheet for this event's registrations."""
        return self.sheets.worksheet or f"Zgłoszenia – {self.short_title or self.slug}"[:100]

    @property
    def summary_worksheet_title(self) -> str:
        """The staff's close-off summary for this event."""
        return f"Podsumowanie – {self.short_title or self.slug}"[:100]

    def local(self, moment: datetime) -> datetime:
        """`moment` in the event's time zone."""
        return moment.astimezone(self.tz)
