"""A registration's life after the 201: e-mails, the private link, changes, cancellation, the
waiting list moving by itself; through the JSON API and the pages, mail on a loopback SMTP server.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from app import create_app
from config.services import Services
from config.settings import Settings
from registrations.models import LinkRequest, Registration, StatusChange
from registrations.operations import StoreUnavailable
from tests.conftest import KLASTER, OPEN, FakeClock, Mailbox, shown, valid_payload, write_event

OPEN_URL = f"/api/events/{OPEN}/registrations"
KLASTER_URL = f"/api/events/{KLASTER}/registrations"
BASE = "https://zapisy.owes.example.pl"
TOKEN_URL = re.compile(rf"{re.escape(BASE)}/wydarzenia/[a-z0-9-]+/zgloszenie/([A-Za-z0-9_-]+)")


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, smtp_server: Mailbox) -> Settings:
    """The app mails through the loopback SMTP server, behind an HTTPS address."""
    return Settings(
        instance_path=tmp_path / "instance",
        events_dir=events_dir,
        secret_key="test-secret",  # type: ignore[arg-type]
        run_worker=False,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        public_base_url=BASE,
    )


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def deliver(app: Flask, mailbox: Mailbox) -> list[EmailMessage]:
    """Let the background sender run once; the messages that arrived, in order."""
    before = len(mailbox.messages)
    svc(app).mail_worker.run_once()
    return list(mailbox.messages[before:])


def register(
    client: FlaskClient, n: int = 1, url: str = OPEN_URL, **overrides: Any
) -> list[dict[str, Any]]:
    bodies = []
    for i in range(n):
        payload = valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Firma {i}")
        payload.update(overrides)
        response = client.post(url, json=payload)
        assert response.status_code == 201, response.get_json()
        bodies.append(response.get_json())
    return bodies


def token_of(body: dict[str, Any]) -> str:
    match = TOKEN_URL.fullmatch(body["manage_url"])
    assert match, body["manage_url"]
    return match.group(1)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def status_of(app: Flask, registration_id: str) -> str:
    with svc(app).store.transaction() as session:
        row = session.scalar(select(Registration).where(Registration.id == registration_id))
        assert row is not None
        return row.status


# -- e-mails and the link --------------------------------------------------------------------


def test_registering_sends_a_polish_email_with_the_private_link_and_a_calendar_file(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    [body] = register(client, url=KLASTER_URL)

    [mail] = deliver(app, smtp_server)

    assert mail["To"] == "osoba0@example.pl"
    assert mail["Reply-To"] == "a.szulczewski@fundacjacp.org"
    assert mail["Subject"] == "Potwierdzenie zgłoszenia: Klaster PS 2018"
    text_part = body_text(mail)
    assert text_part.startswith("Dzień dobry,") and "Anna," not in text_part
    assert "27–28 sierpnia 2018 r." in text_part
    assert "Świebodzin, Pniewo, Lubniewice, Nietkowice" in text_part
    assert "wyżywienie, ubezpieczenie, nocleg w Lubniewicach" in text_part
    assert "Status: potwierdzone" in text_part
    assert body["manage_url"] in text_part
    assert body["manage_url"] in str(mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
    [ics] = [part for part in mail.iter_attachments() if part.get_filename() == "wydarzenie.ics"]
    calendar = ics.get_content()
    calendar = calendar.decode() if isinstance(calendar, bytes) else calendar
    assert "DTSTART;VALUE=DATE:20180827" in calendar
    assert "DTEND;VALUE=DATE:20180829" in calendar
    assert "LOCATION:Świebodzin\\, Pniewo\\, Lubniewice\\, Nietkowice" in calendar


def test_a_waitlisted_participant_is_told_their_place_and_gets_no_calendar(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    register(client, 3)  # the open event's three seats
    deliver(app, smtp_server)

    [late] = register(client, email="pozna@example.pl", enterprise_name="Inna")
    [later] = register(client, email="pozniejsza@example.pl", enterprise_name="Jeszcze inna")
    mails = deliver(app, smtp_server)

    assert [late["status"], later["status"]] == ["waitlisted", "waitlisted"]
    assert [late["waiting_position"], later["waiting_position"]] == [1, 2]
    assert [m["Subject"] for m in mails] == ["Zgłoszenie na liście rezerwowej: Otwarte"] * 2
    assert "na liście rezerwowej (miejsce 2)" in body_text(mails[1])
    assert not list(mails[1].iter_attachments())


def test_the_api_twin_shows_the_registration_with_its_rights(client: FlaskClient) -> None:
    [body] = register(client)

    response = client.get(f"/api/registrations/{token_of(body)}")

    assert response.status_code == 200
    shown = response.get_json()
    assert shown["id"] == body["id"]
    assert shown["status"] == "confirmed" and shown["status_label"] == "potwierdzone"
    assert shown["can_change"] is True and shown["can_cancel"] is True
    assert shown["data"]["phone"] == "+48 533 316 283"
    assert shown["manage_url"] == body["manage_url"]


def test_a_partial_change_keeps_the_other_fields_bumps_the_row_and_sends_one_email(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    [body] = register(client)
    deliver(app, smtp_server)

    response = client.patch(
        f"/api/registrations/{token_of(body)}", json={"phone": "600 100 200", "diet": "vegan"}
    )

    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["phone"] == "+48 600 100 200" and data["diet"] == "vegan"
    assert data["first_name"] == "Anna" and data["pesel"] == "02270803624"
    [mail] = deliver(app, smtp_server)
    assert mail["Subject"] == "Zmiana danych zgłoszenia: Otwarte"
    with svc(app).store.transaction() as session:
        row = session.scalar(select(Registration).where(Registration.id == body["id"]))
        assert row is not None and row.version == 2


def test_a_change_that_changes_nothing_sends_nothing(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    [body] = register(client)
    deliver(app, smtp_server)

    response = client.patch(f"/api/registrations/{token_of(body)}", json={"first_name": " Anna "})

    assert response.status_code == 200
    assert deliver(app, smtp_server) == []


def test_the_email_address_is_the_identity_and_cannot_be_changed_by_the_link(
    client: FlaskClient,
) -> None:
    [body] = register(client)

    other = client.patch(f"/api/registrations/{token_of(body)}", json={"email": "nowy@example.pl"})
    same = client.patch(f"/api/registrations/{token_of(body)}", json={"email": "OSOBA0@example.pl"})

    assert other.status_code == 422
    assert "identyfikator zgłoszenia" in other.get_json()["errors"]["email"]
    assert same.status_code == 200


def test_invalid_changes_are_422_with_a_polish_message_per_field(client: FlaskClient) -> None:
    [body] = register(client)

    response = client.patch(
        f"/api/registrations/{token_of(body)}",
        json={"phone": "12", "powiat": "gorzowski", "nickname": "x"},
    )

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["phone"].startswith("Należy podać poprawny numer telefonu")
    assert "nie należy do obszaru wsparcia" in errors["powiat"]
    assert errors["nickname"] == "Nieznane pole – należy je usunąć ze zgłoszenia."
    assert client.get(f"/api/registrations/{token_of(body)}").get_json()["data"]["phone"] == (
        "+48 533 316 283"
    )


def test_moving_to_an_enterprise_at_its_limit_is_409(client: FlaskClient) -> None:
    register(client, 2, enterprise_name="Pełna Spółdzielnia")  # max_per_enterprise = 2
    [body] = register(client, 1, email="trzecia@example.pl", enterprise_name="Inna")

    response = client.patch(
        f"/api/registrations/{token_of(body)}", json={"enterprise_name": "pełna spółdzielnia"}
    )

    assert response.status_code == 409
    assert response.get_json()["error"] == "enterprise_limit_reached"


def test_after_the_deadline_changes_are_403_and_cancelling_still_works_until_the_start(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    [body] = register(client, url=KLASTER_URL)
    token = token_of(body)

    clock.set("2018-08-25T10:00:00+02:00")  # after the deadline (22.08), before the start (27.08)
    change = client.patch(f"/api/registrations/{token}", json={"phone": "600 100 200"})
    shown = client.get(f"/api/registrations/{token}").get_json()
    cancel = client.delete(f"/api/registrations/{token}")

    assert change.status_code == 403
    assert change.get_json()["error"] == "change_not_allowed"
    assert "Adam Szulczewski" in change.get_json()["message"]
    assert shown["can_change"] is False and shown["can_cancel"] is True
    assert cancel.status_code == 200 and cancel.get_json()["status"] == "cancelled"


def test_once_the_event_has_started_the_link_only_shows(
    client: FlaskClient, clock: FakeClock
) -> None:
    [body] = register(client, url=KLASTER_URL)
    token = token_of(body)

    clock.set("2018-08-27T00:00:00+02:00")  # midnight of the first day, Polish time
    cancel = client.delete(f"/api/registrations/{token}")
    shown = client.get(f"/api/registrations/{token}").get_json()

    assert cancel.status_code == 403
    assert cancel.get_json()["error"] == "change_not_allowed"
    assert shown["status"] == "confirmed"
    assert shown["can_change"] is False and shown["can_cancel"] is False


def test_a_change_after_the_event_started_is_refused_saying_it_has_started(
    client: FlaskClient, clock: FakeClock
) -> None:
    [body] = register(client, url=KLASTER_URL)
    token = token_of(body)
    before = client.patch(f"/api/registrations/{token}", json={"phone": "600 100 200"})

    clock.set("2018-08-29T10:00:00+02:00")  # after the event (27–28.08)
    change = client.patch(f"/api/registrations/{token}", json={"phone": "600 100 200"})

    assert before.status_code == 200
    assert change.status_code == 403
    message = change.get_json()["message"]
    assert message.startswith("Wydarzenie rozpoczęło się 27 sierpnia 2018 r.")
    assert "Zrezygnować można do" not in message


def test_a_forced_close_off_ends_changes_too(app: Flask, client: FlaskClient, runner: Any) -> None:
    [body] = register(client)

    result = runner.invoke(args=["close-off", "--event", OPEN, "--force"])
    change = client.patch(f"/api/registrations/{token_of(body)}", json={"phone": "600 100 200"})

    assert result.exit_code == 0, result.output
    assert change.status_code == 403


# -- the waiting list ------------------------------------------------------------------------


def test_a_cancelled_seat_goes_to_the_first_on_the_waiting_list_who_is_told(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    seated = register(client, 3)
    first = register(client, 1, email="pierwsza@example.pl", enterprise_name="Czwarta")[0]
    second = register(client, 1, email="druga@example.pl", enterprise_name="Piąta")[0]
    deliver(app, smtp_server)

    response = client.delete(f"/api/registrations/{token_of(seated[1])}")
    mails = deliver(app, smtp_server)

    assert response.get_json()["status"] == "cancelled"
    assert status_of(app, first["id"]) == "confirmed"
    assert status_of(app, second["id"]) == "waitlisted"
    assert client.get(f"/api/registrations/{token_of(second)}").get_json()["waiting_position"] == 1
    by_subject = {m["Subject"]: m for m in mails}
    assert set(by_subject) == {
        "Rezygnacja zapisana: Otwarte",
        "Zwolniło się miejsce – udział potwierdzony: Otwarte",
    }
    promoted = by_subject["Zwolniło się miejsce – udział potwierdzony: Otwarte"]
    assert promoted["To"] == "pierwsza@example.pl"
    assert first["manage_url"] in body_text(promoted)
    assert [p.get_filename() for p in promoted.iter_attachments()] == ["wydarzenie.ics"]
    with svc(app).store.transaction() as session:
        changes = [
            (c.registration_id, c.old_status, c.new_status, c.actor)
            for c in session.scalars(select(StatusChange).order_by(StatusChange.id))
        ]
    assert changes == [
        (seated[1]["id"], "confirmed", "cancelled", "participant"),
        (first["id"], "waitlisted", "confirmed", "system"),
    ]


def test_cancelling_twice_changes_nothing_the_second_time(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    [body] = register(client)
    deliver(app, smtp_server)

    first = client.delete(f"/api/registrations/{token_of(body)}")
    again = client.delete(f"/api/registrations/{token_of(body)}")

    assert first.status_code == again.status_code == 200
    assert len(deliver(app, smtp_server)) == 1


def test_nobody_is_promoted_once_the_event_has_started(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    register(client, 3)
    [waiting] = register(client, 1, email="czeka@example.pl", enterprise_name="Czeka")
    event = svc(app).events[OPEN]

    clock.set(event.starts_at.isoformat())
    promoted = svc(app).registrations.promote(event, now=clock.now)

    assert promoted == []
    assert status_of(app, waiting["id"]) == "waitlisted"


def _restart_with_capacity(
    app: Flask, settings: Settings, clock: FakeClock, capacity: int
) -> Flask:
    svc(app).store.dispose()
    write_event(
        settings.events_dir,
        OPEN,
        **{
            "capacity": capacity,
            "title": '"Wydarzenie testowe otwarte"',
            "short_title": '"Otwarte"',
            **_open_dates(svc(app)),
        },
    )
    return create_app(settings, clock=clock)


def _open_dates(services: Services) -> dict[str, str]:
    event = services.events[OPEN]
    return {
        "registration_deadline": event.registration_deadline.isoformat(),
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "max_per_enterprise": "2",
    }


def test_capacity_raised_in_the_event_file_promotes_on_the_first_round_after_a_restart(
    app: Flask, client: FlaskClient, settings: Settings, clock: FakeClock, smtp_server: Mailbox
) -> None:
    register(client, 3)
    waiting = [
        register(client, 1, email=f"czeka{i}@example.pl", enterprise_name=f"Czeka {i}")[0]
        for i in range(3)
    ]

    restarted = _restart_with_capacity(app, settings, clock, capacity=5)
    try:
        svc(restarted).worker.run_once()
        statuses = [status_of(restarted, w["id"]) for w in waiting]
        promoted = [m for m in deliver(restarted, smtp_server) if "Zwolniło" in m["Subject"]]
    finally:
        svc(restarted).store.dispose()

    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    assert sorted(m["To"] for m in promoted) == ["czeka0@example.pl", "czeka1@example.pl"]


def test_lowering_capacity_moves_nobody_back(
    app: Flask, client: FlaskClient, settings: Settings, clock: FakeClock
) -> None:
    seated = register(client, 3)

    restarted = _restart_with_capacity(app, settings, clock, capacity=1)
    try:
        svc(restarted).worker.run_once()
        statuses = [status_of(restarted, s["id"]) for s in seated]
        late = restarted.test_client().post(
            OPEN_URL, json=valid_payload(email="nowa@example.pl", enterprise_name="Nowa")
        )
    finally:
        svc(restarted).store.dispose()

    assert statuses == ["confirmed"] * 3
    assert late.get_json()["status"] == "waitlisted"


# -- the link itself ---------------------------------------------------------------------------


def test_a_wrong_forged_or_foreign_token_answers_exactly_like_an_unknown_one(
    app: Flask, client: FlaskClient
) -> None:
    [body] = register(client)
    token = token_of(body)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")

    answers = [
        client.get(f"/api/registrations/{candidate}")
        for candidate in ("nie-ma", forged, "x" * 500, token.upper())
    ]
    pages = [
        client.get(f"/wydarzenia/{OPEN}/zgloszenie/{candidate}") for candidate in (forged, "nie-ma")
    ]
    # Under another event's slug: the same page as an unknown token there (its lost-link page).
    foreign = [
        client.get(f"/wydarzenia/{KLASTER}/zgloszenie/{candidate}") for candidate in (token, "x")
    ]

    assert {(a.status_code, a.data) for a in answers} == {(answers[0].status_code, answers[0].data)}
    assert answers[0].status_code == 404
    assert {(p.status_code, p.data) for p in pages} == {(404, pages[0].data)}
    assert {(p.status_code, p.data) for p in foreign} == {(404, foreign[0].data)}


def test_pages_and_answers_that_carry_the_token_are_not_cached_nor_sent_as_a_referer(
    client: FlaskClient,
) -> None:
    client.post(
        f"/wydarzenia/{OPEN}/",
        data={**_form(valid_payload()), "csrf_token": _csrf(client)},
    )
    confirmation = client.get(f"/wydarzenia/{OPEN}/potwierdzenie")
    link = TOKEN_URL.search(confirmation.text)
    assert link, confirmation.text
    path = link.group(0).removeprefix(BASE)

    for response in (
        confirmation,
        client.get(path),
        client.get(f"{path}/rezygnacja"),
        client.get(f"/api/registrations/{link.group(1)}"),
    ):
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_the_token_carries_at_least_128_random_bits_and_is_never_stored(
    app: Flask, client: FlaskClient
) -> None:
    bodies = register(client, 3)
    tokens = [token_of(b) for b in bodies]

    with svc(app).store.engine.connect() as connection:
        dump = "\n".join(
            str(row) for row in connection.execute(text("SELECT * FROM registrations"))
        )

    assert len(set(tokens)) == 3
    assert all(len(t) >= 22 for t in tokens)  # 22 base64url characters hold 128 bits
    assert not any(t in dump for t in tokens)
    assert not any(b["id"] in t for b, t in zip(bodies, tokens, strict=True))


def test_every_link_is_absolute_on_the_public_address_and_https_makes_cookies_secure(
    app: Flask, client: FlaskClient
) -> None:
    [body] = register(client)
    form = client.get(f"/wydarzenia/{OPEN}/")

    assert body["manage_url"].startswith(f"{BASE}/wydarzenia/{OPEN}/zgloszenie/")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    cookie = form.headers.get("Set-Cookie", "")
    assert "Secure" in cookie


def test_a_plain_http_address_keeps_cookies_usable_without_https(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = Settings(
        instance_path=tmp_path / "i",
        events_dir=tmp_path / "events",
        secret_key="t",  # type: ignore[arg-type]
        run_worker=False,
    )
    write_event(settings.events_dir, KLASTER)
    app = create_app(settings, clock=clock)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is False
    finally:
        svc(app).store.dispose()


def test_the_reminder_answers_alike_and_sends_the_link_at_most_once_per_ten_minutes(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    [body] = register(client)
    deliver(app, smtp_server)
    url = f"/wydarzenia/{OPEN}/przypomnij-link"

    def ask(email: str) -> str:
        response = client.post(url, data={"email": email, "csrf_token": _csrf(client)})
        assert response.status_code == 200
        return response.text

    registered, unknown = ask("OSOBA0@example.pl"), ask("nikt@example.pl")
    first = deliver(app, smtp_server)
    ask("osoba0@example.pl")
    too_soon = deliver(app, smtp_server)
    clock.advance(10 * 60)
    ask("osoba0@example.pl")
    later = deliver(app, smtp_server)

    assert registered == unknown
    assert [m["To"] for m in first] == ["osoba0@example.pl"]
    assert first[0]["Subject"] == "Link do zgłoszenia: Otwarte"
    assert body["manage_url"] in body_text(first[0])
    assert too_soon == []
    assert len(later) == 1


def test_the_lost_link_page_does_the_same_work_for_a_registered_address_as_for_any_other(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    register(client)
    deliver(app, smtp_server)
    url = f"/wydarzenia/{OPEN}/przypomnij-link"
    engine = svc(app).store.engine

    def statements_of(email: str) -> list[str]:
        token = _csrf(client)
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.post(url, data={"email": email, "csrf_token": token})
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200
        return seen

    registered = statements_of("osoba0@example.pl")
    unknown = statements_of("nikt@example.pl")
    sent = deliver(app, smtp_server)  # the mail sender looks the addresses up

    assert registered == unknown  # the same statements: the timing tells nothing
    assert [m["To"] for m in sent] == ["osoba0@example.pl"]
    with svc(app).store.transaction() as session:
        assert session.scalars(select(LinkRequest)).all() == []  # done and deleted


def test_staff_correct_an_address_and_the_new_link_goes_there_while_the_old_one_dies(
    app: Flask, client: FlaskClient, runner: Any, smtp_server: Mailbox
) -> None:
    [body] = register(client, email="pomylka@exampel.pl")
    deliver(app, smtp_server)

    result = runner.invoke(
        args=[
            "registration",
            "set-email",
            "--id",
            body["id"].lower(),
            "--email",
            "Dobry@Example.pl",
        ]
    )

    assert result.exit_code == 0, result.output
    [mail] = smtp_server.messages[-1:]
    assert mail["To"] == "Dobry@example.pl"
    new_link = TOKEN_URL.search(body_text(mail))
    assert new_link and new_link.group(0) != body["manage_url"]
    assert client.get(f"/api/registrations/{token_of(body)}").status_code == 404
    shown = client.get(f"/api/registrations/{new_link.group(1)}").get_json()
    assert shown["data"]["email"] == "Dobry@example.pl"


def test_set_email_refuses_an_unknown_id_and_a_bad_address(
    runner: Any, client: FlaskClient
) -> None:
    [body] = register(client)

    unknown = runner.invoke(
        args=["registration", "set-email", "--id", "R-0000-0000", "--email", "a@b.pl"]
    )
    bad = runner.invoke(
        args=["registration", "set-email", "--id", body["id"], "--email", "nie-adres"]
    )

    assert unknown.exit_code == 1 and "no registration 'R-0000-0000'" in unknown.output
    assert bad.exit_code == 2 and "Należy podać poprawny adres e-mail" in bad.output


# -- pages ------------------------------------------------------------------------------------


def _csrf(client: FlaskClient) -> str:
    page = client.get(f"/wydarzenia/{OPEN}/przypomnij-link").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _form(payload: dict[str, Any]) -> dict[str, str]:
    form = {k: str(v) for k, v in payload.items() if isinstance(v, str)}
    form.update(
        accommodation="tak" if payload.get("accommodation") else "nie",
        consent_personal_data="tak",
    )
    return form


def test_the_link_page_changes_data_and_cancels_with_a_confirmation_step(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    [body] = register(client)
    path = body["manage_url"].removeprefix(BASE)
    deliver(app, smtp_server)

    page = client.get(path)
    changed = client.post(
        path,
        data={
            **_form(valid_payload(enterprise_name="Firma 0")),
            "phone": "600 100 200",
            "csrf_token": _csrf(client),
        },
    )
    after_change = client.get(path)
    confirm = client.get(f"{path}/rezygnacja")
    cancelled = client.post(f"{path}/rezygnacja", data={"csrf_token": _csrf(client)})
    after_cancel = client.get(path)

    assert page.status_code == 200 and "Zmiana danych" in shown(page)
    assert 'name="email"' not in page.text  # the address is shown, not editable
    assert changed.status_code == 303
    assert "Zmiany zostały zapisane" in shown(after_change)
    assert 'value="+48 600 100 200"' in after_change.text
    assert "Czy na pewno zrezygnować z udziału?" in shown(confirm)
    assert cancelled.status_code == 303
    assert "Rezygnacja została zapisana" in shown(after_cancel)
    assert "Status: rezygnacja – zgłoszenie jest anulowane." in shown(after_cancel)
    assert "Zmiana danych" not in shown(after_cancel)
    subjects = [m["Subject"] for m in deliver(app, smtp_server)]
    assert subjects == ["Zmiana danych zgłoszenia: Otwarte", "Rezygnacja zapisana: Otwarte"]


def test_the_confirmation_page_shows_the_private_link(client: FlaskClient) -> None:
    response = client.post(
        f"/wydarzenia/{OPEN}/", data={**_form(valid_payload()), "csrf_token": _csrf(client)}
    )
    confirmation = client.get(response.headers["Location"])

    assert "Prywatny link do zgłoszenia" in shown(confirmation)
    assert TOKEN_URL.search(confirmation.text)


def test_an_invalid_change_on_the_page_keeps_what_was_typed(client: FlaskClient) -> None:
    [body] = register(client)
    path = body["manage_url"].removeprefix(BASE)

    response = client.post(
        path, data={**_form(valid_payload()), "phone": "12", "csrf_token": _csrf(client)}
    )

    assert response.status_code == 422
    assert "Należy podać poprawny numer telefonu" in shown(response)
    assert 'value="12"' in response.text


def test_a_store_failure_behind_the_link_is_a_polish_503_and_the_token_never_reaches_the_log(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [body] = register(client)
    token = token_of(body)

    def store_down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("SELECT … FROM registrations")

    monkeypatch.setattr(svc(app).registrations, "by_token", store_down)
    page = client.get(f"/wydarzenia/{OPEN}/zgloszenie/{token}")
    answer = client.get(f"/api/registrations/{token}")

    assert page.status_code == 503 and "Chwilowa awaria" in page.text
    assert answer.status_code == 503 and answer.get_json()["error"] == "unavailable"
    for response in (page, answer):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert token not in caplog.text
    assert "/wydarzenia/<slug>/zgloszenie/<token>" in caplog.text


def test_an_unexpected_error_behind_the_link_logs_the_route_not_the_token(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [body] = register(client)
    token = token_of(body)

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(svc(app).registrations, "by_token", bug)
    response = client.get(f"/api/registrations/{token}")

    assert response.status_code == 500
    assert response.headers["Cache-Control"] == "no-store"
    assert "unhandled error on GET /api/registrations/<token>" in caplog.text
    assert token not in caplog.text


def test_someone_who_cancelled_is_told_to_ask_staff_rather_than_register_again(
    client: FlaskClient,
) -> None:
    [body] = register(client)
    client.delete(f"/api/registrations/{token_of(body)}")

    again = client.post(
        OPEN_URL, json=valid_payload(email="osoba0@example.pl", enterprise_name="Firma 0")
    )

    assert again.status_code == 409
    assert again.get_json()["error"] == "already_registered"
    assert "wcześniej anulowane" in again.get_json()["message"]


def test_an_email_sent_after_the_deadline_offers_only_what_the_link_still_allows(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    register(client, url=KLASTER_URL)
    clock.set("2018-08-25T10:00:00+02:00")  # the e-mail waited (SMTP was down) past the deadline

    [mail] = deliver(app, smtp_server)

    text = body_text(mail)
    assert "(podgląd, rezygnacja do 26 sierpnia 2018 r.)" in text
    assert "zmiana danych" not in text
