"""The close-off on the Google path: summary and protection in the staff's spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sheets.google import PROTECTION_DESCRIPTION
from staff.closeoff import CloseOffFailed, Outcome, make_closeoff
from tests.conftest import FakeClock, Mailbox
from tests.sheet_harness import TITLE, Google

AT_DEADLINE = "2018-08-22T22:00:00+00:00"
SUMMARY = "Podsumowanie – Klaster PS 2018"


@pytest.fixture
def google(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> Iterator[Google]:
    setup = Google(
        sheets_emulator,
        tmp_path,
        clock,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        sheets_max_attempts=2,
    )
    yield setup
    setup.close()


def summary_of(google: Google) -> dict[str, str]:
    grid = google.emulator.values(google.spreadsheet_id, SUMMARY)
    return {row[0]: row[1] for row in grid if row and row[0]}


def staff_mails(google: Google, mailbox: Mailbox) -> list[Any]:
    """What reached staff once the mail sender ran (participants' e-mails left out)."""
    google.services.mail_worker.run_once()
    return [m for m in mailbox.messages if m["Subject"].startswith("Zapisy zamknięte")]


def test_close_off_writes_the_summary_in_one_batch_and_protects_with_a_warning(
    google: Google, smtp_server: Mailbox
) -> None:
    ids = google.register(4)
    google.clock.set(AT_DEADLINE)
    closeoff = make_closeoff(google.services, google.syncer.logger)
    google.emulator.clear_requests_log()

    assert closeoff.run(google.event) is Outcome.DONE

    assert google.sheet_ids() == ids
    summary = summary_of(google)
    assert summary["Uczestnicy potwierdzeni"] == "4"
    assert summary["Zamknięcie zapisów"] == "23 sierpnia 2018 r., godz. 00:00"
    assert summary["powiat zielonogórski"] == "4"
    batch_writes = [r for r in google.emulator.requests_log if r.path.endswith(":batchUpdate")]
    summary_writes = [r for r in batch_writes if "values" not in r.path]
    assert len(summary_writes) >= 2  # the sheet's creation and one rewrite; the protection
    dump = google.emulator.dump(google.spreadsheet_id)
    [sheet] = [s for s in dump["sheets"] if s["title"] == TITLE]
    protections = sheet["protectedRanges"]  # the service's columns, the decision left out
    assert len(protections) == 2 and all(p["warningOnly"] is True for p in protections)
    assert len(staff_mails(google, smtp_server)) == 1


def test_a_second_summary_replaces_the_first_entirely(google: Google) -> None:
    google.register(2)
    google.clock.set(AT_DEADLINE)
    google.services.sink.write_summary(google.event, [["stare"] * 2 for _ in range(40)])

    make_closeoff(google.services, google.syncer.logger).run(google.event)

    grid = google.emulator.values(google.spreadsheet_id, SUMMARY)
    assert not any("stare" in cell for row in grid for cell in row)


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "status", "status": 429},
        {"action": "status", "status": 500},
        {"action": "drop"},
    ],
    ids=["429", "500", "unreachable"],
)
def test_google_down_at_the_deadline_is_retried_until_the_close_off_completes(
    google: Google, smtp_server: Mailbox, fault: dict[str, Any]
) -> None:
    ids = google.register(3)
    google.clock.set(AT_DEADLINE)
    google.emulator.inject(times=None, **fault)

    google.services.worker.run_once()  # the round at the deadline fails, nothing is lost
    google.clock.advance(600)
    google.services.worker.run_once()

    with google.services.store.transaction() as session:
        from registrations.models import EventState

        state = session.get(EventState, google.event.slug)
        assert state is not None and state.closed_off_at is None and state.close_off_error
    assert staff_mails(google, smtp_server) == []

    google.emulator.clear_faults()
    google.clock.advance(600)
    google.services.worker.run_once()

    assert google.sheet_ids() == ids
    assert summary_of(google)["Zamknięcie zapisów"] == "23 sierpnia 2018 r., godz. 00:20"
    [mail] = staff_mails(google, smtp_server)
    assert (
        "z opóźnieniem: 23 sierpnia 2018 r., godz. 00:20" in mail.get_body(("plain",)).get_content()
    )


def test_the_close_off_command_exits_non_zero_while_google_fails(google: Google) -> None:
    google.register(1)
    google.clock.set(AT_DEADLINE)
    google.emulator.inject("status", status=503, times=None)

    result = google.app.test_cli_runner().invoke(args=["close-off"])

    assert result.exit_code == 1
    assert "resumes on the next run" in result.output
    google.emulator.clear_faults()
    again = google.app.test_cli_runner().invoke(args=["close-off"])
    assert again.exit_code == 0, again.output
    assert "klaster-2018: closed off." in again.output


def test_close_off_failure_is_raised_to_callers(google: Google) -> None:
    google.register(1)
    google.clock.set(AT_DEADLINE)
    google.emulator.set_permission(google.spreadsheet_id, False)

    with pytest.raises(CloseOffFailed, match="share the spreadsheet"):
        make_closeoff(google.services, google.syncer.logger).run(google.event)


def test_close_off_refills_a_worksheet_staff_deleted_after_the_last_sync(google: Google) -> None:
    ids = google.register(3)
    assert google.syncer.sync_event(google.event)
    spreadsheet = google.services.sink.open_spreadsheet(google.event)
    spreadsheet.del_worksheet(spreadsheet.worksheet(TITLE))
    google.clock.set(AT_DEADLINE)

    assert make_closeoff(google.services, google.syncer.logger).run(google.event) is Outcome.DONE

    assert google.sheet_ids() == ids


def test_health_tells_of_an_unfinished_close_off_until_it_completes(google: Google) -> None:
    google.register(1)
    google.clock.set(AT_DEADLINE)
    google.emulator.inject("status", status=503, times=None)
    google.services.worker.run_once()

    failing = google.client.get("/healthz").get_json()
    google.services.worker.run_once()  # an idle round must not hide the problem
    still = google.client.get("/healthz").get_json()
    google.emulator.clear_faults()
    google.services.worker.run_once()
    google.services.mail_worker.run_once()  # the registration's e-mail waited too
    done = google.client.get("/healthz").get_json()

    assert failing["status"] == still["status"] == "degraded"
    assert still["unfinished_close_offs"] == [
        {"event": "klaster-2018", "since": "2018-08-22T22:00:00+00:00"}
    ]
    assert still["sync"]["last_success_at"] is None
    assert done["status"] == "ok" and done["unfinished_close_offs"] == []


def test_a_close_off_of_rows_already_in_the_sheet_takes_at_most_five_calls(
    google: Google,
) -> None:
    ids = google.register(30)
    assert google.syncer.sync_event(google.event)  # every row in the sheet already
    closeoff = make_closeoff(google.services, google.syncer.logger)
    google.emulator.clear_requests_log()

    assert closeoff.run(google.event, force=True) is Outcome.DONE

    calls = [r for r in google.emulator.requests_log if r.path.startswith("/v4/")]
    assert len(calls) <= 5, [f"{r.method} {r.path}" for r in calls]
    assert google.sheet_ids() == ids
    assert summary_of(google)["Uczestnicy potwierdzeni"] == "30"
    dump = google.emulator.dump(google.spreadsheet_id)
    [sheet] = [s for s in dump["sheets"] if s["title"] == TITLE]
    assert [p["description"] for p in sheet["protectedRanges"]] == [PROTECTION_DESCRIPTION] * 2
