"""Staff lists from the store: content, Polish letters, hostile values, CSV and XLSX; where the
export command writes them. The PDF lists are in test_pdf.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook

from config.settings import Settings
from tests.conftest import KLASTER, valid_payload

URL = f"/api/events/{KLASTER}/registrations"


@pytest.fixture
def registered(client: FlaskClient) -> None:
    people = [
        valid_payload(
            email="a@example.pl",
            first_name="Żaneta",
            last_name="Łęcka",
            enterprise_name="Spółdzielnia Socjalna „Źródło”",
            diet="vegan",
        ),
        valid_payload(
            email="b@example.pl",
            first_name='=IMPORTXML("http://x","//a")',
            last_name="@SUM(A1)",
            enterprise_name="-1 Spółdzielnia",
            accommodation=False,
            pesel=None,
            birth_date="1980-05-06",
            diet="other",
            diet_other="+bez cukru",
        ),
        valid_payload(email="c@example.pl", first_name="Jan", pesel="02270803624"),
    ]
    for payload in people:
        assert client.post(URL, json=payload).status_code == 201


def export(runner: FlaskCliRunner, kind: str, fmt: str, output: Path | None = None):
    args = ["export", "--event", KLASTER, "--list", kind, "--format", fmt]
    if output is not None:
        args += ["--output", str(output)]
    return runner.invoke(args=args)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows Polish letters
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(path: Path) -> list[list[str]]:
    """Every cell as text; each is a text cell, but for `Lp.` and counts: numbers staff sum."""
    sheet = load_workbook(path).active
    assert sheet is not None
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                assert cell.data_type == ("n" if isinstance(cell.value, int) else "s"), cell
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_participant_list_in_csv_is_utf8_with_bom_and_safe(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    result = export(runner, "participants", "csv", tmp_path / "p.csv")

    rows = read_csv(tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert rows[0][:4] == ["Lp.", "Imię", "Nazwisko", "Przedsiębiorstwo społeczne"]
    assert rows[1][1:4] == ["Żaneta", "Łęcka", "Spółdzielnia Socjalna „Źródło”"]
    assert rows[2][1:4] == ['\'=IMPORTXML("http://x","//a")', "'@SUM(A1)", "'-1 Spółdzielnia"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_participant_list_in_xlsx_is_text_cells(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    export(runner, "participants", "xlsx", tmp_path / "p.xlsx")

    rows = read_xlsx(tmp_path / "p.xlsx")
    assert rows[1][1] == "Żaneta"
    assert rows[2][1] == '=IMPORTXML("http://x","//a")'  # a text cell: shown, never run
    assert rows[3][7] == "+48 533 316 283"


def test_insurance_list_has_pesel_with_leading_zero_or_the_date_of_birth(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    export(runner, "insurance", "xlsx", tmp_path / "i.xlsx")

    rows = read_xlsx(tmp_path / "i.xlsx")
    assert rows[0] == ["Lp.", "Imię", "Nazwisko", "PESEL", "Data urodzenia"]
    assert rows[1][3:] == ["02270803624", "2002-07-08"]
    assert rows[2][3:] == ["", "1980-05-06"]
    assert rows[3][1:] == ["Jan", "Nowak", "02270803624", "2002-07-08"]


def test_catering_counts_each_meal_by_diet(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    export(runner, "catering", "csv", tmp_path / "c.csv")

    rows = read_csv(tmp_path / "c.csv")
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
    assert rows[1] == ["poniedziałek, 27 sierpnia 2018 r.", "obiad", "0", "1", "1", "0", "1", "3"]
    assert [r[1] for r in rows[1:5]] == ["obiad", "kolacja", "śniadanie", "obiad"]
    # Breakfast after the night: the one going home (the other diet) is not counted.
    assert rows[3] == ["wtorek, 28 sierpnia 2018 r.", "śniadanie", "0", "1", "1", "0", "0", "2"]
    assert ['\'=IMPORTXML("http://x","//a") @SUM(A1)', "inna: +bez cukru"] in rows


def test_rooming_list_has_only_those_staying_the_night(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    export(runner, "rooming", "xlsx", tmp_path / "r.xlsx")

    rows = read_xlsx(tmp_path / "r.xlsx")
    assert rows[0][0] == "Nocleg z 27 na 28 sierpnia 2018 r."
    assert [r[1] for r in rows[2:]] == ["Jan", "Żaneta"]  # grouped by enterprise for rooms


def test_without_output_a_list_goes_to_the_instance_exports_folder(
    runner: FlaskCliRunner,
    registered: None,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    folder = Path(settings.instance_path or "") / "exports"

    written = {
        (kind, fmt): export(runner, kind, fmt)
        for kind, fmt in [("insurance", "csv"), ("participants", "xlsx"), ("catering", "pdf")]
    }

    for (kind, fmt), result in written.items():
        path = folder / f"{KLASTER}-{kind}.{fmt}"
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().endswith(f"written to {path}")
        assert path.stat().st_size > 0
    assert "02270803624" in read_csv(folder / f"{KLASTER}-insurance.csv")[1]
    assert list(elsewhere.iterdir()) == []  # nothing lands where the command was run


def test_attendance_and_badges_default_to_pdf(
    runner: FlaskCliRunner, registered: None, settings: Settings
) -> None:
    folder = Path(settings.instance_path or "") / "exports"

    attendance = runner.invoke(args=["export", "--event", KLASTER, "--list", "attendance"])
    badges = runner.invoke(args=["export", "--event", KLASTER, "--list", "badges"])

    assert attendance.exit_code == 0 and badges.exit_code == 0
    assert "3 participant(s) on 2 day(s)" in attendance.stdout
    assert "3 badge(s)" in badges.stdout
    assert (folder / f"{KLASTER}-attendance.pdf").read_bytes().startswith(b"%PDF-")
    assert (folder / f"{KLASTER}-badges.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("kind", "fmt", "start"),
    [
        ("insurance", "csv", b"\xef\xbb\xbf"),
        ("rooming", "xlsx", b"PK"),
        ("attendance", "pdf", b"%PDF-"),
    ],
)
def test_output_dash_writes_the_bytes_to_standard_output(
    runner: FlaskCliRunner, registered: None, settings: Settings, kind: str, fmt: str, start: bytes
) -> None:
    result = export(runner, kind, fmt, Path("-"))

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(start)
    assert "written to standard output" in result.stderr
    assert not (Path(settings.instance_path or "") / "exports").exists()


def test_csv_on_standard_output_is_the_list(runner: FlaskCliRunner, registered: None) -> None:
    result = export(runner, "insurance", "csv", Path("-"))

    assert "02270803624" in result.stdout_bytes.decode("utf-8-sig")
    assert "written to" not in result.stdout


def test_output_path_is_written_and_printed(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    folder = tmp_path / "wydruki"
    folder.mkdir()
    path = folder / "lista obecności.pdf"

    result = export(runner, "attendance", "pdf", path)

    assert result.exit_code == 0
    assert result.stdout == f"Lista obecności: 3 participant(s) on 2 day(s) written to {path}\n"
    assert path.read_bytes().startswith(b"%PDF-")
    assert list(folder.iterdir()) == [path]  # no temporary file left beside it


def test_an_output_folder_that_does_not_exist_is_an_error(
    runner: FlaskCliRunner, registered: None, tmp_path: Path
) -> None:
    result = export(runner, "participants", "pdf", tmp_path / "nie-ma" / "lista.pdf")

    assert result.exit_code == 1
    assert "cannot write" in result.output and "nie-ma" in result.output


@pytest.mark.parametrize(
    ("kind", "fmt", "message"),
    [
        ("badges", "csv", "the badges list comes as pdf, not csv"),
        ("attendance", "xlsx", "the attendance list comes as pdf, not xlsx"),
        ("insurance", "pdf", "the insurance list comes as xlsx or csv, not pdf"),
    ],
)
def test_formats_that_make_no_sense_for_a_list_are_refused(
    runner: FlaskCliRunner, registered: None, settings: Settings, kind: str, fmt: str, message: str
) -> None:
    result = export(runner, kind, fmt)

    assert result.exit_code == 2
    assert message in result.output and "--format" in result.output
    assert not (Path(settings.instance_path or "") / "exports").exists()


def test_export_of_an_unknown_event_or_list_is_a_usage_error(runner: FlaskCliRunner) -> None:
    unknown_event = runner.invoke(
        args=["export", "--event", "nie-ma", "--list", "participants", "--format", "csv"]
    )
    unknown_list = runner.invoke(args=["export", "--event", KLASTER, "--list", "goście"])

    assert unknown_event.exit_code == 2 and "no event 'nie-ma'" in unknown_event.output
    assert unknown_list.exit_code == 2
