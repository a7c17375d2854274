"""The staff's sheet follows every change in place, and staff decisions typed there flow back.

Each test runs against the Google Sheets emulator (through the real gspread client) and the
local workbook alike, with mail going to a loopback SMTP server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from app import create_app
from config.services import Services
from config.settings import Settings
from registrations.models import Registration, StatusChange
from sheets.factory import make_sink
from sheets.rows import DECISION_HEADER, ID_HEADER, NOTES_HEADER, STATUS_HEADER
from sheets.sink import CellRun, RegistrationSheet, Sink, SinkError
from tests.conftest import OPEN, FakeClock, Mailbox, own_events, valid_payload
from tests.sheet_harness import GoogleStaff, WorkbookStaff

URL = f"/api/events/{OPEN}/registrations"
TITLE = "Zgłoszenia – Otwarte"


class Office:
    """The service and staff's copy of its sheet, side by side."""

    def __init__(self, app: Flask, staff: Any, mailbox: Mailbox, kind: str) -> None:
        self.app = app
        self.staff = staff
        self.mailbox = mailbox
        self.kind = kind
        self.client = app.test_client()
        self.svc: Services = app.extensions["owes"]
        self.event = self.svc.events[OPEN]

    def register(self, n: int = 1, start: int = 0, **overrides: Any) -> list[dict[str, Any]]:
        bodies = []
        for i in range(start, start + n):
            payload = valid_payload(
                email=f"osoba{i}@example.pl",
                first_name=f"Osoba{i}",
                enterprise_name=f"Firma {i}",
                **overrides,
            )
            response = self.client.post(URL, json=payload)
            assert response.status_code == 201, response.get_json()
            bodies.append(response.get_json())
        return bodies

    def round(self) -> None:
        """One background round (sync, decisions, close-off, summary), then the e-mails."""
        self.svc.worker.run_once()

    def deliver(self) -> list[EmailMessage]:
        before = len(self.mailbox.messages)
        self.svc.mail_worker.run_once()
        return list(self.mailbox.messages[before:])

    def grid(self) -> list[list[str]]:
        grid: list[list[str]] = self.staff.grid(self.event)
        return grid

    def row(self, registration_id: str) -> dict[str, str]:
        grid = self.grid()
        rows = [r for r in grid[1:] if r and r[grid[0].index(ID_HEADER)] == registration_id]
        assert len(rows) == 1, f"{registration_id} is in {len(rows)} rows"
        return {h: (rows[0][i] if i < len(rows[0]) else "") for i, h in enumerate(grid[0])}

    def type_in(self, registration_id: str, header: str, value: str) -> None:
        """Staff type `value` in the row of `registration_id`, in the column named `header`."""
        grid = self.grid()
        column = grid[0].index(header)
        [row] = [
            i
            for i, r in enumerate(grid)
            if i and r and r[grid[0].index(ID_HEADER)] == registration_id
        ]
        self.staff.set_cell(self.event, row, column, value)

    def status(self, registration_id: str) -> str:
        with self.svc.store.transaction() as session:
            row = session.scalar(select(Registration).where(Registration.id == registration_id))
            assert row is not None
            return row.status

    def requests(self, marker: str) -> int:
        emulator = getattr(self.staff, "server", None)
        assert emulator is not None, "Google only"
        return sum(marker in r.path for r in emulator.requests_log)


def office_settings(tmp_path: Path, mailbox: Mailbox, **extra: Any) -> Settings:
    options: dict[str, Any] = {
        "sheets_backoff_max_seconds": 0.01,
        "sheets_pull_interval_seconds": 0.001,  # decisions are read every round
        **extra,
    }
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        smtp_host=mailbox.host,
        smtp_port=mailbox.port,
        smtp_security="none",
        **options,
    )


def make_office(
    kind: str,
    tmp_path: Path,
    clock: FakeClock,
    mailbox: Mailbox,
    emulator: Any = None,
    wrap: Any = None,
    **extra: Any,
) -> Office:
    """The app on the workbook, or on a fresh spreadsheet of the emulator (`kind` "google")."""
    staff: Any
    if kind == "workbook":
        settings = office_settings(tmp_path, mailbox, **extra)
        staff = WorkbookStaff(tmp_path / "instance")
    else:
        spreadsheet_id = emulator.create_spreadsheet("Zgłoszenia OWES")
        settings = office_settings(
            tmp_path,
            mailbox,
            sheets_emulator_host=emulator.host_port,
            sheets_spreadsheet_id=spreadsheet_id,
            **extra,
        )
        staff = GoogleStaff(emulator, spreadsheet_id)
    sink = make_sink(settings, tmp_path / "instance")
    app = create_app(settings, clock=clock, sink=wrap(sink, staff) if wrap else sink)
    return Office(app, staff, mailbox, kind)


def close(office: Office) -> None:
    getattr(office.svc.sink, "close", lambda: None)()
    getattr(office.staff, "close", lambda: None)()
    office.svc.store.dispose()


def _emulator(request: pytest.FixtureRequest, kind: str) -> Any:
    return request.getfixturevalue("sheets_emulator") if kind == "google" else None


@pytest.fixture(params=["workbook", "google"])
def office(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> Iterator[Office]:
    kind = request.param
    made = make_office(kind, tmp_path, clock, smtp_server, _emulator(request, kind))
    yield made
    close(made)


@pytest.fixture
def google_office(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox, sheets_emulator: Any
) -> Iterator[Office]:
    made = make_office("google", tmp_path, clock, smtp_server, sheets_emulator)
    yield made
    close(made)


@pytest.fixture
def workbook_office(tmp_path: Path, clock: FakeClock, smtp_server: Mailbox) -> Iterator[Office]:
    made = make_office("workbook", tmp_path, clock, smtp_server)
    yield made
    close(made)


# -- rows follow changes in place --------------------------------------------------------------


def test_a_change_rewrites_the_same_row_and_leaves_staff_columns_alone(office: Office) -> None:
    [first, second] = office.register(2)
    office.round()
    office.staff.insert_column(office.event, 6, "Uwagi biura")
    office.type_in(first["id"], "Uwagi biura", "zadzwonić w poniedziałek")
    rows_before = len(office.grid())

    token = first["manage_url"].rsplit("/", 1)[1]
    office.client.patch(f"/api/registrations/{token}", json={"phone": "600 100 200"})
    office.round()

    assert len(office.grid()) == rows_before
    row = office.row(first["id"])
    assert row["Telefon"] == "+48 600 100 200"
    assert row["Uwagi biura"] == "zadzwonić w poniedziałek"
    assert office.row(second["id"])["Telefon"] == "+48 533 316 283"


def test_many_changes_go_to_the_sheet_in_one_update_call_and_no_append(
    office: Office, clock: FakeClock
) -> None:
    bodies = office.register(3)
    office.round()
    if office.kind == "google":
        office.staff.server.clear_requests_log()
    for body in bodies:
        token = body["manage_url"].rsplit("/", 1)[1]
        office.client.patch(f"/api/registrations/{token}", json={"diet": "vegan"})

    office.round()

    assert [office.row(b["id"])["Dieta"] for b in bodies] == ["wegańska"] * 3
    assert len(office.grid()) == 4
    if office.kind == "google":
        assert office.requests("values:batchUpdate") == 1
        assert office.requests(":append") == 0


def test_a_cancelled_registration_keeps_its_row_with_status_rezygnacja(office: Office) -> None:
    [body] = office.register()
    office.round()

    office.client.delete(f"/api/registrations/{body['manage_url'].rsplit('/', 1)[1]}")
    office.round()

    assert len(office.grid()) == 2
    assert office.row(body["id"])[STATUS_HEADER] == "rezygnacja"


def test_a_row_staff_sorted_away_is_still_updated_by_its_id(office: Office) -> None:
    bodies = office.register(3)
    office.round()
    office.staff.sort_rows(office.event, office.grid()[0].index("Imię"), descending=True)
    assert office.grid()[1][office.grid()[0].index(ID_HEADER)] == bodies[2]["id"]

    token = bodies[0]["manage_url"].rsplit("/", 1)[1]
    office.client.patch(f"/api/registrations/{token}", json={"last_name": "Zmieniona"})
    office.round()

    assert office.row(bodies[0]["id"])["Nazwisko"] == "Zmieniona"
    assert office.row(bodies[0]["id"])["Imię"] == "Osoba0"
    assert [office.row(b["id"])["Nazwisko"] for b in bodies[1:]] == ["Nowak", "Nowak"]


def test_a_changed_registration_whose_row_staff_deleted_is_appended_again(office: Office) -> None:
    [kept, deleted] = office.register(2)
    office.round()
    office.staff.delete_row(office.event, 2)

    office.client.patch(
        f"/api/registrations/{deleted['manage_url'].rsplit('/', 1)[1]}", json={"role": "skarbnik"}
    )
    office.round()
    office.round()

    assert office.row(deleted["id"])["Funkcja w przedsiębiorstwie"] == "skarbnik"
    assert len(office.grid()) == 3


class SortsOnFirstWrite:
    """A sink whose worksheet is sorted by staff right between the syncer's read and its write;
    with `fail_check`, Google then also fails the read that checks the write."""

    def __init__(self, sink: Sink, staff: Any, fail_check: bool = False) -> None:
        self._sink = sink
        self._staff = staff
        self.sorted = False
        self.fail_check = fail_check

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sink, name)

    def find(self, event: Any) -> RegistrationSheet | None:
        sheet = self._sink.find(event)
        return None if sheet is None else _Sorting(sheet, self, event)

    def create(self, event: Any) -> RegistrationSheet:
        return _Sorting(self._sink.create(event), self, event)


class _Sorting:
    def __init__(self, sheet: RegistrationSheet, owner: SortsOnFirstWrite, event: Any) -> None:
        self._sheet = sheet
        self._owner = owner
        self._event = event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)

    def write(self, runs: list[CellRun]) -> None:
        if runs and not self._owner.sorted and self._owner._staff.grid(self._event)[0]:
            self._owner.sorted = True
            grid = self._owner._staff.grid(self._event)
            self._owner._staff.sort_rows(self._event, grid[0].index("Imię"), descending=True)
            self._sheet = self._owner._sink.find(self._event)  # type: ignore[assignment]
            self._sheet.write(runs)
            self._failing = self._owner.fail_check
            return
        self._sheet.write(runs)

    def read(self) -> Any:
        if getattr(self, "_failing", False):
            self._failing = self._owner.fail_check = False
            raise SinkError("Google answered 503 to reading the worksheet", permanent=False)
        return self._sheet.read()


@pytest.mark.parametrize("kind", ["workbook", "google"])
def test_a_row_sorted_between_the_read_and_the_write_is_detected_and_repaired(
    kind: str,
    tmp_path: Path,
    clock: FakeClock,
    smtp_server: Mailbox,
    request: pytest.FixtureRequest,
) -> None:
    wrapper: dict[str, SortsOnFirstWrite] = {}

    def wrap(sink: Sink, staff: Any) -> Sink:
        wrapper["sink"] = SortsOnFirstWrite(sink, staff)
        return wrapper["sink"]

    emulator = _emulator(request, kind)
    office = make_office(kind, tmp_path, clock, smtp_server, emulator, wrap=wrap)
    try:
        bodies = office.register(3)
        office.round()  # appends only: no write by position yet
        office.staff.insert_column(office.event, len(office.grid()[0]), "Notatki biura")
        for i, body in enumerate(bodies):
            office.type_in(body["id"], "Notatki biura", f"notatka {i}")

        token = bodies[0]["manage_url"].rsplit("/", 1)[1]
        office.client.patch(f"/api/registrations/{token}", json={"last_name": "Zmieniona"})
        office.round()
        rows = [office.row(b["id"]) for b in bodies]
    finally:
        close(office)

    assert wrapper["sink"].sorted
    assert [r["Imię"] for r in rows] == ["Osoba0", "Osoba1", "Osoba2"]
    assert [r["Nazwisko"] for r in rows] == ["Zmieniona", "Nowak", "Nowak"]
    assert [r["Notatki biura"] for r in rows] == ["notatka 0", "notatka 1", "notatka 2"]


# -- decisions typed in the sheet --------------------------------------------------------------


def test_a_decision_is_applied_once_and_the_freed_seat_goes_to_the_waiting_list(
    office: Office,
) -> None:
    seated = office.register(3)
    [waiting] = office.register(1, start=3)
    office.round()
    office.deliver()

    office.type_in(seated[0]["id"], DECISION_HEADER, "rezygnacja")
    for _ in range(3):
        office.round()
    mails = office.deliver()

    assert office.status(seated[0]["id"]) == "cancelled"
    assert office.status(waiting["id"]) == "confirmed"
    assert sorted(m["Subject"] for m in mails) == [
        "Rezygnacja zapisana: Otwarte",
        "Zwolniło się miejsce – udział potwierdzony: Otwarte",
    ]
    assert office.row(seated[0]["id"])[STATUS_HEADER] == "rezygnacja"
    assert office.row(seated[0]["id"])[DECISION_HEADER] == "rezygnacja"
    assert office.row(waiting["id"])[STATUS_HEADER] == "potwierdzone"
    with office.svc.store.transaction() as session:
        recorded = [
            (c.old_status, c.new_status, c.actor, c.decision)
            for c in session.scalars(
                select(StatusChange).where(StatusChange.registration_id == seated[0]["id"])
            )
        ]
    assert recorded == [("confirmed", "cancelled", "staff", "rezygnacja")]


def test_a_later_different_decision_applies_and_clearing_one_undoes_nothing(
    office: Office,
) -> None:
    [body] = office.register()
    office.round()

    office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
    office.round()
    office.type_in(body["id"], DECISION_HEADER, "odrzucone")
    office.round()
    rejected = office.status(body["id"])
    office.type_in(body["id"], DECISION_HEADER, "")
    office.round()

    assert rejected == "rejected"
    assert office.status(body["id"]) == "rejected"
    assert office.row(body["id"])[STATUS_HEADER] == "odrzucone"
    subjects = [m["Subject"] for m in office.deliver()]
    assert subjects.count("Zgłoszenie odrzucone: Otwarte") == 1


@pytest.mark.parametrize("typed", ["  PRZYJETE ", "Przyjęte", "przyjete"])
def test_typed_decisions_are_normalised_and_przyjete_confirms_above_capacity(
    office: Office, typed: str
) -> None:
    office.register(3)
    [waiting] = office.register(1, start=3)
    office.round()

    office.type_in(waiting["id"], DECISION_HEADER, typed)
    office.round()

    assert office.status(waiting["id"]) == "confirmed"  # a fourth seat: staff's call
    assert office.row(waiting["id"])[NOTES_HEADER] == ""


def test_an_unknown_id_or_value_is_noted_on_its_row_not_applied_and_the_note_cleared(
    office: Office,
) -> None:
    [body] = office.register()
    office.round()
    grid = office.grid()
    stranger = len(grid)
    office.staff.set_cell(office.event, stranger, grid[0].index(ID_HEADER), "R-NIE-MA")
    office.staff.set_cell(office.event, stranger, grid[0].index(DECISION_HEADER), "rezygnacja")
    office.type_in(body["id"], DECISION_HEADER, "może")

    office.round()
    noted = {row[0]: row for row in office.grid()[1:]}
    notes_at = office.grid()[0].index(NOTES_HEADER)
    office.type_in(body["id"], DECISION_HEADER, "")
    office.round()

    assert office.status(body["id"]) == "confirmed"
    assert noted["R-NIE-MA"][notes_at] == "Nieznany numer zgłoszenia – decyzji nie zastosowano."
    assert noted[body["id"]][notes_at].startswith("Nieznana decyzja „może”")
    assert office.row(body["id"])[NOTES_HEADER] == ""


def test_staff_text_in_the_decision_column_never_reaches_the_log_and_is_logged_once_by_id(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    [body] = office.register()
    office.round()
    typed = "rezygnacja – dzwoniła p. Alicja Kowalska, tel. 601 234 567, PESEL 85051712345 "
    office.type_in(body["id"], DECISION_HEADER, typed * 40)
    grid = office.grid()
    office.staff.set_cell(office.event, len(grid), grid[0].index(ID_HEADER), "Kowalska 601234567")
    office.staff.set_cell(office.event, len(grid), grid[0].index(DECISION_HEADER), "rezygnacja")

    with caplog.at_level(logging.INFO):
        for _ in range(3):  # decisions are read every round here
            office.round()

    for secret in ("Alicja", "Kowalska", "601 234 567", "601234567", "85051712345"):
        assert secret not in caplog.text
    logged = [r.getMessage() for r in caplog.records if "decision column" in r.getMessage()]
    assert len(logged) == 1 and f"({body['id']})" in logged[0]
    assert len([r for r in caplog.records if "not a registration" in r.getMessage()]) == 1
    assert max(len(r.getMessage()) for r in caplog.records) < 500
    note = office.row(body["id"])[NOTES_HEADER]
    assert note.startswith("Nieznana decyzja „rezygnacja – dzwoniła") and len(note) < 200
    assert office.status(body["id"]) == "confirmed"


def test_a_decision_typed_under_a_decision_header_staff_deleted_is_noted_with_the_column_to_use(
    office: Office,
) -> None:
    [body] = office.register()
    office.round()
    old = office.grid()[0].index(DECISION_HEADER)
    office.staff.clear_cell(office.event, 0, old)  # staff deleted the header …
    office.round()  # … so the service adds its decision column at the end
    header = office.grid()[0]
    new = header.index(DECISION_HEADER)
    assert new > old

    office.staff.set_cell(office.event, 1, old, "rezygnacja")  # in the old column
    office.round()
    noted = office.row(body["id"])[NOTES_HEADER]
    office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
    office.round()

    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert noted == (
        f"Decyzja wpisana w kolumnie {letters[old]} nie została zastosowana: decyzje są "
        f"odczytywane tylko z kolumny „{DECISION_HEADER}” (kolumna {letters[new]})."
    )
    assert office.status(body["id"]) == "cancelled"  # typed in the right column: applied
    assert office.row(body["id"])[NOTES_HEADER] == ""


def test_staff_sort_and_filter_before_deciding_and_the_decision_finds_its_registration(
    office: Office,
) -> None:
    bodies = office.register(3)
    office.round()
    grid = office.grid()
    office.staff.sort_rows(office.event, grid[0].index("Imię"), descending=True)
    if office.kind == "google":
        office.staff.set_filter(office.event, grid[0].index("Imię"), ["Osoba2"])

    office.type_in(bodies[1]["id"], DECISION_HEADER, "odrzucone")
    office.round()

    assert [office.status(b["id"]) for b in bodies] == ["confirmed", "rejected", "confirmed"]
    assert office.row(bodies[1]["id"])[STATUS_HEADER] == "odrzucone"
    assert office.row(bodies[1]["id"])["Imię"] == "Osoba1"


def test_a_decision_racing_the_participants_own_cancellation_sends_one_email(
    office: Office,
) -> None:
    [body] = office.register()
    office.round()
    office.deliver()

    office.type_in(body["id"], DECISION_HEADER, "rezygnacja")  # typed, not yet read …
    office.client.delete(f"/api/registrations/{body['manage_url'].rsplit('/', 1)[1]}")  # … first
    office.round()
    office.round()

    assert office.status(body["id"]) == "cancelled"
    assert [m["Subject"] for m in office.deliver()] == ["Rezygnacja zapisana: Otwarte"]
    with office.svc.store.transaction() as session:
        changes = list(session.scalars(select(StatusChange)))
    assert [(c.actor, c.old_status, c.new_status) for c in changes] == [
        ("participant", "confirmed", "cancelled"),
        ("staff", "cancelled", "cancelled"),  # the decision is recorded, nothing else happens
    ]


def test_after_the_event_started_decisions_change_statuses_but_promote_nobody(
    office: Office, clock: FakeClock
) -> None:
    seated = office.register(3)
    [waiting] = office.register(1, start=3)
    office.round()

    clock.set(office.event.starts_at.isoformat())
    office.type_in(seated[0]["id"], DECISION_HEADER, "rezygnacja")
    office.round()

    assert office.status(seated[0]["id"]) == "cancelled"
    assert office.status(waiting["id"]) == "waitlisted"


def test_decisions_keep_working_after_the_close_off_protection(
    office: Office, clock: FakeClock
) -> None:
    [body] = office.register()
    office.round()
    result = office.app.test_cli_runner().invoke(args=["close-off", "--event", OPEN, "--force"])
    assert result.exit_code == 0, result.output

    office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
    office.round()

    assert office.status(body["id"]) == "cancelled"
    assert office.row(body["id"])[STATUS_HEADER] == "rezygnacja"


@pytest.mark.parametrize("kind", ["workbook", "google"])
def test_two_workers_apply_a_decision_once(
    kind: str,
    tmp_path: Path,
    clock: FakeClock,
    smtp_server: Mailbox,
    request: pytest.FixtureRequest,
) -> None:
    one = make_office(kind, tmp_path, clock, smtp_server, _emulator(request, kind))
    two = Office(create_app(one.svc.settings, clock=clock), one.staff, smtp_server, kind)
    try:
        [body] = one.register()
        one.round()
        one.type_in(body["id"], DECISION_HEADER, "rezygnacja")

        barrier = threading.Barrier(2)

        def rounds(office: Office) -> None:
            barrier.wait()
            for _ in range(3):
                office.round()

        threads = [threading.Thread(target=rounds, args=(o,)) for o in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        mails = one.deliver() + two.deliver()
    finally:
        close(two)
        close(one)

    assert [m["Subject"] for m in mails].count("Rezygnacja zapisana: Otwarte") == 1


# -- the worksheet itself ----------------------------------------------------------------------


def test_a_new_google_worksheet_is_laid_out_in_one_call(
    google_office: Office, sheets_emulator: Any
) -> None:
    office = google_office
    office.register()
    sheets_emulator.clear_requests_log()
    office.round()
    spreadsheet = office.staff.spreadsheet_id
    info = sheets_emulator.sheet_info(spreadsheet, TITLE)
    header = office.grid()[0]
    decision = sheets_emulator.cell(spreadsheet, TITLE, "D2")
    bold = sheets_emulator.cell(spreadsheet, TITLE, "A1").bold
    creations = [
        r
        for r in sheets_emulator.requests_log
        if r.path.endswith(":batchUpdate")
        and "addSheet" in r.body
        and "updateCells" in r.body
        and "Podsumowanie" not in r.body  # the summary's worksheet, made in one call too
    ]
    header_writes = [r for r in sheets_emulator.requests_log if r.method == "PUT"]

    assert len(creations) == 1 and header_writes == []
    assert all(
        kind in creations[0].body for kind in ("setDataValidation", "addConditionalFormatRule")
    )
    assert info.frozen_rows == 1 and bold
    assert header[3] == DECISION_HEADER
    assert decision.validation is not None
    values = [v["userEnteredValue"] for v in decision.validation["condition"]["values"]]
    assert values == ["rezygnacja", "odrzucone", "przyjęte"]
    assert info.column_widths[0] >= 100 and info.column_widths[2] >= 110  # ID, status
    assert "setBasicFilter" in creations[0].body  # the filter in the same one call
    formulas = [
        rule["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
        for rule in info.conditional_formats
    ]
    assert formulas == ['=OR($C2="rezygnacja",$C2="odrzucone")', '=$C2="lista rezerwowa"']


def test_a_new_workbook_sheet_is_laid_out_for_work(workbook_office: Office) -> None:
    office = workbook_office
    office.register()
    office.round()
    sheet = load_workbook(office.svc.instance_path / f"{OPEN}.xlsx")[TITLE]

    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    [validation] = sheet.data_validations.dataValidation
    assert validation.formula1 == '"rezygnacja,odrzucone,przyjęte"'
    assert str(validation.sqref).startswith("D2:D")
    assert len(sheet.conditional_formatting) == 1  # one range, two rules
    assert sheet.column_dimensions["A"].width >= 17


def test_the_decision_column_and_its_dropdown_join_an_existing_worksheet(office: Office) -> None:
    [body] = office.register()
    office.round()
    header = office.grid()[0]
    # An older worksheet: without the decision and note columns.
    for name in (NOTES_HEADER, DECISION_HEADER):
        _delete_column(office, header.index(name))
        header = office.grid()[0]
    assert DECISION_HEADER not in header

    office.round()
    office.type_in(body["id"], DECISION_HEADER, "odrzucone")
    office.round()

    assert office.grid()[0][-2:] == [DECISION_HEADER, NOTES_HEADER]
    assert office.status(body["id"]) == "rejected"


def _delete_column(office: Office, index: int) -> None:
    if office.kind == "google":
        sheet_id = office.staff._worksheet(office.event).id
        office.staff._batch(
            {
                "deleteDimension": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1,
                    }
                }
            }
        )
    else:
        from sheets.local import save_atomically

        path = office.svc.instance_path / f"{OPEN}.xlsx"
        workbook = load_workbook(path)
        workbook[TITLE].delete_cols(index + 1)
        save_atomically(workbook, path)


def test_decisions_are_read_once_per_pull_interval(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox, sheets_emulator: Any
) -> None:
    office = make_office(
        "google", tmp_path, clock, smtp_server, sheets_emulator, sheets_pull_interval_seconds=30
    )
    try:
        office.register()
        office.round()  # creates the worksheet and appends
        sheets_emulator.clear_requests_log()
        for _ in range(5):
            office.round()  # idle rounds within the interval
        reads = [
            r for r in sheets_emulator.requests_log if r.method == "GET" and "/values/" in r.path
        ]
    finally:
        close(office)

    assert len(reads) <= 1


def test_an_older_copy_saved_over_the_workbook_is_rewritten_from_the_store(
    workbook_office: Office,
) -> None:
    office = workbook_office
    [body] = office.register()
    office.round()
    old = office.staff.snapshot(office.event)
    office.client.delete(f"/api/registrations/{body['manage_url'].rsplit('/', 1)[1]}")
    office.round()
    assert office.row(body["id"])[STATUS_HEADER] == "rezygnacja"

    office.staff.save_over(office.event, old)
    assert office.row(body["id"])[STATUS_HEADER] == "potwierdzone"
    office.round()

    assert office.row(body["id"])[STATUS_HEADER] == "rezygnacja"


def test_a_decision_typed_in_the_workbook_keeps_staffs_own_cells(office: Office) -> None:
    [body] = office.register()
    office.round()
    office.staff.insert_column(office.event, 1, "Kto dzwonił")
    office.type_in(body["id"], "Kto dzwonił", "Ewa")

    office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
    office.round()

    assert office.row(body["id"])["Kto dzwonił"] == "Ewa"
    assert office.row(body["id"])[STATUS_HEADER] == "rezygnacja"


# -- the summary follows the counts ------------------------------------------------------------


def _summary(office: Office) -> dict[str, Any]:
    if office.kind == "google":
        rows = office.staff.server.effective_values(
            office.staff.spreadsheet_id, "Podsumowanie – Otwarte"
        )
    else:
        book = load_workbook(office.svc.instance_path / f"{OPEN}.xlsx")
        rows = list(book["Podsumowanie"].iter_rows(values_only=True))
    return {row[0]: (row[1] if len(row) > 1 else None) for row in rows if row and row[0]}


def test_the_summary_is_rewritten_when_counts_change_with_numbers_as_numbers(
    office: Office,
) -> None:
    seated = office.register(3, diet="other", diet_other="bez orzechów")
    office.register(1, start=3)
    office.round()
    first = _summary(office)

    office.client.delete(f"/api/registrations/{seated[0]['manage_url'].rsplit('/', 1)[1]}")
    office.round()
    second = _summary(office)

    assert first["Uczestnicy potwierdzeni"] == 3 and first["Lista rezerwowa"] == 1
    assert first["1. Osoba3 Nowak"] == "Firma 3"
    assert first["Osoba0 Nowak"] == "bez orzechów"
    assert second["Rezygnacje"] == 1 and second["Lista rezerwowa"] == 0
    assert second["Uczestnicy potwierdzeni"] == 3
    assert "Stan na" in second


def test_the_summary_is_not_rewritten_when_nothing_changed(
    google_office: Office, clock: FakeClock, sheets_emulator: Any
) -> None:
    google_office.register()
    google_office.round()
    sheets_emulator.clear_requests_log()
    clock.advance(600)  # only the time would differ

    google_office.round()

    rewrites = [r for r in sheets_emulator.requests_log if "updateCells" in r.body]

    assert rewrites == []


# -- staff hear about late changes ------------------------------------------------------------


def test_after_the_close_off_staff_get_one_digest_of_changes_per_interval(
    office: Office, clock: FakeClock
) -> None:
    seated = office.register(3)
    office.register(1, start=3)
    office.round()
    office.app.test_cli_runner().invoke(args=["close-off", "--event", OPEN, "--force"])
    office.deliver()

    office.client.delete(f"/api/registrations/{seated[0]['manage_url'].rsplit('/', 1)[1]}")
    office.round()
    first = [m for m in office.deliver() if m["Subject"].startswith("Zmiany po zamknięciu")]
    office.client.delete(f"/api/registrations/{seated[1]['manage_url'].rsplit('/', 1)[1]}")
    office.round()
    too_soon = [m for m in office.deliver() if m["Subject"].startswith("Zmiany po zamknięciu")]
    clock.advance(60 * 60)
    office.round()
    later = [m for m in office.deliver() if m["Subject"].startswith("Zmiany po zamknięciu")]

    [digest] = first
    text = str(digest.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert digest["To"] == "a.szulczewski@fundacjacp.org"
    assert "Osoba0 Nowak (Firma 0)" in text and "potwierdzone → rezygnacja (uczestnik)" in text
    assert "Osoba3 Nowak (Firma 3)" in text and "lista rezerwowa → potwierdzone" in text
    assert too_soon == []
    [second] = later
    assert "Osoba1 Nowak" in str(second.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "Osoba0 Nowak" not in str(second.get_body(("plain",)).get_content())  # type: ignore[union-attr]


# -- what the review found: copies, stale decisions, interrupted repairs ------------------------


def _copy_row_below(office: Office, registration_id: str) -> None:
    """Staff copy a whole row and paste it under the table (Ctrl+C, Ctrl+V)."""
    grid = office.grid()
    [row] = [r for r in grid[1:] if r and r[grid[0].index(ID_HEADER)] == registration_id]
    target = len(grid)
    for column, value in enumerate(row):
        if value:
            office.staff.set_cell(office.event, target, column, value)


def test_a_row_staff_copied_never_stops_the_sync_and_decides_nothing(office: Office) -> None:
    [copied] = office.register()
    office.round()
    _copy_row_below(office, copied["id"])

    token = copied["manage_url"].rsplit("/", 1)[1]
    office.client.patch(f"/api/registrations/{token}", json={"role": "skarbnik"})
    [later] = office.register(1, start=1)
    office.round()

    grid = office.grid()
    ids = [row[grid[0].index(ID_HEADER)] for row in grid[1:]]
    assert ids.count(copied["id"]) == 2 and later["id"] in ids
    copies = [row for row in grid[1:] if row[grid[0].index(ID_HEADER)] == copied["id"]]
    role = grid[0].index("Funkcja w przedsiębiorstwie")
    notes = grid[0].index(NOTES_HEADER)
    assert [row[role] for row in copies] == ["skarbnik", "skarbnik"]
    assert all(
        row[notes].startswith("Ten numer zgłoszenia jest w arkuszu w kilku") for row in copies
    )
    health = office.client.get("/healthz").get_json()
    assert health["sync"]["last_error"] is None and health["sync"]["pending"] == 0


def test_a_decision_typed_before_the_participant_acted_is_not_carried_out_but_noted(
    office: Office, clock: FakeClock
) -> None:
    office.register(3)
    [waiting] = office.register(1, start=3)
    office.round()  # the sheet is read: staff type after this
    office.deliver()

    office.type_in(waiting["id"], DECISION_HEADER, "przyjęte")  # staff, seeing the waiting list
    clock.advance(5)
    office.client.delete(f"/api/registrations/{waiting['manage_url'].rsplit('/', 1)[1]}")
    office.round()
    office.round()

    assert office.status(waiting["id"]) == "cancelled"  # the participant's commit came first
    assert office.row(waiting["id"])[NOTES_HEADER].startswith("Decyzji nie zastosowano")
    assert [m["Subject"] for m in office.deliver()] == ["Rezygnacja zapisana: Otwarte"]

    office.type_in(waiting["id"], DECISION_HEADER, "")  # staff check, clear and choose again
    office.round()
    office.type_in(waiting["id"], DECISION_HEADER, "przyjęte")
    office.round()

    assert office.status(waiting["id"]) == "confirmed"
    assert office.row(waiting["id"])[NOTES_HEADER] == ""


def test_clearing_a_decision_lets_staff_restore_someone_who_cancelled_since(
    office: Office, clock: FakeClock
) -> None:
    office.register(3)
    [waiting] = office.register(1, start=3)
    office.round()
    office.type_in(waiting["id"], DECISION_HEADER, "przyjęte")
    office.round()
    assert office.status(waiting["id"]) == "confirmed"

    clock.advance(60)
    office.client.delete(f"/api/registrations/{waiting['manage_url'].rsplit('/', 1)[1]}")
    office.round()
    clock.advance(60)  # … then phones to come after all
    office.type_in(waiting["id"], DECISION_HEADER, "")
    office.round()
    office.type_in(waiting["id"], DECISION_HEADER, "przyjęte")
    office.round()

    assert office.status(waiting["id"]) == "confirmed"
    assert office.row(waiting["id"])[STATUS_HEADER] == "potwierdzone"


@pytest.mark.parametrize("kind", ["workbook", "google"])
def test_a_repair_cut_short_by_google_is_finished_before_any_decision_is_read(
    kind: str,
    tmp_path: Path,
    clock: FakeClock,
    smtp_server: Mailbox,
    request: pytest.FixtureRequest,
) -> None:
    """Our write lands on the row of someone staff rejected (a sort in between); Google then
    fails the read that would have caught it. The next attempt puts the rows right first:
    the rejection is not read as a decision about the participant whose data landed there."""

    def wrap(sink: Sink, staff: Any) -> Sink:
        return SortsOnFirstWrite(sink, staff, fail_check=True)

    office = make_office(kind, tmp_path, clock, smtp_server, _emulator(request, kind), wrap=wrap)
    try:
        [changed, rejected] = office.register(2)
        office.round()
        office.type_in(rejected["id"], DECISION_HEADER, "odrzucone")
        office.round()
        office.deliver()

        token = changed["manage_url"].rsplit("/", 1)[1]
        office.client.patch(f"/api/registrations/{token}", json={"role": "skarbnik"})
        office.round()  # sorted mid-write, the check read fails, the retry repairs first
        office.round()
        rows = (office.row(changed["id"]), office.row(rejected["id"]))
        statuses = (office.status(changed["id"]), office.status(rejected["id"]))
        subjects = [m["Subject"] for m in office.deliver()]
    finally:
        close(office)

    assert statuses == ("confirmed", "rejected")
    assert rows[0]["Funkcja w przedsiębiorstwie"] == "skarbnik" and rows[0][DECISION_HEADER] == ""
    assert rows[1][DECISION_HEADER] == "odrzucone" and rows[1]["Imię"] == "Osoba1"
    assert subjects == ["Zmiana danych zgłoszenia: Otwarte"]
