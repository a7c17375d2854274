"""The one registration model shared by the HTML form and the JSON API."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from registrations.enterprise import normalise_nip
from registrations.event import Event
from registrations.powiaty import describe_area, find_powiat
from registrations.validators import (
    clean_multiline,
    clean_text,
    no_hidden_characters,
    normalise_email,
    normalise_phone,
    pesel_birth_date,
    plausible_birth_date,
)


class Diet(StrEnum):
    STANDARD = "standard"
    VEGETARIAN = "vegetarian"
    VEGAN = "vegan"
    GLUTEN_FREE = "gluten_free"
    OTHER = "other"


class Gender(StrEnum):
    """Asked (optionally) only by an event with `ask_gender`, for sharing rooms."""

    FEMALE = "kobieta"
    MALE = "mężczyzna"


NO_ACCOMMODATION_ANSWER = "Prosimy zaznaczyć, czy potrzebny jest nocleg."

DIET_LABELS: dict[Diet, str] = {
    Diet.STANDARD: "standardowa",
    Diet.VEGETARIAN: "wegetariańska",
    Diet.VEGAN: "wegańska",
    Diet.GLUTEN_FREE: "bezglutenowa",
    Diet.OTHER: "inna",
}


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _required(value: str) -> str:
    if not value:
        raise ValueError("To pole jest wymagane.")
    return value


def _has_letter(value: str) -> str:
    if value and not any(ch.isalpha() for ch in value):
        raise ValueError("Tekst powinien zawierać litery.")
    return value


# The longest value each text field keeps, as stored (normalised): what "too long" says, also
# when a value is refused by the cheap guard every field has before it is read (2000).
MAX_LENGTHS = {
    "first_name": 60,
    "last_name": 60,
    "enterprise_name": 200,
    "powiat": 60,
    "role": 100,
    "nip": 13,
    "email": 254,
    "phone": 30,
    "pesel": 11,
    "diet_other": 200,
    "special_needs": 1000,
}


def _fits(limit: int) -> AfterValidator:
    """The length limit, checked on the normalised value that is stored (NFC may lengthen it)."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"Tekst jest za długi (najwyżej {limit} znaków).")
        return value

    return AfterValidator(check)


def _strict_date(value: Any) -> Any:
    """Dates only as `RRRR-MM-DD` text (or a date): no numbers read as Unix timestamps."""
    if value is not None and not isinstance(value, str | date):
        raise ValueError("Datę należy podać w formacie RRRR-MM-DD.")
    return value


Name = Annotated[
    StrictStr,
    AfterValidator(clean_text),
    _fits(MAX_LENGTHS["first_name"]),
    AfterValidator(_required),
    AfterValidator(_has_letter),
]


class FieldError(ValueError):
    """A cross-field rule broken, attributed to the field the participant should correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RegistrationIn(BaseModel):
    """What a participant submits; validated with the event in the context (`{"event": …}`)."""

    # The rule between PESEL and the date of birth, as the API's contract states it (the
    # validators below enforce it): at least one of them, given and not blank.
    model_config = ConfigDict(
        extra="forbid",
        str_max_length=2000,
        json_schema_extra={
            "description": "A registration. `pesel` or, for someone without one, `birth_date`: "
            "at least one of them must be given (not null, not blank); both must agree.",
            "anyOf": [
                {
                    "required": ["pesel"],
                    "properties": {"pesel": {"type": "string", "pattern": r"\S"}},
                },
                {
                    "required": ["birth_date"],
                    "properties": {"birth_date": {"type": "string", "format": "date"}},
                },
            ],
        },
    )

    first_name: Name
    last_name: Name
    enterprise_name: Annotated[
        StrictStr,
        AfterValidator(clean_text),
        _fits(MAX_LENGTHS["enterprise_name"]),
        AfterValidator(_required),
        AfterValidator(_has_letter),
    ]
    powiat: Annotated[StrictStr, AfterValidator(no_hidden_characters)] = Field(
        max_length=60, description="TERYT code or name; stored as the code."
    )
    role: Annotated[StrictStr, AfterValidator(clean_text), _fits(MAX_LENGTHS["role"])] | None = None
    nip: Annotated[StrictStr, Field(max_length=40)] | None = Field(
        default=None,
        validate_default=True,
        description="The enterprise's NIP (10 digits; spaces and hyphens ignored, checksum "
        "checked): required where the event asks (`ask_nip`), else ignored.",
    )
    email: Annotated[
        StrictStr,
        Field(max_length=320),
        AfterValidator(normalise_email),
        _fits(MAX_LENGTHS["email"]),
    ]
    phone: Annotated[
        StrictStr,
        Field(max_length=40),
        AfterValidator(no_hidden_characters),
        AfterValidator(normalise_phone),
        _fits(MAX_LENGTHS["phone"]),
    ]
    pesel: Annotated[StrictStr, Field(max_length=20), AfterValidator(str.strip)] | None = None
    birth_date: Annotated[date | None, BeforeValidator(_strict_date)] = Field(
        default=None, validate_default=True
    )
    accommodation: StrictBool | None = Field(
        default=None,
        validate_default=True,
        description="Whether the person takes the night on offer: required when the event offers "
        "one (`accommodation_label`), else ignored.",
    )
    gender: Gender | None = Field(
        default=None,
        description="`kobieta` or `mężczyzna`, optional; kept only when the event asks "
        "(`ask_gender`), for the rooming list.",
    )
    diet: Diet = Diet.STANDARD
    diet_other: (
        Annotated[StrictStr, AfterValidator(clean_text), _fits(MAX_LENGTHS["diet_other"])] | None
    ) = Field(default=None, validate_default=True)
    special_needs: (
        Annotated[StrictStr, AfterValidator(clean_multiline), _fits(MAX_LENGTHS["special_needs"])]
        | None
    ) = None
    consent_personal_data: StrictBool
    consent_image: StrictBool = False
    answers: dict[str, Any] | None = Field(
        default=None,
        description="Answers to the event's own questions (`GET /api/events/{slug}`), by "
        "question key: `wybor` a choice key, `wiele` a list of them, `tak_nie` a boolean, "
        "`data` `RRRR-MM-DD`, `tekst` (200) and `tekst_dlugi` (2000) text. Checked against the "
        "event's questions; errors are keyed `answers.<key>`. In a `PATCH`, only the keys "
        "named change; `null` clears an optional answer.",
    )

    @model_validator(mode="before")
    @classmethod
    def _trimmed(cls, data: Any) -> Any:
        """Spaces around a value are no part of it (a phone's keyboard adds one after an
        e-mail address), in every field."""
        if isinstance(data, dict):
            return {key: v.strip() if isinstance(v, str) else v for key, v in data.items()}
        return data

    @field_validator(
        "role", "nip", "pesel", "birth_date", "gender", "diet_other", "special_needs", mode="before"
    )
    @classmethod
    def _optional_blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("powiat")
    @classmethod
    def _eligible_powiat(cls, value: str, info: ValidationInfo) -> str:
        powiat = find_powiat(value)
        if powiat is None:
            raise ValueError("Należy wybrać powiat województwa lubuskiego z listy.")
        event: Event | None = (info.context or {}).get("event")
        if event is not None and powiat.code not in event.eligible_powiaty:
            raise ValueError(
                f"{powiat.label.capitalize()} nie należy do obszaru wsparcia OWES Zielona Góra "
                f"({describe_area(event.eligible_powiaty)}). Zgłosić się mogą tylko "
                "przedsiębiorstwa społeczne z tego obszaru."
            )
        return powiat.code

    @field_validator("nip")
    @classmethod
    def _nip_where_asked(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Required, valid and kept only where the event asks for it (`ask_nip`)."""
        event: Event | None = (info.context or {}).get("event")
        if event is None or not event.ask_nip:
            return None
        if value is None:
            raise ValueError("Należy podać NIP przedsiębiorstwa.")
        return normalise_nip(value)

    @field_validator("pesel")
    @classmethod
    def _valid_pesel(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            born = pesel_birth_date(value)
            today: date | None = (info.context or {}).get("today")
            try:
                if today is not None:
                    plausible_birth_date(born, today)
            except ValueError:
                raise ValueError("Numer PESEL jest niepoprawny (błędna data urodzenia).") from None
        return value

    # The rules between fields are field validators that look at the fields before them
    # (`info.data` holds those that were valid), so they are reported with every other mistake
    # in one round rather than after the others are fixed.

    @field_validator("birth_date")
    @classmethod
    def _birth_date_or_pesel(cls, value: date | None, info: ValidationInfo) -> date | None:
        today: date | None = (info.context or {}).get("today")
        if value is not None and today is not None:
            plausible_birth_date(value, today)
        pesel = info.data.get("pesel")
        if value is None and "pesel" in info.data and pesel is None:
            raise FieldError(
                "pesel", "Należy podać PESEL albo – gdy nie został nadany – datę urodzenia."
            )
        if value is not None and pesel is not None and pesel_birth_date(pesel) != value:
            raise ValueError("Data urodzenia nie zgadza się z numerem PESEL.")
        return value

    @field_validator("accommodation")
    @classmethod
    def _night_answered(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        """Nobody is given, or denied, a night by a pre-selected answer: an event offering one
        needs a yes or a no."""
        event: Event | None = (info.context or {}).get("event")
        if value is None and event is not None and event.accommodation_label is not None:
            raise ValueError(NO_ACCOMMODATION_ANSWER)
        return value

    @field_validator("diet_other")
    @classmethod
    def _other_diet_described(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("diet") is Diet.OTHER and not value:
            raise ValueError("Przy diecie „inna” należy ją opisać.")
        return value

    @field_validator("consent_personal_data")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("Zgoda na przetwarzanie danych osobowych jest wymagana do zgłoszenia.")
        return value

    @property
    def email_key(self) -> str:
        """The form of the e-mail that identifies a participant within an event."""
        return self.email.casefold()


class RegistrationData(BaseModel):
    """A registration's data as stored: what `RegistrationIn` accepted, normalised.

    The API answers with it and a person's own data holds it (RODO art. 15).
    """

    model_config = ConfigDict(extra="forbid")

    first_name: str
    last_name: str
    enterprise_name: str
    powiat: str = Field(description="TERYT code of the powiat, e.g. `0809`.")
    role: str | None
    nip: str | None = Field(
        description="The enterprise's NIP, only where the event asks (`ask_nip`)."
    )
    email: str
    phone: str = Field(description="Normalised, e.g. `+48 533 316 283`.")
    pesel: str | None
    birth_date: date | None
    accommodation: bool
    gender: Gender | None = Field(description="Only where the event asks (`ask_gender`).")
    diet: Diet
    diet_other: str | None
    special_needs: str | None
    consent_personal_data: bool
    consent_image: bool
    answers: dict[str, Any] = Field(
        description="Answers to the event's own questions by key (none: `{}`)."
    )
