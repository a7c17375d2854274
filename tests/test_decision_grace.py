"""Staff decisions with a reason and time to take them back (`DECISION_GRACE_MINUTES`): a
decision typed in the sheet is carried out only by a read at least the grace time after the
read that first saw it, still showing it; the wait survives a restart; `Powód decyzji` goes into
the e-mail. Against the local workbook and the Google Sheets emulator alike."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from registrations.models import PendingDecision, StatusChange
from sheets.rows import DECISION_HEADER, NOTES_HEADER, REASON_HEADER
from tests.conftest import FakeClock, Mailbox
from tests.test_sheet_lifecycle import Office, close, make_office

GRACE = 5  # minutes
REASON = "Przedsiębiorstwo spoza listy podmiotów ekonomii społecznej"


@pytest.fixture(params=["workbook", "google"])
def office(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> Iterator[Office]:
    emulator = request.getfixturevalue("sheets_emulator") if request.param == "google" else None
    made = make_office(
        request.param, tmp_path, clock, smtp_server, emulator, decision_grace_minutes=GRACE
    )
    yield made
    close(made)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def subjects(mails: list[EmailMessage]) -> list[str]:
    return [str(m["Subject"]) for m in mails]


def test_the_sheet_gets_the_reason_column_and_the_service_never_writes_it(office: Office) -> None:
    [body] = office.register()
    office.round()
    office.type_in(body["id"], REASON_HEADER, "tekst organizatora")
    office.round()

    assert REASON_HEADER in office.grid()[0]
    assert office.row(body["id"])[REASON_HEADER] == "tekst organizatora"


def test_a_decision_cleared_within_the_grace_time_does_nothing(
    office: Office, clock: FakeClock
) -> None:
    [body] = office.register()
    office.round()
    office.deliver()

    office.type_in(body["id"], DECISION_HEADER, "odrzucone")
    office.round()
    waiting = office.row(body["id"])[NOTES_HEADER]
    clock.advance(3 * 60)
    office.round()
    office.type_in(body["id"], DECISION_HEADER, "")
    office.round()
    clock.advance(10 * 60)
    office.round()
    office.round()

    assert waiting == "Decyzja zostanie wykonana o 14:05"  # 12:00 UTC is 14:00 in Warsaw
    assert office.status(body["id"]) == "confirmed"
    assert office.row(body["id"])[NOTES_HEADER] == ""
    assert office.deliver() == []
    with office.svc.store.transaction() as session:
        assert session.scalars(select(PendingDecision)).all() == []


def test_a_different_value_restarts_the_wait(office: Office, clock: FakeClock) -> None:
    [body] = office.register()
    office.round()
    office.type_in(body["id"], DECISION_HEADER, "odrzucone")
    office.round()
    clock.advance(4 * 60)
    office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
    office.round()
    clock.advance(2 * 60)
    office.round()
    before = office.status(body["id"])
    clock.advance(3 * 60)
    office.round()

    assert before == "confirmed"
    assert office.status(body["id"]) == "cancelled"


def test_the_participants_cancellation_during_the_wait_ends_it_a_data_change_does_not(
    office: Office, clock: FakeClock
) -> None:
    [changed, cancelled] = office.register(2)
    office.round()
    office.type_in(changed["id"], DECISION_HEADER, "odrzucone")
    office.type_in(cancelled["id"], DECISION_HEADER, "przyjęte")
    office.round()
    token = str(cancelled["manage_url"]).rsplit("/", 1)[-1]
    assert office.client.delete(f"/api/registrations/{token}").status_code == 200
    other = str(changed["manage_url"]).rsplit("/", 1)[-1]
    patched = office.client.patch(f"/api/registrations/{other}", json={"role": "księgowa"})
    assert patched.status_code == 200
    clock.advance(GRACE * 60)
    office.round()
    office.round()

    assert office.status(changed["id"]) == "rejected"
    assert office.status(cancelled["id"]) == "cancelled"  # not brought back by `przyjęte`
    assert "uczestnik sam zmienił zgłoszenie" in office.row(cancelled["id"])[NOTES_HEADER]


def test_a_decision_left_standing_is_carried_out_once_with_its_reason_across_a_restart(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox, database_url: str
) -> None:
    store = {"database_url": database_url, "decision_grace_minutes": GRACE}
    office = make_office("workbook", tmp_path, clock, smtp_server, **store)
    [body] = office.register()
    office.round()
    office.deliver()
    office.type_in(body["id"], DECISION_HEADER, "odrzucone")
    office.type_in(body["id"], REASON_HEADER, REASON)
    office.round()  # first seen at 14:00 local
    close(office)

    clock.advance(3 * 60)
    restarted = make_office("workbook", tmp_path, clock, smtp_server, **store)
    try:
        restarted.round()
        early = (restarted.status(body["id"]), restarted.row(body["id"])[NOTES_HEADER])
        clock.advance(2 * 60)
        restarted.round()
        mails = restarted.deliver()
        for _ in range(3):
            clock.advance(GRACE * 60)
            restarted.round()
        later = restarted.deliver()
        with restarted.svc.store.transaction() as session:
            changes = session.scalars(
                select(StatusChange).where(StatusChange.registration_id == body["id"])
            ).all()
    finally:
        close(restarted)

    assert early == ("confirmed", "Decyzja zostanie wykonana o 14:05")
    assert subjects(mails) == ["Zgłoszenie odrzucone: Otwarte"]
    assert f"Powód: {REASON}." in text_of(mails[0])
    assert "nie spełnia" not in text_of(mails[0])  # not the canned sentence
    assert later == []
    assert [(c.new_status, c.decision) for c in changes] == [("rejected", "odrzucone")]


def test_with_no_grace_a_decision_is_carried_out_by_the_next_round_with_its_reason(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox
) -> None:
    office = make_office("workbook", tmp_path, clock, smtp_server, decision_grace_minutes=0)
    try:
        [body] = office.register()
        office.round()
        office.deliver()
        office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
        office.type_in(body["id"], REASON_HEADER, "Telefon od uczestniczki\x07 " + "x" * 600)
        office.round()
        [mail] = office.deliver()
    finally:
        close(office)

    assert office.status(body["id"]) == "cancelled"
    text = text_of(mail)
    assert "Powód decyzji organizatora: Telefon od uczestniczki" in text
    assert "\x07" not in text and "x" * 501 not in text


def test_while_google_does_not_answer_the_decision_waits_for_a_read_that_shows_it(
    tmp_path: Path, clock: FakeClock, smtp_server: Mailbox, sheets_emulator: Any
) -> None:
    office = make_office(
        "google", tmp_path, clock, smtp_server, sheets_emulator, decision_grace_minutes=GRACE
    )
    try:
        [body] = office.register()
        office.round()
        office.type_in(body["id"], DECISION_HEADER, "rezygnacja")
        office.round()  # first seen
        sheets_emulator.inject("status", status=503, times=None)
        clock.advance(10 * 60)
        office.round()
        during = office.status(body["id"])
        sheets_emulator.clear_faults()
        office.round()
    finally:
        close(office)

    assert during == "confirmed"  # nothing carried out without a read that shows it
    assert office.status(body["id"]) == "cancelled"
