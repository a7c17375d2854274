"""The answer pages (issue 19) in a real headless Chromium, on a phone and a desktop: laid out
well and without WCAG 2.x A/AA violations (axe); the button answers, opening the page does not.
Skipped with the reason without Debian's chromium and chromium-driver."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from sqlalchemy import select

from config.services import Services
from config.settings import Settings
from registrations.models import Registration
from tests.browser_support import (
    DESKTOP,
    PHONE,
    assert_accessible,
    assert_laid_out_well,
    chromium,
    emulate_screen,
    open_page,
    tap,
)
from tests.conftest import FakeClock, LiveServer, free_port, valid_payload, write_event

EVENT = "wyjazd"
CONTACT_PHONE = "533 316 283"


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "events"
    write_event(folder, EVENT, capacity=1, short_title='"Wyjazd"', max_per_enterprise=10)
    return folder


@pytest.fixture
def settings(settings: Settings, live_server_port: int) -> Settings:
    return settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{live_server_port}"})


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def status(app: Flask, registration_id: str) -> str:
    with svc(app).store.reading() as session:
        found = session.scalar(
            select(Registration.status).where(Registration.id == registration_id)
        )
    assert found is not None
    return found


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_the_answer_pages_are_laid_out_well_and_accessible(
    screen: str, app: Flask, live_server: LiveServer, clock: FakeClock
) -> None:
    client = app.test_client()
    clock.set("2018-08-10T12:00:00+02:00")
    links = []
    for i in range(2):
        answer = client.post(
            f"/api/events/{EVENT}/registrations",
            json=valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Firma {i}"),
        )
        assert answer.status_code == 201
        links.append(answer.get_json())
    confirmed, waiting = links
    clock.set("2018-08-24T10:00:00+02:00")
    with chromium() as browser:
        emulate_screen(browser, PHONE if screen == "phone" else DESKTOP, phone=screen == "phone")
        open_page(browser, confirmed["manage_url"] + "/udzial?odpowiedz=tak")
        assert_laid_out_well(browser, f"answer-yes-{screen}", CONTACT_PHONE)
        open_page(browser, confirmed["manage_url"] + "/udzial?odpowiedz=nie")
        assert_laid_out_well(browser, f"answer-no-{screen}", CONTACT_PHONE)
        open_page(browser, confirmed["manage_url"] + "/udzial?odpowiedz=")
        assert_laid_out_well(browser, f"answer-unknown-{screen}", CONTACT_PHONE)
        assert status(app, confirmed["id"]) == "confirmed"  # opening the pages changed nothing

        open_page(browser, confirmed["manage_url"] + "/udzial?odpowiedz=nie")
        tap(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert "Rezygnacja została zapisana" in browser.page_source
        assert status(app, confirmed["id"]) == "cancelled"

        # The seat is offered to the waiting person; its e-mail handed over, the offer opens.
        svc(app).mail_worker.run_once()
        svc(app).worker.run_once()
        open_page(browser, waiting["manage_url"] + "/udzial?odpowiedz=tak")
        assert "Miejsce czeka na to zgłoszenie" in browser.page_source
        assert_laid_out_well(browser, f"answer-offer-{screen}", CONTACT_PHONE)
        tap(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert status(app, waiting["id"]) == "confirmed"
        open_page(browser, waiting["manage_url"] + "/moje-dane.html")
        assert "Oferta przyjęta" in browser.page_source
        assert_accessible(browser)  # (dates in its tables wrap on a phone, as they did before)
