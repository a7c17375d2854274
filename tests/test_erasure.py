"""Erasure (RODO art. 17), retention and a person's own data, across store, sheet, mail, files."""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import create_engine, make_url, select, text

from app import create_app
from config.settings import Settings
from registrations.models import Registration, StatusChange
from sheets.local import excel_title
from sheets.rows import ID_HEADER
from staff.digest import make_digest
from store import Store
from store.models import Erasure, OutboxMessage
from tests.conftest import (
    KLASTER,
    OPEN,
    POSTGRES_URL,
    FakeClock,
    own_events,
    postgres_available,
    reset_postgres,
    valid_payload,
    write_event,
)
from tests.sheet_harness import TITLE, Google, GoogleStaff, WorkbookStaff

PERSON = {
    "first_name": "Zuzanna",
    "last_name": "Przybyszewska",
    "email": "zuzanna.przybyszewska@example.pl",
    "pesel": "85010112345",
    "phone": "601 234 567",
    "enterprise_name": "Fundacja Wierzbowy Gaj",
    "special_needs": "Potrzebuję pętli indukcyjnej",
}


def register(client: FlaskClient, slug: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"/api/events/{slug}/registrations", json=valid_payload(**fields))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def stored(app: Flask, registration_id: str) -> Registration:
    store: Store = app.extensions["owes"].store
    with store.transaction() as session:
        found = session.scalar(select(Registration).where(Registration.id == registration_id))
    assert found is not None
    return found


def needles(registration: Registration) -> list[bytes]:
    values = [registration.first_name, registration.last_name, registration.email]
    values += [registration.phone, registration.pesel or ""]
    return [value.encode() for value in values if value]


def files_mentioning(instance: Path, found: list[bytes]) -> list[str]:
    """Every file under instance/ whose raw bytes hold any of `found`."""
    return [
        f"{path.relative_to(instance)}: {needle!r}"
        for path in sorted(instance.rglob("*"))
        if path.is_file()
        for needle in found
        if needle in path.read_bytes()
    ]


def eml_texts(instance: Path) -> list[str]:
    """The plain text of every e-mail kept as an `.eml` file."""
    messages = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in (instance / "mail").glob("*.eml")
    ]
    return [str(m.get_body(("plain",)).get_content()) for m in messages]  # type: ignore[union-attr]


def manage_path(body: dict[str, Any]) -> str:
    return str(body["manage_url"]).split("://", 1)[-1].split("/", 1)[1].join(["/", ""])


def ids_in(grid: list[list[str]]) -> list[str]:
    column = grid[0].index(ID_HEADER)
    return [row[column] for row in grid[1:] if len(row) > column and row[column]]


def summary_numbers(path: Path) -> dict[str, int]:
    sheet = load_workbook(path)["Podsumowanie"]
    return {
        str(label): value
        for label, value, *_ in sheet.iter_rows(values_only=True)
        if isinstance(value, int)
    }


def test_erase_by_id_leaves_nothing_of_the_person_in_store_workbook_mail_exports_or_instance(
    app: Flask, client: FlaskClient, runner: Any, tmp_path: Path
) -> None:
    svc = app.extensions["owes"]
    event = svc.events[OPEN]  # 3 seats, at most 2 per enterprise
    person = register(client, OPEN, **PERSON)
    others = [
        register(client, OPEN, email=f"u{i}@example.pl", enterprise_name=f"Spółdzielnia {i}")
        for i in range(3)
    ]
    waiting = others[2]
    assert waiting["status"] == "waitlisted"
    svc.worker.run_once()  # the workbook and its summary
    svc.mail_worker.run_once()  # the confirmations, as .eml files
    instance = Path(app.instance_path)
    staff = WorkbookStaff(instance)
    staff.insert_column(event, 0, "Notatki")
    staff.set_cell(event, 2, 0, "dzwonić po 15")  # a staff note on the row below the person's
    grid = staff.grid(event)
    staff.set_cell(event, len(grid), 0, "wiersz organizatora")  # a row of staff's own
    assert runner.invoke(args=["export", "--event", OPEN, "--list", "participants"]).exit_code == 0
    whole = stored(app, person["id"])
    found = needles(whole)
    assert files_mentioning(instance, found)  # the test can see the data where it is

    result = runner.invoke(args=["erase", "--id", person["id"]])

    assert result.exit_code == 0, result.output
    assert f"{person['id']} ({OPEN}): personal data removed from the store" in result.output
    assert "1 row(s) deleted" in result.output
    erased = stored(app, person["id"])
    assert (erased.status, erased.powiat, erased.event_slug) == ("cancelled", whole.powiat, OPEN)
    assert erased.erased_at is not None and erased.sheet_erased_at is not None
    assert (erased.first_name, erased.email, erased.pesel, erased.phone) == ("", "", None, "")
    assert stored(app, waiting["id"]).status == "confirmed"  # promoted to the freed seat
    grid = staff.grid(event)
    assert person["id"] not in ids_in(grid)
    assert grid[0][0] == "Notatki"
    note_row = next(row for row in grid if others[0]["id"] in row)
    assert note_row[0] == "dzwonić po 15"
    assert grid[-1][0] == "wiersz organizatora"
    assert client.get(manage_path(person)).status_code == 404
    token = str(person["manage_url"]).rsplit("/", 1)[1]
    assert client.get(f"/api/registrations/{token}").status_code == 404
    assert not list((instance / "exports").iterdir())
    with svc.store.transaction() as session:
        audit = list(session.scalars(select(Erasure)))
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.registration_id == person["id"])
        )
        assert not list(messages)
    assert [(a.registration_id, a.command) for a in audit] == [(person["id"], "erase --id")]
    assert audit[0].sheet_erased_at is not None
    summary = summary_numbers(instance / f"{OPEN}.xlsx")
    assert (summary["Uczestnicy potwierdzeni"], summary["Rezygnacje"]) == (3, 1)
    assert files_mentioning(instance, found) == []

    again = runner.invoke(args=["erase", "--id", person["id"]])
    assert again.exit_code == 0, again.output
    assert "erased before; nothing to remove" in again.output
    assert staff.grid(event) == grid
    with svc.store.transaction() as session:
        assert len(list(session.scalars(select(Erasure)))) == 1


def test_erasure_deletes_every_export_of_the_event_whatever_staff_named_it(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    person = register(client, OPEN, **PERSON)
    register(client, KLASTER, email="inna@example.pl")
    exports = Path(app.instance_path) / "exports"
    (exports / "druk").mkdir(parents=True)
    own = [exports / "lista-na-biurko.pdf", exports / "druk" / "obecnosc.pdf"]
    for path, kind in zip(own, ["participants", "attendance"], strict=True):
        args = ["export", "--event", OPEN, "--list", kind, "--format", "pdf", "--output", path]
        written = runner.invoke(args=[str(arg) for arg in args])
        assert written.exit_code == 0, written.output
        assert f"{path.name}: deleted when a registration of {OPEN} is erased" in written.stderr
    other = exports / f"{KLASTER}-participants.xlsx"
    kept = runner.invoke(args=["export", "--event", KLASTER, "--list", "participants"])
    assert kept.exit_code == 0, kept.output

    result = runner.invoke(args=["erase", "--id", person["id"]])

    assert result.exit_code == 0, result.output
    assert f"2 export file(s) of {OPEN} removed" in result.output
    assert not any(path.exists() for path in own)
    left = sorted(path.name for path in exports.rglob("*") if path.is_file())
    assert left == sorted([other.name, f".{other.name}.event"])  # another event's list stays


def test_erasure_on_either_store_keeps_only_id_event_status_and_powiat(
    tmp_path: Path, clock: FakeClock, database_url: str
) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        database_url=database_url,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )
    app = create_app(settings, clock=clock)
    try:
        client = app.test_client()
        person = register(client, OPEN, **PERSON)
        app.extensions["owes"].mail_worker.run_once()
        result = app.test_cli_runner().invoke(args=["erase", "--id", person["id"].lower()])
        assert result.exit_code == 0, result.output
        erased = stored(app, person["id"])
        kept = (erased.id, erased.event_slug, erased.status, erased.powiat)
        assert kept == (person["id"], OPEN, "cancelled", "0809")
        personal: list[str | None] = [erased.first_name, erased.last_name, erased.email]
        personal += [erased.enterprise_name]
        personal += [erased.phone, erased.role, erased.pesel, erased.special_needs]
        assert {value or "" for value in personal} == {""}
        assert erased.token_lookup is None and erased.birth_date is None
        assert register(client, OPEN, **PERSON)["status"] == "confirmed"  # may register anew
    finally:
        app.extensions["owes"].store.dispose()


def test_staff_e_mails_written_after_an_erasure_only_count_the_person(
    app: Flask, client: FlaskClient, runner: Any, clock: FakeClock
) -> None:
    svc = app.extensions["owes"]
    person = register(client, KLASTER, **PERSON)
    closed = runner.invoke(args=["close-off", "--event", KLASTER, "--force", "--wait", "1"])
    assert closed.exit_code == 0, closed.output  # its staff e-mail names her (special needs)
    instance = Path(app.instance_path)
    found = needles(stored(app, person["id"]))
    staff_mail = [text for text in eml_texts(instance) if "Szczególne potrzeby" in text]
    assert any(PERSON["last_name"] in text for text in staff_mail)

    assert runner.invoke(args=["erase", "--id", person["id"]]).exit_code == 0
    clock.advance(3600)
    assert make_digest(svc, logging.getLogger("test")).run_event(svc.events[KLASTER])
    svc.mail_worker.run_once()

    texts = eml_texts(instance)
    digest = next(text for text in texts if "Zmiany" in text or "zmieniły" in text)
    assert f"(dane usunięte), {person['id']}: potwierdzone → rezygnacja" in digest
    assert not any(PERSON["last_name"] in text for text in texts)
    assert files_mentioning(instance, found) == []


def test_a_staff_e_mail_still_to_send_is_rewritten_without_the_erased_person(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
        smtp_host="127.0.0.1",
        smtp_port=1,  # nothing listens: every e-mail waits for a retry
        staff_email="biuro@owes.example.pl",
    )
    app = create_app(settings, clock=clock)
    try:
        svc = app.extensions["owes"]
        client, runner = app.test_client(), app.test_cli_runner()
        person = register(client, KLASTER, **PERSON)
        other = register(client, KLASTER, email="inna@example.pl", special_needs="Wózek")
        closed = runner.invoke(args=["close-off", "--event", KLASTER, "--force", "--wait", "1"])
        assert closed.exit_code == 0, closed.output
        svc.mail_worker.run_once()  # refused: the summary e-mail waits in the outbox

        def staff_mail() -> tuple[str, EmailMessage]:
            with svc.store.transaction() as session:
                row = session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == "staff_close_off")
                ).one()
                assert row.body is not None and row.sent_at is None and row.gave_up_at is None
                message = message_from_bytes(row.body, policy=policy.default)
            assert isinstance(message, EmailMessage)
            return row.message_id, message

        def texts(message: EmailMessage) -> str:
            return "\n".join(
                str(part.get_content()) for part in message.walk() if not part.is_multipart()
            )

        message_id, before = staff_mail()
        assert PERSON["last_name"] in texts(before) and PERSON["special_needs"] in texts(before)
        instance = tmp_path / "instance"
        found = needles(stored(app, person["id"]))

        result = runner.invoke(args=["erase", "--id", person["id"]])

        assert result.exit_code == 0, result.output
        # The close-off summary, and the special-needs e-mail to the contact.
        assert "2 staff e-mail(s) still to send rewritten without the person" in result.output
        still_id, after = staff_mail()
        text = texts(after)
        assert still_id == message_id  # the same e-mail, sent at the next try
        for value in (PERSON["first_name"], PERSON["last_name"], PERSON["special_needs"]):
            assert value not in text
        assert "(dane usunięte): (dane usunięte)" in text  # the special needs line
        assert "Wózek" in text and "Szczególne potrzeby" in text  # the others stay
        assert stored(app, other["id"]).special_needs == "Wózek"
        assert files_mentioning(instance, found) == []
    finally:
        app.extensions["owes"].store.dispose()


def test_erase_by_email_without_event_erases_every_event_and_with_event_only_that_one(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    first = register(client, KLASTER, **PERSON)
    second = register(client, OPEN, **PERSON)

    only = runner.invoke(args=["erase", "--email", PERSON["email"], "--event", OPEN])
    assert only.exit_code == 0, only.output
    assert stored(app, second["id"]).erased_at is not None
    assert stored(app, first["id"]).erased_at is None

    both = runner.invoke(args=["erase", "--email", f" {PERSON['email'].upper()} "])
    assert both.exit_code == 0, both.output
    assert stored(app, first["id"]).erased_at is not None
    assert f"{first['id']} ({KLASTER}): personal data removed" in both.output

    none = runner.invoke(args=["erase", "--email", PERSON["email"]])
    assert none.exit_code == 0 and "holds personal data" in none.output
    assert runner.invoke(args=["erase"]).exit_code == 2
    assert runner.invoke(args=["erase", "--id", first["id"], "--email", "a@b.pl"]).exit_code == 2
    assert runner.invoke(args=["erase", "--email", "x@y.pl", "--event", "nie-ma"]).exit_code == 2


def test_an_unreachable_sheet_is_completed_by_a_later_round_and_the_row_never_comes_back(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> None:
    google = Google(sheets_emulator, tmp_path, clock, sheets_max_attempts=2)
    try:
        svc = google.services
        person = register(google.client, KLASTER, **PERSON)
        staying = google.register(2)
        google.syncer.sync_event(google.event)
        assert person["id"] in google.sheet_ids()
        sheets_emulator.inject("status", status=503, times=None)  # Google is down

        result = google.app.test_cli_runner().invoke(args=["erase", "--id", person["id"]])

        assert result.exit_code == 0, result.output
        assert "personal data removed from the store" in result.output
        assert "not reached" in result.output and "later round" in result.output
        assert stored(google.app, person["id"]).sheet_erased_at is None
        assert google.syncer.sync_event(google.event) is None  # still down: the row waits
        sheets_emulator.clear_faults()
        newcomer = google.register(1, start=10)
        appends = google.appends()

        svc.worker.run_once()  # the worker's next round

        assert person["id"] not in google.sheet_ids()
        assert google.sheet_ids() == [*staying, *newcomer]
        assert google.appends() == appends + 1  # the newcomer only
        assert stored(google.app, person["id"]).sheet_erased_at is not None
        google.syncer.sync_event(google.event, check_sheet=True)
        assert person["id"] not in google.sheet_ids()
        instance = tmp_path / "instance"
        assert (
            files_mentioning(instance, [PERSON["email"].encode(), PERSON["pesel"].encode()]) == []
        )
        grid = sheets_emulator.values(google.spreadsheet_id, TITLE)
        assert not any(PERSON["last_name"] in cell for row in grid for cell in row)
    finally:
        google.close()


def test_retention_erases_an_event_after_its_days_keeping_the_summary_counts(
    tmp_path: Path, clock: FakeClock
) -> None:
    events = own_events(tmp_path / "events")
    write_event(events, KLASTER, retention_days=30, capacity=3)  # it ends on 2018-08-28
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=events,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )
    app = create_app(settings, clock=clock)
    try:
        svc = app.extensions["owes"]
        client, runner = app.test_client(), app.test_cli_runner()
        person = register(client, KLASTER, **PERSON)
        kept = register(client, OPEN, email="ktos@example.pl")
        for i in range(2):
            register(client, KLASTER, email=f"u{i}@example.pl", enterprise_name=f"Spółka {i}")
        waiting = register(client, KLASTER, email="w@example.pl", enterprise_name="Spółka 9")
        assert waiting["status"] == "waitlisted"
        closed = runner.invoke(args=["close-off", "--event", KLASTER, "--force", "--wait", "1"])
        assert closed.exit_code == 0, closed.output
        svc.worker.run_once()
        svc.mail_worker.run_once()
        instance = tmp_path / "instance"
        before = summary_numbers(instance / f"{KLASTER}.xlsx")
        found = needles(stored(app, person["id"]))

        clock.set("2018-09-26T12:00:00+02:00")
        planned = runner.invoke(args=["retention"])
        assert planned.exit_code == 0, planned.output
        assert f"{KLASTER}: 4 registration(s) to erase on 2018-09-27." in planned.output
        assert f"{OPEN}: kept (no retention_days in its event file)." in planned.output
        assert "Nothing is due." in planned.output
        assert stored(app, person["id"]).erased_at is None

        clock.set("2018-09-27T09:00:00+02:00")
        purged_at = svc.now()
        svc.worker.run_once()  # the worker's retention job erases the store's part
        clock.advance(7200)  # the digest would be due again
        svc.worker.run_once()  # and the next sync round deletes the rows

        event = svc.events[KLASTER]
        grid = WorkbookStaff(instance).grid(event)
        assert ids_in(grid) == []
        enterprises = {PERSON["enterprise_name"], "Spółka 0", "Spółka 1"}
        assert enterprises <= before.keys()
        counts = {label: n for label, n in before.items() if label not in enterprises}
        counts["Przedsiębiorstwa społeczne (liczba)"] = 3
        assert summary_numbers(instance / f"{KLASTER}.xlsx") == counts
        summary_text = [
            str(c)
            for row in load_workbook(instance / f"{KLASTER}.xlsx")["Podsumowanie"].iter_rows(
                values_only=True
            )
            for c in row
            if c is not None
        ]
        assert not any(PERSON["last_name"] in text for text in summary_text)
        assert not any(name in text for name in enterprises for text in summary_text)
        erased = stored(app, person["id"])
        assert (erased.status, erased.erased_by) == ("cancelled", "retention")
        assert stored(app, waiting["id"]).status == "cancelled"  # not promoted to a seat
        assert stored(app, kept["id"]).erased_at is None
        assert files_mentioning(instance, found) == []
        with svc.store.transaction() as session:
            audit = list(session.scalars(select(Erasure)))
            history = session.scalars(select(StatusChange).where(StatusChange.actor == "retention"))
            changes = sorted((c.old_status, c.new_status) for c in history)
            queued = session.scalars(
                select(OutboxMessage).where(OutboxMessage.created_at >= purged_at)
            )
            assert list(queued) == []  # no promotion e-mail, no staff digest of the purge
        assert changes == [("confirmed", "cancelled")] * 3 + [("waitlisted", "cancelled")]
        assert len(audit) == 4 and {a.command for a in audit} == {"worker (retention_days)"}

        done = runner.invoke(args=["retention"])
        assert f"{KLASTER}: erased on 2018-09-27 (retention_days ended 2018-09-27)." in done.output
        assert "Nothing is due." in done.output
        assert excel_title(event.worksheet_title) in load_workbook(instance / f"{KLASTER}.xlsx")
    finally:
        app.extensions["owes"].store.dispose()


def test_without_retention_days_nothing_is_ever_purged(
    app: Flask, client: FlaskClient, runner: Any, clock: FakeClock
) -> None:
    person = register(client, KLASTER, **PERSON)
    clock.set("2030-01-01T12:00:00+01:00")
    app.extensions["owes"].worker.run_once()
    result = runner.invoke(args=["retention"])
    assert f"{KLASTER}: kept (no retention_days in its event file)." in result.output
    assert stored(app, person["id"]).erased_at is None


def test_the_private_link_page_offers_the_persons_own_data_as_a_json_file(
    client: FlaskClient,
) -> None:
    person = register(client, OPEN, **PERSON)
    token = str(person["manage_url"]).rsplit("/", 1)[1]
    client.delete(f"/api/registrations/{token}")  # a status change to show in the history
    page = client.get(manage_path(person))
    assert "Moje dane – plik JSON" in page.get_data(as_text=True)

    response = client.get(f"{manage_path(person)}/moje-dane")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    data = json.loads(response.get_data(as_text=True))
    registration = data["registration"]
    assert registration["id"] == person["id"]
    assert (registration["pesel"], registration["email"]) == (PERSON["pesel"], PERSON["email"])
    assert registration["special_needs"] == PERSON["special_needs"]
    assert [(c["from"], c["to"], c["by"]) for c in data["status_history"]] == [
        ("confirmed", "cancelled", "participant")
    ]
    assert {e["kind"] for e in data["emails"]} >= {"registered", "cancelled"}
    api = client.get(f"/api/registrations/{token}/data")
    assert api.status_code == 200 and api.get_json()["registration"] == registration
    assert client.get(f"{manage_path(person)}x/moje-dane").status_code == 404
    assert client.get(f"/api/registrations/{token}x/data").status_code == 404


def test_erasure_finds_the_row_wherever_staff_moved_or_copied_it_in_google_sheets(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> None:
    google = Google(sheets_emulator, tmp_path, clock)
    try:
        staff = GoogleStaff(sheets_emulator, google.spreadsheet_id)
        person = register(google.client, KLASTER, **PERSON)
        others = google.register(3)
        google.syncer.sync_event(google.event)
        event = google.event
        staff.insert_column(event, 0, "Notatki")
        grid = staff.grid(event)
        surname = grid[0].index("Nazwisko")
        staff.sort_rows(event, surname, descending=True)  # her row is no longer the first
        grid = staff.grid(event)
        row = next(i for i, r in enumerate(grid) if person["id"] in r)
        staff.set_cell(event, len(grid), 0, "kopia")  # staff copied her row below the table
        for column, value in enumerate(grid[row][1:], start=1):
            staff.set_cell(event, len(grid), column, value)
        staff.set_cell(event, 1 if row != 1 else 2, 0, "pilne")

        result = google.app.test_cli_runner().invoke(args=["erase", "--id", person["id"]])

        assert result.exit_code == 0, result.output
        assert "2 row(s) deleted" in result.output
        after = staff.grid(event)
        assert sorted(ids_in(after)) == sorted(others)
        assert [r[0] for r in after if r and r[0]] == ["Notatki", "pilne"]
        assert not any(PERSON["last_name"] in cell for r in after for cell in r)
    finally:
        staff.close()
        google.close()


def test_retention_on_google_sheets_deletes_the_rows_and_keeps_the_summary_numbers(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> None:
    events = own_events(tmp_path / "events")
    write_event(events, KLASTER, retention_days=30)
    spreadsheet = sheets_emulator.create_spreadsheet("Zgłoszenia OWES")
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=events,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
        sheets_emulator_host=sheets_emulator.host_port,
        sheets_spreadsheet_id=spreadsheet,
        sheets_backoff_max_seconds=0.05,
        sheets_in_flight_settle_seconds=0.0,
    )
    app = create_app(settings, clock=clock)
    staff = GoogleStaff(sheets_emulator, spreadsheet)
    try:
        svc = app.extensions["owes"]
        event = svc.events[KLASTER]
        client = app.test_client()
        register(client, KLASTER, **PERSON)
        for i in range(3):
            register(client, KLASTER, email=f"u{i}@example.pl", enterprise_name=f"Spółka {i}")
        svc.worker.run_once()
        staff.insert_column(event, 0, "Notatki")
        staff.set_cell(event, len(staff.grid(event)), 0, "wiersz organizatora")

        def numbers() -> list[list[str]]:
            rows = sheets_emulator.values(spreadsheet, event.summary_worksheet_title)
            return [r for r in rows if len(r) > 1 and r[1].isdigit()]

        before = numbers()
        assert before and any(PERSON["last_name"] in c for r in staff.grid(event) for c in r)
        clock.set("2018-09-27T09:00:00+02:00")

        result = app.test_cli_runner().invoke(args=["retention"])

        assert result.exit_code == 0, result.output
        assert f"{KLASTER}: due since 2018-09-27: erasing 4 registration(s)." in result.output
        assert "4 row(s) deleted" in result.output
        grid = staff.grid(event)
        assert grid[0][0] == "Notatki" and ids_in(grid) == []
        assert grid[-1][0] == "wiersz organizatora"
        enterprises = {PERSON["enterprise_name"], "Spółka 0", "Spółka 1", "Spółka 2"}
        counts = [r for r in before if r[0] not in enterprises]
        counts.append(["Przedsiębiorstwa społeczne (liczba)", "4"])
        assert numbers() == counts
        summary = sheets_emulator.values(spreadsheet, event.summary_worksheet_title)
        assert not any(PERSON["last_name"] in cell for row in summary for cell in row)
        assert not any(name in cell for name in enterprises for row in summary for cell in row)
        svc.worker.run_once()
        assert ids_in(staff.grid(event)) == [] and numbers() == counts
    finally:
        staff.close()
        app.extensions["owes"].sink.close()
        app.extensions["owes"].store.dispose()


# -- no byte of the person in the database's files -----------------------------------------------


@pytest.fixture
def app_on_postgresql(tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    reset_postgres()
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        database_url=POSTGRES_URL,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["owes"].store.dispose()
    reset_postgres()


def _database_files(url: str) -> dict[str, bytes]:
    """Every file of the database at `url` as it is now: SQLite's file, WAL and shared memory;
    PostgreSQL's files in its server's data directory (after a CHECKPOINT, so what the server
    wrote is on disk), skipped where the directory cannot be read."""
    if url.startswith("sqlite"):
        database = Path(make_url(url).database or "")
        return {path.name: path.read_bytes() for path in database.parent.glob(database.name + "*")}
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
            data = Path(str(connection.execute(text("SHOW data_directory")).scalar()))
            oid = connection.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            ).scalar()
    finally:
        engine.dispose()
    folder = data / "base" / str(oid)
    if not os.access(folder, os.R_OK | os.X_OK):
        pytest.skip(f"{folder} is not readable by this user: the files cannot be searched")
    files = {}
    for path in folder.iterdir():
        try:
            files[path.name] = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):  # unlinked meanwhile (autovacuum)
            continue
    return files


def test_after_erasure_no_byte_of_the_person_is_left_in_the_database_files(
    tmp_path: Path, clock: FakeClock, database_url: str
) -> None:
    unique = secrets.token_hex(4)  # nothing another test wrote can match
    person = {
        **PERSON,
        "last_name": f"Przybyszewska{unique}",
        "email": f"zuzanna.{unique}@example.pl",
        "special_needs": f"Potrzebuję pętli indukcyjnej {unique}",
    }
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        database_url=database_url,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )
    app = create_app(settings, clock=clock)
    try:
        client = app.test_client()
        body = register(client, OPEN, **person)
        register(client, OPEN, email=f"inna.{unique}@example.pl", enterprise_name="Inna Firma")
        svc = app.extensions["owes"]
        svc.worker.run_once()
        svc.mail_worker.run_once()
        client.patch(f"/api/registrations/{manage_path(body).rsplit('/', 1)[1]}", json={})
        whole = stored(app, body["id"])
        found = [*needles(whole), (whole.special_needs or "").encode()]
        before = _database_files(database_url)
        assert any(needle in data for data in before.values() for needle in found)

        result = app.test_cli_runner().invoke(args=["erase", "--email", person["email"]])
        assert result.exit_code == 0, result.output
        files = _database_files(database_url)
    finally:
        app.extensions["owes"].store.dispose()

    left = [
        f"{name}: {needle!r}" for name, data in files.items() for needle in found if needle in data
    ]
    assert left == []
    if database_url.startswith("postgresql"):
        assert "VACUUM FULL" in result.output
        assert "write-ahead log (pg_wal)" in result.output and "base backups" in result.output


def test_postgresql_never_copies_a_persons_data_into_its_planner_statistics(
    app_on_postgresql: Flask,
) -> None:
    client = app_on_postgresql.test_client()
    for i in range(3):
        register(client, OPEN, email=f"u{i}@example.pl", enterprise_name=f"Spółdzielnia {i}")
    store: Store = app_on_postgresql.extensions["owes"].store
    with store.engine.connect() as connection:
        connection.execute(text("ANALYZE registrations"))
        sampled = set(
            connection.execute(
                text("SELECT attname FROM pg_stats WHERE tablename = 'registrations'")
            ).scalars()
        )

    assert "status" in sampled  # statistics are gathered …
    personal = {"first_name", "last_name", "email", "email_key", "phone", "pesel"}
    assert not sampled & (personal | {"enterprise_name", "special_needs", "birth_date"})


def test_erase_removes_e_mails_and_sends_none_of_other_peoples_queued_ones(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    person = register(client, OPEN, **PERSON)
    others = [
        register(client, OPEN, email=f"u{i}@example.pl", enterprise_name=f"Spółdzielnia {i}")
        for i in range(3)
    ]  # their confirmations wait in the outbox (the mail sender has not run)
    store: Store = app.extensions["owes"].store

    result = runner.invoke(args=["erase", "--id", person["id"]])

    assert result.exit_code == 0, result.output
    with store.transaction() as session:
        waiting = list(session.scalars(select(OutboxMessage)))
    assert {m.registration_id for m in waiting} >= {o["id"] for o in others}
    assert all(m.sent_at is None for m in waiting)  # removed only, nothing sent
    assert not (Path(app.instance_path) / "mail").exists() or not list(
        (Path(app.instance_path) / "mail").glob("*.eml")
    )


def test_export_refuses_a_file_in_the_instance_folder_outside_exports_so_erasure_leaves_nothing(
    app: Flask, client: FlaskClient, runner: Any, tmp_path: Path
) -> None:
    person = register(client, OPEN, **PERSON)
    instance = Path(app.instance_path)
    found = needles(stored(app, person["id"]))
    outside = tmp_path / "poza" / "ubezpieczenie.csv"
    outside.parent.mkdir()

    refused = [
        runner.invoke(
            args=["export", "--event", OPEN, "--list", "insurance", "--format", "csv"]
            + ["--output", str(path)]
        )
        for path in (
            instance / "ubezp.csv",
            instance / "mail" / "lista.csv",
            instance / "exports" / ".." / "ubezp.csv",
        )
    ]
    allowed = [
        runner.invoke(
            args=["export", "--event", OPEN, "--list", "insurance", "--format", "csv"]
            + ["--output", str(path)]
        )
        for path in (instance / "exports" / "ubezp.csv", outside)
    ]
    result = runner.invoke(args=["erase", "--id", person["id"]])

    assert [r.exit_code for r in refused] == [2, 2, 2]
    assert all("not in its exports/" in r.output and "Traceback" not in r.output for r in refused)
    assert [r.exit_code for r in allowed] == [0, 0]
    assert result.exit_code == 0, result.output
    assert files_mentioning(instance, found) == []  # no byte of the person in instance/
    assert outside.exists()  # a list written outside the instance folder is staff's to delete
