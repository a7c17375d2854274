"""The staff page of an event's questions: add, ready-made sets, refusals in Polish, order,
hide; and the questions reaching the form at once."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config.settings import Settings
from tests.conftest import KLASTER, shown
from tests.staff_support import STAFF_LISTS, page, sign_in

PATH = f"/obsluga/wydarzenia/{KLASTER}/pytania"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=STAFF_LISTS)


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    return sign_in(app.test_client())


def _post(client: FlaskClient, **data: str) -> TestResponse:
    token = page(client.get(PATH).data).find("input", {"name": "csrf_token"})
    assert token is not None
    return client.post(PATH, data={"csrf_token": str(token["value"]), **data})


def test_staff_add_questions_and_sets_and_the_form_asks_them(
    app: Flask, office: FlaskClient
) -> None:
    assert "Wydarzenie nie ma jeszcze własnych pytań." in shown(office.get(PATH))
    added = _post(
        office,
        action="add",
        label="Miejsce wsiadania",
        kind="wybor",
        choices="Żary, dworzec PKP | 12 | odjazd 7:00\nZielona Góra | | odjazd 8:00",
        required="tak",
    )
    assert added.status_code == 303
    _post(office, action="set", set="pokoj")
    _post(office, action="set", set="posilki")
    listed = " ".join(page(office.get(PATH).data).get_text(" ").replace("\xa0", " ").split())
    assert "Gotowe pytanie zostało dodane" in listed
    assert "Klucz w API: miejsce_wsiadania" in listed
    assert "Klucz w API: z_kim_chce_dzielic_pokoj" in listed
    assert "Klucz w API: posilki" in listed

    form = shown(app.test_client().get(f"/wydarzenia/{KLASTER}/"))
    assert form.index("Miejsce wsiadania") < form.index("Z kim chcę dzielić pokój")
    assert "Żary, dworzec PKP – odjazd 7:00" in form
    assert "27.08 obiad" in form  # the ready-made meals come from the event's meals

    _post(office, action="up", key="posilki")
    _post(office, action="up", key="posilki")  # above the stop
    _post(office, action="hide", key="z_kim_chce_dzielic_pokoj")
    form = shown(app.test_client().get(f"/wydarzenia/{KLASTER}/"))
    assert "Z kim chcę dzielić pokój" not in form
    assert form.index("Posiłki") < form.index("Miejsce wsiadania")
    event = app.test_client().get(f"/api/events/{KLASTER}").get_json()
    assert [q["key"] for q in event["questions"]] == ["posilki", "miejsce_wsiadania"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "E-mail", "kind": "tekst"}, "to nazwa kolumny zgłoszeń w arkuszu"),
        ({"label": "Status", "kind": "tekst"}, "to nazwa kolumny zgłoszeń w arkuszu"),
        ({"label": "", "kind": "tekst"}, "Treść pytania jest wymagana."),
        ({"label": "Przystanek", "kind": "wybor"}, "co najmniej jednej odpowiedzi"),
        ({"label": "Przystanek", "kind": "wybor", "choices": "A | x"}, "liczba miejsc"),
        ({"label": "Przystanek", "kind": "inny"}, "Należy wybrać rodzaj odpowiedzi"),
    ],
)
def test_a_question_that_cannot_be_kept_is_refused_in_polish(
    office: FlaskClient, data: dict[str, str], message: str
) -> None:
    response = _post(office, action="add", **data)
    assert response.status_code == 422
    assert message in shown(response)


def test_a_second_question_with_the_same_label_is_refused(office: FlaskClient) -> None:
    _post(office, action="add", label="Posiłki", kind="tekst")
    response = _post(office, action="add", label="  posiłki ", kind="tekst")
    assert response.status_code == 422
    assert "Pytanie „posiłki” już jest" in shown(response)


def test_only_full_staff_reach_the_page(app: Flask) -> None:
    assert app.test_client().get(PATH).status_code in (302, 303, 401, 403)
