"""The close-off at the deadline: once, complete, resumable, with the staff e-mail."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from app import create_app
from config.services import Services
from config.settings import Settings
from registrations.models import EventState
from staff.closeoff import CloseOff, CloseOffFailed, Outcome, make_closeoff
from tests.conftest import KLASTER, FakeClock, Mailbox, flask_process, own_events, valid_payload

URL = f"/api/events/{KLASTER}/registrations"
PROJECT = Path(__file__).parents[1]
JUST_BEFORE = "2018-08-22T21:59:59+00:00"
AT_DEADLINE = "2018-08-22T22:00:00+00:00"


def staff_only(mailbox: Mailbox) -> list[Any]:
    return [m for m in mailbox.messages if m["Subject"].startswith("Zapisy zamknięte")]


class Office:
    """An app with registrations, its close-off, and the staff's mailbox."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.settings = settings
        self.clock = clock
        self.app: Flask = create_app(settings, clock=clock)
        self.services: Services = self.app.extensions["owes"]
        self.event = self.services.events[KLASTER]
        self.closeoff: CloseOff = make_closeoff(self.services, logging.getLogger("test.closeoff"))

    def register(self, **overrides: Any) -> None:
        response = self.app.test_client().post(URL, json=valid_payload(**overrides))
        assert response.status_code == 201, response.get_json()

    def register_many(self) -> None:
        self.register(email="a@example.pl", diet="vegan", special_needs="wózek")
        self.register(
            email="b@example.pl",
            first_name="Zofia",
            powiat="Zielona Góra",
            enterprise_name="Spółdzielnia „My”",
            accommodation=False,
        )
        self.register(
            email="c@example.pl",
            first_name="Ewa",
            diet="other",
            diet_other="bez laktozy",
            pesel=None,
            birth_date="1970-01-02",
            special_needs="=2+2",
        )

    def staff_mails(self, mailbox: Mailbox) -> list[Any]:
        """What reached staff once the mail sender ran (participants' e-mails left out)."""
        self.services.mail_worker.run_once()
        return staff_only(mailbox)

    def state(self) -> EventState:
        with self.services.store.transaction() as session:
            state = session.get(EventState, KLASTER)
            assert state is not None
            return state

    def close(self) -> None:
        getattr(self.services.sink, "close", lambda: None)()
        self.services.store.dispose()


def office_settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
        **extra,
    )


@pytest.fixture
def office(tmp_path: Path, clock: FakeClock, smtp_server: Mailbox) -> Iterator[Office]:
    settings = office_settings(
        tmp_path,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        staff_email="biuro@owes.example.pl",
    )
    office = Office(settings, clock)
    yield office
    office.close()


def test_close_off_does_nothing_before_the_deadline(office: Office, smtp_server: Mailbox) -> None:
    office.register_many()
    office.clock.set(JUST_BEFORE)

    assert office.closeoff.due([office.event]) == []
    assert office.closeoff.run(office.event) is Outcome.NOT_DUE
    assert office.state().closed_off_at is None
    assert office.staff_mails(smtp_server) == []


def test_at_the_deadline_the_worker_closes_off_syncs_summarises_protects_and_mails(
    office: Office, smtp_server: Mailbox
) -> None:
    office.register_many()
    office.clock.set(AT_DEADLINE)

    office.services.worker.run_once()  # the background round, nobody acting

    state = office.state()
    assert state.closed_off_at == office.clock.now
    assert state.protected_at and state.mail_sent_at and state.summary_written_at
    workbook = load_workbook(office.settings.instance_path / f"{KLASTER}.xlsx")  # type: ignore[operator]
    registrations = workbook["Zgłoszenia – Klaster PS 2018"]
    assert registrations.max_row == 4
    assert registrations.protection.sheet
    summary = {
        row[0]: row[1] for row in workbook["Podsumowanie"].iter_rows(values_only=True) if row[0]
    }
    assert summary["Zamknięcie zapisów"] == "23 sierpnia 2018 r., godz. 00:00"
    assert summary["Uczestnicy potwierdzeni"] == 3  # numbers as numbers: staff sum them
    assert summary["Wolne miejsca"] == 27
    assert summary["Nocleg w Lubniewicach z 27 na 28 sierpnia 2018"] == 2  # said once
    assert summary["Obłożenie"] == "3 potwierdzone osoby na 30 miejsc"
    assert summary["wegańska"] == 1 and summary["inna"] == 1
    assert summary["miasto Zielona Góra"] == 1
    assert summary["Spółdzielnia „My”"] == 1
    assert summary["Anna Nowak"] == "wózek"
    assert summary["Ewa Nowak"] == "'=2+2"  # typed by a participant: inert text in the sheet
    [mail] = office.staff_mails(smtp_server)
    assert mail["To"] == "biuro@owes.example.pl"
    assert mail["Reply-To"] == "a.szulczewski@fundacjacp.org"
    assert mail["Subject"] == (
        "Zapisy zamknięte: Klaster PS 2018 – 3 potwierdzone osoby, 0 osób na liście rezerwowej"
    )
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "22 sierpnia 2018" in text and "Uczestnicy potwierdzeni: 3" in text
    assert '<th scope="row" align="left">Anna Nowak</th><td>wózek</td>' in html


def test_registrations_are_refused_from_the_deadline_second_on(office: Office) -> None:
    office.clock.set(AT_DEADLINE)

    response = office.app.test_client().post(URL, json=valid_payload())

    assert response.status_code == 403


def test_two_runs_give_one_summary_one_protection_one_email(
    office: Office, smtp_server: Mailbox
) -> None:
    office.register_many()
    office.clock.set(AT_DEADLINE)
    assert office.closeoff.run(office.event) is Outcome.DONE
    office.clock.advance(30)

    assert office.closeoff.run(office.event) is Outcome.ALREADY_DONE
    office.services.worker.run_once()

    assert len(office.staff_mails(smtp_server)) == 1
    assert office.state().closed_off_at == datetime.fromisoformat(AT_DEADLINE)


def test_smtp_down_at_the_close_off_holds_nothing_up_and_the_email_follows(
    office: Office, smtp_server: Mailbox
) -> None:
    office.register_many()
    office.clock.set(AT_DEADLINE)
    transport = office.services.mail_worker.jobs[0].__self__.transport  # type: ignore[attr-defined]
    port, transport.port = transport.port, 1  # SMTP unreachable

    assert office.closeoff.run(office.event) is Outcome.DONE
    waiting = office.staff_mails(smtp_server)
    transport.port = port
    office.clock.advance(3600)

    assert waiting == []
    assert office.state().closed_off_at is not None and office.state().mail_sent_at is not None
    [mail] = office.staff_mails(smtp_server)
    assert "Zapisy na „" in mail.get_body(("plain",)).get_content()


def test_forced_close_off_before_the_deadline_also_closes_the_form(office: Office) -> None:
    office.register_many()
    office.clock.set("2018-08-21T10:00:00+00:00")

    result = office.app.test_cli_runner().invoke(args=["close-off", "--event", KLASTER])
    forced = office.app.test_cli_runner().invoke(args=["close-off", "--event", KLASTER, "--force"])
    late = office.app.test_client().post(URL, json=valid_payload(email="late@example.pl"))

    assert result.exit_code == 1
    assert "registration is open until the end of 2018-08-22 (Europe/Warsaw)" in result.output
    assert "use --force" in result.output
    assert forced.exit_code == 0, forced.output
    assert "closed off" in forced.output
    assert late.status_code == 403


def test_close_off_command_is_a_quick_no_op_when_nothing_is_due(office: Office) -> None:
    result = office.app.test_cli_runner().invoke(args=["close-off"])

    assert result.exit_code == 0
    assert "Nothing is due." in result.output


def test_close_off_command_rejects_an_unknown_event(office: Office) -> None:
    result = office.app.test_cli_runner().invoke(args=["close-off", "--event", "nie-ma"])

    assert result.exit_code == 2
    assert "no event 'nie-ma'" in result.output


def test_without_smtp_the_staff_email_is_kept_as_an_eml_file(
    tmp_path: Path, clock: FakeClock
) -> None:
    office = Office(office_settings(tmp_path), clock)
    try:
        office.register()
        office.clock.set(AT_DEADLINE)
        assert office.closeoff.run(office.event) is Outcome.DONE
        office.services.mail_worker.run_once()
    finally:
        office.close()

    files = (tmp_path / "instance" / "mail").glob("*.eml")
    messages = [message_from_bytes(eml.read_bytes(), policy=policy.default) for eml in files]
    [message] = [m for m in messages if m["Subject"].startswith("Zapisy zamknięte")]
    assert message["Subject"].startswith("Zapisy zamknięte: Klaster PS 2018")
    assert message["Reply-To"] == "a.szulczewski@fundacjacp.org"


def _close_off_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        "INSTANCE_PATH": str(settings.instance_path),
        "SMTP_HOST": settings.smtp_host or "",
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_SECURITY": "none",
        "STAFF_EMAIL": "biuro@owes.example.pl",
    }
    return flask_process("close-off", "--event", KLASTER, env=env)


@pytest.mark.slow
def test_two_close_off_processes_at_once_do_everything_once(
    office: Office, smtp_server: Mailbox
) -> None:
    """Both processes, on the real clock (long past 2018), close off the seed event."""
    office.register_many()

    processes = [_close_off_process(office.settings) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].decode() for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sum("klaster-2018: closed off." in out for out in outputs) == 1
    assert len(staff_only(smtp_server)) == 1  # sent by the command itself
    assert office.state().closed_off_at is not None


def test_an_event_that_closed_long_ago_is_not_closed_off_by_itself(
    office: Office, smtp_server: Mailbox
) -> None:
    office.clock.set("2018-09-10T12:00:00+00:00")  # 19 days after the deadline

    office.services.worker.run_once()
    result = office.app.test_cli_runner().invoke(args=["close-off"])

    assert office.state().closed_off_at is None
    assert "Nothing is due." in result.output
    assert office.staff_mails(smtp_server) == []


def test_close_off_of_an_event_without_registrations_still_creates_and_protects_the_sheet(
    office: Office, smtp_server: Mailbox
) -> None:
    office.clock.set(AT_DEADLINE)

    assert office.closeoff.run(office.event) is Outcome.DONE

    workbook = load_workbook(office.settings.instance_path / f"{KLASTER}.xlsx")  # type: ignore[operator]
    assert workbook["Zgłoszenia – Klaster PS 2018"].protection.sheet
    assert len(office.staff_mails(smtp_server)) == 1


def test_a_forced_close_off_closes_the_form_even_when_it_cannot_finish(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = office_settings(tmp_path)
    office = Office(settings, clock)
    try:
        office.register_many()
        workbook = settings.instance_path / f"{KLASTER}.xlsx"  # type: ignore[operator]
        workbook.write_bytes(b"broken")  # the spreadsheet cannot be written for now
        result = office.app.test_cli_runner().invoke(
            args=["close-off", "--event", KLASTER, "--force"]
        )
        late = office.app.test_client().post(URL, json=valid_payload(email="late@example.pl"))
        state = office.state()
    finally:
        office.close()

    assert result.exit_code == 1
    assert "resumes on the next run" in result.output
    assert late.status_code == 403
    assert state.closing_started_at is not None
    assert state.closed_off_at is None


def test_two_close_offs_racing_each_step_happens_once(office: Office, smtp_server: Mailbox) -> None:
    office.register_many()
    office.clock.set(AT_DEADLINE)
    others = [make_closeoff(office.services, logging.getLogger("t")) for _ in range(4)]
    barrier = threading.Barrier(len(others))
    outcomes: list[object] = []

    def close_off(closeoff: CloseOff) -> None:
        barrier.wait()
        try:
            outcomes.append(closeoff.run(office.event))
        except CloseOffFailed as exc:  # e.g. SQLite busy: it would resume next round
            outcomes.append(exc)

    threads = [threading.Thread(target=close_off, args=(c,)) for c in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcomes.count(Outcome.DONE) == 1
    assert len(office.staff_mails(smtp_server)) == 1


def test_an_early_close_off_that_failed_is_finished_by_the_worker_and_shown_with_its_date(
    office: Office, smtp_server: Mailbox
) -> None:
    office.register_many()
    office.clock.set("2018-08-21T10:00:00+00:00")  # a day before the deadline
    workbook = office.settings.instance_path / f"{KLASTER}.xlsx"  # type: ignore[operator]
    workbook.write_bytes(b"broken")  # the spreadsheet cannot be written for now

    failed = office.app.test_cli_runner().invoke(args=["close-off", "--event", KLASTER, "--force"])
    page = office.app.test_client().get(f"/wydarzenia/{KLASTER}/").text
    api = office.app.test_client().post(URL, json=valid_payload(email="x@example.pl"))
    workbook.unlink()  # staff fixed it
    office.services.worker.run_once()  # the next background round, nobody acting

    assert failed.exit_code == 1
    assert 'się <span class="nowrap">21 sierpnia 2018&nbsp;r.</span>' in page
    assert api.get_json()["message"].startswith("Rejestracja zakończyła się 21 sierpnia 2018 r.")
    assert office.state().closed_off_at is not None
    [mail] = office.staff_mails(smtp_server)
    text = mail.get_body(("plain",)).get_content()
    assert "były przyjmowane do 21 sierpnia 2018 r. Wszystkie" in text
