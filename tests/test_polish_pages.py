"""The pages and the API as a Polish institution writes them: each status's words, the
night asked without a pre-selected answer, the information clause beside the consent, "my data"
as a page, one 404 for every link that leads nowhere, and non-breaking spaces only in text."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from app import create_app
from config.settings import Settings
from registrations.decisions import Decision
from registrations.erasure import ErasedBy
from registrations.polish import NBSP
from tests.conftest import KLASTER, OPEN, FakeClock, valid_payload, write_open_event
from tests.wording import informal

FORM = f"/wydarzenia/{OPEN}/"
API = f"/api/events/{OPEN}/registrations"


def soup(html: str) -> Any:
    """The page parsed (typed loosely: a missing element fails the test where it is used)."""
    return BeautifulSoup(html, "html.parser")


def text_of(html: str) -> str:
    """What a reader sees (non-breaking spaces read as spaces)."""
    return " ".join(soup(html).get_text(" ").replace(NBSP, " ").split())


def csrf(client: FlaskClient, url: str = FORM) -> str:
    token = soup(client.get(url).text).find("input", {"name": "csrf_token"})
    assert token is not None
    return str(token["value"])


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Jan",
        "last_name": "Kowalski",
        "enterprise_name": "Spółdzielnia Socjalna w Lubniewicach",
        "powiat": "0809",
        "email": "jan@example.pl",
        "phone": "533 316 283",
        "pesel": "44051401359",
        "accommodation": "tak",
        "diet": "other",
        "diet_other": "a w ogóle bez glutenu",
        "special_needs": "w miarę możliwości z windą",
        "consent_personal_data": "tak",
    }
    data.update(overrides)
    return data


def submit(client: FlaskClient, **overrides: str) -> Any:
    return client.post(FORM, data={"csrf_token": csrf(client), **form_data(**overrides)})


def register(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    response = client.post(API, json=valid_payload(**overrides))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def link_path(body: dict[str, Any]) -> str:
    return "/" + str(body["manage_url"]).split("/", 3)[3]


def fill_the_seats(client: FlaskClient) -> None:
    for i in range(3):
        register(client, email=f"o{i}@example.pl", enterprise_name=f"F{i}")


def test_the_confirmation_page_thanks_and_a_waitlisted_one_never_says_przyjete(
    client: FlaskClient,
) -> None:
    fill_the_seats(client)
    response = submit(client)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text

    shown = text_of(page)
    assert soup(page).h1.get_text(strip=True) == "Dziękujemy za zgłoszenie"
    assert "przyjęt" not in shown.casefold()
    assert "Status: na liście rezerwowej (miejsce 1)" in shown
    assert informal(shown) == []


def test_each_status_has_its_own_words_on_the_private_page(app: Flask, client: FlaskClient) -> None:
    svc = app.extensions["owes"]
    event = svc.events[OPEN]
    confirmed = register(client, email="a@example.pl", enterprise_name="A")
    cancelled = register(client, email="b@example.pl", enterprise_name="B")
    rejected = register(client, email="c@example.pl", enterprise_name="C")
    waiting = register(client, email="d@example.pl", enterprise_name="D")
    client.delete(f"/api/registrations/{link_path(cancelled).rsplit('/', 1)[1]}")
    svc.registrations.decide(event, rejected["id"], Decision.REJECTED, now=svc.now())
    register(client, email="e@example.pl", enterprise_name="E")  # waits behind the promoted one
    words = {
        "confirmed": "Status: potwierdzone – miejsce jest zarezerwowane.",
        "cancelled": "Status: rezygnacja – zgłoszenie jest anulowane.",
        "rejected": "Status: odrzucone – zgłoszenie zostało odrzucone przez organizatora. Powód:",
    }
    for body, expected in [
        (confirmed, "confirmed"),
        (cancelled, "cancelled"),
        (rejected, "rejected"),
    ]:
        shown = text_of(client.get(link_path(body)).text)
        assert words[expected] in shown, expected
        assert "przyjęt" not in shown.casefold() and informal(shown) == []
    # The waiting one was promoted by the cancellation; the later one waits.
    assert words["confirmed"] in text_of(client.get(link_path(waiting)).text)


def test_the_night_has_no_answer_chosen_and_is_required_on_the_form(
    client: FlaskClient,
) -> None:
    form = soup(client.get(FORM).text)
    radios = form.find_all("input", {"name": "accommodation"})
    assert [r["value"] for r in radios] == ["tak", "nie"]
    assert not any(r.has_attr("checked") for r in radios)

    data = form_data()
    del data["accommodation"]
    response = client.post(FORM, data={"csrf_token": csrf(client), **data})

    assert response.status_code == 422
    error = soup(response.text).find(id="accommodation-error")
    assert error is not None
    assert "Prosimy zaznaczyć, czy potrzebny jest nocleg." in error.get_text().replace(NBSP, " ")


def test_the_api_requires_the_night_when_offered_and_a_patch_keeps_it(
    client: FlaskClient, tmp_path: Path, clock: FakeClock, settings: Settings
) -> None:
    payload = valid_payload()
    del payload["accommodation"]
    refused = client.post(API, json=payload)
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"accommodation"}

    body = register(client, accommodation=False)
    token = link_path(body).rsplit("/", 1)[1]
    changed = client.patch(f"/api/registrations/{token}", json={"diet": "vegan"})
    assert changed.status_code == 200
    assert changed.get_json()["data"]["accommodation"] is False

    document = client.get("/api/openapi.json").get_json()
    described = document["components"]["schemas"]["RegistrationIn"]["properties"]
    assert "accommodation_label" in str(described["accommodation"])
    assert (
        "accommodation"
        in document["paths"]["/api/events/{slug}/registrations"]["post"]["responses"]["422"][
            "description"
        ]
    )

    # An event without a night asks nothing and needs nothing.
    folder = tmp_path / "no-night"
    write_open_event(folder, accommodation_label='""')
    path = folder / f"{OPEN}.toml"
    path.write_text(
        "\n".join(
            line for line in path.read_text().splitlines() if not line.startswith("accommodation")
        ),
        encoding="utf-8",
    )
    plain = create_app(settings.model_copy(update={"events_dir": folder}), clock=clock)
    try:
        payload["email"] = "bez.noclegu@example.pl"
        assert plain.test_client().post(API, json=payload).status_code == 201
    finally:
        plain.extensions["owes"].store.dispose()


def test_pages_bind_one_letter_words_but_never_in_form_values_or_the_sheet(
    app: Flask, client: FlaskClient
) -> None:
    failed = submit(client, consent_personal_data="")  # the values come back in the form
    assert failed.status_code == 422
    form: Any = soup(failed.text)
    assert form.find("input", {"name": "enterprise_name"})["value"] == (
        "Spółdzielnia Socjalna w Lubniewicach"
    )
    assert form.find("textarea", {"name": "special_needs"}).string == "w miarę możliwości z windą"
    assert f"W{NBSP}razie" in failed.text or f"w{NBSP}" in failed.text  # the page's own text

    response = submit(client)
    assert response.status_code == 303
    confirmation: Any = soup(client.get(response.headers["Location"]).text)
    link = confirmation.find("p", class_="link").a["href"]
    private: Any = soup(client.get(link_path({"manage_url": link})).text)
    assert private.find("input", {"name": "enterprise_name"})["value"] == (
        "Spółdzielnia Socjalna w Lubniewicach"
    )
    assert private.find("textarea", {"name": "special_needs"}).string == (
        "w miarę możliwości z windą"
    )
    svc = app.extensions["owes"]
    svc.worker.run_once()
    values = [
        cell
        for row in load_workbook(svc.instance_path / f"{OPEN}.xlsx")
        .worksheets[0]
        .iter_rows(values_only=True)
        for cell in row
    ]
    assert "Spółdzielnia Socjalna w Lubniewicach" in values
    assert not any(isinstance(v, str) and NBSP in v for v in values)


def test_the_json_api_never_carries_a_non_breaking_space(client: FlaskClient) -> None:
    body = register(client, enterprise_name="Spółdzielnia w Lubniewicach", special_needs="a i o")
    token = link_path(body).rsplit("/", 1)[1]
    for url in (f"/api/registrations/{token}", f"/api/registrations/{token}/data", "/api/events"):
        assert NBSP not in client.get(url).get_data(as_text=True)
    assert NBSP not in client.get(f"{link_path(body)}/moje-dane").get_data(as_text=True)


def test_my_data_reads_as_a_page_with_polish_labels_and_the_private_page_links_both(
    client: FlaskClient,
) -> None:
    body = register(client, powiat="0809", diet="vegetarian", accommodation=True)
    private = soup(client.get(link_path(body)).text)
    links = {
        a.get_text(strip=True).replace(NBSP, " "): str(a["href"]) for a in private.find_all("a")
    }
    assert links["Moje dane – strona do przeczytania"].endswith("/moje-dane.html")
    assert links["Moje dane – plik JSON"].endswith("/moje-dane")

    response = client.get(f"{link_path(body)}/moje-dane.html")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    rows = {
        th.get_text(strip=True): th.find_next("td").get_text(strip=True).replace(NBSP, " ")
        for th in soup(response.text).find_all("th", scope="row")
    }
    assert rows["Powiat"] == "powiat zielonogórski"
    assert rows["Dieta"] == "wegetariańska"
    assert rows["Nocleg"] == "tak"
    assert rows["Numer zgłoszenia"] == body["id"]
    assert rows["Status"] == "potwierdzone"
    labels = list(rows)
    assert labels.index("Numer zgłoszenia") < labels.index("Status") < labels.index("Imię")
    assert rows["Adres e-mail"] == "anna.nowak@example.pl"
    assert rows["Zgoda na przetwarzanie danych"] == "tak"
    assert informal(text_of(response.text)) == []


@pytest.mark.parametrize("case", ["wrong", "unknown", "erased"])
def test_a_link_that_leads_nowhere_gets_one_404_page_offering_the_lost_link_page(
    case: str, app: Flask, client: FlaskClient
) -> None:
    body = register(client)
    path = link_path(body)
    if case == "wrong":
        path = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    elif case == "unknown":
        path = path.rsplit("/", 1)[0] + "/" + "x" * 30
    else:
        svc = app.extensions["owes"]
        svc.registrations.erase(svc.events[OPEN], [body["id"]], now=svc.now(), by=ErasedBy.REQUEST)

    for suffix in ("", "/rezygnacja", "/moje-dane", "/moje-dane.html"):
        response = client.get(path + suffix)
        assert response.status_code == 404
        page = soup(response.text)
        assert page.h1.get_text(strip=True) == "Nie znaleziono zgłoszenia"
        assert page.find("a", href=f"/wydarzenia/{OPEN}/przypomnij-link") is not None
        assert response.headers["Cache-Control"] == "no-store"
    assert informal(text_of(response.text)) == []


def test_the_form_shows_the_information_clause_beside_the_consent(client: FlaskClient) -> None:
    form = soup(client.get(FORM).text)
    consent = form.find(id="consent_personal_data").find_parent("fieldset")
    clause = consent.find("details", class_="information-clause")
    assert clause is not None
    text = clause.get_text(" ").replace(NBSP, " ")
    for heading in (
        "Administrator danych",
        "Inspektor ochrony danych",
        "Cele i podstawy prawne przetwarzania",
        "Odbiorcy danych",
        "Okres przechowywania",
        "Prezes Urzędu Ochrony Danych Osobowych",
    ):
        assert heading in text, heading
    assert "Ubezpieczyciel" in text and "obiekt noclegowy" in text and "catering" in text


def test_gender_is_asked_only_where_the_event_sets_it_and_goes_with_the_person(
    tmp_path: Path, clock: FakeClock, settings: Settings
) -> None:
    folder = tmp_path / "gender"
    write_open_event(folder, ask_gender="true")
    app = create_app(settings.model_copy(update={"events_dir": folder}), clock=clock)
    try:
        client = app.test_client()
        radios = soup(client.get(FORM).text).find_all("input", {"name": "gender"})
        assert [r["value"] for r in radios] == ["kobieta", "mężczyzna", ""]
        assert not any(r.has_attr("checked") for r in radios)  # optional, nothing chosen
        body = register(client, gender="kobieta")
        unsaid = register(client, email="x@example.pl", enterprise_name="X")
        refused = client.post(API, json=valid_payload(email="y@example.pl", gender="inna"))
        token = link_path(body).rsplit("/", 1)[1]
        assert client.get(f"/api/registrations/{token}").get_json()["data"]["gender"] == "kobieta"
        other = link_path(unsaid).rsplit("/", 1)[1]
        assert client.get(f"/api/registrations/{other}").get_json()["data"]["gender"] is None
        svc = app.extensions["owes"]
        svc.registrations.erase(svc.events[OPEN], [body["id"]], now=svc.now(), by=ErasedBy.REQUEST)
        with svc.store.transaction() as session:
            from registrations.models import Registration

            erased = session.get(Registration, 1)
            assert erased is not None and erased.gender is None
    finally:
        app.extensions["owes"].store.dispose()
    assert refused.status_code == 422 and "gender" in refused.get_json()["errors"]


def test_unfilled_placeholders_are_warned_at_start_up_and_by_sheets_check(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with caplog.at_level(logging.WARNING):
        app = create_app(settings, clock=clock)
    try:
        assert "<<UZUPEŁNIJ" in caplog.text and "information_clause.administrator" in caplog.text
        result = app.test_cli_runner().invoke(args=["sheets", "check"])
    finally:
        app.extensions["owes"].store.dispose()
    assert result.exit_code == 0, result.output  # a warning, not a problem
    assert "information_clause.dpo_contact" in result.output

    filled = tmp_path / "organisation.toml"
    source = settings.organisation_file.read_text(encoding="utf-8")
    filled.write_text(
        source.replace("<<UZUPEŁNIJ:", "Fundacja (wypełnione:").replace(">>", ")"),
        encoding="utf-8",
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        done = create_app(settings.model_copy(update={"organisation_file": filled}), clock=clock)
    try:
        assert "UZUPEŁNIJ" not in caplog.text
        quiet = done.test_cli_runner().invoke(args=["sheets", "check"])
    finally:
        done.extensions["owes"].store.dispose()
    assert "UZUPEŁNIJ" not in quiet.output and quiet.exit_code == 0


def test_the_unfilled_placeholders_function_names_each_key() -> None:
    from config.organisation import load_organisation, unfilled_placeholders
    from config.settings import DEFAULT_ORGANISATION_FILE

    keys = unfilled_placeholders(load_organisation(DEFAULT_ORGANISATION_FILE))
    assert "information_clause.administrator" in keys
    assert "information_clause.retention" in keys
    assert all("supervisory_authority" not in key for key in keys)  # shipped filled in


def test_every_page_a_participant_meets_speaks_as_an_institution(
    app: Flask, client: FlaskClient
) -> None:
    body = register(client)
    fill_the_seats(client)
    pages = [
        "/",
        FORM,
        f"/wydarzenia/{KLASTER}/",
        f"/wydarzenia/{OPEN}/przypomnij-link",
        link_path(body),
        f"{link_path(body)}/rezygnacja",
        f"{link_path(body)}/moje-dane.html",
        "/nie-ma-takiej-strony",
    ]
    for url in pages:
        shown = text_of(client.get(url).text)
        assert informal(shown) == [], url
    sent = client.post(
        f"/wydarzenia/{OPEN}/przypomnij-link",
        data={"csrf_token": csrf(client, f"/wydarzenia/{OPEN}/przypomnij-link"), "email": "a@b.pl"},
    )
    assert informal(text_of(sent.text)) == []
