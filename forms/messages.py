"""The Polish wording pages and the JSON API share: refusals, failures, closed windows, errors."""

from __future__ import annotations

from datetime import timedelta

from registrations.event import Event
from registrations.operations import (
    AlreadyRegistered,
    ClosedOff,
    EmailLimitReached,
    EnterpriseLimitReached,
    RegistrationRefused,
    WithdrawnBefore,
)
from registrations.polish import PEOPLE, date_pl

# In the form's order, so an error summary reads top to bottom (general problems first).
FIELD_LABELS = {
    "first_name": "Imię",
    "last_name": "Nazwisko",
    "email": "Adres e-mail",
    "phone": "Telefon",
    "enterprise_name": "Nazwa przedsiębiorstwa",
    "powiat": "Powiat",
    "role": "Funkcja",
    "nip": "NIP",
    "pesel": "PESEL",
    "birth_date": "Data urodzenia",
    "accommodation": "Nocleg",
    "diet": "Dieta",
    "diet_other": "Uwagi do diety",
    "special_needs": "Szczególne potrzeby",
    "consent_personal_data": "Zgoda na przetwarzanie danych",
    "consent_image": "Zgoda na wizerunek",
}
REFUSALS: dict[type[RegistrationRefused], str] = {
    AlreadyRegistered: "Osoba o tym imieniu i nazwisku jest już zgłoszona z tym adresem e-mail na "
    "to wydarzenie. Link do zgłoszenia (podgląd, zmiana, rezygnacja) można otrzymać ponownie na "
    "stronie „Nie mam linku do zgłoszenia”.",
    WithdrawnBefore: "Zgłoszenie z tym adresem e-mail zostało wcześniej anulowane lub odrzucone. "
    "W sprawie udziału prosimy o kontakt z organizatorem – może przywrócić zgłoszenie.",
    EnterpriseLimitReached: "Z tego przedsiębiorstwa zgłosiła się już maksymalna liczba osób.",
    EmailLimitReached: "Z tym adresem e-mail zgłoszono już najwięcej osób, ile można na to "
    "wydarzenie. Kolejną osobę prosimy zgłosić z jej własnym adresem e-mail.",
    ClosedOff: "Rejestracja na to wydarzenie jest zamknięta.",
}


def refusal(event: Event, refused: RegistrationRefused) -> str:
    """Why the event's rules refuse a submission; the per-enterprise limit says its number and
    whom to call (staff may accept someone beyond it)."""
    if isinstance(refused, EnterpriseLimitReached) and refused.limit is not None:
        return (
            f"Z tego przedsiębiorstwa zgłosiła się już największa dopuszczalna liczba osób na to "
            f"wydarzenie: {PEOPLE(refused.limit)}. W sprawie udziału kolejnej osoby prosimy "
            f"o kontakt: {event.contact.name}, tel. {event.contact.phone}, "
            f"e-mail {event.contact.email}."
        )
    return REFUSALS[type(refused)]


STORE_UNAVAILABLE = (
    "Nie udało się zapisać zmian z powodu chwilowej awarii. Nic nie zostało zapisane – "
    "prosimy spróbować ponownie za chwilę."
)
# The same outage met by a request that only reads (GET): nothing was to be saved.
STORE_UNREADABLE = (
    "Nie udało się odczytać danych z powodu chwilowej awarii. Prosimy spróbować ponownie za chwilę."
)


def store_unavailable_message(method: str) -> str:
    """What a 503 says: a read could not read, a write could not save (and saved nothing)."""
    return STORE_UNREADABLE if method in ("GET", "HEAD") else STORE_UNAVAILABLE


ERROR_PAGES = {
    400: "Niepoprawne żądanie.",
    403: "Brak dostępu.",
    404: "Nie ma takiej strony ani wydarzenia.",
    405: "Ta strona nie obsługuje takiego żądania.",
    413: "Przesłane dane są zbyt duże.",
    415: "Nieobsługiwany format danych.",
    429: "Zbyt wiele prób z tego adresu w krótkim czasie – nic nie zostało zapisane. "
    "Prosimy odczekać kilka minut i spróbować ponownie.",
    500: "Coś poszło nie tak. Prosimy spróbować ponownie za chwilę.",
    503: "Chwilowa awaria – prosimy spróbować ponownie za chwilę.",
}
UNKNOWN_LINK = (
    "Nie znaleziono zgłoszenia dla tego linku. Prosimy sprawdzić, czy link jest pełny, albo "
    "poprosić o nowy link na stronie wydarzenia."
)


def contact_line(event: Event) -> str:
    contact = event.contact
    return f"Informacji udziela {contact.name}, tel. {contact.phone}, e-mail {contact.email}."


def change_not_allowed(event: Event, reason: str) -> str:
    """Why a registration cannot be changed or cancelled now, and whom to call instead."""
    if reason == "started":
        text = (
            f"Wydarzenie rozpoczęło się {date_pl(event.starts_on)} r. – zmiana danych ani "
            "rezygnacja przez link nie są już możliwe."
        )
    elif reason == "inactive":
        text = "To zgłoszenie jest anulowane albo odrzucone – nie można go już zmienić."
    else:
        text = (
            "Rejestracja jest zamknięta – danych zgłoszenia nie można już zmienić. "
            f"Zrezygnować można do {date_pl(event.starts_on - timedelta(days=1))} r."
        )
    return f"{text} {contact_line(event)}"
