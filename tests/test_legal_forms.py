"""The per-enterprise limit counts one enterprise once, however its legal form is spelled;
with `ask_nip` it counts by NIP alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from config.settings import Settings
from registrations.enterprise import enterprise_key, normalise_nip
from tests.conftest import OPEN, valid_payload, write_open_event
from tests.staff_support import STAFF_LISTS, create_event, form_values, publish, sign_in

URL = f"/api/events/{OPEN}/registrations"
NIP_EVENT = "z-nipem"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=STAFF_LISTS)


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "events"
    write_open_event(folder, capacity=20, max_per_enterprise=1)
    write_open_event(folder, NIP_EVENT, capacity=20, max_per_enterprise=1, ask_nip="true")
    return folder


def post(client: FlaskClient, n: int, enterprise: str, url: str = URL, **more: Any) -> Any:
    payload = valid_payload(email=f"osoba{n}@example.pl", enterprise_name=enterprise, **more)
    return client.post(url, json=payload)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("SS „Odkrywamy Lubuskie”", "Spółdzielnia Socjalna Odkrywamy Lubuskie"),
        ("Sp. Soc. «Odkrywamy Lubuskie»", "odkrywamy lubuskie SPÓŁDZIELNIA SOCJALNA"),
        ("Stow. Pomost", "Stowarzyszenie „Pomost”"),
        ("Fund. Pomost", "FUNDACJA POMOST!"),
        ("Pomost spółka z o.o.", '"Pomost" sp. z o. o.'),
    ],
)
def test_spellings_of_one_legal_form_are_one_enterprise(one: str, other: str) -> None:
    assert enterprise_key(one) == enterprise_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Fundacja Pomost", "Stowarzyszenie Pomost"),
        ("SS Pomost", "Pomost sp. z o.o."),
        ("Fundacja Pomost", "Fundacja Most"),
    ],
)
def test_different_legal_forms_or_names_stay_different(one: str, other: str) -> None:
    assert enterprise_key(one) != enterprise_key(other)


def test_the_limit_counts_one_cooperative_once_and_says_the_number_and_whom_to_call(
    client: FlaskClient,
) -> None:
    first = post(client, 1, "SS „Odkrywamy Lubuskie”")
    second = post(client, 2, "Spółdzielnia Socjalna Odkrywamy Lubuskie")

    assert first.status_code == 201
    assert second.status_code == 409
    answer = second.get_json()
    assert answer["error"] == "enterprise_limit_reached"
    assert "1 osoba" in answer["message"]
    assert "W sprawie udziału kolejnej osoby prosimy o kontakt" in answer["message"]
    assert "tel. " in answer["message"]


def test_a_foundation_and_an_association_of_one_name_are_two_enterprises(
    client: FlaskClient,
) -> None:
    assert post(client, 1, "Fundacja Pomost").status_code == 201
    assert post(client, 2, "Stowarzyszenie Pomost").status_code == 201


def test_nip_is_checked_with_its_checksum() -> None:
    assert normalise_nip("123-456-32-18") == "1234563218"
    assert normalise_nip("123 456 32 18") == "1234563218"
    for wrong in ("123-456-32-19", "12345", "12345632181", "12E4563218"):
        with pytest.raises(ValueError):
            normalise_nip(wrong)


def test_an_event_asking_for_nip_requires_it_and_counts_enterprises_by_nip_alone(
    client: FlaskClient,
) -> None:
    url = f"/api/events/{NIP_EVENT}/registrations"

    missing = post(client, 1, "SS Pomost", url)
    wrong = post(client, 1, "SS Pomost", url, nip="123-456-32-19")
    first = post(client, 1, "SS Pomost", url, nip="123-456-32-18")
    same_nip = post(client, 2, "Zupełnie inna nazwa", url, nip="1234563218")
    same_name = post(client, 3, "SS Pomost", url, nip="526-104-08-28")

    assert missing.status_code == 422 and "nip" in missing.get_json()["errors"]
    assert wrong.status_code == 422
    assert "cyfra kontrolna" in wrong.get_json()["errors"]["nip"]
    assert first.status_code == 201
    assert same_nip.status_code == 409
    assert same_nip.get_json()["error"] == "enterprise_limit_reached"
    assert same_name.status_code == 201
    token = first.get_json()["manage_url"].rsplit("/", 1)[-1]
    assert client.get(f"/api/registrations/{token}").get_json()["data"]["nip"] == "1234563218"


def test_an_event_that_does_not_ask_for_nip_keeps_none(client: FlaskClient) -> None:
    response = post(client, 1, "SS Pomost", nip="123-456-32-18")
    token = response.get_json()["manage_url"].rsplit("/", 1)[-1]

    assert client.get(f"/api/registrations/{token}").get_json()["data"]["nip"] is None


def test_the_form_asks_for_nip_only_where_the_event_does(client: FlaskClient) -> None:
    assert 'name="nip"' in client.get(f"/wydarzenia/{NIP_EVENT}/").text
    assert 'name="nip"' not in client.get(f"/wydarzenia/{OPEN}/").text


def test_staff_make_an_event_ask_for_nip_in_the_staff_pages(client: FlaskClient) -> None:
    staff = sign_in(client.application.test_client())
    slug = create_event(staff, ask_nip="tak", max_per_enterprise="1")
    publish(staff, slug)
    url = f"/api/events/{slug}/registrations"

    shown_form = form_values(staff, f"/obsluga/wydarzenia/{slug}/edycja")
    without = post(client, 1, "SS Pomost", url, powiat="0862")
    first = post(client, 1, "SS Pomost", url, powiat="0862", nip="1234563218")

    assert shown_form.get("ask_nip") == ["tak"]
    assert 'name="nip"' in client.get(f"/wydarzenia/{slug}/").text
    assert without.status_code == 422 and "nip" in without.get_json()["errors"]
    assert first.status_code == 201, first.get_json()
