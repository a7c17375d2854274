"""Registrations handled in the staff pages (issue 18, part A), through the pages with a signed-in
session, the real store, the workbook, the lists and the outbox's .eml files."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from config.services import services
from config.settings import Settings
from registrations.desk_models import DeskEntry, StaffMessage, StaffMessageRecipient
from registrations.models import Registration, StaffAction
from store.models import OutboxMessage
from tests.conftest import KLASTER, OPEN, FakeClock, shown, valid_payload
from tests.staff_support import CHECKIN, STAFF_LISTS, csrf, page, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """Every test on SQLite and on PostgreSQL."""
    return settings.model_copy(update={**STAFF_LISTS, "database_url": database_url})


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    return sign_in(app.test_client())


def _register(app: Flask, slug: str = OPEN, **changes: Any) -> str:
    answer = app.test_client().post(
        f"/api/events/{slug}/registrations", json=valid_payload(**changes)
    )
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["id"])


def _phone_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "first_name": "Halina",
        "last_name": "Kowalczyk",
        "email": "",
        "phone": "600 100 200",
        "enterprise_name": "Spółdzielnia Socjalna Razem",
        "powiat": "0809",
        "role": "",
        "pesel": "",
        "birth_date": "1970-05-04",
        "accommodation": "nie",
        "diet": "standard",
        "diet_other": "",
        "special_needs": "",
        "consent_personal_data": "tak",
    }
    form.update(changes)
    return form


def _add(office: FlaskClient, slug: str = OPEN, **changes: Any) -> Any:
    path = f"/obsluga/wydarzenia/{slug}/zgloszenia/nowe"
    form = _phone_form(**changes)
    form["csrf_token"] = csrf(office, path)
    return office.post(path, data=form)


def _added_id(response: Any) -> str:
    assert response.status_code == 303, shown(response)
    return str(response.headers["Location"]).rsplit("/", 1)[1]


def _sheet_rows(app: Flask, slug: str) -> list[dict[str, str]]:
    path = services(app).instance_path / f"{slug}.xlsx"
    sheet = load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(cell) for cell in rows[0]]
    return [
        dict(zip(header, ["" if v is None else str(v) for v in row], strict=False))
        for row in rows[1:]
    ]


def _mails(app: Flask) -> list[EmailMessage]:
    found = []
    for path in sorted((services(app).instance_path / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def _rounds(app: Flask) -> None:
    svc = services(app)
    svc.worker.run_once()
    svc.mail_worker.run_once()


# -- the table and the page ------------------------------------------------------------------


def test_the_table_lists_searches_and_filters_and_is_for_full_staff_only(
    app: Flask, office: FlaskClient
) -> None:
    first = _register(app, email="zofia@example.pl", first_name="Zofia", last_name="Ćwik")
    _register(app, email="lukasz@example.pl", first_name="Łukasz", last_name="Żak")
    path = f"/obsluga/wydarzenia/{OPEN}/zgloszenia"

    table = page(office.get(path).data)
    rows = [tr.get_text(" ", strip=True) for tr in table.select("tbody tr")]
    assert len(rows) == 2 and first in rows[0] and "Zofia Ćwik" in rows[0]
    assert "potwierdzone" in rows[0] and "powiat zielonogórski" in rows[0].casefold()

    for needle in ("ćwik", "zofia@example", first):
        found = page(office.get(path, query_string={"q": needle}).data).select("tbody tr")
        assert [tr.get_text(" ", strip=True) for tr in found] == rows[:1], needle
    assert not page(office.get(path, query_string={"status": "waitlisted"}).data).select("tbody tr")

    checkin = sign_in(app.test_client(), CHECKIN)
    assert checkin.get(path).status_code == 403
    assert checkin.get(f"/obsluga/zgloszenia/{first}").status_code == 403
    for forbidden in ("zgloszenia/nowe", "wiadomosci"):
        assert checkin.get(f"/obsluga/wydarzenia/{OPEN}/{forbidden}").status_code == 403
    assert checkin.get(f"/obsluga/zgloszenia/{first}/poprawki").status_code == 403
    assert app.test_client().get(path).status_code == 302  # to the sign-in page


def test_the_registration_page_shows_data_history_and_the_emails_sent(
    app: Flask, office: FlaskClient
) -> None:
    rid = _register(app)
    services(app).mail_worker.run_once()
    shown_page = page(office.get(f"/obsluga/zgloszenia/{rid}").data)
    text = shown_page.get_text(" ", strip=True)
    assert "Anna Nowak" in text and "anna.nowak@example.pl" in text
    emails = [tr.get_text(" ", strip=True) for tr in shown_page.select("section tbody tr")][-1]
    assert "Potwierdzenie zgłoszenia" in emails and "wysłany" in emails
    assert office.get("/obsluga/zgloszenia/R-0000-0000").status_code == 404


# -- Dodaj zgłoszenie ------------------------------------------------------------------------


def test_a_phone_registration_without_an_address_reaches_the_sheet_and_the_attendance_list(
    app: Flask, office: FlaskClient
) -> None:
    response = _add(office)
    rid = _added_id(response)
    after = office.get(f"/obsluga/zgloszenia/{rid}")
    assert "nie ma adresu e-mail" in shown(after) and "prywatnego linku" in shown(after)
    assert "informacje trzeba przekazać telefonicznie" in shown(after)  # the flash

    _rounds(app)
    row = next(r for r in _sheet_rows(app, OPEN) if r["ID zgłoszenia"] == rid)
    assert (
        row["Źródło"] == "telefonicznie" and row["E-mail"] == "" and row["Status"] == "potwierdzone"
    )
    assert not _mails(app)  # nobody to write to
    with services(app).store.reading() as session:
        registration = session.scalar(select(Registration).where(Registration.id == rid))
        assert registration is not None and registration.token_lookup is None
        entry = session.scalar(select(DeskEntry).where(DeskEntry.registration_id == rid))
        assert entry is not None and "zgoda przekazana ustnie" in (entry.note or "")
        assert "koordynatorka@example.pl" in (entry.note or "")

    pdf = office.get(f"/obsluga/wydarzenia/{OPEN}/listy/attendance.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Kowalczyk" in text

    # An address added later sends the link; the sheet then reads `organizator`.
    path = f"/obsluga/zgloszenia/{rid}/adres"
    answer = office.post(
        path, data={"email": "halina@example.pl", "csrf_token": csrf(office, path)}
    )
    assert answer.status_code == 303, shown(answer)
    _rounds(app)
    mails = _mails(app)
    assert len(mails) == 1 and "halina@example.pl" in str(mails[0]["To"])
    assert "/zgloszenie/" in _text(mails[0])
    row = next(r for r in _sheet_rows(app, OPEN) if r["ID zgłoszenia"] == rid)
    assert row["Źródło"] == "organizator"


def test_a_second_phone_registration_of_the_same_person_is_refused_with_a_link(
    office: FlaskClient,
) -> None:
    rid = _added_id(_add(office))
    again = _add(office, first_name="HALINA", phone="+48 600 100 200")
    assert again.status_code == 409
    assert f"/obsluga/zgloszenia/{rid}" in shown(again) and "Nic nie zapisano" in shown(again)
    other = _add(office, first_name="Helena")
    assert other.status_code == 303


def test_staff_add_with_an_address_is_organizator_and_gets_the_link(
    app: Flask, office: FlaskClient
) -> None:
    rid = _added_id(_add(office, email="jan@example.pl", first_name="Jan"))
    _rounds(app)
    assert next(r for r in _sheet_rows(app, OPEN) if r["ID zgłoszenia"] == rid)["Źródło"] == (
        "organizator"
    )
    (mail,) = _mails(app)
    assert "jan@example.pl" in str(mail["To"]) and "/zgloszenie/" in _text(mail)
    svc = services(app)
    token = svc.registrations.tokens.token(svc.registrations.by_id(rid))
    own = app.test_client().get(f"/api/registrations/{token}/data")
    assert own.status_code == 200 and own.get_json()["registration"]["source"] == "staff"
    readable = app.test_client().get(f"/wydarzenia/{OPEN}/zgloszenie/{token}/moje-dane.html")
    assert "przez organizatora" in shown(readable)


def test_overrides_need_a_reason_and_capacity_is_kept_unless_ponad_limit_miejsc(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    outside = _add(office, powiat="0803")  # powiat gorzowski: outside the test event's area
    assert outside.status_code == 422 and "nie należy do obszaru" in shown(outside)
    no_reason = _add(office, powiat="0803", override_area="tak")
    assert no_reason.status_code == 422 and "Należy podać powód" in shown(no_reason)
    _added_id(_add(office, powiat="0803", override_area="tak", override_reason="decyzja zarządu"))

    for n in range(2):  # the event has 3 seats
        _register(app, email=f"p{n}@example.pl", enterprise_name=f"Fundacja {n}")
    waiting = _added_id(_add(office, first_name="Ewa"))
    beyond = _add(office, first_name="Olga", override_capacity="tak", override_reason="prelegentka")
    assert beyond.status_code == 409  # a third from Spółdzielnia Socjalna Razem: limit 2
    assert "ponad limit przedsiębiorstwa" in shown(beyond)
    over = _added_id(
        _add(
            office,
            first_name="Olga",
            override_capacity="tak",
            override_enterprise="tak",
            override_reason="prelegentka",
        )
    )
    with services(app).store.reading() as session:
        query = select(Registration.id, Registration.status)
        statuses = {rid: status for rid, status in session.execute(query)}
    assert statuses[waiting] == "waitlisted" and statuses[over] == "confirmed"

    clock.set("2018-08-23T10:00:00+02:00")  # the seed event closed on 22 August
    office = sign_in(app.test_client())  # the session of three days ago has ended
    assert "Zapisy na to wydarzenie są zamknięte" in shown(
        office.get(f"/obsluga/wydarzenia/{KLASTER}/zgloszenia/nowe")
    )
    late = _add(office, KLASTER)
    assert late.status_code == 422 and "po terminie" in shown(late)
    _added_id(_add(office, KLASTER, override_deadline="tak", override_reason="telefon 23.08"))


# -- corrections -----------------------------------------------------------------------------


def _correct(office: FlaskClient, rid: str, **changes: Any) -> Any:
    path = f"/obsluga/zgloszenia/{rid}/poprawki"
    soup = page(office.get(path).data)
    form: dict[str, Any] = {}
    for field in soup.select("form input, form textarea, form select"):
        name = str(field.get("name") or "")
        if not name:
            continue
        kind = field.get("type", "text")
        if field.name == "textarea":
            form[name] = field.text
        elif field.name == "select":
            chosen = field.find("option", selected=True)
            form[name] = str(chosen["value"]) if chosen else ""
        elif kind in ("radio", "checkbox"):
            if field.has_attr("checked"):
                form[name] = str(field.get("value"))
        else:
            form[name] = str(field.get("value") or "")
    form.update(changes)
    return office.post(path, data=form)


def test_a_correction_after_the_deadline_reaches_the_sheet_the_lists_and_the_email(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    rid = _register(app, KLASTER, diet="standard", accommodation=True)
    _rounds(app)
    clock.set("2018-08-24T10:00:00+02:00")  # after the deadline, before the event
    office = sign_in(app.test_client())

    answer = _correct(office, rid, accommodation="nie", diet="vegan", notify="tak")
    assert answer.status_code == 303, shown(answer)
    _rounds(app)

    row = next(r for r in _sheet_rows(app, KLASTER) if r["ID zgłoszenia"] == rid)
    assert row["Nocleg"] == "nie" and row["Dieta"] == "wegańska"
    catering = office.get(f"/obsluga/wydarzenia/{KLASTER}/listy/catering.csv")
    assert "wegańska" in catering.data.decode("utf-8-sig")
    rooming = office.get(f"/obsluga/wydarzenia/{KLASTER}/listy/rooming.csv")
    assert "Nowak" not in rooming.data.decode("utf-8-sig")
    corrected = [m for m in _mails(app) if str(m["Subject"]).startswith("Poprawione dane")]
    assert len(corrected) == 1
    body = _text(corrected[0])
    assert "Nocleg: nie" in body and "Dieta: wegańska" in body

    history = page(office.get("/obsluga/historia").data).get_text(" ", strip=True)
    assert "poprawienie zgłoszenia" in history and "accommodation, diet" in history
    assert "wegańska" not in history
    registration_page = shown(office.get(f"/obsluga/zgloszenia/{rid}"))
    assert "Dieta (wegetariańska → wegańska)" not in registration_page  # it was standard
    assert "Dieta (standardowa → wegańska)" in registration_page


def test_a_correction_without_powiadom_uczestnika_sends_nothing(
    app: Flask, office: FlaskClient
) -> None:
    rid = _register(app)
    services(app).mail_worker.run_once()
    before = len(_mails(app))
    form = page(office.get(f"/obsluga/zgloszenia/{rid}/poprawki").data)
    assert form.find("input", {"name": "notify"}).has_attr("checked")  # type: ignore[union-attr]
    answer = _correct(office, rid, diet="vegan", notify="")
    assert answer.status_code == 303
    services(app).mail_worker.run_once()
    assert len(_mails(app)) == before
    assert services(app).registrations.by_id(rid).diet == "vegan"


def test_pesel_and_birth_date_are_never_mailed(app: Flask, office: FlaskClient) -> None:
    rid = _register(app)
    answer = _correct(
        office, rid, pesel="", birth_date="1980-01-01", first_name="Anita", notify="tak"
    )
    assert answer.status_code == 303, shown(answer)
    services(app).mail_worker.run_once()
    (corrected,) = [m for m in _mails(app) if str(m["Subject"]).startswith("Poprawione dane")]
    body = _text(corrected)
    assert "Imię: Anita" in body and "1980" not in body and "PESEL" not in body


def test_a_stale_correction_is_refused_and_nothing_is_saved(
    app: Flask, office: FlaskClient
) -> None:
    rid = _register(app)
    path = f"/obsluga/zgloszenia/{rid}/poprawki"
    soup = page(office.get(path).data)
    version = str(soup.find("input", {"name": "version"})["value"])  # type: ignore[index]

    # Meanwhile the participant changes the diet through the private link.
    svc = services(app)
    registration = svc.registrations.by_id(rid)
    token = svc.registrations.tokens.token(registration)
    assert (
        app.test_client().patch(f"/api/registrations/{token}", json={"diet": "vegan"}).status_code
        == 200
    )

    stale = _correct(office, rid, version=version, first_name="Anita", accommodation="nie")
    assert stale.status_code == 409
    assert "Zgłoszenie zmieniło się w międzyczasie" in shown(stale)
    current = page(stale.data)
    assert current.find("input", {"name": "first_name"})["value"] == "Anna"  # type: ignore[index]
    assert current.find("input", {"id": "diet-vegan"}).has_attr("checked")  # type: ignore[union-attr]
    after = svc.registrations.by_id(rid)
    assert (after.first_name, after.accommodation, after.diet) == ("Anna", True, "vegan")


def test_consents_stay_except_withdrawing_image_consent(app: Flask, office: FlaskClient) -> None:
    given = _register(app, consent_image=True)
    answer = _correct(office, given)
    form_page = page(office.get(f"/obsluga/zgloszenia/{given}/poprawki").data)
    assert form_page.find("input", {"name": "consent_personal_data"}) is None
    answer = _correct(office, given, consent_image="")
    assert answer.status_code == 303
    assert services(app).registrations.by_id(given).consent_image is False

    refused = _register(app, email="b@example.pl", enterprise_name="Inna")
    answer = _correct(office, refused, consent_image="tak")
    assert answer.status_code == 422 and "może wyrazić tylko uczestnik" in shown(answer)


# -- Zamiana osoby, erasure ------------------------------------------------------------------


def test_a_colleague_takes_the_seat_and_nobody_is_promoted(app: Flask, office: FlaskClient) -> None:
    seats = [
        _register(app, email=f"s{n}@example.pl", enterprise_name=f"Firma {n}") for n in range(3)
    ]
    waiting = _register(app, email="w@example.pl", enterprise_name="Firma W")
    path = f"/obsluga/zgloszenia/{seats[0]}/zamiana"
    form = {
        "first_name": "Maria",
        "last_name": "Lis",
        "email": "maria@example.pl",
        "phone": "601 200 300",
        "pesel": "",
        "birth_date": "1985-03-02",
        "consent_personal_data": "tak",
        "csrf_token": csrf(office, path),
    }
    answer = office.post(path, data=form)
    assert answer.status_code == 303, shown(answer)
    new = str(answer.headers["Location"]).rsplit("/", 1)[1]
    svc = services(app)
    assert svc.registrations.by_id(seats[0]).status == "cancelled"
    fresh = svc.registrations.by_id(new)
    assert fresh.status == "confirmed" and fresh.enterprise_name == "Firma 0"
    assert svc.registrations.by_id(waiting).status == "waitlisted"
    svc.mail_worker.run_once()
    subjects = {str(m["To"]): str(m["Subject"]) for m in _mails(app)}
    assert subjects["s0@example.pl"].startswith("Rezygnacja")
    assert subjects["maria@example.pl"].startswith("Potwierdzenie zgłoszenia")


def test_erasure_from_the_page_asks_first_and_removes_what_staff_recorded(
    app: Flask, office: FlaskClient
) -> None:
    rid = _register(app)
    _correct(office, rid, first_name="Anita")
    path = f"/obsluga/zgloszenia/{rid}/usuniecie"
    assert "Usunąć dane osoby?" in shown(office.get(path))
    assert services(app).registrations.by_id(rid).first_name == "Anita"
    answer = office.post(path, data={"confirm": "tak", "csrf_token": csrf(office, path)})
    assert answer.status_code == 303
    with services(app).store.reading() as session:
        assert not list(session.scalars(select(DeskEntry).where(DeskEntry.registration_id == rid)))
        registration = session.scalar(select(Registration).where(Registration.id == rid))
        assert registration is not None and registration.erased_at is not None
    assert office.get(f"/obsluga/zgloszenia/{rid}").status_code == 404


# -- messages --------------------------------------------------------------------------------


def _message_form(office: FlaskClient, **data: Any) -> dict[str, Any]:
    path = f"/obsluga/wydarzenia/{OPEN}/wiadomosci"
    form = {"subject": "Informacje praktyczne", "body": "Dzień dobry,\n{imie}, zbiórka o 8:00."}
    form.update(data)
    form["csrf_token"] = csrf(office, path)
    return form


def test_a_message_to_one_group_reaches_exactly_those_once_each(
    app: Flask, office: FlaskClient
) -> None:
    confirmed = [
        _register(
            app, email=f"c{n}@example.pl", first_name=f"Osoba{'AB'[n]}", enterprise_name=f"E{n}"
        )
        for n in range(2)
    ]
    phoned = _added_id(_add(office))  # the third seat, without an address
    waiting = _register(app, email="w@example.pl", enterprise_name="Czekająca <b>")
    services(app).mail_worker.run_once()
    before = len(_mails(app))
    path = f"/obsluga/wydarzenia/{OPEN}/wiadomosci"

    preview = office.post(path, data=_message_form(office, step="podglad"))
    assert preview.status_code == 200, shown(preview)
    soup = page(preview.data)
    assert "Odbiorcy: 3" in soup.get_text(" ", strip=True)
    assert "OsobaA, zbiórka o 8:00." in soup.get_text(" ", strip=True)
    assert "600 100 200" in soup.get_text(" ", strip=True)  # do powiadomienia telefonicznie
    send_form = {
        str(i["name"]): str(i.get("value", ""))
        for i in soup.select("form input[type=hidden]")
        if i.find_parent("form").select_one("input[name=step][value=wyslij]")  # type: ignore[union-attr]
    }
    assert send_form["step"] == "wyslij" and send_form["send_key"]

    sent = office.post(path, data=send_form)
    assert sent.status_code == 200 and "Wiadomość wysłana" in shown(sent)
    assert "do powiadomienia telefonicznie" in shown(sent).casefold()
    again = office.post(path, data=send_form)  # a double click, a reload
    assert "nic więcej nie zostało wysłane" in shown(again)

    services(app).mail_worker.run_once()
    new = _mails(app)[before:]
    assert sorted(str(m["To"]) for m in new) == ["c0@example.pl", "c1@example.pl"]
    for message in new:
        assert str(message["Reply-To"]) == "a.szulczewski@fundacjacp.org"
        assert str(message["Subject"]) == "Informacje praktyczne"
    assert "OsobaA, zbiórka" in _text(next(m for m in new if "c0@" in str(m["To"])))
    with services(app).store.reading() as session:
        recipients = set(session.scalars(select(StaffMessageRecipient.registration_id)))
        assert recipients == {*confirmed, phoned} and waiting not in recipients
        actions = [a.action for a in session.scalars(select(StaffAction))]
        assert actions.count("message_sent") == 1

    # In the person's e-mails on their page and in their own data.
    assert "Informacje praktyczne" in shown(office.get(f"/obsluga/zgloszenia/{confirmed[0]}"))
    svc = services(app)
    token = svc.registrations.tokens.token(svc.registrations.by_id(confirmed[0]))
    own = app.test_client().get(f"/api/registrations/{token}/data").get_json()
    assert any(e.get("subject") == "Informacje praktyczne" for e in own["emails"])

    # The same message to the same people within 7 days asks once more, naming when and who.
    preview = office.post(path, data=_message_form(office, step="podglad"))
    assert "została wysłana" in shown(preview) and "koordynatorka@example.pl" in shown(preview)
    soup = page(preview.data)
    key = str(soup.find("input", {"name": "send_key"})["value"])  # type: ignore[index]
    unconfirmed = office.post(path, data=_message_form(office, step="wyslij", send_key=key))
    assert unconfirmed.status_code == 409
    confirmed_again = office.post(
        path, data=_message_form(office, step="wyslij", send_key=key, repeat_confirmed="tak")
    )
    assert "Wiadomość wysłana" in shown(confirmed_again)


def test_placeholders_braces_and_escaping(app: Flask, office: FlaskClient) -> None:
    _register(app, first_name="Ala", enterprise_name='Spółdzielnia "<script>x</script>"')
    path = f"/obsluga/wydarzenia/{OPEN}/wiadomosci"
    unknown = office.post(
        path, data=_message_form(office, step="podglad", body="Dzień dobry {imię} {{x}}")
    )
    assert unknown.status_code == 422 and "Nieznane pole {imię}" in shown(unknown)
    long_subject = office.post(path, data=_message_form(office, step="podglad", subject="x" * 151))
    assert long_subject.status_code == 422 and "150 znaków" in shown(long_subject)

    body = "Dla {przedsiebiorstwo}: {{nawias}} <b>pogrubienie</b>"
    preview = office.post(path, data=_message_form(office, step="podglad", body=body))
    soup = page(preview.data)
    key = str(soup.find("input", {"name": "send_key"})["value"])  # type: ignore[index]
    office.post(path, data=_message_form(office, step="wyslij", send_key=key, body=body))
    services(app).mail_worker.run_once()
    (message,) = [m for m in _mails(app) if str(m["Subject"]) == "Informacje praktyczne"]
    assert 'Dla Spółdzielnia "<script>x</script>": {nawias} <b>pogrubienie</b>' in _text(message)
    html = _html(message)
    assert "<script>" not in html and "&lt;b&gt;pogrubienie" in html and "{nawias}" in html


def test_a_message_is_erased_with_the_person(app: Flask, office: FlaskClient, runner: Any) -> None:
    rid = _register(app)
    path = f"/obsluga/wydarzenia/{OPEN}/wiadomosci"
    body = "Pani Anna Nowak prosiła o fakturę."  # staff typed a name into the text
    soup = page(office.post(path, data=_message_form(office, step="podglad", body=body)).data)
    key = str(soup.find("input", {"name": "send_key"})["value"])  # type: ignore[index]
    office.post(path, data=_message_form(office, step="wyslij", send_key=key, body=body))
    assert runner.invoke(args=["erase", "--id", rid]).exit_code == 0
    with services(app).store.reading() as session:
        assert not list(session.scalars(select(StaffMessageRecipient)))
        (message,) = session.scalars(select(StaffMessage))
        assert "Anna" not in message.body and "Nowak" not in message.body
        assert not list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.registration_id == rid))
        )


def test_after_zamknij_zapisy_teraz_a_staff_registration_needs_the_override(
    office: FlaskClient,
) -> None:
    path = f"/obsluga/wydarzenia/{OPEN}/zamkniecie"
    closed = office.post(path, data={"csrf_token": csrf(office, path)})
    assert closed.status_code == 303, shown(closed)
    refused = _add(office)
    assert refused.status_code == 422 and "po terminie" in shown(refused)
    _added_id(_add(office, override_deadline="tak", override_reason="zgłoszenie z 9:05"))


def test_the_page_tells_sent_waiting_and_refused_emails_apart(
    settings: Settings, clock: FakeClock
) -> None:
    from app import create_app
    from tests.conftest import free_port
    from tests.test_outbox import Server

    server = Server(free_port(), refuse="odrzucony@example.pl")
    server.start()
    app = create_app(
        settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_security": "none"}
        ),
        clock=clock,
    )
    try:
        office = sign_in(app.test_client())
        sent = _register(app, email="dobry@example.pl")
        refused = _register(app, email="odrzucony@example.pl", enterprise_name="Inna")
        services(app).mail_worker.run_once()
        _correct(office, sent, first_name="Anita", notify="tak")  # queued, not sent yet

        def states(rid: str) -> list[str]:
            soup = page(office.get(f"/obsluga/zgloszenia/{rid}").data)
            rows = soup.select("section tbody tr")
            return [tr.find_all("td")[-1].get_text(strip=True) for tr in rows if tr.find_all("td")]

        assert states(sent)[-2:] == ["wysłany", "czeka"]
        assert states(refused)[-1] == "nie wysłano – adres odrzucony"
    finally:
        server.stop()
        services(app).store.dispose()


def test_a_search_never_reaches_the_request_log() -> None:
    from forms.secret_paths import mask

    line = '127.0.0.1 - - "GET /obsluga/wydarzenia/otwarte/zgloszenia?q=anna%40example.pl HTTP/1.1"'
    assert mask(line) == '127.0.0.1 - - "GET /obsluga/wydarzenia/otwarte/zgloszenia?… HTTP/1.1"'


def test_a_staff_operation_holding_an_older_version_of_the_event_runs_again_with_the_new(
    app: Flask, office: FlaskClient
) -> None:
    from registrations.desk import Desk, Overrides
    from tests.staff_support import create_event, edit, publish

    slug = create_event(office)
    publish(office, slug)
    svc = services(app)
    stale = svc.events[slug]
    assert edit(office, slug, capacity="5").status_code == 303
    payload = {**valid_payload(email=""), "powiat": "0809", "birth_date": None}
    registration = Desk(svc.registrations).add(
        stale, payload, overrides=Overrides(), actor="koordynatorka@example.pl", now=svc.now()
    )
    assert registration.event_version == svc.events[slug].version != stale.version
