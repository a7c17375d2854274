"""After each day of the event: `nieobecność` for confirmed participants without presence, the
summary's counts per day, the contact's e-mail the next morning, the marked attendance list."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from checkin.models import AbsenceReport
from checkin.presence import attendance_marks, record_presence
from config.services import services
from config.settings import Settings
from registrations.models import Registration
from store.models import OutboxMessage
from tests.checkin_support import PEOPLE, register
from tests.conftest import KLASTER, FakeClock, shown
from tests.staff_support import STAFF_LISTS, sign_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=STAFF_LISTS)


@pytest.fixture
def day_one_done(app: Flask, clock: FakeClock) -> list[str]:
    """Three confirmed; Anna present on the first day at 08:42; the first day over."""
    ids = [register(app, n, first, last) for n, (first, last) in enumerate(PEOPLE)]
    svc = services(app)
    event = svc.events[KLASTER]
    clock.set("2018-08-27T08:42:00+02:00")
    with svc.store.transaction() as session:
        anna = session.scalar(select(Registration).where(Registration.id == ids[0]))
        assert anna is not None
        record_presence(
            session, event, anna, event.days[0], now=clock(), by="drzwi@example.pl", source="skan"
        )
    clock.set("2018-08-28T00:00:01+02:00")
    return ids


def test_after_the_day_the_others_are_absent_and_the_summary_counts_them(
    app: Flask, day_one_done: list[str]
) -> None:
    svc = services(app)
    event = svc.events[KLASTER]
    marks = attendance_marks(svc.store, event, svc.now())
    by_id = {}
    with svc.store.reading() as session:
        for r in session.scalars(select(Registration)):
            by_id[r.id] = marks[r.seq]
    day_one, day_two = event.days
    assert by_id[day_one_done[0]] == {day_one: "obecność 08:42"}
    assert by_id[day_one_done[1]] == {day_one: "nieobecność"}  # the second day not over yet

    svc.worker.run_once()
    workbook = load_workbook(svc.instance_path / f"{KLASTER}.xlsx")
    summary = {row[0]: row[1] for row in workbook["Podsumowanie"].iter_rows(values_only=True)}
    assert summary["Obecni 27.08"] == 1
    assert summary["Nieobecni 27.08"] == 2
    assert "Obecni 28.08" not in summary


def test_the_contact_gets_the_absentees_the_next_morning_once(
    app: Flask, clock: FakeClock, day_one_done: list[str]
) -> None:
    svc = services(app)
    svc.worker.run_once()
    with svc.store.reading() as session:
        assert session.scalar(select(AbsenceReport)) is None  # at midnight: not yet

    clock.set("2018-08-28T07:00:00+02:00")
    svc.worker.run_once()
    svc.worker.run_once()
    with svc.store.reading() as session:
        rows = [r for r in session.scalars(select(OutboxMessage)) if r.kind == "staff_absences"]
    assert len(rows) == 1
    from email import message_from_bytes, policy

    assert rows[0].body is not None
    message = message_from_bytes(rows[0].body, policy=policy.default)
    assert message["To"] == "a.szulczewski@fundacjacp.org"
    assert message["Subject"].startswith("Nieobecności 27.08:")
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("Dzień dobry,")
    assert f"{day_one_done[1]} – Łukasz Żak" in text and f"{day_one_done[2]} – Zofia Ćwik" in text
    assert "Anna Nowak" not in text
    assert f"/obsluga/wydarzenia/{KLASTER}/obecnosc?dzien=2018-08-27" in text


def test_the_marked_attendance_list_from_the_command_and_the_lists_page(
    app: Flask, runner: FlaskCliRunner, day_one_done: list[str], tmp_path: Path
) -> None:
    output = tmp_path / "obecnosc.pdf"
    result = runner.invoke(
        args=[
            "export",
            "--event",
            KLASTER,
            "--list",
            "attendance",
            "--marked",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code == 0, result.output
    pages = [page.extract_text() for page in PdfReader(output).pages]
    first_day = "\n".join(p for p in pages if "Dzień 1 z 2" in p)
    second_day = "\n".join(p for p in pages if "Dzień 2 z 2" in p)
    assert "obecność 08:42" in first_day and first_day.count("nieobecność") == 2
    assert "obecność" not in second_day.replace("Lista obecności", "")

    refused = runner.invoke(args=["export", "--event", KLASTER, "--list", "badges", "--marked"])
    assert refused.exit_code != 0

    client = sign_in(app.test_client())
    page = client.get(f"/obsluga/wydarzenia/{KLASTER}/listy")
    assert "Lista obecności z odnotowaną obecnością" in shown(page)
    response = client.get(f"/obsluga/wydarzenia/{KLASTER}/listy/attendance.pdf?obecnosc=tak")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "obecność 08:42" in text
