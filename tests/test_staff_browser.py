"""The staff pages in a real headless Chromium, one whole path: sign in through the e-mailed
link, create a draft, see it 404 publicly, publish it, register through the form and the API,
find the rows in the sheet (the Sheets API emulator), download a list. Every staff page is
measured on a 360 px phone and a desktop, and checked with axe-core (WCAG 2.x A/AA)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from flask import Flask
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from config.services import services
from config.settings import Settings
from sheets.rows import ID_HEADER
from tests.browser_support import (
    DESKTOP,
    SMALL_PHONE,
    assert_laid_out_well,
    assert_styled,
    click_label,
    emulate_phone,
    emulate_screen,
    open_page,
    tap,
    type_into,
    wait,
)
from tests.conftest import LiveServer, Mailbox, free_port, valid_payload
from tests.staff_support import COORDINATOR, STAFF_LISTS, link_token

pytestmark = pytest.mark.browser

TITLE = "Wizyta studyjna w Nietkowicach"
SLUG = "wizyta-studyjna-w-nietkowicach-2026-10"
WORKSHEET = "Zgłoszenia – Nietkowice"


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def spreadsheet(sheets_emulator: Any) -> str:
    found: str = sheets_emulator.create_spreadsheet("Zgłoszenia OWES")
    return found


@pytest.fixture
def settings(
    settings: Settings,
    live_server_port: int,
    smtp_server: Mailbox,
    sheets_emulator: Any,
    spreadsheet: str,
) -> Settings:
    """Links to the live server, mail to `smtp_server`, rows to the emulator's spreadsheet."""
    return settings.model_copy(
        update={
            **STAFF_LISTS,
            "public_base_url": f"http://127.0.0.1:{live_server_port}",
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "sheets_emulator_host": sheets_emulator.host_port,
            "sheets_spreadsheet_id": spreadsheet,
            "sheets_in_flight_settle_seconds": 0.0,
        }
    )


@pytest.fixture
def closing(app: Flask) -> Iterator[None]:
    yield
    services(app).sink.close()  # type: ignore[attr-defined]


def delivered(app: Flask, mailbox: Mailbox) -> list[EmailMessage]:
    services(app).mail_worker.run_once()
    received = list(mailbox.messages)
    mailbox.messages.clear()
    return received


def measured(driver: WebDriver, name: str, *shown: str) -> None:
    """The page laid out well and accessible on a 360 px phone and on a desktop."""
    emulate_phone(driver, SMALL_PHONE)
    assert_laid_out_well(driver, f"{name}-phone-360", *shown)
    emulate_screen(driver, DESKTOP, phone=False)
    assert_laid_out_well(driver, f"{name}-desktop", *shown)
    emulate_phone(driver, SMALL_PHONE)


def test_a_coordinator_signs_in_creates_publishes_and_downloads_without_a_terminal(
    browser: WebDriver,
    live_server: LiveServer,
    app: Flask,
    smtp_server: Mailbox,
    sheets_emulator: Any,
    spreadsheet: str,
    closing: None,
) -> None:
    svc = services(app)
    base = live_server.url

    # Signing in: the page asks for an address, the link comes by e-mail.
    open_page(browser, f"{base}/obsluga/")
    assert browser.current_url == f"{base}/obsluga/logowanie?dalej=%2Fobsluga%2F"
    measured(browser, "staff-sign-in")
    type_into(browser, "email", "Koordynatorka@example.pl")
    tap(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    assert "Jeśli ten adres jest na liście" in browser.find_element(By.TAG_NAME, "main").text
    [message] = delivered(app, smtp_server)
    assert message["To"] == COORDINATOR
    body = message.get_body(("plain",))
    assert body is not None
    link = re.search(r"http://\S+/obsluga/logowanie/\S+", body.get_content())
    assert link is not None
    open_page(browser, link.group(0))
    measured(browser, "staff-sign-in-link")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))
    assert browser.current_url == f"{base}/obsluga/"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Wydarzenia"
    measured(browser, "staff-events")
    open_page(browser, link.group(0))  # used: it says so and offers to ask again
    assert "został już użyty" in browser.find_element(By.TAG_NAME, "main").text
    measured(browser, "staff-sign-in-link-used")
    open_page(browser, f"{base}/obsluga/")

    # A new event: only its title, dates, deadline, capacity and venue need typing.
    tap(browser, browser.find_element(By.LINK_TEXT, "Nowe wydarzenie"))
    measured(browser, "staff-new-event")
    for field, value in {
        "title": TITLE,
        "short_title": "Nietkowice",
        "venue": "Nietkowice, Spółdzielnia Socjalna Nasze Zaodrze",
        "capacity": "1",
    }.items():
        type_into(browser, field, value)
    for field, value in {
        "starts_on": "2026-10-05",
        "ends_on": "2026-10-05",
        "registration_deadline": "2026-09-28",
    }.items():
        browser.execute_script(f"document.getElementById('{field}').value = '{value}'")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Utwórz szkic']"))
    assert browser.current_url == f"{base}/obsluga/wydarzenia/{SLUG}/"
    assert "szkic" in browser.find_element(By.CLASS_NAME, "badges").text
    measured(browser, "staff-event-draft", "5 października 2026 r.")

    # A draft is nowhere public.
    assert requests.get(f"{base}/wydarzenia/{SLUG}/", timeout=10).status_code == 404
    assert (
        requests.post(
            f"{base}/api/events/{SLUG}/registrations", json=valid_payload(), timeout=10
        ).status_code
        == 404
    )
    tap(browser, browser.find_element(By.LINK_TEXT, "Podgląd"))
    measured(browser, "staff-preview")
    browser.back()
    open_page(browser, f"{base}/obsluga/wydarzenia/{SLUG}/usuniecie")
    measured(browser, "staff-delete-confirm")
    browser.back()

    # Published: registrations through the form and through the API.
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Opublikuj']"))
    assert "opublikowane – zapisy otwarte" in browser.find_element(By.CLASS_NAME, "badges").text
    participant = browser.current_window_handle
    browser.switch_to.new_window("tab")
    open_page(browser, f"{base}/wydarzenia/{SLUG}/")
    for field, value in {
        "first_name": "Anna",
        "last_name": "Nowak",
        "email": "anna.nowak@example.pl",
        "phone": "533 316 283",
        "enterprise_name": "Spółdzielnia Socjalna Nasze Zaodrze",
        "pesel": "02270803624",
    }.items():
        type_into(browser, field, value)
    Select(browser.find_element(By.ID, "powiat")).select_by_value("0809")
    click_label(browser, "diet-vegetarian")
    click_label(browser, "consent_personal_data")
    tap(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    form_id = browser.find_element(By.CLASS_NAME, "reg-id").text
    browser.close()
    browser.switch_to.window(participant)
    api = requests.post(
        f"{base}/api/events/{SLUG}/registrations",
        json=valid_payload(email="jan@example.pl", enterprise_name="Spółdzielnia My"),
        timeout=10,
    )
    assert api.status_code == 201 and api.json()["status"] == "waitlisted"

    # Rows in the staff's sheet.
    svc.worker.run_once()
    grid = sheets_emulator.values(spreadsheet, WORKSHEET)
    column = grid[0].index(ID_HEADER)
    assert [row[column] for row in grid[1:]] == [form_id, api.json()["id"]]

    # The lists, downloaded with the coordinator's session.
    browser.refresh()
    tap(browser, browser.find_element(By.LINK_TEXT, "Listy"))
    assert_styled(browser)
    measured(browser, "staff-lists")
    href = browser.find_element(By.XPATH, "//a[starts-with(., 'XLSX')]").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    download = requests.get(str(href), cookies=cookies, timeout=30)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{SLUG}-participants.xlsx"'
    )
    assert requests.get(str(href), timeout=30).history[0].status_code == 302  # no session

    # The event's form, the history: laid out and accessible too.
    open_page(browser, f"{base}/obsluga/wydarzenia/{SLUG}/edycja")
    measured(browser, "staff-edit-live")
    open_page(browser, f"{base}/obsluga/historia")
    entries = browser.find_elements(By.CSS_SELECTOR, "ol.history > li")
    assert "pobranie listy" in entries[0].text
    measured(browser, "staff-history")
    open_page(browser, f"{base}/obsluga/wydarzenia/{SLUG}/zamkniecie")
    measured(browser, "staff-close-confirm")


def test_the_form_tells_mistakes_beside_the_fields_on_a_phone(
    browser: WebDriver, live_server: LiveServer, app: Flask, closing: None
) -> None:
    open_page(browser, f"{live_server.url}/obsluga/logowanie/{link_token(app, COORDINATOR)}")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))
    open_page(browser, f"{live_server.url}/obsluga/wydarzenia/nowe")
    type_into(browser, "capacity", "dużo")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Utwórz szkic']"))

    summary = wait(browser).until(
        EC.visibility_of_element_located((By.CLASS_NAME, "error-summary"))
    )
    assert "Liczba miejsc: Należy podać liczbę całkowitą" in summary.text
    field = browser.find_element(By.ID, "capacity")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("value") == "dużo"
    measured(browser, "staff-new-event-errors")
