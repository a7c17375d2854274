"""Lists without a terminal, the forced close-off from the pages, the history of staff actions,
and the sheet following a live event's changes in Google Sheets (the emulator, real gspread)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app import create_app
from config.services import services
from config.settings import Settings
from registrations.models import EventState, StaffAction
from sheets.google import PROTECTION_DESCRIPTION
from sheets.rows import DECISION_HEADER
from staff import exports
from tests.conftest import OPEN, FakeClock, own_events, shown, valid_payload
from tests.staff_support import (
    COORDINATOR,
    STAFF_LISTS,
    create_event,
    csrf,
    edit,
    page,
    post,
    publish,
    sign_in,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Decisions read at every round (the worker rounds of a test follow each other at once).
    return settings.model_copy(update={**STAFF_LISTS, "sheets_pull_interval_seconds": 0.001})


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    client = sign_in(app.test_client())
    for n, name in enumerate(["Zofia Ćwik", "Łukasz Żak", "Anna Nowak"]):
        first, last = name.split()
        payload = valid_payload(
            email=f"o{n}@example.pl",
            first_name=first,
            last_name=last,
            enterprise_name=f"Spółdzielnia {n}",
        )
        assert (
            app.test_client().post(f"/api/events/{OPEN}/registrations", json=payload).status_code
            == 201
        )
    return client


def test_every_list_downloads_in_every_format_it_comes_in_and_is_recorded(
    app: Flask, office: FlaskClient
) -> None:
    shown = page(office.get(f"/obsluga/wydarzenia/{OPEN}/listy").data)
    links = [str(a["href"]) for a in shown.select("a[download]")]
    expected = [
        f"/obsluga/wydarzenia/{OPEN}/listy/{kind}.{fmt}"
        for kind, formats in exports.FORMATS.items()
        for fmt in formats
    ]
    assert links == expected

    for link in links:
        kind, fmt = link.rsplit("/", 1)[1].split(".")
        answer = office.get(link)
        assert answer.status_code == 200, link
        assert (
            answer.headers["Content-Disposition"] == f'attachment; filename="{OPEN}-{kind}.{fmt}"'
        )
        assert answer.headers["Cache-Control"] == "no-store"
        assert _readable(fmt, answer.data), link

    assert not (services(app).instance_path / "exports").exists()  # never left on disk
    with services(app).store.reading() as session:
        recorded = [
            (a.actor, a.event_slug, a.detail)
            for a in session.scalars(
                select(StaffAction).where(StaffAction.action == "list_downloaded")
            )
        ]
    assert recorded == [(COORDINATOR, OPEN, link.rsplit("/", 1)[1]) for link in links]


def _readable(fmt: str, data: bytes) -> bool:
    if fmt == "pdf":
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        return "Otwarte" in text or "Wydarzenie testowe otwarte" in text
    if fmt == "csv":
        return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) >= 2
    return bool(load_workbook(io.BytesIO(data)).worksheets[0].max_row >= 2)


def test_a_list_matches_the_one_the_export_command_writes(app: Flask, office: FlaskClient) -> None:
    downloaded = office.get(f"/obsluga/wydarzenia/{OPEN}/listy/participants.csv").data
    result = app.test_cli_runner().invoke(
        args=[
            "export",
            "--event",
            OPEN,
            "--list",
            "participants",
            "--format",
            "csv",
            "--output",
            "-",
        ]
    )

    assert result.exit_code == 0
    written = result.output.removeprefix("\ufeff").splitlines()[:-1]  # the last: to stderr
    assert list(csv.reader(io.StringIO(downloaded.decode("utf-8-sig")))) == list(
        csv.reader(written)
    )


def test_a_format_a_list_does_not_come_in_is_a_404(office: FlaskClient) -> None:
    assert office.get(f"/obsluga/wydarzenia/{OPEN}/listy/badges.csv").status_code == 404
    assert office.get(f"/obsluga/wydarzenia/{OPEN}/listy/nieznana.pdf").status_code == 404


def test_closing_now_asks_first_then_closes_and_the_worker_completes_the_close_off(
    app: Flask, office: FlaskClient
) -> None:
    confirm = office.get(f"/obsluga/wydarzenia/{OPEN}/zamkniecie")
    assert "Zamknąć zapisy teraz?" in shown(confirm)
    assert (
        services(app).registrations.window(services(app).events[OPEN], services(app).now()).is_open
    )

    done = post(office, f"/obsluga/wydarzenia/{OPEN}/zamkniecie")

    assert done.status_code == 303
    refused = app.test_client().post(
        f"/api/events/{OPEN}/registrations", json=valid_payload(email="spozniona@example.pl")
    )
    assert refused.status_code == 403
    services(app).worker.run_once()
    with services(app).store.reading() as session:
        state = session.get(EventState, OPEN)
        assert state is not None and state.closed_off_at is not None
    listing = page(office.get("/obsluga/").data)
    card = next(c for c in listing.select("li.card") if "Wydarzenie testowe otwarte" in c.text)
    assert "zapisy zamknięte – podsumowanie wysłane" in card.text


def test_the_history_names_who_did_what_without_any_value(app: Flask, office: FlaskClient) -> None:
    svc = services(app)
    [registration] = [r for r in _registrations(app) if r[1] == "o1@example.pl"]
    runner = app.test_cli_runner()
    runner.invoke(
        args=[
            "registration",
            "set-email",
            "--id",
            registration[0],
            "--email",
            "lukasz.nowy@example.pl",
        ]
    )
    runner.invoke(
        args=["export", "--event", OPEN, "--list", "catering", "--output", "-", "--format", "csv"]
    )
    runner.invoke(args=["erase", "--id", registration[0]])
    svc.worker.run_once()  # the sheet gets its rows
    _type_decision(app, "o2@example.pl", "odrzucone")
    svc.worker.run_once()

    shown = page(office.get("/obsluga/historia").data)
    entries = [li.get_text(" ", strip=True) for li in shown.select("ol.history > li")]

    assert "decyzja organizatora (odrzucone)" in entries[0] and "arkusz" in entries[0]
    assert "usunięcie danych osobowych" in entries[1] and "wiersz poleceń" in entries[1]
    assert registration[0] in entries[1]
    assert "zapisanie listy do pliku (catering.csv)" in entries[2]
    assert "poprawienie adresu e-mail" in entries[3] and "email" in entries[3]
    assert "logowanie" in entries[4] and COORDINATOR in entries[4]
    everything = " ".join(entries)
    for value in ("Łukasz", "Żak", "lukasz.nowy", "o2@example.pl", "Anna"):
        assert value not in everything


def _registrations(app: Flask) -> list[tuple[str, str]]:
    from registrations.models import Registration

    with services(app).store.reading() as session:
        return [(r.id, r.email) for r in session.scalars(select(Registration))]


def _type_decision(app: Flask, email: str, decision: str) -> None:
    """Staff type a decision in the workbook's decision column (as in the sheet)."""
    registration_id = next(rid for rid, e in _registrations(app) if e == email)
    path = services(app).instance_path / f"{OPEN}.xlsx"
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == registration_id:
            row[header.index(DECISION_HEADER)].value = decision
    workbook.save(path)


# -- the Google sheet follows a live event -------------------------------------------------


@pytest.fixture
def google(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[Flask, Any, str]]:
    spreadsheet = sheets_emulator.create_spreadsheet("Zgłoszenia OWES")
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        sheets_emulator_host=sheets_emulator.host_port,
        sheets_spreadsheet_id=spreadsheet,
        sheets_backoff_max_seconds=0.05,
        sheets_in_flight_settle_seconds=0.0,
        staff_emails=STAFF_LISTS["staff_emails"],
    )
    app = create_app(settings, clock=clock)
    yield app, sheets_emulator, spreadsheet
    services(app).sink.close()  # type: ignore[attr-defined]
    services(app).store.dispose()


def _titles(emulator: Any, spreadsheet: str) -> list[str]:
    return [sheet["title"] for sheet in emulator.dump(spreadsheet)["sheets"]]


def test_a_new_short_title_renames_both_google_worksheets_in_place(
    google: tuple[Flask, Any, str],
) -> None:
    app, emulator, spreadsheet = google
    office = sign_in(app.test_client())
    slug = create_event(office, short_title="Szkolenie ES")
    publish(office, slug)
    for n in range(2):
        payload = valid_payload(email=f"g{n}@example.pl", enterprise_name=f"Firma {n}")
        app.test_client().post(f"/api/events/{slug}/registrations", json=payload)
    svc = services(app)
    svc.worker.run_once()
    before = emulator.values(spreadsheet, "Zgłoszenia – Szkolenie ES")
    assert "Podsumowanie – Szkolenie ES" in _titles(emulator, spreadsheet)
    emulator.clear_requests_log()

    assert edit(office, slug, short_title="Szkolenie jesienne").status_code == 303
    svc.worker.run_once()

    titles = _titles(emulator, spreadsheet)
    assert (
        "Zgłoszenia – Szkolenie jesienne" in titles
        and "Podsumowanie – Szkolenie jesienne" in titles
    )
    assert not {"Zgłoszenia – Szkolenie ES", "Podsumowanie – Szkolenie ES"} & set(titles)
    assert emulator.values(spreadsheet, "Zgłoszenia – Szkolenie jesienne") == before  # no row moved
    assert not any("addSheet" in str(r) for r in emulator.requests_log if "batchUpdate" in r.path)
    with svc.store.reading() as session:
        state = session.get(EventState, slug)
        assert state is not None and state.renamed_from is None
    target = svc.sink.target(svc.events[slug])
    from registrations.models import Registration

    with svc.store.reading() as session:
        assert set(session.scalars(select(Registration.synced_to))) == {target}


def test_reopening_removes_the_google_sheets_protection(google: tuple[Flask, Any, str]) -> None:
    app, emulator, spreadsheet = google
    office = sign_in(app.test_client())
    app.test_client().post(f"/api/events/{OPEN}/registrations", json=valid_payload())
    post(office, f"/obsluga/wydarzenia/{OPEN}/zamkniecie")
    svc = services(app)
    svc.worker.run_once()
    title = svc.events[OPEN].worksheet_title
    protections = emulator.sheet_info(spreadsheet, title).protected_ranges
    # The service's columns, each run of them a range of its own (staff's columns stay free).
    assert protections and {p["description"] for p in protections} == {PROTECTION_DESCRIPTION}

    post(office, f"/obsluga/wydarzenia/{OPEN}/otwarcie")
    svc.worker.run_once()

    assert emulator.sheet_info(spreadsheet, title).protected_ranges == []
    assert csrf(office, "/obsluga/")
