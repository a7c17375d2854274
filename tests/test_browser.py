"""The form in a real headless Chromium on a phone-sized screen, with and without JavaScript.

Needs Debian's ``chromium`` and ``chromium-driver``; Selenium Manager is never used. Set
``OWES_SCREENSHOT_DIR`` to a folder to keep full-page screenshots of what the tests saw.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from registrations.models import Registration
from tests.conftest import KLASTER, LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--lang=pl-PL",
)
PHONE = (390, 844)  # a common phone viewport, CSS pixels
SMALL_PHONE = (360, 740)
MIN_FIELD_HEIGHT = 40  # CSS pixels: a comfortable touch target for text fields and selects
MIN_CHOICE_TARGET = 24  # WCAG 2.2 SC 2.5.8 (AA): radio/checkbox plus its label
WAIT_SECONDS = 10
REG_ID = re.compile(r"R-[0-9A-Z]{4}-[0-9A-Z]{4}")
FORM_PATH = f"/wydarzenia/{KLASTER}/"
CONFIRMATION_PATH = f"/wydarzenia/{KLASTER}/potwierdzenie"

PARTICIPANT = {
    "first_name": "Anna",
    "last_name": "Nowak",
    "email": "anna.nowak@example.pl",
    "phone": "533 316 283",
    "enterprise_name": "Spółdzielnia Socjalna Nasze Zaodrze",
    "role": "prezeska",
    "pesel": "02270803624",
}

# The stylesheet links whose sheet is missing or empty (a 404 page is not loaded as CSS).
UNSTYLED_LINKS = """
return [...document.querySelectorAll('link[rel=stylesheet]')]
  .filter((link) => { try { return !link.sheet || link.sheet.cssRules.length === 0; }
                      catch (error) { return true; } })
  .map((link) => link.href);
"""
# A page whose script, when it runs, changes the title.
SCRIPT_PROBE = "data:text/html,<title>off</title><script>document.title = 'on'</script>"

# Every visible control's box, whether the page scrolls sideways, and the widest element.
MEASURE_PAGE = """
const fields = 'form input, form select, form textarea, form button';
const controls = [...document.querySelectorAll(fields)]
  .filter((el) => el.type !== 'hidden' && !el.closest('.hp'))
  .map((el) => {
    const box = el.getBoundingClientRect();
    const label = el.labels && el.labels.length ? el.labels[0].getBoundingClientRect() : null;
    return {id: el.id || el.tagName, type: el.type, width: box.width, height: box.height,
            right: box.right, labelHeight: label ? label.height : 0};
  });
const root = document.documentElement;
let widest = null;
for (const el of document.body.querySelectorAll('*')) {
  const right = el.getBoundingClientRect().right;
  if (!widest || right > widest.right) {
    widest = {tag: el.tagName, id: el.id, cls: String(el.className), right};
  }
}
return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
        innerWidth: window.innerWidth, controls, widest};
"""


def chromium_options(profile: Path, *, javascript: bool) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={PHONE[0]},{PHONE[1]}")
    prefs: dict[str, Any] = {"intl.accept_languages": "pl-PL,pl"}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    return options


def emulate_phone(driver: WebDriver, size: tuple[int, int]) -> None:
    """A phone's viewport: the page's meta viewport is honoured and touch is on."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})


@contextmanager
def chromium(*, javascript: bool = True) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.skip(
            f"Debian's chromium and chromium-driver are not installed ({', '.join(missing)} "
            "missing): apt-get install chromium chromium-driver"
        )
    with tempfile.TemporaryDirectory(prefix="owes-chromium-") as profile:
        service = Service(executable_path=str(CHROMEDRIVER))
        driver = webdriver.Chrome(
            service=service, options=chromium_options(Path(profile), javascript=javascript)
        )
        try:
            driver.set_page_load_timeout(WAIT_SECONDS)
            emulate_phone(driver, PHONE)
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """A fresh headless Chromium (own profile, no cookies) with a phone-sized viewport."""
    with chromium() as driver:
        yield driver


@pytest.fixture
def browser_without_js() -> Iterator[WebDriver]:
    """The same, with JavaScript switched off for every site."""
    with chromium(javascript=False) as driver:
        yield driver


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def open_form(driver: WebDriver, server: LiveServer) -> None:
    driver.get(server.url + FORM_PATH)
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[type=submit]")))
    assert_styled(driver)


def assert_styled(driver: WebDriver) -> None:
    """Every stylesheet the page links to arrived and has rules: unstyled, the form overflows."""
    unstyled = driver.execute_script(UNSTYLED_LINKS)
    assert unstyled == [], f"stylesheets not applied (not served as CSS?): {unstyled}"


def type_into(driver: WebDriver, field_id: str, text: str) -> None:
    field = driver.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)


def click_label(driver: WebDriver, input_id: str) -> WebElement:
    """Tap the label (not the box): only a correctly associated label checks the input."""
    driver.find_element(By.CSS_SELECTOR, f"label[for='{input_id}']").click()
    control = driver.find_element(By.ID, input_id)
    assert control.is_selected(), f"clicking the label of #{input_id} did not check it"
    return control


def fill_form(driver: WebDriver, *, powiat: str = "0809", **changes: str) -> None:
    for field_id, text in {**PARTICIPANT, **changes}.items():
        type_into(driver, field_id, text)
    Select(driver.find_element(By.ID, "powiat")).select_by_value(powiat)
    click_label(driver, "accommodation-tak")
    click_label(driver, "diet-vegetarian")
    click_label(driver, "consent_personal_data")


def submit(driver: WebDriver) -> None:
    button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
    button.click()
    wait(driver).until(EC.staleness_of(button))


def field_value(driver: WebDriver, field_id: str) -> str:
    return str(driver.find_element(By.ID, field_id).get_property("value"))


def registrations(app: Flask) -> list[Registration]:
    with app.extensions["owes"].store.transaction() as session:
        return list(session.scalars(select(Registration)))


def save_screenshot(driver: WebDriver, name: str) -> None:
    """The whole page as phone-screen-high PNGs in $OWES_SCREENSHOT_DIR, when it is set."""
    folder = os.environ.get("OWES_SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width = metrics["cssLayoutViewport"]["clientWidth"]
    height = metrics["cssContentSize"]["height"]
    screen = PHONE[1]
    for number, top in enumerate(range(0, int(height), screen), start=1):
        clip = {"x": 0, "y": top, "width": width, "height": min(screen, height - top), "scale": 1}
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        path = Path(folder) / f"{name}-{number}.png"
        path.write_bytes(base64.b64decode(shot["data"]))


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
    assert "Miejsce jest potwierdzone" in status
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

    page = browser.execute_script(MEASURE_PAGE)

    assert page["innerWidth"] == SMALL_PHONE[0]
    assert page["scrollWidth"] <= page["innerWidth"], page["widest"]
    controls = page["controls"]
    assert len(controls) >= 15
    too_small = []
    for control in controls:
        assert control["right"] <= page["innerWidth"], control
        if control["type"] in ("radio", "checkbox"):
            target = max(control["height"], control["labelHeight"])  # the label checks it too
            if target < MIN_CHOICE_TARGET:
                too_small.append(control)
        elif control["height"] < MIN_FIELD_HEIGHT:
            too_small.append(control)
    assert too_small == []


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
