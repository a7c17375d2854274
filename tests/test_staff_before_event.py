"""Issues 18 and 19 together: inside the offers window a registration taken by staff waits like
one from the form while an offer holds the freed seat (unless `ponad limit miejsc`), and the
registration's staff page lists its reminders, answers and offers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from tests.conftest import FakeClock, Mailbox
from tests.staff_support import STAFF_LISTS, page, sign_in
from tests.test_participation import BASE, EVENT, api_delete, register, round_, status
from tests.test_participation import events_dir as events_dir  # noqa: F401  (the fixture)
from tests.test_staff_registrations import _add, _added_id


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, smtp_server: Mailbox) -> Settings:  # noqa: F811
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=events_dir,
        secret_key="test-secret",  # type: ignore[arg-type]
        run_worker=False,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        public_base_url=BASE,
        sheets_backoff_max_seconds=0.01,
        staff_emails=STAFF_LISTS["staff_emails"],
        checkin_emails=STAFF_LISTS["checkin_emails"],
    )


def test_staff_add_waits_while_an_offer_holds_the_seat_and_the_page_lists_the_offer(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    clock.set("2018-08-10T12:00:00+02:00")
    first, _, third, _ = register(client, 4)
    round_(app, smtp_server)
    clock.set("2018-08-25T12:00:00+02:00")  # inside the offers window
    api_delete(client, first)  # the seat is offered to `third`, not given
    assert status(app, third["id"]) == "waitlisted"

    office = sign_in(app.test_client())
    waiting = _added_id(_add(office, EVENT, birth_date="1970-05-04"))
    assert status(app, waiting) == "waitlisted"  # the offered seat is taken
    above = _added_id(
        _add(
            office,
            EVENT,
            first_name="Irena",
            phone="600 100 300",
            override_capacity="tak",
            override_reason="Zgoda koordynatorki",
        )
    )
    assert status(app, above) == "confirmed"  # staff's explicit choice

    clock.advance(60)
    round_(app, smtp_server)  # the offer's e-mail goes
    round_(app, smtp_server)  # and the offer opens
    text = " ".join(
        page(office.get(f"/obsluga/zgloszenia/{third['id']}").data).get_text(" ").split()
    )
    assert "Przypomnienia i oferty miejsca" in text
    assert "Zwolnione miejsce zaoferowane z listy rezerwowej" in text
    assert "E-mail z ofertą miejsca wysłany" in text and "ważna do" in text
