"""Staff saving their copy of `instance/<slug>.xlsx` while the service writes it loses nothing.

Staff's Excel (openpyxl stands in: load, change a cell of their own, save in place) saves in a
tight loop while registrations arrive and the worker's rounds run: every registration ends up
with its row, and staff's own column, their own row and their last save survive. Then each way
a save used to lose rows, or to be called a broken file, on its own.
"""

from __future__ import annotations

import logging
import os
import random
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from app import create_app
from config.services import Services
from config.settings import Settings
from sheets import workbook_file
from sheets.local import excel_title
from sheets.rows import ID_HEADER
from sheets.workbook_file import digest
from staff.summary import LiveSummary
from tests.conftest import KLASTER, FakeClock, own_events, valid_payload

URL = f"/api/events/{KLASTER}/registrations"
REPETITIONS = 20
STAFF_COLUMN = "Notatka biura"
STAFF_ROW = "Rezerwacja sali – potwierdzić"


@pytest.fixture
def office(tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
        sheets_backoff_max_seconds=0.01,
        sheets_pull_interval_seconds=0.001,  # staff's copy is read every round
    )
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["owes"].store.dispose()


def _workbook(svc: Services) -> Path:
    return svc.instance_path / f"{KLASTER}.xlsx"


def _grid(path: Path, title: str) -> list[list[str]]:
    sheet = load_workbook(path)[title]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


class StaffExcel:
    """Staff's spreadsheet program: opens the file, writes a note of their own, saves it back in
    place (openpyxl truncates and rewrites the file, as a half-finished save leaves it), again
    and again, some saves from a copy opened a while ago."""

    def __init__(self, path: Path, title: str, seed: int) -> None:
        self.path = path
        self.title = title
        self.random = random.Random(seed)
        self.saves = 0
        self.last_note = ""
        self.failures: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> StaffExcel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._save_once()
            except (zipfile.BadZipFile, KeyError, OSError, EOFError):
                continue  # the service was replacing the file as staff opened it: open again
            except BaseException as exc:  # noqa: BLE001 (reported by the test)
                self.failures.append(exc)
                return

    def _save_once(self) -> None:
        workbook = load_workbook(self.path)
        sheet = workbook[self.title]
        header = [cell.value for cell in sheet[1]]
        # Staff's Excel keeps the file open a moment (or long) before saving it back.
        self._stop.wait(self.random.choice([0, 0, 0.005, 0.02, 0.05]))
        note = f"zapis {self.saves + 1}"
        column = header.index(STAFF_COLUMN) + 1
        sheet.cell(row=2, column=column).value = note
        workbook.save(self.path)
        self.saves += 1
        self.last_note = note


def _prepare_staff_columns(app: Flask) -> str:
    """The first registration synced; staff add a column of their own and a row of their own."""
    svc: Services = app.extensions["owes"]
    client = app.test_client()
    response = client.post(URL, json=valid_payload(email="pierwsza@example.pl"))
    assert response.status_code == 201
    svc.worker.run_once()
    title = excel_title(svc.events[KLASTER].worksheet_title)
    workbook = load_workbook(_workbook(svc))
    sheet = workbook[title]
    width = len([c for c in sheet[1] if c.value])
    sheet.cell(row=1, column=width + 1).value = STAFF_COLUMN
    sheet.cell(row=3, column=width + 1).value = STAFF_ROW
    workbook.save(_workbook(svc))
    return str(response.get_json()["id"])


def _rounds(svc: Services, stop: threading.Event, failures: list[BaseException]) -> None:
    while not stop.is_set():
        try:
            svc.worker.run_once()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            failures.append(exc)
            return
        stop.wait(0.01)


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_every_row_reaches_the_workbook_while_staff_save_copies_in_a_tight_loop(
    office: Flask, repetition: int
) -> None:
    svc: Services = office.extensions["owes"]
    client = office.test_client()
    title = excel_title(svc.events[KLASTER].worksheet_title)
    ids = [_prepare_staff_columns(office)]
    stop_rounds = threading.Event()
    worker_failures: list[BaseException] = []
    rounds = threading.Thread(target=_rounds, args=(svc, stop_rounds, worker_failures))
    with StaffExcel(_workbook(svc), title, seed=repetition) as staff:
        rounds.start()
        try:
            for i in range(12):
                payload: dict[str, Any] = valid_payload(
                    email=f"osoba{repetition}-{i}@example.pl", first_name=f"Osoba{i}"
                )
                response = client.post(URL, json=payload)
                assert response.status_code == 201, response.get_json()
                ids.append(response.get_json()["id"])
                threading.Event().wait(staff.random.choice([0.005, 0.02, 0.04]))
        finally:
            stop_rounds.set()
            rounds.join(60)
    assert not staff.failures and not worker_failures, (staff.failures, worker_failures)
    assert staff.saves > 5

    for _ in range(2):  # within two rounds of staff's last save
        svc.worker.run_once()

    grid = _grid(_workbook(svc), title)
    id_column = grid[0].index(ID_HEADER)
    in_sheet = [row[id_column] for row in grid[1:] if len(row) > id_column]
    assert sorted(i for i in in_sheet if i) == sorted(ids)
    note_column = grid[0].index(STAFF_COLUMN)
    assert grid[1][note_column] == staff.last_note  # staff's last save kept
    assert [row[note_column] for row in grid if STAFF_ROW in row] == [STAFF_ROW]  # staff's row
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["sync"]["pending"] == 0


# -- the ways a staff save used to lose rows, one by one ---------------------------------------


@pytest.fixture
def default_app(app: Flask) -> Flask:
    """The app as shipped: decisions read every 30 s, the worksheet checked every 60 s."""
    return app


def _register(client: FlaskClient, email: str) -> str:
    payload = valid_payload(email=email, enterprise_name=f"Spółdzielnia {email.split('@')[0]}")
    response = client.post(URL, json=payload)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _ids(svc: Services) -> list[str]:
    grid = _grid(_workbook(svc), excel_title(svc.events[KLASTER].worksheet_title))
    column = grid[0].index(ID_HEADER)
    return [row[column] for row in grid[1:] if len(row) > column and row[column]]


def test_an_older_copy_saved_after_the_rounds_check_is_not_stamped_current_by_a_later_save(
    default_app: Flask, client: FlaskClient
) -> None:
    svc: Services = default_app.extensions["owes"]
    first = _register(client, "pierwsza@example.pl")
    svc.worker.run_once()
    older = _workbook(svc).read_bytes()  # staff open the file
    second = _register(client, "druga@example.pl")
    svc.worker.run_once()

    _workbook(svc).write_bytes(older)  # staff save their copy right after the round's check …
    LiveSummary(svc.store, svc.sink, svc.clock, logging.getLogger("t")).refresh(
        svc.events[KLASTER]  # … and the service saves the file next (a new count to write)
    )
    assert client.get("/healthz").get_json()["sync"]["missing_rows"] == 1
    svc.worker.run_once()
    svc.worker.run_once()

    assert sorted(_ids(svc)) == sorted([first, second])
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["sync"]["missing_rows"] == 0


def test_a_row_missing_from_a_copy_staff_saved_is_written_again_within_two_rounds(
    default_app: Flask, client: FlaskClient
) -> None:
    svc: Services = default_app.extensions["owes"]
    ids = [_register(client, f"osoba{i}@example.pl") for i in range(3)]
    svc.worker.run_once()
    title = excel_title(svc.events[KLASTER].worksheet_title)
    workbook = load_workbook(_workbook(svc))
    workbook[title].delete_rows(3)  # a copy of the current file, without one row
    workbook.save(_workbook(svc))

    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["sync"]["missing_rows"] == 1
    svc.worker.run_once()
    svc.worker.run_once()

    assert sorted(_ids(svc)) == sorted(ids)
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_a_save_staff_began_into_the_file_as_it_was_replaced_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "arkusz.xlsx"
    path.write_bytes(b"as read")
    staff = path.open("r+b")  # staff's program opened the file to save into it …
    real_replace = os.replace

    def staff_save_then_replace(source: str, destination: Path) -> None:
        if not staff.tell():  # … and saves in place just before the service's rename
            staff.truncate(0)
            staff.write(b"staff's save")
            staff.flush()
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", staff_save_then_replace)
    with staff:
        replaced = workbook_file.replace_if_unchanged(path, b"ours", digest(b"as read"))

    assert not replaced  # the change is made again on staff's copy
    assert path.read_bytes() == b"staff's save"
    assert not [p for p in tmp_path.iterdir() if p.name != "arkusz.xlsx"]  # no leftovers


def test_a_file_staff_changed_since_it_was_read_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "arkusz.xlsx"
    path.write_bytes(b"staff's newer save")

    assert not workbook_file.replace_if_unchanged(path, b"ours", digest(b"as read"))
    assert path.read_bytes() == b"staff's newer save"
    assert workbook_file.replace_if_unchanged(path, b"ours", digest(b"staff's newer save"))
    assert path.read_bytes() == b"ours"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- a file read half-saved is not broken ----------------------------------------------------


def test_a_workbook_read_half_way_through_a_staff_save_is_read_again_not_called_broken(
    default_app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    svc: Services = default_app.extensions["owes"]
    first = _register(client, "pierwsza@example.pl")
    svc.worker.run_once()
    whole = _workbook(svc).read_bytes()
    second = _register(client, "druga@example.pl")
    _workbook(svc).write_bytes(whole[: len(whole) // 2])  # staff's program is saving it …
    finishing = threading.Timer(0.1, _workbook(svc).write_bytes, args=(whole,))  # … and done

    with caplog.at_level(logging.INFO):
        finishing.start()
        svc.worker.run_once()
        finishing.join()

    assert sorted(_ids(svc)) == sorted([first, second])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "broken" not in caplog.text
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_only_a_workbook_unreadable_in_two_rounds_is_called_broken(
    default_app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    svc: Services = default_app.extensions["owes"]
    _register(client, "pierwsza@example.pl")
    svc.worker.run_once()
    _register(client, "druga@example.pl")
    _workbook(svc).write_bytes(b"PK\x03\x04 not a whole workbook")

    svc.worker.run_once()
    assert "move the broken file away" not in caplog.text
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["sync"]["last_error"]["code"] == "workbook"

    svc.worker.run_once()
    advice = [r for r in caplog.records if "move the broken file away" in r.getMessage()]
    assert len(advice) == 1 and advice[0].levelno == logging.ERROR
    assert client.get("/healthz").get_json()["sync"]["pending"] == 1
