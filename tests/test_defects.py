"""The defects an attack run found (issue 9), each proven fixed by the way it was found."""

from __future__ import annotations

import http.client
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from app import create_app
from config.services import Services
from config.settings import Settings
from forms.messages import STORE_UNAVAILABLE, STORE_UNREADABLE
from registrations.models import EventState, Registration
from registrations.validators import _has_refused, _refused, pesel_birth_date
from store import Store
from tests.conftest import OPEN, FakeClock, gunicorn, own_events, shown, valid_payload
from tests.sheet_harness import Google
from tests.test_form import csrf_token, form_data

API = f"/api/events/{OPEN}/registrations"
FORM = f"/wydarzenia/{OPEN}/"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def services_of(app: Flask) -> Services:
    svc: Services = app.extensions["owes"]
    return svc


def register(client: FlaskClient, **overrides: Any) -> str:
    """A registration, each of its own enterprise (the open event takes two per enterprise)."""
    email = overrides.get("email", "anna.nowak@example.pl")
    overrides.setdefault("enterprise_name", f"Spółdzielnia {email.split('@')[0]}")
    response = client.post(API, json=valid_payload(**overrides))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def stored(store: Store) -> list[Registration]:
    with store.transaction() as session:
        return list(session.scalars(select(Registration).order_by(Registration.seq)))


def workbook_path(app: Flask) -> Path:
    svc = services_of(app)
    path: Path = svc.sink.path(svc.events[OPEN])  # type: ignore[attr-defined]
    return path


def sheet_ids(path: Path) -> list[str]:
    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    column = rows[0].index("ID zgłoszenia")
    return [str(row[column]) for row in rows[1:] if row[column]]


def break_workbook(path: Path) -> None:
    """A workbook as the defect left it: XML with U+FFFF, which no reader can open again."""
    workbook = Workbook()
    assert workbook.active is not None
    workbook.active.title = "Zgłoszenia – Otwarte"
    workbook.active["A1"] = "ID zgłoszenia"
    workbook.active["A2"] = "An\uffffna"
    workbook.save(path)
    with path.open("rb") as file, pytest.raises(SyntaxError):  # XML's ParseError
        load_workbook(file)


# -- noncharacters --------------------------------------------------------------------------


def test_text_is_refused_for_exactly_the_characters_the_rule_names_whole_or_one_by_one() -> None:
    # A value every character of which is printable is passed without a look at each one.
    every_bmp_and_some_beyond = [*range(0x10000), *range(0x10000, sys.maxunicode + 1, 251)]
    for allowed in ("", " \t", "\t\n"):
        for ch in map(chr, [*every_bmp_and_some_beyond, 0x1FFFF, 0xE0001, 0xF0000]):
            assert _has_refused(f"Ann{ch}a", allowed) == _refused(ch, allowed), hex(ord(ch))


@pytest.mark.parametrize(
    "character", ["\uffff", "\ufffe", "\ufdd0", "\U0001ffff", "\ud800", "\u0378", "\x07"]
)
@pytest.mark.parametrize("field", ["first_name", "enterprise_name", "role", "special_needs"])
def test_a_noncharacter_surrogate_or_control_character_is_refused_in_polish(
    client: FlaskClient, store: Store, field: str, character: str
) -> None:
    body = json.dumps(valid_payload(**{field: f"Ann{character}a Żółć"}))  # \ud800 escaped
    response = client.post(API, data=body, content_type="application/json")

    assert response.status_code == 422
    assert "niedozwolone znaki" in response.get_json()["errors"][field]
    assert stored(store) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "+48 533 316 283\uffff"),
        ("powiat", "zielonogórski\uffff"),
        ("powiat", "Powiat\u200b Żarski"),
    ],
)
def test_a_noncharacter_is_refused_where_the_parser_would_drop_it(
    client: FlaskClient, store: Store, field: str, value: str
) -> None:
    response = client.post(API, json=valid_payload(**{field: value}))

    assert response.status_code == 422
    assert "niedozwolone znaki" in response.get_json()["errors"][field]
    assert stored(store) == []


@pytest.mark.parametrize(
    "field",
    [
        "first_name",
        "last_name",
        "enterprise_name",
        "powiat",
        "role",
        "email",
        "phone",
        "pesel",
        "diet_other",
        "special_needs",
    ],
)
def test_no_text_field_accepts_a_noncharacter(
    client: FlaskClient, store: Store, field: str
) -> None:
    payload = valid_payload(diet="other", diet_other="bez laktozy", role="prezes")
    payload[field] = f"{payload[field]}\uffff"
    response = client.post(API, json=payload)

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert stored(store) == []


def test_the_form_refuses_a_noncharacter_and_keeps_polish_letters_and_new_lines(
    client: FlaskClient, store: Store
) -> None:
    token = csrf_token(client, FORM)
    refused = client.post(FORM, data={"csrf_token": token, **form_data(last_name="Now\uffffak")})
    accepted = client.post(
        FORM,
        data={
            "csrf_token": token,
            **form_data(last_name="Źdźbło-Łęcka", special_needs="wózek\r\nwinda"),
        },
    )

    assert refused.status_code == 422
    assert "niedozwolone znaki" in refused.get_data(as_text=True)
    assert accepted.status_code == 303
    [row] = stored(store)
    assert (row.last_name, row.special_needs) == ("Źdźbło-Łęcka", "wózek\nwinda")


def test_a_noncharacter_stored_earlier_is_left_out_of_the_workbook_and_the_exports(
    app: Flask, client: FlaskClient, store: Store, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    registration_id = register(client, special_needs="wózek")
    with store.transaction() as session:  # as accepted before noncharacters were refused
        session.execute(
            update(Registration)
            .where(Registration.id == registration_id)
            .values(first_name="An\uffffna", special_needs="wózek\ufdd0\ninwalidzki\ufffe")
        )
    svc = services_of(app)

    svc.worker.run_once()
    register(client, email="ktos@example.pl")  # the next round reads the workbook again
    svc.worker.run_once()

    assert sheet_ids(workbook_path(app)) == [row.id for row in stored(store)]
    cells = [c for row in load_workbook(workbook_path(app)).worksheets[0].values for c in row]
    assert "Anna" in cells and "wózek\ninwalidzki" in cells
    xlsx, csv = tmp_path / "lista.xlsx", tmp_path / "lista.csv"
    for path in (xlsx, csv):
        args = ["export", "--event", OPEN, "--list", "participants", "--output", str(path)]
        args += ["--format", path.suffix.lstrip(".")]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    exported = [c for row in load_workbook(xlsx).worksheets[0].values for c in row]
    assert "Anna" in exported
    text = csv.read_text(encoding="utf-8-sig")
    assert "Anna" in text and not any(ch in text for ch in "\uffff\ufffe\ufdd0")


def test_any_failure_of_the_sink_is_a_recorded_sync_error_and_healthz_degraded(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        """A sink failing the way no one foresaw."""

        def target(self, event: Any) -> str:
            return f"broken:{event.slug}"

        def describe(self, event: Any) -> str:
            return f"broken {event.slug}"

        def begin_round(self, event: Any) -> bool:
            return False

        def rows_missing(self, event: Any, expected: Any) -> None:
            return None

        def find(self, event: Any) -> None:
            raise KeyError("An\uffffna Nowak")  # personal data in the message

    app = create_app(settings, clock=clock, sink=Broken())  # type: ignore[arg-type]
    try:
        client = app.test_client()
        register(client)
        with caplog.at_level(logging.INFO):
            services_of(app).worker.run_once()
        health = client.get("/healthz").get_json()
    finally:
        services_of(app).store.dispose()

    assert health["status"] == "degraded"
    assert health["sync"]["pending"] == 1
    assert health["sync"]["last_error"]["code"] == "unexpected"
    assert "KeyError" in caplog.text
    assert "Nowak" not in caplog.text  # the exception's message may carry personal data


# -- a broken workbook: close-off and recovery -------------------------------------------------


@pytest.fixture
def broken(app: Flask, client: FlaskClient) -> Iterator[list[str]]:
    """Two registrations synced, then the workbook broken the way the defect broke it."""
    ids = [register(client), register(client, email="ktos@example.pl")]
    services_of(app).worker.run_once()
    break_workbook(workbook_path(app))
    yield ids


def test_a_broken_workbook_is_a_recorded_sync_error_and_healthz_degraded(
    app: Flask, client: FlaskClient, broken: list[str]
) -> None:
    register(client, email="trzecia@example.pl")

    services_of(app).worker.run_once()
    health = client.get("/healthz").get_json()

    assert health["status"] == "degraded"
    assert health["sync"]["pending"] == 1
    assert health["sync"]["last_error"]["code"] == "workbook"


def test_a_forced_close_off_on_a_broken_workbook_records_its_error_and_exits_1_cleanly(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, store: Store, broken: list[str]
) -> None:
    result = runner.invoke(args=["close-off", "--event", OPEN, "--force"])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a ClickException, no traceback
    assert "Traceback" not in result.output
    assert f"close-off of {OPEN} not finished" in result.output
    with store.transaction() as session:
        state = session.get(EventState, OPEN)
        assert state is not None and state.close_off_error
        assert state.closing_started_at is not None and state.closed_off_at is None
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert [c["event"] for c in health["unfinished_close_offs"]] == [OPEN]


def test_deleting_a_broken_workbook_rebuilds_it_from_the_store_with_every_row(
    app: Flask, client: FlaskClient, broken: list[str]
) -> None:
    path = workbook_path(app)
    waiting = register(client, email="trzecia@example.pl")
    svc = services_of(app)
    svc.worker.run_once()
    assert client.get("/healthz").get_json()["status"] == "degraded"

    path.unlink()
    svc.worker.run_once()

    assert sheet_ids(path) == [*broken, waiting]
    assert "Podsumowanie" in load_workbook(path).sheetnames
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["sync"]["pending"] == 0


# -- the database down --------------------------------------------------------------------


@pytest.fixture
def database_gone(app: Flask, client: FlaskClient, settings: Settings) -> dict[str, str]:
    """A registration's link, then the SQLite file gone and a folder in its place."""
    response = client.post(API, json=valid_payload())
    token = response.get_json()["manage_url"].rsplit("/", 1)[1]
    with client.session_transaction() as session:
        session["confirmation"] = {"slug": OPEN, "id": response.get_json()["id"]}
    services_of(app).store.dispose()
    database = settings.instance_path / "registrations.sqlite3"  # type: ignore[operator]
    for path in database.parent.glob("registrations.sqlite3*"):
        path.unlink()
    database.mkdir()
    return {"token": token}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        FORM,
        f"/wydarzenia/{OPEN}/potwierdzenie",
        f"/wydarzenia/{OPEN}/zgloszenie/{{token}}",
        "/api/events",
        "/api/registrations/{token}",
    ],
)
def test_with_the_database_down_every_page_answers_503_could_not_read_try_again(
    client: FlaskClient, database_gone: dict[str, str], path: str
) -> None:
    response = client.get(path.format(**database_gone))

    assert response.status_code == 503
    if path.startswith("/api/"):
        body = response.get_json()
        assert body == {"error": "unavailable", "message": STORE_UNREADABLE}
    else:
        text = shown(response)
        assert STORE_UNREADABLE in text and "zapisać" not in text  # a read saves nothing


def test_with_the_database_down_posting_the_form_answers_503_nothing_stored(
    client: FlaskClient, database_gone: dict[str, str]
) -> None:
    response = client.post(FORM, data=form_data(email="inna@example.pl"))
    api = client.post(API, json=valid_payload(email="inna@example.pl"))
    remind = f"/wydarzenia/{OPEN}/przypomnij-link"  # its form needs no database to show
    token = csrf_token(client, remind)
    reminded = client.post(remind, data={"csrf_token": token, "email": "anna.nowak@example.pl"})

    assert response.status_code == 503
    assert STORE_UNAVAILABLE in shown(response)
    assert api.status_code == 503
    assert api.get_json()["message"] == STORE_UNAVAILABLE
    assert reminded.status_code == 503
    assert STORE_UNAVAILABLE in shown(reminded)


# -- an e-mail address whose key outgrows its column ------------------------------------------


@pytest.fixture
def app_on(database_url: str, settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    """The app on SQLite and on PostgreSQL."""
    app = create_app(settings.model_copy(update={"database_url": database_url}), clock=clock)
    yield app
    services_of(app).store.dispose()


def test_an_address_whose_case_folded_key_outgrows_the_column_is_refused_not_a_503(
    app_on: Flask,
) -> None:
    # Each ΐ folds to three characters: 121 characters become a key of 271.
    address = "a" * 40 + "@" + ".".join(["ΐ" * 25] * 3) + ".pl"
    client = app_on.test_client()

    answers = [client.post(API, json=valid_payload(email=address)) for _ in range(2)]

    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].get_json()["errors"]["email"] == "Adres e-mail jest za długi."
    assert register(client, email="anna@" + "ΐ" * 20 + ".pl")  # a shorter one is fine


# -- a chunked body ---------------------------------------------------------------------------


def post_chunked(base: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    """POST `body` with `Transfer-Encoding: chunked` (no Content-Length), 8 KB a chunk."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
        headers = {"Content-Type": content_type}
        connection.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_chunked_body_over_max_body_bytes_gets_413_under_gunicorn(tmp_path: Path) -> None:
    env = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EVENTS_DIR": str(own_events(tmp_path / "events")),
        "RUN_WORKER": "false",
    }
    padded = json.dumps(valid_payload()).encode() + b" " * 300_000
    form = "&".join(f"{k}={v}" for k, v in form_data().items()).encode() + b"&x=" + b"y" * 300_000
    small = json.dumps(valid_payload(email="maly@example.pl")).encode()

    with gunicorn(env, workers=1) as base:
        api = post_chunked(base, API, padded, "application/json")
        page = post_chunked(base, FORM, form, "application/x-www-form-urlencoded")
        accepted = post_chunked(base, API, small, "application/json")

    assert api[0] == 413 and json.loads(api[1])["error"] == "request_entity_too_large"
    assert page[0] == 413 and "zbyt duże".encode() in page[1]
    assert accepted[0] == 201  # chunked bodies within the limit still work


def test_a_chunked_body_over_max_body_bytes_gets_413_in_process_too(client: FlaskClient) -> None:
    padded = json.dumps(valid_payload()).encode() + b" " * 300_000
    chunked = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}

    response = client.post(
        API, data=padded, content_type="application/json", environ_overrides=chunked
    )

    assert response.status_code == 413


# -- digits are ASCII -----------------------------------------------------------------------


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH])
def test_pesel_and_phone_take_only_ascii_digits(
    client: FlaskClient, store: Store, digits: dict[int, str]
) -> None:
    pesel = client.post(API, json=valid_payload(pesel="02270803624".translate(digits)))
    phone = client.post(API, json=valid_payload(phone="533 316 283".translate(digits)))
    powiat = client.post(API, json=valid_payload(powiat="0809".translate(digits)))

    assert pesel.status_code == 422 and pesel.get_json()["errors"]["pesel"] == (
        "PESEL składa się z 11 cyfr."
    )
    assert phone.status_code == 422 and "phone" in phone.get_json()["errors"]
    assert powiat.status_code == 422 and "powiat" in powiat.get_json()["errors"]
    assert stored(store) == []
    with pytest.raises(ValueError):
        pesel_birth_date("02270803624".translate(digits))


# -- trimmed before validation --------------------------------------------------------------


def test_an_address_with_spaces_around_it_is_the_same_address(
    client: FlaskClient, store: Store
) -> None:
    first = client.post(API, json=valid_payload(email=" anna@example.pl ", pesel=" 02270803624"))
    again = client.post(API, json=valid_payload(email="anna@example.pl", first_name=" anna "))
    token = csrf_token(client, FORM)
    page_again = client.post(
        FORM,
        data={
            "csrf_token": token,
            **form_data(email="\u00a0anna@example.pl\t", first_name="Anna", last_name="Nowak"),
        },
    )
    dated = client.post(
        API,
        json=valid_payload(email="jan@example.pl", pesel=None, birth_date=" 1990-05-17 "),
    )

    assert first.status_code == 201
    assert again.status_code == 409 and again.get_json()["error"] == "already_registered"
    assert page_again.status_code == 409
    assert dated.status_code == 201, dated.get_json()
    rows = stored(store)
    assert [r.email for r in rows] == ["anna@example.pl", "jan@example.pl"]
    assert rows[0].email_key == "anna@example.pl"


def test_the_form_trims_an_address_a_phone_keyboard_padded(
    client: FlaskClient, store: Store
) -> None:
    token = csrf_token(client, FORM)
    response = client.post(FORM, data={"csrf_token": token, **form_data(email=" jan@example.pl ")})

    assert response.status_code == 303
    assert [r.email for r in stored(store)] == ["jan@example.pl"]


# -- the spreadsheet key stays out of the log ---------------------------------------------------


def test_the_spreadsheet_key_never_reaches_the_log(
    sheets_emulator: Any, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from sheets.sink import key_fingerprint

    google = Google(sheets_emulator, tmp_path, clock)
    try:
        with caplog.at_level(logging.INFO):
            google.register(2)
            google.services.worker.run_once()
            google.syncer.sync_event(google.event)
            google.emulator.set_permission(google.spreadsheet_id, False)
            google.register(1, start=2)
            google.syncer.sync_event(google.event)
            google.services.worker.run_once()
    finally:
        google.close()

    assert "synced klaster-2018 to worksheet 'Zgłoszenia" in caplog.text
    assert "share the spreadsheet" in caplog.text
    assert key_fingerprint(google.spreadsheet_id) in caplog.text  # the title and this name it
    ours = [r for r in caplog.records if r.name in ("app", "test.sync")]  # not the emulator's
    assert ours and not any(google.spreadsheet_id in r.getMessage() for r in ours)


def test_a_key_fingerprint_is_short_and_stable() -> None:
    from sheets.sink import key_fingerprint

    assert key_fingerprint("1AbC") == key_fingerprint("1AbC") != key_fingerprint("1AbD")
    assert len(key_fingerprint("1AbC").lstrip("#")) == 8
