"""Several people, one address: colleagues sharing `biuro@…` each register with their own
link; the same name at that address is one person; `max_per_email` caps an address; the
lost-link page, `set-email` and `erase --email` know that an address may be several people."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config.services import Services
from registrations.identity import name_key
from registrations.models import Registration
from store.models import OutboxMessage
from tests.conftest import OPEN, FakeClock, shown, valid_payload, write_open_event

URL = f"/api/events/{OPEN}/registrations"
OFFICE = "biuro@spoldzielnia.example.pl"
PEOPLE = [
    ("Anna", "Nowak"),
    ("Jan", "Kowalski"),
    ("Łucja", "Wiśniewska"),
    ("Lucja", "Wiśniewska"),  # another person: Polish letters count
    ("Wiśniewska", "Lucja"),  # and so does the order
    ("Piotr", "Zieliński"),
]


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "events"
    write_open_event(folder, capacity=20, max_per_enterprise=10)
    return folder


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def person(first: str, last: str, **overrides: Any) -> dict[str, Any]:
    return valid_payload(**{"first_name": first, "last_name": last, "email": OFFICE, **overrides})


def register(client: FlaskClient, first: str, last: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(URL, json=person(first, last, **overrides))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def token_of(body: dict[str, Any]) -> str:
    return str(body["manage_url"]).rsplit("/", 1)[-1]


def eml_files(app: Flask) -> list[Path]:
    return sorted((svc(app).instance_path / "mail").glob("*.eml"))


def plain(path: Path) -> str:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_name_key_folds_spaces_and_case_but_keeps_polish_letters_and_order() -> None:
    assert name_key("  anna ", "NOWAK") == name_key("Anna", "Nowak")
    assert name_key("Anna  Maria", "Nowak") == name_key("anna maria", "nowak")
    assert name_key("Łucja", "Nowak") != name_key("Lucja", "Nowak")
    assert name_key("Anna", "Nowak") != name_key("Nowak", "Anna")
    assert name_key("Zo\u0301fia", "X") == name_key("Zófia", "X")  # NFC


def test_colleagues_sharing_an_address_each_register_with_a_working_link_and_a_sixth_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    bodies = [register(client, first, last) for first, last in PEOPLE[:5]]
    sixth = client.post(URL, json=person(*PEOPLE[5]))

    assert len({token_of(body) for body in bodies}) == 5
    for body, (first, last) in zip(bodies, PEOPLE, strict=False):
        shown_data = client.get(f"/api/registrations/{token_of(body)}").get_json()
        assert shown_data["id"] == body["id"]
        assert (shown_data["data"]["first_name"], shown_data["data"]["last_name"]) == (first, last)
        assert shown_data["data"]["email"] == OFFICE
    assert sixth.status_code == 409
    assert sixth.get_json()["error"] == "email_limit_reached"
    with svc(app).store.transaction() as session:
        assert len(session.scalars(select(Registration)).all()) == 5


def test_a_cancelled_colleague_frees_a_place_of_the_address(
    app: Flask, client: FlaskClient
) -> None:
    bodies = [register(client, first, last) for first, last in PEOPLE[:5]]
    assert client.delete(f"/api/registrations/{token_of(bodies[0])}").status_code == 200

    register(client, *PEOPLE[5])


def test_the_same_person_twice_is_already_registered_whatever_the_spacing_and_case(
    client: FlaskClient,
) -> None:
    register(client, "Anna", "Nowak")

    again = client.post(URL, json=person(" anna ", "NOWAK", email=OFFICE.upper()))

    assert again.status_code == 409
    assert again.get_json()["error"] == "already_registered"


def test_the_form_says_in_polish_that_the_address_has_reached_its_limit(
    app: Flask, client: FlaskClient
) -> None:
    for first, last in PEOPLE[:5]:
        register(client, first, last)
    page = client.get(f"/wydarzenia/{OPEN}/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {k: str(v) for k, v in person(*PEOPLE[5]).items() if isinstance(v, str)}
    form.update(accommodation="tak", consent_personal_data="tak", csrf_token=csrf.group(1))

    response = client.post(f"/wydarzenia/{OPEN}/", data=form)

    assert response.status_code == 409
    assert "Z tym adresem e-mail zgłoszono już najwięcej osób" in shown(response)


def test_a_name_change_that_equals_a_colleague_at_the_address_is_already_registered(
    client: FlaskClient,
) -> None:
    register(client, "Anna", "Nowak")
    jan = register(client, "Jan", "Kowalski")

    clash = client.patch(
        f"/api/registrations/{token_of(jan)}", json={"first_name": "ANNA", "last_name": "Nowak"}
    )
    fine = client.patch(f"/api/registrations/{token_of(jan)}", json={"first_name": "Janusz"})

    assert clash.status_code == 409 and clash.get_json()["error"] == "already_registered"
    assert fine.status_code == 200 and fine.get_json()["data"]["first_name"] == "Janusz"


def test_the_lost_link_page_sends_every_link_of_the_address_in_one_email_once_per_ten_minutes(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    bodies = [register(client, first, last) for first, last in PEOPLE[:3]]
    svc(app).mail_worker.run_once()
    before = set(eml_files(app))

    def ask() -> list[Path]:
        page = client.get(f"/wydarzenia/{OPEN}/przypomnij-link")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        answer = client.post(
            f"/wydarzenia/{OPEN}/przypomnij-link",
            data={"email": OFFICE.upper(), "csrf_token": csrf.group(1)},
        )
        assert answer.status_code == 200
        svc(app).mail_worker.run_once()
        new = [path for path in eml_files(app) if path not in before]
        before.update(new)
        return new

    [letter] = ask()
    too_soon = ask()
    clock.advance(10 * 60)
    later = ask()

    text = plain(letter)
    for body, (first, last) in zip(bodies, PEOPLE, strict=False):
        assert body["manage_url"] in text
        assert f"{first} {last} ({body['id']}" in text
    assert too_soon == []
    assert len(later) == 1


def test_set_email_refuses_only_an_address_that_has_the_same_name_in_the_event(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    register(client, "Anna", "Nowak")
    elsewhere = client.post(URL, json=valid_payload(first_name="Jan", last_name="Kowalski"))
    namesake = client.post(
        URL,
        json=valid_payload(first_name="Anna", last_name="Nowak", email="anna.domowy@example.pl"),
    )
    assert elsewhere.status_code == 201 and namesake.status_code == 201

    joins = runner.invoke(
        args=["registration", "set-email", "--id", elsewhere.get_json()["id"], "--email", OFFICE]
    )
    clash = runner.invoke(
        args=["registration", "set-email", "--id", namesake.get_json()["id"], "--email", OFFICE]
    )

    assert joins.exit_code == 0, joins.output
    assert (
        clash.exit_code == 1
        and "already has a registration of this name at this address" in clash.output
    )


def test_erase_by_an_address_of_several_people_erases_nobody_and_lists_them(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    anna, jan = register(client, "Anna", "Nowak"), register(client, "Jan", "Kowalski")

    result = runner.invoke(args=["erase", "--email", OFFICE])

    assert result.exit_code == 1
    assert anna["id"] in result.output and jan["id"] in result.output
    assert "nothing was erased" in result.output
    with svc(app).store.transaction() as session:
        assert session.scalars(select(Registration.erased_at)).all() == [None, None]


def test_erasing_one_colleague_removes_only_their_messages_and_eml_files(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    anna, jan = register(client, "Anna", "Nowak"), register(client, "Jan", "Kowalski")
    svc(app).mail_worker.run_once()
    with svc(app).store.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        jans = {row.message_id for row in rows if row.registration_id == jan["id"]}
    assert len(eml_files(app)) == 2

    result = runner.invoke(args=["erase", "--id", anna["id"]])

    assert result.exit_code == 0, result.output
    [kept] = eml_files(app)
    assert "Jan Kowalski" in plain(kept) and "Anna" not in plain(kept)
    with svc(app).store.transaction() as session:
        left = session.scalars(select(OutboxMessage)).all()
        assert {row.message_id for row in left} == jans
    assert client.get(f"/api/registrations/{token_of(jan)}").status_code == 200
