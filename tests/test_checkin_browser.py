"""The check-in pages in a real headless Chromium on a 360 px phone, checked with axe-core:
the day's list, scanning mode, a code opened as a phone's camera app opens it, the page the
same code shows without a session, and the private page with its QR code."""

from __future__ import annotations

import pytest
from flask import Flask
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from sqlalchemy import select

from checkin.models import Presence
from config.services import services
from config.settings import Settings
from registrations.models import Registration
from tests.browser_support import (
    DESKTOP,
    SMALL_PHONE,
    assert_laid_out_well,
    emulate_phone,
    emulate_screen,
    open_page,
    tap,
)
from tests.checkin_support import PEOPLE, code_of, register
from tests.conftest import KLASTER, FakeClock, LiveServer, free_port
from tests.staff_support import CHECKIN, STAFF_LISTS, link_token

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
    emulate_screen(driver, DESKTOP, phone=False)
    assert_laid_out_well(driver, f"{name}-desktop")
    emulate_phone(driver, SMALL_PHONE)
    assert_laid_out_well(driver, f"{name}-phone-360")


def test_checkin_on_a_phone(
    browser: WebDriver, live_server: LiveServer, app: Flask, clock: FakeClock
) -> None:
    base = live_server.url
    ids = [register(app, n, first, last) for n, (first, last) in enumerate(PEOPLE)]
    svc = services(app)
    with svc.store.reading() as session:
        anna = session.scalar(select(Registration).where(Registration.id == ids[0]))
        assert anna is not None
        private = svc.link_for(anna)
    emulate_phone(browser, SMALL_PHONE)
    open_page(browser, private)
    assert browser.find_element(By.CSS_SELECTOR, ".checkin-code figcaption").text == ids[0]
    measured(browser, "private-page-with-checkin-code")

    clock.set("2018-08-27T08:42:00+02:00")
    code = code_of(app, ids[0])
    open_page(browser, f"{base}/o/{code}")  # not signed in: the same page for every code
    assert (
        "Prosimy pokazać ten kod organizatorom." in browser.find_element(By.TAG_NAME, "main").text
    )
    assert "Nowak" not in browser.page_source
    measured(browser, "checkin-code-public")

    open_page(browser, f"{base}/obsluga/logowanie/{link_token(app, CHECKIN)}")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))
    assert browser.current_url == f"{base}/obsluga/obecnosc"
    measured(browser, "checkin-events")
    tap(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Wyjazdowe"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Obecność 27.08"
    measured(browser, "checkin-list")
    tap(browser, browser.find_element(By.XPATH, "//button[starts-with(., 'Obecność – Zofia')]"))
    assert "Obecnych: 1 z 3" in browser.find_element(By.CLASS_NAME, "checkin-count").text
    measured(browser, "checkin-list-marked")

    open_page(browser, f"{base}/o/{code}")  # scanning off: one button
    measured(browser, "checkin-code-button")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Odnotuj obecność']"))
    answer = browser.find_element(By.CLASS_NAME, "checkin-answer").text
    assert answer == "Anna Nowak – obecność odnotowana 27.08, 08:42"
    measured(browser, "checkin-code-recorded")

    open_page(browser, f"{base}/obsluga/wydarzenia/{KLASTER}/obecnosc")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Skanowanie']"))
    open_page(browser, f"{base}/o/{code_of(app, ids[1])}")  # as a camera app opens it
    answer = browser.find_element(By.CLASS_NAME, "checkin-answer").text
    assert answer == "Łukasz Żak – obecność odnotowana 27.08, 08:42"
    open_page(browser, f"{base}/o/{code_of(app, ids[1])}")
    assert browser.find_element(By.CLASS_NAME, "checkin-answer").text == (
        "obecność już odnotowana o 08:42"
    )
    measured(browser, "checkin-code-again")
    with svc.store.reading() as session:
        assert len(list(session.scalars(select(Presence)))) == 3


def test_certificate_pages_on_a_phone(
    browser: WebDriver, live_server: LiveServer, app: Flask, clock: FakeClock
) -> None:
    from certificates.issue import make_certificates
    from certificates.models import Certificate
    from checkin.presence import record_presence

    base = live_server.url
    ids = [register(app, n, first, last) for n, (first, last) in enumerate(PEOPLE)]
    svc = services(app)
    event = svc.events[KLASTER]
    with svc.store.transaction() as session:
        for registration in session.scalars(select(Registration)):
            if registration.id != ids[2]:
                for day in event.days:
                    record_presence(
                        session, event, registration, day, now=svc.now(), by="x", source="x"
                    )
    clock.set("2018-08-29T10:00:00+02:00")
    make_certificates(svc).send(event, svc.now(), "x")
    with svc.store.reading() as session:
        code = session.scalars(
            select(Certificate.code).where(Certificate.registration_id == ids[0])
        ).one()
    emulate_phone(browser, SMALL_PHONE)
    open_page(browser, f"{base}/zaswiadczenie/{code}")
    assert "A. N." in browser.find_element(By.TAG_NAME, "main").text
    measured(browser, "certificate-verified")
    open_page(browser, f"{base}/zaswiadczenie/nieznany")
    assert "Nie można potwierdzić" in browser.find_element(By.TAG_NAME, "main").text
    measured(browser, "certificate-unverified")

    open_page(browser, f"{base}/obsluga/logowanie/{link_token(app, 'koordynatorka@example.pl')}")
    tap(browser, browser.find_element(By.XPATH, "//button[text()='Zaloguj się']"))
    open_page(browser, f"{base}/obsluga/wydarzenia/{KLASTER}/listy")
    measured(browser, "lists-with-presence-and-certificates")
    open_page(browser, f"{base}/obsluga/wydarzenia/{KLASTER}/zaswiadczenia")
    assert "nr 1/2018" in browser.find_element(By.TAG_NAME, "main").text
    measured(browser, "certificates-staff")
