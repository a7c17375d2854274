"""The e-mails as a Polish institution writes them: greetings, each status's words, what the
person chose, the information clause, special needs, and the calendar entry and its
cancellation; mail on a loopback SMTP server."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from app import create_app
from config.services import Services
from config.settings import Settings
from registrations.decisions import Decision
from registrations.erasure import ErasedBy
from registrations.polish import NBSP
from store.models import OutboxMessage
from tests.conftest import (
    KLASTER,
    OPEN,
    FakeClock,
    Mailbox,
    valid_payload,
    write_event,
    write_open_event,
)
from tests.wording import informal

BASE = "https://zapisy.owes.example.pl"
OPEN_URL = f"/api/events/{OPEN}/registrations"
KLASTER_URL = f"/api/events/{KLASTER}/registrations"
STAFF_EMAIL = "biuro@owes.example.pl"


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, smtp_server: Mailbox) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=events_dir,
        secret_key="test-secret",  # type: ignore[arg-type]
        run_worker=False,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        public_base_url=BASE,
        staff_email=STAFF_EMAIL,
    )


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def deliver(app: Flask, mailbox: Mailbox) -> list[EmailMessage]:
    before = len(mailbox.messages)
    svc(app).mail_worker.run_once()
    return list(mailbox.messages[before:])


def register(client: FlaskClient, url: str = OPEN_URL, **overrides: Any) -> dict[str, Any]:
    payload = valid_payload(**overrides)
    response = client.post(url, json=payload)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    """The HTML part as read (non-breaking spaces as spaces: `raw_html_of` keeps them)."""
    return raw_html_of(message).replace(NBSP, " ")


def raw_html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def calendar_of(message: EmailMessage) -> Any:
    [ics] = [p for p in message.iter_attachments() if p.get_filename() == "wydarzenie.ics"]
    content = ics.get_content()
    raw = content.encode() if isinstance(content, str) else content
    [entry] = Calendar.from_ical(raw).walk("VEVENT")
    return Calendar.from_ical(raw), entry, ics


def token_of(body: dict[str, Any]) -> str:
    return str(body["manage_url"]).rsplit("/", 1)[1]


def assert_institutional(message: EmailMessage) -> None:
    """`Dzień dobry,` with no name; no `Ty` form, gendered pair or `(a)`; HTML in Polish."""
    text, html = text_of(message), html_of(message)
    assert text.startswith("Dzień dobry,\n"), text[:40]
    assert informal(text) == [] and informal(html) == [] and informal(str(message["Subject"])) == []
    assert '<html lang="pl">' in html
    assert NBSP not in text  # the text part is data: a plain space after one-letter words


def test_every_participant_email_greets_without_a_name_and_words_each_status(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    confirmed = [
        register(client, email=f"o{i}@example.pl", enterprise_name=f"F{i}") for i in range(3)
    ]
    waiting = register(client, email="czeka@example.pl", enterprise_name="F9")
    mails = deliver(app, smtp_server)
    client.patch(f"/api/registrations/{token_of(confirmed[0])}", json={"diet": "vegan"})
    client.delete(f"/api/registrations/{token_of(confirmed[1])}")  # the waiting one moves up
    event = svc(app).events[OPEN]
    svc(app).registrations.decide(event, confirmed[2]["id"], Decision.REJECTED, now=svc(app).now())
    svc(app).registrations.request_link(event, "o0@example.pl", now=svc(app).now())
    mails += deliver(app, smtp_server)

    subjects = [str(m["Subject"]) for m in mails]
    assert subjects == [
        "Potwierdzenie zgłoszenia: Otwarte",
        "Potwierdzenie zgłoszenia: Otwarte",
        "Potwierdzenie zgłoszenia: Otwarte",
        "Zgłoszenie na liście rezerwowej: Otwarte",
        "Zmiana danych zgłoszenia: Otwarte",
        "Rezygnacja zapisana: Otwarte",
        "Zwolniło się miejsce – udział potwierdzony: Otwarte",
        "Zgłoszenie odrzucone: Otwarte",
        "Link do zgłoszenia: Otwarte",
    ]
    for message in mails:
        assert_institutional(message)
    by_subject = {str(m["Subject"]).split(":")[0]: text_of(m) for m in mails}
    waitlisted = by_subject["Zgłoszenie na liście rezerwowej"]
    assert "Status: na liście rezerwowej (miejsce 1)" in waitlisted
    assert "przyjęt" not in waitlisted  # `przyjęte` is only the staff's decision
    assert "Status: potwierdzone" in by_subject["Potwierdzenie zgłoszenia"]
    assert "Status: rezygnacja" in by_subject["Rezygnacja zapisana"]
    rejected = by_subject["Zgłoszenie odrzucone"]
    assert "Status: odrzucone" in rejected and "Powód: zgłoszenie nie spełnia warunków" in rejected
    assert waiting["id"] in by_subject["Zwolniło się miejsce – udział potwierdzony"]
    assert all("przyjęt" not in text for text in by_subject.values())


def test_the_confirmation_restates_the_choices_and_carries_the_information_clause(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    register(client, url=KLASTER_URL, diet="other", diet_other="bez laktozy", accommodation=True)
    register(client, url=KLASTER_URL, email="bez@example.pl", accommodation=False)
    staying, going_home = deliver(app, smtp_server)

    text = text_of(staying)
    assert "Wybrane w zgłoszeniu:" in text
    assert "Nocleg: tak – Nocleg w Lubniewicach z 27 na 28 sierpnia 2018" in text
    assert "Dieta: inna (bez laktozy)" in text
    assert "Zapewniamy: wyżywienie, ubezpieczenie, nocleg w Lubniewicach" in text
    assert "Informacja o przetwarzaniu danych osobowych (RODO)" in text
    assert "Prezes Urzędu Ochrony Danych Osobowych" in text
    assert "Inspektor ochrony danych" in text and "Okres przechowywania" in text
    html = html_of(staying)
    assert "<h2>Informacja o przetwarzaniu danych osobowych (RODO)</h2>" in html
    assert f"w{NBSP}Lubniewicach" in raw_html_of(staying)  # no one-letter word ends a line

    other = text_of(going_home)
    assert "Nocleg: nie" in other
    assert "Zapewniamy: wyżywienie, ubezpieczenie\n" in other  # the night only to who takes it


def test_special_needs_are_acknowledged_and_the_contact_told_without_the_need(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    need = "wózek inwalidzki, pokój na parterze"
    body = register(client, special_needs=need)
    plain = register(client, email="bez@example.pl", enterprise_name="Inna")
    mails = deliver(app, smtp_server)

    [to_contact] = [m for m in mails if m["To"] == "a.szulczewski@fundacjacp.org"]
    assert str(to_contact["Subject"]) == f"Szczególne potrzeby w zgłoszeniu {body['id']}: Otwarte"
    assert body["id"] in text_of(to_contact)
    assert f"{BASE}/obsluga/zgloszenia/{body['id']}" in text_of(to_contact)
    assert need not in text_of(to_contact) and "wózek" not in html_of(to_contact)
    assert "parterze" not in str(to_contact)
    assert_institutional(to_contact)
    [participant] = [m for m in mails if m["To"] == "anna.nowak@example.pl"]
    assert "Odnotowaliśmy szczególne potrzeby; w razie pytań skontaktujemy się." in text_of(
        participant
    )
    assert need not in text_of(participant)  # health data stay out of e-mails
    assert "Odnotowaliśmy" not in text_of(next(m for m in mails if m["To"] == "bez@example.pl"))

    # Added later, through the link: the contact is told again; an unchanged need is not news.
    client.patch(f"/api/registrations/{token_of(plain)}", json={"special_needs": "dieta płynna"})
    client.patch(f"/api/registrations/{token_of(plain)}", json={"diet": "vegan"})
    later = deliver(app, smtp_server)
    to_contact_later = [m for m in later if m["To"] == "a.szulczewski@fundacjacp.org"]
    assert len(to_contact_later) == 1 and plain["id"] in str(to_contact_later[0]["Subject"])
    assert "dieta płynna" not in str(to_contact_later[0])


def test_an_unsent_special_needs_email_is_rewritten_by_an_erasure(
    app: Flask, client: FlaskClient, smtp_server: Mailbox, runner: Any
) -> None:
    body = register(client, special_needs="asystent")
    with svc(app).store.transaction() as session:
        [row] = session.query(OutboxMessage).filter(OutboxMessage.kind == "staff_special_needs")
        assert row.registration_id is None and b"Nowak" in (row.body or b"")

    result = runner.invoke(args=["erase", "--id", body["id"]])  # it removes, it sends nothing
    assert result.exit_code == 0, result.output
    assert smtp_server.messages == []
    deliver(app, smtp_server)  # the mail sender's next round

    [to_contact] = [m for m in smtp_server.messages if m["To"] == "a.szulczewski@fundacjacp.org"]
    assert "(dane usunięte)" in text_of(to_contact) and "Nowak" not in str(to_contact)
    assert body["id"] in text_of(to_contact)  # the ID stays: it names nobody
    assert not [m for m in smtp_server.messages if m["To"] == "anna.nowak@example.pl"]


def test_a_cancelled_seat_cancels_its_calendar_entry_and_a_new_seat_raises_the_sequence(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    body = register(client)
    [confirmation] = deliver(app, smtp_server)
    client.delete(f"/api/registrations/{token_of(body)}")
    [cancellation] = deliver(app, smtp_server)
    event = svc(app).events[OPEN]
    svc(app).registrations.decide(event, body["id"], Decision.CONFIRMED, now=svc(app).now())
    [restored] = deliver(app, smtp_server)

    published, first, part = calendar_of(confirmation)
    cancelled, withdrawn, cancel_part = calendar_of(cancellation)
    again_cal, again, _ = calendar_of(restored)
    assert published["METHOD"] == "PUBLISH" and part.get_param("method") == "PUBLISH"
    assert cancelled["METHOD"] == "CANCEL" and cancel_part.get_param("method") == "CANCEL"
    assert withdrawn["STATUS"] == "CANCELLED"
    assert str(withdrawn["UID"]) == str(first["UID"]) == str(again["UID"])
    assert str(withdrawn["ORGANIZER"]) == str(first["ORGANIZER"])
    assert (int(first["SEQUENCE"]), int(withdrawn["SEQUENCE"])) == (0, 1)
    assert int(again["SEQUENCE"]) == 2 and again_cal["METHOD"] == "PUBLISH"
    assert "odwołanie terminu w kalendarzu" in text_of(cancellation)


def test_a_waitlisted_person_who_cancels_gets_no_calendar_to_cancel(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    for i in range(3):
        register(client, email=f"o{i}@example.pl", enterprise_name=f"F{i}")
    waiting = register(client, email="czeka@example.pl", enterprise_name="F9")
    deliver(app, smtp_server)
    client.delete(f"/api/registrations/{token_of(waiting)}")
    [cancellation] = deliver(app, smtp_server)
    assert not list(cancellation.iter_attachments())


def test_a_timed_event_gets_a_timed_entry_with_its_public_page_and_never_the_private_link(
    tmp_path: Path, smtp_server: Mailbox, clock: FakeClock, settings: Settings
) -> None:
    events = tmp_path / "timed"
    write_open_event(events, start_time='"09:30"', end_time='"16:00"')
    timed = create_app(settings.model_copy(update={"events_dir": events}), clock=clock)
    try:
        body = register(timed.test_client())
        [mail] = deliver(timed, smtp_server)
    finally:
        svc(timed).store.dispose()

    _, entry, _ = calendar_of(mail)
    event = svc(timed).events[OPEN]
    assert entry["DTSTART"].dt == event.begins_at and entry["DTEND"].dt == event.finishes_at
    assert entry["DTSTART"].dt.utcoffset() == timedelta(0)  # written in UTC
    description = str(entry["DESCRIPTION"])
    assert f"{BASE}/wydarzenia/{OPEN}/" in description and "533 316 283" in description
    assert token_of(body) not in description and "zgloszenie" not in description
    assert "początek" in text_of(mail) and "o godz. 9:30" in text_of(mail)


def test_an_event_without_hours_keeps_its_all_day_entry(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    register(client, url=KLASTER_URL)
    [mail] = deliver(app, smtp_server)
    _, entry, _ = calendar_of(mail)
    assert str(entry["DTSTART"].to_ical().decode()) == "20180827"
    assert str(entry["DTEND"].to_ical().decode()) == "20180829"


def test_the_close_off_email_declines_its_counts_and_shows_the_overbooking(
    tmp_path: Path, smtp_server: Mailbox, clock: FakeClock, settings: Settings, runner: Any
) -> None:
    events = tmp_path / "small"
    write_event(events, KLASTER, capacity=3)
    app = create_app(settings.model_copy(update={"events_dir": events}), clock=clock)
    try:
        client = app.test_client()
        people = [
            register(client, KLASTER_URL, email=f"o{i}@example.pl", enterprise_name=f"F{i}")
            for i in range(5)
        ]
        event = svc(app).events[KLASTER]
        for waiting in people[3:]:  # staff take both waiting ones above the capacity
            svc(app).registrations.decide(event, waiting["id"], Decision.CONFIRMED, now=clock())
        deliver(app, smtp_server)
        clock.set("2018-08-23T08:00:00+02:00")
        result = app.test_cli_runner().invoke(args=["close-off", "--event", KLASTER])
        assert result.exit_code == 0, result.output
        [mail] = [m for m in smtp_server.messages if str(m["Subject"]).startswith("Zapisy")]
    finally:
        svc(app).store.dispose()

    assert str(mail["Subject"]) == (
        "Zapisy zamknięte: Klaster PS 2018 – 5 potwierdzonych osób, 0 osób na liście rezerwowej"
    )
    assert mail["To"] == STAFF_EMAIL
    text = text_of(mail)
    assert "Obłożenie: 5 potwierdzonych osób na 3 miejsca – 2 ponad limit" in text
    assert "Nocleg w Lubniewicach z 27 na 28 sierpnia 2018: 5" in text
    assert "Nocleg: Nocleg" not in text
    html = html_of(mail)
    assert "<h2>Dieta</h2>" in html and "<table>" in html
    assert f"{BASE}/obsluga/wydarzenia/{KLASTER}/" in html  # the local workbook: the staff page
    assert_institutional(mail)


def test_the_close_off_email_counts_one_person_in_the_singular() -> None:
    from registrations.polish import CONFIRMED_PEOPLE, PEOPLE

    assert f"{CONFIRMED_PEOPLE(1)}, {PEOPLE(1)} na liście rezerwowej" == (
        "1 potwierdzona osoba, 1 osoba na liście rezerwowej"
    )


def test_the_erasure_leaves_no_calendar_or_mail_for_the_person(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    body = register(client)
    event = svc(app).events[OPEN]
    svc(app).registrations.erase(event, [body["id"]], now=svc(app).now(), by=ErasedBy.REQUEST)
    assert deliver(app, smtp_server) == []
