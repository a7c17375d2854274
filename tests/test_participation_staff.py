"""The staff pages of issue 19: the event form's reminder and offer settings, and the event's
page listing who to phone (confirmed people without an address get no reminder)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config.settings import Settings
from registrations.models import Registration
from tests.conftest import KLASTER, FakeClock, shown, valid_payload
from tests.staff_support import STAFF_LISTS, create_event, form_values, page, sign_in, textarea


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=STAFF_LISTS)


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    return sign_in(app.test_client())


def test_the_event_form_sets_the_reminders_the_departure_and_the_offers(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(
        office,
        reminder_days_before="2",
        reminder_time="09:30",
        departure="Zielona Góra, dworzec PKP – 7:30\nŚwiebodzin, rynek – 8:15",
        what_to_bring="Wygodne buty",
        offers_from_days="5",
        offer_hours="12",
    )
    values: dict[str, Any] = form_values(office, f"/obsluga/wydarzenia/{slug}/edycja")
    assert values["reminder_days_before"] == "2"
    assert values["reminder_time"] == "09:30"
    assert values["offers_from_days"] == "5"
    assert values["offer_hours"] == "12"
    form = page(office.get(f"/obsluga/wydarzenia/{slug}/edycja").data)
    assert textarea(form, "departure").strip().splitlines() == [
        "Zielona Góra, dworzec PKP – 7:30",
        "Świebodzin, rynek – 8:15",
    ]
    assert textarea(form, "what_to_bring").strip() == "Wygodne buty"


def test_empty_settings_mean_the_defaults_and_a_negative_number_is_refused_in_polish(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(office)
    values: dict[str, Any] = form_values(office, f"/obsluga/wydarzenia/{slug}/edycja")
    assert values["reminder_days_before"] == "3"
    assert values["reminder_time"] == "10:00"
    assert values["offers_from_days"] == "7"
    assert values["offer_hours"] == "24"
    path = f"/obsluga/wydarzenia/{slug}/edycja"
    values = form_values(office, path)
    values.update(reminder_days_before="-1", offer_hours="0")
    refused = office.post(path, data=values)
    assert refused.status_code == 422, refused.status_code
    text = shown(refused)
    assert "Należy podać liczbę nie mniejszą niż 0." in text
    assert "Należy podać liczbę nie mniejszą niż 1." in text


def test_the_event_page_lists_confirmed_people_without_an_address_to_phone(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    client = app.test_client()
    for i in range(2):
        payload = valid_payload(email=f"o{i}@example.pl", first_name=f"Osoba{chr(65 + i)}")
        assert client.post(f"/api/events/{KLASTER}/registrations", json=payload).status_code == 201
    # One taken down by phone, without an address (staff can add such people; issue 18).
    with app.extensions["owes"].store.transaction() as session:
        registration = session.scalars(
            select(Registration).where(Registration.email_key == "o1@example.pl")
        ).one()
        registration.email = ""
        phoned = registration.id
    path = f"/obsluga/wydarzenia/{KLASTER}/"
    before = shown(office.get(path))
    assert "<h1>Wyjazdowe spotkanie Klastra" in before
    assert "Do obdzwonienia" not in before  # before the reminders' moment
    clock.set("2018-08-24T10:00:00+02:00")
    html = sign_in(app.test_client()).get(path).data  # a new day, a new sign-in
    text = " ".join(page(html).get_text(" ").replace("\u00a0", " ").split())
    assert "Do obdzwonienia" in text
    assert f"{phoned} – OsobaB Nowak, tel. +48 533 316 283" in text
    assert "OsobaA" not in text.split("Do obdzwonienia")[1]
