"""The HTML form: Polish pages, accessible fields, values kept on errors, CSRF and honeypot."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import select

from config.services import services
from registrations.models import Registration
from registrations.polish import date_pl
from store import Store
from tests.conftest import KLASTER, OPEN, FakeClock, shown

FORM_URL = f"/wydarzenia/{KLASTER}/"


def page(html: bytes | str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def csrf_token(client: FlaskClient, url: str = FORM_URL) -> str:
    token = page(client.get(url).data).find("input", {"name": "csrf_token"})
    assert token is not None
    return str(token["value"])


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Jan",
        "last_name": "Kowalski",
        "enterprise_name": "Spółdzielnia Socjalna My",
        "powiat": "0809",
        "role": "",
        "email": "jan.kowalski@example.pl",
        "phone": "+48 533 316 283",
        "pesel": "44051401359",
        "birth_date": "",
        "accommodation": "tak",
        "diet": "standard",
        "diet_other": "",
        "special_needs": "",
        "consent_personal_data": "tak",
    }
    data.update(overrides)
    return data


def submit(client: FlaskClient, url: str = FORM_URL, **overrides: str):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **form_data(**overrides)})


def rows(store: Store) -> list[Registration]:
    with store.transaction() as session:
        return list(session.scalars(select(Registration)))


def test_index_lists_events_with_their_state_and_dates_in_polish(
    client: FlaskClient, clock: FakeClock
) -> None:
    clock.set("2026-11-27T10:00:00+00:00")

    html = client.get("/").text

    text = page(html).get_text()
    assert "Zapisy zakończone 22 sierpnia 2018\xa0r." in text
    assert "27–28 sierpnia 2018" in html
    deadline = services(client.application).events[OPEN].registration_deadline
    assert f"Zapisy otwarte do {date_pl(deadline)}\xa0r." in text


def test_the_stylesheet_every_page_links_is_served(client: FlaskClient) -> None:
    href = page(client.get(FORM_URL).data).find("link", rel="stylesheet")["href"]  # type: ignore[index]

    response = client.get(str(href))

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_every_error_summary_link_points_at_a_field(client: FlaskClient) -> None:
    response = client.post(
        FORM_URL,
        data={"csrf_token": csrf_token(client), "diet": "paleo", "accommodation": "tak"},
    )

    soup = page(response.data)
    links = soup.select(".error-summary a")
    assert len(links) >= 8
    for link in links:
        assert soup.find(id=str(link["href"])[1:]) is not None, link


def test_every_form_field_has_a_label_and_the_page_fits_a_phone(client: FlaskClient) -> None:
    html = client.get(FORM_URL)
    soup = page(html.data)

    assert html.status_code == 200
    assert soup.html is not None and soup.html["lang"] == "pl"
    assert soup.find("meta", {"name": "viewport"}) is not None
    fields = soup.select("form input:not([type=hidden]), form select, form textarea")
    assert len(fields) >= 15
    for field in fields:
        assert soup.find("label", {"for": field["id"]}) is not None, field


def test_form_shows_the_event_what_is_provided_the_consent_clause_and_the_contact(
    client: FlaskClient,
) -> None:
    html = shown(client.get(FORM_URL))

    assert "Świebodzin, Pniewo, Lubniewice, Nietkowice" in html
    assert "wyżywienie, ubezpieczenie, nocleg w Lubniewicach" in html
    assert "art. 6 ust. 1 lit. a RODO" in html
    assert "powiaty krośnieński, słubicki, sulęciński, wschowski, zielonogórski, żarski" in html
    assert "Adam Szulczewski" in html and "533 316 283" in html


def test_a_valid_submission_redirects_to_a_confirmation_with_id_and_status(
    client: FlaskClient, store: Store
) -> None:
    response = submit(client)

    assert response.status_code == 303
    confirmation = client.get(response.headers["Location"])
    [row] = rows(store)
    assert row.source == "form"
    assert row.accommodation is True and row.consent_image is False
    assert row.id in confirmation.text
    assert "Dziękujemy za zgłoszenie" in shown(confirmation)
    assert "Status: potwierdzone – miejsce jest zarezerwowane." in shown(confirmation)


def test_errors_rerender_the_form_with_values_kept_and_messages_tied_to_fields(
    client: FlaskClient, store: Store
) -> None:
    response = submit(
        client, email="zły-adres", pesel="12345678901", special_needs="rampa\npodjazd"
    )

    soup = page(response.data)
    assert response.status_code == 422
    assert rows(store) == []
    email = soup.find("input", {"id": "email"})
    assert email is not None and email["value"] == "zły-adres"
    assert email["aria-invalid"] == "true"
    assert "email-error" in str(email["aria-describedby"])
    error = soup.find(id="email-error")
    assert error is not None and "adres e-mail" in error.text
    assert soup.find(id="pesel-error") is not None
    assert soup.find("input", {"id": "first_name"})["value"] == "Jan"  # type: ignore[index]
    assert soup.find("textarea", {"id": "special_needs"}).text == "rampa\npodjazd"  # type: ignore[union-attr]
    assert soup.find("option", {"value": "0809", "selected": True}) is not None
    assert soup.find("input", {"id": "accommodation-tak", "checked": True}) is not None
    summary = soup.find(class_="error-summary")
    assert summary is not None
    link = summary.find("a", href="#email")
    assert link is not None and link.text.startswith("Adres e-mail: Należy podać poprawny adres")


def test_ineligible_powiat_in_the_form_gets_the_same_message_as_the_api(
    client: FlaskClient,
) -> None:
    from tests.conftest import valid_payload

    api = client.post(f"/api/events/{KLASTER}/registrations", json=valid_payload(powiat="0801"))
    html = submit(client, powiat="0801")

    assert html.status_code == 422
    shown_error = page(html.data).find(id="powiat-error").text.replace("\xa0", " ")  # type: ignore[union-attr]
    assert api.get_json()["errors"]["powiat"] in shown_error


def test_a_stale_csrf_token_keeps_what_was_typed_and_asks_to_send_again(
    client: FlaskClient, store: Store
) -> None:
    client.get(FORM_URL)

    response = client.post(FORM_URL, data={"csrf_token": "stale", **form_data()})

    assert response.status_code == 400
    soup = page(response.data)
    assert "Prosimy sprawdzić dane i wysłać formularz ponownie" in shown(response)
    assert soup.find("input", {"id": "last_name"})["value"] == "Kowalski"  # type: ignore[index]
    assert rows(store) == []
    token = soup.find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
    again = client.post(FORM_URL, data={"csrf_token": token, **form_data()})
    assert again.status_code == 303


def test_a_filled_honeypot_stores_nothing(client: FlaskClient, store: Store) -> None:
    response = submit(client, website="http://spam.example")

    assert response.status_code == 400
    assert rows(store) == []


def test_the_same_email_twice_in_the_form_is_explained(client: FlaskClient) -> None:
    submit(client)
    response = submit(client)

    assert response.status_code == 409
    assert "jest już zgłoszona z tym adresem e-mail" in shown(response)


def test_closed_event_says_when_registration_closed_and_whom_to_contact(
    client: FlaskClient, clock: FakeClock, store: Store
) -> None:
    token = csrf_token(client)
    clock.set("2018-08-22T22:00:00+00:00")

    page_get = client.get(FORM_URL)
    late = client.post(FORM_URL, data={"csrf_token": token, **form_data()})

    assert page_get.status_code == 200
    assert "Rejestracja zakończyła się 22 sierpnia 2018\xa0r." in page(page_get.data).get_text()
    assert "a.szulczewski@fundacjacp.org" in page_get.text
    assert page(page_get.data).find("form") is None
    assert late.status_code == 403
    assert rows(store) == []


def test_a_waitlisted_participant_is_told_so(client: FlaskClient) -> None:
    url = f"/wydarzenia/{OPEN}/"
    for i in range(3):  # the example event has 3 seats
        submit(client, url, email=f"o{i}@example.pl", enterprise_name=f"Firma {i}")

    response = submit(client, url, email="late@example.pl", enterprise_name="Inna")
    confirmation = client.get(response.headers["Location"])

    assert "Status: na liście rezerwowej (miejsce 1)" in shown(confirmation)
    assert "przyjęt" not in confirmation.text


def test_the_confirmation_shows_the_private_link_once_then_says_it_was_sent_by_e_mail(
    client: FlaskClient,
) -> None:
    response = submit(client, email="anna.nowak@example.pl")
    first = client.get(response.headers["Location"])
    link = page(first.data).select_one(".private-link .link a")
    assert link is not None and "/zgloszenie/" in str(link["href"])

    again = client.get(response.headers["Location"])  # the next person at this computer

    assert again.status_code == 200
    assert "/zgloszenie/" not in again.text
    assert "anna.nowak@example.pl" not in again.text and "Nowak" not in again.text
    assert "został wysłany e-mailem" in page(again.data).get_text()
    assert again.headers["Cache-Control"] == "no-store"


def test_the_event_address_without_its_slash_redirects_with_a_polish_page(
    client: FlaskClient,
) -> None:
    response = client.get(f"/wydarzenia/{KLASTER}")

    assert response.status_code == 308
    assert response.headers["Location"].endswith(f"/wydarzenia/{KLASTER}/")
    text = page(response.data).get_text()
    assert "Redirecting" not in response.text and "You should be redirected" not in text
    assert 'lang="pl"' in response.text and "Strona znajduje się pod adresem" in text
    assert page(response.data).select_one(f'a[href$="/wydarzenia/{KLASTER}/"]') is not None


def test_confirmation_without_a_submission_goes_back_to_the_form(client: FlaskClient) -> None:
    response = client.get(f"/wydarzenia/{KLASTER}/potwierdzenie")

    assert response.status_code == 302


@pytest.mark.parametrize("url", ["/wydarzenia/nie-ma/", "/nie-ma-takiej-strony"])
def test_unknown_pages_are_a_polish_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert "Nie ma takiej strony" in response.text


def test_an_oversized_form_post_is_a_413_page(client: FlaskClient) -> None:
    response = client.post(FORM_URL, data={"special_needs": "x" * 70_000})

    assert response.status_code == 413
    assert "zbyt duże" in response.text


def test_the_form_says_when_new_registrations_go_to_the_waiting_list(
    client: FlaskClient,
) -> None:
    url = f"/wydarzenia/{OPEN}/"
    assert "listę rezerwową" not in client.get(url).text
    for i in range(3):  # the example event has 3 seats
        submit(client, url, email=f"s{i}@example.pl", enterprise_name=f"Firma {i}")

    assert "Wszystkie miejsca są już zajęte" in client.get(url).text
