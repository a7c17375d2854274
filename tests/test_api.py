"""The JSON API: every rule and every error answer, through the Flask test client."""

from __future__ import annotations

import json
import logging
import unicodedata
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from registrations.models import Registration
from store import Store
from tests.conftest import KLASTER, OPEN, FakeClock, valid_payload

URL = f"/api/events/{KLASTER}/registrations"


def stored(store: Store) -> list[Registration]:
    with store.transaction() as session:
        return list(session.scalars(select(Registration).order_by(Registration.seq)))


def test_accepts_a_valid_registration_and_stores_every_field_before_answering(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    response = client.post(URL, json=valid_payload(special_needs="wózek\ninwalidzki"))

    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["id"].startswith("R-")
    [row] = stored(store)
    assert row.id == body["id"]
    assert (row.first_name, row.last_name, row.role) == ("Anna", "Nowak", "prezeska")
    assert row.enterprise_name == "Spółdzielnia Socjalna Nasze Zaodrze"
    assert row.powiat == "0809"
    assert row.email == "anna.nowak@example.pl"
    assert row.phone == "+48 533 316 283"
    assert row.pesel == "02270803624"
    assert row.accommodation is True
    assert row.diet == "vegetarian"
    assert row.special_needs == "wózek\ninwalidzki"
    assert row.consent_personal_data is True and row.consent_image is False
    assert row.consent_version == "klaster-2018-v1"
    assert row.consent_given_at == clock.now == row.received_at
    assert row.source == "api"
    assert row.status == "confirmed"
    assert row.synced_to is None


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("żarski", "0811"),
        ("Powiat Żarski", "0811"),
        ("zarski", "0811"),
        ("ŻARSKI", "0811"),
        (unicodedata.normalize("NFD", "żarski"), "0811"),
        ("0811", "0811"),
        ("Zielona Góra", "0862"),
        ("m. Zielona Góra", "0862"),
        ("miasto Zielona Gora", "0862"),
        ("krośnieński", "0802"),
        ("pow. słubicki", "0805"),
        ("sulecinski", "0807"),
        ("Wschowski", "0812"),
    ],
)
def test_accepts_powiat_as_teryt_code_or_any_common_spelling(
    client: FlaskClient, store: Store, spelling: str, code: str
) -> None:
    response = client.post(URL, json=valid_payload(powiat=spelling))

    assert response.status_code == 201, response.get_json()
    assert stored(store)[0].powiat == code


@pytest.mark.parametrize("powiat", ["gorzowski", "Powiat Świebodziński", "0861", "nowosolski"])
def test_refuses_a_powiat_outside_the_owes_area_naming_the_eligible_area(
    client: FlaskClient, store: Store, powiat: str
) -> None:
    response = client.post(URL, json=valid_payload(powiat=powiat))

    assert response.status_code == 422
    message = response.get_json()["errors"]["powiat"]
    assert "nie należy do obszaru wsparcia OWES Zielona Góra" in message
    assert "krośnieński, słubicki, sulęciński, wschowski, zielonogórski, żarski" in message
    assert "miasto Zielona Góra" in message
    assert stored(store) == []


def test_refuses_a_name_that_is_no_lubuskie_powiat(client: FlaskClient) -> None:
    response = client.post(URL, json=valid_payload(powiat="powiat poznański"))

    assert response.status_code == 422
    assert (
        response.get_json()["errors"]["powiat"]
        == "Należy wybrać powiat województwa lubuskiego z listy."
    )


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        ("2018-08-22T21:59:59+00:00", 201),  # 23:59:59 in Warsaw (CEST): the last second
        ("2018-08-22T22:00:00+00:00", 403),  # midnight in Warsaw: closed
        ("2018-08-23T08:00:00+00:00", 403),
        ("2026-11-27T12:00:00+00:00", 403),
    ],
)
def test_deadline_is_the_end_of_22_august_2018_polish_time_to_the_second(
    client: FlaskClient, clock: FakeClock, moment: str, status: int
) -> None:
    clock.set(moment)

    response = client.post(URL, json=valid_payload())

    assert response.status_code == status
    if status == 403:
        body = response.get_json()
        assert body["error"] == "registration_closed"
        assert body["contact"]["email"] == "a.szulczewski@fundacjacp.org"
        assert body["message"].startswith("Rejestracja zakończyła się 22 sierpnia 2018 r.")


def test_refuses_registration_before_it_opens(
    client: FlaskClient, tmp_path, clock: FakeClock
) -> None:
    from app import create_app
    from config.settings import Settings
    from tests.conftest import write_event

    write_event(tmp_path / "events", "wkrotce", registration_opens_at="2018-08-21T09:00:00")
    settings = Settings(
        instance_path=tmp_path / "i", events_dir=tmp_path / "events", run_worker=False
    )
    app = create_app(settings, clock=clock)
    try:
        early = app.test_client().post("/api/events/wkrotce/registrations", json=valid_payload())
        clock.set("2018-08-21T07:00:00+00:00")  # 09:00 in Warsaw
        on_time = app.test_client().post("/api/events/wkrotce/registrations", json=valid_payload())
    finally:
        app.extensions["owes"].store.dispose()

    assert early.status_code == 403
    assert early.get_json()["state"] == "not_yet_open"
    assert on_time.status_code == 201


def test_a_second_registration_of_the_same_name_and_email_is_refused_and_not_stored(
    client: FlaskClient, store: Store
) -> None:
    first = client.post(URL, json=valid_payload())
    retry = client.post(URL, json=valid_payload(email="Anna.Nowak@EXAMPLE.pl", first_name=" ANNA "))

    assert first.status_code == 201
    assert retry.status_code == 409
    assert retry.get_json()["error"] == "already_registered"
    assert len(stored(store)) == 1


def test_the_same_email_may_register_for_another_event(client: FlaskClient) -> None:
    assert client.post(URL, json=valid_payload()).status_code == 201
    other = client.post(f"/api/events/{OPEN}/registrations", json=valid_payload())
    assert other.status_code == 201


def test_unknown_event_is_a_json_404(client: FlaskClient) -> None:
    response = client.post("/api/events/nie-ma/registrations", json=valid_payload())

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert response.get_json()["message"] == "Nie ma takiej strony ani wydarzenia."


def test_unknown_api_path_and_wrong_method_answer_in_json(client: FlaskClient) -> None:
    assert client.get("/api/nic").get_json()["error"] == "not_found"
    response = client.get(URL)
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_body_over_the_size_limit_is_413(client: FlaskClient) -> None:
    response = client.post(URL, json=valid_payload(special_needs="x" * 70_000))

    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_body_that_is_not_json_is_415(client: FlaskClient) -> None:
    response = client.post(URL, data="first_name=Anna", content_type="text/plain")

    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"


def test_absurdly_nested_json_is_400_not_a_crash(client: FlaskClient) -> None:
    response = client.post(URL, data="[" * 60_000, content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json"


def test_a_database_failure_is_a_503_without_personal_data_in_the_log(
    client: FlaskClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE registrations")
    caplog.set_level(logging.DEBUG)

    response = client.post(URL, json=valid_payload())

    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    logged = "\n".join(
        f"{record.getMessage()}\n{record.exc_text or ''}" for record in caplog.records
    )
    assert "not stored" in logged
    for secret in ("02270803624", "anna.nowak@example.pl", "+48 533 316 283"):
        assert secret not in logged


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json"


@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_json_that_is_not_an_object_is_422(client: FlaskClient, body: object) -> None:
    response = client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 422
    assert response.get_json()["errors"]["__all__"] == "Zgłoszenie musi być obiektem JSON."


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("first_name", 60),
        ("last_name", 60),
        ("enterprise_name", 200),
        ("role", 100),
        ("diet_other", 200),
        ("special_needs", 1000),
    ],
)
def test_a_value_over_2000_characters_is_refused_with_the_fields_own_limit(
    client: FlaskClient, store: Store, field: str, limit: int
) -> None:
    payload = valid_payload(**{field: "Ala " * 600, "diet": "other", "diet_other": "bez soli"})
    payload[field] = "Ala " * 600  # 2400 characters

    created = client.post(URL, json=payload)
    token = str(client.post(URL, json=valid_payload()).get_json()["manage_url"]).rsplit("/")[-1]
    changed = client.patch(f"/api/registrations/{token}", json={field: "Ala " * 600})

    for response in (created, changed):
        assert response.status_code == 422
        assert response.get_json()["errors"][field] == (
            f"Tekst jest za długi (najwyżej {limit} znaków)."
        )


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"nickname": "x"}, "nickname", "Nieznane pole"),
        ({"first_name": 5}, "first_name", "Oczekiwano tekstu"),
        ({"accommodation": "yes"}, "accommodation", "true albo false"),
        ({"consent_personal_data": 1}, "consent_personal_data", "true albo false"),
        ({"first_name": "A" * 61}, "first_name", "najwyżej 60 znaków"),
        ({"enterprise_name": "x" * 201}, "enterprise_name", "najwyżej 200 znaków"),
        ({"special_needs": "x" * 1001}, "special_needs", "najwyżej 1000 znaków"),
        ({"last_name": "Now\x00ak"}, "last_name", "znaki sterujące"),
        ({"enterprise_name": "Spółdzielnia\u202e"}, "enterprise_name", "znaki sterujące"),
        ({"first_name": "   "}, "first_name", "wymagane"),
        ({"email": "anna@"}, "email", "adres e-mail"),
        ({"email": "anna nowak@example.pl"}, "email", "adres e-mail"),
        ({"phone": "12345"}, "phone", "numer telefonu"),
        ({"phone": "telefon"}, "phone", "numer telefonu"),
        ({"pesel": "02270803625"}, "pesel", "cyfra kontrolna"),
        ({"pesel": "0227080362"}, "pesel", "11 cyfr"),
        ({"pesel": "02333103621"}, "pesel", "data urodzenia"),
        ({"pesel": None, "birth_date": None}, "pesel", "datę urodzenia"),
        ({"birth_date": "2002-07-09"}, "birth_date", "nie zgadza się"),
        ({"pesel": "", "birth_date": "20-07-2002"}, "birth_date", "RRRR-MM-DD"),
        ({"pesel": "", "birth_date": "2030-01-01"}, "birth_date", "przyszłości"),
        ({"diet": "paleo"}, "diet", "wegetariańska"),
        ({"diet": "other"}, "diet_other", "należy ją opisać"),
        ({"consent_personal_data": False}, "consent_personal_data", "jest wymagana"),
        ({"first_name": None}, "first_name", "Oczekiwano tekstu"),
        ({"first_name": "\ufb2c" * 60}, "first_name", "najwyżej 60 znaków"),  # NFC: 3× longer
        ({"first_name": "\u0301" * 10}, "first_name", "litery"),
        ({"enterprise_name": "1234"}, "enterprise_name", "litery"),
        ({"phone": "533316283;ext=12345678901234"}, "phone", "wewnętrznego"),
        ({"pesel": "", "birth_date": 0}, "birth_date", "RRRR-MM-DD"),
        ({"pesel": "30420101238"}, "pesel", "data urodzenia"),  # born in 2130
        ({"powiat": ["0811"]}, "powiat", "Oczekiwano tekstu"),
        ({"diet": {"a": 1}}, "diet", "wegetariańska"),
    ],
)
def test_each_invalid_field_gets_a_clear_polish_422(
    client: FlaskClient, store: Store, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    payload = valid_payload(**overrides)

    response = client.post(URL, json=payload)

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert fragment in errors[field], errors
    assert stored(store) == []


def test_missing_required_fields_are_listed_in_polish(client: FlaskClient) -> None:
    response = client.post(URL, json={})

    errors = response.get_json()["errors"]
    assert response.status_code == 422
    for field in ("first_name", "last_name", "enterprise_name", "powiat", "email", "phone"):
        assert errors[field] == "To pole jest wymagane."


@pytest.mark.parametrize(
    "phone", ["533316283", "+48 533 316 283", "+48533316283", "0048 533-316-283"]
)
def test_polish_phone_numbers_are_kept_in_one_normalised_form(
    client: FlaskClient, store: Store, phone: str
) -> None:
    assert client.post(URL, json=valid_payload(phone=phone)).status_code == 201
    assert stored(store)[0].phone == "+48 533 316 283"


def test_a_participant_without_pesel_gives_a_date_of_birth(
    client: FlaskClient, store: Store
) -> None:
    response = client.post(URL, json=valid_payload(pesel=None, birth_date="1975-03-14"))

    assert response.status_code == 201
    row = stored(store)[0]
    assert row.birth_date is not None
    assert (row.pesel, row.birth_date.isoformat()) == (None, "1975-03-14")


def test_other_diet_keeps_its_description(client: FlaskClient, store: Store) -> None:
    client.post(URL, json=valid_payload(diet="other", diet_other="bez laktozy"))
    assert (stored(store)[0].diet, stored(store)[0].diet_other) == ("other", "bez laktozy")


def test_seats_are_confirmed_up_to_capacity_then_waitlisted(
    client: FlaskClient, store: Store, app
) -> None:
    capacity = app.extensions["owes"].events[KLASTER].capacity
    statuses = [
        client.post(URL, json=valid_payload(email=f"osoba{i}@example.pl")).get_json()["status"]
        for i in range(capacity + 2)
    ]

    assert statuses == ["confirmed"] * capacity + ["waitlisted"] * 2
    response = client.post(URL, json=valid_payload(email="ostatni@example.pl"))
    assert "na liście rezerwowej" in response.get_json()["message"]


def test_a_waitlisted_registration_is_answered_with_its_place_on_the_list(
    client: FlaskClient, app
) -> None:
    capacity = app.extensions["owes"].events[KLASTER].capacity
    answers = [
        client.post(URL, json=valid_payload(email=f"osoba{i}@example.pl")).get_json()
        for i in range(capacity + 2)
    ]

    assert [a["waiting_position"] for a in answers] == [None] * capacity + [1, 2]
    later = client.get(f"/api/registrations/{answers[-1]['manage_url'].rsplit('/', 1)[1]}")
    assert later.get_json()["waiting_position"] == 2


def test_max_per_enterprise_refuses_one_more_from_the_same_enterprise(
    client: FlaskClient,
) -> None:
    url = f"/api/events/{OPEN}/registrations"
    names = ["Spółdzielnia „Mała”", "spółdzielnia mała", "SPÓŁDZIELNIA  MAŁA"]
    answers = [
        client.post(url, json=valid_payload(email=f"p{i}@example.pl", enterprise_name=name))
        for i, name in enumerate(names)
    ]

    assert [a.status_code for a in answers] == [201, 201, 409]
    assert answers[2].get_json()["error"] == "enterprise_limit_reached"


def test_no_personal_number_email_or_phone_reaches_the_log(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, app
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post(URL, json=valid_payload())
    client.post(URL, json=valid_payload())  # a refusal is logged nowhere with the e-mail either
    app.extensions["owes"].worker.run_once()

    logged = "\n".join(
        f"{record.getMessage()}\n{record.exc_text or ''}" for record in caplog.records
    )
    for secret in ("02270803624", "anna.nowak@example.pl", "533 316 283", "533316283"):
        assert secret not in logged


def test_no_ip_address_is_stored(client: FlaskClient, store: Store) -> None:
    client.post(URL, json=valid_payload(), environ_base={"REMOTE_ADDR": "203.0.113.77"})

    columns = Registration.__table__.columns.keys()
    row = stored(store)[0]
    assert all("203.0.113.77" not in str(getattr(row, c)) for c in columns)
    assert not any("ip" in c.split("_") or "addr" in c for c in columns)


def test_events_are_listed_with_their_registration_state(client: FlaskClient) -> None:
    events = {e["slug"]: e for e in client.get("/api/events").get_json()}

    assert events[KLASTER]["registration"] == "open"
    assert events[KLASTER]["registration_deadline"] == "2018-08-22"


def test_a_diet_note_is_kept_whatever_the_diet(client: FlaskClient, store: Store) -> None:
    client.post(URL, json=valid_payload(diet="vegan", diet_other="bez orzechów"))

    row = stored(store)[0]
    assert (row.diet, row.diet_other) == ("vegan", "bez orzechów")


def test_rules_between_fields_are_reported_with_the_other_mistakes_at_once(
    client: FlaskClient,
) -> None:
    payload = valid_payload(pesel="", email="zły", diet="other", first_name="")

    errors = client.post(URL, json=payload).get_json()["errors"]

    assert set(errors) >= {"first_name", "email", "pesel", "diet_other"}
