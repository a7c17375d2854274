"""Before the event (issue 19): reminders with a one-click answer at the right local time, once
per person; `nie` frees the seat; inside the offers window a freed seat is offered, the offer
expires and passes on; the sheet's `Potwierdzenie udziału`; records in "my data" and erased.

Through the app's HTTP client, the store, the outbox on a loopback SMTP server and the workbook,
with the injected clock moved.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from app import create_app
from config.services import Services
from config.settings import Settings
from registrations.decisions import Decision
from registrations.models import Participation, Registration
from registrations.question_editing import QuestionEditor, QuestionForm
from sheets.rows import HEADERS
from tests.conftest import FakeClock, Mailbox, shown, valid_payload, write_event

BASE = "https://zapisy.owes.example.pl"
EVENT = "wyjazd"
URL = f"/api/events/{EVENT}/registrations"
ANSWER = re.compile(
    rf"{re.escape(BASE)}(/wydarzenia/{EVENT}/zgloszenie/[A-Za-z0-9_-]+/udzial\?odpowiedz=(tak|nie))"
)
MANAGE = re.compile(rf"{re.escape(BASE)}(/wydarzenia/{EVENT}/zgloszenie/[A-Za-z0-9_-]+)")


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    """A study visit on 27 August 2018 (Europe/Warsaw) with 2 seats, registration until the
    26th; reminders 3 days before at 10:00, offers from 7 days before (the defaults)."""
    folder = tmp_path / "events"
    write_event(
        folder,
        EVENT,
        capacity=2,
        short_title='"Wyjazd"',
        departure='["Zielona Góra, dworzec PKP – 7:30", "Świebodzin, rynek – 8:15"]',
        what_to_bring='"Wygodne buty i dowód osobisty"',
        max_per_enterprise=10,
        registration_deadline="2018-08-26",
    )
    write_event(  # an event without offers: the waiting list moves by itself to the end
        folder,
        "bez-ofert",
        capacity=1,
        short_title='"Bez ofert"',
        offers_from_days=0,
        registration_deadline="2018-08-26",
    )
    return folder


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
        sheets_backoff_max_seconds=0.01,
    )


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def round_(app: Flask, mailbox: Mailbox, *, staff: bool = False) -> list[EmailMessage]:
    """One round of the sheet worker, then of the mail sender: the participants' messages
    that arrived (with `staff`, those to the event's contact instead)."""
    before = len(mailbox.messages)
    assert svc(app).worker.run_once()
    svc(app).mail_worker.run_once()
    arrived = list(mailbox.messages[before:])
    return [m for m in arrived if ("@example.pl" in to(m) and "osoba" in to(m)) != staff]


def register(client: FlaskClient, n: int, start: int = 0) -> list[dict[str, Any]]:
    bodies = []
    for i in range(start, start + n):
        payload = valid_payload(
            email=f"osoba{i}@example.pl", first_name=f"Osoba{chr(65 + i)}", last_name="Testowa"
        )
        response = client.post(URL, json=payload)
        assert response.status_code == 201, response.get_json()
        bodies.append(response.get_json())
    return bodies


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def to(message: EmailMessage) -> str:
    return str(message["To"])


def answers(message: EmailMessage) -> dict[str, str]:
    """The answer links' paths in an e-mail: {"tak": path, "nie": path}."""
    return {m.group(2): m.group(1) for m in ANSWER.finditer(text_of(message))}


def manage_path(message: EmailMessage) -> str:
    found = MANAGE.search(text_of(message))
    assert found
    return found.group(1)


def post_answer(client: FlaskClient, path: str) -> Any:
    """The page's one button, as a browser presses it (with the page's CSRF token)."""
    page = client.get(path)
    assert page.status_code == 200, shown(page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown(page))
    assert token
    answer = path.rsplit("=", 1)[1]
    return client.post(path.split("?")[0], data={"csrf_token": token.group(1), "odpowiedz": answer})


def participation(app: Flask, registration_id: str) -> Participation | None:
    with svc(app).store.reading() as session:
        return session.get(Participation, registration_id)


def status(app: Flask, registration_id: str) -> str:
    with svc(app).store.reading() as session:
        found = session.scalar(
            select(Registration.status).where(Registration.id == registration_id)
        )
    assert found is not None
    return found


def sheet_column(app: Flask, header: str) -> dict[str, str]:
    """The workbook's column `header` by registration ID."""
    path = Path(app.instance_path) / f"{EVENT}.xlsx"
    workbook = load_workbook(path, read_only=True)  # read-only keeps the file open until closed
    try:
        rows = [
            [str(c) if c is not None else "" for c in row]
            for row in workbook["Zgłoszenia – Wyjazd"].iter_rows(values_only=True)
        ]
    finally:
        workbook.close()
    head = rows[0]
    return {row[head.index("ID zgłoszenia")]: row[head.index(header)] for row in rows[1:]}


def test_the_reminder_goes_at_ten_local_time_once_per_person_across_a_restart(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox, settings: Settings
) -> None:
    first, second = register(client, 2)
    round_(app, smtp_server)  # the registrations' own e-mails
    clock.set("2018-08-24T09:59:59+02:00")  # 3 days before, a second before 10:00 in Warsaw
    assert round_(app, smtp_server) == []
    clock.set("2018-08-24T10:00:00+02:00")
    reminders = round_(app, smtp_server)
    assert sorted(to(m) for m in reminders) == ["osoba0@example.pl", "osoba1@example.pl"]
    text = text_of(reminders[0])
    assert text.startswith("Dzień dobry,")
    for expected in (
        "Prosimy o potwierdzenie, czy udział jest nadal aktualny",
        "Miejsce: Świebodzin, Pniewo, Lubniewice, Nietkowice",
        "Program:",
        "Wyjazd: Zielona Góra, dworzec PKP – 7:30",
        "  Świebodzin, rynek – 8:15",
        "Co zabrać: Wygodne buty i dowód osobisty",
    ):
        assert expected in text, text
    assert set(answers(reminders[0])) == {"tak", "nie"}
    assert sheet_column(app, "Potwierdzenie udziału")[first["id"]] == "brak odpowiedzi"

    # Another process (a restart, another worker) finds them sent.
    clock.advance(3600)
    restarted = create_app(settings, clock=clock)
    try:
        assert round_(restarted, smtp_server) == []
    finally:
        svc(restarted).store.dispose()
    assert round_(app, smtp_server) == []

    # `tak` from the first person; the second reminder the day before goes to the other only.
    mine = next(m for m in reminders if to(m) == "osoba0@example.pl")
    answered = post_answer(client, answers(mine)["tak"])
    assert answered.status_code == 303
    assert "udział został potwierdzony" in shown(client.get(answered.headers["Location"]))
    row = participation(app, first["id"])
    assert row is not None and row.answer == "tak"
    round_(app, smtp_server)
    assert sheet_column(app, "Potwierdzenie udziału")[first["id"]] == "potwierdzone 24.08 11:00"
    clock.set("2018-08-26T09:59:00+02:00")
    assert round_(app, smtp_server) == []
    clock.set("2018-08-26T10:00:00+02:00")
    again = round_(app, smtp_server)
    assert [to(m) for m in again] == ["osoba1@example.pl"]
    assert "zaczyna się już jutro" in text_of(again[0])
    assert round_(app, smtp_server) == []
    assert status(app, second["id"]) == "confirmed"


def test_opening_an_answer_link_changes_nothing_and_nie_frees_the_seat(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    clock.set("2018-08-10T12:00:00+02:00")  # before the offers window: promotion is automatic
    first, _, third = register(client, 3)
    assert third["status"] == "waitlisted"
    round_(app, smtp_server)
    clock.set("2018-08-24T10:00:00+02:00")
    reminders = round_(app, smtp_server)
    mine = next(m for m in reminders if to(m) == "osoba0@example.pl")
    path = answers(mine)["nie"]
    for _ in range(3):  # a mail scanner, a preview, the person: none of them cancels
        page = client.get(path)
        assert page.status_code == 200
        assert "Rezygnuję z udziału" in shown(page)
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
    assert status(app, first["id"]) == "confirmed"
    assert participation(app, first["id"]).answer is None  # type: ignore[union-attr]
    assert client.post(path.split("?")[0], data={"odpowiedz": "nie"}).status_code == 400  # CSRF
    assert status(app, first["id"]) == "confirmed"

    answered = post_answer(client, path)
    assert answered.status_code == 303
    assert status(app, first["id"]) == "cancelled"
    # 24 August is inside the offers window (from 20 August): the seat is offered, not given.
    assert status(app, third["id"]) == "waitlisted"
    row = participation(app, third["id"])
    assert row is not None and row.offer_state == "pending"
    mails = round_(app, smtp_server)
    kinds = sorted((to(m), str(m["Subject"]).split(":")[0]) for m in mails)
    assert ("osoba0@example.pl", "Rezygnacja zapisana") in kinds
    assert ("osoba2@example.pl", "Zwolniło się miejsce – prosimy o potwierdzenie") in kinds
    assert sheet_column(app, "Potwierdzenie udziału")[first["id"]] == "rezygnacja 24.08 10:00"


def test_an_unknown_answer_is_a_polish_400_and_nothing_changes(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    (body,) = register(client, 1)
    path = body["manage_url"].removeprefix(BASE) + "/udzial?odpowiedz=moze"
    page = client.get(path)
    assert page.status_code == 400
    assert "Nie rozpoznano odpowiedzi" in shown(page)
    assert status(app, body["id"]) == "confirmed"


def api_delete(client: FlaskClient, body: dict[str, Any]) -> None:
    token = body["manage_url"].rsplit("/", 1)[1]
    assert client.delete(f"/api/registrations/{token}").status_code == 200


def api_view(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    token = body["manage_url"].rsplit("/", 1)[1]
    answer = client.get(f"/api/registrations/{token}")
    assert answer.status_code == 200
    found: dict[str, Any] = answer.get_json()
    return found


def test_inside_the_offers_window_a_freed_seat_is_offered_and_expires_to_the_next_person(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    clock.set("2018-08-10T12:00:00+02:00")  # before the window: the waiting list as before
    first, _, third, fourth = register(client, 4)
    assert [third["status"], fourth["status"]] == ["waitlisted", "waitlisted"]
    round_(app, smtp_server)

    clock.set("2018-08-25T12:00:00+02:00")  # 2 days before: inside the 7-day window
    api_delete(client, first)
    assert status(app, third["id"]) == "waitlisted"  # offered, not given
    # The offered seat is taken: a new registration waits, although nobody is confirmed in it.
    (late,) = register(client, 1, start=4)
    assert late["status"] == "waitlisted"

    clock.advance(60)  # the offer's e-mail is handed to SMTP at 12:01
    offers = [m for m in round_(app, smtp_server) if to(m) == "osoba2@example.pl"]
    assert len(offers) == 1
    assert (
        "Zwolniło się miejsce – prosimy o potwierdzenie do 26 sierpnia 2018 r., godz. 12:01"
        in text_of(offers[0])
    )
    round_(app, smtp_server)  # the next round reads the hand-off and opens the offer
    assert api_view(client, third)["offer_expires_at"] == "2018-08-26T10:01:00Z"
    assert api_view(client, third)["status"] == "waitlisted"
    assert api_view(client, fourth)["offer_expires_at"] is None
    assert sheet_column(app, "Potwierdzenie udziału")[third["id"]] == "oferta ważna do 26.08 12:01"
    page = " ".join(
        BeautifulSoup(shown(client.get(answers(offers[0])["tak"])), "html.parser")
        .get_text(" ")
        .split()
    )
    assert "Miejsce czeka na to zgłoszenie do 26 sierpnia 2018 r., godz. 12:01" in page

    clock.set("2018-08-26T12:01:00+02:00")  # the offer's end: it passes on by itself
    mails = [m for m in round_(app, smtp_server) if "Zwolniło się" in str(m["Subject"])]
    assert [to(m) for m in mails] == ["osoba3@example.pl"]
    assert "do 27 sierpnia 2018 r., godz. 00:00" in text_of(mails[0])  # never past the start
    late_answer = post_answer_refused(client, answers(offers[0])["tak"])
    assert late_answer.status_code == 409
    assert "Czas na potwierdzenie oferty minął" in shown(late_answer)
    assert status(app, third["id"]) == "waitlisted"

    round_(app, smtp_server)
    accepted = post_answer(client, answers(mails[0])["tak"])
    assert accepted.status_code == 303
    assert status(app, fourth["id"]) == "confirmed"
    confirmation = round_(app, smtp_server)
    assert sorted(str(m["Subject"]).split(":")[0] for m in confirmation) == [
        "Przypomnienie o wydarzeniu",  # the details, as the others had them; no question
        "Zwolniło się miejsce – udział potwierdzony",
    ]
    details = next(m for m in confirmation if "Przypomnienie" in str(m["Subject"]))
    assert set(answers(details)) == {"nie"}
    with svc(app).store.reading() as session:
        confirmed = session.scalars(
            select(Registration.id).where(Registration.status == "confirmed")
        ).all()
    assert len(confirmed) == 2


def post_answer_refused(client: FlaskClient, path: str) -> Any:
    """The button pressed on a page opened earlier (the offer has since expired)."""
    page = client.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown(page))
    assert token
    return client.post(path.split("?")[0], data={"csrf_token": token.group(1), "odpowiedz": "tak"})


def test_no_offer_when_less_than_two_hours_would_remain_the_contact_is_told(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    clock.set("2018-08-10T12:00:00+02:00")
    first, _, third = register(client, 3)
    round_(app, smtp_server)
    clock.set("2018-08-26T22:30:00+02:00")  # 1.5 hours before 00:00 of the first day
    api_delete(client, first)
    staff = round_(app, smtp_server, staff=True)
    told = [m for m in staff if str(m["Subject"]).startswith("Wolne miejsce bez oferty")]
    assert len(told) == 1
    assert "mniej niż 2 godziny" in text_of(told[0])
    assert status(app, third["id"]) == "waitlisted"
    assert participation(app, third["id"]) is None  # no offer made
    assert [
        m for m in round_(app, smtp_server, staff=True) if "bez oferty" in str(m["Subject"])
    ] == []


def test_records_show_in_my_data_the_summary_counts_the_contact_hears_and_erasure_removes(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    first, second = register(client, 2)
    round_(app, smtp_server)
    clock.set("2018-08-24T10:00:00+02:00")
    reminders = round_(app, smtp_server)
    mine = next(m for m in reminders if to(m) == "osoba0@example.pl")
    assert post_answer(client, answers(mine)["tak"]).status_code == 303
    round_(app, smtp_server)

    own = client.get(manage_path(mine) + "/moje-dane").get_json()
    assert [item["what"] for item in own["before_event"]] == ["reminder", "answer_yes"]
    assert own["before_event"][0]["at"] == "2018-08-24T08:00:00Z"
    page = shown(client.get(manage_path(mine) + "/moje-dane.html"))
    assert "Przypomnienia, odpowiedzi i oferty miejsc" in page
    assert "Odpowiedź „tak” – udział potwierdzony" in page

    workbook = load_workbook(Path(app.instance_path) / f"{EVENT}.xlsx", read_only=True)
    try:
        rows = workbook["Podsumowanie"].iter_rows(values_only=True)
        counts = {row[0]: row[1] for row in rows if row and row[0]}
    finally:
        workbook.close()
    assert counts["Udział potwierdzony (odpowiedź „tak”)"] == 1
    assert counts["Bez odpowiedzi na przypomnienie"] == 1
    assert counts["Otwarte oferty miejsc z listy rezerwowej"] == 0

    # The day before, after the second reminder: the contact gets who has not answered, once.
    clock.set("2018-08-26T15:59:00+02:00")
    assert not [
        m for m in round_(app, smtp_server, staff=True) if "Bez potwierdzenia" in str(m["Subject"])
    ]
    clock.set("2018-08-26T16:00:00+02:00")
    listed = [
        m for m in round_(app, smtp_server, staff=True) if "Bez potwierdzenia" in str(m["Subject"])
    ]
    assert len(listed) == 1
    text = text_of(listed[0])
    assert f"{second['id']} – OsobaB Testowa" in text
    assert first["id"] not in text
    assert (
        "/obsluga/zgloszenia/" in text
        and "@" not in text.split("Dzień dobry,")[1].split("Strona")[0]
    )
    assert not [
        m for m in round_(app, smtp_server, staff=True) if "Bez potwierdzenia" in str(m["Subject"])
    ]

    runner = app.test_cli_runner()
    result = runner.invoke(args=["erase", "--id", first["id"], "--wait", "0"])
    assert result.exit_code == 0, result.output
    assert participation(app, first["id"]) is None


def test_a_seat_confirmed_after_the_reminders_gets_one_at_once_and_none_goes_after_the_start(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    event_url = "/api/events/bez-ofert/registrations"
    clock.set("2018-08-10T12:00:00+02:00")
    bodies = []
    for i in range(3):
        payload = valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Firma {i}")
        answer = client.post(event_url, json=payload)
        assert answer.status_code == 201, answer.get_json()
        bodies.append(answer.get_json())
    round_(app, smtp_server)
    clock.set("2018-08-24T10:00:00+02:00")
    assert [to(m) for m in round_(app, smtp_server)] == ["osoba0@example.pl"]
    clock.set("2018-08-25T15:00:00+02:00")
    token = bodies[0]["manage_url"].rsplit("/", 1)[1]
    assert client.delete(f"/api/registrations/{token}").status_code == 200
    mails = round_(app, smtp_server)  # promoted, and reminded at once
    subjects = sorted((to(m), str(m["Subject"]).split(":")[0]) for m in mails)
    assert ("osoba1@example.pl", "Prośba o potwierdzenie udziału") in subjects
    assert ("osoba1@example.pl", "Zwolniło się miejsce – udział potwierdzony") in subjects

    # At 00:00 of the first day it is over: a seat staff confirm then gets no reminder.
    clock.set("2018-08-27T00:00:00+02:00")
    event = svc(app).events["bez-ofert"]
    svc(app).registrations.decide(event, bodies[2]["id"], Decision.CONFIRMED, now=clock())
    mails = round_(app, smtp_server)
    assert [str(m["Subject"]).split(":")[0] for m in mails] == ["Udział potwierdzony"]


def test_an_offer_whose_email_did_not_go_in_time_is_no_offer_the_seat_stays_free(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    clock.set("2018-08-10T12:00:00+02:00")
    first, _, third, fourth = register(client, 4)
    round_(app, smtp_server)
    clock.set("2018-08-26T21:00:00+02:00")  # 3 hours left: an offer is made …
    api_delete(client, first)
    assert participation(app, third["id"]).offer_state == "pending"  # type: ignore[union-attr]
    clock.set("2018-08-26T22:30:00+02:00")  # … but its e-mail could go only now: too late
    svc(app).mail_worker.run_once()
    assert [
        m
        for m in smtp_server.messages
        if to(m) == "osoba2@example.pl" and "Zwolniło" in str(m["Subject"])
    ] == []
    staff = round_(app, smtp_server, staff=True)
    told = [m for m in staff if str(m["Subject"]).startswith("Wolne miejsce bez oferty")]
    assert len(told) == 1 and "mniej niż 2 godziny" in text_of(told[0])
    assert participation(app, third["id"]).offer_state == "undelivered"  # type: ignore[union-attr]
    assert participation(app, fourth["id"]) is None  # the seat stays free: nobody else offered
    assert status(app, third["id"]) == status(app, fourth["id"]) == "waitlisted"
    round_(app, smtp_server)
    assert participation(app, fourth["id"]) is None


def test_the_reminder_names_the_persons_own_pick_up_point_where_the_event_asks_it(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    """The transport set added with one click and its stops filled in: each reminder names
    the stop the person chose (`label – description`), not every line of `departure`."""
    editor = QuestionEditor(svc(app).store, HEADERS)
    event = svc(app).events[EVENT]
    by = "koordynatorka@example.pl"
    added = editor.add_set(event, "transport", by=by, now=clock.now)
    assert added.key == "miejsce_wsiadania"
    stops = "Żary, dworzec PKP | 20 | odjazd 7:00\nNowa Sól, rynek | 20\nDojazd we własnym zakresie"
    form = QuestionForm(added.label, added.kind.value, added.help_text or "", True, stops)
    question = editor.edit(event, added.key, form, by=by, now=clock.now)
    keys = [c.key for c in question.visible_choices]
    people = []
    for i, stop in enumerate(keys):
        payload = valid_payload(
            email=f"osoba{i}@example.pl",
            first_name=f"Osoba{chr(65 + i)}",
            last_name="Testowa",
            answers={"miejsce_wsiadania": stop},
        )
        response = client.post(URL, json=payload)
        assert response.status_code == 201, response.get_json()
        people.append(response.get_json())
    assert [p["status"] for p in people] == ["confirmed", "confirmed", "waitlisted"]
    round_(app, smtp_server)
    clock.set("2018-08-24T10:00:00+02:00")
    reminders = {to(m): text_of(m) for m in round_(app, smtp_server)}
    assert set(reminders) == {"osoba0@example.pl", "osoba1@example.pl"}
    zary, nowa_sol = reminders["osoba0@example.pl"], reminders["osoba1@example.pl"]
    assert "Wyjazd: Żary, dworzec PKP – odjazd 7:00\r\n" in zary
    assert "Wyjazd: Nowa Sól, rynek\r\n" in nowa_sol  # a stop without a description: its name
    for text in (zary, nowa_sol):
        assert "Świebodzin, rynek" not in text and "Zielona Góra, dworzec PKP" not in text


def test_the_reminder_carries_the_check_in_qr_code(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    """Issue 20: the reminder attaches the QR of the person's check-in URL (`/o/<code>`)."""
    from checkin.codes import checkin_url, qr_png
    from checkin.models import CheckinCode

    [first] = register(client, 1)
    round_(app, smtp_server)
    clock.set("2018-08-24T10:00:00+02:00")
    [reminder] = round_(app, smtp_server)
    [part] = list(reminder.iter_attachments())
    assert part.get_filename() == "kod-obecnosci.png"
    assert part.get_content_type() == "image/png"
    png = part.get_content()
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
    assert "Kod obecności: w załączniku (kod-obecnosci.png)" in text_of(reminder)
    with svc(app).store.reading() as session:
        code = session.scalar(
            select(CheckinCode.code).where(CheckinCode.registration_id == first["id"])
        )
    assert code is not None
    assert png == qr_png(checkin_url(svc(app).settings.public_base_url, code))
