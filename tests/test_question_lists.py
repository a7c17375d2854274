"""The answers in the lists: the participants list's columns, and the list per choice (the bus
list per pick-up point) from `export` and from the staff pages, in XLSX, CSV and PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from pypdf import PdfReader

from config.settings import Settings
from registrations.question_editing import QuestionEditor, QuestionForm
from sheets.rows import HEADERS
from tests.conftest import KLASTER, FakeClock, valid_payload
from tests.staff_support import STAFF_LISTS, page, sign_in
from tests.test_exports import read_csv, read_xlsx

URL = f"/api/events/{KLASTER}/registrations"
STOPS = "Żary, dworzec PKP | 10 | odjazd 7:00\nZielona Góra, Dworcowa | | odjazd 8:00\nNowa Sól"
STOP = "miejsce_wsiadania"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=STAFF_LISTS)


@pytest.fixture
def answered(app: Flask, client: FlaskClient, clock: FakeClock) -> list[str]:
    editor = QuestionEditor(app.extensions["owes"].store, HEADERS)
    event = app.extensions["owes"].events[KLASTER]
    by = "koordynatorka@example.pl"
    editor.add(
        event, QuestionForm("Miejsce wsiadania", "wybor", choices=STOPS), by=by, now=clock.now
    )
    editor.add(
        event, QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"), by=by, now=clock.now
    )
    editor.add(event, QuestionForm("Autokar z powrotem", "tak_nie"), by=by, now=clock.now)
    people = [
        ("Żaneta", "Łęcka", "zary_dworzec_pkp", ["obiad", "kolacja"], True),
        ("Adam", "Zieliński", "zary_dworzec_pkp", ["obiad"], False),
        ("Ewa", "Ćwik", "zielona_gora_dworcowa", [], True),
        ("Jan", "Lis", "zary_dworzec_pkp", ["kolacja"], True),
    ]
    ids = []
    for n, (first, last, stop, meals, back) in enumerate(people):
        answers = {STOP: stop, "posilki": meals, "autokar_z_powrotem": back}
        payload = valid_payload(
            email=f"p{n}@example.pl",
            first_name=first,
            last_name=last,
            enterprise_name=f"Spółdzielnia {last}",
            answers=answers,
        )
        response = client.post(URL, json=payload)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["manage_url"].rsplit("/", 1)[1])
    client.delete(f"/api/registrations/{ids[3]}")  # Jan Lis cancelled: on no bus list
    return ids


def export(runner: FlaskCliRunner, *args: str):
    return runner.invoke(args=["export", "--event", KLASTER, *args])


def test_the_bus_list_per_pick_up_point_in_xlsx_csv_and_pdf(
    runner: FlaskCliRunner, answered: list[str], tmp_path: Path
) -> None:
    result = export(
        runner, "--list", "choice", "--question", STOP, "--output", str(tmp_path / "b.xlsx")
    )
    assert result.exit_code == 0, result.output
    rows = read_xlsx(tmp_path / "b.xlsx")
    assert rows[0] == [
        "Miejsce wsiadania",
        "Lp.",
        "Imię",
        "Nazwisko",
        "Przedsiębiorstwo społeczne",
        "Telefon",
    ]
    assert [r[:4] for r in rows[1:4]] == [
        ["Żary, dworzec PKP", "1", "Żaneta", "Łęcka"],  # Polish order: Ł before Z
        ["Żary, dworzec PKP", "2", "Adam", "Zieliński"],
        ["Zielona Góra, Dworcowa", "1", "Ewa", "Ćwik"],
    ]
    assert rows[1][5] == "+48 533 316 283"
    assert rows[-3:] == [
        ["Żary, dworzec PKP", "2", "", "", "", ""],
        ["Zielona Góra, Dworcowa", "1", "", "", "", ""],
        ["Nowa Sól", "0", "", "", "", ""],
    ]

    export(
        runner,
        "--list",
        "choice",
        "--question",
        STOP,
        "--format",
        "csv",
        "--output",
        str(tmp_path / "b.csv"),
    )
    assert read_csv(tmp_path / "b.csv")[1][:4] == ["Żary, dworzec PKP", "1", "Żaneta", "Łęcka"]

    export(
        runner,
        "--list",
        "choice",
        "--question",
        STOP,
        "--format",
        "pdf",
        "--output",
        str(tmp_path / "b.pdf"),
    )
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "b.pdf").pages).replace(
        "\xa0", " "
    )
    assert "Żary, dworzec PKP – odjazd 7:00 (2 osoby)" in text
    assert "Zielona Góra, Dworcowa – odjazd 8:00 (1 osoba)" in text
    assert "Nowa Sól (0 osób)" in text
    assert text.index("Łęcka") < text.index("Zieliński") < text.index("Ćwik")
    assert "Spółdzielnia Lis" not in text


def test_a_question_with_no_choices_exits_2_with_a_message(
    runner: FlaskCliRunner, answered: list[str]
) -> None:
    yes_no = export(runner, "--list", "choice", "--question", "autokar_z_powrotem")
    assert yes_no.exit_code == 2
    assert "only wybor and wiele questions" in yes_no.output
    unknown = export(runner, "--list", "choice", "--question", "nie_ma")
    assert unknown.exit_code == 2 and "no question 'nie_ma'" in unknown.output
    missing = export(runner, "--list", "choice")
    assert missing.exit_code == 2 and "--question" in missing.output


def test_the_participants_list_has_the_answers_columns_in_every_format(
    runner: FlaskCliRunner, answered: list[str], tmp_path: Path
) -> None:
    export(runner, "--list", "participants", "--format", "csv", "--output", str(tmp_path / "p.csv"))
    rows = read_csv(tmp_path / "p.csv")
    assert rows[0][-3:] == ["Miejsce wsiadania", "Posiłki", "Autokar z powrotem"]
    assert rows[1][1:3] == ["Żaneta", "Łęcka"]
    assert rows[1][-3:] == ["Żary, dworzec PKP", "obiad, kolacja", "tak"]
    export(
        runner, "--list", "participants", "--format", "xlsx", "--output", str(tmp_path / "p.xlsx")
    )
    assert read_xlsx(tmp_path / "p.xlsx")[3][-3:] == ["Zielona Góra, Dworcowa", "", "tak"]
    export(runner, "--list", "participants", "--format", "pdf", "--output", str(tmp_path / "p.pdf"))
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "p.pdf").pages)
    assert "Miejsce" in text and "obiad, kolacja" in text.replace("\n", " ")


def test_the_lists_page_gives_the_list_per_choice(app: Flask, answered: list[str]) -> None:
    office = sign_in(app.test_client())
    lists = page(office.get(f"/obsluga/wydarzenia/{KLASTER}/listy").data)
    links = [str(a["href"]) for a in lists.select("a[download]") if "choice" in str(a["href"])]
    assert links == [
        f"/obsluga/wydarzenia/{KLASTER}/listy/choice.{fmt}?pytanie=miejsce_wsiadania"
        for fmt in ("xlsx", "csv", "pdf")
    ] + [
        f"/obsluga/wydarzenia/{KLASTER}/listy/choice.{fmt}?pytanie=posilki"
        for fmt in ("xlsx", "csv", "pdf")
    ]
    pdf = office.get(links[2])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Łęcka" in text
    meals = office.get(links[4])
    assert meals.status_code == 200
    assert (
        office.get(
            f"/obsluga/wydarzenia/{KLASTER}/listy/choice.pdf?pytanie=autokar_z_powrotem"
        ).status_code
        == 404
    )


def test_the_summary_counts_every_choice_and_yes_no_answer_with_seats_left(
    app: Flask, answered: list[str], clock: FakeClock
) -> None:
    from staff.summary import LiveSummary, answers_of, registrations_of, summarise, summary_table

    services = app.extensions["owes"]
    event = services.events[KLASTER]
    table = summary_table(
        summarise(
            event,
            registrations_of(services.store, event),
            clock.now,
            answers=answers_of(services.store, event),
        )
    )
    start = table.index(["Miejsce wsiadania", "Liczba osób"])
    assert table[start + 1 : start + 4] == [
        ["Żary, dworzec PKP (wolne miejsca: 8 z 10)", 2],
        ["Zielona Góra, Dworcowa", 1],
        ["Nowa Sól", 0],
    ]
    meals = table.index(["Posiłki", "Liczba osób"])
    assert table[meals + 1 : meals + 3] == [["obiad", 2], ["kolacja", 1]]
    back = table.index(["Autokar z powrotem", "Liczba osób"])
    assert table[back + 1 : back + 3] == [["tak", 2], ["nie", 1]]
    # The live summary worksheet of the workbook carries them.
    import logging

    assert LiveSummary(
        services.store, services.sink, services.clock, logging.getLogger("t")
    ).refresh(event)
