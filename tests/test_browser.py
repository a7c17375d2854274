"""The participant pages in a real headless Chromium, on phones and on a desktop.

A participant registers, gets their private link on the page and by e-mail (sent to an SMTP
server on loopback), changes and cancels through it. Every page is measured on small phones (also
with large text) and on a desktop: nothing sticks out sideways, controls are big enough to tap,
"(wymagane)" follows its label's words, phone numbers and dates stay on one line. Needs Debian's
``chromium`` and ``chromium-driver``; Selenium Manager is never used. Set ``OWES_SCREENSHOT_DIR``
to a folder to keep full-page screenshots of what the tests saw.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from config.services import Services
from config.settings import Settings
from registrations.models import Registration
from tests.browser_support import (
    DEFAULT_FONT_SIZE,
    DESKTOP,
    LARGE_FONT_SIZE,
    PHONE,
    SMALL_PHONE,
    TINY_PHONE,
    WAIT_SECONDS,
    assert_accessible,
    assert_fits_and_easy_to_tap,
    assert_laid_out_well,
    assert_styled,
    axe_violations,
    chromium,
    click_label,
    emulate_phone,
    emulate_screen,
    open_page,
    save_screenshot,
    tap,
    type_into,
    wait,
)
from tests.conftest import (
    KLASTER,
    OPEN,
    FakeClock,
    LiveServer,
    Mailbox,
    free_port,
    valid_payload,
    write_event,
)
from tests.sheet_harness import WorkbookStaff

pytestmark = pytest.mark.browser

REG_ID = re.compile(r"R-[0-9A-Z]{4}-[0-9A-Z]{4}")
FORM_PATH = f"/wydarzenia/{KLASTER}/"
CONFIRMATION_PATH = f"/wydarzenia/{KLASTER}/potwierdzenie"
CONFIRMED = "Status: potwierdzone – miejsce jest zarezerwowane."
AUTUMN = "jesien"  # an event from 30 September to 1 October 2018

PARTICIPANT = {
    "first_name": "Anna",
    "last_name": "Nowak",
    "email": "anna.nowak@example.pl",
    "phone": "533 316 283",
    "enterprise_name": "Spółdzielnia Socjalna Nasze Zaodrze",
    "role": "prezeska",
    "pesel": "02270803624",
}

# A page whose script, when it runs, changes the title.
SCRIPT_PROBE = "data:text/html,<title>off</title><script>document.title = 'on'</script>"


@pytest.fixture
def live_server_port() -> int:
    """A port chosen before the app is made, so its links can point at the live server."""
    return free_port()


@pytest.fixture
def settings(settings: Settings, live_server_port: int, smtp_server: Mailbox) -> Settings:
    """conftest's settings, with private links to the live server and mail to `smtp_server`.

    Nothing is sent until a test calls `delivered()`: the app runs no background workers.
    """
    return settings.model_copy(
        update={
            "public_base_url": f"http://127.0.0.1:{live_server_port}",
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        }
    )


@pytest.fixture
def events_dir(events_dir: Path) -> Path:
    """conftest's events, and one across two months: the longest dates the pages write (with
    hours, and the gender question)."""
    write_event(
        events_dir,
        AUTUMN,
        title='"Jesienne spotkanie Klastra Przedsiębiorstw Społecznych"',
        short_title='"Jesień 2018"',
        registration_deadline="2018-09-20",
        starts_on="2018-09-30",
        ends_on="2018-10-01",
        ask_gender="true",  # the optional gender question is measured and checked too
        start_time='"09:00"',
        end_time='"15:30"',
    )
    return events_dir


def open_form(driver: WebDriver, server: LiveServer, slug: str = KLASTER) -> None:
    driver.get(f"{server.url}/wydarzenia/{slug}/")
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[type=submit]")))
    assert_styled(driver)


def follow(driver: WebDriver, link_text: str) -> None:
    """Tap a link, as a participant would, and wait for the page it leads to."""
    tap(driver, driver.find_element(By.PARTIAL_LINK_TEXT, link_text))
    assert_styled(driver)


def fill_form(driver: WebDriver, *, powiat: str = "0809", **changes: str) -> None:
    for field_id, text in {**PARTICIPANT, **changes}.items():
        type_into(driver, field_id, text)
    Select(driver.find_element(By.ID, "powiat")).select_by_value(powiat)
    click_label(driver, "accommodation-tak")
    click_label(driver, "diet-vegetarian")
    click_label(driver, "consent_personal_data")


def submit(driver: WebDriver) -> None:
    tap(driver, driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def field_value(driver: WebDriver, field_id: str) -> str:
    return str(driver.find_element(By.ID, field_id).get_property("value"))


def services(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def registrations(app: Flask) -> list[Registration]:
    with services(app).store.transaction() as session:
        return list(session.scalars(select(Registration)))


def stored(app: Flask, registration_id: str) -> Registration:
    return services(app).registrations.by_id(registration_id)


def register(app: Flask, slug: str = OPEN, **changes: Any) -> tuple[Registration, str]:
    """A registration made through the domain (the JSON API's path), and its private link."""
    svc = services(app)
    payload = valid_payload(**changes)
    registration = svc.registrations.submit(svc.events[slug], payload, source="api", now=svc.now())
    return registration, svc.link_for(registration)


def register_in_browser(driver: WebDriver, server: LiveServer, **changes: str) -> str:
    """Fill in and send the seed event's form; the private link the confirmation page shows."""
    open_form(driver, server)
    fill_form(driver, **changes)
    submit(driver)
    wait(driver).until(EC.url_to_be(server.url + CONFIRMATION_PATH))
    assert_styled(driver)
    return str(driver.find_element(By.CSS_SELECTOR, ".private-link .link a").get_attribute("href"))


def delivered(app: Flask, mailbox: Mailbox) -> list[EmailMessage]:
    """One round of the outbox sender; the messages the SMTP server received since the last."""
    services(app).mail_worker.run_once()
    received = list(mailbox.messages)
    mailbox.messages.clear()
    return received


def assert_mail(message: EmailMessage, *, to: str, subject: str, link: str) -> str:
    """A Polish message to `to` whose subject starts so, carrying the private link in its text
    and its HTML part; returns the text."""
    assert message["To"] == to
    assert str(message["Subject"]).startswith(subject), message["Subject"]
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text = str(text_part.get_content())
    assert text_part.get_content_charset() == "utf-8"
    assert text.startswith("Dzień dobry,"), text  # no name: the institution's greeting
    assert "Prywatny link do zgłoszenia" in text
    assert link in text.splitlines()
    assert f'href="{link}"' in str(html_part.get_content())
    return text


def status_of(driver: WebDriver) -> str:
    """The registration's status in words, as the confirmation and the link page show it."""
    return str(driver.find_element(By.CSS_SELECTOR, ".status-block").text)


def flash_of(driver: WebDriver) -> str:
    return str(wait(driver).until(EC.visibility_of_element_located((By.CLASS_NAME, "flash"))).text)


def test_participant_on_a_phone_fills_the_form_and_gets_a_registration_id(
    browser: WebDriver, live_server: LiveServer, app: Flask
) -> None:
    open_form(browser, live_server)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Formularz zgłoszeniowy"
    save_screenshot(browser, "form-phone-390")

    for field_id, text in PARTICIPANT.items():
        type_into(browser, field_id, text)
    powiat = Select(browser.find_element(By.ID, "powiat"))
    powiat.select_by_visible_text("powiat zielonogórski")
    click_label(browser, "accommodation-tak")
    click_label(browser, "diet-vegetarian")
    click_label(browser, "consent_personal_data")
    assert not browser.find_element(By.ID, "consent_image").is_selected()
    submit(browser)

    wait(browser).until(EC.url_to_be(live_server.url + CONFIRMATION_PATH))
    shown_id = wait(browser).until(EC.visibility_of_element_located((By.CLASS_NAME, "reg-id")))
    assert REG_ID.fullmatch(shown_id.text), shown_id.text
    status = browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert CONFIRMED in status
    assert "anna.nowak@example.pl" in browser.find_element(By.CLASS_NAME, "summary").text
    save_screenshot(browser, "confirmation-phone-390")

    [row] = registrations(app)
    assert row.id == shown_id.text
    assert row.source == "form" and row.status == "confirmed"
    assert (row.first_name, row.last_name) == ("Anna", "Nowak")
    assert row.powiat == "0809" and row.email == "anna.nowak@example.pl"
    assert row.accommodation is True and row.diet == "vegetarian"
    assert row.consent_personal_data is True and row.consent_image is False


def test_errors_keep_what_was_typed_and_the_summary_links_to_the_field(
    browser: WebDriver, live_server: LiveServer, app: Flask
) -> None:
    open_form(browser, live_server)
    gorzowski = browser.find_element(By.CSS_SELECTOR, "#powiat option[value='0801']")
    assert gorzowski.text.startswith("powiat gorzowski")

    fill_form(browser, powiat="0801", email="anna.nowak.example.pl")
    submit(browser)

    summary = wait(browser).until(
        EC.visibility_of_element_located((By.CLASS_NAME, "error-summary"))
    )
    save_screenshot(browser, "form-errors-phone-390")
    assert browser.current_url == live_server.url + FORM_PATH
    assert registrations(app) == []
    assert field_value(browser, "first_name") == "Anna"
    assert field_value(browser, "enterprise_name") == "Spółdzielnia Socjalna Nasze Zaodrze"
    assert field_value(browser, "email") == "anna.nowak.example.pl"
    assert Select(browser.find_element(By.ID, "powiat")).first_selected_option.text.startswith(
        "powiat gorzowski"
    )
    assert browser.find_element(By.ID, "accommodation-tak").is_selected()
    assert browser.find_element(By.ID, "diet-vegetarian").is_selected()
    assert browser.find_element(By.ID, "consent_personal_data").is_selected()
    for field_id in ("email", "powiat"):
        field = browser.find_element(By.ID, field_id)
        assert field.get_attribute("aria-invalid") == "true", field_id
        described_by = str(field.get_attribute("aria-describedby")).split()
        assert f"{field_id}-error" in described_by, field_id
        assert browser.find_element(By.ID, f"{field_id}-error").is_displayed()
    assert summary.find_element(By.CSS_SELECTOR, "a[href='#powiat']").is_displayed()

    summary.find_element(By.CSS_SELECTOR, "a[href='#email']").click()

    wait(browser).until(EC.url_to_be(live_server.url + FORM_PATH + "#email"))
    wait(browser).until(lambda d: d.execute_script("return document.activeElement.id") == "email")
    box = browser.execute_script(
        "return document.getElementById('email').getBoundingClientRect().toJSON()"
    )
    assert -1 <= box["top"] and box["bottom"] <= PHONE[1] + 1, f"#email is off screen: {box}"


def test_the_form_fits_a_small_phone_and_its_controls_are_big_enough_to_tap(
    browser: WebDriver, live_server: LiveServer
) -> None:
    emulate_phone(browser, SMALL_PHONE)
    open_form(browser, live_server)
    save_screenshot(browser, "form-phone-360")

    page = assert_fits_and_easy_to_tap(browser)

    assert page["innerWidth"] == SMALL_PHONE[0]
    assert len(page["controls"]) >= 15


def test_without_javascript_the_form_still_submits(
    browser_without_js: WebDriver, live_server: LiveServer, app: Flask
) -> None:
    browser_without_js.get(SCRIPT_PROBE)
    assert browser_without_js.title == "off", "JavaScript is not switched off"
    open_form(browser_without_js, live_server)
    fill_form(browser_without_js)
    submit(browser_without_js)

    wait(browser_without_js).until(EC.url_to_be(live_server.url + CONFIRMATION_PATH))
    shown_id = browser_without_js.find_element(By.CLASS_NAME, "reg-id").text
    assert REG_ID.fullmatch(shown_id), shown_id
    [row] = registrations(app)
    assert row.id == shown_id


def test_a_participant_registers_on_a_phone_and_gets_the_same_private_link_on_the_page_and_by_email(
    browser: WebDriver, live_server: LiveServer, app: Flask, smtp_server: Mailbox
) -> None:
    link = register_in_browser(browser, live_server)

    assert link.startswith(f"{live_server.url}/wydarzenia/{KLASTER}/zgloszenie/")
    assert CONFIRMED in status_of(browser)
    shown_id = browser.find_element(By.CLASS_NAME, "reg-id").text
    [mail] = delivered(app, smtp_server)
    text = assert_mail(
        mail,
        to=PARTICIPANT["email"],
        subject="Potwierdzenie zgłoszenia: Klaster PS 2018",
        link=link,
    )
    assert "Anna," not in text and f"Numer zgłoszenia: {shown_id}" in text
    assert "Status: potwierdzone" in text
    assert "Termin: 27–28 sierpnia 2018 r." in text

    open_page(browser, link)
    save_screenshot(browser, "link-page-phone-390")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Zgłoszenie na wydarzenie"
    assert CONFIRMED in status_of(browser)
    assert browser.find_element(By.CLASS_NAME, "reg-id").text == shown_id
    assert browser.find_element(By.CLASS_NAME, "readonly").text == PARTICIPANT["email"]
    assert field_value(browser, "first_name") == "Anna"
    assert field_value(browser, "last_name") == "Nowak"
    assert field_value(browser, "phone") == "+48 533 316 283"
    assert field_value(browser, "enterprise_name") == PARTICIPANT["enterprise_name"]
    assert Select(browser.find_element(By.ID, "powiat")).first_selected_option.text.startswith(
        "powiat zielonogórski"
    )
    assert browser.find_element(By.ID, "accommodation-tak").is_selected()
    assert browser.find_element(By.ID, "diet-vegetarian").is_selected()


def test_through_the_link_a_participant_changes_phone_and_diet_but_not_the_email(
    browser: WebDriver, live_server: LiveServer, app: Flask, smtp_server: Mailbox
) -> None:
    registration, link = register(app)
    delivered(app, smtp_server)  # the registration's own e-mail
    svc = services(app)
    svc.worker.run_once()  # its row in the staff's sheet
    open_page(browser, link)
    form = browser.find_element(By.CSS_SELECTOR, "form")
    assert form.find_elements(By.CSS_SELECTOR, "[name=email]") == []
    assert browser.find_element(By.CLASS_NAME, "readonly").text == registration.email

    type_into(browser, "phone", "600 100 200")
    click_label(browser, "diet-vegan")
    # A field the page does not offer, added by hand, is ignored all the same.
    browser.execute_script(
        "const field = document.createElement('input');"
        "Object.assign(field, {type: 'hidden', name: 'email', value: 'inny@example.pl'});"
        "arguments[0].appendChild(field);",
        form,
    )
    submit(browser)

    assert browser.current_url == link
    assert flash_of(browser) == "Zmiany zostały zapisane. Potwierdzenie wysłaliśmy e-mailem."
    assert field_value(browser, "phone") == "+48 600 100 200"
    assert browser.find_element(By.ID, "diet-vegan").is_selected()
    row = stored(app, registration.id)
    assert (row.phone, row.diet, row.email) == ("+48 600 100 200", "vegan", registration.email)
    assert row.version == registration.version + 1
    [mail] = delivered(app, smtp_server)
    text = assert_mail(mail, to=registration.email, subject="Zmiana danych zgłoszenia", link=link)
    assert "Zmiany w zgłoszeniu zostały zapisane." in text
    svc.worker.run_once()
    header, *rows = WorkbookStaff(svc.instance_path).grid(svc.events[OPEN])
    [row_in_sheet] = [dict(zip(header, cells, strict=False)) for cells in rows]
    assert row_in_sheet["ID zgłoszenia"] == registration.id
    assert (row_in_sheet["Telefon"], row_in_sheet["Dieta"]) == ("+48 600 100 200", "wegańska")

    open_page(browser, link)  # a reload shows the saved data, and the message only once
    assert browser.find_elements(By.CLASS_NAME, "flash") == []
    assert field_value(browser, "phone") == "+48 600 100 200"


def test_cancelling_asks_first_then_the_first_on_the_waiting_list_gets_the_seat_and_an_email(
    browser: WebDriver, live_server: LiveServer, app: Flask, smtp_server: Mailbox
) -> None:
    people = [
        register(app, email=f"osoba{n}@example.pl", enterprise_name=f"Spółdzielnia nr {n}")
        for n in range(1, 6)
    ]  # 3 seats: two on the waiting list
    (leaving, leaving_link), _, _, (first, first_link), (second, _) = people
    assert [p.status for p, _ in people] == ["confirmed"] * 3 + ["waitlisted"] * 2
    delivered(app, smtp_server)

    open_page(browser, leaving_link)
    follow(browser, "Rezygnacja z udziału")
    save_screenshot(browser, "cancel-phone-390")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Czy na pewno zrezygnować z udziału?"
    assert leaving.id in browser.find_element(By.TAG_NAME, "main").text
    assert stored(app, leaving.id).status == "confirmed"  # asking changed nothing
    submit(browser)  # "Tak, rezygnuję z udziału"

    assert browser.current_url == leaving_link
    assert flash_of(browser).startswith("Rezygnacja została zapisana.")
    assert "Status: rezygnacja – zgłoszenie jest anulowane." in status_of(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "form") == []  # nothing left to change
    assert browser.find_elements(By.PARTIAL_LINK_TEXT, "Rezygnacja z udziału") == []
    assert [stored(app, p.id).status for p in (leaving, first, second)] == [
        "cancelled",
        "confirmed",
        "waitlisted",
    ]
    mails = {str(mail["To"]): mail for mail in delivered(app, smtp_server)}
    assert sorted(mails) == [leaving.email, first.email]
    assert_mail(
        mails[leaving.email], to=leaving.email, subject="Rezygnacja zapisana", link=leaving_link
    )
    text = assert_mail(
        mails[first.email],
        to=first.email,
        subject="Zwolniło się miejsce – udział potwierdzony",
        link=first_link,
    )
    assert "Status: potwierdzone" in text

    open_page(browser, first_link)
    assert CONFIRMED in status_of(browser)


def test_after_the_deadline_the_link_shows_the_data_and_offers_only_cancellation_until_the_start(
    browser: WebDriver, live_server: LiveServer, app: Flask, clock: FakeClock
) -> None:
    registration, link = register(app, KLASTER, diet="vegan")

    clock.set("2018-08-24T12:00:00+02:00")  # deadline passed (22 August), event not started
    open_page(browser, link)
    assert CONFIRMED in status_of(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "form") == []
    data = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "Rejestracja jest zamknięta – danych nie można już zmienić." in data
    for shown in (registration.id, "Anna Nowak", registration.email, "+48 533 316 283", "wegańska"):
        assert shown in data
    follow(browser, "Rezygnacja z udziału")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Czy na pewno zrezygnować z udziału?"
    follow(browser, "Nie, powrót do zgłoszenia")
    assert browser.current_url == link

    clock.set("2018-08-27T08:00:00+02:00")  # the first day of the event
    open_page(browser, link)
    assert CONFIRMED in status_of(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "form") == []
    assert browser.find_elements(By.PARTIAL_LINK_TEXT, "Rezygnacja z udziału") == []
    data = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "Wydarzenie już się rozpoczęło – rezygnacja przez link nie jest możliwa." in data
    assert "+48 533 316 283" in data and "wegańska" in data
    open_page(browser, f"{link}/rezygnacja")  # kept from before, or typed: nothing to confirm
    assert browser.find_element(By.TAG_NAME, "h1").text == "Rezygnacja nie jest już możliwa"
    assert browser.find_elements(By.CSS_SELECTOR, "form, button") == []
    follow(browser, "Powrót do zgłoszenia")
    assert browser.current_url == link
    assert stored(app, registration.id).status == "confirmed"


def test_a_forged_or_stale_link_gets_the_same_404_page_as_an_unknown_one(
    browser: WebDriver, live_server: LiveServer, app: Flask
) -> None:
    registration, stale = register(app)
    svc = services(app)
    # Staff correct the address: a new link goes out, the old one stops working.
    svc.registrations.set_email(svc.events[OPEN], registration.id, "nowy@example.pl", now=svc.now())
    current = svc.link_for(stored(app, registration.id))
    token = current.rsplit("/", 1)[1]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    base = f"{live_server.url}/wydarzenia/{OPEN}/zgloszenie/"
    unknown = base + "x" * len(token)
    wrong = {
        "stale": stale,
        "forged": base + forged,
        "stale, cancel page": stale + "/rezygnacja",
        "forged, cancel page": base + forged + "/rezygnacja",
        "too long": base + token * 2,
    }

    def seen(url: str) -> tuple[int, bytes, str, str]:
        answer = requests.get(url, timeout=WAIT_SECONDS)
        open_page(browser, url)
        return (
            answer.status_code,
            answer.content,
            browser.title,
            browser.find_element(By.TAG_NAME, "main").text,
        )

    status, body, title, text = seen(unknown)
    assert status == 404 and text.startswith("Nie znaleziono zgłoszenia")
    assert "Nie mam linku do zgłoszenia" in text  # the event's lost-link page is offered
    assert_accessible(browser)
    for kind, url in wrong.items():
        assert seen(url) == (status, body, title, text), kind
    # Another event's slug: the page of an unknown link there, offering that event's page.
    elsewhere = seen(current.replace(f"/{OPEN}/", f"/{KLASTER}/"))
    assert elsewhere == seen(f"{live_server.url}/wydarzenia/{KLASTER}/zgloszenie/x")
    open_page(browser, current)
    assert registration.id in browser.find_element(By.TAG_NAME, "main").text


def test_asking_for_the_link_again_answers_alike_for_any_address_and_mails_only_a_registered_one(
    browser: WebDriver, live_server: LiveServer, app: Flask, smtp_server: Mailbox
) -> None:
    registration, link = register(app)
    delivered(app, smtp_server)

    def ask(email: str) -> str:
        open_form(browser, live_server, OPEN)
        follow(browser, "Nie mam linku do zgłoszenia")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Nie mam linku do zgłoszenia"
        type_into(browser, "email", email)
        submit(browser)
        return str(browser.find_element(By.TAG_NAME, "main").text)

    registered = ask("Anna.Nowak@Example.pl")  # the address as typed this time
    save_screenshot(browser, "link-sent-phone-390")
    unregistered = ask("nikt@example.pl")

    assert registered == unregistered
    assert "Jeśli ten adres jest zgłoszony na to wydarzenie" in registered
    [mail] = delivered(app, smtp_server)
    assert_mail(mail, to=registration.email, subject="Link do zgłoszenia", link=link)


# name: viewport, a phone?, the browser's default font size
SCREENS = {
    "phone-320": (TINY_PHONE, True, DEFAULT_FONT_SIZE),
    "phone-320-large-text": (TINY_PHONE, True, LARGE_FONT_SIZE),
    "phone-360": (SMALL_PHONE, True, DEFAULT_FONT_SIZE),
    "desktop": (DESKTOP, False, DEFAULT_FONT_SIZE),
}
CONTACT_PHONE = "533 316 283"
EVENT_DATES = "27–28 sierpnia 2018"


@pytest.mark.parametrize("screen", SCREENS)
def test_every_participant_page_fits_the_screen_with_marks_phone_numbers_and_dates_in_one_piece(
    screen: str, live_server: LiveServer, app: Flask, clock: FakeClock
) -> None:
    size, phone, font_size = SCREENS[screen]
    _, other_link = register(app, KLASTER, email="jan.kowalski@example.pl")
    with chromium(font_size=font_size) as browser:
        emulate_screen(browser, size, phone=phone)
        open_form(browser, live_server)
        root_font = "return getComputedStyle(document.documentElement).fontSize"
        assert browser.execute_script(root_font) == f"{font_size}px"
        assert_laid_out_well(browser, f"form-{screen}", CONTACT_PHONE, EVENT_DATES)
        submit(browser)
        assert_laid_out_well(browser, f"form-errors-{screen}", CONTACT_PHONE, EVENT_DATES)
        link = register_in_browser(browser, live_server)
        assert_laid_out_well(browser, f"confirmation-{screen}", CONTACT_PHONE, EVENT_DATES)
        browser.refresh()  # the link is shown once: now the page says it went by e-mail
        assert_laid_out_well(browser, f"confirmation-again-{screen}", CONTACT_PHONE)
        open_page(browser, link)
        assert_laid_out_well(browser, f"link-page-{screen}", CONTACT_PHONE, EVENT_DATES)
        follow(browser, "Rezygnacja z udziału")
        assert_laid_out_well(browser, f"cancel-{screen}", CONTACT_PHONE, EVENT_DATES)
        open_page(browser, f"{live_server.url}/wydarzenia/{KLASTER}/przypomnij-link")
        assert_laid_out_well(browser, f"remind-{screen}", CONTACT_PHONE)

        clock.set("2018-08-24T12:00:00+02:00")  # after the deadline: the data without a form
        open_page(browser, link)
        assert_laid_out_well(
            browser, f"link-page-closed-{screen}", CONTACT_PHONE, "+48 533 316 283"
        )
        follow(browser, "Rezygnacja z udziału")
        submit(browser)
        assert_laid_out_well(browser, f"link-page-cancelled-{screen}", CONTACT_PHONE, EVENT_DATES)
        clock.set("2018-08-27T08:00:00+02:00")  # the event has started
        open_page(browser, f"{other_link}/rezygnacja")
        assert_laid_out_well(browser, f"cancel-too-late-{screen}", CONTACT_PHONE)

        open_page(browser, f"{live_server.url}/wydarzenia/{AUTUMN}/")
        assert_laid_out_well(
            browser,
            f"form-across-months-{screen}",
            CONTACT_PHONE,
            "1 października 2018 r.",  # after "30 września –", each in one piece
        )


def test_a_waitlisted_participant_reads_the_waiting_list_never_przyjete(
    browser: WebDriver, live_server: LiveServer, app: Flask, smtp_server: Mailbox
) -> None:
    for n in range(3):  # the open event's three seats
        register(app, email=f"osoba{n}@example.pl", enterprise_name=f"Spółdzielnia nr {n}")
    delivered(app, smtp_server)  # theirs
    open_form(browser, live_server, OPEN)
    assert not browser.find_element(By.ID, "accommodation-tak").is_selected()
    assert not browser.find_element(By.ID, "accommodation-nie").is_selected()
    for field_id, text in PARTICIPANT.items():
        type_into(browser, field_id, text)
    Select(browser.find_element(By.ID, "powiat")).select_by_value("0809")
    click_label(browser, "accommodation-nie")
    click_label(browser, "consent_personal_data")
    submit(browser)

    wait(browser).until(EC.url_to_be(f"{live_server.url}/wydarzenia/{OPEN}/potwierdzenie"))
    assert_styled(browser)
    save_screenshot(browser, "confirmation-waitlisted-phone-390")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.TAG_NAME, "h1").text == "Dziękujemy za zgłoszenie"
    assert "Status: na liście rezerwowej (miejsce 1)" in status_of(browser)
    assert "przyjęt" not in page.casefold()
    assert_accessible(browser)
    [mail] = delivered(app, smtp_server)
    assert "przyjęt" not in str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]

    link = str(browser.find_element(By.CSS_SELECTOR, ".private-link .link a").get_attribute("href"))
    open_page(browser, link)
    assert "przyjęt" not in browser.find_element(By.TAG_NAME, "main").text.casefold()
    follow(browser, "Moje dane – strona do przeczytania")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Moje dane"
    assert "powiat zielonogórski" in browser.find_element(By.TAG_NAME, "main").text
    assert_fits_and_easy_to_tap(browser)
    assert_accessible(browser)


def test_the_accessibility_check_finds_what_axe_core_calls_a_violation(browser: WebDriver) -> None:
    """The check itself: a field without a label and an image without text are caught."""
    browser.get(
        "data:text/html,<!doctype html><html lang=pl><title>t</title><main>"
        "<input id=x><img src=data:, ></main>"
    )

    found = {violation["id"] for violation in axe_violations(browser)}

    assert {"label", "image-alt"} <= found
