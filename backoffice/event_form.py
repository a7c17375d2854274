"""The event form of the staff pages: every key of an event file as a field named as in the file,
validated by the same model (`Event`), its mistakes told in Polish beside their fields.

Pure mapping, no I/O: form strings → the event file's data → `Event`, and back for prefilling.
`eligible_powiaty` is one checkbox per powiat (its TERYT code the value); `programme`,
`provided` and `meals` are one item per line (a meal as `2018-08-28 | śniadanie | nocleg`: its
day, name and whether it is served only to those staying the night); `ask_gender` is a checkbox;
the contact's and the sheet's keys are flat (`contact_email`, `spreadsheet_id`). `logo_strip`
names a picture beside the organisation file; the view hands in how to find it (`find_logo`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug.datastructures import MultiDict

from certificates.text import REFUSED as CERTIFICATE_REFUSED
from config.organisation import Organisation
from registrations.errors import GENERAL
from registrations.event import Event
from registrations.validators import clean_multiline, clean_text

TEXT = (
    "title",
    "short_title",
    "slug",
    "starts_on",
    "ends_on",
    "registration_deadline",
    "registration_opens_at",
    "timezone",
    "capacity",
    "max_per_enterprise",
    "venue",
    "summary",
    "accommodation_label",
    "start_time",
    "end_time",
    "project_name",
    "project_number",
    "logo_strip",
    "contact_name",
    "contact_role",
    "contact_phone",
    "contact_email",
    "consent_text",
    "image_consent_text",
    "certificate_text",
    "certificate_signatory_name",
    "certificate_signatory_role",
    "certificate_min_days",
    "retention_days",
    "spreadsheet_id",
    "worksheet",
    "reminder_days_before",
    "reminder_time",
    "what_to_bring",
    "offers_from_days",
    "offer_hours",
)
LINES = ("programme", "provided", "meals", "departure")
MULTILINE = ("summary", "consent_text", "image_consent_text", "what_to_bring", "certificate_text")
# Keys an event file may leave out: an empty field leaves them out too.
OPTIONAL = (
    "short_title",
    "registration_opens_at",
    "max_per_enterprise",
    "accommodation_label",
    "start_time",
    "end_time",
    "project_name",
    "project_number",
    "logo_strip",
    "retention_days",
    "reminder_days_before",
    "reminder_time",
    "what_to_bring",
    "offers_from_days",
    "offer_hours",
    "certificate_text",
    "certificate_signatory_name",
    "certificate_signatory_role",
    "certificate_min_days",
)
CHECKBOXES = ("ask_gender", "ask_nip")
CONTACT = ("name", "role", "phone", "email")
SHEETS = ("spreadsheet_id", "worksheet")

LABELS = {
    "slug": "Adres wydarzenia",
    "title": "Tytuł",
    "short_title": "Skrócony tytuł",
    "starts_on": "Pierwszy dzień",
    "ends_on": "Ostatni dzień",
    "registration_deadline": "Termin zgłoszeń",
    "registration_opens_at": "Początek zapisów",
    "timezone": "Strefa czasowa",
    "capacity": "Liczba miejsc",
    "max_per_enterprise": "Najwięcej osób z jednego przedsiębiorstwa",
    "eligible_powiaty": "Powiaty, z których można się zgłosić",
    "venue": "Miejsce",
    "summary": "Opis",
    "programme": "Program",
    "provided": "Zapewniamy",
    "meals": "Posiłki",
    "accommodation_label": "Nocleg",
    "start_time": "Godzina rozpoczęcia",
    "end_time": "Godzina zakończenia",
    "ask_gender": "Pytanie o płeć (do listy noclegowej)",
    "ask_nip": "NIP przedsiębiorstwa wymagany (limit liczony według NIP)",
    "project_name": "Nazwa projektu",
    "project_number": "Numer projektu (umowy)",
    "logo_strip": "Pasek logotypów",
    "contact_name": "Imię i nazwisko",
    "contact_role": "Funkcja",
    "contact_phone": "Telefon",
    "contact_email": "Adres e-mail",
    "consent_text": "Treść zgody na przetwarzanie danych osobowych",
    "image_consent_text": "Treść zgody na wykorzystanie wizerunku",
    "certificate_text": "Treść zaświadczenia o udziale",
    "certificate_signatory_name": "Zaświadczenie podpisuje (imię i nazwisko)",
    "certificate_signatory_role": "Funkcja osoby podpisującej",
    "certificate_min_days": "Zaświadczenie za obecność w co najmniej tylu dniach",
    "spreadsheet_id": "Identyfikator arkusza Google",
    "worksheet": "Nazwa zakładki zgłoszeń",
    "retention_days": "Usunięcie danych po tylu dniach",
    "reminder_days_before": "Przypomnienie na tyle dni przed wydarzeniem (0 – bez przypomnień)",
    "reminder_time": "Godzina przypomnień",
    "departure": "Wyjazd – miejsca wsiadania (jedno w wierszu)",
    "what_to_bring": "Co zabrać",
    "offers_from_days": "Oferty miejsc z listy rezerwowej na tyle dni przed wydarzeniem",
    "offer_hours": "Czas na potwierdzenie oferty (w godzinach)",
}

_REQUIRED = "To pole jest wymagane."
_BY_TYPE = {
    "missing": _REQUIRED,
    "string_too_short": _REQUIRED,
    "int_parsing": "Należy podać liczbę całkowitą, np. 30.",
    "int_type": "Należy podać liczbę całkowitą, np. 30.",
    "int_from_float": "Należy podać liczbę całkowitą, np. 30.",
    "greater_than": "Należy podać liczbę większą niż {gt}.",
    "greater_than_equal": "Należy podać liczbę nie mniejszą niż {ge}.",
    "date_parsing": "Należy podać datę w formacie RRRR-MM-DD.",
    "date_type": "Należy podać datę w formacie RRRR-MM-DD.",
    "date_from_datetime_parsing": "Należy podać datę w formacie RRRR-MM-DD.",
    "date_from_datetime_inexact": "Należy podać datę w formacie RRRR-MM-DD.",
    "datetime_parsing": "Należy podać datę i godzinę, np. 2026-09-01 09:00.",
    "datetime_type": "Należy podać datę i godzinę, np. 2026-09-01 09:00.",
    "datetime_from_date_parsing": "Należy podać datę i godzinę, np. 2026-09-01 09:00.",
    "string_pattern_mismatch": "Adres może zawierać tylko małe litery a–z, cyfry i łączniki "
    "(najwyżej 63 znaki) i musi zaczynać się od litery lub cyfry.",
    "ends_before_start": "Ostatni dzień nie może być wcześniejszy niż pierwszy.",
    "end_before_start_time": "Jednodniowe wydarzenie musi kończyć się po godzinie rozpoczęcia.",
    "time_parsing": "Należy podać godzinę, np. 09:30.",
    "time_type": "Należy podać godzinę, np. 09:30.",
    "deadline_after_end": "Termin zgłoszeń nie może być późniejszy niż ostatni dzień wydarzenia.",
}
_VALUE_ERRORS = {
    "timezone": "Nieznana strefa czasowa – należy podać nazwę IANA, np. Europe/Warsaw.",
    "contact_email": "Należy podać poprawny adres e-mail, np. biuro@example.pl.",
    "eligible_powiaty": "Nieznany powiat.",
    "certificate_text": CERTIFICATE_REFUSED,
}
_FIELD_OF_TYPE = {
    "ends_before_start": "ends_on",
    "deadline_after_end": "registration_deadline",
    "end_before_start_time": "end_time",
}
_MEAL_LINE = (
    "Posiłek zapisuje się jako „RRRR-MM-DD | nazwa”, z „| nocleg” na końcu dla posiłku tylko "
    "dla nocujących (np. 2018-08-28 | śniadanie | nocleg), albo samą nazwą."
)
_NOT_A_LOGO = (
    "Nie znaleziono takiego pliku PNG lub JPEG obok pliku organizacji (organisation.toml)."
)
_FALLBACK = "Niepoprawna wartość."


class FormErrors(Exception):
    """The form's mistakes, by field name, in Polish."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def values_of(event: Event) -> dict[str, Any]:
    """An event as the form's values (strings; the powiaty as a list of codes)."""
    data = event.model_dump(mode="json")
    values: dict[str, Any] = {}
    for name in TEXT:
        if name.startswith("contact_"):
            value = data["contact"][name.removeprefix("contact_")]
        elif name in SHEETS:
            value = data["sheets"][name]
        else:
            value = data.get(name)
        values[name] = "" if value is None else str(value)
    if event.registration_opens_at is not None:
        values["registration_opens_at"] = event.local(event.registration_opens_at).strftime(
            "%Y-%m-%dT%H:%M"
        )
    for name in LINES:
        values[name] = "\n".join(
            meal_line(item) if name == "meals" else str(item) for item in data[name]
        )
    for name in ("start_time", "end_time", "reminder_time"):
        values[name] = values[name][:5]  # HH:MM
    if event.logo_strip is not None:
        values["logo_strip"] = event.logo_strip.name
    values["ask_gender"] = event.ask_gender
    values["ask_nip"] = event.ask_nip
    values["eligible_powiaty"] = list(event.eligible_powiaty)
    return values


def meal_line(meal: dict[str, Any]) -> str:
    """A meal as one line of the form: `2018-08-28 | śniadanie | nocleg`."""
    parts = [meal["day"]] if meal.get("day") else []
    parts.append(meal["name"])
    if meal.get("nocleg"):
        parts.append("nocleg")
    return " | ".join(parts)


def meal_of(line: str) -> dict[str, Any]:
    """One line of the form as a meal; ValueError when it cannot be one."""
    parts = [part.strip() for part in line.split("|")]
    nocleg = len(parts) > 1 and parts[-1].casefold() == "nocleg"
    if nocleg:
        parts.pop()
    if len(parts) == 1 and not nocleg:
        return {"name": parts[0]}
    if len(parts) != 2 or not parts[1]:
        raise ValueError(_MEAL_LINE)
    try:
        day = date.fromisoformat(parts[0])
    except ValueError:
        raise ValueError(_MEAL_LINE) from None
    return {"day": day.isoformat(), "name": parts[1], "nocleg": nocleg}


def copy_values(event: Event) -> dict[str, Any]:
    """`Utwórz kopię`: the event's values without its dates, short title, sheet and slug."""
    values = values_of(event)
    for name in (
        "slug",
        "starts_on",
        "ends_on",
        "registration_deadline",
        "registration_opens_at",
        "short_title",
        "spreadsheet_id",
        "worksheet",
    ):
        values[name] = ""
    return values


def defaults(organisation: Organisation) -> dict[str, Any]:
    """A new event's values: the organisation's contact, time zone, area and consent texts."""
    contact = organisation.contact
    values: dict[str, Any] = dict.fromkeys(TEXT, "") | dict.fromkeys(LINES, "")
    values.update(dict.fromkeys(CHECKBOXES, False))
    values.update(
        timezone=organisation.timezone,
        contact_name=contact.name,
        contact_role=contact.role,
        contact_phone=contact.phone,
        contact_email=str(contact.email),
        consent_text=organisation.consent_text,
        image_consent_text=organisation.image_consent_text,
        eligible_powiaty=list(organisation.eligible_powiaty),
    )
    return values


def submitted(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's values as typed (kept on the page when something is wrong)."""
    values: dict[str, Any] = {name: form.get(name, "") for name in (*TEXT, *LINES)}
    values.update({name: form.get(name) == "tak" for name in CHECKBOXES})
    values["eligible_powiaty"] = form.getlist("eligible_powiaty")
    return values


def event_data(
    values: dict[str, Any],
    slug: str,
    consent_version: str,
    find_logo: Callable[[str], Path] | None = None,
) -> dict[str, Any]:
    """The event file's data the form's values stand for; FormErrors for characters nobody
    types (controls, U+FFFF), which no page, sheet or list could show, for a meal line that is
    no meal and for a logo strip `find_logo` cannot find (ValueError)."""
    errors: dict[str, str] = {}

    def clean(name: str, value: Any, *, multiline: bool = False) -> str:
        try:
            return clean_multiline(str(value)) if multiline else clean_text(str(value))
        except ValueError as exc:
            errors.setdefault(name, str(exc))
            return ""

    data: dict[str, Any] = {"slug": slug, "consent_version": consent_version}
    for name in TEXT:
        if name == "slug" or name.startswith("contact_") or name in SHEETS:
            continue
        value = clean(name, values.get(name, ""), multiline=name in MULTILINE)
        if value or name not in OPTIONAL:
            data[name] = value
    for name in LINES:
        lines = str(values.get(name, "")).splitlines()
        data[name] = [item for line in lines if (item := clean(name, line))]
    try:
        data["meals"] = [meal_of(line) for line in data["meals"]]
    except ValueError as exc:
        errors.setdefault("meals", str(exc))
    for name in CHECKBOXES:
        data[name] = bool(values.get(name))
    if "logo_strip" in data:
        try:
            found = find_logo(data["logo_strip"]) if find_logo is not None else None
        except ValueError:
            found = None
        if found is None:
            errors.setdefault("logo_strip", _NOT_A_LOGO)
        data["logo_strip"] = str(found)
    data["eligible_powiaty"] = list(values.get("eligible_powiaty", []))
    contact = {key: clean(f"contact_{key}", values.get(f"contact_{key}", "")) for key in CONTACT}
    if not contact["role"]:
        del contact["role"]  # the model's default
    data["contact"] = contact
    data["sheets"] = {key: clean(key, values.get(key, "")) or None for key in SHEETS}
    if errors:
        raise FormErrors(errors)
    return data


def validate(
    values: dict[str, Any],
    slug: str,
    consent_version: str,
    find_logo: Callable[[str], Path] | None = None,
) -> Event:
    """The form's event, validated as an event file is; FormErrors in Polish otherwise."""
    data = event_data(values, slug, consent_version, find_logo)
    try:
        return Event.model_validate(data)
    except ValidationError as exc:
        raise FormErrors(polish_errors(exc)) from None


def polish_errors(exc: ValidationError) -> dict[str, str]:
    """The first problem of each field, under the form's field name, in Polish."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = _field(error)
        errors.setdefault(field, _message(field, error))
    return errors


def _field(error: ErrorDetails) -> str:
    location = error["loc"]
    if not location:
        return _FIELD_OF_TYPE.get(error["type"], GENERAL)
    head = str(location[0])
    if head == "contact" and len(location) > 1:
        return f"contact_{location[1]}"
    if head == "sheets" and len(location) > 1:
        return str(location[1])
    return head


def _message(field: str, error: ErrorDetails) -> str:
    kind = error["type"]
    if field == "eligible_powiaty" and kind in ("too_short", "missing"):
        return "Należy zaznaczyć co najmniej jeden powiat."
    if kind == "value_error":
        return _VALUE_ERRORS.get(field, _FALLBACK)
    template = _BY_TYPE.get(kind, _FALLBACK)
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return _FALLBACK
