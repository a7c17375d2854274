"""Signing in to the staff pages: the e-mailed one-time link, sessions, roles and refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import ValidationError
from sqlalchemy import select, text

from app import create_app
from backoffice.access import COOKIE
from config.services import services
from config.settings import Settings, describe_settings_error
from registrations.models import StaffAction
from store.models import OutboxMessage, StaffSession, StaffSignIn
from tests.conftest import FakeClock, Mailbox, shown, valid_payload
from tests.staff_support import (
    CHECKIN,
    COORDINATOR,
    STAFF_LISTS,
    csrf,
    link_token,
    page,
    sign_in,
    tag,
)

SIGN_IN = "/obsluga/logowanie"
SAME_ANSWER = "Jeśli ten adres jest na liście osób obsługujących zapisy"


@pytest.fixture
def settings(settings: Settings, smtp_server: Mailbox) -> Settings:
    return settings.model_copy(
        update={
            **STAFF_LISTS,
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        }
    )


def ask_for_link(client: FlaskClient, email: str, next_path: str | None = None) -> str:
    data = {"csrf_token": csrf(client, SIGN_IN), "email": email}
    if next_path:
        data["dalej"] = next_path
    response = client.post(SIGN_IN, data=data)
    assert response.status_code == 200
    return shown(response)


def deliver(app: Flask) -> None:
    services(app).mail_worker.run_once()


def sign_in_mails(mailbox: Mailbox) -> list[EmailMessage]:
    return [m for m in mailbox.messages if "Link do logowania" in str(m["Subject"])]


def link_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"http://\S+/obsluga/logowanie/(\S+)", body.get_content())
    assert found is not None
    return f"/obsluga/logowanie/{found.group(1)}"


def test_a_listed_address_signs_in_through_the_e_mailed_link_and_returns_to_its_page(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    first = client.get("/obsluga/historia")
    assert first.status_code == 302
    assert first.headers["Location"] == "/obsluga/logowanie?dalej=%2Fobsluga%2Fhistoria"

    answer = ask_for_link(client, "KOORDYNATORKA@example.pl ", next_path="/obsluga/historia")
    deliver(app)

    assert SAME_ANSWER in answer and "15 minut" in answer
    [message] = sign_in_mails(smtp_server)
    assert message["To"] == COORDINATOR
    link = link_in(message)
    seen = client.get(link)  # a mail scanner following the link signs nobody in
    assert seen.status_code == 200
    assert [b.text for b in page(seen.data).find_all("button")][-1] == "Zaloguj się"
    assert COOKIE not in seen.headers.get("Set-Cookie", "")
    signed = client.post(link, data={"csrf_token": csrf(client, link)})
    assert signed.status_code == 303
    assert signed.headers["Location"] == "/obsluga/historia"
    cookie = signed.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http:// PUBLIC_BASE_URL
    assert client.get("/obsluga/historia").status_code == 200


def test_an_unlisted_address_gets_the_same_answer_and_no_e_mail(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    listed = ask_for_link(client, COORDINATOR)
    unlisted = ask_for_link(client, "ktos.obcy@example.pl")
    deliver(app)

    assert SAME_ANSWER in unlisted
    assert tag(page(listed), "main").text == tag(page(unlisted), "main").text
    assert [m["To"] for m in smtp_server.messages] == [COORDINATOR]


def test_the_link_is_derived_never_stored_and_the_e_mail_composed_when_sent(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    ask_for_link(client, COORDINATOR)
    svc = services(app)
    with svc.store.reading() as session:
        [row] = session.scalars(select(OutboxMessage))
        assert row.body is None and row.priority > 0 and row.expires_at is not None
    deliver(app)
    token = link_in(sign_in_mails(smtp_server)[0]).rsplit("/", 1)[1]

    with svc.store.reading() as session:
        dump = "\n".join(
            str(value)
            for table in ("staff_sign_ins", "outbox")
            for row in session.execute(text(f"SELECT * FROM {table}"))
            for value in row
        )
    assert token not in dump


def test_the_sign_in_e_mail_goes_before_participants_queued_e_mails(
    app: Flask, client: FlaskClient, smtp_server: Mailbox
) -> None:
    for n in range(3):
        client.post(
            "/api/events/otwarte/registrations",
            json=valid_payload(email=f"p{n}@example.pl", enterprise_name=f"Firma {n}"),
        )
    ask_for_link(client, COORDINATOR)

    deliver(app)

    assert "Link do logowania" in str(smtp_server.messages[0]["Subject"])
    assert len(smtp_server.messages) == 4


def test_a_sign_in_e_mail_not_handed_over_in_time_is_dropped_and_counted(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    ask_for_link(client, COORDINATOR)
    clock.advance(15 * 60)  # SMTP took nothing while the link was valid

    deliver(app)

    assert smtp_server.messages == []
    outbox = client.get("/healthz").get_json()["outbox"]
    assert outbox["expired"] == 1 and outbox["backlog"] == 0


def test_one_address_gets_at_most_one_e_mail_a_minute_and_five_an_hour(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp_server: Mailbox
) -> None:
    answers = []
    for minute in range(8):
        answers += [ask_for_link(client, COORDINATOR), ask_for_link(client, COORDINATOR)]
        deliver(app)
        clock.advance(61 if minute < 7 else 3600)
    answers.append(ask_for_link(client, COORDINATOR))  # an hour later: again
    deliver(app)

    assert len(sign_in_mails(smtp_server)) == 6
    assert all(SAME_ANSWER in answer for answer in answers)


def test_a_used_link_and_an_expired_link_say_so_and_offer_to_ask_again(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    used = f"/obsluga/logowanie/{link_token(app, COORDINATOR)}"
    expired = f"/obsluga/logowanie/{link_token(app, COORDINATOR)}"
    client.post(used, data={"csrf_token": csrf(client, used)})
    clock.advance(15 * 60)
    other = app.test_client()

    again = other.post(used, data={"csrf_token": csrf(other, SIGN_IN)})
    late = other.get(expired)
    unknown = other.get("/obsluga/logowanie/" + "A" * 43)

    assert again.status_code == 410 and "został już użyty" in shown(again)
    assert late.status_code == 410 and "wygasł" in shown(late)
    assert unknown.status_code == 404 and "nieprawidłowy" in shown(unknown)
    for answer in (again, late, unknown):
        assert tag(page(answer.data), "a", string="Nowy link do logowania")["href"] == SIGN_IN
        assert COOKIE not in answer.headers.get("Set-Cookie", "")


def test_a_copied_cookie_stops_working_after_sign_out(app: Flask) -> None:
    client = sign_in(app.test_client())
    copied = client.get_cookie(COOKIE)
    assert copied is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, copied.value)
    assert thief.get("/obsluga/").status_code == 200

    out = client.post("/obsluga/wyloguj", data={"csrf_token": csrf(client, "/obsluga/")})

    assert out.status_code == 303 and "wylogowano=tak" in out.headers["Location"]
    assert thief.get("/obsluga/").status_code == 302
    assert client.get("/obsluga/").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_the_address(app: Flask) -> None:
    phone, laptop = sign_in(app.test_client()), sign_in(app.test_client())
    door = sign_in(app.test_client(), CHECKIN)

    phone.post("/obsluga/wyloguj-wszedzie", data={"csrf_token": csrf(phone, "/obsluga/")})

    assert laptop.get("/obsluga/").status_code == 302
    assert door.get("/obsluga/logowanie").status_code == 200
    with services(app).store.reading() as session:
        assert [s.email for s in session.scalars(select(StaffSession))] == [CHECKIN]


def test_each_sign_in_starts_a_new_session_id_of_256_bits_stored_only_as_a_hash(
    app: Flask,
) -> None:
    first = sign_in(app.test_client()).get_cookie(COOKIE)
    second = sign_in(app.test_client()).get_cookie(COOKIE)
    assert first is not None and second is not None

    assert first.value != second.value and len(first.value) >= 43
    with services(app).store.reading() as session:
        stored = {s.id_hash for s in session.scalars(select(StaffSession))}
    assert first.value not in stored and len(stored) == 2


def test_a_session_lasts_staff_session_hours_from_sign_in(app: Flask, clock: FakeClock) -> None:
    client = sign_in(app.test_client())
    clock.advance(12 * 3600 - 1)
    assert client.get("/obsluga/").status_code == 200
    clock.advance(1)
    assert client.get("/obsluga/").status_code == 302


def test_check_in_staff_get_403_on_every_staff_page(app: Flask) -> None:
    door = sign_in(app.test_client(), CHECKIN)
    pages = [
        "/obsluga/",
        "/obsluga/historia",
        "/obsluga/wydarzenia/nowe",
        "/obsluga/wydarzenia/otwarte/",
        "/obsluga/wydarzenia/otwarte/listy",
        "/obsluga/wydarzenia/otwarte/listy/participants.xlsx",
        "/obsluga/wydarzenia/otwarte/podglad",
    ]

    assert {path: door.get(path).status_code for path in pages} == dict.fromkeys(pages, 403)
    closing = door.post("/obsluga/wydarzenia/otwarte/zamkniecie", data={})
    assert closing.status_code == 403


def test_an_address_on_both_lists_is_full_staff_and_the_lists_are_case_insensitive(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    organisation = tmp_path / "organisation.toml"
    source = Path(settings.organisation_file).read_text(encoding="utf-8")
    organisation.write_text(
        source.replace("staff_emails = []", 'staff_emails = ["Biuro@Example.pl"]').replace(
            "checkin_emails = []", 'checkin_emails = ["biuro@example.pl"]'
        ),
        encoding="utf-8",
    )
    app = create_app(settings.model_copy(update={"organisation_file": organisation}), clock=clock)
    try:
        office = sign_in(app.test_client(), "BIURO@example.PL")
        env_listed = sign_in(app.test_client(), "koordynatorka@EXAMPLE.pl")
        assert office.get("/obsluga/").status_code == 200
        assert env_listed.get("/obsluga/").status_code == 200
    finally:
        services(app).store.dispose()


def test_a_malformed_staff_list_stops_start_up_naming_the_variable() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(staff_emails="koordynatorka@example.pl, nie-adres")

    message = describe_settings_error(error.value)
    assert "STAFF_EMAILS: not a comma-separated list of e-mail addresses" in message
    assert "nie-adres" not in message


def test_staff_link_prints_a_link_for_a_listed_address_and_refuses_another(
    app: Flask,
) -> None:
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["staff", "link", "--email", "Koordynatorka@example.pl"])
    unlisted = runner.invoke(args=["staff", "link", "--email", "obcy@example.pl"])

    assert listed.exit_code == 0, listed.output
    link = listed.output.splitlines()[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/obsluga/logowanie/[A-Za-z0-9_-]{43}", link)
    assert unlisted.exit_code == 1 and "neither staff list" in unlisted.output
    client = app.test_client()
    path = link.removeprefix("http://127.0.0.1:5000")
    assert client.post(path, data={"csrf_token": csrf(client, path)}).status_code == 303
    with services(app).store.reading() as session:
        actions = [(a.actor, a.action) for a in session.scalars(select(StaffAction))]
    assert ("wiersz poleceń", "sign_in_link_printed") in actions
    assert (COORDINATOR, "signed_in") in actions


def test_every_staff_page_and_the_link_are_never_cached_nor_referred(app: Flask) -> None:
    client = sign_in(app.test_client())
    token_path = f"/obsluga/logowanie/{link_token(app, COORDINATOR)}"
    answers = [
        client.get("/obsluga/"),
        client.get("/obsluga/wydarzenia/otwarte/listy/participants.csv"),
        client.get(token_path),
        app.test_client().get("/obsluga/historia"),  # the redirect to sign in
        client.get("/obsluga/wydarzenia/nie-ma-takiego/"),  # a 404
    ]

    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store", answer.request.path
        assert answer.headers["Referrer-Policy"] == "no-referrer", answer.request.path


def test_a_staff_post_without_its_csrf_token_does_nothing(app: Flask) -> None:
    client = sign_in(app.test_client())

    answer = client.post("/obsluga/wydarzenia/otwarte/zamkniecie", data={})

    assert answer.status_code == 400
    assert "Formularz wygasł" in shown(answer)
    assert (
        services(app)
        .registrations.window(services(app).events["otwarte"], services(app).now())
        .is_open
    )


def test_the_return_path_is_a_path_of_this_service_only(app: Flask) -> None:
    client = app.test_client()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        token = link_token(app, COORDINATOR)
        ask = client.get(f"/obsluga/logowanie?dalej={target}")
        assert f'value="{target}"' not in shown(ask)
        path = f"/obsluga/logowanie/{token}"
        response = client.post(path, data={"csrf_token": csrf(client, path)})
        assert response.headers["Location"] == "/obsluga/"


@pytest.fixture
def limited(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(
        settings.model_copy(update={"ratelimit_registrations": "3 per 10 minutes"}), clock=clock
    )
    yield app
    services(app).store.dispose()


def test_sign_in_requests_and_the_link_count_in_the_private_link_bucket(limited: Flask) -> None:
    client = limited.test_client()
    token = csrf(client, SIGN_IN)
    answers = [client.post(SIGN_IN, data={"csrf_token": token, "email": "x@example.pl"})]
    answers.append(client.post("/obsluga/logowanie/" + "A" * 43, data={"csrf_token": token}))
    answers.append(client.post("/wydarzenia/otwarte/przypomnij-link", data={"csrf_token": token}))
    answers.append(client.post(SIGN_IN, data={"csrf_token": token, "email": "x@example.pl"}))

    assert [a.status_code for a in answers] == [200, 404, 200, 429]


def test_posts_of_a_signed_in_session_are_not_rate_limited(limited: Flask) -> None:
    client = sign_in(limited.test_client())
    token = csrf(client, SIGN_IN)

    answers = [
        client.post(SIGN_IN, data={"csrf_token": token, "email": "x@example.pl"}).status_code
        for _ in range(6)
    ]

    assert answers == [200] * 6


def test_sign_in_and_sign_out_are_in_the_history(app: Flask) -> None:
    client = sign_in(app.test_client())
    client.post("/obsluga/wyloguj", data={"csrf_token": csrf(client, "/obsluga/")})

    with services(app).store.reading() as session:
        entries = [(a.actor, a.action) for a in session.scalars(select(StaffAction))]
        assert session.scalar(select(StaffSignIn.used_at)) is not None
    assert entries == [(COORDINATOR, "signed_in"), (COORDINATOR, "signed_out")]


def test_check_in_staff_land_on_a_page_they_may_see(app: Flask) -> None:
    client = app.test_client()
    path = f"/obsluga/logowanie/{link_token(app, CHECKIN)}"

    answer = client.post(path, data={"csrf_token": csrf(client, path)})

    # The check-in pages' start (issue 20): the events, each to its day's list.
    assert answer.headers["Location"] == "/obsluga/obecnosc"
    landing = client.get("/obsluga/obecnosc")
    assert landing.status_code == 200
    assert f'Zalogowano: <span class="wrap-anywhere">{CHECKIN}</span>' in shown(landing)
