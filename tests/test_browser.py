"""The participant pages in a real headless Chromium, on phones and on a desktop.

A participant registers, gets their private link on the page and by e-mail (sent to an SMTP
server on loopback), changes and cancels through it. Every page is measured on small phones (also
with large text) and on a desktop: nothing sticks out sideways, controls are big enough to tap,
"(wymagane)" follows its label's words, phone numbers and dates stay on one line. Needs Debian's
``chromium`` and ``chromium-driver``; Selenium Manager is never used. Set ``OWES_SCREENSHOT_DIR``
to a folder to keep full-page screenshots of what the tests saw.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from config.services import Services
from config.settings import Settings
from registrations.models import Registration
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
TINY_PHONE = (320, 568)  # the narrowest phones still in use (iPhone SE 1st generation)
DESKTOP = (1280, 800)
DEFAULT_FONT_SIZE = 16  # CSS pixels, the browsers' default text size
LARGE_FONT_SIZE = 20  # 125 %: "large text" in a phone's settings
MIN_FIELD_HEIGHT = 40  # CSS pixels: a comfortable touch target for text fields and selects
MIN_CHOICE_TARGET = 24  # WCAG 2.2 SC 2.5.8 (AA): radio/checkbox plus its label
MAX_WORD_GAP = 12  # CSS pixels between a label's last word and its mark: a space, not a column
WAIT_SECONDS = 10
REG_ID = re.compile(r"R-[0-9A-Z]{4}-[0-9A-Z]{4}")
FORM_PATH = f"/wydarzenia/{KLASTER}/"
CONFIRMATION_PATH = f"/wydarzenia/{KLASTER}/potwierdzenie"
CONFIRMED = "Miejsce jest potwierdzone."
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
const fields = 'form input, form select, form textarea, form button, a.button';
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
# Each visible "(wymagane)"/"(opcjonalnie)" mark in a label: the box of the label's last words
# before it, the mark's first box, and where the label's lines begin.
MEASURE_MARKS = r"""
return [...document.querySelectorAll('label .req, label .opt')]
  .filter((mark) => mark.getClientRects().length > 0)
  .map((mark) => {
    const label = mark.closest('label');
    const words = document.createRange();
    words.setStart(label, 0);
    words.setEndBefore(mark);
    const boxes = [...words.getClientRects()].filter((box) => box.width > 0);
    const style = getComputedStyle(label);
    const lineStart = label.getBoundingClientRect().left + parseFloat(style.borderLeftWidth)
      + parseFloat(style.paddingLeft);
    return {label: label.textContent.replace(/\s+/g, ' ').trim(),
            wordsEnd: boxes[boxes.length - 1].toJSON(),
            mark: mark.getClientRects()[0].toJSON(), lineStart};
  });
"""
# Every rendered match of the patterns (arguments[0]) in the page's text, with how many lines it
# takes: a Range over the matched characters has one box per line it is laid out on.
MEASURE_LINES = r"""
const found = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  for (const source of arguments[0]) {
    for (const match of node.data.matchAll(new RegExp(source, 'gu'))) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const boxes = [...range.getClientRects()].filter((box) => box.width > 0);
      if (boxes.length) {  // not inside a closed <details> or anything else not shown
        const lines = new Set(boxes.map((box) => Math.round(box.bottom))).size;
        found.push({text: match[0].replace(/\s/g, ' '), lines, in: node.data.trim().slice(0, 80)});
      }
    }
  }
}
return found;
"""
# Phone numbers as the pages write them (533 316 283, +48 533 316 283), an event's days in one
# month (27–28 sierpnia 2018), the pages' dates (22 sierpnia 2018 r.) and the first of two dates
# (30 września 2018 – 1 października 2018 r.): each is kept on one line.
SPACE = r"[\s\u00a0]"
UNBROKEN = (
    rf"(?:\+48{SPACE})?\d{{3}}{SPACE}\d{{3}}{SPACE}\d{{3}}",
    rf"\d{{1,2}}–\d{{1,2}}{SPACE}\p{{L}}+{SPACE}\d{{4}}",
    rf"\d{{1,2}}{SPACE}\p{{L}}+{SPACE}\d{{4}}(?:{SPACE}r\.|(?={SPACE}–))",
)


def chromium_options(
    profile: Path, *, javascript: bool, font_size: int = DEFAULT_FONT_SIZE
) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={PHONE[0]},{PHONE[1]}")
    # The text size people set in their browser or phone; the pages' rem sizes follow it. (A
    # preference, not CDP's Page.setFontSizes: a screenshot beyond the viewport undoes that.)
    prefs: dict[str, Any] = {
        "intl.accept_languages": "pl-PL,pl",
        "webkit.webprefs.default_font_size": font_size,
    }
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations
    return options


def emulate_screen(driver: WebDriver, size: tuple[int, int], *, phone: bool) -> None:
    """A phone's viewport (meta viewport honoured, touch on) or a desktop window's."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": height,
            "screenWidth": width,
            "screenHeight": height,
            "deviceScaleFactor": 2 if phone else 1,
            "mobile": phone,
        },
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone})


def emulate_phone(driver: WebDriver, size: tuple[int, int]) -> None:
    emulate_screen(driver, size, phone=True)


@contextmanager
def chromium(*, javascript: bool = True, font_size: int = DEFAULT_FONT_SIZE) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.skip(
            f"Debian's chromium and chromium-driver are not installed ({', '.join(missing)} "
            "missing): apt-get install chromium chromium-driver"
        )
    with tempfile.TemporaryDirectory(prefix="owes-chromium-") as profile:
        service = Service(executable_path=str(CHROMEDRIVER))
        driver = webdriver.Chrome(
            service=service,
            options=chromium_options(Path(profile), javascript=javascript, font_size=font_size),
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
    """conftest's events, and one across two months: the longest dates the pages write."""
    write_event(
        events_dir,
        AUTUMN,
        title='"Jesienne spotkanie Klastra Przedsiębiorstw Społecznych"',
        short_title='"Jesień 2018"',
        registration_deadline="2018-09-20",
        starts_on="2018-09-30",
        ends_on="2018-10-01",
    )
    return events_dir


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def open_form(driver: WebDriver, server: LiveServer, slug: str = KLASTER) -> None:
    driver.get(f"{server.url}/wydarzenia/{slug}/")
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[type=submit]")))
    assert_styled(driver)


def open_page(driver: WebDriver, url: str) -> None:
    """Load a page (`get` waits until it has loaded) and check that it is styled."""
    driver.get(url)
    assert_styled(driver)


def follow(driver: WebDriver, link_text: str) -> None:
    """Tap a link, as a participant would, and wait for the page it leads to."""
    tap(driver, driver.find_element(By.PARTIAL_LINK_TEXT, link_text))
    assert_styled(driver)


def assert_styled(driver: WebDriver) -> None:
    """Every stylesheet the page links to arrived and has rules: unstyled, the form overflows."""
    unstyled = driver.execute_script(UNSTYLED_LINKS)
    assert unstyled == [], f"stylesheets not applied (not served as CSS?): {unstyled}"
    assert_nothing_blocked(driver)


def assert_nothing_blocked(driver: WebDriver) -> None:
    """The page needs nothing its Content-Security-Policy refuses (inline styles, scripts)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    console = [str(entry["message"]) for entry in entries]
    refused = [message for message in console if "Content Security Policy" in message]
    assert refused == [], refused


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


def tap(driver: WebDriver, element: WebElement) -> None:
    """Tap a button or link that loads a page; wait until that page has loaded (a click does
    not wait for the page it leads to)."""
    element.click()
    # While the next page replaces this one, chromedriver may answer "Node with given id does
    # not belong to the document" instead of "stale element reference": ask again.
    loading = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=[WebDriverException])
    loading.until(EC.staleness_of(element))
    loading.until(lambda d: d.execute_script("return document.readyState") == "complete")


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
    assert text.startswith("Dzień dobry "), text
    assert "Twój prywatny link do zgłoszenia" in text
    assert link in text.splitlines()
    assert f"href='{link}'" in str(html_part.get_content())
    return text


def status_of(driver: WebDriver) -> str:
    """The registration's status in words, as the confirmation and the link page show it."""
    return str(driver.find_element(By.CSS_SELECTOR, ".status-block").text)


def flash_of(driver: WebDriver) -> str:
    return str(wait(driver).until(EC.visibility_of_element_located((By.CLASS_NAME, "flash"))).text)


def save_screenshot(driver: WebDriver, name: str) -> None:
    """The whole page as screen-high PNGs in $OWES_SCREENSHOT_DIR, when it is set."""
    folder = os.environ.get("OWES_SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width = metrics["cssLayoutViewport"]["clientWidth"]
    height = metrics["cssContentSize"]["height"]
    screen = metrics["cssLayoutViewport"]["clientHeight"]
    for number, top in enumerate(range(0, int(height), screen), start=1):
        clip = {"x": 0, "y": top, "width": width, "height": min(screen, height - top), "scale": 1}
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        path = Path(folder) / f"{name}-{number}.png"
        path.write_bytes(base64.b64decode(shot["data"]))


def assert_fits_and_easy_to_tap(driver: WebDriver) -> dict[str, Any]:
    """Nothing sticks out sideways, and every control is big enough to tap; the measurements."""
    page: dict[str, Any] = driver.execute_script(MEASURE_PAGE)
    # Not window.innerWidth: a phone widens its layout viewport to fit what sticks out.
    assert page["scrollWidth"] <= page["clientWidth"], page["widest"]
    too_small = []
    for control in page["controls"]:
        assert control["right"] <= page["clientWidth"], control
        if control["type"] in ("radio", "checkbox"):
            target = max(control["height"], control["labelHeight"])  # the label checks it too
            if target < MIN_CHOICE_TARGET:
                too_small.append(control)
        elif control["height"] < MIN_FIELD_HEIGHT:
            too_small.append(control)
    assert too_small == []
    return page


def assert_marks_follow_their_labels(driver: WebDriver) -> None:
    """Each "(wymagane)"/"(opcjonalnie)" goes on where its label's words end: on the same line,
    a space after them, or at the start of the label's next line; never in a column of its own.
    """
    misplaced = []
    for found in driver.execute_script(MEASURE_MARKS):
        words, mark = found["wordsEnd"], found["mark"]
        overlap = min(mark["bottom"], words["bottom"]) - max(mark["top"], words["top"])
        if overlap > mark["height"] / 2:  # the same line
            follows = 0 <= mark["left"] - words["right"] <= MAX_WORD_GAP
        else:  # the next line, from its start
            follows = (
                abs(mark["left"] - found["lineStart"]) <= 1
                and 0 <= mark["top"] - words["bottom"] < words["height"]
            )
        if not follows:
            misplaced.append(found)
    assert misplaced == []


def assert_unbroken(driver: WebDriver, *shown: str) -> None:
    """No phone number or date on the page is broken across lines, and `shown` are there."""
    found = driver.execute_script(MEASURE_LINES, list(UNBROKEN))
    broken = [item for item in found if item["lines"] != 1]
    assert broken == [], broken
    texts = {item["text"] for item in found}
    assert set(shown) <= texts, texts


def assert_laid_out_well(driver: WebDriver, name: str, *shown: str) -> None:
    """The page as good on this screen as on any other (see the three checks)."""
    try:
        assert_fits_and_easy_to_tap(driver)
        assert_marks_follow_their_labels(driver)
        assert_unbroken(driver, *shown)
    finally:
        save_screenshot(driver, name)


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
    assert "Dzień dobry Anna," in text and f"Numer zgłoszenia: {shown_id}" in text
    assert "Status: potwierdzone" in text
    assert "Termin: 27–28 sierpnia 2018 r." in text

    open_page(browser, link)
    save_screenshot(browser, "link-page-phone-390")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Twoje zgłoszenie"
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
    assert "zapisaliśmy zmiany w Twoim zgłoszeniu" in text
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
    follow(browser, "Zrezygnuj z udziału")
    save_screenshot(browser, "cancel-phone-390")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Czy na pewno chcesz zrezygnować?"
    assert leaving.id in browser.find_element(By.TAG_NAME, "main").text
    assert stored(app, leaving.id).status == "confirmed"  # asking changed nothing
    submit(browser)  # "Tak, rezygnuję z udziału"

    assert browser.current_url == leaving_link
    assert flash_of(browser).startswith("Rezygnacja została zapisana.")
    assert "Zgłoszenie jest anulowane" in status_of(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "form") == []  # nothing left to change
    assert browser.find_elements(By.PARTIAL_LINK_TEXT, "Zrezygnuj") == []
    assert [stored(app, p.id).status for p in (leaving, first, second)] == [
        "cancelled",
        "confirmed",
        "waitlisted",
    ]
    mails = {str(mail["To"]): mail for mail in delivered(app, smtp_server)}
    assert sorted(mails) == [leaving.email, first.email]
    assert_mail(
        mails[leaving.email], to=leaving.email, subject="Rezygnacja przyjęta", link=leaving_link
    )
    text = assert_mail(
        mails[first.email],
        to=first.email,
        subject="Zwolniło się miejsce – Twój udział jest potwierdzony",
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
    follow(browser, "Zrezygnuj z udziału")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Czy na pewno chcesz zrezygnować?"
    follow(browser, "Nie, wróć do zgłoszenia")
    assert browser.current_url == link

    clock.set("2018-08-27T08:00:00+02:00")  # the first day of the event
    open_page(browser, link)
    assert CONFIRMED in status_of(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "form") == []
    assert browser.find_elements(By.PARTIAL_LINK_TEXT, "Zrezygnuj") == []
    data = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "Wydarzenie już się rozpoczęło – rezygnacja przez link nie jest możliwa." in data
    assert "+48 533 316 283" in data and "wegańska" in data
    open_page(browser, f"{link}/rezygnacja")  # kept from before, or typed: nothing to confirm
    assert browser.find_element(By.TAG_NAME, "h1").text == "Rezygnacja nie jest już możliwa"
    assert browser.find_elements(By.CSS_SELECTOR, "form, button") == []
    follow(browser, "Wróć do zgłoszenia")
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
        "another event's": current.replace(f"/{OPEN}/", f"/{KLASTER}/"),
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
    assert status == 404 and text.startswith("Nie ma takiej strony ani wydarzenia.")
    for kind, url in wrong.items():
        assert seen(url) == (status, body, title, text), kind
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
    assert_mail(mail, to=registration.email, subject="Link do Twojego zgłoszenia", link=link)


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
        open_page(browser, link)
        assert_laid_out_well(browser, f"link-page-{screen}", CONTACT_PHONE, EVENT_DATES)
        follow(browser, "Zrezygnuj z udziału")
        assert_laid_out_well(browser, f"cancel-{screen}", CONTACT_PHONE, EVENT_DATES)
        open_page(browser, f"{live_server.url}/wydarzenia/{KLASTER}/przypomnij-link")
        assert_laid_out_well(browser, f"remind-{screen}", CONTACT_PHONE)

        clock.set("2018-08-24T12:00:00+02:00")  # after the deadline: the data without a form
        open_page(browser, link)
        assert_laid_out_well(
            browser, f"link-page-closed-{screen}", CONTACT_PHONE, "+48 533 316 283"
        )
        follow(browser, "Zrezygnuj z udziału")
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
            "30 września 2018",
            "1 października 2018 r.",
        )
