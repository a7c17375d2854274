"""No private-link token (nor any other secret in a path) in the request logs: werkzeug's under
`flask run`, at every LOG_LEVEL, and gunicorn's access log when one is asked for; and no token
or personal data in the service's own log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app import create_app
from config.settings import Settings
from forms.secret_paths import SECRET_PATHS, mask
from sheets.rows import DECISION_HEADER
from tests.conftest import OPEN, PROJECT, FakeClock, free_port, own_events, valid_payload
from tests.sheet_harness import WorkbookStaff


@pytest.mark.parametrize("rule", SECRET_PATHS)
def test_every_path_that_carries_a_secret_is_masked_wherever_it_stands_in_a_line(
    rule: str,
) -> None:
    secret = "Sekret_0123456789-abcdefghij"
    path = rule.replace("<slug>", OPEN).replace("<token>", secret).replace("<code>", secret)
    lines = [
        f'127.0.0.1 - - [01/Dec/2026 10:00:00] "GET {path} HTTP/1.1" 200 -',
        f'"POST {path}/rezygnacja HTTP/1.1" 303',
        f"code 400, message Bad request syntax ('GET {path}?x=1 HTTP/1.1')",
        f"Referer: https://zapisy.example.pl{path}",
    ]

    masked = [mask(line) for line in lines]

    assert not [line for line in masked if secret in line]
    assert all(path.replace(secret, "…") in line for line in masked)


def test_paths_without_a_secret_are_left_as_they_are() -> None:
    lines = ['"GET /wydarzenia/otwarte/ HTTP/1.1" 200', "GET /api/events", "GET /static/style.css"]

    assert [mask(line) for line in lines] == lines


def _serve(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=PROJECT,
            env={**os.environ, "SECRET_KEY": "t", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _visit_a_private_link(base: str, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            requests.get(f"{base}/healthz", timeout=5)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    created = requests.post(
        f"{base}/api/events/{OPEN}/registrations", json=valid_payload(), timeout=10
    )
    assert created.status_code == 201, created.text
    link = str(created.json()["manage_url"])
    token = link.rsplit("/", 1)[1]
    path = link.removeprefix("http://127.0.0.1:5000")
    for url in (
        f"{base}{path}",
        f"{base}{path}/rezygnacja",
        f"{base}/api/registrations/{token}",
        f"{base}/api/registrations/{token}/data",
    ):
        assert requests.get(url, timeout=10).status_code == 200, url
    return token


@pytest.mark.slow
@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING"])
def test_flask_run_logs_each_request_with_the_token_masked_at_any_log_level(
    level: str, tmp_path: Path, events_dir: Path, database_url: str
) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {"INSTANCE_PATH": str(tmp_path / "i"), "EVENTS_DIR": str(events_dir), "LOG_LEVEL": level}
    env["DATABASE_URL"] = database_url
    process = _serve(["flask", "--app", "app", "run", "--port", str(port)], env, log)
    try:
        token = _visit_a_private_link(f"http://127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        process.wait(15)

    text = log.read_text(errors="replace")
    assert token not in text
    assert f"/wydarzenia/{OPEN}/zgloszenie/…/rezygnacja" in text  # the request is logged
    assert "/api/registrations/…/data" in text


@pytest.mark.slow
def test_gunicorns_access_log_masks_the_token(tmp_path: Path, events_dir: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {"INSTANCE_PATH": str(tmp_path / "i"), "EVENTS_DIR": str(events_dir)}
    args = ["gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--access-logfile", "-"]
    process = _serve(args, env, log)
    try:
        token = _visit_a_private_link(f"http://127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        process.wait(15)

    text = log.read_text(errors="replace")
    assert token not in text
    assert f"/wydarzenia/{OPEN}/zgloszenie/… HTTP/1.1" in text


def test_no_personal_data_or_token_reaches_the_log_on_either_store(
    tmp_path: Path, clock: FakeClock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A registration's whole life, at DEBUG: registered, seen by its link, synced, a decision
    with a name and phone typed by staff, changed, erased; the log names none of it."""
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        database_url=database_url,
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
        log_level="DEBUG",
        sheets_pull_interval_seconds=0.001,
    )
    person = valid_payload(
        first_name="Bożydar",
        last_name="Przybyłowicz",
        email="bozydar.przybylowicz@example.pl",
        phone="601 234 567",
        pesel="85010112345",
        special_needs="Potrzebuję tłumacza PJM",
    )
    app = create_app(settings, clock=clock)
    svc = app.extensions["owes"]
    try:
        with caplog.at_level(logging.DEBUG):
            client = app.test_client()
            created = client.post(f"/api/events/{OPEN}/registrations", json=person).get_json()
            token = str(created["manage_url"]).rsplit("/", 1)[1]
            client.get(f"/wydarzenia/{OPEN}/zgloszenie/{token}")
            client.patch(f"/api/registrations/{token}", json={"role": "Prezes Przybyłowicz"})
            svc.worker.run_once()
            svc.mail_worker.run_once()
            staff = WorkbookStaff(svc.instance_path)
            grid = staff.grid(svc.events[OPEN])
            staff.set_cell(
                svc.events[OPEN],
                1,
                grid[0].index(DECISION_HEADER),
                "dzwonił Bożydar Przybyłowicz, tel. 601 234 567",
            )
            svc.worker.run_once()
            erased = app.test_cli_runner().invoke(args=["erase", "--id", created["id"]])
            assert erased.exit_code == 0, erased.output
    finally:
        svc.store.dispose()

    logged = caplog.text
    assert "dzwonił" not in logged
    for value in ("Bożydar", "Przybyłowicz", "bozydar", "601 234 567", "85010112345", "PJM"):
        assert value not in logged, value
    assert token not in logged
