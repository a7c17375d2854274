"""The lists staff send as printed: the caterer's (meals per day, breakfast only for those
staying), the hotel's (the night, blank room columns), the EU project's attendance list, the
image-consent marks; read back with openpyxl and pypdf."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from app import create_app
from config.settings import ConfigurationError, Settings
from registrations.polish import NBSP
from tests.conftest import KLASTER, FakeClock, valid_payload, write_event, write_open_event
from tests.wording import informal

URL = f"/api/events/{KLASTER}/registrations"
PEOPLE = [
    # staying the night, vegetarian, image consent given
    valid_payload(email="a@example.pl", first_name="Anna", last_name="Nowak", consent_image=True),
    # going home after the first day: no breakfast
    valid_payload(
        email="b@example.pl",
        first_name="Bogdan",
        last_name="Zieliński",
        accommodation=False,
        diet="vegan",
        phone="+48 601 222 333",
        pesel="02270803624",
    ),
    # staying, another diet with a note; no image consent
    valid_payload(
        email="c@example.pl",
        first_name="Celina",
        last_name="Adamska",
        diet="other",
        diet_other="bez laktozy",
        pesel=None,
        birth_date="1980-05-06",
        enterprise_name="Spółdzielnia Socjalna w Lubniewicach i z okolic – a także o nazwie u nas",
    ),
]


def app_with(tmp_path: Path, clock: FakeClock, settings: Settings, **event: Any) -> Flask:
    folder = tmp_path / "events-lists"
    write_event(folder, KLASTER, **event)
    app = create_app(settings.model_copy(update={"events_dir": folder}), clock=clock)
    for payload in PEOPLE:
        response = app.test_client().post(URL, json=payload)
        assert response.status_code == 201, response.get_json()
    return app


@pytest.fixture
def lists(tmp_path: Path, clock: FakeClock, settings: Settings) -> Any:
    app = app_with(tmp_path, clock, settings, ask_gender="true")
    yield app
    app.extensions["owes"].store.dispose()


def export(runner: FlaskCliRunner, kind: str, fmt: str, path: Path) -> Path:
    args = ["export", "--event", KLASTER, "--list", kind, "--format", fmt, "--output", str(path)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return path


def rows_of(path: Path) -> list[list[Any]]:
    sheet = load_workbook(path).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def cells_of(path: Path) -> list[list[Any]]:
    return [list(row) for row in load_workbook(path).worksheets[0].iter_rows()]


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_catering_counts_each_meal_per_day_and_breakfast_only_for_those_staying(
    lists: Flask, tmp_path: Path
) -> None:
    rows = rows_of(export(lists.test_cli_runner(), "catering", "xlsx", tmp_path / "c.xlsx"))

    assert rows[0] == [
        "Dzień",
        "Posiłek",
        "standardowa",
        "wegetariańska",
        "wegańska",
        "bezglutenowa",
        "inna",
        "Razem",
    ]
    meals = {(row[0], row[1]): row[2:] for row in rows[1:5]}
    assert meals[("poniedziałek, 27 sierpnia 2018 r.", "obiad")] == [0, 1, 1, 0, 1, 3]
    assert meals[("poniedziałek, 27 sierpnia 2018 r.", "kolacja")] == [0, 1, 1, 0, 1, 3]
    # The vegan goes home after the first day: breakfast is for the two who stay.
    assert meals[("wtorek, 28 sierpnia 2018 r.", "śniadanie")] == [0, 1, 0, 0, 1, 2]
    assert meals[("wtorek, 28 sierpnia 2018 r.", "obiad")] == [0, 1, 1, 0, 1, 3]
    assert ["Celina Adamska", "inna: bez laktozy"] in [row[:2] for row in rows]


def test_xlsx_keeps_counts_and_numbers_as_numbers_and_pesel_phone_dates_ids_as_text(
    lists: Flask, tmp_path: Path
) -> None:
    runner = lists.test_cli_runner()
    catering = cells_of(export(runner, "catering", "xlsx", tmp_path / "c.xlsx"))
    assert all(cell.data_type == "n" for cell in catering[1][2:])  # sums work
    participants = cells_of(export(runner, "participants", "xlsx", tmp_path / "p.xlsx"))
    header = [cell.value for cell in participants[0]]
    assert [row[0].value for row in participants[1:]] == [1, 2, 3]
    assert participants[1][0].data_type == "n"
    phone = participants[2][header.index("Telefon")]
    assert (phone.value, phone.data_type) == ("+48 601 222 333", "s")
    insurance = cells_of(export(runner, "insurance", "xlsx", tmp_path / "i.xlsx"))
    pesel = insurance[2][3]
    assert (pesel.value, pesel.data_type) == ("02270803624", "s")  # the leading zero stays
    born = insurance[3][4]
    assert (born.value, born.data_type) == ("1980-05-06", "s")
    assert insurance[1][0].value == 1 and insurance[1][0].data_type == "n"
    csv_text = export(runner, "catering", "csv", tmp_path / "c.csv").read_text("utf-8-sig")
    assert NBSP not in csv_text  # one-letter words bound only where text is rendered
    for kind in ("participants", "catering", "rooming", "insurance"):
        cells = rows_of(export(runner, kind, "xlsx", tmp_path / f"{kind}.xlsx"))
        assert not any(isinstance(v, str) and NBSP in v for row in cells for v in row), kind


def test_the_rooming_list_names_the_night_and_leaves_room_number_and_roommate_blank(
    lists: Flask, tmp_path: Path
) -> None:
    client = lists.test_client()
    assert (
        client.post(
            URL, json=valid_payload(email="d@example.pl", gender="kobieta", last_name="Kowal")
        ).status_code
        == 201
    )
    rows = rows_of(export(lists.test_cli_runner(), "rooming", "xlsx", tmp_path / "r.xlsx"))

    assert rows[0][0] == "Nocleg z 27 na 28 sierpnia 2018 r."
    header = rows[1]
    assert header[-2:] == ["Nr pokoju", "Osoby w pokoju"]
    assert "Płeć" in header  # the event asks for it
    staying = rows[2:]
    assert sorted(row[header.index("Imię")] for row in staying) == ["Anna", "Anna", "Celina"]
    assert all(row[-2] in (None, "") and row[-1] in (None, "") for row in staying)
    genders = {row[header.index("Nazwisko")]: row[header.index("Płeć")] for row in staying}
    assert genders["Kowal"] == "kobieta" and genders["Nowak"] in (None, "")

    pdf = pdf_text(export(lists.test_cli_runner(), "rooming", "pdf", tmp_path / "r.pdf"))
    assert "Nocleg z 27 na 28 sierpnia 2018 r." in " ".join(pdf[0].split())
    assert "Nr pokoju" in pdf[0] and "Osoby w pokoju" in " ".join(pdf[0].split())


def test_without_ask_gender_nobody_is_asked_and_no_column_shows_it(
    client: Any, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert client.post(URL, json=valid_payload(gender="kobieta")).status_code == 201
    rows = rows_of(export(runner, "rooming", "xlsx", tmp_path / "r.xlsx"))
    assert "Płeć" not in rows[1]
    page = client.get(f"/wydarzenia/{KLASTER}/").text
    assert 'name="gender"' not in page


def test_the_attendance_list_has_the_project_logo_blank_rows_and_the_organisers_signature(
    tmp_path: Path, clock: FakeClock, settings: Settings
) -> None:
    folder = tmp_path / "events-lists"
    folder.mkdir()
    logo = Image.new("RGB", (1200, 120), (0, 51, 153))
    logo.save(folder / "fel-logo.png", pnginfo=None)
    app = app_with(
        tmp_path,
        clock,
        settings,
        project_name='"Ośrodek Wsparcia Ekonomii Społecznej w Zielonej Górze"',
        project_number='"FELB.06.10-IZ.00-0001/23"',
        logo_strip='"fel-logo.png"',
    )
    try:
        path = export(app.test_cli_runner(), "attendance", "pdf", tmp_path / "a.pdf")
    finally:
        app.extensions["owes"].store.dispose()

    reader = PdfReader(path)
    first, *_ = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert "Projekt: Ośrodek Wsparcia Ekonomii Społecznej w Zielonej Górze" in first
    assert "Numer projektu: FELB.06.10-IZ.00-0001/23" in first
    assert "Termin: 27–28 sierpnia 2018 r." in first
    assert "Dzień 1 z 2: poniedziałek, 27 sierpnia 2018 r. – Świebodzin" in first
    assert "Podpis osoby prowadzącej listę w imieniu organizatora" in first
    assert "Celina Adamska" in first and "Anna Nowak" in first
    # Three participants A to Z, then five numbered blank rows for substitutes.
    numbers = re.findall(r"(?m)^\s*(\d+)\s*$", reader.pages[0].extract_text())
    assert [str(n) for n in range(4, 9)] == numbers[-5:]
    assert reader.pages[0].images  # the logo strip, re-encoded
    second = " ".join(reader.pages[-1].extract_text().split())
    assert "Dzień 2 z 2: wtorek, 28 sierpnia 2018 r." in second


def test_without_the_project_keys_the_attendance_list_is_as_before(
    lists: Flask, tmp_path: Path
) -> None:
    path = export(lists.test_cli_runner(), "attendance", "pdf", tmp_path / "a.pdf")
    reader = PdfReader(path)
    assert "Projekt:" not in reader.pages[0].extract_text()
    assert not reader.pages[0].images


def test_a_logo_strip_that_is_not_a_picture_stops_start_up_naming_the_key(
    tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "events-bad"
    write_event(folder, KLASTER, logo_strip='"logo.png"')
    (folder / "logo.png").write_text("no picture", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="logo_strip: .*not a picture"):
        create_app(settings.model_copy(update={"events_dir": folder}))
    (folder / "logo.png").unlink()
    with pytest.raises(ConfigurationError, match="logo_strip: no file logo.png"):
        create_app(settings.model_copy(update={"events_dir": folder}))


def test_participants_and_badges_mark_who_gave_no_image_consent(
    lists: Flask, tmp_path: Path
) -> None:
    runner = lists.test_cli_runner()
    rows = rows_of(export(runner, "participants", "xlsx", tmp_path / "p.xlsx"))
    column = rows[0].index("Wizerunek")
    marks = {row[1]: row[column] for row in rows[1:]}
    assert marks == {
        "Anna": "zgoda",
        "Bogdan": "bez zgody na wizerunek",
        "Celina": "bez zgody na wizerunek",
    }
    badges = " ".join(
        " ".join(page.split())
        for page in pdf_text(export(runner, "badges", "pdf", tmp_path / "b.pdf"))
    )
    assert badges.count("bez zgody na wizerunek") == 2
    participants_pdf = pdf_text(export(runner, "participants", "pdf", tmp_path / "p.pdf"))
    assert "bez zgody na wizerunek" in " ".join(participants_pdf[0].split())


def test_no_pdf_line_ends_with_a_one_letter_word_or_breaks_a_phone_number(
    lists: Flask, tmp_path: Path
) -> None:
    runner = lists.test_cli_runner()
    lines = []
    for kind in ("participants", "rooming", "catering", "attendance", "badges"):
        for page in pdf_text(export(runner, kind, "pdf", tmp_path / f"{kind}.pdf")):
            lines += page.splitlines()
    long_name = [line for line in lines if "Lubniewicach" in line or "okolic" in line]
    assert long_name  # the long enterprise name is there, wrapped over lines
    ending = re.compile(r"(?:^|\s)[wziouaWZIOUA]$")
    assert [line for line in lines if ending.search(line.rstrip())] == []
    assert informal("\n".join(lines)) == []  # no Ty form, gendered pair or (a) in any list
    phones = [line for line in lines if "+48" in line]
    assert phones and all(
        re.search(r"\+48 \d{3} \d{3} \d{3}", line.replace(NBSP, " ")) for line in phones
    )


def test_meals_written_as_plain_text_still_load_and_count_everyone(
    tmp_path: Path, clock: FakeClock, settings: Settings
) -> None:
    app = app_with(tmp_path, clock, settings, meals='["27.08 obiad", "28.08 śniadanie"]')
    try:
        path = export(app.test_cli_runner(), "catering", "xlsx", tmp_path / "c.xlsx")
        event = app.extensions["owes"].events[KLASTER]
    finally:
        app.extensions["owes"].store.dispose()
    assert [meal.nocleg for meal in event.meals] == [False, False]
    rows = rows_of(path)
    assert [(row[0], row[1], row[-1]) for row in rows[1:3]] == [
        (None, "27.08 obiad", 3),
        (None, "28.08 śniadanie", 3),
    ]


def test_an_open_event_copied_from_the_seed_still_loads(tmp_path: Path) -> None:
    """Meals on days of another event (a copy with new dates) never stop start-up."""
    from config.events import load_event

    event = load_event(write_open_event(tmp_path / "copy"))
    assert event.meals and event.starts_on.year >= 2026
