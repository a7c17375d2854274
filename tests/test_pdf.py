"""Printed lists: the PDFs read back with pypdf, and the layout rules behind them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from sqlalchemy import select, update

from config.services import services
from registrations.models import Registration
from registrations.status import Status
from staff import exports, pdf, printouts
from staff.exports import Table
from staff.lists import entrants
from staff.printouts import split_tables
from store import Store
from tests.conftest import KLASTER, valid_payload

URL = f"/api/events/{KLASTER}/registrations"
ZRODLO = "Spółdzielnia Socjalna „Źródło”"
LONG_ENTERPRISE = (
    "Stowarzyszenie na Rzecz Edukacji „Pomost” – Powiatowy Dom Dziennego Pobytu "
    "w Świebodzinie, usługi opiekuńcze i asystenckie"
)
# Confirmed; Python's own order would put Ćwikła, Łęcki, Śliwa and Żółtowska last.
CONFIRMED = [
    ("Anna", "Lis", "Spółdzielnia Socjalna My"),
    ("Łukasz", "Łęcki", LONG_ENTERPRISE),
    ("Szymon", "Sobczak", "Spółdzielnia Socjalna Nasze Zaodrze"),
    ("Świętosław", "Ćwikła", ZRODLO),
    ("Łucja", "Żółtowska", ZRODLO),
    ("Zenon", "Śliwa", "Spółdzielnia Socjalna My"),
    ("Tadeusz", "Szulc", "Spółdzielnia Socjalna My"),
]
EXPECTED_ORDER = [
    "Świętosław Ćwikła",
    "Anna Lis",
    "Łukasz Łęcki",
    "Szymon Sobczak",
    "Tadeusz Szulc",
    "Zenon Śliwa",  # Ś after S, not among the S (as the Unicode default order has it)
    "Łucja Żółtowska",
]
LEFT_OUT = {
    "Wanda Rezerwowa": Status.WAITLISTED,
    "Celina Rezygnacja": Status.CANCELLED,
    "Olaf Odrzucony": Status.REJECTED,
}


@pytest.fixture
def registered(client: FlaskClient, store: Store) -> None:
    people = [*CONFIRMED, *((n.split()[0], n.split()[1], "Fundacja Inna") for n in LEFT_OUT)]
    for n, (first, last, enterprise) in enumerate(people):
        payload = valid_payload(
            email=f"osoba{n}@example.pl",
            first_name=first,
            last_name=last,
            enterprise_name=enterprise,
            accommodation=n % 2 == 0,
        )
        assert client.post(URL, json=payload).status_code == 201
    with store.transaction() as session:
        for name, status in LEFT_OUT.items():
            first, last = name.split()
            session.execute(
                update(Registration)
                .where(Registration.first_name == first, Registration.last_name == last)
                .values(status=status.value)
            )


def export(runner: FlaskCliRunner, kind: str, *extra: str):
    return runner.invoke(args=["export", "--event", KLASTER, "--list", kind, *extra])


def read_pdf(data: bytes) -> list[str]:
    """The text of each page, as a text-extraction library (and a screen reader) sees it."""
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def exported(runner: FlaskCliRunner, kind: str, tmp_path: Path, *extra: str) -> list[str]:
    path = tmp_path / f"{kind}.pdf"
    result = export(runner, kind, "--format", "pdf", "--output", str(path), *extra)
    assert result.exit_code == 0, result.output
    return read_pdf(path.read_bytes())


def fonts_used(data: bytes) -> set[str]:
    found = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"].get_object()
        assert isinstance(fonts, DictionaryObject)
        for font in fonts.values():
            found.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return found


def in_order(text: str, names: list[str]) -> bool:
    positions = [text.index(name) for name in names]
    return positions == sorted(positions)


# --- The attendance list --------------------------------------------------------------------


def test_attendance_list_has_a_section_per_day_with_the_header(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    pages = exported(runner, "attendance", tmp_path)

    assert len(pages) == 2  # 27 and 28 August, each on a page of its own
    days = ["poniedziałek, 27 sierpnia 2018", "wtorek, 28 sierpnia 2018"]
    for page, day in zip(pages, days, strict=True):
        assert page.startswith("Lista obecności\n")
        assert "Wyjazdowe spotkanie Klastra Przedsiębiorstw Społecznych" in page
        assert "Termin: 27–28 sierpnia 2018" in page
        assert "Miejsce: Świebodzin, Pniewo, Lubniewice, Nietkowice" in page
        assert day in page
        assert "Lp. Imię i nazwisko Przedsiębiorstwo społeczne Powiat Podpis" in page
        assert "Strona 1 z 1" in page
    assert "Dzień 1 z 2" in pages[0] and "Dzień 2 z 2" in pages[1]


def test_attendance_list_has_confirmed_participants_only_in_polish_order(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    pages = exported(runner, "attendance", tmp_path)

    for page in pages:
        flat = " ".join(page.split())  # wrapped cells read as one line
        assert in_order(flat, EXPECTED_ORDER)
        assert f"1 Świętosław Ćwikła {ZRODLO} powiat zielonogórski" in flat  # Ć: after C
        assert "2 Anna Lis Spółdzielnia Socjalna My powiat zielonogórski" in flat
        assert f"7 Łucja Żółtowska {ZRODLO}" in flat
        assert " ".join(LONG_ENTERPRISE.split()) in flat  # wrapped, not cut
        assert not any(name in flat for name in LEFT_OUT)


def test_attendance_list_pages_are_numbered_per_day_with_headers_repeated() -> None:
    people = [[str(n), f"Osoba {n:02}", "Spółdzielnia", "powiat żarski", ""] for n in range(50)]
    table = [["Lp.", "Imię i nazwisko", "Przedsiębiorstwo społeczne", "Powiat", "Podpis"], *people]
    block = pdf.Block(table, widths=(10, 44, 50, 40, 42), min_row_height=11)
    document = pdf.Document(
        title="Lista obecności",
        lines=("Wydarzenie",),
        footer="Klaster",
        sections=(pdf.Section("Dzień 1", (block,)), pdf.Section("Dzień 2", (block,))),
        made_at=datetime(2018, 8, 20, tzinfo=UTC),
    )

    pages = read_pdf(pdf.render_document(document))

    per_day = len(pages) // 2
    assert per_day >= 2 and len(pages) == 2 * per_day
    numbers = [f"Strona {n} z {per_day}" for n in range(1, per_day + 1)]
    assert [next(s for s in numbers if s in page) for page in pages] == numbers * 2
    assert all("Lp. Imię i nazwisko" in page for page in pages)
    assert "(ciąg dalszy)" in pages[1]
    assert all(f"Osoba {n:02}" in "".join(pages[:per_day]) for n in range(50))


def test_every_text_is_set_in_the_shipped_font(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    for kind in ["attendance", "badges", "participants", "catering", "rooming"]:
        path = tmp_path / f"{kind}.pdf"
        assert export(runner, kind, "--format", "pdf", "--output", str(path)).exit_code == 0

        assert fonts_used(path.read_bytes()) == {"DejaVuSansBook", "DejaVuSansBold"}, kind


# --- Badges ---------------------------------------------------------------------------------


def test_badges_carry_names_and_enterprises_of_confirmed_participants(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    pages = exported(runner, "badges", tmp_path)

    text = "\n".join(pages)
    assert len(pages) == 1  # seven badges on one sheet of eight
    for first, last, _ in CONFIRMED:
        assert f"{first}\n{last}" in text
    # The check-in QR code at each badge's right narrows the text: an enterprise may wrap.
    flowing = text.replace("\n", " ")
    assert ZRODLO in flowing and "Spółdzielnia Socjalna Nasze Zaodrze" in flowing
    assert in_order(flowing, EXPECTED_ORDER)
    assert not any(name.split()[1] in text for name in LEFT_OUT)
    assert text.count("Klaster PS 2018") == 7


def test_badges_fill_a_sheet_of_eight_then_the_next() -> None:
    badges = [pdf.Badge(f"Imię{n}", f"Nazwisko{n}", "Spółdzielnia") for n in range(9)]

    pages = read_pdf(pdf.render_badges(badges, "Klaster", datetime(2018, 8, 20, tzinfo=UTC)))

    assert len(pages) == 2
    assert "Nazwisko7" in pages[0] and "Nazwisko8" in pages[1]


@pytest.fixture
def measure() -> Iterator[pdf.Measure]:
    with pdf.font_measure() as measure:
        yield measure


@pytest.mark.parametrize(
    "badge",
    [
        pdf.Badge("Jan", "Nowak", "My"),
        pdf.Badge("Maria Magdalena", "Brzęczyszczykiewicz-Konstantynopolitańska", LONG_ENTERPRISE),
        pdf.Badge("W" * 60, "Ż" * 60, "W" * 200),  # the longest the form accepts, widest letters
        pdf.Badge("Świętosław", "Ćwikła", "Spółdzielnia " * 15),
    ],
    ids=["short", "long", "widest", "many-words"],
)
def test_a_badge_fits_any_name_the_form_accepts(badge: pdf.Badge, measure: pdf.Measure) -> None:
    width, height = 85.0, 58.0

    lines = pdf.badge_lines(badge, "Klaster PS 2018", width, height, measure)

    assert all(measure(line.text, line.size, line.bold) <= width + 0.01 for line in lines)
    assert all(line.top >= 0 and line.top + line.height <= height + 0.01 for line in lines)
    tops = [line.top for line in lines]
    assert tops == sorted(tops)  # no line drawn over another
    names = "".join(line.text for line in lines if line.bold)
    assert names.replace(" ", "") == (badge.first_name + badge.last_name).replace(" ", "")


def test_a_short_name_is_large_and_a_long_one_smaller(measure: pdf.Measure) -> None:
    short = pdf.badge_lines(pdf.Badge("Jan", "Lis", "My"), "", 85.0, 58.0, measure)
    long = pdf.badge_lines(
        pdf.Badge("Świętosław", "Konstantynopolitańczykiewicz", "My"), "", 85.0, 58.0, measure
    )

    assert [line.text for line in short if line.bold] == ["Jan", "Lis"]
    assert max(line.size for line in short) == pdf.NAME_SIZES[0]
    assert pdf.NAME_SIZES[-1] < max(line.size for line in long) < pdf.NAME_SIZES[0]


# --- The other lists ------------------------------------------------------------------------


def test_participant_list_in_pdf_is_landscape_with_the_xlsx_columns(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    path = tmp_path / "p.pdf"
    export(runner, "participants", "--format", "pdf", "--output", str(path))

    reader = PdfReader(path)
    text = " ".join(reader.pages[0].extract_text().split())
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height
    assert text.startswith("Lista uczestników Wyjazdowe spotkanie Klastra")
    assert "Lp. Imię Nazwisko Przedsiębiorstwo społeczne Powiat" in text
    assert "Łucja Żółtowska" in text and "Wanda Rezerwowa" in text  # everyone, with status
    assert "lista rezerwowa" in text and "rezygnacja" in text and "odrzucone" in text
    assert "Strona 1 z 1" in text


def test_catering_in_pdf_has_both_tables(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    text = " ".join(exported(runner, "catering", tmp_path)[0].split())

    assert "Wyżywienie" in text
    assert "Dzień Posiłek standardowa wegetariańska wegańska bezglutenowa inna Razem" in text
    assert "poniedziałek, 27 sierpnia 2018 r. obiad 0 7 0 0 0 7" in text
    assert "wtorek, 28 sierpnia 2018 r. śniadanie" in text


def test_rooming_in_pdf_lists_who_stays_the_night(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    text = " ".join(exported(runner, "rooming", tmp_path)[0].split())

    assert text.startswith("Noclegi ")
    assert "Anna Lis" in text and "Szymon Sobczak" in text and "Łucja Żółtowska" in text
    assert "Łukasz Łęcki" not in text and "Świętosław Ćwikła" not in text  # no night


def test_an_empty_list_still_prints_its_header() -> None:
    block = pdf.Block([["Lp.", "Imię"]])
    document = pdf.Document("Noclegi", (), "", (pdf.Section("", (block,)),), datetime.now(UTC))

    text = read_pdf(pdf.render_document(document))[0]

    assert "Lp. Imię" in text and "(brak)" in text


def test_an_overlong_cell_is_cut_so_its_row_fits_on_a_page() -> None:
    note = "Proszę o pokój na parterze. " * 200
    block = pdf.Block([["Lp.", "Szczególne potrzeby"], ["1", note]], widths=(1, 9))
    document = pdf.Document("Lista", (), "", (pdf.Section("", (block,)),), datetime.now(UTC))

    text = read_pdf(pdf.render_document(document))[0]

    assert "Proszę o pokój na parterze." in text and "…" in text


# --- Layout rules ---------------------------------------------------------------------------


def test_columns_that_fit_share_the_page_in_proportion() -> None:
    assert pdf.fit_widths([10, 30], [5, 5], 80) == [20, 60]


def test_wide_columns_wrap_and_short_ones_stay_whole() -> None:
    widths = pdf.fit_widths([8, 300, 20, 200], [8, 30, 20, 25], 180)

    assert sum(widths) == pytest.approx(180)
    assert widths[0] == pytest.approx(8) and widths[2] == pytest.approx(20)
    assert widths[1] == pytest.approx(widths[3]) == pytest.approx(76)


def test_when_even_the_longest_words_do_not_fit_only_those_columns_narrow() -> None:
    widths = pdf.fit_widths([8, 120, 20], [8, 120, 20], 100)

    assert widths == pytest.approx([8, 72, 20])


def test_wrap_breaks_at_spaces_and_cuts_a_word_wider_than_the_line() -> None:
    def measure(text: str, size: float, bold: bool) -> float:
        return float(len(text))

    assert pdf.wrap("Ala ma kota", 10, False, 6, measure) == ["Ala ma", "kota"]
    assert pdf.wrap("Konstantynopolitańska", 10, False, 8, measure) == [
        "Konstant",
        "ynopolit",
        "ańska",
    ]
    assert pdf.wrap("Nowak-Kowalska", 10, False, 10, measure) == ["Nowak-", "Kowalska"]


def test_exports_stacked_with_blank_rows_become_separate_tables() -> None:
    table: Table = [["A", "B"], ["1", "2"], [], ["C"], ["3"]]

    assert split_tables(table) == [[["A", "B"], ["1", "2"]], [["C"], ["3"]]]


def test_the_printouts_of_names_read_as_entrants_match_the_whole_registrations(
    registered: None, store: Store, app: Flask
) -> None:
    """The command reads only the printed columns; the lists are those of the whole rows."""
    event = services(app).events[KLASTER]
    with store.transaction() as session:
        whole = list(session.scalars(select(Registration).order_by(Registration.seq)))
        names = entrants(session, KLASTER)

        assert exports.attendance(event, names) == exports.attendance(event, whole)
        assert printouts.badges(names) == printouts.badges(whole)
        assert len(names) == sum(r.status == Status.CONFIRMED for r in whole)
