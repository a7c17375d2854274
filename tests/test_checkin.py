"""Check-in on the day: codes, the day's list on a phone, scanning mode, `/o/<code>` with and
without a staff session, presence recorded once under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from checkin.models import CheckinCode, Presence
from config.services import services
from config.settings import Settings
from registrations.models import Registration, StaffAction
from tests.checkin_support import PEOPLE, code_of, register
from tests.conftest import KLASTER, FakeClock, shown
from tests.staff_support import CHECKIN, STAFF_LISTS, csrf, page, sign_in, tag

DAY_ONE = "2018-08-27T08:42:00+02:00"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
FROM_CAMERA = {"Sec-Fetch-Site": "none"}


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """Every test on SQLite and on PostgreSQL (the unique presence row is the database's)."""
    return settings.model_copy(update={**STAFF_LISTS, "database_url": database_url})


@pytest.fixture
def people(app: Flask) -> list[str]:
    return [register(app, n, first, last) for n, (first, last) in enumerate(PEOPLE)]


@pytest.fixture
def on_the_day(app: Flask, clock: FakeClock, people: list[str]) -> list[str]:
    clock.set(DAY_ONE)
    return people


def scanning_on(client: FlaskClient, day: str = "2018-08-27") -> None:
    path = f"/obsluga/wydarzenia/{KLASTER}/obecnosc"
    response = client.post(
        f"{path}/skanowanie", data={"csrf_token": csrf(client, path), "dzien": day}
    )
    assert response.status_code == 303, shown(response)


def presence_rows(app: Flask) -> list[Presence]:
    with services(app).store.reading() as session:
        rows = list(session.scalars(select(Presence)))
        session.expunge_all()
    return rows


def answer(response: Any) -> str:
    body = response.content if isinstance(response, requests.Response) else response.data
    found = page(body).find(class_="checkin-answer")
    return found.get_text(" ", strip=True) if found else ""


def test_the_code_is_random_long_and_neither_the_id_nor_the_token(
    app: Flask, people: list[str]
) -> None:
    codes = [code_of(app, rid) for rid in people]
    assert len(set(codes)) == 3
    assert all(len(code) >= 16 for code in codes)  # 80 bits in base32
    assert code_of(app, people[0]) == codes[0]  # made once, kept
    for rid, code in zip(people, codes, strict=True):
        assert rid.lower() not in code


def test_a_scan_with_scanning_on_records_once_and_answers_green_then_amber(
    app: Flask, on_the_day: list[str]
) -> None:
    client = sign_in(app.test_client(), CHECKIN)
    scanning_on(client)
    code = code_of(app, on_the_day[0])

    first = client.get(f"/o/{code}", headers=FROM_CAMERA)
    assert first.status_code == 200
    assert answer(first) == "Anna Nowak – obecność odnotowana 27.08, 08:42"
    assert "ok" in str(tag(page(first.data), class_="checkin-answer")["class"])
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["Referrer-Policy"] == "no-referrer"

    again = client.get(f"/o/{code}", headers=SAME_ORIGIN)
    assert answer(again) == "obecność już odnotowana o 08:42"
    rows = presence_rows(app)
    assert len(rows) == 1
    assert (rows[0].recorded_by, rows[0].source) == (CHECKIN, "skan")


def test_a_get_without_scanning_or_from_another_site_records_nothing(
    app: Flask, on_the_day: list[str]
) -> None:
    client = sign_in(app.test_client(), CHECKIN)
    code = code_of(app, on_the_day[0])

    shown_only = client.get(f"/o/{code}", headers=FROM_CAMERA)
    assert shown_only.status_code == 200
    assert "Odnotuj obecność" in shown(shown_only)
    assert presence_rows(app) == []

    scanning_on(client)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {}):
        response = client.get(f"/o/{code}", headers=headers)
        assert "Odnotuj obecność" in shown(response)
    assert presence_rows(app) == []

    # The button: a POST with the CSRF token.
    refused = client.post(f"/o/{code}", data={"akcja": "obecnosc"})
    assert refused.status_code == 400
    assert presence_rows(app) == []
    token = str(tag(page(shown_only.data), "input", {"name": "csrf_token"})["value"])
    done = client.post(f"/o/{code}", data={"akcja": "obecnosc", "csrf_token": token})
    assert answer(done) == "Anna Nowak – obecność odnotowana 27.08, 08:42"
    assert [r.source for r in presence_rows(app)] == ["przycisk"]


def test_scanning_ends_with_the_day_and_stays_with_its_event(
    app: Flask, clock: FakeClock, on_the_day: list[str]
) -> None:
    clock.set("2018-08-27T23:00:00+02:00")
    client = sign_in(app.test_client(), CHECKIN)
    scanning_on(client)
    clock.set("2018-08-28T00:05:00+02:00")  # the next day, the session still valid
    code = code_of(app, on_the_day[1])
    response = client.get(f"/o/{code}", headers=FROM_CAMERA)
    assert "Odnotuj obecność" in shown(response)
    assert presence_rows(app) == []
    # Another session (a new sign-in) does not inherit it.
    other = sign_in(app.test_client(), CHECKIN)
    assert "Odnotuj obecność" in shown(other.get(f"/o/{code}", headers=FROM_CAMERA))


def test_without_a_session_every_code_gets_the_identical_page(
    app: Flask, on_the_day: list[str]
) -> None:
    client = app.test_client()
    known = client.get(f"/o/{code_of(app, on_the_day[0])}")
    unknown = client.get("/o/aaaaaaaaaaaaaaaa")
    nonsense = client.get("/o/x")
    assert known.status_code == unknown.status_code == nonsense.status_code == 200
    text = shown(known)
    assert "Prosimy pokazać ten kod organizatorom." in text
    assert "Nowak" not in text and "Klaster" not in text
    link = page(known.data).find("a", string="Logowanie dla obsługi")
    assert link is not None
    # The pages differ only by the path the sign-in returns to.
    code = code_of(app, on_the_day[0])
    assert known.data.replace(code.encode(), b"X") == unknown.data.replace(
        b"aaaaaaaaaaaaaaaa", b"X"
    )
    assert known.headers["Cache-Control"] == "no-store"
    assert "<script" not in text
    assert presence_rows(app) == []


def test_the_sign_in_from_the_code_page_returns_to_it(app: Flask, on_the_day: list[str]) -> None:
    client = app.test_client()
    code = code_of(app, on_the_day[0])
    public = page(client.get(f"/o/{code}").data)
    href = str(tag(public, "a", string="Logowanie dla obsługi")["href"])
    assert href.startswith("/obsluga/logowanie?dalej=")
    assert f"%2Fo%2F{code}" in href or f"/o/{code}" in href


def test_statuses_answer_as_the_issue_says(app: Flask, clock: FakeClock, people: list[str]) -> None:
    svc = services(app)
    with svc.store.transaction() as session:
        rows = {r.id: r for r in session.scalars(select(Registration))}
        rows[people[1]].status = "waitlisted"
        rows[people[2]].status = "cancelled"
    clock.set(DAY_ONE)
    checkin = sign_in(app.test_client(), CHECKIN)
    assert answer(checkin.get(f"/o/{code_of(app, people[1])}")) == (
        "lista rezerwowa – brak potwierdzonego miejsca"
    )
    assert "Przyjmij" not in shown(checkin.get(f"/o/{code_of(app, people[1])}"))
    assert answer(checkin.get(f"/o/{code_of(app, people[2])}")) == "rezygnacja"
    unknown = checkin.get("/o/zzzzzzzzzzzzzzzz")
    assert (unknown.status_code, answer(unknown)) == (404, "Nieznany kod")
    # Check-in staff see the name, enterprise, status and presence only.
    person = tag(page(checkin.get(f"/o/{code_of(app, people[0])}").data), "dl")
    assert [dt.text for dt in person.find_all("dt")] == [
        "Imię i nazwisko",
        "Przedsiębiorstwo",
        "Status",
        "Obecność dziś",
    ]

    full = sign_in(app.test_client())
    waiting = f"/o/{code_of(app, people[1])}"
    assert "Przyjmij" in shown(full.get(waiting))
    token = csrf(full, waiting)
    assert full.post(waiting, data={"akcja": "przyjmij", "csrf_token": token}).status_code == 303
    with svc.store.reading() as session:
        assert (
            session.scalar(select(Registration.status).where(Registration.id == people[1]))
            == "confirmed"
        )
    assert (
        checkin.post(
            waiting, data={"akcja": "przyjmij", "csrf_token": csrf(checkin, waiting)}
        ).status_code
        == 403
    )

    clock.set("2018-08-29T09:00:00+02:00")
    checkin = sign_in(app.test_client(), CHECKIN)
    assert answer(checkin.get(f"/o/{code_of(app, people[0])}")) == (
        "Ten kod nie dotyczy dzisiejszego dnia wydarzenia"
    )


def test_the_days_list_marks_and_undoes_presence_with_counts(
    app: Flask, on_the_day: list[str]
) -> None:
    client = sign_in(app.test_client(), CHECKIN)
    path = f"/obsluga/wydarzenia/{KLASTER}/obecnosc"
    first = page(client.get(path).data)
    assert "Obecność 27.08" in tag(first, "h1").text
    assert _count(first) == "Obecnych: 0 z 3 oczekiwanych osób"
    buttons = [b.get_text(" ", strip=True) for b in first.select(".checkin-people button")]
    assert buttons == ["Obecność – Zofia Ćwik", "Obecność – Anna Nowak", "Obecność – Łukasz Żak"]

    searched = page(client.get(path, query_string={"szukaj": "żak"}).data)
    assert [li["id"] for li in searched.select(".checkin-people li")] == [f"osoba-{on_the_day[1]}"]

    token = csrf(client, path)
    marked = client.post(
        path,
        data={"csrf_token": token, "id": on_the_day[1], "akcja": "obecnosc", "dzien": "2018-08-27"},
    )
    assert marked.status_code == 303
    after = page(client.get(path).data)
    assert _count(after) == "Obecnych: 1 z 3 oczekiwanych osób"
    assert "obecność 08:42" in tag(after, id=f"osoba-{on_the_day[1]}").get_text(" ", strip=True)
    # The second day counts apart.
    second = page(client.get(path, query_string={"dzien": "2018-08-28"}).data)
    assert _count(second) == "Obecnych: 0 z 3 oczekiwanych osób"

    client.post(
        path,
        data={"csrf_token": token, "id": on_the_day[1], "akcja": "cofnij", "dzien": "2018-08-27"},
    )
    assert presence_rows(app) == []
    with services(app).store.reading() as session:
        actions = list(session.scalars(select(StaffAction.action).order_by(StaffAction.id)))
    assert actions[-2:] == ["presence_recorded", "presence_undone"]
    assert client.get(path, query_string={"dzien": "2018-09-01"}).status_code == 404


def test_checkin_staff_get_403_on_other_staff_pages(app: Flask, on_the_day: list[str]) -> None:
    client = sign_in(app.test_client(), CHECKIN)
    for path in (
        "/obsluga/",
        "/obsluga/historia",
        f"/obsluga/wydarzenia/{KLASTER}/",
        f"/obsluga/wydarzenia/{KLASTER}/listy",
        "/obsluga/wydarzenia/nowe",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get("/obsluga/obecnosc").status_code == 200
    assert app.test_client().get(f"/obsluga/wydarzenia/{KLASTER}/obecnosc").status_code == 302


def test_two_simultaneous_scans_record_once(
    app: Flask, on_the_day: list[str], live_server: Any
) -> None:
    phones = []
    for _ in range(2):
        client = sign_in(app.test_client(), CHECKIN)
        scanning_on(client)
        session = requests.Session()
        cookie = client.get_cookie("owes_obsluga")
        assert cookie is not None
        session.cookies.set(cookie.key, cookie.value)
        flask_session = client.get_cookie("session")
        assert flask_session is not None
        session.cookies.set(flask_session.key, flask_session.value)
        phones.append(session)
    code = code_of(app, on_the_day[0])
    barrier = threading.Barrier(len(phones))
    answers: list[str] = []

    def scan(session: requests.Session) -> None:
        barrier.wait()
        response = session.get(f"{live_server.url}/o/{code}", headers=FROM_CAMERA, timeout=30)
        answers.append(answer(response))

    threads = [threading.Thread(target=scan, args=(s,)) for s in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(presence_rows(app)) == 1
    assert sorted(answers) == [
        "Anna Nowak – obecność odnotowana 27.08, 08:42",
        "obecność już odnotowana o 08:42",
    ]
    with services(app).store.reading() as db:
        assert db.scalar(select(func.count()).select_from(CheckinCode)) == 1


def test_the_private_page_shows_the_qr_of_the_checkin_url_with_the_id_beneath(
    app: Flask, people: list[str]
) -> None:
    import segno

    from checkin.codes import checkin_url

    svc = services(app)
    with svc.store.reading() as db:
        registration = db.scalar(select(Registration).where(Registration.id == people[0]))
        assert registration is not None
        token_url = svc.link_for(registration)
    private = app.test_client().get(token_url.replace(svc.settings.public_base_url, ""))
    assert private.status_code == 200
    section = tag(page(private.data), "section", class_="checkin-code")
    svg = tag(section, "svg")
    assert tag(section, "figcaption").text == people[0]
    url = checkin_url(svc.settings.public_base_url, code_of(app, people[0]))
    expected = tag(page(segno.make(url, error="m").svg_inline(scale=4)), "path")["d"]
    assert tag(svg, "path")["d"] == expected  # the QR holds exactly the check-in URL
    assert "/o/" in url and people[0] not in url


def test_every_badge_carries_its_qr_code_and_id(app: Flask, people: list[str]) -> None:
    import io

    from pypdf import PdfReader

    client = sign_in(app.test_client())
    response = client.get(f"/obsluga/wydarzenia/{KLASTER}/listy/badges.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    text = reader.pages[0].extract_text()
    for rid in people:
        assert rid in text
    assert len(reader.pages[0].images) == 3


def test_erasure_deletes_the_code_keeps_the_days_and_my_data_shows_them(
    app: Flask, on_the_day: list[str]
) -> None:
    from privacy.own_data import own_data
    from registrations.erasure import ErasedBy

    client = sign_in(app.test_client(), CHECKIN)
    scanning_on(client)
    code = code_of(app, on_the_day[0])
    client.get(f"/o/{code}", headers=FROM_CAMERA)
    svc = services(app)
    event = svc.events[KLASTER]
    with svc.store.reading() as db:
        registration = db.scalar(select(Registration).where(Registration.id == on_the_day[0]))
        assert registration is not None
        db.expunge(registration)
    document = own_data(svc.store, event, registration, svc.now())
    assert [d.isoformat() for d in document.presence] == ["2018-08-27"]

    import logging

    from privacy.erasure import Eraser

    Eraser(svc, logging.getLogger("test")).erase(
        event, [on_the_day[0]], by=ErasedBy.REQUEST, command="erase"
    )
    with svc.store.reading() as db:
        assert db.scalar(select(func.count()).select_from(CheckinCode)) == 0
        rows = list(db.scalars(select(Presence)))
    assert [(r.registration_id, r.day.isoformat(), r.recorded_at, r.recorded_by) for r in rows] == [
        (on_the_day[0], "2018-08-27", None, None)
    ]
    assert answer(client.get(f"/o/{code}", headers=FROM_CAMERA)) == "Nieznany kod"


def test_my_data_page_lists_the_days_present(app: Flask, on_the_day: list[str]) -> None:
    client = sign_in(app.test_client(), CHECKIN)
    scanning_on(client)
    client.get(f"/o/{code_of(app, on_the_day[0])}", headers=FROM_CAMERA)
    svc = services(app)
    with svc.store.reading() as db:
        registration = db.scalar(select(Registration).where(Registration.id == on_the_day[0]))
        assert registration is not None
        private = svc.link_for(registration).replace(svc.settings.public_base_url, "")
    readable = shown(app.test_client().get(f"{private}/moje-dane.html"))
    assert "Obecność" in readable and "27 sierpnia 2018 r." in readable
    document = app.test_client().get(f"{private}/moje-dane").get_json()
    assert document["presence"] == ["2018-08-27"] and document["certificate_number"] is None


def _count(response: Any) -> str:
    """The day's count as read (one number, the phrase declined with it)."""
    text = tag(response, class_="checkin-count").get_text(" ", strip=True)
    return " ".join(text.replace("\u00a0", " ").split())


def test_a_search_on_the_check_in_page_never_reaches_a_request_log() -> None:
    from forms.secret_paths import mask

    line = (
        '127.0.0.1 - - "GET /obsluga/wydarzenia/w/obecnosc?dzien=2018-08-27&szukaj=Nowak HTTP/1.1"'
    )
    assert mask(line) == '127.0.0.1 - - "GET /obsluga/wydarzenia/w/obecnosc?… HTTP/1.1"'
