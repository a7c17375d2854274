"""One whole path of the event's questions in a real headless Chromium: the coordinator adds a
stop with one seat on the staff page; a participant picks it on the form (phone) and sees it on
the confirmation; the next one finds it `brak miejsc`; the answer is in the workbook under its
label and on the bus list. The pages are checked with axe-core (WCAG 2.x A/AA)."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
import requests
from flask import Flask
from pypdf import PdfReader
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from config.settings import Settings
from sheets.factory import make_syncer
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
    wait,
)
from tests.conftest import KLASTER, LiveServer, free_port
from tests.sheet_harness import WorkbookStaff
from tests.staff_support import COORDINATOR, STAFF_LISTS, link_token

pytestmark = pytest.mark.browser

STOP = "answers.miejsce_wsiadania"


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, live_server_port: int) -> Settings:
    return settings.model_copy(
        update={**STAFF_LISTS, "public_base_url": f"http://127.0.0.1:{live_server_port}"}
    )


def measured(driver: WebDriver, name: str) -> None:
    emulate_screen(driver, DESKTOP, phone=False)
    assert_laid_out_well(driver, f"{name}-desktop")
    emulate_phone(driver, SMALL_PHONE)
    assert_laid_out_well(driver, f"{name}-phone-360")


def fill_participant(driver: WebDriver, email: str) -> None:
    for field, text in {
        "first_name": "Anna",
        "last_name": "Nowak",
        "email": email,
        "phone": "533 316 283",
        "enterprise_name": "Spółdzielnia Socjalna Nasze Zaodrze",
        "pesel": "02270803624",
    }.items():
        type_into(driver, field, text)
    Select(driver.find_element(By.ID, "powiat")).select_by_value("0809")
    click_label(driver, "accommodation-tak")
    click_label(driver, "consent_personal_data")


def test_a_question_added_on_the_staff_page_is_answered_in_the_browser_and_listed(
    browser: WebDriver, live_server: LiveServer, app: Flask, settings: Settings
) -> None:
    base = live_server.url
    open_page(browser, f"{base}/obsluga/logowanie/{link_token(app, COORDINATOR)}")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))

    open_page(browser, f"{base}/obsluga/wydarzenia/{KLASTER}/")
    tap(browser, browser.find_element(By.LINK_TEXT, "Pytania"))
    measured(browser, "questions-empty")
    type_into(browser, "nowe-label", "Miejsce wsiadania")
    Select(browser.find_element(By.ID, "nowe-kind")).select_by_visible_text("Jedna z listy")
    type_into(browser, "nowe-choices", "Żary, dworzec PKP | 1 | odjazd 7:00\nZielona Góra")
    click_label(browser, "nowe-required")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Dodaj pytanie']"))
    assert "Pytanie zostało dodane." in browser.find_element(By.CLASS_NAME, "flash").text
    assert "miejsce_wsiadania" in browser.find_element(By.TAG_NAME, "main").text
    measured(browser, "questions-one")

    # A participant on a phone picks the stop.
    emulate_phone(browser, SMALL_PHONE)
    open_page(browser, f"{base}/wydarzenia/{KLASTER}/")
    fill_participant(browser, "anna.nowak@example.pl")
    click_label(browser, STOP)
    tap(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    wait(browser).until(EC.url_to_be(f"{base}/wydarzenia/{KLASTER}/potwierdzenie"))
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Odpowiedzi na pytania organizatora" in main and "Żary, dworzec PKP" in main
    measured(browser, "questions-confirmation")

    # The next one finds the seat taken; the other stop is left to choose.
    open_page(browser, f"{base}/wydarzenia/{KLASTER}/")
    full = browser.find_element(By.ID, STOP)
    assert not full.is_enabled()
    label = browser.find_element(By.CSS_SELECTOR, f"label[for='{STOP}']").text
    assert "(brak miejsc)" in label
    measured(browser, "questions-form-full")

    # The answer in the workbook under its label, and on the bus list.
    svc = app.extensions["owes"]
    event = svc.events[KLASTER]
    assert make_syncer(svc, logging.getLogger("test")).sync_event(event) is not None
    grid = WorkbookStaff(svc.instance_path).grid(event)
    column = grid[0].index("Miejsce wsiadania")
    assert [row[column] for row in grid[1:]] == ["Żary, dworzec PKP"]
    cookies: Any = {c["name"]: c["value"] for c in browser.get_cookies()}
    pdf = requests.get(
        f"{base}/obsluga/wydarzenia/{KLASTER}/listy/choice.pdf",
        params={"pytanie": "miejsce_wsiadania"},
        cookies=cookies,
        timeout=30,
    )
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Nowak" in text and "(1 osoba)" in text.replace("\xa0", " ")
