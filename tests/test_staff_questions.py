"""The event's questions in the staff's registration pages (issues 17 and 18 wired): the answers'
columns of the table, messages to those who chose one answer, the questions on `Dodaj
zgłoszenie` and on corrections. Through the pages with a signed-in session, the real store, the
workbook and the outbox's .eml files."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config.services import services
from config.settings import Settings
from registrations.answers import registrations_choosing
from registrations.desk_models import StaffMessageRecipient
from registrations.question_editing import QuestionEditor, QuestionForm
from sheets.rows import HEADERS
from tests.conftest import OPEN, FakeClock, shown, valid_payload
from tests.staff_support import COORDINATOR, STAFF_LISTS, csrf, page, sign_in
from tests.test_staff_registrations import _correct, _phone_form, _rounds, _sheet_rows, _text

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

STOPS = "Żary, dworzec PKP | 10 | odjazd 7:00\nZielona Góra, Dworcowa | 1 | odjazd 8:00\nNowa Sól"
STOP = "miejsce_wsiadania"
TABLE = f"/obsluga/wydarzenia/{OPEN}/zgloszenia"
MESSAGES = f"/obsluga/wydarzenia/{OPEN}/wiadomosci"


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """Every test on SQLite and on PostgreSQL."""
    return settings.model_copy(update={**STAFF_LISTS, "database_url": database_url})


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    return sign_in(app.test_client())


@pytest.fixture
def questions(app: Flask, clock: FakeClock) -> None:
    """The open event asks where one boards, which meals, whether one returns by bus, the
    arrival date; and a hidden question (its answers stay, it is no column of the table)."""
    svc = services(app)
    editor = QuestionEditor(svc.store, HEADERS)
    event = svc.events[OPEN]
    for form in (
        QuestionForm("Miejsce wsiadania", "wybor", choices=STOPS),
        QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"),
        QuestionForm("Autokar z powrotem", "tak_nie"),
        QuestionForm("Dzień przyjazdu", "data"),
        QuestionForm("Ukryte pytanie", "tekst"),
    ):
        editor.add(event, form, by=COORDINATOR, now=clock.now)


def _hide(app: Flask, key: str, clock: FakeClock) -> None:
    svc = services(app)
    QuestionEditor(svc.store, HEADERS).set_hidden(
        svc.events[OPEN], key, True, by=COORDINATOR, now=clock.now
    )


def _register(app: Flask, n: int, first_name: str, **answers: Any) -> str:
    response = app.test_client().post(
        f"/api/events/{OPEN}/registrations",
        json=valid_payload(
            email=f"p{n}@example.pl",
            first_name=first_name,
            enterprise_name=f"Spółdzielnia {n}",
            answers=answers,
        ),
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _mails(app: Flask) -> list[EmailMessage]:
    found = []
    for path in sorted((services(app).instance_path / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


# -- 1. the table's columns ------------------------------------------------------------------


def test_the_table_has_a_column_per_visible_question_shown_as_the_sheet_shows_it(
    app: Flask, office: FlaskClient, questions: None, clock: FakeClock
) -> None:
    answered = _register(
        app,
        0,
        "Żaneta",
        miejsce_wsiadania="zary_dworzec_pkp",
        posilki=["kolacja", "obiad"],
        autokar_z_powrotem=False,
        dzien_przyjazdu="2030-03-04",
        ukryte_pytanie="tajne",
    )
    silent = _register(app, 1, "Adam")
    _hide(app, "ukryte_pytanie", clock)

    soup = page(office.get(TABLE).data)
    headers = [th.get_text(strip=True) for th in soup.select("thead th")]
    assert headers[-4:] == ["Miejsce wsiadania", "Posiłki", "Autokar z powrotem", "Dzień przyjazdu"]
    assert "Ukryte pytanie" not in headers
    cells = {
        tr.select("td")[0].get_text(strip=True): [td.get_text(strip=True) for td in tr("td")]
        for tr in soup.select("tbody tr")
    }
    assert cells[answered][-4:] == ["Żary, dworzec PKP", "obiad, kolacja", "nie", "04.03.2030"]
    assert cells[silent][-4:] == ["", "", "", ""]
    assert "tajne" not in shown(office.get(TABLE))
    # Still a region that scrolls on a phone, with its name for a screen reader.
    region = soup.select_one("div.table-scroll[role=region]")
    assert region is not None and region.select_one("table") is not None

    # A search narrows the rows, the answers' columns stay in step.
    found = page(office.get(TABLE, query_string={"q": "Adam"}).data).select("tbody tr")
    assert [td.get_text(strip=True) for td in found[0]("td")][-4:] == ["", "", "", ""]


def test_an_event_without_questions_has_only_the_service_columns(
    app: Flask, office: FlaskClient
) -> None:
    _register(app, 0, "Żaneta")
    headers = [th.get_text(strip=True) for th in page(office.get(TABLE).data).select("thead th")]
    assert headers[-1] == "Miejsce na liście rezerwowej"


# -- 2. messages by a `wybor` answer ---------------------------------------------------------


def _message_form(office: FlaskClient, **data: Any) -> dict[str, Any]:
    form = {"subject": "Zbiórka w Żarach", "body": "Dzień dobry,\n{imie}, zbiórka o 7:00."}
    form.update(data)
    form["csrf_token"] = csrf(office, MESSAGES)
    return form


def _send_form(preview: Any) -> dict[str, str]:
    soup = page(preview.data)
    return {
        str(i["name"]): str(i.get("value", ""))
        for i in soup.select("form input[type=hidden]")
        if i.find_parent("form").select_one("input[name=step][value=wyslij]")  # type: ignore[union-attr]
    }


def test_a_message_to_those_boarding_at_one_stop_reaches_exactly_them(
    app: Flask, office: FlaskClient, questions: None
) -> None:
    zary = [
        _register(app, 0, "Żaneta", miejsce_wsiadania="zary_dworzec_pkp"),
        _register(app, 1, "Adam", miejsce_wsiadania="zary_dworzec_pkp"),
    ]
    _register(app, 2, "Ewa", miejsce_wsiadania="zielona_gora_dworcowa")
    waiting = _register(app, 3, "Jan", miejsce_wsiadania="zary_dworzec_pkp")  # 4th of 3 seats
    services(app).mail_worker.run_once()
    before = len(_mails(app))

    compose = page(office.get(MESSAGES).data)
    select_ = compose.select_one(f"select[name='wybor.{STOP}']")
    assert select_ is not None
    assert [o.get_text(strip=True) for o in select_("option")] == [
        "wszyscy",
        "Żary, dworzec PKP",
        "Zielona Góra, Dworcowa",
        "Nowa Sól",
    ]
    label = compose.select_one(f"label[for='wybor.{STOP}']")
    assert label is not None and "Miejsce wsiadania" in label.get_text()

    # All active boarding in Żary: the waiting one too.
    active = office.post(
        MESSAGES,
        data=_message_form(
            office, step="podglad", group="aktywne", **{f"wybor.{STOP}": "zary_dworzec_pkp"}
        ),
    )
    assert active.status_code == 200, shown(active)
    assert "Odbiorcy: 3" in page(active.data).get_text(" ", strip=True)

    # The confirmed boarding in Żary: exactly those two, once each.
    preview = office.post(
        MESSAGES,
        data=_message_form(office, step="podglad", **{f"wybor.{STOP}": "zary_dworzec_pkp"}),
    )
    text = page(preview.data).get_text(" ", strip=True)
    assert "Odbiorcy: 2" in text and "Miejsce wsiadania: Żary, dworzec PKP" in text
    send_form = _send_form(preview)
    assert send_form[f"wybor.{STOP}"] == "zary_dworzec_pkp"
    sent = office.post(MESSAGES, data=send_form)
    assert sent.status_code == 200 and "Wiadomość wysłana" in shown(sent)
    assert "nic więcej nie zostało wysłane" in shown(office.post(MESSAGES, data=send_form))

    services(app).mail_worker.run_once()
    new = _mails(app)[before:]
    assert sorted(str(m["To"]) for m in new) == ["p0@example.pl", "p1@example.pl"]
    with services(app).store.reading() as session:
        got = list(session.scalars(select(StaffMessageRecipient.registration_id)))
    assert sorted(got) == sorted(zary) and waiting not in got


def test_a_choice_nobody_picked_or_that_is_not_there_is_refused_in_polish(
    app: Flask, office: FlaskClient, questions: None
) -> None:
    _register(app, 0, "Żaneta", miejsce_wsiadania="zary_dworzec_pkp")
    nobody = office.post(
        MESSAGES, data=_message_form(office, step="podglad", **{f"wybor.{STOP}": "nowa_sol"})
    )
    assert nobody.status_code == 422 and "nie ma odbiorców" in shown(nobody)
    wrong = office.post(
        MESSAGES, data=_message_form(office, step="podglad", **{f"wybor.{STOP}": "berlin"})
    )
    assert wrong.status_code == 422
    assert "Miejsce wsiadania: Nie ma takiej odpowiedzi" in page(wrong.data).get_text(" ")
    assert 'option value="zary_dworzec_pkp"' in shown(wrong)


# -- 3. Dodaj zgłoszenie and corrections -----------------------------------------------------

ADD = f"/obsluga/wydarzenia/{OPEN}/zgloszenia/nowe"
FULL = "Brak miejsc: „Zielona Góra, Dworcowa”. Prosimy wybrać inną odpowiedź."


def _require_room(app: Flask, clock: FakeClock) -> None:
    svc = services(app)
    QuestionEditor(svc.store, HEADERS).add(
        svc.events[OPEN],
        QuestionForm("Z kim chcę dzielić pokój", "tekst", required=True),
        by=COORDINATOR,
        now=clock.now,
    )


def _add(office: FlaskClient, **changes: Any) -> Any:
    form = _phone_form(**changes)
    form["csrf_token"] = csrf(office, ADD)
    return office.post(ADD, data=form)


def _entries(office: FlaskClient, rid: str) -> str:
    return page(office.get(f"/obsluga/zgloszenia/{rid}").data).get_text(" ", strip=True)


def test_dodaj_zgloszenie_asks_the_questions_checks_them_like_the_form_and_stores_the_answers(
    app: Flask, office: FlaskClient, questions: None, clock: FakeClock
) -> None:
    _require_room(app, clock)
    form = page(office.get(ADD).data)
    for name in (f"answers.{STOP}", "answers.posilki", "answers.dzien_przyjazdu"):
        assert form.find("input", {"name": name}) is not None, name
    assert form.find("input", {"name": "answers.ukryte_pytanie"}) is not None  # not hidden yet
    assert "Z kim chcę dzielić pokój (wymagane)" in form.get_text(" ", strip=True)

    # Required, a wrong date, a choice that is not there: Polish messages beside the fields.
    wrong = _add(office, **{f"answers.{STOP}": "berlin", "answers.dzien_przyjazdu": "jutro"})
    assert wrong.status_code == 422
    text = page(wrong.data).get_text(" ", strip=True)
    assert "Z kim chcę dzielić pokój: To pole jest wymagane." in text
    assert "Dzień przyjazdu: Datę należy podać w formacie RRRR-MM-DD." in text
    assert "Miejsce wsiadania: Należy wybrać jedną z odpowiedzi" in text
    assert page(wrong.data).find("input", {"name": "answers.dzien_przyjazdu"})["value"] == "jutro"  # type: ignore[index]

    # The one seat at Dworcowa taken through the API: staff are refused it with the form's
    # message, even with `ponad limit miejsc` (that is the event's seats, not the stop's).
    _register(
        app, 0, "Ewa", miejsce_wsiadania="zielona_gora_dworcowa", z_kim_chce_dzielic_pokoj="sama"
    )
    full = _add(
        office,
        override_capacity="tak",
        override_reason="telefon od prezeski",
        **{f"answers.{STOP}": "zielona_gora_dworcowa", "answers.z_kim_chce_dzielic_pokoj": "Ewa"},
    )
    assert full.status_code == 422 and FULL in page(full.data).get_text(" ", strip=True)
    assert "Zielona Góra, Dworcowa – odjazd 8:00 (brak miejsc)" in shown(office.get(ADD))

    added = _add(
        office,
        **{
            f"answers.{STOP}": "zary_dworzec_pkp",
            "answers.posilki": ["obiad", "kolacja"],
            "answers.autokar_z_powrotem": "tak",
            "answers.dzien_przyjazdu": "2030-03-04",
            "answers.z_kim_chce_dzielic_pokoj": "z Ewą",
        },
    )
    assert added.status_code == 303, shown(added)
    rid = str(added.headers["Location"]).rsplit("/", 1)[1]
    svc = services(app)
    assert svc.registrations.answers(svc.registrations.by_id(rid)) == {
        STOP: "zary_dworzec_pkp",
        "posilki": ["obiad", "kolacja"],
        "autokar_z_powrotem": True,
        "dzien_przyjazdu": "2030-03-04",
        "z_kim_chce_dzielic_pokoj": "z Ewą",
    }
    _rounds(app)
    row = next(r for r in _sheet_rows(app, OPEN) if r["ID zgłoszenia"] == rid)
    assert row["Miejsce wsiadania"] == "Żary, dworzec PKP"
    assert row["Posiłki"] == "obiad, kolacja" and row["Dzień przyjazdu"] == "04.03.2030"


def test_a_correction_of_answers_is_checked_recorded_mailed_and_reaches_the_sheet(
    app: Flask, office: FlaskClient, questions: None, clock: FakeClock
) -> None:
    rid = _register(app, 0, "Żaneta", miejsce_wsiadania="zary_dworzec_pkp", posilki=["obiad"])
    _register(app, 1, "Ewa", miejsce_wsiadania="zielona_gora_dworcowa")  # the stop's one seat
    _rounds(app)
    path = f"/obsluga/zgloszenia/{rid}/poprawki"
    form = page(office.get(path).data)
    checked = form.find("input", {"name": f"answers.{STOP}", "checked": True})
    assert checked is not None and checked["value"] == "zary_dworzec_pkp"
    assert form.find("input", {"name": "answers.posilki", "value": "obiad", "checked": True})

    refused = _correct(office, rid, **{f"answers.{STOP}": "zielona_gora_dworcowa"})
    assert refused.status_code == 422 and FULL in page(refused.data).get_text(" ", strip=True)
    wrong = _correct(office, rid, **{"answers.dzien_przyjazdu": "31.02.2030"})
    assert wrong.status_code == 422
    svc = services(app)
    assert svc.registrations.answers(svc.registrations.by_id(rid)) == {
        STOP: "zary_dworzec_pkp",
        "posilki": ["obiad"],
    }

    corrected = _correct(
        office,
        rid,
        notify="tak",
        **{
            f"answers.{STOP}": "nowa_sol",
            "answers.posilki": ["obiad", "kolacja"],
            "answers.dzien_przyjazdu": "2030-03-05",
        },
    )
    assert corrected.status_code == 303, shown(corrected)
    flashed = shown(office.get(corrected.headers["Location"]))
    assert "Zapisano poprawki: Miejsce wsiadania, Posiłki, Dzień przyjazdu." in flashed
    assert svc.registrations.answers(svc.registrations.by_id(rid)) == {
        STOP: "nowa_sol",
        "posilki": ["obiad", "kolacja"],
        "dzien_przyjazdu": "2030-03-05",
    }
    history = _entries(office, rid)
    assert (
        f"poprawienie: Miejsce wsiadania (Żary, dworzec PKP → Nowa Sól) – {COORDINATOR}" in history
    )
    assert "poprawienie: Posiłki (obiad → obiad, kolacja)" in history
    assert "poprawienie: Dzień przyjazdu (– → 05.03.2030)" in history

    _rounds(app)
    row = next(r for r in _sheet_rows(app, OPEN) if r["ID zgłoszenia"] == rid)
    assert row["Miejsce wsiadania"] == "Nowa Sól" and row["Posiłki"] == "obiad, kolacja"
    mails = [m for m in _mails(app) if str(m["Subject"]).startswith("Poprawione dane")]
    assert len(mails) == 1
    body = _text(mails[0])
    assert "Miejsce wsiadania: Nowa Sól" in body and "Dzień przyjazdu: 05.03.2030" in body

    # Nothing changed: nothing recorded; a cleared optional answer is a correction too.
    # (the helper reads one value per name: the `wiele` answer is given whole)
    same = _correct(office, rid, **{"answers.posilki": ["obiad", "kolacja"]})
    assert "Nic się nie zmieniło" in shown(office.get(same.headers["Location"]))
    cleared = _correct(
        office, rid, **{"answers.dzien_przyjazdu": "", "answers.posilki": ["obiad", "kolacja"]}
    )
    assert cleared.status_code == 303
    assert "poprawienie: Dzień przyjazdu (05.03.2030 → –)" in _entries(office, rid)


def test_a_hidden_questions_answer_stays_through_a_correction(
    app: Flask, office: FlaskClient, questions: None, clock: FakeClock
) -> None:
    rid = _register(app, 0, "Żaneta", ukryte_pytanie="zostaje")
    _hide(app, "ukryte_pytanie", clock)
    form = page(office.get(f"/obsluga/zgloszenia/{rid}/poprawki").data)
    assert not form.select("[name='answers.ukryte_pytanie']")
    assert _correct(office, rid, diet="vegan").status_code == 303
    svc = services(app)
    assert svc.registrations.answers(svc.registrations.by_id(rid)) == {"ukryte_pytanie": "zostaje"}


def test_a_hidden_choice_stays_chosen_through_a_correction_and_the_page_shows_the_answers(
    app: Flask, office: FlaskClient, questions: None, clock: FakeClock
) -> None:
    rid = _register(app, 0, "Żaneta", miejsce_wsiadania="nowa_sol", posilki=["obiad"])
    svc = services(app)
    editor = QuestionEditor(svc.store, HEADERS)
    kept = STOPS.rsplit("\n", 1)[0]  # Nowa Sól left out: chosen, so hidden, not deleted
    editor.edit(
        svc.events[OPEN],
        STOP,
        QuestionForm("Miejsce wsiadania", "wybor", choices=kept),
        by=COORDINATOR,
        now=clock.now,
    )
    editor.edit(
        svc.events[OPEN],
        "posilki",
        QuestionForm("Posiłki", "wiele", choices="kolacja"),
        by=COORDINATOR,
        now=clock.now,
    )
    form = page(office.get(f"/obsluga/zgloszenia/{rid}/poprawki").data)
    assert not form.select("input[value='nowa_sol']") and not form.select("input[value='obiad']")

    corrected = _correct(office, rid, diet="vegan", **{"answers.posilki": ["kolacja"]})
    assert corrected.status_code == 303, shown(corrected)
    assert svc.registrations.answers(svc.registrations.by_id(rid)) == {
        STOP: "nowa_sol",
        "posilki": ["kolacja", "obiad"],  # in the question's order: the hidden one last
    }
    data = _entries(office, rid)
    assert "Miejsce wsiadania Nowa Sól" in data and "Posiłki kolacja, obiad" in data
    assert "poprawienie: Miejsce wsiadania" not in data

    # A visible stop picked on the form replaces the hidden one.
    moved = _correct(office, rid, **{f"answers.{STOP}": "zary_dworzec_pkp", "answers.posilki": []})
    assert moved.status_code == 303, shown(moved)
    assert svc.registrations.answers(svc.registrations.by_id(rid))[STOP] == "zary_dworzec_pkp"
    assert "poprawienie: Miejsce wsiadania (Nowa Sól → Żary, dworzec PKP)" in _entries(office, rid)


def test_a_long_answer_is_cut_in_the_table_and_whole_on_the_registrations_page(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    svc = services(app)
    QuestionEditor(svc.store, HEADERS).add(
        svc.events[OPEN], QuestionForm("Uwagi", "tekst_dlugi"), by=COORDINATOR, now=clock.now
    )
    note = "Proszę o pokój na parterze, blisko windy. " * 8
    rid = _register(app, 0, "Żaneta", uwagi=note)
    cell = page(office.get(TABLE).data).select("tbody tr td")[-1].get_text(strip=True)
    assert len(cell) <= 120 and cell.endswith("…") and note.startswith(cell[:-1])
    assert note.strip() in _entries(office, rid)


def test_a_colleague_taking_the_seat_takes_its_answers(
    app: Flask, office: FlaskClient, questions: None
) -> None:
    rid = _register(app, 0, "Żaneta", miejsce_wsiadania="zary_dworzec_pkp", posilki=["obiad"])
    path = f"/obsluga/zgloszenia/{rid}/zamiana"
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
    expected = {STOP: "zary_dworzec_pkp", "posilki": ["obiad"]}
    assert svc.registrations.answers(svc.registrations.by_id(new)) == expected
    with svc.store.reading() as session:
        assert registrations_choosing(session, OPEN, STOP, "zary_dworzec_pkp") == [new]
