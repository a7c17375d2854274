"""Polish as an institution writes it: counts declined by Babel's plural rules, dates with `r.`,
no one-letter word at a line's end, and no `Ty` form, gendered pair or `(a)` anywhere."""

from __future__ import annotations

import ast
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from registrations.polish import (
    CONFIRMED_PEOPLE,
    NBSP,
    SEATS,
    date_text,
    datetime_pl,
    nbsp,
    nbsp_html,
    night_text,
    nights_text,
    overbooked,
    plural,
    span_text,
    weekday_date,
)
from tests.wording import informal

PROJECT = Path(__file__).parents[1]
# Where the service's words live: every template, and every string in these packages.
WORDED_PACKAGES = ("forms", "mail", "registrations", "staff", "privacy", "config", "jobs", "sheets")


@pytest.mark.parametrize(
    ("n", "people", "seats"),
    [
        (1, "1 potwierdzona osoba", "1 miejsce"),
        (2, "2 potwierdzone osoby", "2 miejsca"),
        (5, "5 potwierdzonych osób", "5 miejsc"),
        (12, "12 potwierdzonych osób", "12 miejsc"),
        (22, "22 potwierdzone osoby", "22 miejsca"),
        (25, "25 potwierdzonych osób", "25 miejsc"),
    ],
)
def test_counts_take_the_polish_plural_form_babel_chooses(n: int, people: str, seats: str) -> None:
    assert CONFIRMED_PEOPLE(n) == people
    assert SEATS(n) == seats
    assert plural(n, "miejsce", "miejsca", "miejsc") == seats


def test_overbooking_is_said_in_words() -> None:
    assert overbooked(5, 3) == "5 potwierdzonych osób na 3 miejsca – 2 ponad limit"
    assert overbooked(22, 30) == "22 potwierdzone osoby na 30 miejsc"
    assert overbooked(1, 1) == "1 potwierdzona osoba na 1 miejsce"


def test_dates_read_the_polish_way_with_r() -> None:
    assert date_text(date(2018, 8, 27)) == "27 sierpnia 2018 r."
    assert span_text(date(2018, 8, 27), date(2018, 8, 28)) == "27–28 sierpnia 2018 r."
    assert span_text(date(2018, 8, 31), date(2018, 9, 2)) == "31 sierpnia – 2 września 2018 r."
    assert (
        span_text(date(2018, 12, 31), date(2019, 1, 2)) == "31 grudnia 2018 r. – 2 stycznia 2019 r."
    )
    assert weekday_date(date(2018, 8, 27)) == "poniedziałek, 27 sierpnia 2018 r."
    assert weekday_date(date(2018, 8, 28)) == "wtorek, 28 sierpnia 2018 r."
    moment = datetime(2018, 8, 22, 14, 3, tzinfo=ZoneInfo("Europe/Warsaw"))
    assert datetime_pl(moment) == "22 sierpnia 2018 r., godz. 14:03"


def test_nights_are_named_from_one_day_to_the_next() -> None:
    assert nights_text(date(2018, 8, 27), date(2018, 8, 28)) == "Nocleg z 27 na 28 sierpnia 2018 r."
    assert night_text(date(2018, 8, 31)) == "z 31 sierpnia na 1 września 2018 r."
    assert (
        nights_text(date(2018, 8, 27), date(2018, 8, 30))
        == "Noclegi od 27 do 30 sierpnia 2018 r. (3 noce)"
    )


def test_a_one_letter_word_is_bound_to_the_next_in_either_case() -> None:
    text = "Spotkanie w Lubniewicach i z OWES, a potem W drogę o 9, u nas."
    assert nbsp(text) == (
        f"Spotkanie w{NBSP}Lubniewicach i{NBSP}z{NBSP}OWES, a{NBSP}potem W{NBSP}drogę "
        f"o{NBSP}9, u{NBSP}nas."
    )
    assert nbsp("dane@a.pl, tel. 533") == "dane@a.pl, tel. 533"  # inside an address: no word


def test_html_text_is_bound_but_never_tags_attributes_or_form_values() -> None:
    html = (
        '<p title="w domu">Pokój w <a href="/a b">hotelu</a> i z widokiem</p>'
        '<input value="a b w c"><textarea>w domu a u nas</textarea>'
    )
    bound = nbsp_html(html)

    assert f"Pokój w{NBSP}<a" in bound  # the next word is inside the link: still one line
    assert f"i{NBSP}z{NBSP}widokiem" in bound
    assert 'title="w domu"' in bound and 'href="/a b"' in bound
    assert '<input value="a b w c">' in bound
    assert "<textarea>w domu a u nas</textarea>" in bound


def _strings_of(path: Path) -> list[str]:
    """Every string constant of a module but its docstrings (English, for developers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_template_or_message_uses_ty_forms_gendered_pairs_or_a_endings() -> None:
    found: dict[str, list[str]] = {}
    for template in sorted((PROJECT / "forms" / "templates").glob("*.html")):
        if words := informal(template.read_text(encoding="utf-8")):
            found[str(template.relative_to(PROJECT))] = words
    for package in WORDED_PACKAGES:
        for module in sorted((PROJECT / package).rglob("*.py")):
            words = [word for text in _strings_of(module) for word in informal(text)]
            if words:
                found[str(module.relative_to(PROJECT))] = words
    for data in [
        PROJECT / "config" / "organisation.toml",
        *(PROJECT / "config" / "events").glob("*.toml"),
    ]:
        if words := informal(data.read_text(encoding="utf-8")):
            found[str(data.relative_to(PROJECT))] = words
    assert found == {}


def test_the_scan_finds_what_it_looks_for() -> None:
    """The scan itself: each kind of slip is caught, dates and addresses are not slips."""
    assert informal("Możesz zrezygnować") == ["Możesz"]
    assert informal("Twoje zgłoszenie") == ["Twoje"]
    assert informal("Podaj adres, którego użyłeś/użyłaś") == ["użyłeś", "użyłaś", "Podaj"]
    assert informal("Zapisany(a) uczestnik") == ["y(a)"]
    assert informal("Skontaktuj się z Pani") == ["Skontaktuj", "Pani"]
    assert informal("Prosimy o kontakt: https://example.pl/ty/masz 27.08.2018") == []
