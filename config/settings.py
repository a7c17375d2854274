"""Environment settings, validated once at start-up."""

from __future__ import annotations

from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EVENTS_DIR = Path(__file__).parent / "events"
DEFAULT_ORGANISATION_FILE = Path(__file__).parent / "organisation.toml"


class Settings(BaseSettings):
    """Everything an operator sets; tests pass values to the constructor instead of patching."""

    # hide_input_in_errors: a mistake in one variable must not echo SMTP_PASSWORD or SECRET_KEY.
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, hide_input_in_errors=True
    )

    secret_key: SecretStr | None = Field(
        default=None, description="Signs sessions and CSRF tokens; generated in instance/ if unset."
    )
    instance_path: Path | None = Field(
        default=None, description="Folder for the SQLite store, local workbooks and mail files."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite in the instance folder when unset."
    )
    database_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="The longest wait for the database (a connection, a pooled connection, a "
        "statement, an answer): a hung database then gets the same 503 as one that is down.",
    )
    events_dir: Path = DEFAULT_EVENTS_DIR
    organisation_file: Path = Field(
        default=DEFAULT_ORGANISATION_FILE,
        description="The organisation's TOML file: defaults of new events, staff lists.",
    )
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    public_base_url: str = Field(
        default="http://127.0.0.1:5000",
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="Where participants reach the service; makes every link absolute.",
    )

    google_application_credentials: Path | None = None
    sheets_spreadsheet_id: str | None = None
    sheets_emulator_host: str | None = Field(
        default=None, description="host:port of a local Sheets API emulator; no credentials."
    )
    sheets_timeout_seconds: float = Field(default=20.0, gt=0)
    sheets_max_attempts: int = Field(default=6, ge=1)
    sheets_backoff_max_seconds: float = Field(default=30.0, ge=0)
    sheets_in_flight_settle_seconds: float = Field(
        default=30.0, ge=0, description="Wait after a timed-out write before checking what landed."
    )

    sheets_check_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the worksheet is looked at when idle."
    )
    sheets_pull_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often staff decisions are read from the sheet."
    )
    decision_grace_minutes: float = Field(
        default=5.0,
        ge=0,
        description="Time to take a staff decision back: carried out by the first sheet read "
        "this long after the read that first saw it (a page decision: by the worker); 0 = the "
        "next round.",
    )

    # Rows per append; each batch reads the sheet first, so a burst of thousands wants few.
    sync_batch_size: int = Field(default=1000, ge=1, le=5000)
    sync_interval_seconds: float = Field(default=5.0, gt=0)
    run_worker: bool = Field(
        default=True, description="Run the background syncer thread in this process."
    )
    worker_lease_seconds: float = Field(default=60.0, gt=0)

    close_off_window_days: int = Field(
        default=14, ge=1, description="Deadlines older than this are not closed off by themselves."
    )

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = Field(default="starttls", pattern="^(starttls|ssl|none)$")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "OWES Zielona Góra <rejestracja@localhost>"
    staff_email: str | None = Field(
        default=None, description="Where close-off summaries go; the event contact when unset."
    )
    staff_emails: str = Field(
        default="",
        description="Comma-separated addresses that sign in to the staff pages as full staff "
        "(besides staff_emails in the organisation file); not mail recipients.",
    )
    checkin_emails: str = Field(
        default="",
        description="Comma-separated addresses that sign in as check-in staff (besides "
        "checkin_emails in the organisation file).",
    )
    staff_link_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a sign-in link is valid."
    )
    staff_session_hours: float = Field(
        default=12.0, gt=0, le=24 * 31, description="How long a staff session lasts from sign-in."
    )
    staff_digest_minutes: float = Field(
        default=60.0, gt=0, description="At most one e-mail of late changes per this many minutes."
    )
    mail_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often the outbox is looked at when not woken."
    )

    ratelimit_enabled: bool = Field(
        default=True, description="Throttle the public POST endpoints per client address."
    )
    ratelimit_registrations: str = Field(
        default="60 per 10 minutes",
        description="How many POSTs one address may send to the registration endpoints, and "
        "as many to the private-link ones (a Flask-Limiter limit; several joined by ';').",
    )
    ratelimit_storage_uri: str = Field(
        default="memory://",
        pattern=r"^(memory|redis|rediss|redis\+unix)://",
        description="Where the counts are kept: memory:// for one process, Redis for several.",
    )
    ratelimit_key_prefix: str = Field(
        default="",
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]*$",
        description="Prefix of the limiter's keys, so services (or test runs) sharing one Redis "
        "never count into each other's buckets.",
    )
    trusted_proxies: int = Field(
        default=0, ge=0, description="How many reverse proxies' X-Forwarded-For to believe."
    )

    @field_validator("staff_emails", "checkin_emails")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for address in address_list(value):
            try:
                validate_email(address, check_deliverability=False)
            except EmailNotValidError:
                raise ValueError(
                    "not a comma-separated list of e-mail addresses (one of them is not an address)"
                ) from None
        return value

    @field_validator("ratelimit_registrations")
    @classmethod
    def _a_limit_flask_limiter_reads(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit such as '60 per 10 minutes' or '5/minute'"
            ) from None
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_batch(self) -> Settings:
        # The syncer renews the lease, then reads the sheet before it renews again and writes:
        # the lease must outlast those two calls. It renews it again before waiting for a write
        # whose answer was lost (or before a backoff): the lease must outlast that wait too, or
        # another process could append before the lost write lands.
        lease = self.worker_lease_seconds
        if lease <= 2 * self.sheets_timeout_seconds:
            raise ValueError(
                f"WORKER_LEASE_SECONDS ({lease:g}) must be more than "
                f"2 × SHEETS_TIMEOUT_SECONDS ({self.sheets_timeout_seconds:g})"
            )
        longest_wait = max(self.sheets_in_flight_settle_seconds, self.sheets_backoff_max_seconds)
        if lease <= longest_wait:
            raise ValueError(
                f"WORKER_LEASE_SECONDS ({lease:g}) must be more than "
                "SHEETS_IN_FLIGHT_SETTLE_SECONDS and SHEETS_BACKOFF_MAX_SECONDS "
                f"({longest_wait:g})"
            )
        return self

    @property
    def secure_cookies(self) -> bool:
        """Behind HTTPS the session cookie is sent only over HTTPS."""
        return self.public_base_url.startswith("https://")

    @property
    def google_configured(self) -> bool:
        """Whether rows go to Google Sheets (or its emulator) rather than the local workbook."""
        return bool(
            self.sheets_spreadsheet_id
            or self.sheets_emulator_host
            or self.google_application_credentials
        )


def address_list(value: str) -> list[str]:
    """`a@x.pl, B@y.pl` as its addresses (empty entries left out), in the case they were given."""
    return [part.strip() for part in value.split(",") if part.strip()]


class ConfigurationError(SystemExit):
    """A settings or event-file mistake: exits start-up with the message alone, no traceback."""


def describe_settings_error(exc: ValidationError) -> str:
    """Each problem under the environment variable the operator sets, without its value."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}")
    return "invalid settings (environment variables):\n" + "\n".join(lines)
