"""Registrations in the staff pages in a real headless Chromium, one whole path (issue 18): the
table, a registration taken by phone without an address, its correction, a message to the
participants with its preview and confirmation. Every page is measured on a 360 px phone and a
desktop and checked with axe-core (WCAG 2.x A/AA)."""

from __future__ import annotations

import pytest
import requests
from flask import Flask
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from config.services import services
from config.settings import Settings
from tests.browser_support import (
    DESKTOP,
    SMALL_PHONE,
    assert_laid_out_well,
    click_label,
    emulate_phone,
    emulate_screen,
    open_page,
    tap,
    type_into,
)
from tests.conftest import OPEN, LiveServer, free_port, valid_payload
from tests.staff_support import COORDINATOR, STAFF_LISTS, link_token

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, live_server_port: int) -> Settings:
    return settings.model_copy(
        update={**STAFF_LISTS, "public_base_url": f"http://127.0.0.1:{live_server_port}"}
    )


def measured(driver: WebDriver, name: str) -> None:
    emulate_phone(driver, SMALL_PHONE)
    assert_laid_out_well(driver, f"{name}-phone-360")
    emulate_screen(driver, DESKTOP, phone=False)
    assert_laid_out_well(driver, f"{name}-desktop")
    emulate_phone(driver, SMALL_PHONE)


def main_text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text).replace("\u00a0", " ")


def test_a_coordinator_takes_a_registration_by_phone_corrects_it_and_writes_to_everyone(
    browser: WebDriver, live_server: LiveServer, app: Flask
) -> None:
    base = live_server.url
    answer = requests.post(
        f"{base}/api/events/{OPEN}/registrations",
        json=valid_payload(email="anna@example.pl"),
        timeout=10,
    )
    assert answer.status_code == 201

    open_page(browser, f"{base}/obsluga/logowanie/{link_token(app, COORDINATOR)}")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))
    open_page(browser, f"{base}/obsluga/wydarzenia/{OPEN}/")
    tap(browser, browser.find_element(By.LINK_TEXT, "Zgłoszenia"))
    assert "Anna Nowak" in main_text(browser)
    measured(browser, "staff-registrations")

    # Taken by phone, without an address.
    tap(browser, browser.find_element(By.LINK_TEXT, "Dodaj zgłoszenie"))
    measured(browser, "staff-registration-add")
    for field, value in {
        "first_name": "Halina",
        "last_name": "Kowalczyk",
        "phone": "600 100 200",
        "enterprise_name": "Spółdzielnia Socjalna Razem",
        "birth_date": "",
    }.items():
        type_into(browser, field, value)
    browser.execute_script("document.getElementById('birth_date').value = '1970-05-04'")
    Select(browser.find_element(By.ID, "powiat")).select_by_value("0809")
    click_label(browser, "accommodation-nie")
    click_label(browser, "consent_personal_data")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zapisz zgłoszenie']"))
    assert "nie ma adresu e-mail" in main_text(browser)
    registration_url = browser.current_url
    measured(browser, "staff-registration")

    # A correction: the diet.
    tap(browser, browser.find_element(By.LINK_TEXT, "Poprawki danych"))
    measured(browser, "staff-registration-correct")
    click_label(browser, "diet-vegan")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zapisz poprawki']"))
    assert browser.current_url == registration_url
    assert "Zapisano poprawki: Dieta" in main_text(browser)
    registration_id = registration_url.rsplit("/", 1)[1]
    assert services(app).registrations.by_id(registration_id).diet == "vegan"

    # A message to the confirmed: preview, then send.
    open_page(browser, f"{base}/obsluga/wydarzenia/{OPEN}/wiadomosci")
    measured(browser, "staff-messages")
    type_into(browser, "subject", "Informacje praktyczne")
    type_into(browser, "body", "Dzień dobry,\nzbiórka o 8:00, {imie_nazwisko}.")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Podgląd']"))
    assert "Odbiorcy: 2" in main_text(browser)
    assert "600 100 200" in main_text(browser)
    measured(browser, "staff-message-preview")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Wyślij wiadomość']"))
    assert "Wiadomość wysłana" in main_text(browser)
    measured(browser, "staff-message-sent")
