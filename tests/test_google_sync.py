"""The Google path, with the real gspread client over HTTP against the Sheets API emulator."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app import create_app
from config.settings import Settings
from registrations.status import Status
from sheets.rows import ID_HEADER
from tests.conftest import (
    OPEN,
    FakeClock,
    flask_process,
    free_port,
    gunicorn,
    own_events,
    valid_payload,
)
from tests.sheet_harness import TITLE, URL, Google, GoogleStaff

PROJECT = Path(__file__).parents[1]


@pytest.fixture
def google(sheets_emulator: Any, tmp_path: Path, clock: FakeClock) -> Iterator[Google]:
    setup = Google(sheets_emulator, tmp_path, clock)
    yield setup
    setup.close()


def test_a_burst_goes_in_one_append_call_written_raw(google: Google) -> None:
    ids = google.register(30)
    google.emulator.clear_requests_log()

    assert google.syncer.sync_event(google.event)

    assert google.sheet_ids() == ids
    appends = [r for r in google.emulator.requests_log if ":append" in r.path]
    assert len(appends) == 1
    assert "valueInputOption=RAW" in appends[0].query
    assert "insertDataOption=INSERT_ROWS" in appends[0].query


def test_values_keep_their_type_in_google(google: Google) -> None:
    google.client.post(
        URL, json=valid_payload(pesel="02270803624", first_name='=IMPORTXML("http://x","//a")')
    )
    google.syncer.sync_event(google.event)

    header, row = google.emulator.effective_values(google.spreadsheet_id, TITLE)[:2]
    values = dict(zip(header, row, strict=False))
    assert values["PESEL"] == "02270803624"  # a string, leading zero kept, not 2270803624
    assert values["Telefon"] == "+48 533 316 283"
    assert values["Imię"] == '\'=IMPORTXML("http://x","//a")'
    assert not any(any(r) for r in google.emulator.formulas(google.spreadsheet_id, TITLE))


def test_a_429_storm_during_a_burst_loses_and_duplicates_nothing(google: Google) -> None:
    ids = google.register(25)
    google.emulator.inject("status", status=429, path_contains=":append", times=3)
    google.emulator.inject("status", status=429, method="GET", times=2)

    assert google.syncer.sync_event(google.event)

    assert google.sheet_ids() == ids


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "apply_then_drop"},
        {"action": "apply_then_status", "status": 500},
        {"action": "apply_then_status", "status": 503},
        {"action": "drop"},
        {"action": "status", "status": 502},
    ],
    ids=["applied-then-dropped", "applied-then-500", "applied-then-503", "dropped", "502"],
)
def test_an_append_with_an_uncertain_outcome_is_never_duplicated(
    google: Google, fault: dict[str, Any]
) -> None:
    ids = google.register(5)
    google.emulator.inject(path_contains=":append", times=1, **fault)

    assert google.syncer.sync_event(google.event)

    assert google.sheet_ids() == ids
    assert Counter(google.sheet_ids()).most_common(1)[0][1] == 1


def test_a_slow_answer_times_out_and_the_late_append_is_not_repeated(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> None:
    setup = Google(
        sheets_emulator,
        tmp_path,
        clock,
        sheets_timeout_seconds=0.3,
        sheets_in_flight_settle_seconds=1.0,
    )
    try:
        ids = setup.register(4)
        sheets_emulator.inject("delay", seconds=0.8, path_contains=":append", times=1)

        assert setup.syncer.sync_event(setup.event)

        assert setup.sheet_ids() == ids
    finally:
        setup.close()


def test_a_revoked_share_is_reported_once_rows_wait_and_sync_resumes(
    google: Google, caplog: pytest.LogCaptureFixture
) -> None:
    google.register(1)
    google.syncer.sync_event(google.event)
    google.emulator.set_permission(google.spreadsheet_id, False)
    waiting = google.register(2, start=1)

    with caplog.at_level(logging.ERROR):
        assert not google.syncer.sync_event(google.event)
        assert not google.syncer.sync_event(google.event)
    health = google.client.get("/healthz").get_json()

    assert len([r for r in caplog.records if "share the spreadsheet" in r.getMessage()]) == 1
    assert health["status"] == "degraded"
    assert health["sync"]["pending"] == 2
    assert health["sync"]["last_error"]["code"] == "no_access"
    assert health["sync"]["last_error"]["message"] == (
        "The spreadsheet is not shared with the service account."
    )
    assert google.spreadsheet_id not in str(health)  # no spreadsheet key on a public endpoint

    google.emulator.set_permission(google.spreadsheet_id, True)
    assert google.syncer.sync_event(google.event)
    assert google.sheet_ids()[1:] == waiting
    health = google.client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["sync"]["pending"] == 0


def test_a_wrong_spreadsheet_key_says_what_to_fix(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> None:
    setup = Google(sheets_emulator, tmp_path, clock, spreadsheet_id="nie-ma-takiego")
    try:
        setup.register(1)
        assert not setup.syncer.sync_event(setup.event)
        error = setup.client.get("/healthz").get_json()["sync"]["last_error"]
        check = setup.app.test_cli_runner().invoke(args=["sheets", "check"])
    finally:
        setup.close()

    assert error["code"] == "not_found"
    assert "check SHEETS_SPREADSHEET_ID" in error["message"]
    assert check.exit_code == 1
    assert "spreadsheet nie-ma-takiego does not exist: check SHEETS_SPREADSHEET_ID" in check.output


def test_a_worksheet_deleted_by_staff_mid_sync_is_recreated_and_refilled(google: Google) -> None:
    ids = google.register(3)
    google.syncer.sync_event(google.event)
    spreadsheet = google.services.sink.open_spreadsheet(google.event)
    spreadsheet.del_worksheet(spreadsheet.worksheet(TITLE))
    more = google.register(2, start=3)

    assert google.syncer.sync_event(google.event)

    assert sorted(google.sheet_ids()) == sorted(ids + more)


def test_missing_credentials_never_stop_registrations(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        google_application_credentials=tmp_path / "nie-ma.json",
        sheets_spreadsheet_id="abc",
    )
    app = create_app(settings, clock=clock)
    try:
        client = app.test_client()
        assert client.post(URL, json=valid_payload()).status_code == 201
        app.extensions["owes"].worker.run_once()
        health = client.get("/healthz").get_json()
    finally:
        app.extensions["owes"].store.dispose()

    assert health["sync"]["pending"] == 1
    assert health["sync"]["last_error"]["code"] == "credentials"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"GOOGLE_APPLICATION_CREDENTIALS={tmp_path / 'nie-ma.json'} does not exist" in logged


def test_a_broken_credentials_file_is_reported_without_its_content(
    tmp_path: Path, clock: FakeClock
) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": "TAJNE-123"}))
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        google_application_credentials=key,
        sheets_spreadsheet_id="abc",
    )
    app = create_app(settings, clock=clock)
    try:
        result = app.test_cli_runner().invoke(args=["sheets", "check"])
    finally:
        app.extensions["owes"].store.dispose()

    assert result.exit_code == 1
    assert "is not a Google service-account key" in result.output
    assert "TAJNE-123" not in result.output


def test_sheets_check_passes_on_a_prepared_spreadsheet_and_explains_a_missing_worksheet(
    google: Google,
) -> None:
    runner = google.app.test_cli_runner()
    fresh = runner.invoke(args=["sheets", "check"])
    google.register(1)  # a registration whose worksheet does not exist yet

    missing = runner.invoke(args=["sheets", "check"])
    created = runner.invoke(args=["sheets", "check", "--create"])
    fine = runner.invoke(args=["sheets", "check"])

    assert fresh.exit_code == 0, fresh.output
    assert "no registrations yet" in fresh.output
    assert missing.exit_code == 1
    assert "worksheet 'Zgłoszenia – Klaster PS 2018' is missing" in missing.output
    assert created.exit_code == 0, created.output
    assert fine.exit_code == 0, fine.output
    assert "Everything is in order." in fine.output


def test_sheets_check_names_a_revoked_share(google: Google) -> None:
    google.emulator.set_permission(google.spreadsheet_id, False)

    result = google.app.test_cli_runner().invoke(args=["sheets", "check"])

    assert result.exit_code == 1
    assert "share the spreadsheet" in result.output


def _sync_process(google: Google) -> subprocess.Popen[bytes]:
    env = {
        "INSTANCE_PATH": str(google.settings.instance_path),
        "EVENTS_DIR": str(google.settings.events_dir),
        "SHEETS_EMULATOR_HOST": google.emulator.host_port,
        "SHEETS_SPREADSHEET_ID": google.spreadsheet_id,
        "SYNC_BATCH_SIZE": "10",
        "SHEETS_TIMEOUT_SECONDS": "2",  # longer than the emulator's delay: no timeouts
        "SHEETS_IN_FLIGHT_SETTLE_SECONDS": "0",
        "SHEETS_BACKOFF_MAX_SECONDS": "0",
        "WORKER_LEASE_SECONDS": "5",
    }
    return flask_process("sheets", "sync", env=env)


@pytest.mark.slow
def test_a_syncer_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    sheets_emulator: Any, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    clock = FakeClock(datetime.now(UTC))
    setup = Google(sheets_emulator, tmp_path, clock)
    try:
        setup.event = setup.services.events[OPEN]
        for i in range(25):
            payload = valid_payload(email=f"k{i}@example.pl", enterprise_name=f"E{i}")
            setup.client.post(f"/api/events/{OPEN}/registrations", json=payload)
        # The second batch's append is applied late, after the process is already dead.
        sheets_emulator.inject("delay", seconds=1.5, path_contains=":append", times=2)

        process = _sync_process(setup)
        deadline = time.monotonic() + 20
        while setup.appends() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()  # type: ignore[union-attr]
        time.sleep(5.5)  # the delayed append lands; the lease of the dead process expires

        rerun = _sync_process(setup)
        output, _ = rerun.communicate(timeout=60)

        title = "Zgłoszenia – Otwarte"
        grid = sheets_emulator.values(setup.spreadsheet_id, title)
        column = grid[0].index(ID_HEADER)
        ids = [row[column] for row in grid[1:]]
    finally:
        setup.close()

    assert rerun.returncode == 0, output.decode()
    assert len(ids) == 25
    assert len(set(ids)) == 25


def test_a_failure_while_recreating_a_worksheet_strands_no_row(google: Google) -> None:
    ids = google.register(3)
    google.syncer.sync_event(google.event)
    spreadsheet = google.services.sink.open_spreadsheet(google.event)
    spreadsheet.del_worksheet(spreadsheet.worksheet(TITLE))
    more = google.register(1, start=3)
    # Google adds the new worksheet, then fails the header write that follows.
    google.emulator.inject("status", status=503, method="PUT", path_contains="/values/", times=1)

    assert google.syncer.sync_event(google.event)

    assert sorted(google.sheet_ids()) == sorted(ids + more)
    assert google.emulator.values(google.spreadsheet_id, TITLE)[0][0] == ID_HEADER


def test_a_worksheet_deleted_while_nothing_is_pending_is_refilled_by_the_next_round(
    google: Google,
) -> None:
    ids = google.register(2)
    google.syncer.sync_event(google.event)
    spreadsheet = google.services.sink.open_spreadsheet(google.event)
    spreadsheet.del_worksheet(spreadsheet.worksheet(TITLE))
    google.syncer.sheet_check_seconds = 0  # the worker looks again once a minute

    assert google.syncer.sync_event(google.event)

    assert google.sheet_ids() == ids


def test_sheets_check_create_refills_a_deleted_worksheet(google: Google) -> None:
    ids = google.register(2)
    google.syncer.sync_event(google.event)
    spreadsheet = google.services.sink.open_spreadsheet(google.event)
    spreadsheet.del_worksheet(spreadsheet.worksheet(TITLE))

    result = google.app.test_cli_runner().invoke(args=["sheets", "check", "--create"])

    assert result.exit_code == 0, result.output
    assert google.sheet_ids() == ids


def test_an_empty_header_in_column_a_stops_appends_with_a_clear_message(
    google: Google,
) -> None:
    google.register(1)
    google.syncer.sync_event(google.event)
    staff = GoogleStaff(google.emulator, google.spreadsheet_id)
    staff.insert_column(google.event, 0, "")
    staff.close()
    google.register(1, start=1)
    before = google.emulator.values(google.spreadsheet_id, TITLE)

    assert not google.syncer.sync_event(google.event)

    assert google.emulator.values(google.spreadsheet_id, TITLE) == before
    health = google.client.get("/healthz").get_json()
    assert health["sync"]["last_error"]["code"] == "header"
    assert health["sync"]["pending"] == 1


@pytest.mark.parametrize(
    ("failure", "write", "in_flight"),
    [
        (requests.ReadTimeout("slow"), True, True),
        (requests.ConnectionError("reset"), True, True),
        (requests.ConnectTimeout("no route"), True, False),
        (requests.ReadTimeout("slow"), False, False),
    ],
)
def test_only_writes_that_may_have_landed_wait_before_the_retry(
    failure: Exception, write: bool, in_flight: bool
) -> None:
    from sheets.google import _translate

    error = _translate(failure, "appending rows", None, write=write)

    assert not error.permanent
    assert error.in_flight is in_flight


def test_health_reports_no_success_before_the_sheet_has_answered(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock
) -> None:
    setup = Google(sheets_emulator, tmp_path, clock, spreadsheet_id="nie-ma-takiego")
    try:
        setup.services.worker.run_once()  # nothing pending: Google is never asked
        health = setup.client.get("/healthz").get_json()
    finally:
        setup.close()

    assert health["sync"]["last_success_at"] is None


@pytest.mark.slow
def test_gunicorn_workers_each_with_a_syncer_append_every_row_once(
    sheets_emulator: Any, tmp_path: Path
) -> None:
    """Three gunicorn processes, three background syncers, one lease: no duplicate work."""
    spreadsheet_id = sheets_emulator.create_spreadsheet("Zgłoszenia OWES")
    env = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EVENTS_DIR": str(own_events(tmp_path / "events")),
        "SHEETS_EMULATOR_HOST": sheets_emulator.host_port,
        "SHEETS_SPREADSHEET_ID": spreadsheet_id,
        "SYNC_INTERVAL_SECONDS": "0.2",
        "SYNC_BATCH_SIZE": "5",
    }
    with gunicorn(env) as base, requests.Session() as session:
        url = f"{base}/api/events/{OPEN}/registrations"
        ids = []
        for i in range(30):
            payload = valid_payload(email=f"g{i}@example.pl", enterprise_name=f"E{i}")
            ids.append(session.post(url, json=payload, timeout=10).json()["id"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if session.get(f"{base}/healthz", timeout=5).json()["sync"]["pending"] == 0:
                break
            time.sleep(0.2)

    grid = sheets_emulator.values(spreadsheet_id, "Zgłoszenia – Otwarte")
    column = grid[0].index(ID_HEADER)
    assert sorted(row[column] for row in grid[1:]) == sorted(ids)


def _service_account_key(path: Path, token_uri: str) -> Path:
    """A well-formed service-account key (a fresh RSA key) whose token endpoint is `token_uri`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "rejestracja@owes-test.iam.gserviceaccount.com",
                "private_key": pem,
                "token_uri": token_uri,
            }
        )
    )
    return path


def test_sheets_check_says_the_token_endpoint_cannot_be_reached_and_what_the_server_needs(
    tmp_path: Path, clock: FakeClock
) -> None:
    # Nothing listens on this port: signing in fails as on a server without outbound HTTPS.
    key = _service_account_key(tmp_path / "key.json", f"https://127.0.0.1:{free_port()}/token")
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        google_application_credentials=key,
        sheets_spreadsheet_id="abc",
    )
    app = create_app(settings, clock=clock)
    try:
        result = app.test_cli_runner().invoke(args=["sheets", "check"])
    finally:
        app.extensions["owes"].store.dispose()

    assert result.exit_code == 1
    assert "cannot reach Google's token endpoint (oauth2.googleapis.com)" in result.output
    assert "outbound HTTPS (port 443) to oauth2.googleapis.com and sheets.googleapis.com" in (
        result.output
    )
    assert "TransportError" not in result.output
    assert "PRIVATE KEY" not in result.output


def test_sheets_check_says_the_sheets_api_cannot_be_reached(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        sheets_emulator_host=f"127.0.0.1:{free_port()}",
        sheets_spreadsheet_id="abc",
        sheets_timeout_seconds=2,
    )
    app = create_app(settings, clock=clock)
    try:
        result = app.test_cli_runner().invoke(args=["sheets", "check"])
        health_code = app.test_client().get("/healthz").status_code
    finally:
        app.extensions["owes"].store.dispose()

    assert result.exit_code == 1
    assert "cannot reach the Google Sheets API" in result.output
    assert "needs outbound HTTPS (port 443) to sheets.googleapis.com" in result.output
    assert health_code == 200


def test_sheets_check_create_prints_what_it_created_and_repaired(google: Google) -> None:
    google.register(2)
    runner = google.app.test_cli_runner()

    created = runner.invoke(args=["sheets", "check", "--create"])
    staff = GoogleStaff(google.emulator, google.spreadsheet_id)
    header = google.emulator.values(google.spreadsheet_id, TITLE)[0]
    staff._batch(
        {
            "deleteDimension": {
                "range": {
                    "sheetId": staff._worksheet(google.event).id,
                    "dimension": "COLUMNS",
                    "startIndex": header.index("Decyzja organizatora"),
                    "endIndex": header.index("Decyzja organizatora") + 1,
                }
            }
        }
    )
    repaired = runner.invoke(args=["sheets", "check", "--create"])
    fine = runner.invoke(args=["sheets", "check", "--create"])
    staff.close()

    assert created.exit_code == 0, created.output
    assert "created worksheet 'Zgłoszenia – Klaster PS 2018'" in created.output
    assert "2 row(s) appended" in created.output
    assert repaired.exit_code == 0, repaired.output
    assert "added header cells Decyzja organizatora" in repaired.output
    assert "added the drop-down of decisions in column" in repaired.output
    assert "+ " not in fine.output and "Everything is in order." in fine.output


def _value_reads(google: Google) -> list[str]:
    """The path and query of each read of the worksheet's values, in order."""
    return [
        f"{r.path}?{r.query}"
        for r in google.emulator.requests_log
        if r.method == "GET" and "/values" in r.path
    ]


def test_once_the_header_is_known_a_batch_reads_only_the_ids_decisions_and_notes(
    google: Google,
) -> None:
    ids = google.register(4)
    assert google.syncer.sync_event(google.event)
    ids += google.register(3, start=4)
    google.emulator.clear_requests_log()

    assert google.syncer.sync_event(google.event)

    assert google.sheet_ids() == ids
    reads = _value_reads(google)
    assert len(reads) == 1  # one call per batch, as the whole read was
    assert ":batchGet" in reads[0] and "majorDimension=COLUMNS" in reads[0]


def _first_row_cancelled_after_a_sync(google: Google) -> None:
    """Three rows in the sheet, the first one's registration cancelled since: one to rewrite."""
    answer = google.client.post(URL, json=valid_payload(email="a@example.pl"))
    google.register(2)
    assert google.syncer.sync_event(google.event)
    token = answer.get_json()["manage_url"].rsplit("/", 1)[1]
    assert google.client.delete(f"/api/registrations/{token}").status_code == 200
    google.emulator.clear_requests_log()


def test_a_row_to_rewrite_in_place_is_read_whole_before_the_write(google: Google) -> None:
    """Repairing a row staff moved mid-write tells it by its other cells: they must be read."""
    _first_row_cancelled_after_a_sync(google)

    assert google.syncer.sync_event(google.event)

    reads = _value_reads(google)
    assert ":batchGet" in reads[0] and ":batchGet" not in reads[1]  # the whole sheet
    grid = google.emulator.values(google.spreadsheet_id, TITLE)
    assert grid[1][grid[0].index("Status")] == Status.CANCELLED.label


def test_a_header_changed_by_staff_is_noticed_and_the_whole_sheet_read(google: Google) -> None:
    ids = google.register(3)
    assert google.syncer.sync_event(google.event)
    staff = GoogleStaff(google.emulator, google.spreadsheet_id)
    staff.move_column(google.event, 0, 5)
    ids += google.register(2, start=3)
    google.emulator.clear_requests_log()

    assert google.syncer.sync_event(google.event)

    assert google.sheet_ids() == ids
    reads = _value_reads(google)
    assert len(reads) == 2 and ":batchGet" in reads[0] and ":batchGet" not in reads[1]


def test_the_check_after_an_in_place_write_reads_only_the_ids_when_nothing_moved(
    google: Google,
) -> None:
    _first_row_cancelled_after_a_sync(google)

    assert google.syncer.sync_event(google.event)

    reads = _value_reads(google)
    assert len(reads) == 3  # the batch's columns, the rows to rewrite, the check after
    assert ":batchGet" in reads[2] and "majorDimension=COLUMNS" in reads[2]
