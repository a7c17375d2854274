"""The outbox: e-mails never hold up a registration, go out once, and survive SMTP and Google
being down, a crash mid-send and two senders at once."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from app import create_app
from config.services import Services
from config.settings import Settings
from mail.outbox import OutboxSender
from mail.transport import FileTransport, SmtpTransport, compose
from store.models import OutboxMessage
from tests.conftest import OPEN, FakeClock, Mailbox, free_port, own_events, valid_payload

URL = f"/api/events/{OPEN}/registrations"


class Server:
    """aiosmtpd on a port of our choosing, started and stopped by the test; may refuse people."""

    def __init__(self, port: int, refuse: str | None = None) -> None:
        self.port = port
        self.messages: list[Any] = []
        self.refuse = refuse
        self.refuse_code = "550 5.1.1 no such user"
        self._controller: Controller | None = None

    def start(self) -> None:
        outer = self

        class Handler:
            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if outer.refuse and address == outer.refuse:
                    return outer.refuse_code
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                outer.messages.append(
                    message_from_bytes(envelope.original_content, policy=policy.default)
                )
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_port() -> Iterator[Server]:
    server = Server(free_port())
    yield server
    server.stop()


def mail_settings(tmp_path: Path, port: int, **extra: Any) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        **extra,
    )


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def outbox_rows(app: Flask) -> list[OutboxMessage]:
    with svc(app).store.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def register(app: Flask, n: int, start: int = 0) -> list[str]:
    client = app.test_client()
    ids = []
    for i in range(start, start + n):
        payload = valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Firma {i}")
        response = client.post(URL, json=payload)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def test_smtp_down_then_back_while_google_is_down_too(
    tmp_path: Path, clock: FakeClock, sheets_emulator: Any, smtp_port: Server
) -> None:
    spreadsheet_id = sheets_emulator.create_spreadsheet("Zgłoszenia OWES")
    sheets_emulator.inject("status", path_contains="/v4/", status=503, times=None)
    settings = mail_settings(
        tmp_path,
        smtp_port.port,
        sheets_emulator_host=sheets_emulator.host_port,
        sheets_spreadsheet_id=spreadsheet_id,
        sheets_backoff_max_seconds=0.01,
        sheets_max_attempts=2,
    )
    app = create_app(settings, clock=clock)
    try:
        [registration] = register(app, 1)  # answered: nothing waits for SMTP or Google
        svc(app).worker.run_once()  # Google answers 503 to everything
        svc(app).mail_worker.run_once()  # nobody listens on the SMTP port
        waiting = app.test_client().get("/healthz").get_json()
        [row] = outbox_rows(app)

        smtp_port.start()
        svc(app).mail_worker.run_once()
        too_early = list(smtp_port.messages)
        clock.advance(60)  # past the first pause (10–20 s)
        svc(app).mail_worker.run_once()
        healthy = app.test_client().get("/healthz").get_json()
    finally:
        svc(app).store.dispose()
        svc(app).sink.close()  # type: ignore[attr-defined]

    assert (
        row.attempts == 1
        and row.sent_at is None
        and "ConnectionRefusedError" in (row.last_error or "")
    )
    assert waiting["sync"]["pending"] == 1
    assert waiting["outbox"]["backlog"] == 1
    assert waiting["status"] == "degraded"
    assert too_early == []
    [mail] = smtp_port.messages
    assert mail["To"] == "osoba0@example.pl" and registration in str(
        mail.get_body(("plain",)).get_content()
    )
    assert healthy["outbox"]["backlog"] == 0
    assert healthy["sync"]["pending"] == 1  # Google is still down: the row waits in the store


def test_mail_goes_out_while_a_sheets_sync_is_stuck_on_google(
    tmp_path: Path, clock: FakeClock, sheets_emulator: Any, smtp_server: Mailbox
) -> None:
    spreadsheet_id = sheets_emulator.create_spreadsheet("Zgłoszenia OWES")
    settings = mail_settings(
        tmp_path,
        smtp_server.port,
        sheets_emulator_host=sheets_emulator.host_port,
        sheets_spreadsheet_id=spreadsheet_id,
        sheets_timeout_seconds=30,
        worker_lease_seconds=90,
    )
    app = create_app(settings, clock=clock)
    sheets_emulator.inject("delay", path_contains="/v4/", seconds=20, times=1)
    try:
        register(app, 1)
        sync = threading.Thread(target=svc(app).worker.run_once)
        sync.start()
        while not sheets_emulator.requests_log:  # the sync is now waiting on Google
            threading.Event().wait(0.01)
        svc(app).mail_worker.run_once()
        stuck_while_mailing = sync.is_alive()
        sheets_emulator.clear_faults()
        sync.join(60)
    finally:
        svc(app).store.dispose()
        svc(app).sink.close()  # type: ignore[attr-defined]

    assert stuck_while_mailing
    assert [m["To"] for m in smtp_server.messages] == ["osoba0@example.pl"]


def test_two_processes_sending_the_same_outbox_send_each_message_once(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox, database_url: str
) -> None:
    settings = mail_settings(tmp_path, smtp_server.port, database_url=database_url)
    one, two = create_app(settings, clock=clock), create_app(settings, clock=clock)
    try:
        register(one, 12)
        barrier = threading.Barrier(2)

        def drain(app: Flask) -> None:
            barrier.wait()
            for _ in range(5):
                svc(app).mail_worker.run_once()

        threads = [threading.Thread(target=drain, args=(app,)) for app in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        rows = outbox_rows(one)
    finally:
        svc(one).store.dispose()
        svc(two).store.dispose()

    ids = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert len(ids) == 12 and set(ids.values()) == {1}
    assert all(row.sent_at is not None and row.body is None for row in rows)


def test_a_crash_between_handing_over_and_recording_sends_one_duplicate_with_the_same_id(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> None:
    app = create_app(mail_settings(tmp_path, smtp_server.port), clock=clock)
    try:
        register(app, 1)
        crashed = OutboxSender(
            svc(app).store,
            SmtpTransport(svc(app).settings),
            clock,
            logging.getLogger("test"),
            holder="crashed",
            compose=svc(app).mail_worker.jobs[0].__self__.compose,  # type: ignore[attr-defined]
        )
        [message_id] = crashed._due()
        assert crashed._claim(message_id)  # claimed, composed and handed to SMTP …
        message = crashed._message(message_id)
        assert message is not None
        crashed.transport.send(message)
        # … and the process dies before recording it.

        svc(app).mail_worker.run_once()  # the claim still holds: nothing is sent twice yet
        held = len(smtp_server.messages)
        clock.advance(121)  # the claim expires
        svc(app).mail_worker.run_once()
        clock.advance(3600)
        svc(app).mail_worker.run_once()
    finally:
        svc(app).store.dispose()

    assert held == 1
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_eml_files_are_written_exactly_once_even_when_handed_over_twice(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "mail", logging.getLogger("test"))
    message = compose(
        sender="a@b.pl", to=["c@d.pl"], subject="Zażółć", text="tekst", html="<p>x</p>"
    )

    first, second = transport.send(message), transport.send(message)

    assert first == second
    [written] = list((tmp_path / "mail").iterdir())
    assert message_from_bytes(written.read_bytes(), policy=policy.default)["Subject"] == "Zażółć"


def test_with_no_smtp_each_message_becomes_one_eml_file(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=own_events(tmp_path / "events"),
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )
    app = create_app(settings, clock=clock)
    try:
        register(app, 2)
        svc(app).mail_worker.run_once()
        svc(app).mail_worker.run_once()
    finally:
        svc(app).store.dispose()

    files = list((tmp_path / "instance" / "mail").glob("*.eml"))
    assert len(files) == 2


def test_health_reports_the_backlog_and_its_oldest_age(
    tmp_path: Path, clock: FakeClock, smtp_port: Server
) -> None:
    app = create_app(mail_settings(tmp_path, smtp_port.port), clock=clock)
    try:
        register(app, 2)
        clock.advance(90)
        health = app.test_client().get("/healthz").get_json()
    finally:
        svc(app).store.dispose()

    assert health["outbox"] == {"backlog": 2, "oldest_age_seconds": 90, "given_up": 0}
    assert health["status"] == "degraded"


def test_a_refused_recipient_is_given_up_at_once_and_the_body_dropped(
    tmp_path: Path, clock: FakeClock, smtp_port: Server, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_port.refuse = "osoba0@example.pl"
    smtp_port.start()
    app = create_app(mail_settings(tmp_path, smtp_port.port), clock=clock)
    try:
        register(app, 2)
        svc(app).mail_worker.run_once()
        rows = outbox_rows(app)
        health = app.test_client().get("/healthz").get_json()
    finally:
        svc(app).store.dispose()

    refused, sent = rows
    assert refused.gave_up_at is not None and refused.body is None and refused.attempts == 1
    assert sent.sent_at is not None and sent.body is None
    assert health["outbox"]["given_up"] == 1
    assert "osoba0@example.pl" not in caplog.text  # no personal data in the log


def test_a_temporary_refusal_is_retried_and_a_lasting_one_given_up(
    tmp_path: Path, clock: FakeClock, smtp_port: Server
) -> None:
    smtp_port.refuse = "osoba0@example.pl"
    smtp_port.refuse_code = "450 4.2.1 mailbox busy, try later"
    smtp_port.start()
    app = create_app(mail_settings(tmp_path, smtp_port.port), clock=clock)
    try:
        register(app, 1)
        svc(app).mail_worker.run_once()
        [greylisted] = outbox_rows(app)
        smtp_port.refuse = None
        clock.advance(60)
        svc(app).mail_worker.run_once()
        [later] = outbox_rows(app)
    finally:
        svc(app).store.dispose()

    assert greylisted.gave_up_at is None and greylisted.attempts == 1
    assert later.sent_at is not None
    assert [m["To"] for m in smtp_port.messages] == ["osoba0@example.pl"]


def test_an_address_with_polish_letters_before_the_at_is_refused_and_an_idn_domain_is_sent(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> None:
    app = create_app(mail_settings(tmp_path, smtp_server.port), clock=clock)
    client = app.test_client()
    try:
        refused = client.post(
            URL, json=valid_payload(email="żaneta@example.pl", enterprise_name="Firma 1")
        )
        accepted = client.post(
            URL, json=valid_payload(email="anna@żabka.pl", enterprise_name="Firma 2")
        )
        svc(app).mail_worker.run_once()
    finally:
        svc(app).store.dispose()

    assert refused.status_code == 422
    assert refused.get_json()["errors"]["email"] == (
        "Adres e-mail nie może zawierać polskich liter przed znakiem @."
    )
    assert accepted.status_code == 201
    assert [m["To"] for m in smtp_server.messages] == ["anna@xn--abka-99a.pl"]
