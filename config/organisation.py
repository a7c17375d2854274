"""The organisation running the service (`config/organisation.toml`), validated at start-up."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, ValidationError

from certificates.text import DEFAULT_TEXT, known_placeholders_only
from config.events import describe_file_error
from config.images import find_image
from registrations.event import Contact, known_powiat, known_timezone

# What a shipped default says where only the organisation knows the value: `<<UZUPEŁNIJ: …>>`.
PLACEHOLDER = "<<UZUPEŁNIJ"


class OrganisationFileError(Exception):
    """An organisation file that cannot be used; the message names the file and the key."""


class Purpose(BaseModel):
    """Why the data are processed, and on which legal basis (RODO art. 13 ust. 1 lit. c)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)


class InformationClause(BaseModel):
    """The information given when data are collected (RODO art. 13): shown beside the consent
    on the form and sent with the confirmation e-mail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    administrator: str = Field(min_length=1, description="The legal entity running the OWES.")
    administrator_address: str = Field(min_length=1)
    dpo_contact: str = Field(min_length=1, description="The data protection officer's contact.")
    purposes: list[Purpose] = Field(min_length=1)
    recipients: list[str] = Field(min_length=1)
    retention: str = Field(min_length=1)
    supervisory_authority: str = Field(
        default="Prezes Urzędu Ochrony Danych Osobowych (ul. Stawki 2, 00-193 Warszawa)",
        min_length=1,
    )

    def paragraphs(self) -> list[tuple[str, list[str]]]:
        """The clause as headed paragraphs, as the form and the e-mail print it."""
        return [
            ("Administrator danych", [f"{self.administrator}, {self.administrator_address}."]),
            (
                "Inspektor ochrony danych",
                [
                    "W sprawach dotyczących danych osobowych można kontaktować się "
                    f"z inspektorem ochrony danych: {self.dpo_contact}."
                ],
            ),
            (
                "Cele i podstawy prawne przetwarzania",
                [
                    f"{p.purpose[:1].upper()}{p.purpose[1:]} – podstawa prawna: {p.legal_basis}."
                    for p in self.purposes
                ],
            ),
            ("Odbiorcy danych", [_sentence(", ".join(self.recipients))]),
            ("Okres przechowywania", [f"{self.retention}."]),
            (
                "Prawa osoby, której dane dotyczą",
                [
                    "Przysługuje Państwu prawo dostępu do danych, ich sprostowania, usunięcia, "
                    "ograniczenia przetwarzania i przenoszenia, a także prawo wycofania zgody "
                    "w dowolnym momencie bez wpływu na zgodność z prawem przetwarzania dokonanego "
                    "przed jej wycofaniem.",
                    "Przysługuje Państwu prawo wniesienia skargi do organu nadzorczego, którym "
                    f"jest {self.supervisory_authority}.",
                    "Podanie danych jest dobrowolne, ale niezbędne do udziału w wydarzeniu.",
                ],
            ),
        ]


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def unfilled_clause() -> InformationClause:
    """The clause of an organisation file that has none: what the law asks, to be filled in."""
    return InformationClause(
        administrator=f"{PLACEHOLDER}: pełna nazwa administratora danych – podmiotu "
        "prowadzącego OWES>>",
        administrator_address=f"{PLACEHOLDER}: adres siedziby administratora>>",
        dpo_contact=f"{PLACEHOLDER}: adres e-mail lub pocztowy inspektora ochrony danych>>",
        purposes=[
            Purpose(
                purpose="rekrutacja, organizacja i rozliczenie wydarzenia",
                legal_basis=f"{PLACEHOLDER}: podstawa prawna, np. zgoda (art. 6 ust. 1 lit. a "
                "RODO)>>",
            )
        ],
        recipients=[f"{PLACEHOLDER}: odbiorcy danych>>"],
        retention=f"{PLACEHOLDER}: okres przechowywania danych>>",
    )


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
    information_clause: InformationClause = Field(default_factory=unfilled_clause)
    logo_strip: Path | None = Field(
        default=None,
        description="A PNG or JPEG strip of logos atop every attendance list (beside this file).",
    )
    certificate_text: Annotated[str, AfterValidator(known_placeholders_only)] = Field(
        default=DEFAULT_TEXT, description="Every event's certificate text unless it has its own."
    )
    certificate_signatory_name: str | None = None
    certificate_signatory_role: str | None = None
    certificate_place: str = Field(
        default="Zielona Góra", min_length=1, description="The place of issue on certificates."
    )


def unfilled_placeholders(organisation: Organisation) -> list[str]:
    """The keys whose value still holds a shipped `<<UZUPEŁNIJ: …>>` (e.g.
    `information_clause.administrator`), for the warnings in the log, `sheets check` and the
    staff pages; empty when everything is filled in."""
    return list(_placeholders(organisation.model_dump(mode="json"), ""))


def _placeholders(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [key] if PLACEHOLDER in value else []
    if isinstance(value, dict):
        return [
            found
            for name, item in value.items()
            for found in _placeholders(item, f"{key}.{name}" if key else str(name))
        ]
    if isinstance(value, list):
        return [
            found for n, item in enumerate(value) for found in _placeholders(item, f"{key}[{n}]")
        ]
    return []


def placeholder_warning(organisation: Organisation, path: Path) -> str | None:
    """One line for operators naming what is still to fill in; None when nothing is."""
    keys = unfilled_placeholders(organisation)
    if not keys:
        return None
    return (
        f"{path}: fill in the values marked {PLACEHOLDER}: …>> ({', '.join(keys)}); until then "
        "participants read the placeholders in the information clause"
    )


def load_organisation(path: Path) -> Organisation:
    """Read and validate the organisation file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OrganisationFileError(f"{path}: cannot read the organisation file: {exc}") from exc
    try:
        organisation = Organisation.model_validate(data)
    except ValidationError as exc:
        message = describe_file_error(path, "organisation file", exc)
        raise OrganisationFileError(message) from exc
    if organisation.logo_strip is not None:
        try:
            logo = find_image(organisation.logo_strip, [path.parent])
        except ValueError as exc:
            message = f"{path}: invalid organisation file\n  logo_strip: {exc}"
            raise OrganisationFileError(message) from None
        organisation = organisation.model_copy(update={"logo_strip": logo})
    return organisation
