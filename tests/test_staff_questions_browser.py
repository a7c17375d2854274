"""The event's questions in the staff's registration pages in a real headless Chromium: the
table with the answers' columns, the message narrowed to one stop, `Dodaj zgłoszenie` with the
questions. Every page is measured on a 360 px phone and a desktop and checked with axe-core
(WCAG 2.x A/AA)."""

from __future__ import annotations

import pytest
import requests
from flask import Flask
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from config.services import services
from config.settings import Settings
from registrations.question_editing import QuestionEditor, QuestionForm
from sheets.rows import HEADERS
from tests.browser_support import open_page, tap, type_into
from tests.conftest import OPEN, FakeClock, LiveServer, free_port, valid_payload
from tests.staff_support import COORDINATOR, STAFF_LISTS, link_token
from tests.test_staff_registrations_browser import main_text, measured

pytestmark = pytest.mark.browser

STOPS = (
    "Żary, dworzec PKP, przystanek autobusowy przy wejściu głównym | 10 | odjazd 7:00\n"
    "Zielona Góra, ul. Dworcowa | | odjazd 8:00"
)


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, live_server_port: int) -> Settings:
    return settings.model_copy(
        update={**STAFF_LISTS, "public_base_url": f"http://127.0.0.1:{live_server_port}"}
    )


def test_the_answers_columns_the_stop_filter_and_the_questions_on_a_phone(
    browser: WebDriver, live_server: LiveServer, app: Flask, clock: FakeClock
) -> None:
    svc = services(app)
    editor = QuestionEditor(svc.store, HEADERS)
    stop = editor.add(
        svc.events[OPEN],
        QuestionForm("Miejsce wsiadania", "wybor", choices=STOPS),
        by=COORDINATOR,
        now=clock.now,
    )
    zary = stop.choices[0].key
    for form in (
        QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"),
        QuestionForm("Uwagi do zakwaterowania i przejazdu", "tekst_dlugi"),
    ):
        editor.add(svc.events[OPEN], form, by=COORDINATOR, now=clock.now)
    base = live_server.url
    long_note = "Proszę o pokój na parterze, blisko windy, z dala od sali konferencyjnej. " * 4
    for n, chosen in enumerate([zary, ""]):
        answers = {
            "posilki": ["obiad", "kolacja"],
            "uwagi_do_zakwaterowania_i_przejazdu": long_note,
        }
        if chosen:
            answers["miejsce_wsiadania"] = chosen
        answer = requests.post(
            f"{base}/api/events/{OPEN}/registrations",
            json=valid_payload(
                email=f"p{n}@example.pl", enterprise_name=f"Spółdzielnia {n}", answers=answers
            ),
            timeout=10,
        )
        assert answer.status_code == 201, answer.json()

    open_page(browser, f"{base}/obsluga/logowanie/{link_token(app, COORDINATOR)}")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))
    open_page(browser, f"{base}/obsluga/wydarzenia/{OPEN}/zgloszenia")
    assert "Żary, dworzec PKP, przystanek autobusowy" in main_text(browser)
    measured(browser, "staff-registrations-answers")

    open_page(browser, f"{base}/obsluga/wydarzenia/{OPEN}/wiadomosci")
    measured(browser, "staff-messages-by-stop")
    type_into(browser, "subject", "Zbiórka w Żarach")
    type_into(browser, "body", "Dzień dobry,\nzbiórka o 7:00, {imie_nazwisko}.")
    Select(browser.find_element(By.ID, "wybor.miejsce_wsiadania")).select_by_value(zary)
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Podgląd']"))
    assert "Odbiorcy: 1" in main_text(browser)
    measured(browser, "staff-message-preview-by-stop")

    open_page(browser, f"{base}/obsluga/wydarzenia/{OPEN}/zgloszenia/nowe")
    assert "Pytania organizatora" in main_text(browser)
    measured(browser, "staff-registration-add-questions")
