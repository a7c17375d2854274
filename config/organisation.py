"""The organisation running the service (`config/organisation.toml`), validated at start-up."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, ValidationError

from config.events import describe_file_error
from registrations.event import Contact, known_powiat, known_timezone


class OrganisationFileError(Exception):
    """An organisation file that cannot be used; the message names the file and the key."""


class Organisation(BaseModel):
    """Who runs the events: the defaults of a new event and the staff who may sign in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    timezone: Annotated[str, AfterValidator(known_timezone)] = "Europe/Warsaw"
    eligible_powiaty: list[Annotated[str, AfterValidator(known_powiat)]] = Field(min_length=1)
    contact: Contact
    consent_text: str = Field(min_length=1)
    image_consent_text: str = Field(min_length=1)
    staff_emails: list[EmailStr] = []
    checkin_emails: list[EmailStr] = []


def load_organisation(path: Path) -> Organisation:
    """Read and validate the organisation file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OrganisationFileError(f"{path}: cannot read the organisation file: {exc}") from exc
    try:
        return Organisation.model_validate(data)
    except ValidationError as exc:
        message = describe_file_error(path, "organisation file", exc)
        raise OrganisationFileError(message) from exc
