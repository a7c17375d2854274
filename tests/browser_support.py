"""A real headless Chromium for the page tests: phones and desktops, CSP, layout, axe-core.

Needs Debian's ``chromium`` and ``chromium-driver`` (Selenium Manager is never used); without
them the tests that ask for a browser are skipped with the reason. Set ``OWES_SCREENSHOT_DIR`` to
a folder to keep full-page screenshots of what the tests saw.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

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
# The stylesheet links whose sheet is missing or empty (a 404 page is not loaded as CSS).
UNSTYLED_LINKS = """
return [...document.querySelectorAll('link[rel=stylesheet]')]
  .filter((link) => { try { return !link.sheet || link.sheet.cssRules.length === 0; }
                      catch (error) { return true; } })
  .map((link) => link.href);
"""
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


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def open_page(driver: WebDriver, url: str) -> None:
    """Load a page (`get` waits until it has loaded) and check that it is styled."""
    driver.get(url)
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


def tap(driver: WebDriver, element: WebElement) -> None:
    """Tap a button or link that loads a page; wait until that page has loaded (a click does
    not wait for the page it leads to)."""
    element.click()
    # While the next page replaces this one, chromedriver may answer "Node with given id does
    # not belong to the document" instead of "stale element reference": ask again.
    loading = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=[WebDriverException])
    loading.until(EC.staleness_of(element))
    loading.until(lambda d: d.execute_script("return document.readyState") == "complete")


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
    """The page as good on this screen as on any other (see the four checks)."""
    try:
        assert_fits_and_easy_to_tap(driver)
        assert_marks_follow_their_labels(driver)
        assert_unbroken(driver, *shown)
        assert_accessible(driver)
    finally:
        save_screenshot(driver, name)


# axe-core (bundled by selenium-axe-python), the WCAG 2.x A and AA rules.
AXE_SOURCE = files("selenium_axe_python") / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then((results) => done(results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)}))))
  .catch((error) => done([{id: 'axe-error', help: String(error), nodes: []}]));
"""


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the loaded page (the script is injected through
    WebDriver, which the page's CSP does not govern, and removed with the next page)."""
    driver.execute_script(AXE_SOURCE.read_text(encoding="utf-8"))
    driver.set_script_timeout(30)
    found: list[dict[str, Any]] = driver.execute_async_script(RUN_AXE, AXE_TAGS)
    return found


def assert_accessible(driver: WebDriver) -> None:
    """axe-core finds no WCAG 2.x A or AA violation on the page."""
    violations = axe_violations(driver)
    assert violations == [], violations
